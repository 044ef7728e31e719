"""The readiness page and the map's coverage outlines in a real browser (Debian's
chromium driven by Playwright), against a real node.

The node has the built-in synthetic receiver and its simulated radar, which feed it,
and a configured Beast sensor that listens and that nothing feeds: with
``silent_after_s`` of 3 s it turns silent within seconds and raises a ``sensor_silent``
alert.  An exercise summary is filed in its data folder before it starts.  A second
app serves the same node with the :class:`~test_partners_api.StubFederation` at the
federation plug point, for the Partners section.

On ``/readiness`` the fed sensors must show ok with a rate, the unfed one silent with
its reason, the radar a coverage outline, the alert listed, the exercise and the
partners shown, and an HTTP failure a banner that goes once the node answers again.
On ``/`` the coverage layer must hold features and the Tools checkbox show and hide it
(the body's ``data-coverage`` says what the map's layers are; the pixels confirm it).

As in ``test_map_browser``, requests off the node are aborted and fail the test, and
so do script errors and HTTP errors, except the ones a test provokes on purpose.
Screenshots are left in ``test-artifacts/readiness*.png``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np
import pytest
from chromium import ARTIFACTS, open_on_loopback, require_chromium
from nodes import node_in_thread, wait_until  # tests/web, on sys.path for its tests
from test_map_browser import pixels_near_centre
from test_partners_api import StubFederation, serve_app

from skyshare.alerts.engine import EngineConfig
from skyshare.alerts.service import AlertsConfig
from skyshare.config import NodeConfig, SyntheticConfig
from skyshare.node import Node, free_port
from skyshare.readiness.settings import ReadinessConfig
from skyshare.sources.base import SensorSpec
from skyshare.web.app import create_app

require_chromium()

NAME = "ready-node"
RECEIVER = (48.0, 10.0)  # lat, lon of the synthetic receiver
RADAR = (48.2, 10.3, 30.0)  # lat, lon, antenna height m of its radar
SPARE_AT = (48.6, 11.2)  # the sensor nothing feeds
FED = ("synthetic", "synthetic-radar")  # the names the node gives its synthetic sensors
RATES = {"west": (20.0, 10.0)}  # stub partner tracks/s (received, sent)
BAND_0 = np.array([0x80, 0xDE, 0xEA])  # settings.readiness.coverage.bands[0]
MAP_WATER = np.array([0x0B, 0x1A, 0x2B])
DASH = "\u2013"  # what the page shows for a value it does not have


def summary(now: float) -> dict[str, Any]:
    """An exercise summary as ``skyshare exercise run`` files it (what readiness reads)."""
    return {
        "schema": "skyshare-exercise/1", "exercise": True, "scenario": "radar-outage",
        "title": "Radar outage", "started_at": now - 700, "ended_at": now - 400,
        "partners": {
            NAME: {"expected": 3, "reached": 2, "missed": 1, "false_alerts": 1,
                   "acknowledged": 2, "median_time_to_alert_s": 8.0},
            "west": {"expected": 1, "reached": 1, "missed": 0, "false_alerts": 0,
                     "acknowledged": 1, "median_time_to_alert_s": 4.0}},
        "totals": {"events": 3, "detected": 1, "late": 1, "missed": 1, "false_alerts": 1,
                   "score": 48.0},
    }


@dataclass
class WithPartners:
    """The running ``node`` as the web layer reads it, with ``federation`` the stub's
    (everything else, readiness included, is the node's)."""

    node: Node
    federation: StubFederation

    def __getattr__(self, name: str) -> Any:
        return getattr(self.node, name)


@dataclass
class Served:
    base: str  # the node
    fed_url: str  # the same node with the stub federation
    external: list[str] = field(default_factory=list)  # requests the pages tried elsewhere
    errors: list[str] = field(default_factory=list)  # script errors, unexpected HTTP errors
    allowed: list[tuple[str, int]] = field(default_factory=list)  # (path, status) provoked


def readiness(base: str) -> dict[str, Any]:
    data: dict[str, Any] = httpx.get(f"{base}/api/readiness").json()
    return data


def sensors(base: str) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in readiness(base)["sensors"]}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data_dir = tmp_path_factory.mktemp("readiness")
    (data_dir / "exercises").mkdir()
    (data_dir / "exercises" / "radar-outage.json").write_text(json.dumps(summary(time.time())))
    spare = SensorSpec(name="spare", index=0, format="beast", mode="listen", port=free_port(),
                       lat=SPARE_AT[0], lon=SPARE_AT[1])
    node = Node(NodeConfig(
        name=NAME, http_port=0, data_dir=data_dir, sensors=(spare,),
        synthetic=SyntheticConfig(aircraft=80, seed=3, region=(45.0, 5.0, 52.0, 15.0),
                                  receiver=RECEIVER, radar=RADAR),
        readiness=ReadinessConfig(silent_after_s=3),
        alerts=AlertsConfig(engine=EngineConfig(confirm_updates=2), interval_s=0.5),
        picture_interval_s=0.5))
    with node_in_thread(node) as base:
        def judged() -> bool:
            s = sensors(base)
            return (all(s[n]["state"] == "ok" and s[n]["rate"] > 0 for n in FED)
                    and s["spare"]["state"] == "silent"
                    and (s["synthetic-radar"]["coverage"] or {}).get("max_range_nm", 0) > 0)

        wait_until("the fed sensors ok, the spare one silent, radar coverage", judged)
        wait_until("the sensor_silent alert", lambda: [
            a for a in httpx.get(f"{base}/api/alerts?all=1&resolved=0").json()["alerts"]
            if a["rule"] == "sensor_silent" and a["sensor"] == "spare"])
        fed = StubFederation(names=["west", "north", "east"], heard_base=time.time(),
                             rates=RATES)
        with serve_app(create_app(WithPartners(node, fed))) as fed_url:
            yield Served(base, fed_url)


def open_page(browser: Any, served: Served, url: str) -> Any:
    """A page at ``url``; requests off loopback are aborted and recorded, and every
    script error and HTTP error not in ``served.allowed`` too."""
    return open_on_loopback(
        browser, url, served.external, served.errors, height=900,
        expected=lambda r: (urlsplit(r.url).path, r.status) in served.allowed)


@pytest.fixture(scope="module")
def page(browser: Any, served: Served) -> Iterator[Any]:
    page = open_page(browser, served, served.base + "/readiness")
    page.wait_for_selector("body[data-polls]:not([data-polls='0'])", timeout=10_000)
    page.wait_for_selector("#alerts .readiness-alert", timeout=10_000)
    yield page
    page.context.close()


def card(page: Any, name: str) -> Any:
    return page.locator(f"#sensors .sensor[data-sensor='{name}']")


def role(locator: Any, name: str) -> str:
    text: str = locator.locator(f"[data-role={name}]").inner_text()
    return text


def test_the_header_names_the_node_and_its_state(page: Any) -> None:
    assert page.inner_text("#partner") == NAME
    assert page.title() == f"skyshare readiness {NAME}"
    overall = page.locator("#overall")
    assert overall.inner_text() == "IMPAIRED"  # a sensor is silent
    assert overall.get_attribute("data-state") == "impaired"
    assert page.get_attribute("body", "data-state") == "impaired"
    assert page.inner_text("#counts") == "2 ok · 1 silent"
    assert re.fullmatch(r"updated \d\d:\d\d:\d\dZ · node up \d+ (s|min)",
                        page.inner_text("#updated")), page.inner_text("#updated")
    assert page.get_attribute("#to-map", "href") == "/"
    assert page.locator("#banner").is_hidden()


def test_fed_sensors_are_ok_with_their_rates(page: Any, served: Served) -> None:
    api = sensors(served.base)
    assert page.locator("#sensors .sensor").count() == 3
    for name in FED:
        item = card(page, name)
        assert item.get_attribute("data-state") == "ok"
        assert item.locator(".badge.state").inner_text() == "OK"
        assert item.locator(".badge.exercise").count() == 0
        assert item.get_attribute("data-exercise") == "false"
        assert item.locator("[data-role=reasons]").count() == 0
        assert float(item.locator("[data-role=rate]").get_attribute("data-rate")) > 0
        assert re.fullmatch(r"[\d.,]+/s · (usual [\d.,]+/s|no usual rate yet)",
                            role(item, "rate")), role(item, "rate")
        assert re.fullmatch(r"heard \d s ago", role(item, "heard")), role(item, "heard")
        assert re.fullmatch(r"[\d.<> ]+% of input", role(item, "errors"))
        assert re.fullmatch(r"[\d.<> ]+% of messages", role(item, "decoded"))
        assert role(item, "gaps") == "no gaps ≥ 10 s in 1 h"
        assert role(item, "coverage").startswith("max ")
        assert "of bearings" in role(item, "coverage")
        spark = item.locator("svg[data-role=sparkline]")
        assert float(spark.get_attribute("data-peak")) > 0
        assert spark.locator("path.messages").get_attribute("d").startswith("M")
        assert api[name]["state"] == "ok"
    # a Beast receiver has a 12 MHz clock readiness watches; a radar has none
    assert re.match(r"(drift [+\u2212]?[\d.,]+ ppm|measuring)",
                    role(card(page, "synthetic"), "clock")), role(card(page, "synthetic"), "clock")
    assert role(card(page, "synthetic-radar"), "clock") == "no receiver clock"


def test_the_unfed_sensor_is_silent_with_its_reason(page: Any) -> None:
    spare = card(page, "spare")
    assert spare.get_attribute("data-state") == "silent"
    assert spare.locator(".badge.state").inner_text() == "SILENT"
    reasons = spare.locator("[data-role=reasons] li").all_inner_texts()
    assert len(reasons) == 1
    assert re.fullmatch(r"nothing received since the node started \d+ s ago", reasons[0])
    assert role(spare, "heard") == "never heard"
    assert role(spare, "rate") == "0.0/s · no usual rate yet"
    assert role(spare, "errors") == role(spare, "decoded") == DASH  # no input, no share
    assert role(spare, "coverage") == "no position seen yet"
    assert role(spare, "clock") == "no receiver clock"  # none until its first timestamp
    assert spare.locator(".source").inner_text().startswith("beast · listen 127.0.0.1:")
    assert re.fullmatch(r"silent for \d+ s", spare.locator(".since").inner_text())
    # placed, so it has a polar plot, but an empty one
    assert spare.locator("svg[data-role=polar] path[data-band]").count() == 0


def test_the_radar_coverage_is_drawn_as_a_polar_outline(page: Any, served: Served) -> None:
    coverage = sensors(served.base)["synthetic-radar"]["coverage"]
    polar = card(page, "synthetic-radar").locator("svg[data-role=polar]")
    scale = float(polar.get_attribute("data-scale-nm"))
    assert scale >= coverage["max_range_nm"] > 0
    outline = polar.locator("path[data-band='0']")
    d = outline.get_attribute("d")
    # one vertex per bearing bin where the radar saw something (it keeps seeing more)
    assert d.startswith("M") and d.endswith("Z")
    assert len(coverage["bands"][0]["ranges_nm"]) == 180
    assert 3 <= d.count("L") + 1 <= 180  # (the page may show an earlier poll than ours)
    assert float(outline.get_attribute("stroke-width")) > float(
        polar.locator("path[data-band='1'], path[data-band='2'], path[data-band='3']")
        .first.get_attribute("stroke-width"))
    assert polar.locator("path[data-band]:not([data-band='0'])").first.get_attribute(
        "stroke-dasharray")
    box = polar.bounding_box()
    assert box["width"] > 100 and box["height"] > 100  # drawn, not collapsed
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "readiness.png"), full_page=True)


def test_the_readiness_alert_is_listed(page: Any, served: Served) -> None:
    alerts = page.locator("#alerts .readiness-alert")
    assert alerts.count() == 1
    alert = page.locator("#alerts .readiness-alert[data-sensor=spare]")
    assert alert.get_attribute("data-rule") == "sensor_silent"
    assert alert.get_attribute("data-state") == "new"
    assert alert.locator(".label").inner_text() == "Sensor silent"
    assert alert.locator(".sensor-name").inner_text() == "spare"
    assert alert.locator(".detail").inner_text().startswith("nothing received since the node")
    assert re.fullmatch(rf"new · {NAME} · raised \d+ s ago", alert.locator(".meta").inner_text())
    listed = httpx.get(f"{served.base}/api/alerts?all=1&resolved=0").json()["alerts"]
    case = next(a for a in listed if a["sensor"] == "spare")
    assert alert.get_attribute("data-alert-id") == case["id"]
    assert page.inner_text("#alerts-note") == ""


def test_the_last_exercise_is_shown(page: Any) -> None:
    assert page.locator("#exercise-note").is_hidden()
    rows = dict(zip(page.locator("#exercise dt").all_inner_texts(),
                    page.locator("#exercise dd").all_inner_texts(), strict=True))
    assert rows["scenario"] == "Radar outage (radar-outage)"
    assert rows["score"] == "48 / 100"
    assert rows["events"] == "3 events: 1 detected, 1 late, 1 missed"
    assert rows["false alerts"] == "1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\dZ \(\d+ min ago\)", rows["ended"])
    assert rows["this node"] == ("reached 2 of 3 · 1 missed · 1 false alert · 2 acknowledged"
                                 " · median 8.0 s to alert")


def test_a_node_on_its_own_lists_no_partners(page: Any) -> None:
    assert page.locator("#partners-note").is_visible()
    assert page.locator("#partners").is_hidden()


def test_an_http_failure_shows_a_banner_until_the_node_answers(
        page: Any, served: Served) -> None:
    polls = int(page.get_attribute("body", "data-polls"))
    served.allowed.append(("/api/readiness", 503))
    page.route("**/api/readiness", lambda route: route.fulfill(
        status=503, content_type="application/json",
        body=json.dumps({"error": "the node is starting; try again in a moment"})))
    banner = page.locator("#banner")
    banner.wait_for(state="visible", timeout=10_000)
    assert banner.inner_text().startswith(
        "readiness: the node is starting; try again in a moment; retrying every 3 s")
    assert re.search(r"\(last update \d\d:\d\d:\d\dZ\)$", banner.inner_text())
    assert page.get_attribute("body", "data-connection") == "failed"
    assert page.locator("#sensors .sensor").count() == 3  # the last poll stays shown
    page.screenshot(path=str(ARTIFACTS / "readiness-failed.png"))
    page.unroute("**/api/readiness")
    banner.wait_for(state="hidden", timeout=10_000)
    assert page.get_attribute("body", "data-connection") == "ok"
    assert int(page.get_attribute("body", "data-polls")) > polls
    served.allowed.remove(("/api/readiness", 503))


def test_missing_fields_read_as_dashes(page: Any) -> None:
    polls = int(page.get_attribute("body", "data-polls"))
    sparse = {"sensors": [{"name": "bare"}, {"name": "nulls", "state": None, "rate": None,
                                              "coverage": {"bands": None}, "series": None,
                                              "gaps": None, "clock": None, "reasons": None}],
              "partners": [{"partner": "p"}], "exercise": {}}
    page.route("**/api/readiness", lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps(sparse)))
    try:
        page.wait_for_function(f"document.body.dataset.polls > {polls}", timeout=10_000)
        bare, nulls = card(page, "bare"), card(page, "nulls")
        bare.wait_for(timeout=5_000)
        assert bare.locator(".badge.state").inner_text() == "UNKNOWN"
        assert role(bare, "rate") == f"{DASH} · no usual rate yet"
        assert role(bare, "errors") == role(bare, "gaps") == DASH
        assert role(bare, "clock") == "no receiver clock"
        assert role(bare, "coverage") == "no position configured"
        assert bare.locator("svg[data-role=polar]").count() == 0
        assert nulls.locator("svg[data-role=polar] path[data-band]").count() == 0
        assert page.inner_text("#overall") == "UNKNOWN"
        assert page.inner_text("#counts") == "no sensors"
        row = page.locator("#partners tr[data-partner=p]")
        assert role(row, "heard") == "never heard"
        assert role(row, "lag") == role(row, "in") == role(row, "exercise") == DASH
        assert page.locator("#exercise-note").is_hidden()  # an exercise, of unknown result
        assert page.locator("#banner").is_hidden()
    finally:
        page.unroute("**/api/readiness")
    card(page, "synthetic").wait_for(timeout=10_000)
    assert page.get_attribute("body", "data-state") == "impaired"


def test_partners_show_their_state_rates_and_exercise_part(
        browser: Any, served: Served) -> None:
    page = open_page(browser, served, served.fed_url + "/readiness")
    try:
        page.wait_for_selector("#partners tbody tr", timeout=10_000)
        assert page.locator("#partners-note").is_hidden()
        rows = page.locator("#partners tbody tr")
        states = {rows.nth(i).get_attribute("data-partner"): rows.nth(i).get_attribute(
            "data-state") for i in range(rows.count())}
        assert states == {"west": "connected", "north": "lagging", "east": "down"}
        assert page.inner_text("#overall") == "IMPAIRED"  # a partner down, a sensor silent
        west = page.locator("#partners tr[data-partner=west]")
        east = page.locator("#partners tr[data-partner=east]")
        north = page.locator("#partners tr[data-partner=north]")
        assert west.locator(".badge.state").inner_text() == "CONNECTED"
        assert role(east, "heard") == "never heard"
        assert re.fullmatch(r"heard \d+ s ago", role(west, "heard"))
        assert role(north, "lag") == "4.5 s"
        assert role(east, "lag") == DASH
        assert role(west, "latency") == DASH  # the stub measures none
        assert role(north, "dropped") == "4"
        assert role(west, "exercise") == ("reached 1 of 1 · 0 missed · 0 false alerts · "
                                          "1 acknowledged · median 4.0 s to alert")
        assert role(north, "exercise") == DASH
        page.wait_for_function(  # two polls are needed before there is a rate
            "!document.querySelector('#partners tr[data-partner=west] [data-role=in]')"
            ".textContent.includes('\u2013')", timeout=10_000)
        received = float(role(west, "in").removesuffix("/s").replace(",", ""))
        sent = float(role(west, "out").removesuffix("/s").replace(",", ""))
        # counters are whole tracks: at most one off at each end of a ~3 s interval
        assert abs(received - RATES["west"][0]) <= 1.1 and abs(sent - RATES["west"][1]) <= 1.1
        assert role(east, "in") == "0.0/s"
        page.screenshot(path=str(ARTIFACTS / "readiness-partners.png"), full_page=True)
    finally:
        page.context.close()


def band_0_pixels(page: Any, radius: int) -> int:
    """Pixels near the map's centre in band 0's outline colour (drawn with its opacity)."""
    pixels = pixels_near_centre(page, radius)
    drawn = 0.85 * BAND_0 + 0.15 * MAP_WATER  # settings.readiness.coverage.opacity
    return int((np.abs(pixels - drawn).sum(axis=1) < 60).sum())


@contextmanager
def map_page(browser: Any, served: Served) -> Iterator[Any]:
    lat, lon = RECEIVER
    page = open_page(browser, served, f"{served.base}/#map=6/{lat}/{lon}")
    try:
        page.wait_for_selector("body[data-map=ready]", timeout=20_000)
        yield page
    finally:
        page.context.close()


def test_the_map_draws_the_coverage_outlines_and_the_checkbox_hides_them(
        browser: Any, served: Served) -> None:
    with map_page(browser, served) as page:
        page.wait_for_selector("body[data-coverage=shown][data-coverage-features]",
                               timeout=10_000)
        features = int(page.get_attribute("body", "data-coverage-features"))
        api = httpx.get(f"{served.base}/api/readiness/coverage").json()["features"]
        assert features >= 2 and abs(features - len(api)) <= 2  # receiver and radar, by band
        assert {f["properties"]["sensor"] for f in api} >= set(FED)
        toggle = page.locator("#coverage")
        assert toggle.is_checked() and toggle.is_enabled()
        page.wait_for_timeout(800)  # drawn
        shown = band_0_pixels(page, 300)
        assert shown >= 100, f"only {shown} pixels of the coverage outline"
        page.screenshot(path=str(ARTIFACTS / "readiness-map.png"))
        toggle.uncheck()
        page.wait_for_selector("body[data-coverage=hidden]", timeout=5_000)
        page.wait_for_timeout(500)
        hidden = band_0_pixels(page, 300)
        assert hidden < shown / 10, (shown, hidden)
        toggle.check()
        page.wait_for_selector("body[data-coverage=shown]", timeout=5_000)
        # the sidebar links to the readiness page and lists its APIs
        assert page.get_attribute("#readiness-link", "href") == "/readiness"
        api_links = page.locator("#api a").evaluate_all("(as) => as.map((a) => a.pathname)")
        assert "/api/readiness" in api_links and "/api/readiness/coverage" in api_links


def test_nothing_failed_that_was_not_provoked(served: Served) -> None:
    assert served.allowed == []
    assert served.external == []
    assert served.errors == []
    assert Path(ARTIFACTS / "readiness.png").stat().st_size > 10_000
