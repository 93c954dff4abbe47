"""TCPD metrics (van den Burg & Williams 2020): F1 with margin and covering."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from casualtystats.changepoints.metrics import covering, f_measure, partition

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


def test_f1_hand_example():
    annotations = {"a": [10, 20], "b": [11]}
    # prediction {0, 12, 40}: union {0, 10, 11, 20}; 12 matches one of 10/11 -> precision 2/3
    # recall: a: {0, 10} of {0, 10, 20} = 2/3; b: {0, 11} of {0, 11} = 1 -> 5/6
    p, r = 2 / 3, 5 / 6
    assert f_measure(annotations, [12, 40]) == pytest.approx(2 * p * r / (p + r))
    # margin 1: 12 still matches 11, not 10 -> precision 2/3, recall (1/3 + 1) / 2 = 2/3
    assert f_measure(annotations, [12, 40], margin=1) == pytest.approx(2 / 3)


def test_covering_hand_example():
    assert partition([3], 6) == [{0, 1, 2}, {3, 4, 5}]
    assert covering({"a": [3]}, [3], 6) == 1.0
    # truth {0..2},{3..5}; prediction one segment: each true segment overlaps 3/6
    assert covering({"a": [3]}, [], 6) == pytest.approx(0.5)


@pytest.mark.shared
def test_metrics_reproduce_published_zero_scores(tcpd_path):
    from tcpd import score

    published = json.loads((tcpd_path / "paper_default_scores.json").read_text())
    ours = score(tcpd_path, detector=lambda y: [])
    for name, r in ours.items():
        assert round(r["f1"], 4) == published["f1"][name]["zero"], name
        assert round(r["cover"], 4) == published["cover"][name]["zero"], name


@pytest.mark.shared
def test_default_detector_beats_published_defaults_on_tcpd(tcpd_path):
    from tcpd import EXCLUDED_FROM_MEANS, score

    published = json.loads((tcpd_path / "paper_default_scores.json").read_text())
    ours = score(tcpd_path)
    names = [n for n in ours if n not in EXCLUDED_FROM_MEANS]
    assert len(names) == 16
    f1 = sum(ours[n]["f1"] for n in names) / len(names)
    cover = sum(ours[n]["cover"] for n in names) / len(names)
    binseg_f1 = sum(published["f1"][n]["binseg"] for n in names) / len(names)
    binseg_cover = sum(published["cover"][n]["binseg"] for n in names) / len(names)
    assert f1 > binseg_f1 and cover > binseg_cover
