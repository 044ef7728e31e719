"""The live map in a real browser: Debian's chromium driven by Playwright, against a
real node fed by synthetic Beast over loopback.

The page may talk to the node only: every request elsewhere is aborted and recorded,
and the test asserts there were none (the basemap is offline).  Aircraft are found
through the page's own controls (search box, legend, map clicks) and its status bar's
``data-track-count`` / ``data-shown-count`` attributes; no test hook is put on
``window``.  A screenshot is left in ``test-artifacts/map.png``.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np
import pytest
from chromium import ARTIFACTS, open_on_loopback, require_chromium
from nodes import node_in_thread  # tests/web, on sys.path for its tests

from skyshare.config import MapConfig, NodeConfig
from skyshare.node import Node, free_port
from skyshare.sources.base import SensorSpec
from skyshare.synth.feed import SyntheticFeed, serve_beast
from skyshare.synth.traffic import Traffic
from skyshare.web.assets import missing_vendor_files


def _blank_png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (256, 256), (40, 60, 80)).save(out, format="PNG")
    return out.getvalue()


BLANK_TILE = _blank_png()

require_chromium()
if missing_vendor_files():
    pytest.skip(f"map libraries not installed ({', '.join(missing_vendor_files())}): "
                "run make web-assets", allow_module_level=True)


@dataclass
class Served:
    node: Node
    base: str
    external: list[str] = field(default_factory=list)  # requests the page tried elsewhere
    errors: list[str] = field(default_factory=list)  # uncaught script errors and warnings


SENSOR_AT = (48.0, 10.0)  # lat, lon of the test receiver, drawn by the sensor layer


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    traffic = Traffic(150, seed=7, start_time=time.time())
    traffic.set_squawk(int(traffic.state(time.time()).icao24[0]), 7700)  # one emergency
    beast_port = free_port()
    node = Node(NodeConfig(
        name="map-node", http_port=0, data_dir=Path(tmp_path_factory.mktemp("node")),
        sensors=(SensorSpec(name="rx", index=0, format="beast", mode="connect",
                            port=beast_port, lat=SENSOR_AT[0], lon=SENSOR_AT[1]),),
        picture_interval_s=0.5,
    ))
    feed = partial(serve_beast, SyntheticFeed(traffic), "127.0.0.1", beast_port)
    with node_in_thread(node, lambda stop: feed(stop=stop)) as base:
        assert httpx.get(f"{base}/static/app.js").status_code == 200, "the node serves no map"
        # identification (callsigns) comes every ~5 s; the search test needs it
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            tracks = httpx.get(f"{base}/api/picture").json()["tracks"]
            if sum(t["callsign"] is not None and t["lat"] is not None for t in tracks) >= 100:
                break
            time.sleep(0.3)
        yield Served(node, base)


def open_page(browser: Any, served: Served, block: str | None = None) -> Any:
    """A page on the map; requests off the node are aborted and recorded."""
    return open_on_loopback(browser, served.base + "/", served.external, served.errors,
                            block=block)


@pytest.fixture(scope="module")
def page(browser: Any, served: Served) -> Iterator[Any]:
    page = open_page(browser, served)
    page.wait_for_selector("body[data-map=ready]", timeout=20_000)
    page.wait_for_function(
        "document.getElementById('status').dataset.shownCount >= 100", timeout=20_000)
    yield page
    page.context.close()


def shown(page: Any) -> int:
    return int(page.get_attribute("#status", "data-shown-count"))


def test_map_loads_offline_with_the_node_aircraft(page: Any, served: Served) -> None:
    status = page.locator("#status")
    assert int(status.get_attribute("data-track-count")) >= 100
    assert status.get_attribute("data-connection") == "connected"
    page.wait_for_function("document.title === 'skyshare map-node'", timeout=5_000)
    assert page.locator("#legend input[data-band]").count() == 7
    page.wait_for_selector("#sensors li.up", timeout=10_000)
    assert "rx" in page.inner_text("#sensors")
    assert page.locator("#banner").is_hidden()
    page.wait_for_function(  # the message rate needs two status polls
        "!document.querySelector('[data-role=rate]').textContent.startsWith('\u2013')",
        timeout=10_000)
    assert served.external == []
    assert served.errors == []


def test_search_selects_an_aircraft_and_shows_its_details(page: Any, served: Served) -> None:
    tracks = httpx.get(f"{served.base}/api/picture").json()["tracks"]

    def unique(t: dict[str, Any]) -> bool:  # the search matches substrings: "EZY12" ⊂ "EZY123"
        return sum(t["callsign"] in (o["callsign"] or "") for o in tracks) == 1

    target = next(t for t in tracks if t["callsign"] and t["lat"] is not None and unique(t))
    page.fill("#search", target["callsign"])
    page.wait_for_function("document.getElementById('status').dataset.shownCount === '1'",
                           timeout=5_000)
    page.press("#search", "Enter")
    panel = page.locator("#panel")
    panel.wait_for(state="visible", timeout=5_000)
    assert panel.locator("[data-role=title]").inner_text() == target["callsign"]
    text = panel.inner_text()
    for expected in (target["icao24"], "Sensors", "rx", "NACp", "Track age"):
        assert expected in text
    assert panel.get_attribute("data-track-id") == str(target["id"])
    assert f"sel={target['id']}" in page.url

    # the map centred on it: a real click there selects it again from the map itself
    page.click("#panel [data-role=close]")
    assert panel.is_hidden() and "sel=" not in page.url
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    panel.wait_for(state="visible", timeout=5_000)
    assert panel.get_attribute("data-track-id") == str(target["id"])
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "map-selected.png"))
    page.fill("#search", "")
    page.click("#panel [data-role=close]")


def test_an_emergency_squawk_stands_out(page: Any) -> None:
    page.fill("#search", "7700")
    page.wait_for_function("document.getElementById('status').dataset.shownCount === '1'",
                           timeout=15_000)
    page.press("#search", "Enter")
    panel = page.locator("#panel")
    panel.wait_for(state="visible", timeout=5_000)
    assert "emergency" in (panel.get_attribute("class") or "")
    assert "7700" in panel.inner_text()
    page.fill("#search", "")
    page.click("#panel [data-role=close]")


def test_altitude_filter_hides_the_other_bands(page: Any) -> None:
    page.wait_for_function("document.getElementById('status').dataset.shownCount >= 100")
    everything = shown(page)
    high = [4, 5, 6]  # 20,000 ft and above
    for band in high:
        page.uncheck(f"#legend input[data-band='{band}']")
    page.wait_for_function(f"document.getElementById('status').dataset.shownCount < {everything}",
                           timeout=5_000)
    low = shown(page)
    assert 0 < low < everything
    for band in high:
        page.check(f"#legend input[data-band='{band}']")
    page.wait_for_function(f"document.getElementById('status').dataset.shownCount > {low}",
                           timeout=5_000)


def test_source_filter_hides_what_no_chosen_source_saw(page: Any) -> None:
    page.wait_for_function("document.getElementById('status').dataset.shownCount >= 100")
    assert page.locator("#sources input[data-source]").count() == 5
    page.uncheck("#sources input[data-source='0']")  # ADS-B: every synthetic track
    page.wait_for_function("document.getElementById('status').dataset.shownCount === '0'",
                           timeout=5_000)
    page.check("#sources input[data-source='0']")
    page.wait_for_function("document.getElementById('status').dataset.shownCount >= 100",
                           timeout=5_000)


def pixels_near_centre(page: Any, radius: int) -> np.ndarray:
    """RGB pixels of the map within ``radius`` px of its centre, shape (n, 3)."""
    box = page.locator("#map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    png = page.screenshot(clip={"x": cx - radius, "y": cy - radius,
                                "width": 2 * radius, "height": 2 * radius})
    from PIL import Image  # matplotlib's dependency, in the dev extras

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3).astype(int)


def test_sensor_layer_marks_the_receiver(page: Any) -> None:
    lat, lon = SENSOR_AT
    page.evaluate(f"window.location.hash = '#map=9/{lat}/{lon}'")
    page.wait_for_timeout(800)
    up = np.array([0x4C, 0xAF, 0x50])  # settings.sensors.upColour
    near = np.abs(pixels_near_centre(page, 8) - up).sum(axis=1) < 40
    assert near.sum() >= 10, "no sensor marker at the receiver's position"
    far = np.abs(pixels_near_centre(page, 200) - up).sum(axis=1) < 40
    assert far.sum() < 400, "the sensor colour is everywhere: not a marker"


def test_measure_tool_gives_distance_and_bearing(page: Any) -> None:
    page.click("#measure")
    box = page.locator("#map").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.click(box["x"] + box["width"] * 0.3, y)
    page.mouse.click(box["x"] + box["width"] * 0.7, y)
    readout = page.inner_text("#measure-readout")
    assert "NM" in readout and "°" in readout
    bearing = int(readout.split(",")[1].strip().rstrip("°"))
    # left to right on a north-up map is about east; the great circle's initial bearing
    # turns poleward of 90° the wider the span and the higher the latitude
    assert 60 <= bearing <= 120, readout
    page.click("#measure")
    assert page.locator("#panel").is_hidden()  # measuring clicks select nothing


def test_screenshot_of_the_whole_picture(page: Any, served: Served) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(1200)
    page.screenshot(path=str(ARTIFACTS / "map.png"))
    assert (ARTIFACTS / "map.png").stat().st_size > 10_000
    assert served.errors == [] and served.external == []


def test_online_tiles_from_the_node_config(browser: Any, tmp_path: Path) -> None:
    template = "https://tiles.example.org/{z}/{x}/{y}.png"
    node = Node(NodeConfig(name="tiles", http_port=0, data_dir=tmp_path,
                           map=MapConfig(tile_url=template, attribution="Example tiles")))
    requested: list[str] = []
    with node_in_thread(node) as base:
        context = browser.new_context(viewport={"width": 800, "height": 600})

        def tiles_only(route: Any) -> None:
            url = route.request.url
            if url.startswith("https://tiles.example.org/"):
                requested.append(url)
                route.fulfill(status=200, content_type="image/png", body=BLANK_TILE)
            elif urlsplit(url).hostname == "127.0.0.1":
                route.continue_()
            else:
                route.abort()

        context.route("**/*", tiles_only)
        page = context.new_page()
        try:
            page.goto(base + "/#map=5/48/10")
            page.wait_for_selector("body[data-map=ready]", timeout=20_000)
            page.wait_for_function("document.querySelector('.maplibregl-ctrl-attrib')"
                                   "?.textContent.includes('Example tiles')", timeout=10_000)
        finally:
            context.close()
    assert requested, "the configured tile server was never asked"
    assert all(re.fullmatch(r"https://tiles\.example\.org/\d+/\d+/\d+\.png", u) for u in requested)


def test_without_the_map_library_the_page_says_so(browser: Any, served: Served) -> None:
    page = open_page(browser, served, block="/static/vendor/")
    try:
        page.wait_for_selector("#banner", state="visible", timeout=10_000)
        assert page.inner_text("#banner") == "map library not installed: run make"
        assert page.get_attribute("body", "data-map") == "missing"
        # the stream and the API still work: the status bar counts the tracks
        page.wait_for_function(
            "document.getElementById('status').dataset.trackCount >= 100", timeout=10_000)
    finally:
        page.context.close()
