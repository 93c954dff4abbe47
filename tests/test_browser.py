"""The report in a real browser: headless Chromium opens it from a file URL with the
network blocked; it must draw every chart, raise no script error, request nothing
from any server, and show injected script tags as text without running them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_report import INJECTION, write_sample

from casualtystats.report import build_report

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (.ci/run installs it: apt-get install chromium)",
    ),
]


@pytest.fixture(scope="module")
def opened(tmp_path_factory):
    """The sample report loaded in headless Chromium, with what the browser saw."""
    folder = tmp_path_factory.mktemp("browser")
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
        text = page.inner_text("body")
        injected_scripts = page.evaluate(
            "[...document.scripts].filter(s => s.textContent.trim() === 'alert(1)').length"
        )
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        browser.close()
    return {"expected": expected, "drawn": drawn, "text": text, "injected_scripts": injected_scripts, **seen}


def test_every_chart_is_drawn(opened):
    assert opened["expected"] >= 5
    assert opened["drawn"] == opened["expected"]
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000


def test_no_script_errors(opened):
    assert opened["errors"] == []


def test_nothing_requested_from_the_network(opened):
    assert opened["requests"] == []


def test_injected_script_is_text_and_runs_nothing(opened):
    assert INJECTION in opened["text"]
    assert opened["dialogs"] == []
    assert opened["injected_scripts"] == 0
