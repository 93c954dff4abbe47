"""One name per actor and per region, from the many spellings sources use.

Shipped alias tables (``casualtystats/data/actor_aliases.csv`` and
``region_aliases.csv``) map spellings to canonical names; a user CSV (or a
DataFrame, or a dict ``{alias: canonical}``) extends them and wins on
conflicts. Matching ignores case, diacritics, apostrophes and punctuation
(``"Nīnawá province"`` and ``"Ninawa"`` are the same key); regions also ignore
a leading Arabic article and a trailing administrative word ('province',
'governorate', 'state', 'region', 'county', 'wilayah'; `strip_admin_suffix`).

Actors:

- an alias row may name a ``country`` (and a ``region`` in it): it then applies only
  to reports from there and wins over the row without one. UCDP writes "IS" for the
  Islamic State's provinces too, so "IS" is ISWAP in Nigeria, ISKP in Afghanistan.
- ACLED's state forces, "Military Forces of X (yyyy-)" and "Police Forces of X
  (yyyy-)", are "Government of X" (UCDP's name) by rule, not one row per country; a
  name with more after the period tag (a unit, a rival government) is not.
- a name the tables do not know is kept exactly as given and reported by the loader.

Regions: an unmatched name loses its administrative suffix ("Kabul province" and
"Borno state" become GTD's "Kabul" and "Borno"), except where the word is part of the
name ("Free State"). 'district' is not stripped: it names an admin-2 unit.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import LoadError

AliasSource = str | Path | pd.DataFrame | Mapping[str, str] | None

_APOSTROPHES = re.compile(r"['\u2018\u2019\u02bc\u02bf\u02be`\u00b4]")
_NON_WORD = re.compile(r"[\W_]+")
_ARTICLES = {"al", "el", "ar", "as", "an", "at", "ad", "az", "ash", "ath"}
# ACLED names state forces by period: "(2014-)", "(2014-2018)".
_PERIOD_TAG = re.compile(r"\s*\(\d{4}\s*-\s*(\d{4})?\)\s*$")
#: Trailing words that name an administrative level, not the place (sources differ in writing them).
ADMIN_SUFFIXES = (
    "province",
    "governorate",
    "muhafazat",
    "muhafazah",
    "gov",
    "state",
    "region",
    "county",
    "wilayah",
)
_ADMIN_SUFFIX = re.compile(r"(?:[\s,]+(?:" + "|".join(ADMIN_SUFFIXES) + r")\.?)+\s*$", re.IGNORECASE)
# Names whose last word is an admin word but part of the name itself.
_SUFFIX_IN_NAME = {"free state"}
# ACLED's state forces, with nothing after the period tag: "Military Forces of Turkey (2016-)".
_STATE_FORCES = re.compile(
    r"^\s*(?:Military|Police) Forces of (?P<state>[^()]+?)(?:\s*\(\d{4}\s*-\s*\d{0,4}\))?\s*$"
)
# An acronym in brackets closing a name: "Jama'at Nusrat al-Islam wal Muslimin (JNIM)"; or
# opening it, ACLED's style: "JNIM: Group for Support of Islam and Muslims".
_ACRONYM = re.compile(r"\(\s*([A-Z][A-Z0-9-]{1,11})\s*\)\s*$")
_ACRONYM_FIRST = re.compile(r"^\s*([A-Z][A-Z0-9-]{1,11}):\s+(\S.*)$")
#: Separator of the names in a merged table's ``actors`` column (every party any report names).
ACTORS_SEPARATOR = "|"


def actor_key(name: str) -> str:
    """Matching key of an actor name: case, diacritics and punctuation ignored,
    and ACLED's period tag dropped ("Military Forces of Iraq (2014-2018)")."""
    decomposed = unicodedata.normalize("NFKD", _PERIOD_TAG.sub("", name))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", _APOSTROPHES.sub("", bare.casefold())).strip()


def region_key(name: str) -> str:
    """Matching key of a region name: as `actor_key`, less article and admin suffix."""
    words = actor_key(name).split()
    if " ".join(words) not in _SUFFIX_IN_NAME:
        while len(words) > 1 and words[-1] in ADMIN_SUFFIXES:
            words.pop()
    if len(words) > 1 and words[0] in _ARTICLES:
        words.pop(0)
    return " ".join(words)


def strip_admin_suffix(name: str) -> str:
    """`name` without a trailing administrative word ('Borno state' -> 'Borno', 'Kabul Province'
    -> 'Kabul'; see ``ADMIN_SUFFIXES``); kept whole when nothing would remain or the word is part
    of the name ('Free State')."""
    if actor_key(name) in _SUFFIX_IN_NAME:
        return name
    stripped = _ADMIN_SUFFIX.sub("", name)
    return stripped if stripped.strip() else name


def state_forces(name: str) -> str | None:
    """'Government of X' for ACLED's 'Military Forces of X (yyyy-)' / 'Police Forces of X (yyyy-)';
    None for any other name (including a unit or faction named after the period tag)."""
    found = _STATE_FORCES.match(name)
    return None if found is None else f"Government of {found['state']}"


def _identity(name: str) -> str:
    return name


@dataclass(frozen=True)
class AliasTable:
    """Matching key -> canonical name, with optional scoped rows and rules.

    ``canonical``: key -> name for rows without a place; ``scoped``: (country key,
    region key, key) -> name for rows that name a country (region key '' for the whole
    country); ``rule``: a name -> another name to look up when no row matches (ACLED's
    state forces); ``unmatched``: how a name no row knows is shown (regions drop an
    admin suffix); ``acronyms``: a name closing with a bracketed acronym is also looked up
    without it (GTD's "People's Protection Units (YPG)").
    """

    canonical: dict[str, str]
    key: Callable[[str], str]
    scoped: dict[tuple[str, str, str], str] = field(default_factory=dict)
    rule: Callable[[str], str | None] | None = None
    unmatched: Callable[[str], str] = _identity
    acronyms: bool = False

    def lookup(self, name: str, country: str | None = None, region: str | None = None) -> str | None:
        """The canonical name of `name` as reported in `country`/`region`; None if no row knows it."""
        key = self.key(name)
        if self.scoped and isinstance(country, str):
            place = actor_key(country)
            region_part = region_key(region) if isinstance(region, str) else ""
            for scope in ((place, region_part, key), (place, "", key)):
                if scope in self.scoped:
                    return self.scoped[scope]
        found = self.canonical.get(key)
        acronym = _ACRONYM.search(name) if found is None and self.acronyms else None
        if acronym:
            found = self.canonical.get(self.key(name[: acronym.start()]))
        if found is None and self.rule is not None:
            ruled = self.rule(name)
            if ruled is not None:
                found = self.canonical.get(self.key(ruled), ruled)
        return found

    def apply(
        self, names: pd.Series, countries: pd.Series | None = None, regions: pd.Series | None = None
    ) -> tuple[pd.Series, pd.Series]:
        """(normalized names, matched mask); unmatched names are kept (as ``unmatched`` shows
        them), NA stays NA. `countries` / `regions` (aligned with `names`) select the scoped rows."""
        names = pd.Series(names)
        columns = [names.array]
        if countries is not None and self.scoped:
            # aligned by position, whatever the index of `countries` / `regions`
            columns += [pd.Series(c).array for c in (countries, regions) if c is not None]
        # Each distinct (name, country, region) is looked up once: a million rows hold a few
        # hundred. `combo` numbers them by first appearance; rows without a name share one.
        known = names.notna().to_numpy()
        key = np.zeros(len(names), dtype=np.int64)
        for column in columns:
            codes, uniques = pd.factorize(column, use_na_sentinel=False)
            key = pd.factorize(key * (len(uniques) + 1) + codes)[0]
        combo = pd.factorize(np.where(known, key, -1))[0]
        first = np.unique(combo, return_index=True)[1]
        found = [
            self.lookup(*row) if ok else None
            for row, ok in zip(zip(*(c.take(first) for c in columns), strict=True), known[first], strict=True)
        ]
        matched = np.array([f is not None for f in found], dtype=bool)
        shown = [
            f if f is not None else (n if pd.isna(n) else self.unmatched(n))
            for f, n in zip(found, names.array.take(first), strict=True)
        ]
        text = pd.Series(shown, dtype=object).astype("str").array.take(combo)
        return pd.Series(text, index=names.index), pd.Series(matched[combo], index=names.index)

    def knows(self, names: pd.Series) -> pd.Series:
        """Whether each name is one the table knows (a row, a canonical name or the rule)."""
        names = pd.Series(names)
        return names.isin([name for name in names.dropna().unique() if self.lookup(name) is not None])


def actor_aliases(aliases: AliasSource = None, fold_lineage: bool = False) -> AliasTable:
    """The shipped actor table, extended by `aliases`; predecessors folded if asked."""
    table = _combined("actor_aliases.csv", "actor", aliases)
    if fold_lineage and "lineage" in table:
        lineage = table["lineage"].fillna("").str.strip()
        table["actor"] = table["actor"].where(lineage.eq(""), lineage)
    return _alias_table(table, "actor", actor_key, actors=True, rule=state_forces)


def region_aliases(aliases: AliasSource = None) -> AliasTable:
    """The shipped region table, extended by `aliases`; unmatched names lose an admin suffix."""
    table = _combined("region_aliases.csv", "region", aliases)
    return _alias_table(table, "region", region_key, unmatched=strip_admin_suffix)


def normalize_actors(
    series: pd.Series,
    aliases: AliasSource = None,
    fold_lineage: bool = False,
    countries: pd.Series | None = None,
) -> pd.Series:
    """Canonical actor names ('IS', 'Daesh', 'Islamic State (Syria)' -> 'ISIS').

    With ``fold_lineage=True`` ISIS's predecessors (Tawhid and Jihad,
    Al-Qaida in Iraq, Mujahideen Shura Council) become 'ISIS' too. `countries`
    (aligned with `series`, default None: no country known) applies the table's
    country rows: UCDP's 'IS' in Nigeria is 'ISWAP'.
    """
    series = pd.Series(series)
    return actor_aliases(aliases, fold_lineage).apply(series, countries)[0]


def normalize_regions(series: pd.Series, aliases: AliasSource = None) -> pd.Series:
    """Canonical governorate names ('Nīnawá province', 'Nineveh' -> 'Ninawa'); other names
    without their admin suffix ('Borno state' -> 'Borno')."""
    return region_aliases(aliases).apply(pd.Series(series))[0]


@functools.lru_cache(maxsize=1024)  # the shipped tables do not change; flags ask once per row
def canonical_actor(actor: str) -> str:
    """The alias tables' name for `actor` ('Daesh' -> 'ISIS', 'taliban' -> 'Taliban'); a name
    not in them as given."""
    return str(normalize_actors(pd.Series([actor], dtype="str")).iloc[0])


def actor_names(actor: str) -> set[str]:
    """`actor` as given and in its canonical form ('Islamic State' -> {'Islamic State', 'ISIS'})."""
    return {actor, canonical_actor(actor)}


def _name_keys(name: str) -> set[str]:
    """Keys a name answers to: its own, and for 'Long Name (ACR)' or 'ACR: Long Name' also 'ACR'
    and 'Long Name'."""
    keys = {actor_key(name)}
    acronym = _ACRONYM.search(name)
    if acronym:
        keys |= {actor_key(acronym[1]), actor_key(name[: acronym.start()])}
    acronym = _ACRONYM_FIRST.match(name)
    if acronym:
        keys |= {actor_key(acronym[1]), actor_key(acronym[2])}
    return keys - {""}


def actor_matches(names: pd.Series, actor: str) -> pd.Series:
    """Whether each of `names` is `actor`: compared by `actor_key` (case, diacritics and
    punctuation ignored), as given and in its canonical form, and a bracketed acronym
    closing a name (or opening it, ACLED's "JNIM: Group for ...") counts as that name
    ('JNIM' is "Jama'at Nusrat al-Islam wal Muslimin (JNIM)"). NA is never a match."""
    names = pd.Series(names)
    wanted = _name_keys(actor) | _name_keys(canonical_actor(actor))
    hits = [name for name in names.dropna().unique() if _name_keys(name) & wanted]
    return names.isin(hits)


def close_actor_names(incidents: pd.DataFrame, actor: str, n: int = 3) -> list[str]:
    """Up to `n` actor or target names in `incidents` closest to `actor`: difflib ratio >= 0.6
    between the matching keys of `actor` and of a name, its acronym or any alias the table gives
    it ('houthi extremists' is close to 'Houthis' through GTD's "Houthi extremists (Ansar
    Allah)"), a key containing the asked one counted as 0.8; most incidents first among equals.
    What to suggest when `involving` finds nothing."""
    incidents = getattr(incidents, "incidents", incidents)
    counts = pd.concat([incidents["actor"], incidents["target"]]).dropna().value_counts()
    asked = actor_key(actor)
    aliases: dict[str, set[str]] = {}  # canonical name -> its aliases' keys ('Houthis': 'ansarallah', ...)
    for key, name in actor_aliases().canonical.items():
        aliases.setdefault(name, set()).add(key)
    scored = []
    for name, count in counts.items():
        keys = _name_keys(str(name)) | aliases.get(name, set())
        ratio = max(difflib.SequenceMatcher(None, asked, key).ratio() for key in keys)
        inside = any(asked in key.split() or (len(asked) > 3 and asked in key) for key in keys)
        if ratio >= 0.6 or inside:
            scored.append((-max(ratio, 0.8 if inside else 0.0), -count, str(name)))
    return [name for *_, name in sorted(scored)[:n]]


#: How the GTD reader writes further perpetrators into the notes (`casualtystats.sources.gtd`).
FURTHER_PERPETRATORS = "Further perpetrators (GTD gname2/gname3): "
_FURTHER = re.compile(re.escape(FURTHER_PERPETRATORS) + r"(.*?)\.(?:\s|$)")


def _further_named(notes: pd.Series, actor: str) -> np.ndarray:
    """Whether each note names `actor` among GTD's further perpetrators."""
    listed = notes.astype("str").str.extract(_FURTHER, expand=False).str.split("; ").explode().dropna()
    listed = listed.str.replace(r" \(suspected\)$", "", regex=True)
    named = np.zeros(len(notes), bool)
    named[np.unique(listed.index[actor_matches(listed, actor).to_numpy()].to_numpy(int))] = True
    return named


def involving(incidents: pd.DataFrame, actor: str, further: bool = False) -> pd.DataFrame:
    """Incidents in which `actor` took part, seen from its side.

    Rows where `actor` is the perpetrator (``role`` 'actor') or the target
    (``role`` 'target'); in the latter ``actor`` and ``target`` are swapped, so
    every row has the asked actor in ``actor`` and the other party in ``target``. In a
    merged table (`merge_incidents`), an incident also involves `actor` when any of
    its reports names it (its ``actors`` column, parties separated by
    `ACTORS_SEPARATOR`) although the merged actor and target are others (another
    source's name for the perpetrator, such as GTD's "Al-Qaida in Iraq" for UCDP's
    IS): ``role`` 'party', ``target`` kept. With ``further=True`` (default False: an
    incident counts for its first perpetrator only, so actors' counts add up) GTD incidents
    whose notes list `actor` among further perpetrators (``gname2``/``gname3``) are added,
    ``role`` 'further'. Names are compared as `actor_matches` does
    (case-insensitive, through the alias table, a bracketed acronym counting: 'taliban',
    'JNIM' and 'Islamic State' find 'Taliban', "...(JNIM)" and 'ISIS'); the rows' ``actor``
    is the asked name in its canonical form (`canonical_actor`), as panels and flags name it.
    Accepts a LoadResult as well as its ``incidents`` table.
    """
    incidents = getattr(incidents, "incidents", incidents)
    as_actor = actor_matches(incidents["actor"], actor).to_numpy()
    as_target = actor_matches(incidents["target"], actor).to_numpy() & ~as_actor
    as_party = np.zeros(len(incidents), bool)
    as_further = np.zeros(len(incidents), bool)
    if further and "notes" in incidents:
        as_further = _further_named(incidents["notes"].reset_index(drop=True), actor) & ~as_actor & ~as_target
    if "actors" in incidents:
        listed = (
            incidents["actors"].reset_index(drop=True).astype("str").str.split(ACTORS_SEPARATOR).explode()
        )
        named = listed[actor_matches(listed, actor).to_numpy()].index.unique()
        as_party[named] = True
        as_party &= ~as_actor & ~as_target
    as_further &= ~as_party
    keep = as_actor | as_target | as_party | as_further
    rows = incidents.loc[keep].copy()
    swap, joined = as_target[keep], as_party[keep]
    rows.loc[swap, ["actor", "target"]] = rows.loc[swap, ["target", "actor"]].to_numpy()
    rows["actor"] = pd.Series(canonical_actor(actor), index=rows.index, dtype="str")
    role = np.where(swap, "target", np.where(joined, "party", np.where(as_further[keep], "further", "actor")))
    rows["role"] = pd.Series(role, index=rows.index, dtype="str")
    return rows


def _combined(filename: str, canonical: str, aliases: AliasSource) -> pd.DataFrame:
    table = _shipped(filename)
    if aliases is None:
        return table.copy()
    # User rows last so they win when the same key appears twice.
    return pd.concat([table, _user_table(aliases, canonical)], ignore_index=True)


@functools.cache
def _shipped(filename: str) -> pd.DataFrame:
    with resources.files("casualtystats").joinpath("data", filename).open("r", encoding="utf-8") as handle:
        return pd.read_csv(handle, comment="#", dtype="str", keep_default_na=False, na_values=[""])


def _user_table(aliases: AliasSource, canonical: str) -> pd.DataFrame:
    if isinstance(aliases, Mapping):
        return pd.DataFrame({"alias": list(aliases), canonical: list(aliases.values())}, dtype="str")
    if isinstance(aliases, pd.DataFrame):
        table = aliases
        source = "alias table"
    else:
        source = aliases
        try:
            table = pd.read_csv(aliases, comment="#", dtype="str", keep_default_na=False, na_values=[""])
        except (OSError, ValueError, UnicodeDecodeError) as err:
            raise LoadError(aliases, f"cannot read alias table ({err})") from None
    table = table.rename(columns=lambda c: str(c).strip().lower())
    if "canonical" in table and canonical not in table:
        table = table.rename(columns={"canonical": canonical})
    missing = [c for c in ("alias", canonical) if c not in table]
    if missing:
        raise LoadError(
            source, f"alias table lacks column(s): {', '.join(missing)} (needs alias,{canonical})"
        )
    return table


def _alias_table(
    table: pd.DataFrame,
    canonical: str,
    key,
    actors: bool = False,
    rule=None,
    unmatched: Callable[[str], str] = _identity,
) -> AliasTable:
    """The table's lookups; `actors`: read its country/region columns and bracketed acronyms (the
    region table's country column only documents a row: regions are matched by name)."""
    table = table.dropna(subset=["alias", canonical])
    places = actors and "country" in table
    nowhere = pd.Series("", index=table.index)
    country = table["country"].fillna("").str.strip() if places else nowhere
    region = table["region"].fillna("").str.strip() if places and "region" in table else nowhere
    mapping: dict[str, str] = {}
    # Canonical names match themselves; explicit aliases are applied after, so they win.
    for name in table[canonical].unique():
        mapping[key(name)] = name
    by_place: dict[tuple[str, str, str], str] = {}
    for alias, name, where, within in zip(table["alias"], table[canonical], country, region, strict=True):
        if where:
            by_place[(actor_key(where), region_key(within) if within else "", key(alias))] = name
        else:
            mapping[key(alias)] = name
    return AliasTable(mapping, key, by_place, rule, unmatched, acronyms=actors)
