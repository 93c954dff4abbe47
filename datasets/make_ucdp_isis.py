"""Derive `ucdp_ged_iraq_isis.csv`, the default data set, from the UCDP GED Iraq file (HDX).

Keeps the events in which ISIS is a side (UCDP's actor "IS", side id 234, as side_a or
side_b), every column and the HXL tag row unchanged, so the result is still a UCDP GED
HDX file that `casualtystats.load_incidents` reads as such. Checks the source's sha256
first, so the derived file always comes from the same release.

    .venv/bin/python datasets/make_ucdp_isis.py ../shared/data/raw/ucdp_ged_iraq_hdx/conflict_data_irq.csv
"""

from __future__ import annotations

import csv
import hashlib
import sys
from pathlib import Path

SOURCE_SHA256 = "9da328f8e0c8bdb24b34cc8f2a374845ed525777f6ce00cf0e8f670991d6f87a"
OUTPUT = Path(__file__).resolve().parent / "ucdp_ged_iraq_isis.csv"
ISIS = "IS"


def derive(source: Path, output: Path = OUTPUT) -> int:
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    if digest != SOURCE_SHA256:
        raise SystemExit(f"{source}: sha256 {digest} is not the UCDP GED 19.1 Iraq file ({SOURCE_SHA256})")
    with open(source, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, tags, events = rows[0], rows[1], rows[2:]
    side_a, side_b = header.index("side_a"), header.index("side_b")
    kept = [row for row in events if ISIS in (row[side_a], row[side_b])]
    with open(output, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerows([header, tags, *kept])
    return len(kept)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    print(f"{derive(Path(sys.argv[1]))} events written to {OUTPUT}")
