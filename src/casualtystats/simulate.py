"""Synthetic incident tables with a known answer.

`simulate_incidents` draws incidents in the canonical schema from a weekly rate
process with given change points, so that every later stage (change points,
trends, resurgence flags, their backtests) can be checked against the truth.

The generative model, per (actor, region) series and week ``w``:

- a piecewise-constant expected rate ``r_w`` (incidents per week) that jumps at
  the requested change points (declines, resurgences);
- the week's count ``N_w ~ NegBin(mean = r_w * e_w, Var = mu + overdispersion * mu**2)``,
  drawn as a Gamma-Poisson mixture, where ``e_w`` is the share of the week's days
  inside [start, end];
- each incident on a uniformly drawn day of its week (a share runs over several
  days, `date_precision` "range");
- fatalities per incident Poisson-lognormal (most incidents kill few, rare
  mass-casualty events): ``Y ~ LogNormal`` with mean `fatality_mean` and log-sd
  `fatality_tail`, ``F ~ Poisson(Y)``; injuries ``Poisson(injury_ratio * Y * Z)`` with
  lognormal noise ``Z`` of mean 1, so injuries rise with fatalities;
- reporting: a share of reports say "at least N" (low = best = N, high unknown),
  the others give N exactly or a range around it; a share have unknown injuries,
  an unknown perpetrator (actor "Unknown"), or no coordinates. Coordinates are the
  region's centroid plus jitter.

Run ``python -m casualtystats.simulate --sample datasets/`` to rewrite the shipped
sample (`datasets/incidents_sample.csv`, `datasets/sample_truth.csv`).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import CasualtyStatsError
from .schema import COUNT_COLUMNS, INCIDENT_COLUMNS, IncidentSchema

#: Approximate centroids (latitude, longitude) of the governorates of Iraq and
#: Syria, under the canonical region names used by `normalize_regions`.
GOVERNORATES: dict[str, tuple[str, float, float]] = {
    "Anbar": ("Iraq", 33.0, 42.0),
    "Babil": ("Iraq", 32.6, 44.6),
    "Baghdad": ("Iraq", 33.3, 44.4),
    "Basra": ("Iraq", 30.5, 47.6),
    "Dhi Qar": ("Iraq", 31.1, 46.3),
    "Diyala": ("Iraq", 33.9, 45.1),
    "Dohuk": ("Iraq", 36.9, 43.1),
    "Erbil": ("Iraq", 36.4, 44.2),
    "Halabja": ("Iraq", 35.2, 45.9),
    "Karbala": ("Iraq", 32.5, 43.8),
    "Kirkuk": ("Iraq", 35.4, 44.2),
    "Maysan": ("Iraq", 31.9, 47.1),
    "Muthanna": ("Iraq", 30.3, 45.3),
    "Najaf": ("Iraq", 31.2, 43.6),
    "Ninawa": ("Iraq", 36.2, 42.6),
    "Qadisiyah": ("Iraq", 32.0, 45.0),
    "Salah al-Din": ("Iraq", 34.5, 43.6),
    "Sulaymaniyah": ("Iraq", 35.6, 45.5),
    "Wasit": ("Iraq", 32.6, 45.7),
    "Aleppo": ("Syria", 36.2, 37.5),
    "Damascus": ("Syria", 33.5, 36.3),
    "Daraa": ("Syria", 32.7, 36.2),
    "Deir ez-Zor": ("Syria", 35.0, 40.4),
    "Hama": ("Syria", 35.2, 36.9),
    "Hasakah": ("Syria", 36.5, 40.9),
    "Homs": ("Syria", 34.5, 38.0),
    "Idlib": ("Syria", 35.8, 36.6),
    "Latakia": ("Syria", 35.6, 36.0),
    "Quneitra": ("Syria", 33.1, 35.8),
    "Raqqa": ("Syria", 35.9, 38.9),
    "Rif Dimashq": ("Syria", 33.6, 36.7),
    "Suwayda": ("Syria", 32.7, 36.7),
    "Tartus": ("Syria", 34.9, 36.0),
}

# How sources spell perpetrators (the normalized name stays in `actor`).
_RAW_SPELLINGS = {
    "ISIS": ["Islamic State", "ISIL", "IS", "Daesh", "Islamic State of Iraq and the Levant (ISIL)", "ISIS"],
    "HTS": ["Hayat Tahrir al-Sham", "HTS", "Hay'at Tahrir al-Sham"],
    "SDF": ["Syrian Democratic Forces", "SDF", "QSD"],
}
_UNKNOWN_SPELLINGS = ["Unidentified gunmen", "Unknown", "Unidentified armed group"]
_TARGETS = {
    "Iraq": ["Iraqi security forces", "Civilians", "Popular Mobilization Forces", "Peshmerga"],
    "Syria": ["Syrian government forces", "Civilians", "SDF", "Syrian opposition"],
}
_OTHER_TARGETS = ["Security forces", "Civilians"]
_EVENT_TYPES = ["Explosions/Remote violence", "Battles", "Violence against civilians"]
_EVENT_TYPE_SHARES = [0.45, 0.35, 0.20]
_WEEK = pd.Timedelta(days=7)


class SimulationError(CasualtyStatsError, ValueError):
    """The simulation was asked for something inconsistent."""


@dataclass(frozen=True)
class SimulatedIncidents:
    """A simulated incident table and the truth it was drawn from.

    Attributes
    ----------
    incidents : canonical incident table (`IncidentSchema`), source "SIMULATED".
    truth : one row per true change: `actor`, `region`, `date` (Monday of the week
        the new rate starts), `rate_before`, `rate_after` (incidents/week),
        `direction` ("up" or "down").
    weekly_rates : `week` (Monday), `actor`, `region`, `expected_incidents` and
        `expected_fatalities` (the process's expectation for that week, including
        incidents later reported under "Unknown"; partial weeks at the ends are
        scaled by their days in range).
    seed : the seed that reproduces all of it.
    """

    incidents: pd.DataFrame
    truth: pd.DataFrame
    weekly_rates: pd.DataFrame
    seed: int

    def summary(self) -> str:
        inc = self.incidents
        lines = [
            f"Simulated incidents (seed {self.seed}): {len(inc):,} incidents, "
            f"{inc['date_start'].min():%Y-%m-%d} .. {inc['date_start'].max():%Y-%m-%d}"
            if len(inc)
            else f"Simulated incidents (seed {self.seed}): none",
            f"  series: {len(self.weekly_rates.groupby(['actor', 'region']))}, "
            f"true change points: {len(self.truth)}",
            f"  fatalities (best): {int(inc['fatalities_best'].sum()):,}; "
            f"injuries unknown in {inc['injuries_best'].isna().mean():.0%} of incidents",
        ]
        for row in self.truth.itertuples():
            lines.append(
                f"  {row.date:%Y-%m-%d} {row.actor} / {row.region}: "
                f"{row.rate_before:.2f} -> {row.rate_after:.2f} per week ({row.direction})"
            )
        return "\n".join(lines)


def simulate_incidents(
    *,
    regions: Sequence[str] | Mapping[str, tuple[str, float, float]],
    actors: Mapping[str, float | Mapping[str, float]] | Sequence[str],
    start,
    end,
    change_points: Iterable[Mapping] | pd.DataFrame = (),
    seed: int,
    overdispersion: float = 0.3,
    fatality_mean: float = 2.0,
    fatality_tail: float = 1.5,
    injury_ratio: float = 1.5,
    at_least_share: float = 0.2,
    unknown_injuries_share: float = 0.3,
    unknown_actor_share: float = 0.1,
    missing_coordinates_share: float = 0.1,
    multi_day_share: float = 0.03,
    coordinate_jitter: float = 0.25,
) -> SimulatedIncidents:
    """Draw a canonical incident table from a weekly rate process with known change points.

    Parameters
    ----------
    regions : region names from `GOVERNORATES`, or a mapping
        ``name -> (country, latitude, longitude)`` of centroids.
    actors : ``actor -> weekly rate`` (expected incidents per week in every region at
        `start`), ``actor -> {region: rate}`` (only those regions), or a list of
        actors (rate 1 everywhere).
    start, end : first and last day of the table.
    change_points : rows (dicts or a DataFrame) with `actor`, `region` (a name, or
        None for every region of the actor), `date`, and either `ratio` (new rate =
        old rate x ratio) or `rate_after`. The new rate applies from the week
        (Monday) containing `date`.
    seed : seed of the random generator; the same arguments and seed give the same table.
    overdispersion : NB2 dispersion of weekly counts, Var = mu + overdispersion * mu**2
        (0 = Poisson).
    fatality_mean, fatality_tail : mean and log-sd of the lognormal intensity of
        fatalities per incident (larger tail = rarer, bigger mass-casualty events).
    injury_ratio : expected injuries per expected fatality.
    at_least_share, unknown_injuries_share, unknown_actor_share,
    missing_coordinates_share, multi_day_share : shares of reports with these traits.
    coordinate_jitter : standard deviation (degrees) of coordinates around the centroid.
    """
    rng = np.random.default_rng(seed)
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if end < start:
        raise SimulationError(f"end {end:%Y-%m-%d} is before start {start:%Y-%m-%d}")
    centroids = _region_table(regions)
    series = _series_table(actors, centroids)
    weeks = pd.date_range(_monday(start), _monday(end), freq="7D")
    rates, truth = _rate_paths(series, weeks, change_points)
    # Share of each week's days inside [start, end]: the ends may be partial weeks.
    first_day = np.maximum((start - weeks).days.to_numpy(), 0)
    last_day = np.minimum((end - weeks).days.to_numpy(), 6)
    exposure = (last_day - first_day + 1) / 7.0
    expected = rates * exposure  # (series, weeks)

    counts = _negative_binomial(rng, expected, overdispersion)
    s_idx, w_idx = np.nonzero(counts)
    reps = counts[s_idx, w_idx]
    s_idx, w_idx = np.repeat(s_idx, reps), np.repeat(w_idx, reps)
    n = len(s_idx)

    day = first_day[w_idx] + (rng.random(n) * (last_day - first_day + 1)[w_idx]).astype(np.int64)
    date_start = weeks.to_numpy()[w_idx] + day.astype("timedelta64[D]")
    multi_day = rng.random(n) < multi_day_share
    extra_days = np.where(multi_day, rng.integers(1, 4, n), 0).astype("timedelta64[D]")
    date_end = np.minimum(date_start + extra_days, end.to_datetime64())
    precision = np.where(date_end > date_start, "range", "day")

    # Lognormal intensity with the requested mean: E[Y] = exp(mu + sigma^2/2).
    mu = np.log(fatality_mean) - fatality_tail**2 / 2
    intensity = rng.lognormal(mu, fatality_tail, n)
    fatalities = rng.poisson(intensity)
    noise_sd = 0.5
    injuries = rng.poisson(injury_ratio * intensity * rng.lognormal(-(noise_sd**2) / 2, noise_sd, n))

    actor = series["actor"].to_numpy()[s_idx]
    region = series["region"].to_numpy()[s_idx]
    country = series["country"].to_numpy()[s_idx]
    unknown_actor = rng.random(n) < unknown_actor_share
    actor_raw = _raw_spellings(rng, actor, unknown_actor)
    reported_actor = np.where(unknown_actor, "Unknown", actor)
    target = _targets(rng, country, actor)

    located = rng.random(n) >= missing_coordinates_share
    lat = np.where(
        located, series["latitude"].to_numpy()[s_idx] + rng.normal(0, coordinate_jitter, n), np.nan
    )
    lon = np.where(
        located, series["longitude"].to_numpy()[s_idx] + rng.normal(0, coordinate_jitter, n), np.nan
    )

    counts_reported = {
        **_reported(rng, "fatalities", fatalities, at_least_share, unknown_share=0.0),
        **_reported(rng, "injuries", injuries, at_least_share, unknown_share=unknown_injuries_share),
    }
    order = np.lexsort((s_idx, date_start))
    incidents = pd.DataFrame(
        {
            "incident_id": pd.array([f"SIM{seed}-{i:08d}" for i in range(n)], dtype="str"),
            "source": "SIMULATED",
            "date_start": pd.to_datetime(date_start[order]).astype("datetime64[ns]"),
            "date_end": pd.to_datetime(date_end[order]).astype("datetime64[ns]"),
            "date_precision": _strings(precision[order]),
            "country": _strings(country[order]),
            "region": _strings(region[order]),
            "admin2": pd.array([None] * n, dtype="str"),
            "location": pd.array([None] * n, dtype="str"),
            "latitude": np.round(lat[order], 4),
            "longitude": np.round(lon[order], 4),
            "actor": _strings(reported_actor[order]),
            "actor_raw": _strings(actor_raw[order]),
            "target": _strings(target[order]),
            **{c: counts_reported[c][order] for c in COUNT_COLUMNS},
            "event_type": _strings(np.array(_EVENT_TYPES)[rng.choice(3, n, p=_EVENT_TYPE_SHARES)][order]),
            "notes": pd.array([None] * n, dtype="str"),
        },
        columns=INCIDENT_COLUMNS,
    )
    weekly_rates = pd.DataFrame(
        {
            "week": np.tile(weeks.to_numpy(), len(series)),
            "actor": np.repeat(series["actor"].to_numpy(), len(weeks)),
            "region": np.repeat(series["region"].to_numpy(), len(weeks)),
            "expected_incidents": expected.ravel(),
            "expected_fatalities": expected.ravel() * fatality_mean,
        }
    )
    return SimulatedIncidents(IncidentSchema.validate(incidents), truth, weekly_rates, seed)


# --- pieces of the model ------------------------------------------------------


def _monday(day: pd.Timestamp) -> pd.Timestamp:
    return day - pd.Timedelta(days=day.day_of_week)


def _strings(values: np.ndarray):
    # Via categories: converting each distinct value once is much faster on millions of rows.
    codes, uniques = pd.factorize(values)
    return pd.Categorical.from_codes(codes, pd.Index(uniques, dtype="str")).astype("str")


def _region_table(regions) -> pd.DataFrame:
    if isinstance(regions, Mapping):
        table = dict(regions)
    else:
        unknown = [r for r in regions if r not in GOVERNORATES]
        if unknown:
            raise SimulationError(
                f"no centroid for regions {unknown}: pass regions as a mapping name -> (country, lat, lon)"
            )
        table = {r: GOVERNORATES[r] for r in regions}
    if not table:
        raise SimulationError("no regions to simulate")
    return pd.DataFrame(
        [(name, *values) for name, values in table.items()],
        columns=["region", "country", "latitude", "longitude"],
    )


def _series_table(actors, centroids: pd.DataFrame) -> pd.DataFrame:
    """One row per simulated (actor, region) series with its starting weekly rate."""
    if not isinstance(actors, Mapping):
        actors = dict.fromkeys(actors, 1.0)
    rows = []
    for actor, rate in actors.items():
        per_region = rate if isinstance(rate, Mapping) else dict.fromkeys(centroids["region"], rate)
        unknown = set(per_region) - set(centroids["region"])
        if unknown:
            raise SimulationError(f"rates for {actor} name regions not simulated: {sorted(unknown)}")
        rows += [(actor, region, float(r)) for region, r in per_region.items()]
    series = pd.DataFrame(rows, columns=["actor", "region", "rate"])
    if (series["rate"] < 0).any():
        raise SimulationError("rates must be non-negative")
    return series.merge(centroids, on="region", how="left")


def _rate_paths(
    series: pd.DataFrame, weeks: pd.DatetimeIndex, change_points
) -> tuple[np.ndarray, pd.DataFrame]:
    """Weekly expected rates (series x weeks) and the table of true changes."""
    rates = np.repeat(series["rate"].to_numpy()[:, None], len(weeks), axis=1)
    changes = pd.DataFrame(change_points)
    truth = []
    if len(changes):
        changes["date"] = pd.to_datetime(changes["date"])
        if "region" not in changes:
            changes["region"] = None
        for cp in changes.sort_values("date", kind="stable").to_dict("records"):
            week = _monday(cp["date"].normalize())
            if not weeks[0] < week <= weeks[-1]:
                raise SimulationError(f"change point {cp['date']:%Y-%m-%d} is not inside the simulated range")
            w = weeks.get_loc(week)
            region = cp.get("region")
            hit = (series["actor"] == cp["actor"]) & (
                series["region"] == region if isinstance(region, str) else True
            )
            if not hit.any():
                raise SimulationError(
                    f"change point for {cp['actor']} / {region} matches no simulated series"
                )
            ratio, rate_after = cp.get("ratio"), cp.get("rate_after")
            if (ratio is None or pd.isna(ratio)) == (rate_after is None or pd.isna(rate_after)):
                raise SimulationError("each change point needs exactly one of `ratio` and `rate_after`")
            for i in np.flatnonzero(hit.to_numpy()):
                before = rates[i, w - 1]
                after = round(
                    before * ratio if rate_after is None or pd.isna(rate_after) else float(rate_after), 9
                )
                rates[i, w:] = after
                truth.append((series["actor"].iat[i], series["region"].iat[i], week, before, after))
    truth = pd.DataFrame(truth, columns=["actor", "region", "date", "rate_before", "rate_after"])
    truth["direction"] = np.where(truth["rate_after"] > truth["rate_before"], "up", "down")
    truth["date"] = pd.to_datetime(truth["date"])
    return rates, truth.sort_values(["actor", "region", "date"], ignore_index=True)


def _negative_binomial(rng: np.random.Generator, mean: np.ndarray, overdispersion: float) -> np.ndarray:
    """Counts with the given means and Var = mean + overdispersion * mean**2 (Gamma-Poisson)."""
    if overdispersion < 0:
        raise SimulationError("overdispersion must be >= 0")
    if overdispersion == 0:
        return rng.poisson(mean)
    shape = 1.0 / overdispersion
    return rng.poisson(rng.gamma(shape, mean / shape))


def _raw_spellings(rng, actor: np.ndarray, unknown: np.ndarray) -> np.ndarray:
    raw = actor.astype(object)
    for name, spellings in _RAW_SPELLINGS.items():
        hit = actor == name
        raw[hit] = np.array(spellings, dtype=object)[rng.integers(0, len(spellings), hit.sum())]
    raw[unknown] = np.array(_UNKNOWN_SPELLINGS, dtype=object)[
        rng.integers(0, len(_UNKNOWN_SPELLINGS), unknown.sum())
    ]
    return raw


def _targets(rng, country: np.ndarray, actor: np.ndarray) -> np.ndarray:
    target = np.empty(len(country), dtype=object)
    for c in np.unique(country):
        hit = country == c
        choices = np.array(_TARGETS.get(c, _OTHER_TARGETS), dtype=object)
        target[hit] = choices[rng.integers(0, len(choices), hit.sum())]
    # An actor does not attack itself: those become civilians.
    target[target == actor] = "Civilians"
    return target


def _reported(rng, measure: str, true: np.ndarray, at_least_share: float, unknown_share: float) -> dict:
    """How monitors report a count: "at least N", exactly N, or a range around N; or unknown."""
    n = len(true)
    at_least = (rng.random(n) < at_least_share) & (true > 0)
    ranged = ~at_least & (rng.random(n) < 0.3)
    low = np.where(ranged, true - rng.binomial(true, 0.3), true)
    high = np.where(ranged, true + rng.binomial(true + 1, 0.3), true)
    unknown = rng.random(n) < unknown_share
    return {
        f"{measure}_best": pd.arrays.IntegerArray(true.astype(np.int64), unknown),
        f"{measure}_low": pd.arrays.IntegerArray(low.astype(np.int64), unknown),
        f"{measure}_high": pd.arrays.IntegerArray(high.astype(np.int64), unknown | at_least),
    }


# --- the shipped sample ---------------------------------------------------------

SAMPLE_SEED = 20140101
SAMPLE_START, SAMPLE_END = "2014-01-01", "2026-10-31"

# ISIS weekly incident rates per governorate in early 2014 (synthetic, shaped
# like the 2014-2017 peak: heartland governorates high, the south and Kurdish
# north low).
_SAMPLE_ISIS_RATES = {
    "Anbar": 3.0, "Ninawa": 3.0, "Salah al-Din": 2.5, "Diyala": 2.0, "Kirkuk": 2.0, "Baghdad": 2.5,
    "Babil": 0.8, "Erbil": 0.2, "Dohuk": 0.1, "Sulaymaniyah": 0.1, "Halabja": 0.05, "Karbala": 0.2,
    "Najaf": 0.1, "Wasit": 0.3, "Qadisiyah": 0.1, "Dhi Qar": 0.1, "Maysan": 0.05, "Muthanna": 0.05, "Basra": 0.2,
    "Raqqa": 2.5, "Deir ez-Zor": 3.0, "Hasakah": 1.5, "Aleppo": 2.0, "Homs": 1.5, "Hama": 1.0,
    "Rif Dimashq": 0.6, "Damascus": 0.3, "Daraa": 0.4, "Idlib": 0.3, "Suwayda": 0.2, "Quneitra": 0.05,
    "Latakia": 0.05, "Tartus": 0.05,
}  # fmt: skip
_IRAQ_CORE = ["Anbar", "Ninawa", "Salah al-Din", "Diyala", "Kirkuk", "Baghdad"]
_SYRIA_CORE = ["Raqqa", "Deir ez-Zor", "Hasakah", "Aleppo", "Homs", "Hama"]


def sample_change_points() -> list[dict]:
    """True changes of the shipped sample: collapse of the caliphate in Iraq (late
    2017) and Syria (after Baghouz, 2019), a later resurgence in some governorates."""
    return [
        *({"actor": "ISIS", "region": r, "date": "2017-11-06", "ratio": 0.15} for r in _IRAQ_CORE),
        *({"actor": "ISIS", "region": r, "date": "2019-03-25", "ratio": 0.2} for r in _SYRIA_CORE),
        {"actor": "ISIS", "region": "Deir ez-Zor", "date": "2025-01-13", "ratio": 3.0},
        {"actor": "ISIS", "region": "Homs", "date": "2025-03-03", "ratio": 3.0},
        {"actor": "ISIS", "region": "Kirkuk", "date": "2026-02-02", "ratio": 3.0},
        {"actor": "HTS", "region": "Idlib", "date": "2020-03-09", "ratio": 0.3},
    ]


def simulate_sample(seed: int = SAMPLE_SEED) -> SimulatedIncidents:
    """The shipped sample: ISIS in the governorates of Iraq and Syria, 2014-01-01 .. 2026-10-31,
    plus HTS (Idlib, Aleppo, Hama) and SDF (Hasakah, Raqqa, Deir ez-Zor)."""
    return simulate_incidents(
        regions=list(GOVERNORATES),
        actors={
            "ISIS": _SAMPLE_ISIS_RATES,
            "HTS": {"Idlib": 1.0, "Aleppo": 0.3, "Hama": 0.2},
            "SDF": {"Hasakah": 0.2, "Raqqa": 0.2, "Deir ez-Zor": 0.3},
        },
        start=SAMPLE_START,
        end=SAMPLE_END,
        change_points=sample_change_points(),
        seed=seed,
    )


def write_sample(folder: str | Path, seed: int = SAMPLE_SEED) -> SimulatedIncidents:
    """Write `incidents_sample.csv` and `sample_truth.csv` into `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    sample = simulate_sample(seed)
    _write_csv(sample.incidents, folder / "incidents_sample.csv")
    _write_csv(sample.truth, folder / "sample_truth.csv")
    return sample


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    # Atomic: a crash never leaves a half-written file that looks complete.
    tmp = path.with_suffix(path.suffix + ".tmp")
    frame.to_csv(tmp, index=False, date_format="%Y-%m-%d", lineterminator="\n")
    tmp.replace(path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m casualtystats.simulate", description="Write the synthetic sample data set."
    )
    parser.add_argument(
        "--sample", metavar="FOLDER", required=True, help="folder to write the CSV files into"
    )
    parser.add_argument("--seed", type=int, default=SAMPLE_SEED)
    args = parser.parse_args(argv)
    sample = write_sample(args.sample, args.seed)
    print(sample.summary())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


# --- several sources reporting one set of events ----------------------------------

_KM_PER_DEGREE = 111.32


@dataclass(frozen=True)
class SimulatedSources:
    """Reports of one true event set by several sources, and which event each report is.

    Attributes
    ----------
    reports : canonical incident table of every source's reports (source "S1", "S2", ...).
    events : the true events (canonical columns, source "TRUTH", `incident_id` = event id).
    truth : one row per report: source, incident_id, event_id.
    seed : the seed that reproduces it.
    """

    reports: pd.DataFrame
    events: pd.DataFrame
    truth: pd.DataFrame
    seed: int


def simulate_sources(
    events: pd.DataFrame,
    *,
    coverage: Sequence[float] = (0.7, 0.6, 0.5),
    seed: int,
    dependence: float = 0.0,
    max_lag_days: int = 2,
    location_km: float = 5.0,
    missing_coordinates_share: float = 0.1,
    unknown_actor_share: float = 0.15,
    exact_count_share: float = 0.7,
    overcount_share: float = 0.0,
) -> SimulatedSources:
    """Several sources see a true event set, each with its own coverage, lags, places and counts.

    Each source ``s`` records event ``e`` with probability ``logistic(logit(coverage[s]) +
    dependence * z_e)``, ``z_e ~ N(0, 1)`` shared by all sources: with `dependence` 0 the
    sources are independent; above 0 they tend to record the same (salient) events, which
    is what breaks capture-recapture. A recorded event is reported with:

    - its date moved 0..`max_lag_days` days later (a report's lag; multi-day events keep their span);
    - its coordinates moved by a random direction and a distance uniform on 0..`location_km`
      (or missing with `missing_coordinates_share`, then only the region is given);
    - the perpetrator as an alias spelling (normalized), or "Unknown" with `unknown_actor_share`;
    - deaths: the true count with probability `exact_count_share`; otherwise an incomplete
      count (each death confirmed with probability 0.75), except a share `overcount_share`
      of all reports that overcount instead (each death counted again with probability 0.25):
      monitors report the deaths they confirmed, so by default they undercount, never
      invent; the reported figure is low = best = high ("at least" reports in `events` keep
      an unknown high);
    - a source-specific id; no notes.
    """
    rng = np.random.default_rng(seed)
    events = events.reset_index(drop=True)
    n = len(events)
    salience = rng.normal(size=n)
    parts, truth = [], []
    for k, share in enumerate(coverage):
        if not 0 < share < 1:
            raise SimulationError(f"coverage must be in (0, 1), got {share}")
        p = 1 / (1 + np.exp(-(np.log(share / (1 - share)) + dependence * salience)))
        seen = np.flatnonzero(rng.random(n) < p)
        name = f"S{k + 1}"
        rep = events.iloc[seen].copy()
        lag = pd.to_timedelta(rng.integers(0, max_lag_days + 1, len(rep)), unit="D")
        rep["date_start"] = rep["date_start"] + lag
        rep["date_end"] = rep["date_end"] + lag
        angle = rng.uniform(0, 2 * np.pi, len(rep))
        dist = rng.uniform(0, location_km, len(rep)) / _KM_PER_DEGREE
        lat = rep["latitude"].to_numpy() + dist * np.sin(angle)
        lon = rep["longitude"].to_numpy() + dist * np.cos(angle) / np.cos(
            np.radians(rep["latitude"].to_numpy())
        )
        located = rng.random(len(rep)) >= missing_coordinates_share
        rep["latitude"] = np.round(np.where(located, lat, np.nan), 4)
        rep["longitude"] = np.round(np.where(located, lon, np.nan), 4)
        unknown = rng.random(len(rep)) < unknown_actor_share
        rep["actor"] = rep["actor"].where(~unknown, "Unknown").astype("str")
        rep["actor_raw"] = rep["actor"]
        deaths = _disagreeing_counts(
            rng, rep["fatalities_best"].to_numpy("int64", na_value=0), exact_count_share, overcount_share
        )
        at_least = rep["fatalities_high"].isna().to_numpy()
        known = rep["fatalities_best"].notna().to_numpy()
        rep["fatalities_best"] = pd.arrays.IntegerArray(deaths, ~known)
        rep["fatalities_low"] = pd.arrays.IntegerArray(deaths, ~known)
        rep["fatalities_high"] = pd.arrays.IntegerArray(deaths, ~known | at_least)
        rep["source"] = name
        ids = [f"{name}-{i:08d}" for i in rng.permutation(len(rep))]
        rep["incident_id"] = pd.array(ids, dtype="str")
        rep["notes"] = pd.array([None] * len(rep), dtype="str")
        parts.append(rep)
        truth.append(
            pd.DataFrame(
                {"source": name, "incident_id": ids, "event_id": events["incident_id"].to_numpy()[seen]}
            )
        )
    reports = IncidentSchema.validate(pd.concat(parts, ignore_index=True))
    return SimulatedSources(reports, events, pd.concat(truth, ignore_index=True), seed)


def _disagreeing_counts(rng, true: np.ndarray, exact_share: float, overcount_share: float) -> np.ndarray:
    draw = rng.random(len(true))
    over = draw < overcount_share
    exact = ~over & (draw < overcount_share + exact_share)
    under = ~over & ~exact
    out = true.copy()
    out[under] = rng.binomial(true[under], 0.75)
    out[over] = true[over] + rng.binomial(true[over], 0.25)
    return out


def perturbed_copy(
    incidents: pd.DataFrame,
    *,
    seed: int,
    source: str = "COPY",
    drop_share: float = 0.2,
    max_shift_days: int = 2,
    max_jitter_km: float = 10.0,
    count_noise: float = 0.3,
    actor_spellings: Mapping[str, Sequence[str]] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A perturbed copy of a real table with a known answer, for measuring matching.

    `drop_share` of the rows are dropped; the others get: dates moved by 0..`max_shift_days`
    days either way (only one-day dates; coarser dates keep their span, so the move stays
    within the precision); coordinates moved by up to `max_jitter_km` km; each count scaled
    by a factor uniform on [1 - count_noise, 1 + count_noise] and rounded (bounds kept in
    order); new ids; actors written in another spelling of the alias table
    (`actor_spellings`, default a few ISIS spellings) and `source` renamed.
    Returns (copy, truth) with truth columns incident_id (original) and copy_id.
    """
    rng = np.random.default_rng(seed)
    keep = np.flatnonzero(rng.random(len(incidents)) >= drop_share)
    copy = incidents.iloc[keep].reset_index(drop=True).copy()
    one_day = copy["date_end"].eq(copy["date_start"]).to_numpy()
    shift = pd.to_timedelta(
        np.where(one_day, rng.integers(-max_shift_days, max_shift_days + 1, len(copy)), 0), unit="D"
    )
    copy["date_start"] = copy["date_start"] + shift
    copy["date_end"] = copy["date_end"] + shift
    angle = rng.uniform(0, 2 * np.pi, len(copy))
    dist = max_jitter_km * np.sqrt(rng.uniform(0, 1, len(copy))) / _KM_PER_DEGREE
    copy["latitude"] = (copy["latitude"] + dist * np.sin(angle)).clip(-90, 90)
    copy["longitude"] = (
        copy["longitude"] + dist * np.cos(angle) / np.cos(np.radians(copy["latitude"]))
    ).clip(-180, 180)
    factor = rng.uniform(1 - count_noise, 1 + count_noise, len(copy))
    for measure in ("fatalities", "injuries"):
        cols = [f"{measure}_{b}" for b in ("low", "best", "high")]
        scaled = [np.round(copy[c].astype("Float64") * factor).astype("Int64") for c in cols]
        for c, values in zip(cols, scaled, strict=True):
            copy[c] = values
    spellings = actor_spellings or {
        "ISIS": ["ISIL", "Daesh", "Islamic State of Iraq and the Levant (ISIL)", "IS"]
    }
    for name, options in spellings.items():
        for column in ("actor", "target"):
            hit = copy[column].eq(name).fillna(False).to_numpy()
            copy.loc[hit, column] = np.array(options, dtype=object)[rng.integers(0, len(options), hit.sum())]
    copy["actor_raw"] = copy["actor"]
    copy["source"] = source
    copy_ids = [f"{source}-{i:07d}" for i in rng.permutation(len(copy))]
    truth = pd.DataFrame({"incident_id": incidents["incident_id"].to_numpy()[keep], "copy_id": copy_ids})
    copy["incident_id"] = pd.array(copy_ids, dtype="str")
    return IncidentSchema.validate(copy), truth
