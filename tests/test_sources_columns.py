"""`load_incidents(columns=...)` and `--column`: an analyst's own spreadsheet, named after the canonical columns."""

from __future__ import annotations

import pandas as pd
import pytest

from casualtystats import load_incidents
from casualtystats.cli import main
from casualtystats.errors import CasualtyStatsError, LoadError

OWN = (
    "Date of attack,Province,Group,Killed,Wounded,Nation\n"
    "2020-01-01,Baghdad,Daesh,4,2,Iraq\n"
    "2020-01-02,Anbar,ISIS,ten,1,Iraq\n"
    "2020-01-09,Ninewa,Unknown,0,,Iraq\n"
)
MAPPING = {
    "Date of attack": "date",
    " province ": "region",  # case and spaces ignored
    "Group": "actor",
    "Killed": "fatalities",
    "Wounded": "injuries_best",
    "Nation": "country",
}


@pytest.fixture
def own(tmp_path):
    path = tmp_path / "own.csv"
    path.write_text(OWN)
    return path


def test_own_columns_load_and_bad_cells_are_quarantined_under_their_own_name(own):
    result = load_incidents(own, columns=MAPPING)
    inc = result.incidents.sort_values("date_start")
    assert len(inc) + len(result.quarantine) == 3
    assert inc["region"].tolist() == ["Baghdad", "Ninawa"]  # alias table still applies
    assert inc["actor"].tolist() == ["ISIS", "Unknown"]
    assert inc["fatalities_best"].tolist() == [4, 0]
    assert inc["injuries_best"].isna().tolist() == [False, True]
    # the quarantine keeps the file's own header and says which of its columns failed
    assert "Killed" in result.quarantine.columns
    assert result.problems["column"].tolist() == ["fatalities_best (Killed)"]


def test_a_dataframe_in_memory_takes_the_same_mapping(own):
    frame = pd.read_csv(own, dtype=str)
    assert len(load_incidents(frame, columns=MAPPING).incidents) == 2


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"Killed": "deaths"}, "'deaths' is not a column of the casualtystats table"),
        ({"Killed": "fatalities", "Wounded": "fatalities"}, "more than one column is named 'fatalities'"),
        ({**MAPPING, "Kiled": "fatalities_high"}, "no file has a column 'kiled'"),
        (["Killed"], "maps file column names to canonical ones"),
    ],
)
def test_wrong_mappings_are_one_clear_error(own, mapping, message):
    with pytest.raises(CasualtyStatsError, match=message):
        load_incidents(own, columns=mapping)


def test_renaming_onto_a_column_the_file_has_is_an_error(tmp_path):
    path = tmp_path / "both.csv"
    path.write_text("date,country,region,Governorate,actor,fatalities\n2020-01-01,Iraq,,Anbar,ISIS,1\n")
    with pytest.raises(LoadError, match="'governorate' -> 'region', but the file already has that column"):
        load_incidents(path, columns={"Governorate": "region"})


def test_cli_column_flag(own, capsys, tmp_path):
    args = ["validate", str(own), "-o", str(tmp_path / "q.csv")]
    for name, canonical in MAPPING.items():
        args += ["--column", f"{name.strip()}={canonical}"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "accepted                 2" in out and "fatalities_best (Killed): not a number" in out
    assert main(["validate", str(own), "--column", "Kiled=fatalities"]) == 2
    assert "no file has a column 'kiled'" in capsys.readouterr().err
