"""EXERCISE from end to end, through a live node: the same sky is fed twice, once by a
real receiver and once by the exercise injector into an ``exercise: true`` sensor.

Every aircraft then has one real track and one EXERCISE track (never one of each
mixed), a scripted 7500 is an EXERCISE alert, a real 7700 is a real one, and every
audit entry of each case carries its marking: nothing real is ever marked, nothing
marked is ever shown as real."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import Counter
from pathlib import Path

import httpx
from web.nodes import node_in_thread  # tests/web (tests/ is on sys.path)

from exercise.scenes import scene
from skyshare.config import NodeConfig
from skyshare.exercise.inject import Injector
from skyshare.exercise.traffic import ScenarioTraffic
from skyshare.node import Node, free_port
from skyshare.sources.base import SensorSpec
from skyshare.synth.feed import SyntheticFeed, serve_beast
from skyshare.synth.traffic import Traffic

REGION = (48.0, 4.0, 51.0, 8.0)
RECEIVER = (49.3, 5.2)


def test_exercise_traffic_is_marked_everywhere_and_real_traffic_nowhere(
        tmp_path: Path) -> None:
    sc = scene(duration_s=120, traffic={"aircraft": 12, "region": list(REGION)},
               sensors=[{"name": "ex", "partner": "west", "type": "adsb",
                         "position": [*RECEIVER, 100]}],
               events=[{"at_s": 3, "aircraft": "A", "squawk": 7500}])
    real_port = free_port()
    node = Node(NodeConfig(
        name="marking", partner="west", http_port=0, data_dir=tmp_path,
        sensors=(SensorSpec(name="roof", index=0, format="beast", mode="connect",
                            port=real_port, lat=RECEIVER[0], lon=RECEIVER[1]),
                 SensorSpec(name="ex", index=1, format="beast", mode="listen", port=0,
                            lat=RECEIVER[0], lon=RECEIVER[1], exercise=True)),
        picture_interval_s=0.5))
    real_emergency: list[int] = []

    async def feeds(stop: asyncio.Event) -> None:
        while not stop.is_set() and node.statuses[1].address.endswith(":0"):
            await asyncio.sleep(0.05)  # the exercise sensor listens on a port it chose
        start = time.time()
        real = Traffic(12, seed=sc.seed, region=REGION, start_time=start)
        state = real.state(start)
        address = int(state.icao24[~state.on_ground][0])
        real.set_squawk(address, 7700)
        real_emergency.append(address)
        port = int(node.statuses[1].address.rsplit(":", 1)[1])
        injector = Injector(sc, ScenarioTraffic(sc, start), {"ex": ("127.0.0.1", port)})
        await asyncio.gather(
            serve_beast(SyntheticFeed(real, receiver=RECEIVER), "127.0.0.1", real_port,
                        stop=stop),
            injector.run(stop))

    with node_in_thread(node, feeds) as url, httpx.Client(base_url=url, timeout=10) as http:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            alerts = http.get("/api/alerts", params={"all": "1"}).json()["alerts"]
            rules = {(a["rule"], a["exercise"]) for a in alerts}
            if {("squawk_7500", True), ("squawk_7700", False)} <= rules:
                break
            time.sleep(1.0)
        tracks = http.get("/api/picture").json()["tracks"]
    assert {("squawk_7500", True), ("squawk_7700", False)} <= rules, rules
    by_address = Counter((t["icao24"], t["exercise"]) for t in tracks)
    assert by_address[("abc123", True)] == 1 and by_address[("abc123", False)] == 0
    assert all(n == 1 for n in by_address.values())  # never two tracks of one kind
    both = {a for a, marked in by_address if marked} & {a for a, marked in by_address
                                                         if not marked}
    assert len(both) >= 3  # the same aircraft, seen for real and in the exercise, apart
    for a in alerts:  # the 7500 is only scripted, the 7700 only real
        if a["rule"] in ("squawk_7500", "squawk_7700"):
            assert a["exercise"] == (a["rule"] == "squawk_7500"), a
    assert any(a["icao24"] == f"{real_emergency[0]:06x}" and not a["exercise"]
               for a in alerts)
    marked = {a["id"]: a["exercise"] for a in alerts}
    with sqlite3.connect(f"file:{tmp_path / 'audit.sqlite'}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT subject, exercise FROM entries WHERE kind LIKE 'alert.%'"
                          ).fetchall()
    assert {s for s, _ in rows} >= set(marked)
    for subject, exercise in rows:
        if subject in marked:
            assert exercise == int(marked[subject]), subject
