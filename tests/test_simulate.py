"""The simulator: reproducible, in the canonical schema, and drawing from the rates it claims."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from casualtystats.aggregate import weekly_panel
from casualtystats.schema import INCIDENT_COLUMNS, IncidentSchema
from casualtystats.simulate import (
    GOVERNORATES,
    SAMPLE_SEED,
    SimulationError,
    simulate_incidents,
    write_sample,
)

DATASETS = Path(__file__).resolve().parents[1] / "datasets"

# Monday 2010-01-04 .. Sunday 2021-07-04: 600 whole weeks, two changes per region.
START, END = "2010-01-04", "2021-07-04"
CHANGES = [
    {"actor": "ISIS", "region": None, "date": "2013-10-09", "ratio": 0.25},
    {"actor": "ISIS", "region": "Raqqa", "date": "2018-05-01", "rate_after": 3.0},
]
OVERDISPERSION = 0.5


@pytest.fixture(scope="module")
def simulated():
    return simulate_incidents(
        regions=["Anbar", "Raqqa"],
        actors={"ISIS": 4.0},
        start=START,
        end=END,
        change_points=CHANGES,
        seed=7,
        overdispersion=OVERDISPERSION,
        unknown_actor_share=0.0,
    )


def weekly_counts(sim) -> pd.DataFrame:
    """Observed weekly incidents and fatalities beside the expected ones."""
    panel = weekly_panel(sim.incidents, by=["actor", "region"], start=START, end=END)
    return sim.weekly_rates.merge(panel, on=["week", "actor", "region"], validate="one_to_one")


def test_truth_lists_the_requested_changes(simulated):
    truth = simulated.truth
    assert list(truth.columns) == ["actor", "region", "date", "rate_before", "rate_after", "direction"]
    rows = {(r.region, r.date.strftime("%Y-%m-%d")): r for r in truth.itertuples()}
    # Changes apply from the Monday of the week containing the date.
    assert rows["Anbar", "2013-10-07"].rate_after == 1.0
    assert rows["Raqqa", "2013-10-07"].direction == "down"
    up = rows["Raqqa", "2018-04-30"]
    assert (up.rate_before, up.rate_after, up.direction) == (1.0, 3.0, "up")
    assert len(truth) == 3
    rates = simulated.weekly_rates.set_index(["region", "week"])["expected_incidents"]
    assert rates["Raqqa", pd.Timestamp("2018-04-23")] == 1.0
    assert rates["Raqqa", pd.Timestamp("2018-04-30")] == 3.0


def test_segment_totals_match_the_requested_rates(simulated):
    """Exact test: the sum of m iid NB(mean mu, size k) counts is NB(mean m*mu, size m*k)."""
    weeks = weekly_counts(simulated)
    size = 1 / OVERDISPERSION
    p_values = []
    for (_, rate), segment in weeks.groupby(["region", "expected_incidents"]):
        m, total = len(segment), int(segment["incidents"].sum())
        dist = stats.nbinom(m * size, size / (size + rate))
        p_values.append(min(1.0, 2 * min(dist.cdf(total), dist.sf(total - 1))))
    assert len(p_values) == 5  # Anbar: 4 -> 1; Raqqa: 4 -> 1 -> 3
    assert min(p_values) > 0.01 / len(p_values)  # Bonferroni at 1%


def test_weekly_counts_are_negative_binomial_not_poisson(simulated):
    """Chi-square goodness of fit of the weekly counts in the long first segment."""
    weeks = weekly_counts(simulated)
    counts = weeks.loc[weeks["expected_incidents"] == 4.0, "incidents"].to_numpy()
    size = 1 / OVERDISPERSION
    candidates = {
        "negbin": stats.nbinom(size, size / (size + 4.0)),
        "poisson": stats.poisson(4.0),
    }
    edges = np.arange(0, 11)  # bins 0, 1, ..., 9, and 10 or more
    observed = np.append(np.bincount(np.minimum(counts, 10), minlength=11)[:10], (counts >= 10).sum())
    p = {}
    for name, dist in candidates.items():
        probs = np.append(dist.pmf(edges[:-1]), dist.sf(9))
        p[name] = stats.chisquare(observed, probs * len(counts)).pvalue
    assert p["negbin"] > 0.01
    assert p["poisson"] < 1e-6  # the test can tell the difference


def test_fatalities_match_the_expected_rate(simulated):
    weeks = weekly_counts(simulated)
    expected = weeks["expected_fatalities"].sum()
    # Compound NB of Poisson-lognormal fatalities (defaults: mean 2, log-sd 1.5).
    mean_f, var_f = 2.0, 2.0 + 4.0 * (np.exp(1.5**2) - 1)
    mu = weeks["expected_incidents"]
    variance = (mu * var_f + (mu + OVERDISPERSION * mu**2) * mean_f**2).sum()
    z = (weeks["fatalities_best"].sum() - expected) / np.sqrt(variance)
    assert abs(z) < 3.5


def test_reporting_traits(simulated):
    inc = simulated.incidents
    n = len(inc)
    assert list(inc.columns) == INCIDENT_COLUMNS
    IncidentSchema.validate(inc)
    # "At least N": low = best, high unknown, for ~20% of incidents with a death.
    killed = inc[inc["fatalities_best"] > 0]
    at_least = killed["fatalities_high"].isna()
    assert (killed.loc[at_least, "fatalities_low"] == killed.loc[at_least, "fatalities_best"]).all()
    assert stats.binomtest(int(at_least.sum()), len(killed), 0.2).pvalue > 0.001
    assert stats.binomtest(int(inc["injuries_best"].isna().sum()), n, 0.3).pvalue > 0.001
    assert stats.binomtest(int(inc["latitude"].isna().sum()), n, 0.1).pvalue > 0.001
    # Injuries rise with fatalities; most incidents are small, a few are massacres.
    known = inc.dropna(subset=["injuries_best"])
    assert stats.spearmanr(known["fatalities_best"], known["injuries_best"]).statistic > 0.3
    assert inc["fatalities_best"].median() <= 1 and inc["fatalities_best"].max() >= 50
    # Coordinates lie around the governorate's centroid.
    for region, rows in inc.dropna(subset=["latitude"]).groupby("region"):
        _, lat, lon = GOVERNORATES[region]
        assert (rows["latitude"] - lat).abs().max() < 1.5 and (rows["longitude"] - lon).abs().max() < 1.5
    assert set(inc["date_precision"]) == {"day", "range"}


def test_unknown_perpetrators():
    sim = simulate_incidents(
        regions=["Homs"],
        actors={"ISIS": 5.0},
        start="2020-01-01",
        end="2021-12-31",
        seed=3,
        unknown_actor_share=0.25,
    )
    unknown = sim.incidents["actor"] == "Unknown"
    assert set(sim.incidents["actor"]) == {"ISIS", "Unknown"}
    assert stats.binomtest(int(unknown.sum()), len(unknown), 0.25).pvalue > 0.001
    assert not sim.incidents.loc[unknown, "actor_raw"].str.contains("Islamic|IS", regex=True).any()


def test_seeded_and_reproducible():
    kwargs = dict(regions=["Idlib"], actors=["HTS"], start="2022-01-01", end="2022-06-30")
    a, b = simulate_incidents(seed=1, **kwargs), simulate_incidents(seed=1, **kwargs)
    pd.testing.assert_frame_equal(a.incidents, b.incidents)
    assert not simulate_incidents(seed=2, **kwargs).incidents.equals(a.incidents)
    assert "true change points: 0" in a.summary()


def test_custom_regions_and_partial_weeks():
    sim = simulate_incidents(
        regions={"Gao": ("Mali", 16.3, -0.05)},
        actors={"IS-Sahel": 2.0},
        start="2024-01-03",  # a Wednesday: the first week has 5 of its 7 days
        end="2024-03-31",
        seed=5,
    )
    assert sim.weekly_rates["expected_incidents"].iloc[0] == pytest.approx(2.0 * 5 / 7)
    assert sim.incidents["date_start"].min() >= pd.Timestamp("2024-01-03")
    assert set(sim.incidents["country"]) == {"Mali"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"regions": ["Atlantis"]}, "no centroid"),
        ({"change_points": [{"actor": "ISIS", "date": "2030-01-01", "ratio": 2}]}, "not inside"),
        ({"change_points": [{"actor": "HTS", "date": "2020-06-01", "ratio": 2}]}, "matches no"),
        ({"change_points": [{"actor": "ISIS", "date": "2020-06-01"}]}, "exactly one"),
        ({"end": "2019-01-01"}, "before start"),
    ],
)
def test_inconsistent_requests_raise(kwargs, message):
    args = dict(regions=["Raqqa"], actors=["ISIS"], start="2020-01-01", end="2020-12-31", seed=0) | kwargs
    with pytest.raises(SimulationError, match=message):
        simulate_incidents(**args)


# --- the shipped data sets ----------------------------------------------------------


def test_shipped_sample_is_reproducible(tmp_path):
    sample = write_sample(tmp_path, seed=SAMPLE_SEED)
    for name in ("incidents_sample.csv", "sample_truth.csv"):
        assert (tmp_path / name).read_bytes() == (DATASETS / name).read_bytes(), f"{name} is stale"
    truth = sample.truth
    assert {"up", "down"} <= set(truth["direction"])
    assert set(sample.incidents["actor"]) >= {"ISIS", "HTS", "SDF", "Unknown"}
    assert sample.incidents["date_start"].min() >= pd.Timestamp("2014-01-01")
    assert sample.incidents["date_end"].max() <= pd.Timestamp("2026-10-31")


@pytest.mark.parametrize("name", ["incidents_sample.csv", "reported_incidents.csv"])
def test_shipped_files_load_cleanly(name):
    from casualtystats import load_incidents

    result = load_incidents(DATASETS / name)
    assert len(result.quarantine) == 0, result.quarantine
    assert len(result.incidents) == len(pd.read_csv(DATASETS / name))
    assert len(result.unmatched_regions) == 0


def test_reported_incidents_start_with_the_seed_article():
    from casualtystats import load_incidents

    reported = load_incidents(DATASETS / "reported_incidents.csv").incidents
    assert 6 <= len(reported) <= 12
    seed = reported.iloc[0]
    assert (seed["region"], seed["actor"], seed["source"]) == ("Raqqa", "ISIS", "SOHR")
    assert (seed["fatalities_low"], seed["fatalities_best"]) == (10, 10) and pd.isna(seed["fatalities_high"])
    assert seed["injuries_best"] == 6
    assert reported["notes"].notna().all()  # every row cites its source
