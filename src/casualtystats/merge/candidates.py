"""Candidate pairs: reports of different sources close enough in time and space to be one incident.

The join runs in DuckDB on equality keys plus a range condition, never a Python
loop over pairs:

- time: each report covers the days [lo, hi] of its date interval, widened by its
  date precision (see `prepared`). Two reports are candidates when the gap between
  their intervals is at most `max_days`. Days are cut into bins of `bin_days`; one
  side lists the bins of [lo, hi], the other the bins of [lo - max_days, hi + max_days],
  and a pair is kept only in the first bin both share (so it is found once).
- space, both with coordinates: a grid of cells `max_km` high; each row of cells
  (a band of latitude) has cells `max_km` wide at the band's poleward edge, so
  wider in degrees nearer the poles. A point lists its own cell and, in its own
  band and the two neighbouring bands, the cells it is within `max_km` of; the
  other report lists only its own cell, so every pair within `max_km` meets in
  exactly one cell. The great-circle distance then filters.
- space, a report without coordinates: the same known admin-1 region (and country).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

_KM_PER_DEGREE = 111.32
# Longitude degrees shrink with cos(latitude); below this cosine (|lat| > 70 deg) the
# neighbour test would need more than one cell each side. No conflict data lives there.
_MIN_COS = 0.34
BIN_DAYS = 8
CELL_FACTOR = 3.0


def candidate_pairs(
    rows: pd.DataFrame, *, max_days: int, max_km: float, score_sql: str = "", keep_sql: str = "true"
) -> pd.DataFrame:
    """Cross-source candidate pairs of `rows` (one row per report, positional `row` number, with src, lo,
    hi, lat, lon, region_code, admin2_code and whatever `score_sql` reads; a missing code is -1, a
    missing number NaN).

    Returns a, b (row numbers; a's source code < b's), gap_days, km (NaN without coordinates),
    same_region, same_admin2, lone_candidate (a report without coordinates whose only candidate in
    the other's source this is), then the columns of `score_sql` (SQL select items over the candidate
    ``c`` and its two reports ``ra``, ``rb``), only where `keep_sql` holds.
    """
    con = duckdb.connect()
    try:
        con.execute("SET threads TO 2")
        con.execute("SET enable_progress_bar = false")
        cells = _cell_copies(rows, max_km)
        dates_a = _bin_copies(rows, rows["lo"].to_numpy(), rows["hi"].to_numpy())
        dates_b = _bin_copies(rows, rows["lo"].to_numpy() - max_days, rows["hi"].to_numpy() + max_days)
        has_xy = rows["lat"].notna().to_numpy()
        # Materialized once: a pandas scan of nullable columns is slow and each table is read twice.
        # Missing values arrive as -1 codes and NaN numbers (plain numpy columns scan fast) and
        # become SQL NULLs here.
        missing = [
            f"nullif({c}, {'-1' if kind == 'i' else chr(39) + 'NaN' + chr(39) + '::DOUBLE'}) AS {c}"
            for c, kind in ((c, rows[c].dtype.kind) for c in rows)
            if kind in "if" and c not in ("row", "src", "lo", "hi")
        ]
        con.register("r_df", rows)
        con.execute(f"CREATE TABLE r AS SELECT * REPLACE ({', '.join(missing)}) FROM r_df")
        for name, frame in (("acell", cells), ("abin", dates_a), ("bbin", dates_b)):
            con.register(f"{name}_df", frame)
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_df")
            con.unregister(f"{name}_df")
        # DuckDB holds its own copies now; freeing these keeps them out of the join's peak memory.
        del cells, dates_a, dates_b, frame
        cx, cy = _own_cells(
            rows["lat"].to_numpy(dtype=float, na_value=np.nan)[has_xy],
            rows["lon"].to_numpy(dtype=float, na_value=np.nan)[has_xy],
            max_km,
        )
        con.register("bcell", pd.DataFrame({"row": np.flatnonzero(has_xy), "cx": cx, "cy": cy}))
        # The reports' fields ride along in the keyed copies, so the filters run inside the join.
        fields = "r.src, r.lo, r.hi, r.lat, r.lon, r.region_code, r.admin2_code"
        common = f"""
            ra.src < rb.src
            AND greatest(0, ra.lo - rb.hi, rb.lo - ra.hi) <= {int(max_days)}
        """
        select = """
            SELECT ra.row AS a, rb.row AS b,
                   greatest(0, ra.lo - rb.hi, rb.lo - ra.hi) AS gap_days, {km} AS km,
                   {same_region} AS same_region,
                   coalesce(ra.admin2_code = rb.admin2_code, false) AS same_admin2, {lone} AS lone_candidate
        """
        haversine = """2 * 6371.0088 * asin(sqrt(
                       pow(sin(radians(rb.lat - ra.lat) / 2), 2)
                       + cos(radians(ra.lat)) * cos(radians(rb.lat)) * pow(sin(radians(rb.lon - ra.lon) / 2), 2)))"""
        spatial = f"""
            WITH a AS (SELECT c.row, c.cx, c.cy, d.bin, d.first_bin, {fields}
                       FROM acell c JOIN abin d USING (row) JOIN r USING (row)),
                 b AS (SELECT c.row, c.cx, c.cy, d.bin, d.first_bin, {fields}
                       FROM bcell c JOIN bbin d USING (row) JOIN r USING (row))
            {select.format(km=haversine, same_region="coalesce(ra.region_code = rb.region_code, false)", lone="false")}
            FROM a ra JOIN b rb ON ra.cx = rb.cx AND ra.cy = rb.cy AND ra.bin = rb.bin
            WHERE ra.bin = greatest(ra.first_bin, rb.first_bin) AND {common}
        """
        # Reports without coordinates meet the others of their region; each such pair once,
        # oriented by source code like the spatial pairs. All their candidates are here, so the
        # windows count them: lone_candidate = the coordinate-less side (both, if neither has
        # coordinates) meets this one report of the other's source.
        meets_a = "count(*) OVER (PARTITION BY ra.row, rb.src)"
        meets_b = "count(*) OVER (PARTITION BY rb.row, ra.src)"
        lone = f"""CASE WHEN ra.lat IS NULL AND rb.lat IS NULL THEN greatest({meets_a}, {meets_b})
            WHEN ra.lat IS NULL THEN {meets_a} ELSE {meets_b} END = 1"""
        regional = f"""
            WITH a AS (SELECT d.row, d.bin, d.first_bin, {fields} FROM abin d JOIN r USING (row)
                       WHERE r.region_code IS NOT NULL),
                 b AS (SELECT d.row, d.bin, d.first_bin, {fields} FROM bbin d JOIN r USING (row)
                       WHERE r.region_code IS NOT NULL)
            {select.format(km="CAST(NULL AS DOUBLE)", same_region="true", lone=lone)}
            FROM a ra JOIN b rb ON ra.region_code = rb.region_code AND ra.bin = rb.bin
            WHERE ra.bin = greatest(ra.first_bin, rb.first_bin) AND (ra.lat IS NULL OR rb.lat IS NULL)
              AND {common}
        """
        query = f"""
            WITH c AS (SELECT * FROM ({spatial}) WHERE km <= {float(max_km)} UNION ALL SELECT * FROM ({regional}))
            SELECT c.*{", " + score_sql if score_sql else ""}
            FROM c JOIN r ra ON ra.row = c.a JOIN r rb ON rb.row = c.b
            WHERE {keep_sql}
        """
        return con.execute(query).df()
    finally:
        con.close()


def _band_width(band: np.ndarray, height: float) -> np.ndarray:
    """Longitude width (degrees) of the cells of a latitude band: `height` km at its poleward edge."""
    poleward = np.maximum(np.abs(band * height), np.abs((band + 1) * height))
    return height / np.maximum(np.cos(np.radians(np.minimum(poleward, 90.0))), _MIN_COS)


def _own_cells(lat: np.ndarray, lon: np.ndarray, max_km: float) -> tuple[np.ndarray, np.ndarray]:
    height = max_km / _KM_PER_DEGREE
    band = np.floor(lat / height).astype(np.int64)
    return np.floor(lon / _band_width(band, height)).astype(np.int64), band


def _cell_copies(rows: pd.DataFrame, max_km: float) -> pd.DataFrame:
    """Each located report in its own cell and in every cell of its band and the neighbouring
    bands that holds points within `max_km` of it."""
    located = np.flatnonzero(rows["lat"].notna().to_numpy())
    lat = rows["lat"].to_numpy(dtype=float, na_value=np.nan)[located]
    lon = rows["lon"].to_numpy(dtype=float, na_value=np.nan)[located]
    height = max_km / _KM_PER_DEGREE
    band = np.floor(lat / height).astype(np.int64)
    # Longitude reach of max_km at the most poleward latitude the partner can have.
    reach = height / np.maximum(np.cos(np.radians(np.minimum(np.abs(lat) + height, 90.0))), _MIN_COS)
    parts = []
    for dy in (-1, 0, 1):
        width = _band_width(band + dy, height)
        first = np.floor((lon - reach) / width).astype(np.int64)
        last = np.floor((lon + reach) / width).astype(np.int64)
        for dx in range(int((last - first).max()) + 1 if len(located) else 0):
            keep = first + dx <= last
            parts.append(pd.DataFrame({"row": located[keep], "cx": first[keep] + dx, "cy": band[keep] + dy}))
    if not parts:
        return pd.DataFrame(
            {"row": np.empty(0, np.int64), "cx": np.empty(0, np.int64), "cy": np.empty(0, np.int64)}
        )
    return pd.concat(parts, ignore_index=True)


def _bin_copies(rows: pd.DataFrame, lo: np.ndarray, hi: np.ndarray) -> pd.DataFrame:
    """One row per (report, day bin) the interval [lo, hi] touches, with the first bin."""
    first, last = np.floor_divide(lo, BIN_DAYS), np.floor_divide(hi, BIN_DAYS)
    count = (last - first + 1).astype(np.int64)
    row = np.repeat(np.arange(len(rows)), count)
    offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    return pd.DataFrame(
        {"row": row, "bin": np.repeat(first, count) + offset, "first_bin": np.repeat(first, count)}
    )
