"""Actor and region names: spellings to one canonical name, extendable, unmatched kept."""

from __future__ import annotations

import pandas as pd
import pytest

from casualtystats import LoadError, involving, normalize_actors, normalize_regions
from casualtystats.normalize import actor_aliases, region_aliases

ISIS_SPELLINGS = [
    "IS",
    "ISIL",
    "ISIS",
    "Daesh",
    "Da'esh",
    "داعش",
    "Islamic State (Iraq and the Levant)",
    "Islamic State of Iraq and the Levant (ISIL)",
    "Islamic State (Syria)",
    "Islamic State (Iraq)",
    "islamic state of iraq and syria",
    "ISI",
    "Wilayat Ninawa",
    "Wilayat al-Khayr",
    "Wilayat al-Furat",
]


@pytest.mark.parametrize("name", ISIS_SPELLINGS)
def test_isis_spellings(name):
    assert normalize_actors(pd.Series([name])).tolist() == ["ISIS"]


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("Khorasan Chapter of the Islamic State", "ISKP"),
        ("Islamic State Khorasan Province", "ISKP"),
        ("Sinai Province of the Islamic State", "IS-Sinai"),
        ("Islamic State West Africa Province (ISWAP)", "ISWAP"),
        ("Islamic State in the Greater Sahara (ISGS)", "IS-Sahel"),
        ("Central Africa Province of the Islamic State", "ISCAP"),
        ("Islamic State (Somalia)", "IS-Somalia"),
        ("Fezzan Province of the Islamic State", "IS-Libya"),
        ("Unknown", "Unknown"),
    ],
)
def test_affiliates_elsewhere_stay_separate(name, canonical):
    assert normalize_actors(pd.Series([name])).tolist() == [canonical]


def test_lineage_separate_unless_folded():
    names = pd.Series(["Al-Qaida in Iraq", "AQI", "Tawhid and Jihad", "IS"])
    assert normalize_actors(names).tolist() == [
        "Al-Qaida in Iraq",
        "Al-Qaida in Iraq",
        "Tawhid and Jihad",
        "ISIS",
    ]
    assert normalize_actors(names, fold_lineage=True).tolist() == ["ISIS"] * 4


def test_unmatched_and_missing_kept_as_given():
    names = pd.Series(["Jaish al-Adl", None, "  Saraya Awliya al-Dam"])
    out, matched = actor_aliases().apply(names)
    assert out.iloc[0] == "Jaish al-Adl" and pd.isna(out.iloc[1]) and out.iloc[2] == "  Saraya Awliya al-Dam"
    assert matched.tolist() == [False, False, False]


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("Nīnawá province", "Ninawa"),
        ("Ninawa", "Ninawa"),
        ("Nineveh", "Ninawa"),
        ("NINEWA GOVERNORATE", "Ninawa"),
        ("At-Ta'mim province", "Kirkuk"),
        ("Kirkūk province", "Kirkuk"),
        ("Al Anbār province", "Anbar"),
        ("Al Başrah  province", "Basra"),
        ("Şalāḩ ad Dīn province", "Salah al-Din"),
        ("Saladin", "Salah al-Din"),
        ("Karbalā’ province", "Karbala"),
        ("As Sulaymānīyah province", "Sulaymaniyah"),
        ("Halabja", "Halabja"),
        ("Deir ez Zor Governorate", "Deir ez-Zor"),
        ("Dayr az Zawr", "Deir ez-Zor"),
        ("Ar-Raqqa", "Raqqa"),
        ("al-Raqqah", "Raqqa"),
        ("Raqqa", "Raqqa"),
        ("Al-Hasakah", "Hasakah"),
        ("Rural Damascus", "Rif Dimashq"),
        ("As-Suwayda", "Suwayda"),
        ("Hamah", "Hama"),
        ("Dar'a", "Daraa"),
        ("Lattakia", "Latakia"),
    ],
)
def test_region_spellings(name, canonical):
    assert normalize_regions(pd.Series([name])).tolist() == [canonical]


def test_every_governorate_of_iraq_and_syria_is_canonical():
    canonical = set(region_aliases().canonical.values()) - {"Unknown"}
    assert len(canonical) == 19 + 14


def test_user_aliases_extend_and_override(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("alias,actor\nTanzim,ISIS\nISIL,Islamic State core\n", encoding="utf-8")
    out = normalize_actors(pd.Series(["Tanzim", "ISIL", "IS"]), aliases=path)
    assert out.tolist() == ["ISIS", "Islamic State core", "ISIS"]
    assert normalize_regions(
        pd.Series(["Mosul district"]), aliases={"Mosul district": "Ninawa"}
    ).tolist() == ["Ninawa"]
    frame = pd.DataFrame({"alias": ["Sham"], "canonical": ["Damascus"]})
    assert normalize_regions(pd.Series(["Sham"]), aliases=frame).tolist() == ["Damascus"]


def test_bad_user_alias_table(tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text("name,value\na,b\n", encoding="utf-8")
    with pytest.raises(LoadError, match="alias table lacks column"):
        normalize_actors(pd.Series(["a"]), aliases=path)


def test_involving_swaps_sides_for_target_rows():
    inc = pd.DataFrame(
        {
            "actor": ["ISIS", "Government of Iraq", "PKK", "ISIS"],
            "target": ["Civilians", "ISIS", "Government of Turkey", "ISIS"],
            "fatalities_best": [1, 2, 3, 4],
        }
    )
    out = involving(inc, "Islamic State")
    assert out.index.tolist() == [0, 1, 3]
    assert out["actor"].tolist() == ["ISIS"] * 3
    assert out["target"].tolist() == ["Civilians", "Government of Iraq", "ISIS"]
    assert out["role"].tolist() == ["actor", "target", "actor"]
    assert inc.loc[1, "actor"] == "Government of Iraq"  # the input is untouched
