"""Shared test fixtures. Real data lives in ../shared/data (never copied here);
tests that need it skip with a clear reason when it is absent. CI always has it."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

UCDP_IRAQ = SHARED_DATA / "raw" / "ucdp_ged_iraq_hdx" / "conflict_data_irq.csv"
GTD_2021H1 = SHARED_DATA / "raw" / "gtd_2021h1" / "globalterrorismdb_2021Jan-June_1222dist.xlsx"
TCPD = SHARED_DATA / "tcpd"


def require_shared(path: Path) -> Path:
    """Return `path`, or skip the calling test when ../shared is not checked out."""
    if not path.exists():
        pytest.skip(f"needs {path} (the ../shared checkout beside the project); absent here")
    return path


@pytest.fixture(scope="session")
def ucdp_iraq_path() -> Path:
    return require_shared(UCDP_IRAQ)


@pytest.fixture(scope="session")
def gtd_2021h1_path() -> Path:
    return require_shared(GTD_2021H1)


@pytest.fixture(scope="session")
def tcpd_path() -> Path:
    return require_shared(TCPD)
