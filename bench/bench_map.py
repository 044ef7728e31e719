"""The live map with 20,000 aircraft: frame times and JS heap in Debian's chromium.

A stub node serves the real page (``static_routes``) and a ``/api/stream`` that sends
the node's own binary frames (``skyshare.web.wire``): a snapshot of N aircraft, then
one delta a second in which every aircraft has moved (the worst case: a real delta
carries only the tracks that changed).  Playwright drives ``/usr/bin/chromium``; the page's own
``requestAnimationFrame`` deltas are recorded for ``--seconds`` while the map is panned
a little every second (so MapLibre redraws), then the median and p95 frame time and
the JS heap (CDP ``Performance.getMetrics``) are printed.

    python bench/bench_map.py [--aircraft 20000] [--seconds 20]

Needs ``make web-assets`` (the map's npm files) and the ``playwright`` package; the
browser is the system chromium, never a downloaded one.  Software WebGL (SwiftShader,
no GPU) makes these figures a pessimistic bound for a desktop with a GPU.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import socket
import statistics
import threading
import time

import numpy as np
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from skyshare.model import SourceKind, TrackFlag, empty_tracks
from skyshare.picture import Delta
from skyshare.web.static_routes import static_routes
from skyshare.web.wire import encode_delta

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--enable-unsafe-swiftshader"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Fleet:
    """N aircraft flying straight lines over Europe, as the stream's columns."""

    def __init__(self, n: int, seed: int = 1) -> None:
        rng = np.random.default_rng(seed)
        self.n = n
        self.lat = rng.uniform(36, 60, n)
        self.lon = rng.uniform(-10, 30, n)
        self.alt = rng.choice([0, 1500, 6000, 15000, 25000, 35000, 41000], n).astype(float)
        self.gs = rng.uniform(150, 480, n)
        self.track = rng.uniform(0, 360, n)
        self.callsign = np.array([f"BCH{i:05d}".encode() for i in range(n)], dtype="S8")
        self.version = 0

    def step(self, dt: float) -> None:
        d = self.gs * dt / 3600 / 60  # nautical miles per degree of latitude: 60
        rad = np.radians(self.track)
        self.lat += d * np.cos(rad)
        self.lon += d * np.sin(rad) / np.cos(np.radians(self.lat))
        self.version += 1

    def tracks(self) -> np.ndarray:
        now = time.time()
        t = empty_tracks(self.n)
        t["track_id"] = np.arange(1, self.n + 1)
        t["icao24"] = 0x400000 + np.arange(self.n)
        t["flags"] = TrackFlag.CONFIRMED | np.where(self.alt == 0, TrackFlag.ON_GROUND, 0)
        t["callsign"] = self.callsign
        t["squawk"] = np.where(np.arange(self.n) == 0, 7700, 1000)
        t["category"] = 0xA3
        t["lat"], t["lon"], t["alt"] = self.lat, self.lon, self.alt
        t["groundspeed"], t["track"], t["vertical_rate"] = self.gs, self.track, 0
        t["pos_sigma"], t["nic"], t["nacp"], t["sil"], t["rssi"] = 15, 8, 9, 3, -20
        t["first_seen"], t["last_seen"], t["last_pos"] = now - 60, now - 0.2, now - 0.3
        t["messages"], t["sensors"], t["sources"] = 100, 1, 1 << SourceKind.ADSB
        return t

    def frame(self, full: bool) -> bytes:
        """The node's binary stream frame (skyshare.web.wire) for the whole fleet."""
        delta = Delta(self.version, time.time(), self.tracks(), np.zeros(0, np.uint32), full)
        return encode_delta(delta, time.time(), ["bench"])


def stub_app(fleet: Fleet) -> Starlette:
    async def status(request: Request) -> Response:
        return JSONResponse({"node": "bench", "tracks": fleet.n, "frames": fleet.version * 40_000})

    async def sensors(request: Request) -> Response:
        return JSONResponse({"sensors": [{"name": "bench", "format": "beast", "mode": "connect",
                                          "address": None, "connected": True, "rate": 40_000}]})

    async def stream(ws: WebSocket) -> None:
        await ws.accept()
        try:
            await ws.send_bytes(fleet.frame(full=True))
            while True:
                await asyncio.sleep(1.0)
                fleet.step(1.0)
                await ws.send_bytes(fleet.frame(full=False))
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass

    return Starlette(routes=[*static_routes("bench"), Route("/api/status", status),
                             Route("/api/sensors", sensors), WebSocketRoute("/api/stream", stream)])


# the whole fleet in view (dots), and a close view of a few thousand (rotated symbols)
VIEWS = {"overview, zoom 4.5": "4.5/48/10", "close, zoom 8": "8/48/10"}

RECORD_FRAMES = """(seconds) => new Promise((resolve) => {
  const deltas = []; let last = performance.now(); const end = last + seconds * 1000;
  const tick = (now) => { deltas.push(now - last); last = now;
    if (now < end) requestAnimationFrame(tick); else resolve(deltas); };
  requestAnimationFrame(tick);
})"""


def measure(base: str, view: str, seconds: float, n: int) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        started = time.monotonic()
        page.goto(f"{base}/#map={view}")
        page.wait_for_selector("body[data-map=ready]", timeout=60_000)
        page.wait_for_function(f"document.getElementById('status').dataset.shownCount >= {n}",
                               timeout=60_000)
        loaded_s = time.monotonic() - started
        box = page.locator("#map").bounding_box()
        assert box is not None, "the map element is not displayed"
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        frames = page.evaluate_handle(RECORD_FRAMES, seconds)
        for i in range(int(seconds)):  # a small pan every second keeps the map redrawing
            page.mouse.move(cx, cy)
            page.mouse.down()
            page.mouse.move(cx + (15 if i % 2 else -15), cy, steps=5)
            page.mouse.up()
            page.wait_for_timeout(900)
        deltas = sorted(frames.json_value()[1:])
        metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        browser.close()
    return {
        "load_s": loaded_s,
        "frames": len(deltas),
        "median_ms": statistics.median(deltas),
        "p95_ms": deltas[min(len(deltas) - 1, math.ceil(0.95 * len(deltas)) - 1)],
        "p99_ms": deltas[min(len(deltas) - 1, math.ceil(0.99 * len(deltas)) - 1)],
        "max_ms": deltas[-1],
        "heap_mb": metrics["JSHeapUsedSize"] / 2**20,
        "heap_total_mb": metrics["JSHeapTotalSize"] / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aircraft", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    fleet = Fleet(args.aircraft)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(stub_app(fleet), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off",
                                           ws="websockets-sansio"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        results = {name: measure(f"http://127.0.0.1:{port}", view, args.seconds, args.aircraft)
                   for name, view in VIEWS.items()}
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    print(f"live map, {args.aircraft} aircraft moving every second, {args.seconds:.0f} s a view, "
          "chromium with software WebGL (SwiftShader)")
    for name, r in results.items():
        print(f"  {name}: {r['frames']:.0f} frames, first picture after {r['load_s']:.1f} s")
        print(f"    frame time: median {r['median_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms, "
              f"p99 {r['p99_ms']:.1f} ms, max {r['max_ms']:.1f} ms")
        print(f"    JS heap: {r['heap_mb']:.0f} MiB used of {r['heap_total_mb']:.0f} MiB")

if __name__ == "__main__":
    main()
