"""The shipped default data set: real UCDP GED events, derived reproducibly from ../shared."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from casualtystats import involving, load_incidents

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "datasets" / "ucdp_ged_iraq_isis.csv"


def test_default_data_set_loads_as_ucdp_with_every_event_involving_isis():
    loaded = load_incidents(DEFAULT)
    assert len(loaded.quarantine) == 0 and len(loaded.incidents) == 6_191
    assert set(loaded.incidents["source"]) == {"UCDP"}
    assert len(involving(loaded.incidents, "ISIS")) == 6_191
    assert int(loaded.incidents["fatalities_best"].sum()) == 75_072


def test_default_data_set_is_derived_byte_for_byte_from_the_ucdp_file(ucdp_iraq_path, tmp_path):
    spec = importlib.util.spec_from_file_location("make_ucdp_isis", ROOT / "datasets" / "make_ucdp_isis.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "derived.csv"
    assert module.derive(Path(ucdp_iraq_path), out) == 6_191
    assert out.read_bytes() == DEFAULT.read_bytes()
