"""One name per actor and per region, from the many spellings sources use.

Shipped alias tables (``casualtystats/data/actor_aliases.csv`` and
``region_aliases.csv``) map spellings to canonical names; a user CSV (or a
DataFrame, or a dict ``{alias: canonical}``) extends them and wins on
conflicts. Matching ignores case, diacritics, apostrophes and punctuation
(``"Nīnawá province"`` and ``"Ninawa"`` are the same key); regions also ignore
a leading Arabic article and a trailing 'province'/'governorate'. A name the
tables do not know is kept exactly as given and reported by the loader.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
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
_ADMIN_SUFFIXES = {"province", "governorate", "muhafazat", "muhafazah", "gov"}
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
    while len(words) > 1 and words[-1] in _ADMIN_SUFFIXES:
        words.pop()
    if len(words) > 1 and words[0] in _ARTICLES:
        words.pop(0)
    return " ".join(words)


@dataclass(frozen=True)
class AliasTable:
    """Matching key -> canonical name."""

    canonical: dict[str, str]
    key: callable

    def apply(self, names: pd.Series) -> tuple[pd.Series, pd.Series]:
        """(normalized names, matched mask); unmatched names are kept as given, NA stays NA."""
        uniques = names.dropna().unique()
        lookup = {name: self.canonical.get(self.key(name)) for name in uniques}
        found = names.map(lookup)
        matched = found.notna()
        return found.where(matched, names).astype("str"), matched


def actor_aliases(aliases: AliasSource = None, fold_lineage: bool = False) -> AliasTable:
    """The shipped actor table, extended by `aliases`; predecessors folded if asked."""
    table = _combined("actor_aliases.csv", "actor", aliases)
    if fold_lineage and "lineage" in table:
        lineage = table["lineage"].fillna("").str.strip()
        table["actor"] = table["actor"].where(lineage.eq(""), lineage)
    return _alias_table(table, "actor", actor_key)


def region_aliases(aliases: AliasSource = None) -> AliasTable:
    """The shipped region table, extended by `aliases`."""
    return _alias_table(_combined("region_aliases.csv", "region", aliases), "region", region_key)


def normalize_actors(series: pd.Series, aliases: AliasSource = None, fold_lineage: bool = False) -> pd.Series:
    """Canonical actor names ('IS', 'Daesh', 'Islamic State (Syria)' -> 'ISIS').

    With ``fold_lineage=True`` ISIS's predecessors (Tawhid and Jihad,
    Al-Qaida in Iraq, Mujahideen Shura Council) become 'ISIS' too.
    """
    return actor_aliases(aliases, fold_lineage).apply(pd.Series(series))[0]


def normalize_regions(series: pd.Series, aliases: AliasSource = None) -> pd.Series:
    """Canonical governorate names ('Nīnawá province', 'Nineveh' -> 'Ninawa')."""
    return region_aliases(aliases).apply(pd.Series(series))[0]


@functools.lru_cache(maxsize=1024)  # the shipped tables do not change; flags ask once per row
def canonical_actor(actor: str) -> str:
    """The alias tables' name for `actor` ('Daesh' -> 'ISIS'); a name not in them as given."""
    return str(normalize_actors(pd.Series([actor], dtype="str")).iloc[0])


def actor_names(actor: str) -> set[str]:
    """`actor` as given and in its canonical form ('Islamic State' -> {'Islamic State', 'ISIS'})."""
    return {actor, canonical_actor(actor)}


def involving(incidents: pd.DataFrame, actor: str) -> pd.DataFrame:
    """Incidents in which `actor` took part, seen from its side.

    Rows where `actor` is the perpetrator (``role`` 'actor') or the target
    (``role`` 'target'); in the latter ``actor`` and ``target`` are swapped, so
    every row has ``actor == actor`` and the other party in ``target``. In a
    merged table (`merge_incidents`), an incident also involves `actor` when any of
    its reports names it (its ``actors`` column, parties separated by
    `ACTORS_SEPARATOR`) although the merged actor and target are others (another
    source's name for the perpetrator, such as GTD's "Al-Qaida in Iraq" for UCDP's
    IS): ``role`` 'party', ``actor`` set to `actor`, ``target`` kept. The name is
    matched as given and in its canonical form ('Islamic State' finds 'ISIS').
    Accepts a LoadResult as well as its ``incidents`` table.
    """
    incidents = getattr(incidents, "incidents", incidents)
    names = actor_names(actor)
    as_actor = incidents["actor"].isin(names).to_numpy()
    as_target = incidents["target"].isin(names).to_numpy() & ~as_actor
    party = pd.Series(pd.NA, index=range(len(incidents)), dtype="str")
    if "actors" in incidents:
        listed = (
            incidents["actors"].reset_index(drop=True).astype("str").str.split(ACTORS_SEPARATOR).explode()
        )
        named = listed[listed.isin(names)].groupby(level=0).first()
        party[named.index] = named.to_numpy()
    as_party = party.notna().to_numpy() & ~as_actor & ~as_target
    keep = as_actor | as_target | as_party
    rows = incidents.loc[keep].copy()
    swap, joined = as_target[keep], as_party[keep]
    rows.loc[swap, ["actor", "target"]] = rows.loc[swap, ["target", "actor"]].to_numpy()
    rows.loc[joined, "actor"] = party[as_party].to_numpy()
    role = np.where(swap, "target", np.where(joined, "party", "actor"))
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


def _alias_table(table: pd.DataFrame, canonical: str, key) -> AliasTable:
    table = table.dropna(subset=["alias", canonical])
    mapping: dict[str, str] = {}
    # Canonical names match themselves; explicit aliases are applied after, so they win.
    for name in table[canonical].unique():
        mapping[key(name)] = name
    for alias, name in zip(table["alias"], table[canonical], strict=True):
        mapping[key(alias)] = name
    return AliasTable(mapping, key)
