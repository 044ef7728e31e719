"""The written report in a real browser: Debian's chromium driven by Playwright.

The report is opened from disk (``file://``), as a planner would open it after a run.
Every request is recorded: the page may load itself and nothing else (no fonts,
scripts or tiles from anywhere).  The browser is the shared ``browser`` fixture
(``tests/conftest.py``).  A screenshot is left in ``test-artifacts/exercise-report.png``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from chromium import ARTIFACTS, require_chromium

from exercise.test_report import HOSTILE, big_summary, summary
from skyshare.exercise.report import write_report

require_chromium()


def open_report(browser: Any, report: Path) -> tuple[Any, list[str], list[str]]:
    """The page, the URLs it requested, and its console errors and page errors."""
    requests: list[str] = []
    errors: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning")
            else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(report.as_uri(), wait_until="load")
    return page, requests, errors


@pytest.mark.parametrize("which", ["small", "large"])
def test_the_report_opens_offline_with_its_charts_visible(browser: Any, tmp_path: Path,
                                                          which: str) -> None:
    s = summary(title=HOSTILE) if which == "small" else big_summary()
    report, _ = write_report(s, tmp_path)
    page, requests, errors = open_report(browser, report)
    try:
        assert requests == [report.as_uri()]
        assert errors == []
        assert page.get_by_text("EXERCISE \u2014 NOT REAL TRAFFIC").is_visible()
        assert page.title().startswith("EXERCISE")
        for cls in ("timeline", "map", "latency", "traffic"):
            chart = page.locator(f"svg.chart.{cls}")
            assert chart.count() == 1, cls
            assert chart.is_visible(), cls
            box = chart.bounding_box()
            assert box["width"] > 600 and box["height"] > 100, (cls, box)
        assert page.locator("svg.timeline g.tl-row").count() == len(s["events"])
        assert page.locator("script").count() == 0  # the hostile title stayed text
        if which == "small":
            assert HOSTILE in page.locator("h1").inner_text()
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "exercise-report.png"), full_page=True)
    finally:
        page.close()


def test_the_hatch_patterns_resolve(browser: Any, tmp_path: Path) -> None:
    """The bands are filled from patterns in a hidden SVG: each reference resolves
    (a broken one would draw the band black or not at all)."""
    report, _ = write_report(summary(), tmp_path)
    page, _, errors = open_report(browser, report)
    try:
        refs = page.eval_on_selector_all(
            "svg.chart [fill^='url(#']",
            "els => els.map(e => e.getAttribute('fill').slice(5, -1))")
        assert refs
        missing = [r for r in set(refs) if page.locator(f"pattern#{r}").count() != 1]
        assert missing == []
        assert errors == []
    finally:
        page.close()
