"""Each format's conventions mapped faithfully: ACLED, UCDP GED, GTD and the native table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from casualtystats import IncidentSchema, involving, load_incidents

FIXTURES = Path(__file__).parent / "fixtures"


def by_id(result) -> pd.DataFrame:
    return result.incidents.set_index("incident_id")


def test_acled_old_export_conventions():
    result = load_incidents(FIXTURES / "acled_export_2019.csv")
    inc = by_id(result)
    assert result.files["format"].tolist() == ["ACLED"]
    row = inc.loc["IRQ1001"]
    assert row["date_start"] == pd.Timestamp("2019-01-03") and row["date_precision"] == "day"
    assert (row["actor"], row["actor_raw"], row["target"]) == (
        "ISIS",
        "Islamic State (Iraq)",
        "Government of Iraq",
    )
    assert (row["fatalities_best"], row["fatalities_low"]) == (2, 2)
    assert pd.isna(row["fatalities_high"])
    assert inc["injuries_best"].isna().all()  # ACLED records no injuries: unknown, not 0
    assert (row["region"], row["admin2"], row["location"]) == ("Ninawa", "Mosul", "Mosul")
    assert inc.loc["IRQ1002", "date_precision"] == "week"
    everything = by_id(load_incidents(FIXTURES / "acled_export_2019.csv", all_events=True))
    assert everything.loc["IRQ1004", "date_precision"] == "month"
    assert pd.isna(everything.loc["IRQ1004", "target"])  # a protest has no actor2
    assert inc.loc["SYR2001", "region"] == "Deir ez-Zor" and inc.loc["SYR2002", "region"] == "Raqqa"
    assert inc.loc["SYR2002", "actor"] == "Unknown"  # ACLED's unidentified groups are unknown perpetrators
    assert inc.loc["NIG3001", "actor"] == "ISWAP" and inc.loc["AFG4001", "actor"] == "ISKP"
    # ACLED's `region` is a world region; it must not leak into the admin-1 region
    assert "Middle East" not in set(inc["region"])


def test_acled_events_that_are_not_political_violence_are_excluded_and_listed(tmp_path, capsys):
    """ACLED's own definition: disorder_type 'Political violence'; protests and strategic
    developments (an arrest) are counted and listed with their reason, never silently dropped."""
    from casualtystats.cli import main

    result = load_incidents(FIXTURES / "acled_export_2024.csv")
    assert sorted(result.incidents["incident_id"]) == ["IRQ90004", "SYR90001", "SYR90002"]
    assert result.quarantine.empty and result.n_input == 4
    assert result.excluded[["line", "event_id_cnty", "reason"]].values.tolist() == [
        [
            4,
            "IRQ90003",
            "not political violence (ACLED disorder_type Strategic developments; "
            "Strategic developments: Arrests)",
        ]
    ]
    assert result.files[["accepted", "quarantined", "excluded"]].values.tolist() == [[3, 0, 1]]
    # an export without disorder_type (before 2022) is judged by event and sub-event type
    old = tmp_path / "old.csv"
    pd.read_csv(FIXTURES / "acled_export_2019.csv").drop(columns="disorder_type").to_csv(old, index=False)
    assert load_incidents(old).excluded["reason"].tolist() == [
        "not political violence (ACLED Protests: Peaceful protest)"
    ]
    assert len(load_incidents(FIXTURES / "acled_export_2024.csv", all_events=True).incidents) == 4
    assert main(["validate", str(FIXTURES / "acled_export_2024.csv"), "-o", str(tmp_path / "q.csv")]) == 0
    printed = capsys.readouterr().out
    assert "excluded                 1" in printed and "Strategic developments: Arrests" in printed


def test_acled_iso_dates_and_text_inter_codes():
    inc = by_id(load_incidents(FIXTURES / "acled_export_2024.csv"))
    assert inc.loc["SYR90001", "date_start"] == pd.Timestamp("2024-03-15")
    assert inc.loc["SYR90002", "region"] == "Deir ez-Zor"
    isis = involving(inc.reset_index(), "ISIS")
    assert len(isis) == 3  # the arrest IRQ90003 is not an incident
    assert set(isis.loc[isis["role"].eq("target"), "incident_id"]) == {"IRQ90004"}
    assert (isis["actor"] == "ISIS").all()
    assert isis.set_index("incident_id").loc["IRQ90004", "target"] == "Government of Iraq"


def test_ucdp_global_release_columns_and_precision():
    inc = by_id(load_incidents(FIXTURES / "ucdp_ged_global_23.csv"))
    assert inc.index.tolist() == ["244657", "244658", "244659"]
    row = inc.loc["244657"]
    assert (row["fatalities_low"], row["fatalities_best"], row["fatalities_high"]) == (12, 12, 14)
    assert (row["actor"], row["target"], row["region"]) == ("Government of Syria", "ISIS", "Raqqa")
    one_sided = inc.loc["244658"]
    assert (one_sided["actor"], one_sided["target"], one_sided["event_type"]) == (
        "ISIS",
        "Civilians",
        "one-sided violence",
    )
    assert one_sided["date_precision"] == "month" and one_sided["date_end"] == pd.Timestamp("2017-08-31")
    assert inc.loc["244659", "date_precision"] == "range" and inc.loc["244659", "region"] == "Ninawa"
    assert inc["injuries_best"].isna().all()


def test_ucdp_hdx_release_lacking_columns():
    result = load_incidents(FIXTURES / "ucdp_ged_hdx_minimal.csv")
    inc = by_id(result)
    assert len(inc) == 3 and result.quarantine.empty
    assert inc.loc["5002", "region"] == "Kirkuk"  # At-Ta'mim, the old name
    assert inc.loc["5002", "date_precision"] == "year"
    assert inc.loc["5003", "date_precision"] == "week"
    assert inc.loc["5001", "region"] == "Anbar"


def test_ucdp_bound_contradicting_best_is_clamped_to_best_with_a_warning(tmp_path):
    text = (FIXTURES / "ucdp_ged_hdx_minimal.csv").read_text(encoding="utf-8")
    path = tmp_path / "ged.csv"
    path.write_text(text.replace(",20,25,30", ",26,25,24"), encoding="utf-8")
    result = load_incidents(path)
    row = by_id(result).loc["5002"]
    assert (row["fatalities_low"], row["fatalities_best"], row["fatalities_high"]) == (25, 25, 25)
    assert result.warnings["line"].tolist() == [4, 4]
    assert set(result.warnings["problem"]) == {"above best; set to best", "below best; set to best"}
    assert "repaired, kept" in result.summary()


def test_gtd_dates_unknowns_and_mapping():
    result = load_incidents(FIXTURES / "gtd_extract.csv")
    inc = by_id(result)
    assert result.quarantine.empty
    full = inc.loc["201401050001"]
    assert (full["actor"], full["target"], full["region"], full["location"]) == (
        "ISIS",
        "Police",
        "Anbar",
        "Fallujah",
    )
    assert (full["fatalities_best"], full["injuries_best"], full["event_type"]) == (3, 7, "Bombing/Explosion")
    # confirmed counts: the best is also the low; the high is not known
    assert (full["fatalities_low"], full["injuries_low"]) == (3, 7) and pd.isna(full["fatalities_high"])
    assert inc["fatalities_low"].equals(inc["fatalities_best"])
    assert full["notes"].startswith("01/05/2014: A suicide bomber")
    day_unknown = inc.loc["201402000001"]
    assert day_unknown["date_precision"] == "month"
    assert (day_unknown["date_start"], day_unknown["date_end"]) == (
        pd.Timestamp("2014-02-01"),
        pd.Timestamp("2014-02-28"),
    )
    assert pd.isna(day_unknown["fatalities_best"]) and pd.isna(
        day_unknown["injuries_best"]
    )  # blank: unknown, not 0
    month_unknown = inc.loc["201400000001"]
    assert month_unknown["date_precision"] == "year" and month_unknown["date_end"] == pd.Timestamp(
        "2014-12-31"
    )
    assert month_unknown["fatalities_best"] == 0  # a real zero stays zero
    ranged = inc.loc["201402170002"]
    assert ranged["date_precision"] == "range" and ranged["date_start"] == pd.Timestamp("2014-02-17")
    assert ranged["date_end"] == pd.Timestamp("2014-03-02")  # extended incident resolved on 2 March
    assert ranged["actor"] == "Unknown"
    coded_unknown = inc.loc["201403010003"]
    assert pd.isna(coded_unknown["fatalities_best"]) and coded_unknown["region"] == "Raqqa"
    assert inc.loc["201403020004", "actor"] == "ISKP"
    assert inc.loc["201403030005", "actor"] == "Al-Qaida in Iraq"


def test_gtd_xlsx_reads_like_csv_with_sheet_row_lines(tmp_path):
    frame = pd.read_csv(FIXTURES / "gtd_extract.csv", dtype=str)
    frame.loc[2, "nkill"] = "ten"
    path = tmp_path / "gtd.xlsx"
    frame.to_excel(path, index=False)
    result = load_incidents(path)
    assert result.files["format"].tolist() == ["GTD"]
    assert len(result.incidents) == 6
    bad = result.quarantine.iloc[0]
    assert bad["line"] == 4 and bad["reasons"] == "fatalities_best (nkill): not a number (ten)"


def test_lineage_folds_only_when_asked():
    assert "Al-Qaida in Iraq" in set(load_incidents(FIXTURES / "gtd_extract.csv").incidents["actor"])
    folded = load_incidents(FIXTURES / "gtd_extract.csv", fold_lineage=True).incidents
    assert "Al-Qaida in Iraq" not in set(folded["actor"])
    assert (folded["actor"] == "ISIS").sum() == 5


def test_native_table_roundtrips_through_csv_parquet_and_xlsx(tmp_path):
    first = load_incidents(FIXTURES / "native_incidents.csv").incidents
    assert first["region"].tolist() == ["Raqqa", "Deir ez-Zor", "Ninawa"]
    assert first["actor"].tolist() == ["ISIS"] * 3
    assert first["notes"].iloc[1] == "Clash with SDF <script>alert(1)</script>"  # kept as text
    for suffix, write in [(".csv", "to_csv"), (".parquet", "to_parquet"), (".xlsx", "to_excel")]:
        path = tmp_path / f"again{suffix}"
        getattr(first, write)(path, index=False)
        again = load_incidents(path).incidents
        pd.testing.assert_frame_equal(again, first, check_dtype=False)
        IncidentSchema.validate(again)


def test_native_minimal_columns_and_deterministic_ids():
    one = load_incidents(FIXTURES / "native_minimal.csv").incidents
    two = load_incidents(FIXTURES / "native_minimal.csv").incidents
    assert one["incident_id"].tolist() == two["incident_id"].tolist()
    assert one["incident_id"].is_unique  # identical rows on different lines are different reports
    assert one["source"].unique().tolist() == ["native"]
    assert one["date_precision"].unique().tolist() == ["day"]
    assert one["fatalities_best"].tolist()[0] == 2 and one["fatalities_best"].isna().sum() == 2
    assert one[["admin2", "latitude", "injuries_best", "notes"]].isna().all().all()


def test_list_of_paths_keeps_origin_and_drops_exact_overlap(tmp_path):
    copy = tmp_path / "again.csv"
    copy.write_bytes((FIXTURES / "acled_export_2024.csv").read_bytes())
    result = load_incidents([FIXTURES / "acled_export_2024.csv", FIXTURES / "gtd_extract.csv", copy])
    assert len(result.incidents) == 3 + 7 and len(result.excluded) == 1  # the ACLED arrest
    assert len(result.quarantine) == 4
    assert set(result.quarantine["file"]) == {str(copy)}
    assert result.quarantine["reasons"].str.startswith("exact duplicate of acled_export_2024.csv line").all()
    assert result.files["accepted"].tolist() == [3, 7, 0]


def test_a_later_version_of_an_incident_replaces_the_earlier_one(tmp_path):
    """ACLED update: same event_id_cnty, revised fatalities, later `timestamp`: the update is kept
    whatever the file order, the older copy quarantined naming it; nothing is lost or double counted."""
    text = (FIXTURES / "acled_export_2024.csv").read_text(encoding="utf-8")
    update = tmp_path / "update.csv"
    update.write_text(text.replace(",5,,1711000000", ",6,,1712000000"), encoding="utf-8")
    original = FIXTURES / "acled_export_2024.csv"
    for files in ([original, update], [update, original]):
        result = load_incidents(files, merge=False)
        inc = result.incidents.set_index("incident_id")
        assert inc.loc["SYR90001", "fatalities_best"] == 6 and inc.index.is_unique
        assert result.n_input == 8
        superseded = result.quarantine[result.quarantine["reasons"].str.startswith("superseded")]
        assert superseded["file"].tolist() == [str(original)] and superseded["line"].tolist() == [2]
        assert superseded["reasons"].iloc[0] == (
            "superseded by a later version of the same incident id (update.csv line 2)"
        )


def test_same_id_without_version_stamp_keeps_the_last_row(tmp_path):
    """Without a stamp (or with equal stamps), the last file, then the last line, wins."""
    text = (FIXTURES / "acled_export_2024.csv").read_text(encoding="utf-8")
    same_stamp = tmp_path / "same_stamp.csv"
    same_stamp.write_text(text.replace(",5,,1711000000", ",7,,1711000000"), encoding="utf-8")
    inc = load_incidents([FIXTURES / "acled_export_2024.csv", same_stamp], merge=False).incidents
    assert inc.set_index("incident_id").loc["SYR90001", "fatalities_best"] == 7
    native = tmp_path / "log.csv"
    native.write_text(
        "incident_id,date,country,region,actor,fatalities\n"
        "a,2024-01-05,Iraq,Anbar,ISIS,1\na,2024-01-05,Iraq,Anbar,ISIS,3\na,2024-01-05,Iraq,Anbar,ISIS,1\n"
    )
    result = load_incidents(native)
    # line 4 repeats line 2 exactly: that version is the last one, kept once (line 2)
    assert result.incidents["fatalities_best"].tolist() == [1]
    assert result.quarantine.set_index("line")["reasons"].to_dict() == {
        3: "superseded by a later version of the same incident id (log.csv line 2)",
        4: "exact duplicate of log.csv line 2",
    }


def test_native_files_without_source_column_are_one_source_and_stack(tmp_path):
    """A monitor's monthly logs are one source: stacked, never merged with each other."""
    header = "date,country,region,actor,fatalities\n"
    jan, feb = tmp_path / "log_jan.csv", tmp_path / "log_feb.csv"
    jan.write_text(header + "2024-01-05,Iraq,Anbar,ISIS,1\n2024-01-20,Iraq,Diyala,ISIS,2\n")
    feb.write_text(header + "2024-02-05,Iraq,Anbar,ISIS,1\n2024-02-20,Iraq,Diyala,ISIS,4\n")
    result = load_incidents([jan, feb])
    assert result.merge is None and len(result.incidents) == 4 and result.quarantine.empty
    assert result.incidents["source"].unique().tolist() == ["native"]
    assert result.incidents["fatalities_best"].sum() == 8
    named = tmp_path / "named.csv"
    named.write_text(
        "source,date,country,region,actor,fatalities\nSOHR,2024-01-05,Iraq,Anbar,ISIS,1\n,2024-01-06,Iraq,Anbar,ISIS,1\n"
    )
    assert load_incidents(named, merge=False).incidents["source"].tolist() == ["SOHR", "native"]


def test_gtd_approxdate_range_sets_both_ends(tmp_path):
    """GTD codes iday as a day inside an approxdate range, so the range's start is the event's start."""
    path = tmp_path / "gtd.csv"
    path.write_text(
        "eventid,iyear,imonth,iday,approxdate,country_txt,provstate,gname,nkill\n"
        '1,2021,5,26,"May 5, 2021 - May 31, 2021",Iraq,Diyala,ISIL,1\n'
        '2,2021,1,6,"January 1-12, 2021",Iraq,Diyala,ISIL,1\n'
        '3,2021,1,3,"January 1-3, 2021",Iraq,Diyala,ISIL,1\n'
        '4,2021,1,1,"December 30, 2020 - January 2, 2021",Iraq,Diyala,ISIL,1\n'
        '5,2021,4,0,"April 12-17, 2021",Iraq,Diyala,ISIL,1\n'
        '6,2021,6,17,"June 16, 2021",Iraq,Diyala,ISIL,1\n'
        '7,2021,6,17,"March 6-20, 2021",Iraq,Diyala,ISIL,1\n'
    )
    result = load_incidents(path)
    inc = result.incidents.set_index("incident_id")
    got = {
        i: (f"{r.date_start:%m-%d}", f"{r.date_end:%m-%d}", r.date_precision)
        for i, r in inc[["date_start", "date_end", "date_precision"]].iterrows()
    }
    assert got == {
        "1": ("05-05", "05-31", "range"),
        "2": ("01-01", "01-12", "range"),
        "3": ("01-01", "01-03", "range"),
        "4": ("12-30", "01-02", "range"),
        "5": ("04-12", "04-17", "range"),  # day unknown: the range narrows the month
        "6": ("06-17", "06-17", "day"),  # one date, not a range
        "7": ("06-17", "06-17", "day"),  # contradicts the coded date: ignored, with a warning
    }
    assert result.warnings["problem"].tolist() == ["range does not overlap iyear/imonth/iday; ignored"]
