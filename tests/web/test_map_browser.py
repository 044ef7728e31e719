"""The live map in a real browser: Debian's chromium driven by Playwright, against a
real node fed by synthetic Beast over loopback.

The page may talk to the node only: every request elsewhere is aborted and recorded,
and the test asserts there were none (the basemap is offline).  Aircraft are found
through the page's own controls (search box, legend, map clicks) and its status bar's
``data-track-count`` / ``data-shown-count`` attributes; no test hook is put on
``window``.  A screenshot is left in ``test-artifacts/map.png``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from skyshare.config import NodeConfig
from skyshare.node import Node, free_port
from skyshare.sources.base import SensorSpec
from skyshare.synth.feed import SyntheticFeed, serve_beast
from skyshare.synth.traffic import Traffic
from skyshare.web.assets import missing_vendor_files

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 # WebGL on the CPU: recent chromium no longer falls back to it by itself
                 "--enable-unsafe-swiftshader"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

if not CHROMIUM.exists():
    pytest.skip("no /usr/bin/chromium (make test installs Debian's chromium as root)",
                allow_module_level=True)
if missing_vendor_files():
    pytest.skip(f"map libraries not installed ({', '.join(missing_vendor_files())}): "
                "run make web-assets", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (dev)")


@dataclass
class Served:
    node: Node
    base: str
    external: list[str] = field(default_factory=list)  # requests the page tried elsewhere
    errors: list[str] = field(default_factory=list)  # uncaught script errors and warnings


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    traffic = Traffic(150, seed=7, start_time=time.time())
    traffic.set_squawk(int(traffic.state(time.time()).icao24[0]), 7700)  # one emergency
    beast_port = free_port()
    node = Node(NodeConfig(
        name="map-node", http_port=0, data_dir=Path(tmp_path_factory.mktemp("node")),
        sensors=(SensorSpec(name="rx", index=0, format="beast", mode="connect",
                            port=beast_port),),
        picture_interval_s=0.5,
    ))
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def main() -> None:
        await asyncio.gather(serve_beast(SyntheticFeed(traffic), "127.0.0.1", beast_port,
                                         stop=stop), node.run(stop))

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 120  # the first run compiles the numba kernels
    while not node.ready.is_set() and time.monotonic() < deadline:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{node.http_port}"
    assert httpx.get(f"{base}/static/app.js").status_code == 200, "the node serves no map"
    # identification (callsigns) comes every ~5 s; the search test needs it
    while time.monotonic() < deadline:
        tracks = httpx.get(f"{base}/api/picture").json()["tracks"]
        if sum(t["callsign"] is not None and t["lat"] is not None for t in tracks) >= 100:
            break
        time.sleep(0.3)
    yield Served(node, base)
    loop.call_soon_threadsafe(stop.set)
    thread.join(timeout=20)
    assert not thread.is_alive(), "node did not stop"
    loop.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_page(browser: Any, served: Served, block: str | None = None) -> Any:
    """A page on the map; requests off the node are aborted and recorded."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})

    def only_the_node(route: Any) -> None:
        url = route.request.url
        if urlsplit(url).hostname != "127.0.0.1" or (block and block in url):
            if urlsplit(url).hostname != "127.0.0.1":
                served.external.append(url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", only_the_node)
    page = context.new_page()
    page.on("pageerror", lambda exc: served.errors.append(str(exc)))
    page.on("console", lambda msg: served.errors.append(msg.text) if (
        msg.type in ("error", "warning") and not block
        # the software GL's own performance notes, not the page's
        and not msg.text.startswith("[.WebGL-")) else None)
    page.goto(served.base + "/")
    return page


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
    target = next(t for t in tracks if t["callsign"] and t["lat"] is not None)
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
