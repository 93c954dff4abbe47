"""`casualtystats validate FILE`: summary on stdout, quarantine CSV written, exit 2 with one line for unreadable files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from casualtystats.cli import main

FIXTURES = Path(__file__).parent / "fixtures"


def test_validate_prints_summary_and_writes_quarantine(tmp_path, capsys):
    out = tmp_path / "q" / "quarantine.csv"
    assert main(["validate", str(FIXTURES / "bad" / "values.csv"), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "accepted                 3" in printed and "quarantined             12" in printed
    assert f"12 rows written to {out}" in printed
    quarantine = pd.read_csv(out)
    assert list(quarantine.columns[:3]) == ["file", "line", "reasons"]
    assert quarantine["line"].tolist() == [3, 5, 6, 7, 8, 9, 10, 11, 16, 17, 18, 19]
    assert not list(out.parent.glob(".*.tmp"))


def test_validate_default_output_next_to_file(tmp_path, capsys):
    path = tmp_path / "ged.csv"
    path.write_bytes((FIXTURES / "ucdp_ged_hdx_minimal.csv").read_bytes())
    assert main(["validate", str(path), "--source", "ucdp"]) == 0
    assert (tmp_path / "ged.quarantine.csv").exists()
    assert "UCDP GED" in capsys.readouterr().out


def test_unreadable_file_exits_2_with_one_line(capsys):
    path = FIXTURES / "bad" / "truncated_quote.csv"
    assert main(["validate", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "truncated" in lines[0]
    assert "Traceback" not in captured.err
