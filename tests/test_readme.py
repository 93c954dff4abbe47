"""Every Python example in the README runs as written, on the data the project ships.

A feature is done when a new user can use it from the README, so the examples are run in
order in one namespace (a later block may use a name an earlier one made), from a scratch
folder that sees the project's `datasets/` (outputs such as reports/ land there, not in
the checkout)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_examples_run(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 8
    (tmp_path / "datasets").symlink_to(ROOT / "datasets", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "readme"}
    for number, block in enumerate(blocks, start=1):
        exec(compile(block, f"README.md python block {number}", "exec"), namespace)
    assert (tmp_path / "reports" / "report.html").exists()
