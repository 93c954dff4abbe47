"""`load_incidents`: files in, validated incidents and a quarantine out.

Per file: read text cells with their lines, detect the format, convert to the
canonical columns (recording cells that cannot be coerced), normalize actor
and region names. Then all files together: exact duplicate rows (the same
incident in two overlapping downloads) keep their first copy, an incident id
seen again with other content keeps its latest version, rows a source marks
as not political violence are excluded (listed with their reason), and pandera
validates the rest lazily. A row is quarantined with every reason found: its
coercion problems and its pandera failure cases. Accepted + quarantined +
excluded = input rows, always.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pandera.pandas as pa

from .. import normalize
from ..errors import CasualtyStatsError, LoadError
from ..normalize import AliasSource
from ..schema import COUNT_COLUMNS, INCIDENT_COLUMNS, IncidentSchema
from . import native
from .convert import Format, Problems
from .detect import detect_format
from .read import NOT_DATA, RawTable, read_tables, table_from_frame, text_cells

if TYPE_CHECKING:
    from ..merge import MergeResult

_DATE_COLUMNS = ("date_start", "date_end")
_FLOAT_COLUMNS = ("latitude", "longitude")
_SCIENTIFIC = r"[+-]?\d(?:[.,]\d+)?E[+-]?\d+"
#: Region of an incident the source places no closer than the country.
UNKNOWN_REGION = "Unknown"


@dataclass
class LoadResult:
    """Validated incidents, the rows that failed, and what was learned on the way."""

    incidents: pd.DataFrame
    quarantine: pd.DataFrame  # file, line, reasons, then the raw columns as given
    excluded: pd.DataFrame  # out of scope (ACLED protests, ...): file, line, reason, then the raw columns
    files: pd.DataFrame  # per file: file, format, rows, accepted, quarantined, excluded, seconds
    unmatched_actors: pd.DataFrame  # actor, count: names the alias table does not know
    unmatched_regions: pd.DataFrame  # country, region, count
    problems: pd.DataFrame  # tidy: file, line, column, problem, value (one row per reason)
    warnings: pd.DataFrame  # same shape: repairs made under a source's convention; rows kept
    notes: list[str] = field(default_factory=list)
    merge: MergeResult | None = None  # set when reports of several sources were merged

    @property
    def n_input(self) -> int:
        accepted = len(self.merge.links) if self.merge is not None else len(self.incidents)
        return accepted + len(self.quarantine) + len(self.excluded)

    def summary(self) -> str:
        """A plain-text account: per file, counts, date range, top quarantine reasons, unmatched names."""
        lines = ["Incident load summary", "=" * 60]
        for row in self.files.itertuples(index=False):
            lines.append(
                f"{row.file}  [{row.format}]  rows {row.rows:,}  accepted {row.accepted:,}  "
                f"quarantined {row.quarantined:,}"
                + (f"  excluded {row.excluded:,}" if row.excluded else "")
                + f"  ({row.seconds:.2f} s)"
            )
        lines += [
            "-" * 60,
            f"input rows      {self.n_input:>10,}",
            f"accepted        {self.n_input - len(self.quarantine) - len(self.excluded):>10,}",
            f"quarantined     {len(self.quarantine):>10,}",
        ]
        if len(self.excluded):
            lines.append(
                f"excluded        {len(self.excluded):>10,}  not incidents (all_events=True keeps them), rows:"
            )
            counts = self.excluded["reason"].value_counts()
            lines += [f"  {n:>8,}  {reason}" for reason, n in counts.head(10).items()]
            if len(counts) > 10:
                lines.append(f"  ... and {len(counts) - 10} more kinds")
        if self.merge is not None:
            multi = int(self.incidents["sources"].str.contains("+", regex=False).sum())
            lines.append(
                f"merged          {len(self.incidents):>10,}  incidents from {len(self.merge.source_order)} sources, "
                f"{multi:,} reported by more than one (merge=False / --no-merge stacks them)"
            )
        inc = self.incidents
        if len(inc):
            lines.append(
                f"dates (start)   {inc['date_start'].min():%Y-%m-%d} to {inc['date_start'].max():%Y-%m-%d}"
            )
            lines.append(f"sources         {', '.join(sorted(inc['source'].unique()))}")
            for measure in ("fatalities_best", "injuries_best"):
                known = int(inc[measure].notna().sum())
                total = f"{int(inc[measure].sum()):>10,}" if known else f"{'unknown':>10}"
                lines.append(f"{measure:<16}{total}  (known in {known:,} of {len(inc):,} rows)")
        if len(self.problems):
            lines.append("quarantine reasons (rows):")
            counts = (
                self.problems.drop_duplicates(["file", "line", "column", "problem"])
                .groupby(["column", "problem"], dropna=False, sort=False)
                .size()
                .sort_values(ascending=False)
            )
            for (col, problem), n in counts.head(10).items():
                lines.append(f"  {n:>8,}  {col + ': ' if col else ''}{problem}")
            if len(counts) > 10:
                lines.append(f"  ... and {len(counts) - 10} more kinds")
        if len(self.warnings):
            lines.append("read by a convention or repaired, kept (rows):")
            counts = (
                self.warnings.groupby(["column", "problem"], sort=False).size().sort_values(ascending=False)
            )
            lines += [f"  {n:>8,}  {col}: {problem}" for (col, problem), n in counts.items()]
        for label, table, name in (
            ("actor", self.unmatched_actors, "actor"),
            ("region", self.unmatched_regions, "region"),
        ):
            if len(table):
                top = ", ".join(
                    f"{n} ({c:,})" for n, c in zip(table[name].head(5), table["count"].head(5), strict=True)
                )
                lines.append(f"unmatched {label} names: {len(table):,} (kept as given), top: {top}")
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<LoadResult: {len(self.incidents):,} incidents accepted, {len(self.quarantine):,} quarantined>"
        )


def load_incidents(
    path: str | Path | pd.DataFrame | Sequence[str | Path | pd.DataFrame],
    source: str | None = None,
    *,
    actor_aliases: AliasSource = None,
    region_aliases: AliasSource = None,
    fold_lineage: bool = False,
    merge: bool | str = "auto",
    all_events: bool = False,
    columns: Mapping[str, str] | None = None,
) -> LoadResult:
    """Load one file or several into the canonical incident table.

    ``path``: a file (CSV, XLSX, Parquet), a DataFrame already in memory (read exactly as
    a file would be, its rows numbered from 1 as lines, named "DataFrame" in the quarantine),
    or a list of them.

    ``source`` forces the format ("native", "ucdp", "gtd", "acled"); by default
    it is detected from the columns. ``actor_aliases``/``region_aliases`` extend
    the shipped alias tables (CSV path, DataFrame or dict). ``fold_lineage``
    folds ISIS's predecessors (Al-Qaida in Iraq, ...) into ISIS.

    ``merge``: "auto" (default) merges reports of the same incident across sources
    with `casualtystats.merge_incidents` (default settings) when the accepted rows come
    from more than one source; ``True`` always runs it; ``False`` stacks the sources.
    When merged, ``incidents`` is the merged table (one row per incident, with
    ``merged_id`` and ``sources``) and ``merge`` holds the `MergeResult`.

    An incident is an act of political violence. Rows a source marks as something else
    (ACLED demonstrations and strategic developments, see `casualtystats.sources.acled`)
    go to ``excluded`` with their reason, unless ``all_events=True`` (default False).
    Every input row is accepted, quarantined or excluded.

    An incident id seen more than once within a source keeps its latest version (the
    source's version stamp, ACLED ``timestamp``, else the last file and line); the older
    rows are quarantined as superseded. Exact copies keep their first row.

    A file without any region column (such as a reduced GTD extract) gets each row's
    admin-1 region from its coordinates and the shipped Natural Earth boundaries (Iraq and
    Syria), noted in the summary.

    ``columns`` names the columns of an analyst's own table after the canonical ones, e.g.
    ``{"Date of attack": "date_start", "Governorate": "region", "Killed": "fatalities_best"}``
    (case and surrounding spaces ignored; the targets are the columns of the casualtystats
    table, see `casualtystats.sources.native`). It applies to every file given; a name found
    in none of them, or a target the file already has, is an error. The quarantine keeps the
    file's own column names.

    Raises LoadError for a file that cannot be read as a table at all.
    """
    if merge not in ("auto", True, False):
        raise CasualtyStatsError(f"merge must be 'auto', True or False, not {merge!r}")
    paths = [path] if isinstance(path, str | Path | pd.DataFrame) else list(path)
    wrong = [type(one).__name__ for one in paths if not isinstance(one, str | Path | pd.DataFrame)]
    if wrong:
        raise CasualtyStatsError(
            f"load_incidents takes file paths or DataFrames (or a list of them), not {', '.join(wrong)}"
        )
    rename = _column_mapping(columns)
    actors = normalize.actor_aliases(actor_aliases, fold_lineage)
    regions = normalize.region_aliases(region_aliases)
    tables, reading = [], []
    frames = sum(isinstance(one, pd.DataFrame) for one in paths)
    for number, one in enumerate(paths, start=1):
        started = time.perf_counter()
        if isinstance(one, pd.DataFrame):
            read = [table_from_frame(one, "DataFrame" if frames == 1 else f"DataFrame {number}")]
        else:
            path = Path(one)
            read = read_tables(
                path,
                lambda found, path=path: _format_problem(path, {rename.get(c, c) for c in found}, source),
            )
        tables += read
        # a workbook's sheets share its reading time
        reading += [(time.perf_counter() - started) / len(read)] * len(read)
    if not tables:
        raise ValueError("load_incidents needs at least one path")
    headers = {str(c).strip().lower() for table in tables for c in table.frame.columns}
    absent = [name for name in rename if name not in headers]
    if absent:
        raise CasualtyStatsError(
            f"columns=: no file has a column {', '.join(map(repr, absent))} "
            f"(found: {', '.join(sorted(headers)[:12])}{', ...' if len(headers) > 12 else ''})"
        )
    parts, notes, timing = [], [], []
    offset = 0
    for table, seconds in zip(tables, reading, strict=True):
        started = time.perf_counter()
        part = _load_file(table, source, offset, actors, regions, all_events, rename)
        timing.append(seconds + time.perf_counter() - started)
        offset += len(part.frame)
        parts.append(part)
        notes += [f"{part.path.name}: {note}" for note in part.notes]
    result = _validate(parts, timing, notes)
    result.incidents, shared = qualify_shared_regions(result.incidents)
    if shared:
        shown = ", ".join(shared[:5]) + (f" and {len(shared) - 5} more" if len(shared) > 5 else "")
        result.notes.append(
            f"region names used in more than one country carry their country, e.g. 'Central (Uganda)': {shown}"
        )
    if merge is True or (merge == "auto" and result.incidents["source"].nunique() > 1):
        from ..merge import merge_incidents  # the merge stage pulls in DuckDB and scipy

        result.merge = merge_incidents(result.incidents, actor_aliases=actor_aliases)
        result.incidents = result.merge.incidents
    return result


def qualify_shared_regions(incidents: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Region names used in more than one country, written "Central (Uganda)", with the names.

    Regions are admin-1 units of a country, but every model and output keys them by name:
    GTD's "Central" (Israel and Uganda) or the "Unknown" region of ten countries would
    otherwise be one series. A name used in one country only is left as it is."""
    countries = incidents.groupby("region", observed=True)["country"].nunique()
    shared = sorted(countries.index[countries > 1])
    if not shared:
        return incidents, shared
    incidents = incidents.copy()
    hit = incidents["region"].isin(shared)
    incidents.loc[hit, "region"] = incidents.loc[hit, "region"] + " (" + incidents.loc[hit, "country"] + ")"
    return incidents, shared


# ---------------------------------------------------------------- per file


@dataclass
class _FileRows:
    path: Path
    fmt: Format
    raw: pd.DataFrame  # original column names, index = global row id
    lines: np.ndarray
    frame: pd.DataFrame  # canonical columns, typed
    problems: pd.DataFrame
    warnings: pd.DataFrame
    matched_actor: pd.Series
    matched_region: pd.Series
    notes: list[str]
    not_data: np.ndarray  # row ids of rows holding no incident (empty, repeated header)
    version: pd.Series  # float: the source's version stamp of each row (NaN: none)
    out_of_scope: pd.Series  # str: why a row is not an incident (NA: it is)


def _format_problem(path: Path, columns: set[str], source: str | None) -> str | None:
    """What keeps a table with these columns from being loaded (None: nothing)."""
    try:
        detect_format(path, columns, source)
    except LoadError as err:
        return err.problem
    return None


def _column_mapping(columns: Mapping[str, str] | None) -> dict[str, str]:
    """`columns=` as lower-cased file column -> canonical column, checked."""
    if columns is None:
        return {}
    if not isinstance(columns, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in columns.items()
    ):
        raise CasualtyStatsError(
            'columns= maps file column names to canonical ones, e.g. {"Killed": "fatalities"}'
        )
    rename = {k.strip().lower(): v.strip().lower() for k, v in columns.items()}
    targets = {name for names in native.FORMAT.columns.values() for name in names}
    unknown = sorted(set(rename.values()) - targets)
    if unknown:
        raise CasualtyStatsError(
            f"columns=: {', '.join(map(repr, unknown))} is not a column of the casualtystats table "
            f"(choose from {', '.join(sorted(targets))})"
        )
    twice = sorted({v for v in rename.values() if list(rename.values()).count(v) > 1})
    if twice:
        raise CasualtyStatsError(f"columns=: more than one column is named {', '.join(map(repr, twice))}")
    return rename


def _load_file(
    table: RawTable,
    source: str | None,
    offset: int,
    actors: normalize.AliasTable,
    regions: normalize.AliasTable,
    all_events: bool,
    rename: dict[str, str],
) -> _FileRows:
    path = table.path
    raw = table.frame
    raw.index = pd.RangeIndex(offset, offset + len(raw))
    lowered = raw.rename(columns=lambda c: c.strip().lower())
    clash = [f"{k!r} -> {v!r}" for k, v in rename.items() if k in lowered and v in lowered and k != v]
    if clash:
        raise LoadError(path, f"columns= renames {', '.join(clash)}, but the file already has that column")
    lowered = lowered.rename(columns=rename)
    fmt = detect_format(path, set(lowered.columns), source)
    _check_same_names(table, fmt, rename)
    lowered = lowered.loc[:, ~lowered.columns.duplicated()]
    # A typed file's numbers and dates reach the coercers as they are; the format reads the rest as text.
    lowered = text_cells(lowered, keep=fmt.typed_reads)

    problems = Problems(decimal_comma=table.decimal_comma)
    for position, problem in table.row_problems.items():
        problems.add(pd.Series(True, index=[offset + position]), "", problem)
    reads = fmt.reads()
    for position, name, formula in table.formulas:
        if rename.get(name.strip().lower(), name.strip().lower()) in reads:
            problems.add(
                pd.Series(True, index=[offset + position]),
                name,
                "formula with no saved result (the workbook was never calculated)",
                pd.Series(formula, index=[offset + position], dtype="str"),
            )
    own_names = {c.strip().lower(): c.strip() for c in raw.columns}
    frame = _canonical(lowered, fmt, problems, {v: own_names[k] for k, v in rename.items() if k in own_names})
    frame = _fill_defaults(frame, raw, table.lines, fmt)
    _swap_reversed_coordinates(frame, problems)
    # Only a file with no region column at all: a blank region in a file that has one means the
    # source placed the event no closer than the country (its coordinates are then a centroid).
    has_region = any(c in lowered for c in fmt.columns.get("region", ()))
    located = 0 if has_region else _region_from_coordinates(frame)
    frame["region"] = frame["region"].fillna(UNKNOWN_REGION)
    notes = list(table.notes)
    if located:
        notes.append(f"region from coordinates (Natural Earth admin-1) for {located:,} rows without one")
    frame["actor_raw"] = frame["actor_raw"].fillna(frame["actor"])
    # Country (and region) rows of the actor table: UCDP's "IS" in Nigeria is ISWAP.
    frame["actor"], matched_actor = actors.apply(frame["actor"], frame["country"], frame["region"])
    frame["target"] = actors.apply(frame["target"], frame["country"], frame["region"])[0]
    frame["region"], matched_region = regions.apply(frame["region"])
    return _FileRows(
        path,
        fmt,
        raw,
        table.lines,
        frame,
        problems.table(),
        problems.warnings.table(),
        matched_actor,
        matched_region,
        notes,
        np.array([offset + i for i, p in table.row_problems.items() if p in NOT_DATA], dtype=np.int64),
        _version_stamp(lowered, fmt),
        pd.Series(pd.NA, index=raw.index, dtype="str")
        if all_events or fmt.out_of_scope is None
        else fmt.out_of_scope(lowered),
    )


def _check_same_names(table: RawTable, fmt: Format, rename: dict[str, str]) -> None:
    """Two columns of one name (but for case) that the format reads must hold the same cells:
    otherwise which one is meant cannot be known, and reading the first would lose the other."""
    reads = fmt.reads()
    for group in table.duplicates:
        name = group[0].strip().lower()
        if rename.get(name, name) not in reads:
            continue
        cells = text_cells(table.frame[group]).fillna("")
        if not cells.eq(cells.iloc[:, 0], axis=0).all().all():
            where = ", ".join(str(table.frame.columns.get_loc(one) + 1) for one in group)
            raise LoadError(
                table.path,
                f"has {len(group)} columns named {group[0]!r} (columns {where}) with different cells: "
                "delete or rename all but one",
            )


def _version_stamp(raw: pd.DataFrame, fmt: Format) -> pd.Series:
    """The source's version stamp of each row (ACLED `timestamp`, Unix seconds of the row's last
    change) as float; NaN where the format has none or the cell is not a number."""
    if fmt.version is None or fmt.version not in raw:
        return pd.Series(np.nan, index=raw.index, dtype="float64")
    return pd.to_numeric(raw[fmt.version].str.strip(), errors="coerce").astype("float64")


def _canonical(raw: pd.DataFrame, fmt: Format, problems: Problems, renamed: dict[str, str]) -> pd.DataFrame:
    """The canonical columns, typed; cells that fail coercion are NA and recorded under the
    file's own column name (`renamed`: canonical -> the name `columns=` renamed)."""
    derived = fmt.derive(raw, problems)
    columns = {}
    for name in INCIDENT_COLUMNS:
        if name in derived:
            columns[name] = derived[name]
            continue
        given = next((s for s in fmt.columns.get(name, ()) if s in raw), None)
        if given is None:
            columns[name] = _missing(name, raw.index)
            continue
        text, own = raw[given], renamed.get(given, given)
        label = name if own == name else f"{name} ({own})"
        if name in COUNT_COLUMNS:
            columns[name] = problems.integer(text, label)
        elif name in _FLOAT_COLUMNS:
            columns[name] = problems.number(text, label)
        elif name in _DATE_COLUMNS:
            columns[name] = problems.date(text, label)
        else:
            columns[name] = text.str.strip().replace("", pd.NA).astype("str")
        if name == "date_precision":  # 'Day' as typed in a spreadsheet is the precision 'day'
            columns[name] = columns[name].str.lower()
        if name == "incident_id":
            columns[name] = _excel_rounded_ids(columns[name], label, problems)
    return pd.DataFrame(columns, index=raw.index)


def _excel_rounded_ids(ids: pd.Series, label: str, problems: Problems) -> pd.Series:
    """Ids that Excel rewrote in scientific notation (GTD's 202101010001 saved as 2.02101E+11) have
    lost their digits: many events share one, and each would supersede the others. They are
    dropped, so each row gets a generated id, with a warning."""
    rounded = ids.str.fullmatch(_SCIENTIFIC, case=False).fillna(False).astype(bool)
    problems.warnings_add(
        rounded, label, "in scientific notation, digits lost (Excel?); row id generated", ids
    )
    return ids.mask(rounded)


def _missing(name: str, index: pd.Index) -> pd.Series:
    if name in COUNT_COLUMNS:
        return pd.Series(pd.NA, index=index, dtype="Int64")
    if name in _FLOAT_COLUMNS:
        return pd.Series(np.nan, index=index, dtype="float64")
    if name in _DATE_COLUMNS:
        return pd.Series(pd.NaT, index=index, dtype="datetime64[us]")
    return pd.Series(pd.NA, index=index, dtype="str")


def _fill_defaults(frame: pd.DataFrame, raw: pd.DataFrame, lines: np.ndarray, fmt: Format):
    """Values a source leaves implicit: one-day events, region unknown, generated ids."""
    frame["source"] = frame["source"].fillna(fmt.source)
    frame["date_end"] = frame["date_end"].fillna(frame["date_start"])
    implied = pd.Series("day", index=frame.index, dtype="str").where(
        frame["date_end"].eq(frame["date_start"]), "range"
    )
    frame["date_precision"] = frame["date_precision"].fillna(implied)
    missing_id = frame["incident_id"].isna()
    if missing_id.any():
        # Deterministic: the same row on the same line always gets the same id.
        content = text_cells(raw.loc[missing_id]).assign(_line=lines[missing_id.to_numpy()])
        digest = pd.util.hash_pandas_object(content, index=False).to_numpy()
        generated = pd.Series([f"row-{h:016x}" for h in digest], index=content.index, dtype="str")
        frame["incident_id"] = frame["incident_id"].fillna(generated)
    return frame


#: A point this far (km) outside its stated country's box, whose swap lies inside the country,
#: has its latitude and longitude the wrong way round: no geocoding error lands a point there
#: by chance, while an event just over a border is nearer than this.
SWAPPED_KM = 100.0


def _swap_reversed_coordinates(frame: pd.DataFrame, problems: Problems) -> None:
    """Swap latitude and longitude where they are the wrong way round, with a warning per row
    (a repair, kept): the point lies at least SWAPPED_KM outside its stated country and the
    swapped point inside it (point-in-polygon). Only for the countries whose boundaries are
    shipped (Iraq, Syria): elsewhere nothing can tell, and nothing is changed."""
    from ..boundaries import country_extents, km_outside

    extents = country_extents()
    todo = frame["country"].isin(extents.index) & frame["latitude"].notna() & frame["longitude"].notna()
    if not todo.any():
        return
    rows = frame.loc[todo, ["country", "latitude", "longitude"]]
    boxes = extents.loc[rows["country"]]
    outside = pd.Series(km_outside(rows["latitude"], rows["longitude"], boxes), index=rows.index)
    swapped_near = km_outside(rows["longitude"], rows["latitude"], boxes) == 0
    rows = rows.loc[(outside >= SWAPPED_KM).to_numpy() & swapped_near]
    if rows.empty:
        return
    from ..merge.region import region_from_coordinates  # compiled point-in-polygon: only when needed

    where = region_from_coordinates(rows["longitude"], rows["latitude"], tolerance_km=0.0)
    swap = where["country"].eq(rows["country"]).fillna(False)
    rows = rows.loc[swap]
    if rows.empty:
        return
    frame.loc[rows.index, ["latitude", "longitude"]] = rows[["longitude", "latitude"]].to_numpy()
    problems.warnings.add(
        pd.Series(True, index=rows.index),
        "latitude, longitude",
        pd.Series(
            [
                f"swapped: as given the point lies {km:,.0f} km outside {country}, swapped it lies inside"
                for km, country in zip(outside.loc[rows.index], rows["country"], strict=True)
            ],
            index=rows.index,
            dtype="str",
        ),
        rows["latitude"].astype(str) + ", " + rows["longitude"].astype(str),
    )


def _region_from_coordinates(frame: pd.DataFrame) -> int:
    """Fill a missing region from the coordinates where the boundaries' country agrees.
    Returns how many rows got a region this way."""
    todo = frame["region"].isna() & frame["latitude"].notna() & frame["longitude"].notna()
    found = 0
    if todo.any():
        from ..merge.region import region_from_coordinates

        where = region_from_coordinates(frame.loc[todo, "latitude"], frame.loc[todo, "longitude"])
        agrees = where["region"].notna() & where["country"].eq(frame.loc[todo, "country"]).fillna(False)
        frame.loc[agrees[agrees].index, "region"] = where.loc[agrees, "region"]
        found = int(agrees.sum())
    return found


# ------------------------------------------------------- all files together


def _validate(parts: list[_FileRows], timing: list[float], notes: list[str]) -> LoadResult:
    frame = pd.concat([p.frame for p in parts])
    origin = pd.DataFrame(
        {
            "file": np.concatenate([np.full(len(p.frame), str(p.path), dtype=object) for p in parts]),
            "line": np.concatenate([p.lines for p in parts]),
        },
        index=frame.index,
    )
    problems = Problems()
    for part in parts:
        problems.extend(part.problems)

    # Rows holding no incident (empty, a repeated header) are quarantined with that reason alone.
    not_data = frame.index.isin(np.concatenate([p.not_data for p in parts]))
    # Exact copies and older versions share their source and id: only rows whose (source, id) occurs
    # more than once can be either (a million rows of unique ids need no row hashes).
    shared = frame.duplicated(["source", "incident_id"], keep=False).to_numpy()
    digest = pd.Series(
        pd.util.hash_pandas_object(frame.loc[shared, INCIDENT_COLUMNS], index=False),
        index=frame.index[shared],
    )
    candidates = shared & ~not_data
    repeated = _exact_repeats(frame.loc[candidates], digest.loc[frame.index[candidates]], origin, problems)
    repeated = repeated.reindex(frame.index, fill_value=False).to_numpy() | not_data
    # A kept row stands for its exact copies: it is as recent as the latest of them.
    copies = pd.DataFrame({"row": frame.index, "version": pd.concat([p.version for p in parts])})
    copies.loc[shared] = copies.loc[shared].groupby(digest.to_numpy()).transform("max")
    candidates = shared & ~repeated
    superseded = _superseded(frame.loc[candidates], copies.loc[candidates], origin, problems)
    superseded = superseded.reindex(frame.index, fill_value=False)
    # The latest version of a row decides whether it is an incident; its cells are then moot.
    reason = pd.concat([p.out_of_scope for p in parts])
    out_of_scope = (reason.notna() & ~repeated & ~superseded).to_numpy()
    in_scope = ~repeated & ~superseded & ~out_of_scope
    validated = _pandera_problems(frame.loc[in_scope], problems, _coerced_cells(problems))

    tidy = _one_date_wording(problems.table(), frame)
    tidy = tidy.loc[~tidy["row"].isin(frame.index[out_of_scope])]
    tidy = tidy.loc[~tidy["row"].isin(frame.index[not_data]) | tidy["problem"].isin(NOT_DATA)]
    bad = frame.index.isin(tidy["row"].unique())
    if validated is None:
        validated = IncidentSchema.validate(frame.loc[~bad & ~out_of_scope])
    # Dropping rows cannot make a valid table invalid, so a subset of a validated table is valid.
    accepted = validated.loc[~validated.index.isin(tidy["row"])].reset_index(drop=True)

    quarantine = _quarantine(parts, origin, tidy)
    excluded = _quarantine(
        parts,
        origin,
        pd.DataFrame(
            {"row": frame.index[out_of_scope], "column": "", "problem": reason[out_of_scope]}
        ).assign(value=None),
    ).rename(columns={"reasons": "reason"})
    matched_actor = pd.concat([p.matched_actor for p in parts])
    matched_region = pd.concat([p.matched_region for p in parts])
    kept = ~bad & ~out_of_scope
    unmatched_actors = (
        frame.loc[kept & ~matched_actor, "actor"]
        .value_counts()
        .rename_axis("actor")
        .reset_index(name="count")
    )
    unmatched_regions = (
        frame.loc[kept & ~matched_region, ["country", "region"]].value_counts().reset_index(name="count")
    )
    files = pd.DataFrame(
        {
            "file": [str(p.path) for p in parts],
            "format": [p.fmt.name for p in parts],
            "rows": [len(p.frame) for p in parts],
            "accepted": [int(kept[origin["file"].eq(str(p.path)).to_numpy()].sum()) for p in parts],
            "excluded": [int(out_of_scope[origin["file"].eq(str(p.path)).to_numpy()].sum()) for p in parts],
            "seconds": timing,
        }
    )
    files["quarantined"] = files["rows"] - files["accepted"] - files["excluded"]
    return LoadResult(
        incidents=accepted,
        quarantine=quarantine,
        excluded=excluded,
        files=files[["file", "format", "rows", "accepted", "quarantined", "excluded", "seconds"]],
        unmatched_actors=unmatched_actors,
        unmatched_regions=unmatched_regions,
        problems=_located(origin, tidy),
        warnings=_located(origin, pd.concat([p.warnings for p in parts], ignore_index=True)),
        notes=notes,
    )


def _one_date_wording(tidy: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """The schema's future-date check names `date_end`; an event whose end is its start (as
    every row of a source with one date column) is said to have its date in the future."""
    future = tidy["problem"].eq("date_end in the future")
    if not future.any():
        return tidy
    rows = tidy.loc[future, "row"].to_numpy()
    one_date = future.copy()
    one_date[future] = (frame.loc[rows, "date_end"] == frame.loc[rows, "date_start"]).to_numpy()
    tidy = tidy.copy()
    tidy.loc[one_date, "problem"] = "date in the future"
    tidy.loc[one_date, "value"] = tidy.loc[one_date, "value"].str.replace("date_end=", "date=", regex=False)
    return tidy


def _located(origin: pd.DataFrame, tidy: pd.DataFrame) -> pd.DataFrame:
    """A tidy problem table with each row's file and line in front."""
    return (
        origin.join(tidy.set_index("row"), how="inner").sort_values(["file", "line"]).reset_index(drop=True)
    )


def _exact_repeats(
    frame: pd.DataFrame, digest: pd.Series, origin: pd.DataFrame, problems: Problems
) -> pd.Series:
    """Rows identical to an earlier row (overlapping downloads; `digest` hashes each row's canonical
    cells): the first copy is kept."""
    repeated = digest.duplicated(keep="first")
    if repeated.any():
        first = (
            pd.Series(frame.index, index=frame.index).groupby(digest.to_numpy()).transform("first")[repeated]
        )
        where = origin.loc[first.to_numpy()]
        message = [
            f"exact duplicate of {Path(f).name} line {n}"
            for f, n in zip(where["file"], where["line"], strict=True)
        ]
        problems.add(repeated, "", pd.Series(message, index=first.index, dtype="str").reindex(repeated.index))
    return repeated


def _superseded(
    frame: pd.DataFrame, recency: pd.DataFrame, origin: pd.DataFrame, problems: Problems
) -> pd.Series:
    """Rows of an incident id that a later version of the same id replaces (an update of the
    source's export, a re-coded row): the latest version is kept, by the source's version stamp
    where it has one (ACLED `timestamp`), else, and on ties, the last row in file order (the
    later file, then the later line). Rows without a stamp count as older than stamped ones.
    `recency` holds each row's `version` stamp and `row` position (of its latest exact copy)."""
    keys = frame[["source", "incident_id"]]
    shared = keys.duplicated(keep=False)
    superseded = pd.Series(False, index=frame.index)
    if not shared.any():
        return superseded
    order = keys.loc[shared].assign(
        _version=recency.loc[shared, "version"].fillna(-np.inf),
        _position=recency.loc[shared, "row"],
        _row=keys.index[shared],
    )
    order = order.sort_values(["source", "incident_id", "_version", "_position"], kind="stable")
    latest = order.groupby(["source", "incident_id"], sort=False)["_row"].transform("last")
    older = latest.index != latest.to_numpy()
    superseded.loc[latest.index[older]] = True
    where = origin.loc[latest.to_numpy()[older]]
    message = pd.Series(
        [f"{Path(f).name} line {n}" for f, n in zip(where["file"], where["line"], strict=True)],
        index=latest.index[older],
        dtype="str",
    )
    problems.add(
        superseded, "", "superseded by a later version of the same incident id", message.reindex(frame.index)
    )
    return superseded


def _coerced_cells(problems: Problems) -> pd.DataFrame:
    """(row, canonical column) pairs already reported as failed coercions."""
    tidy = problems.table()
    cells = pd.DataFrame({"row": tidy["row"], "column": tidy["column"].str.split(" ").str[0]})
    # A blank date_end is filled from date_start, so it is NA exactly when date_start failed.
    ends = cells.loc[cells["column"].eq("date_start")].assign(column="date_end")
    return pd.concat([cells, ends], ignore_index=True).drop_duplicates()


def _pandera_problems(frame: pd.DataFrame, problems: Problems, coerced: pd.DataFrame) -> pd.DataFrame | None:
    """Run the schema lazily and record every failure case against its row.

    Returns the validated (coerced) table when nothing failed, else None.
    """
    try:
        return IncidentSchema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
    if cases["index"].isna().any():
        # A failure not tied to a row (a whole column of the wrong type) is a bug here, not bad data.
        raise RuntimeError(f"schema failure not tied to a row:\n{cases[cases['index'].isna()]}")
    cases = cases.assign(row=cases["index"].astype("int64"), check=cases["check"].astype("str"))
    by_column = cases["schema_context"].eq("Column")

    column_cases = cases.loc[by_column]
    # A cell that failed coercion is NA now; its 'not_nullable' failure would say the same twice.
    repeated = column_cases.merge(coerced, on=["row", "column"], how="left", indicator=True)
    column_cases = column_cases.loc[
        ~(repeated["_merge"].eq("both") & repeated["check"].eq("not_nullable")).to_numpy()
    ]
    table = pd.DataFrame(
        {
            "row": column_cases["row"].to_numpy(),
            "column": column_cases["column"].to_numpy(),
            "problem": column_cases["check"].map(_friendly).to_numpy(),
            "value": np.where(
                column_cases["check"].eq("not_nullable"), None, column_cases["failure_case"].astype(str)
            ),
        }
    )
    problems.extend(table)

    # Table-level checks list every column of a failing row; keep the columns the check names.
    frame_cases = cases.loc[~by_column & cases["column"].notna()]
    named = [col in check for col, check in zip(frame_cases["column"], frame_cases["check"], strict=True)]
    frame_cases = frame_cases.loc[named]
    values = (
        (frame_cases["column"] + "=" + frame_cases["failure_case"].astype(str).str.removesuffix(" 00:00:00"))
        .groupby([frame_cases["row"], frame_cases["check"]], sort=False)
        .agg(", ".join)
        .reset_index(name="value")
    )
    failing = cases.loc[~by_column, ["row", "check"]].drop_duplicates()
    failing = failing.merge(values, on=["row", "check"], how="left")
    problems.extend(
        pd.DataFrame(
            {"row": failing["row"], "column": "", "problem": failing["check"], "value": failing["value"]}
        )
    )
    return None


_CHECK_WORDS = {
    "greater_than_or_equal_to": ">=",
    "less_than_or_equal_to": "<=",
    "greater_than": ">",
    "less_than": "<",
}


def _friendly(check: str) -> str:
    """'greater_than_or_equal_to(0)' -> 'must be >= 0'; 'not_nullable' -> 'missing'."""
    if check == "not_nullable":
        return "missing"
    name, _, argument = check.partition("(")
    argument = argument.rstrip(")")
    if name in _CHECK_WORDS:
        return f"must be {_CHECK_WORDS[name]} {argument}"
    if name == "isin":
        return "must be one of " + argument.strip("[]").replace("'", "")
    return check


def _quarantine(parts: list[_FileRows], origin: pd.DataFrame, tidy: pd.DataFrame) -> pd.DataFrame:
    """Rejected rows: origin, every reason joined, then the raw cells as given."""
    text = tidy["problem"].where(tidy["column"].eq(""), tidy["column"] + ": " + tidy["problem"])
    with_value = tidy["value"].notna() & tidy["value"].ne("")
    text = text.where(~with_value, text + " (" + tidy["value"].astype(str) + ")")
    reasons = (
        pd.DataFrame({"row": tidy["row"], "text": text})
        .drop_duplicates()
        .groupby("row", sort=True)["text"]
        .agg("; ".join)
    )
    raw = pd.concat([text_cells(p.raw.loc[p.raw.index.isin(reasons.index)]) for p in parts])
    out = origin.loc[reasons.index].assign(reasons=reasons)
    out = out.join(raw, suffixes=("", "_raw")).reset_index(drop=True)
    return out
