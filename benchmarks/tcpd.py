"""Accuracy of the default detect_change_points on the human-annotated series
of the Turing Change Point Dataset (van den Burg & Williams 2020), beside the
published default-experiment scores of binseg, pelt, bocpd and zero.

Reads ../shared/data/tcpd (never copied into the project). Every univariate
series except the simulated quality_control_* ones is scored; uk_coal_employ
(missing values) is shown but left out of the means, as in the paper.

    .venv/bin/python benchmarks/tcpd.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from casualtystats.changepoints import detect_change_points
from casualtystats.changepoints.metrics import covering, f_measure

TCPD = Path(__file__).resolve().parents[2] / "shared" / "data" / "tcpd"
PUBLISHED = ("binseg", "pelt", "bocpd", "zero")
EXCLUDED_FROM_MEANS = {"uk_coal_employ"}


def load_series(tcpd: Path = TCPD) -> dict[str, np.ndarray]:
    """Univariate, non-simulated TCPD series by name (None -> NaN)."""
    out = {}
    for path in sorted((tcpd / "datasets").glob("*.json")):
        data = json.loads(path.read_text())
        if data["name"].startswith("quality_control") or data["n_dim"] != 1:
            continue
        raw = data["series"][0]["raw"]
        out[data["name"]] = np.array([np.nan if v is None else v for v in raw], dtype=float)
    return out


def score(
    tcpd: Path = TCPD, detector=lambda y: detect_change_points(y).locations
) -> dict[str, dict[str, float]]:
    """F1 and cover of `detector` on every series."""
    annotations = json.loads((tcpd / "annotations.json").read_text())
    results = {}
    for name, y in load_series(tcpd).items():
        predicted = detector(y)
        results[name] = {
            "f1": f_measure(annotations[name], predicted),
            "cover": covering(annotations[name], predicted, len(y)),
            "n_cp": len(predicted),
        }
    return results


def main() -> int:
    if not TCPD.exists():
        print(f"needs {TCPD}", file=sys.stderr)
        return 1
    published = json.loads((TCPD / "paper_default_scores.json").read_text())
    ours = score()
    header = f"{'series':<17} {'#cp':>3} | {'F1 ours':>7} " + " ".join(f"{m:>6}" for m in PUBLISHED)
    header += f" | {'cov ours':>8} " + " ".join(f"{m:>6}" for m in PUBLISHED)
    print(header)
    print("-" * len(header))

    def fmt(v):
        return f"{v:6.3f}" if v is not None else f"{'-':>6}"

    for name, r in ours.items():
        row = f"{name:<17} {r['n_cp']:>3} | {r['f1']:7.3f} " + " ".join(
            fmt(published["f1"][name][m]) for m in PUBLISHED
        )
        row += f" | {r['cover']:8.3f} " + " ".join(fmt(published["cover"][name][m]) for m in PUBLISHED)
        print(row + ("   (not in means)" if name in EXCLUDED_FROM_MEANS else ""))
    names = [n for n in ours if n not in EXCLUDED_FROM_MEANS]
    print("-" * len(header))
    mean_row = f"{f'mean of {len(names)}':<17} {'':>3} | {np.mean([ours[n]['f1'] for n in names]):7.3f} "
    mean_row += " ".join(f"{np.mean([published['f1'][n][m] for n in names]):6.3f}" for m in PUBLISHED)
    mean_row += f" | {np.mean([ours[n]['cover'] for n in names]):8.3f} "
    mean_row += " ".join(f"{np.mean([published['cover'][n][m] for n in names]):6.3f}" for m in PUBLISHED)
    print(mean_row)
    print(
        "\nours = detect_change_points(values) with every default (cost='auto', penalty='auto', min_size=2);"
    )
    print("F1: margin 5, precision vs the union of annotators, recall averaged over annotators.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
