"""The shipped admin-1 boundaries (Natural Earth, Iraq and Syria) as a table, and what can be read
from them without point-in-polygon: each country's box. (`merge.region` locates points in them.)"""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np
import pandas as pd

BOUNDARIES_FILE = "admin1_iraq_syria.csv"
KM_PER_DEGREE = 111.32


@functools.cache
def admin1_boundaries() -> pd.DataFrame:
    """The shipped boundaries: country, region, name_ne, hasc, ring, longitude, latitude (one row a vertex)."""
    with resources.files("casualtystats").joinpath("data", BOUNDARIES_FILE).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, comment="#")


@functools.cache
def country_extents() -> pd.DataFrame:
    """Each country's bounding box in the shipped boundaries (index country; columns lat_min,
    lat_max, lon_min, lon_max, degrees)."""
    table = admin1_boundaries()
    return table.groupby("country").agg(
        lat_min=("latitude", "min"),
        lat_max=("latitude", "max"),
        lon_min=("longitude", "min"),
        lon_max=("longitude", "max"),
    )


def km_outside(latitude, longitude, extents: pd.DataFrame) -> np.ndarray:
    """How far (km, equirectangular) each point lies outside its row's box of `extents` (rows
    aligned with the points); 0 inside."""
    lat, lon = np.asarray(latitude, dtype="float64"), np.asarray(longitude, dtype="float64")
    dlat = np.maximum(extents["lat_min"].to_numpy() - lat, 0) + np.maximum(
        lat - extents["lat_max"].to_numpy(), 0
    )
    dlon = np.maximum(extents["lon_min"].to_numpy() - lon, 0) + np.maximum(
        lon - extents["lon_max"].to_numpy(), 0
    )
    return KM_PER_DEGREE * np.hypot(dlat, dlon * np.cos(np.radians(np.clip(lat, -89, 89))))
