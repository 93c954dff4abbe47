"""The report in a real browser: headless Chromium opens it from a file URL with the
network blocked; it must draw every chart (the regions-at-a-glance panel and the outlook's
fan charts included), raise no script error, request nothing from any server, show
injected script tags as text without running them, and sort the regions table offline.
Screenshots of the briefing-shaped sections (key judgments, regions at a glance, the
regions table, the outlook) are saved in test-artifacts/briefing-<section>.png."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_report import INJECTION, install_other_stages, write_sample

from casualtystats.report import build_report

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
#: The sections shaped like the briefing, in page order (the screenshot spans them).
BRIEFING_SECTIONS = ("judgments", "glance", "resurgence")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (.ci/run installs it: apt-get install chromium)",
    ),
]

ROW_ORDER = "[...document.querySelectorAll('table.regions tbody tr')].map(r => r.dataset.region)"
STRENGTHS = (
    "[...document.querySelectorAll('table.regions tbody tr')]"
    ".map(r => parseFloat(r.cells[8].getAttribute('data-value')))"
)

#: Whether each row is signalled: a rule fired (Rules fired is not "—") or the direction rises or falls.
SIGNALLED = (
    "[...document.querySelectorAll('table.regions tbody tr')]"
    ".map(r => r.cells[2].textContent.trim() !== '—' || /rising|falling/.test(r.cells[1].className))"
)
STRENGTH_HEADER = "table.regions th:has-text('Strength')"


@pytest.fixture(scope="module")
def opened(tmp_path_factory):
    """The sample report, built with stand-ins for the forecast, merge and alert-history
    stages, loaded in headless Chromium, with what the browser saw."""
    folder = tmp_path_factory.mktemp("browser")
    with pytest.MonkeyPatch.context() as mp:
        install_other_stages(mp)
        out = build_report(write_sample(folder / "sample.csv"), folder / "report.html", progress=False)
    expected = int(re.search(r'data-figure-count="(\d+)"', out.read_text(encoding="utf-8")).group(1))
    seen = {"errors": [], "requests": [], "dialogs": []}
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1360, "height": 900})

        def route(request_route):
            if request_route.request.url.startswith("file://"):
                request_route.continue_()
            else:
                seen["requests"].append(request_route.request.url)
                request_route.abort()

        page.route("**/*", route)
        page.on("console", lambda msg: msg.type == "error" and seen["errors"].append(msg.text))
        page.on("pageerror", lambda err: seen["errors"].append(str(err)))
        page.on("dialog", lambda dialog: (seen["dialogs"].append(dialog.message), dialog.dismiss()))
        page.goto(out.as_uri(), wait_until="load")
        # a chart is drawn when plotly has put its svg into the div with the traces' paths in it
        drawn_charts = (
            "[...document.querySelectorAll('.js-plotly-plot')]"
            ".filter(d => d.querySelector('svg.main-svg g.trace path')).length"
        )
        page.wait_for_function(f"n => {drawn_charts} >= n", arg=expected, timeout=60_000)
        drawn = page.evaluate(drawn_charts)
        drawn_in = {
            anchor: page.evaluate(
                f"[...document.querySelectorAll('#{anchor} .js-plotly-plot')]"
                ".filter(d => d.querySelector('svg.main-svg g.trace path')).length"
            )
            for anchor in ("glance", "outlook")
        }
        text = page.inner_text("body")
        injected_scripts = page.evaluate(
            "[...document.scripts].filter(s => s.textContent.trim() === 'alert(1)').length"
        )
        # sorting: the rows come signalled regions first (a rule fired or a rising/falling trend),
        # each group strongest first; a click on Strength sorts by it, a second turns the order round
        before = {
            "order": page.evaluate(ROW_ORDER),
            "strengths": page.evaluate(STRENGTHS),
            "signalled": page.evaluate(SIGNALLED),
        }
        page.click(STRENGTH_HEADER)
        descending = page.evaluate(STRENGTHS)
        page.click(STRENGTH_HEADER)
        after = {"order": page.evaluate(ROW_ORDER), "strengths": page.evaluate(STRENGTHS)}
        # the evidence opens with one click (the first row that has evidence; weakest rows may have none)
        page.locator("table.regions tbody details summary").first.click()
        evidence_open = page.evaluate("document.querySelector('table.regions tbody details').open")
        page.click(STRENGTH_HEADER)  # back to strongest first for the screenshot

        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        for anchor in (*BRIEFING_SECTIONS, "outlook"):
            page.locator(f"#{anchor}").screenshot(path=str(ARTIFACTS / f"briefing-{anchor}.png"))
        browser.close()
    return {
        "expected": expected,
        "drawn": drawn,
        "drawn_in": drawn_in,
        "text": text,
        "injected_scripts": injected_scripts,
        "before": before,
        "descending": descending,
        "after": after,
        "evidence_open": evidence_open,
        **seen,
    }


def test_every_chart_is_drawn(opened):
    assert opened["expected"] >= 7
    assert opened["drawn"] == opened["expected"]
    assert opened["drawn_in"]["glance"] == 1  # the small multiples, one figure
    assert opened["drawn_in"]["outlook"] >= 2  # all regions and the charted regions' fans
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000


def test_briefing_shaped_sections_are_shown_and_saved(opened):
    for heading in ("Key judgments: ISIS", "Regions at a glance", "Regions: direction and resurgence flags"):
        assert heading in opened["text"]
    assert "Outlook: ISIS" in opened["text"] and "Sources and their overlap" in opened["text"]
    for anchor in (*BRIEFING_SECTIONS, "outlook"):
        assert (ARTIFACTS / f"briefing-{anchor}.png").stat().st_size > 10_000


def test_regions_table_sorts_by_strength_and_opens_evidence(opened):
    before, after = opened["before"], opened["after"]
    assert len(before["order"]) >= 3 and before["order"][0] == "Raqqa"
    assert before["signalled"] == sorted(before["signalled"], reverse=True)
    for tier in (True, False):
        group = [s for s, t in zip(before["strengths"], before["signalled"], strict=True) if t == tier]
        assert group == sorted(group, reverse=True)
    assert opened["descending"] == sorted(before["strengths"], reverse=True)
    assert after["strengths"] == sorted(after["strengths"])
    assert sorted(after["order"]) == sorted(before["order"])
    assert opened["evidence_open"]


def test_no_script_errors(opened):
    assert opened["errors"] == []


def test_nothing_requested_from_the_network(opened):
    assert opened["requests"] == []


def test_injected_script_is_text_and_runs_nothing(opened):
    assert INJECTION in opened["text"]
    assert opened["dialogs"] == []
    assert opened["injected_scripts"] == 0
