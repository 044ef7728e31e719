"""Partners on the live map in a real browser (Debian's chromium driven by Playwright).

Two pages of one real node: its own (the node has no federation, so the page must
show no partner feature at all), and the same node as the web layer sees it with the
:class:`~test_partners_api.StubFederation` at the federation plug point and a picture
of three tracks this test publishes (:class:`FederatedView`: alerts, users, sensors,
readiness and stats stay the running node's).  The Partners panel must show the three
partners with the right states, colours, ages, rates, drops and agreements; the detail
panel of a track must name the partners that contributed and show its provenance.

As in ``test_map_browser``, requests off the node are aborted and recorded, any HTTP
error or script error fails the test, and screenshots are left in ``test-artifacts/``.
The browser set-up (and its skips) comes from ``test_map_browser``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from chromium import ARTIFACTS, open_on_loopback, require_chromium
from nodes import node_in_thread  # tests/web, on sys.path for its tests
from test_partners_api import StubFederation, federated_tracks, provenance, serve_app

from skyshare.alerts.service import AlertService
from skyshare.auth import Sessions
from skyshare.config import NodeConfig, SyntheticConfig
from skyshare.node import Node
from skyshare.picture import Picture
from skyshare.readiness.monitor import Readiness
from skyshare.sources.base import SensorStatus
from skyshare.web.app import PipelineStats, create_app
from skyshare.web.federation_view import FederationView

require_chromium()

RATES = {"west": (20.0, 10.0), "north": (4.0, 0.0)}  # tracks/s (received, sent)


@dataclass
class FederatedView:
    """The running ``node`` as the web layer reads it, with ``federation`` and
    ``picture`` supplied by the test (the two plug points the Partners features read)."""

    node: Node
    federation: FederationView | None
    picture: Picture

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def statuses(self) -> list[SensorStatus]:
        return self.node.statuses

    @property
    def stats(self) -> PipelineStats:
        return self.node.stats

    @property
    def stream_interval_s(self) -> float:
        return self.node.stream_interval_s

    @property
    def reference(self) -> tuple[float, float] | None:
        return (48.0, 10.0)

    @property
    def alerts(self) -> AlertService | None:
        return self.node.alerts

    @property
    def sessions(self) -> Sessions | None:
        return self.node.sessions

    @property
    def anonymous_read(self) -> bool:
        return self.node.anonymous_read

    @property
    def readiness(self) -> Readiness:
        return self.node.readiness  # the map reads its coverage outlines


@dataclass
class Served:
    node_url: str  # the node's own page: no federation
    fed_url: str  # the same node with the stub federation
    fed: StubFederation
    external: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    node = Node(NodeConfig(name="home", http_port=0, data_dir=tmp_path_factory.mktemp("home"),
                           synthetic=SyntheticConfig(aircraft=20, seed=5),
                           picture_interval_s=0.5))
    with node_in_thread(node) as node_url:  # may take a minute: numba compiles first
        now = time.time()
        fed = StubFederation(provenance=provenance(now), heard_base=now, rates=RATES)
        picture = Picture()
        picture.publish(federated_tracks(now), now)
        with serve_app(create_app(FederatedView(node, fed, picture))) as fed_url:
            deadline = time.monotonic() + 60
            while not httpx.get(f"{node_url}/api/picture").json()["tracks"]:
                assert time.monotonic() < deadline, "the synthetic feed gave the node no track"
                time.sleep(0.3)
            yield Served(node_url, fed_url, fed)


def open_page(browser: Any, served: Served, url: str) -> Any:
    page = open_on_loopback(browser, url, served.external, served.errors)
    page.wait_for_selector("body[data-map=ready]", timeout=20_000)
    return page


@pytest.fixture(scope="module")
def page(browser: Any, served: Served) -> Iterator[Any]:
    page = open_page(browser, served, served.fed_url + "/")
    yield page
    page.context.close()


def rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def details(page: Any) -> dict[str, str]:
    """The detail panel's rows, label -> value (a later section's label wins)."""
    labels = page.locator("#panel dt").all_inner_texts()
    values = page.locator("#panel dd").all_inner_texts()
    return dict(zip(labels, values, strict=True))


def test_the_panel_lists_three_partners_with_their_states(page: Any, served: Served) -> None:
    section = page.locator("#partners-section")
    section.wait_for(state="visible", timeout=10_000)
    items = page.locator("#partners li.partner")
    assert items.count() == 3
    states = {items.nth(i).get_attribute("data-partner"): items.nth(i).get_attribute("data-state")
              for i in range(3)}
    assert states == {"west": "connected", "north": "lagging", "east": "down"}
    colours = page.evaluate(
        "import('/static/settings.js').then((m) => m.SETTINGS.partners.colours)")
    for name, state in states.items():
        item = page.locator(f"#partners li[data-partner={name}]")
        assert item.locator(".state").inner_text() == state
        # found and styled in one step: each poll replaces the list, and a dot taken
        # out of the page between finding and styling has no colour
        dot = page.evaluate("(n) => getComputedStyle(document.querySelector("
                            "`#partners li[data-partner=${n}] .dot`)).color", name)
        assert dot == rgb(colours[state]), (name, dot)
    assert len({rgb(c) for c in colours.values()}) == 3
    east = page.locator("#partners li[data-partner=east]")
    assert east.locator(".heard").inner_text() == "never heard"
    assert re.fullmatch(r"heard \d+ s ago",
                        page.locator("#partners li[data-partner=west] .heard").inner_text())
    assert east.locator(".dropped").count() == 0
    dropped = page.locator("#partners li[data-partner=north] .dropped")
    assert dropped.inner_text() == "4 dropped"
    assert dropped.get_attribute("title") == "bad-signature: 3, no-agreement: 1"


def test_rates_come_from_successive_polls(page: Any) -> None:
    flow = page.locator("#partners li[data-partner=west] .flow")
    page.wait_for_function(  # two polls are needed before there is a rate
        "!document.querySelector('#partners li[data-partner=west] .flow')"
        ".textContent.includes('\u2013')", timeout=10_000)
    got = re.fullmatch(r"in ([\d.,]+)/s · out ([\d.,]+)/s", flow.inner_text())
    assert got, flow.inner_text()
    received, sent = (float(g.replace(",", "")) for g in got.groups())
    # counters are whole tracks: at most one off at each end of a ~2 s interval
    assert abs(received - RATES["west"][0]) <= 1.1 and abs(sent - RATES["west"][1]) <= 1.1
    east = page.locator("#partners li[data-partner=east] .flow").inner_text()
    assert east == "in 0.0/s · out 0.0/s"


def test_agreements_are_folded_and_stay_open_once_opened(page: Any) -> None:
    north = page.locator("#partners li[data-partner=north]")
    folded = north.locator("details.agreements")
    assert folded.get_attribute("open") is None
    assert north.locator(".agreement-list").is_hidden()
    assert folded.locator("summary").inner_text() == "agreements: 1 out · 0 in"
    folded.locator("summary").click()
    lines = north.locator(".agreement-list li")
    assert lines.all_inner_texts() == [
        "out home-to-north: position · own sources · ≤ 1 Hz",
        "in north-to-home: position · own sources · ≤ 1 Hz · until 2020-01-01T00:00:00Z "
        "(inactive)"]
    assert lines.nth(1).get_attribute("class") == "inactive"
    page.wait_for_timeout(2500)  # a refresh or more: the list is rebuilt, still open
    assert north.locator("details.agreements").get_attribute("open") is not None
    assert page.locator("#partners li[data-partner=west] details[open]").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "partners.png"))


def test_a_track_from_partners_shows_them_and_its_provenance(
        page: Any, served: Served) -> None:
    served.fed.asked.clear()
    page.fill("#search", "FED102")
    page.press("#search", "Enter")
    panel = page.locator("#panel")
    panel.wait_for(state="visible", timeout=5_000)
    assert panel.get_attribute("data-track-id") == "102"
    assert details(page)["Partners"] == "west, north"
    assert details(page)["Sources"] == "partner"
    provenance = panel.locator("h3", has_text="Provenance")
    provenance.wait_for(timeout=5_000)
    rows = details(page)
    assert re.fullmatch(r"track 12 · adsb, mlat · \d+ s ago", rows["west"]), rows["west"]
    assert re.fullmatch(r"track 7 · radar_ssr · \d+ s ago", rows["north"]), rows["north"]
    assert 102 in served.fed.asked
    page.screenshot(path=str(ARTIFACTS / "partners-track.png"))

    page.fill("#search", "MIX103")
    page.press("#search", "Enter")
    page.wait_for_selector("#panel[data-track-id='103']", timeout=5_000)
    page.wait_for_function("document.querySelector('#panel').textContent.includes('9001')",
                           timeout=5_000)
    assert details(page)["Partners"] == "east"
    assert details(page)["east"].startswith("track 9001 · adsb · ")

    page.fill("#search", "OWN101")
    page.press("#search", "Enter")
    page.wait_for_selector("#panel[data-track-id='101']", timeout=5_000)
    page.wait_for_timeout(300)
    assert details(page)["Partners"] == "\u2013"  # a federation, but none contributed
    assert panel.locator("h3", has_text="Provenance").count() == 0
    assert 101 not in served.fed.asked  # nothing to ask about a track of our own
    page.fill("#search", "")
    page.click("#panel [data-role=close]")


def test_without_federation_no_partner_feature(browser: Any, served: Served) -> None:
    assert httpx.get(f"{served.node_url}/api/partners").json()["partners"] == []
    track = httpx.get(f"{served.node_url}/api/picture").json()["tracks"][0]
    page = open_page(browser, served, f"{served.node_url}/#sel={track['id']}")
    try:
        with page.expect_response(lambda r: r.url.endswith("/api/partners"), timeout=10_000):
            pass  # at least one poll answered since the page loaded
        page.wait_for_selector(f"#panel[data-track-id='{track['id']}']", timeout=10_000)
        assert page.locator("#partners-section").is_hidden()
        assert page.locator("#partners li").count() == 0
        rows = details(page)
        assert "Sources" in rows and "Partners" not in rows
        assert page.locator("#panel h3", has_text="Provenance").count() == 0
    finally:
        page.context.close()


def test_nothing_failed(served: Served) -> None:
    assert served.external == []
    assert served.errors == []
    assert Path(ARTIFACTS / "partners.png").stat().st_size > 10_000
