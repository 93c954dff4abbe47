"""Candidate pairs: reports of different sources close enough in time and space to be one incident.

The join runs in DuckDB on equality keys plus a range condition, never a Python
loop over pairs:

- time: each report covers the days [lo, hi] of its date interval, widened by its
  date precision (see `prepared`). Two reports are candidates when the gap between
  their intervals is at most `max_days`. Days are cut into bins of `bin_days`; one
  side lists the bins of [lo, hi], the other the bins of [lo - max_days, hi + max_days],
  and a pair is kept only in the first bin both share (so it is found once).
- space, both with coordinates: a grid of square cells of `cell_factor * max_km`
  (in degrees of latitude; the same number of degrees of longitude, which are
  shorter). A point also lists the neighbouring cells it is within `max_km` of,
  so every pair within `max_km` shares a cell exactly once; the great-circle
  distance then filters.
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
    hi, lat, lon, region_code, admin2_code and whatever `score_sql` reads).

    Returns a, b (row numbers; a's source code < b's), gap_days, km (NaN without coordinates),
    same_region, same_admin2, then the columns of `score_sql` (SQL select items over the candidate
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
        for name, frame in (("r", rows), ("acell", cells), ("abin", dates_a), ("bbin", dates_b)):
            con.register(f"{name}_df", frame)
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_df")
        con.register(
            "bcell",
            pd.DataFrame(
                {
                    "row": np.flatnonzero(has_xy),
                    "cx": _cell(rows["lon"].to_numpy()[has_xy], max_km),
                    "cy": _cell(rows["lat"].to_numpy()[has_xy], max_km),
                }
            ),
        )
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
                   coalesce(ra.admin2_code = rb.admin2_code, false) AS same_admin2
        """
        haversine = """2 * 6371.0088 * asin(sqrt(
                       pow(sin(radians(rb.lat - ra.lat) / 2), 2)
                       + cos(radians(ra.lat)) * cos(radians(rb.lat)) * pow(sin(radians(rb.lon - ra.lon) / 2), 2)))"""
        spatial = f"""
            WITH a AS (SELECT c.row, c.cx, c.cy, d.bin, d.first_bin, {fields}
                       FROM acell c JOIN abin d USING (row) JOIN r USING (row)),
                 b AS (SELECT c.row, c.cx, c.cy, d.bin, d.first_bin, {fields}
                       FROM bcell c JOIN bbin d USING (row) JOIN r USING (row))
            {select.format(km=haversine, same_region="coalesce(ra.region_code = rb.region_code, false)")}
            FROM a ra JOIN b rb ON ra.cx = rb.cx AND ra.cy = rb.cy AND ra.bin = rb.bin
            WHERE ra.bin = greatest(ra.first_bin, rb.first_bin) AND {common}
        """
        # Reports without coordinates meet the others of their region; each such pair once,
        # oriented by source code like the spatial pairs.
        regional = f"""
            WITH a AS (SELECT d.row, d.bin, d.first_bin, {fields} FROM abin d JOIN r USING (row)
                       WHERE r.region_code IS NOT NULL),
                 b AS (SELECT d.row, d.bin, d.first_bin, {fields} FROM bbin d JOIN r USING (row)
                       WHERE r.region_code IS NOT NULL)
            {select.format(km="CAST(NULL AS DOUBLE)", same_region="true")}
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


def _cell(values: np.ndarray, max_km: float) -> np.ndarray:
    return np.floor(values / (CELL_FACTOR * max_km / _KM_PER_DEGREE)).astype(np.int64)


def _cell_copies(rows: pd.DataFrame, max_km: float) -> pd.DataFrame:
    """Each located report in its own cell and in the neighbours it is within `max_km` of."""
    located = np.flatnonzero(rows["lat"].notna().to_numpy())
    lat, lon = rows["lat"].to_numpy()[located], rows["lon"].to_numpy()[located]
    size = CELL_FACTOR * max_km / _KM_PER_DEGREE
    reach_lat = max_km / _KM_PER_DEGREE
    reach_lon = reach_lat / np.maximum(np.cos(np.radians(lat)), _MIN_COS)
    cx, cy = np.floor(lon / size).astype(np.int64), np.floor(lat / size).astype(np.int64)
    fx, fy = lon - cx * size, lat - cy * size
    parts = []
    for dx, need_x in ((-1, fx < reach_lon), (0, np.ones_like(fx, bool)), (1, size - fx < reach_lon)):
        for dy, need_y in ((-1, fy < reach_lat), (0, np.ones_like(fy, bool)), (1, size - fy < reach_lat)):
            keep = need_x & need_y
            parts.append(pd.DataFrame({"row": located[keep], "cx": cx[keep] + dx, "cy": cy[keep] + dy}))
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
