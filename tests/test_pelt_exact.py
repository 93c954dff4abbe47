"""PELT is exact: its penalised objective equals a brute-force optimal partitioning's.

For every cost registered in changepoints.costs.COSTS (so a cost added later is
covered without touching this file) and every minimum segment length 1..5,
PELT's optimum is compared with an O(n^2) dynamic programme over all
partitions written here, with the same cost, penalty, per-segment log-length
term and minimum segment length, on 1,000 short random series per cost
(ties, constant stretches, zeros for counts) and a hypothesis property. The joint
(multivariate) cost, a weighted sum of such costs over columns, is checked the same way
with random mixes of the column costs and random weights.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from casualtystats.changepoints import detect_change_points
from casualtystats.changepoints.costs import COSTS, Joint
from casualtystats.changepoints.costs.kernel import COLUMN_KINDS
from casualtystats.changepoints.detection.pelt import pelt

MIN_SIZES = (1, 2, 3, 4, 5)
SERIES_PER_COST = 1000


def random_real(rng: np.random.Generator, n: int) -> np.ndarray:
    """Level shifts, trends and noise of random sizes, often rounded so that values tie."""
    kind = rng.integers(5)
    n_seg = int(rng.integers(1, 4))
    levels = np.repeat(rng.normal(0, 3, n_seg), -(-n // n_seg))[:n]
    y = levels + rng.normal(0, rng.choice([0.1, 1.0, 3.0]), n)
    if kind == 1:
        y += rng.normal(0, 0.5) * np.arange(n)
    if kind == 2:  # coarse resolution: long runs of identical values
        y = np.round(y / 2.0)
    if kind == 3:  # small integers: many ties
        y = rng.integers(-2, 3, n).astype(float)
    if kind == 4:  # constant stretches inside noise
        y[: n // 2] = y[0]
    return y


def random_counts(rng: np.random.Generator, n: int) -> np.ndarray:
    """Poisson / negative binomial counts with rate changes, zeros and isolated spikes."""
    n_seg = int(rng.integers(1, 4))
    rates = np.repeat(rng.choice([0.0, 0.3, 1.0, 4.0, 15.0], n_seg), -(-n // n_seg))[:n]
    size = rng.choice([0.5, 2.0, 1e6])
    y = rng.negative_binomial(size, size / (size + rates)).astype(float)
    if rng.random() < 0.2:
        y[rng.integers(n)] += rng.integers(10, 60)
    return y


GENERATORS = {"real": random_real, "counts": random_counts}


def random_input(cls, rng: np.random.Generator, n: int):
    """Valid input for a fresh `cls()`: by its `data` kind, or its own `random_input` hook."""
    if hasattr(cls, "random_input"):
        return cls.random_input(rng, n)
    assert cls.data in GENERATORS, f"{cls.__name__}.data={cls.data!r}: give the class a random_input(rng, n)"
    return GENERATORS[cls.data](rng, n)


def cost_matrix(cost) -> np.ndarray:
    """C[t, s] = cost of y[t:s] for every segment the cost can price (inf elsewhere)."""
    n = cost.n
    c = np.full((n + 1, n + 1), np.inf)
    for t in range(n):
        for s in range(t + max(cost.min_size, 1), n + 1):
            c[t, s] = cost.error(t, s)
    return c


def brute_force(c: np.ndarray, penalty: float, length_weight: float, min_size: int) -> float:
    """Optimal penalised cost over all partitions into segments of >= min_size: O(n^2) DP,
    vectorised over the start of the last segment."""
    n = c.shape[0] - 1
    f = np.full(n + 1, np.inf)
    f[0] = 0.0
    for s in range(min_size, n + 1):
        t = np.arange(0, s - min_size + 1)
        f[s] = np.min(f[t] + c[t, s] + penalty + length_weight * np.log(s - t))
    return float(f[n])


def objective(c: np.ndarray, cuts: list[int], penalty: float, length_weight: float) -> float:
    """Penalised cost of the partition with change points `cuts`."""
    bounds = [0, *cuts, c.shape[0] - 1]
    return sum(
        c[a, b] + penalty + length_weight * math.log(b - a)
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    )


def check_exact(cost, penalty: float, length_weight: float, min_size: int, c: np.ndarray) -> bool:
    """PELT's optimum equals the brute force's, and its change points attain it."""
    cuts, trace = pelt(cost, penalty, min_size, length_weight)
    m = max(min_size, cost.min_size)
    best = brute_force(c, penalty, length_weight, m)
    if not math.isfinite(best):  # too short for one segment of the minimum length
        return cuts == [] and not math.isfinite(trace[-1])
    tol = 1e-9 * (abs(best) + penalty + 1.0)
    assert all(b - a >= m for a, b in zip([0, *cuts], [*cuts, cost.n], strict=True)), cuts
    return abs(trace[-1] - best) <= tol and abs(objective(c, cuts, penalty, length_weight) - best) <= tol


def exactness_failures(costs, rng, largest_penalty: float) -> list[tuple]:
    """(series, n, min_size, penalty, length weight) wherever PELT misses the brute force's optimum,
    over `costs` (each drawn before its penalties) and every min_size; penalties from tiny (many
    changes) to `largest_penalty` (none), on each cost's own scale."""
    failures = []
    for i, cost in enumerate(costs):
        c = cost_matrix(cost)
        penalty = cost.scale * float(np.exp(rng.uniform(math.log(0.2), math.log(largest_penalty))))
        length_weight = cost.scale * float(rng.choice([0.0, 0.0, 1.0, 3.0]))
        for min_size in MIN_SIZES:
            if not check_exact(cost, penalty, length_weight, min_size, c):
                failures.append((i, cost.n, min_size, penalty, length_weight))
    return failures


@pytest.mark.parametrize("name", sorted(COSTS))
def test_pelt_equals_brute_force_for_every_cost_and_min_size(name):
    cls = COSTS[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    costs = (cls().fit(random_input(cls, rng, int(rng.integers(6, 22)))) for _ in range(SERIES_PER_COST))
    failures = exactness_failures(costs, rng, 40.0)
    assert not failures, (
        f"{name}: PELT differs from the brute force in {len(failures)} cases, e.g. {failures[:5]}"
    )


@settings(max_examples=150, deadline=None)
@given(
    name=hs.sampled_from(sorted(COSTS)),
    values=hs.lists(hs.integers(0, 6), min_size=2, max_size=25),
    seed=hs.integers(0, 2**32 - 1),
    min_size=hs.integers(1, 5),
    penalty=hs.floats(0.0, 50.0),
    length_weight=hs.sampled_from([0.0, 1.0]),
)
def test_pelt_equals_brute_force_property(name, values, seed, min_size, penalty, length_weight):
    cls = COSTS[name]
    if cls.data in GENERATORS:  # small non-negative integers suit both kinds; hypothesis shrinks them
        y = np.array(values, dtype=float)
    else:
        y = random_input(cls, np.random.default_rng(seed), len(values))
    cost = cls().fit(y)
    assert check_exact(cost, penalty, length_weight, min_size, cost_matrix(cost))


def test_detect_change_points_returns_the_optimum_with_a_numeric_penalty():
    rng = np.random.default_rng(5)
    for _ in range(50):
        y = random_counts(rng, 30)
        cp = detect_change_points(y, cost="poisson", penalty=3.0, min_size=3)
        c = cost_matrix(cp.cost_model)
        assert objective(c, cp.locations, 3.0, 0.0) == pytest.approx(brute_force(c, 3.0, 0.0, 3), abs=1e-9)


#: the costs of one series that a joint cost can sum (a cost added to COSTS later is covered)
COLUMN_COSTS = sorted(name for name, cls in COSTS.items() if cls.kind in COLUMN_KINDS)


def random_joint(rng: np.random.Generator, n: int, names=None) -> Joint:
    """A joint cost of 2-3 random column costs fitted to input of each one's kind, with random
    weights (long-run factors 1-4): columns change at different places and on different scales."""
    names = rng.choice(COLUMN_COSTS, size=int(rng.integers(2, 4))) if names is None else names
    columns = [COSTS[name]() for name in names]
    cost = Joint(columns).fit(np.column_stack([random_input(type(c), rng, n) for c in columns]))
    cost.set_weights(rng.uniform(1.0, 4.0, len(columns)))
    return cost


def test_joint_cost_is_the_weighted_sum_of_its_columns_costs():
    rng = np.random.default_rng(11)
    for _ in range(50):
        cost = random_joint(rng, 30)
        a, b = sorted(rng.choice(np.arange(31), 2, replace=False))
        b = max(b, a + cost.min_size)
        expected = sum(c.error(a, b) / (c.scale * f) for c, f in zip(cost.columns, cost.factors, strict=True))
        assert cost.error(a, b) == pytest.approx(expected, rel=1e-12, abs=1e-9)
        assert cost.n_params == sum(c.n_params for c in cost.columns)
        assert cost.min_size == max(c.min_size for c in cost.columns)


@pytest.mark.parametrize("part", range(4))  # four parts of SERIES_PER_COST series, run in parallel
def test_pelt_equals_brute_force_for_joint_costs_and_every_min_size(part):
    rng = np.random.default_rng([part, 2026])
    costs = (random_joint(rng, int(rng.integers(6, 22))) for _ in range(SERIES_PER_COST // 4))
    failures = exactness_failures(costs, rng, 80.0)  # a joint cost's scale is 1
    assert not failures, (
        f"joint: PELT differs from the brute force in {len(failures)} cases, e.g. {failures[:3]}"
    )


@settings(max_examples=100, deadline=None)
@given(
    names=hs.lists(hs.sampled_from(COLUMN_COSTS), min_size=2, max_size=3),
    n=hs.integers(2, 20),
    seed=hs.integers(0, 2**32 - 1),
    min_size=hs.integers(1, 5),
    penalty=hs.floats(0.0, 80.0),
    length_weight=hs.sampled_from([0.0, 1.0]),
)
def test_pelt_equals_brute_force_property_for_joint_costs(names, n, seed, min_size, penalty, length_weight):
    cost = random_joint(np.random.default_rng(seed), n, names)
    assert check_exact(cost, penalty, length_weight, min_size, cost_matrix(cost))
