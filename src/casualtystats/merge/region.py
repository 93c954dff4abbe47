"""Region (admin-1) from coordinates, by point-in-polygon against real boundaries.

The boundaries are Natural Earth's 1:10m admin-1 states/provinces (public domain)
for Iraq and Syria, shipped as ``casualtystats/data/admin1_iraq_syria.csv`` (one
row per ring vertex; see ``data/admin1_README.md`` for where it comes from and
the command that made it). A point inside a ring of a region (even-odd rule, so
holes are holes) gets that region. Shared borders were simplified once for both
neighbours (TopoJSON), so a point is never inside two regions; a point outside
every polygon but within `tolerance_km` of one (a coastline or border vertex
dropped by the simplification) gets the nearest; anything else stays unknown.

Natural Earth predates Halabja's separation from Sulaymaniyah (2014): points in
Halabja get 'Sulaymaniyah'.
"""

from __future__ import annotations

import functools

import numba
import numpy as np
import pandas as pd

from ..boundaries import KM_PER_DEGREE, admin1_boundaries

#: Points this close (km) to a region's boundary but outside every polygon still get that region.
DEFAULT_TOLERANCE_KM = 5.0


@functools.cache
def _edges() -> tuple[np.ndarray, ...]:
    """Edges of every ring as arrays, grouped by region, with each region's bounding box."""
    table = admin1_boundaries()
    regions = table[["country", "region"]].drop_duplicates().reset_index(drop=True)
    region_no = table.merge(regions.reset_index(), on=["country", "region"])["index"].to_numpy()
    ring_key = region_no * 10_000 + table["ring"].to_numpy()
    x, y = table["longitude"].to_numpy(), table["latitude"].to_numpy()
    # An edge joins a vertex to the next one of the same ring (rings are closed: last = first).
    same_ring = ring_key[1:] == ring_key[:-1]
    x0, y0, x1, y1 = x[:-1][same_ring], y[:-1][same_ring], x[1:][same_ring], y[1:][same_ring]
    owner = region_no[:-1][same_ring]
    order = np.argsort(owner, kind="stable")
    x0, y0, x1, y1, owner = x0[order], y0[order], x1[order], y1[order], owner[order]
    starts = np.searchsorted(owner, np.arange(len(regions) + 1))
    bbox = np.array(
        [
            [
                x[region_no == r].min(),
                x[region_no == r].max(),
                y[region_no == r].min(),
                y[region_no == r].max(),
            ]
            for r in range(len(regions))
        ]
    )
    return regions, x0, y0, x1, y1, starts, bbox


@numba.njit(cache=True)
def _locate(lon, lat, x0, y0, x1, y1, starts, bbox, tolerance_deg):  # pragma: no cover - compiled
    n, k = len(lon), len(starts) - 1
    out = np.full(n, -1, np.int64)
    for i in range(n):
        px, py = lon[i], lat[i]
        if np.isnan(px) or np.isnan(py):
            continue
        best_r, best_d = -1, tolerance_deg
        for r in range(k):
            if (
                px < bbox[r, 0] - tolerance_deg
                or px > bbox[r, 1] + tolerance_deg
                or py < bbox[r, 2] - tolerance_deg
                or py > bbox[r, 3] + tolerance_deg
            ):
                continue
            inside = False
            for e in range(starts[r], starts[r + 1]):
                ax, ay, bx, by = x0[e], y0[e], x1[e], y1[e]
                if (ay > py) != (by > py) and px < ax + (py - ay) * (bx - ax) / (by - ay):
                    inside = not inside
                # Distance to the edge (equirectangular, cos(lat) ~ 0.8 here is ignored: a tolerance only).
                dx, dy = bx - ax, by - ay
                t = 0.0
                if dx != 0.0 or dy != 0.0:
                    t = min(1.0, max(0.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
                d = np.hypot(px - ax - t * dx, py - ay - t * dy)
                if d < best_d:
                    best_r, best_d = r, d
            if inside:
                best_r, best_d = r, -1.0
                break
        out[i] = best_r
    return out


def region_from_coordinates(
    latitude, longitude, *, tolerance_km: float = DEFAULT_TOLERANCE_KM
) -> pd.DataFrame:
    """Country and admin-1 region of each point, from the shipped Natural Earth boundaries.

    Returns a DataFrame (same index as `latitude` when it is a Series) with
    ``country`` and ``region``: NA where the point is missing or outside Iraq
    and Syria by more than `tolerance_km` (default 5 km).
    """
    index = latitude.index if isinstance(latitude, pd.Series) else pd.RangeIndex(len(latitude))
    lat = np.asarray(latitude, dtype="float64")
    lon = np.asarray(longitude, dtype="float64")
    regions, x0, y0, x1, y1, starts, bbox = _edges()
    found = _locate(lon, lat, x0, y0, x1, y1, starts, bbox, tolerance_km / KM_PER_DEGREE)
    known = found >= 0
    out = pd.DataFrame(
        {
            "country": pd.Series(pd.NA, index=index, dtype="str"),
            "region": pd.Series(pd.NA, index=index, dtype="str"),
        }
    )
    out.loc[known, "country"] = regions["country"].to_numpy()[found[known]]
    out.loc[known, "region"] = regions["region"].to_numpy()[found[known]]
    return out
