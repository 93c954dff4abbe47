"""`casualtystats validate FILE`: summary on stdout, quarantine CSV written, exit 2 with one line for unreadable files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from casualtystats.cli import main

FIXTURES = Path(__file__).parent / "fixtures"


def test_validate_prints_summary_and_writes_quarantine(tmp_path, capsys):
    out = tmp_path / "q" / "quarantine.csv"
    assert main(["validate", str(FIXTURES / "bad" / "values.csv"), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "accepted                 4" in printed and "quarantined             12" in printed
    assert f"12 rows written to {out}" in printed
    quarantine = pd.read_csv(out)
    assert list(quarantine.columns[:3]) == ["file", "line", "reasons"]
    assert quarantine["line"].tolist() == [3, 5, 6, 7, 8, 9, 11, 14, 16, 17, 18, 19]
    assert not list(out.parent.glob(".*.tmp"))


def test_validate_default_output_in_the_working_folder_only_when_rows_are_quarantined(
    tmp_path, monkeypatch, capsys
):
    data, work = tmp_path / "data", tmp_path / "work"
    data.mkdir(), work.mkdir()
    monkeypatch.chdir(work)
    clean = data / "ged.csv"
    clean.write_bytes((FIXTURES / "ucdp_ged_hdx_minimal.csv").read_bytes())
    assert main(["validate", str(clean), "--source", "ucdp"]) == 0
    assert "UCDP GED" in capsys.readouterr().out
    assert not list(data.glob("*quarantine*")) and not list(work.glob("*quarantine*"))
    bad = data / "values.csv"
    bad.write_bytes((FIXTURES / "bad" / "values.csv").read_bytes())
    assert main(["validate", str(bad)]) == 0
    assert (work / "values.quarantine.csv").exists() and not list(data.glob("*quarantine*"))


def test_unwritable_output_is_one_line_before_any_work(tmp_path, capsys):
    folder = tmp_path / "out"
    folder.mkdir()
    blocker = tmp_path / "file"
    blocker.write_text("")
    for command in (
        ["validate", str(FIXTURES / "bad" / "values.csv"), "-o", str(folder)],
        ["validate", str(FIXTURES / "bad" / "values.csv"), "-o", str(blocker / "q.csv")],
        ["report", str(FIXTURES / "bad" / "values.csv"), "-o", str(blocker / "r.html")],
    ):
        assert main(command) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and len(captured.err.strip().splitlines()) == 1, command
        assert "Traceback" not in captured.err


def test_unreadable_file_exits_2_with_one_line(capsys):
    path = FIXTURES / "bad" / "truncated_quote.csv"
    assert main(["validate", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "truncated" in lines[0]
    assert "Traceback" not in captured.err


def test_quarantine_csv_cannot_run_formulas_and_keeps_raw_cells(tmp_path, capsys):
    """CSV injection: cells a spreadsheet would execute are neutralised; Parquet keeps them exactly."""
    evil = ["+cmd|' /C calc'!A0", "@SUM(1+1)", "=1+1", "-2+3+cmd|' /C calc'!A0", "\t=1"]
    path = tmp_path / "evil.csv"
    rows = [f'e{i},TEST,2024-01-05,Iraq,Anbar,ISIS,"{cell}"' for i, cell in enumerate(evil)]
    rows.append("plain,TEST,2024-01-05,Iraq,Anbar,ISIS,-3")
    path.write_text("incident_id,source,date_start,country,region,actor,fatalities_best\n" + "\n".join(rows))
    out = tmp_path / "q.csv"
    assert main(["validate", str(path), "-o", str(out)]) == 0
    assert "raw cells exactly" in capsys.readouterr().out
    written = pd.read_csv(out, dtype=str, keep_default_na=False)
    cells = written["fatalities_best"].tolist()
    assert cells[: len(evil)] == ["'" + c for c in evil]  # shown as text by any spreadsheet
    assert cells[-1] == "-3"  # a plain number is not a formula
    for column in written.columns:  # no cell anywhere starts a formula
        assert not written[column].str.match(r"^[=+@\t\r]").any(), column
    raw = pd.read_parquet(out.with_suffix(".parquet"))
    assert raw["fatalities_best"].tolist() == [*evil, "-3"]


def test_neutralise_formulas_touches_only_risky_text():
    from casualtystats.outputs import neutralise_formulas

    frame = pd.DataFrame({"text": ["\r=1", "-1.5e3", "a=b", None], "number": [-1, 2, 3, 4]})
    out = neutralise_formulas(frame)
    assert out["text"].tolist()[:3] == ["'\r=1", "-1.5e3", "a=b"] and pd.isna(out["text"].iloc[3])
    assert out["number"].tolist() == [-1, 2, 3, 4]
    assert frame["text"].iloc[0] == "\r=1"  # the input is not modified


def test_write_atomic_removes_temporaries_a_killed_build_left(tmp_path):
    import os
    import subprocess
    import sys

    from casualtystats.outputs import remove_stale_temporaries, write_atomic

    out = tmp_path / "report.html"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    killed = tmp_path / f".report.html.{dead.stdout.strip()}.abc123.tmp"  # left by SIGKILL
    killed.write_text("half a report")
    running = tmp_path / f".report.html.{os.getpid()}.def456.tmp"  # a build still in progress
    running.write_text("being written")
    old = tmp_path / ".report.html.xyz789.tmp"  # the format before process ids, long ago
    old.write_text("old")
    os.utime(old, (0, 0))
    other = tmp_path / ".other.html.1.abc.tmp"
    other.write_text("another output's")
    write_atomic(out, ["<html></html>"])
    assert out.read_text() == "<html></html>"
    assert not killed.exists() and not old.exists()
    assert running.exists() and other.exists()
    assert remove_stale_temporaries(out) == []


def test_version(capsys):
    from casualtystats import __version__

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.strip() == f"casualtystats {__version__}"


def test_validate_takes_several_files_as_a_shell_glob_gives_them(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    files = [str(FIXTURES / "acled_export_2019.csv"), str(FIXTURES / "acled_export_2024.csv")]
    assert main(["validate", *files]) == 0
    printed = capsys.readouterr().out
    assert all(f"{name}  [" in printed for name in files)
    assert "input rows              12" in printed  # 8 + 4
