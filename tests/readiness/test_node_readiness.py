"""Readiness of a live node, through its API, with sensors fed over real sockets.

One node, five sensors: the built-in synthetic receiver (a Beast client) and radar
(ASTERIX over UDP) are healthy; ``spare`` (a real Beast listener) and ``drill`` (an
exercise injector's listener) are fed by nobody; ``noisy`` gets Beast with garbage
between the frames; ``fast`` gets clean Beast whose 12 MHz clock runs twice too fast.
The API must say so (states, reasons, rates, ratios, clock, coverage), raise one
readiness alert per bad sensor (``drill``'s EXERCISE, the others not), route it, and
clear ``spare``'s once it is fed; the outlines must be on disk after the stop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow.parquet as pq
import pytest
from web.nodes import node_in_thread, wait_until  # tests/ is on sys.path

from skyshare.config import NodeConfig, SyntheticConfig
from skyshare.node import Node, free_port
from skyshare.readiness.settings import ReadinessConfig
from skyshare.sources.base import SensorSpec
from skyshare.sources.beast import encode_beast
from skyshare.synth.feed import SyntheticFeed
from skyshare.synth.traffic import Traffic

REGION = (48.0, 6.0, 51.0, 10.0)
SITE = (49.5, 8.0)
READINESS = ReadinessConfig(silent_after_s=4, window_s=5, baseline_s=20, history_s=60,
                            gap_s=2, max_error_ratio=0.1)


def listener(name: str, index: int, port: int, *, exercise: bool = False) -> SensorSpec:
    return SensorSpec(name=name, index=index, format="beast", mode="listen",
                      host="127.0.0.1", port=port, lat=SITE[0] + 0.1 * index, lon=SITE[1],
                      exercise=exercise)


async def feed(port: int, stop: asyncio.Event, *, garbage: float = 0.0,
               clock_rate: float = 1.0, after_s: float = 0.0, seed: int = 1) -> None:
    """Beast of synthetic traffic to ``port`` every 0.1 s (from ``after_s`` on)."""
    await asyncio.sleep(after_s)
    start = time.time()
    feeder = SyntheticFeed(Traffic(60, seed=seed, region=REGION, start_time=start - 600),
                           receiver=SITE, clock_epoch=start - 1000)
    rng = np.random.default_rng(seed)
    writer = None
    last = time.time()
    while not stop.is_set():
        if writer is None:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.2)
                continue
        now = time.time()
        frames = feeder.frames_between(last, now)
        last = now
        if clock_rate != 1.0:
            ticks = frames["clock"].astype(np.float64)
            frames["clock"] = (ticks * clock_rate).astype(np.uint64)
        data = encode_beast(frames) if len(frames) else b""
        if garbage and data:
            noise = rng.integers(0, 256, int(len(data) * garbage), np.uint8)
            noise[noise == 0x1A] = 0  # noise, not frames
            data = data[: len(data) // 2] + noise.tobytes() + data[len(data) // 2:]
        writer.write(data)
        await writer.drain()
        await asyncio.sleep(0.1)
    writer.close()


def readiness_of(base: str) -> dict[str, Any]:
    doc = httpx.get(f"{base}/api/readiness", timeout=5).json()
    return {s["name"]: s for s in doc["sensors"]} | {"": doc}


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Node, Path]]:
    data_dir = tmp_path_factory.mktemp("ready")
    ports = [free_port() for _ in range(4)]
    sensors = (listener("spare", 0, ports[0]), listener("drill", 1, ports[1], exercise=True),
               listener("noisy", 2, ports[2]), listener("fast", 3, ports[3]))
    config = NodeConfig(name="ready", partner="home", http_port=free_port(),
                        data_dir=data_dir, sensors=sensors, readiness=READINESS,
                        synthetic=SyntheticConfig(aircraft=80, region=REGION, receiver=SITE,
                                                  radar=(SITE[0], SITE[1] + 0.5, 200.0)))
    node = Node(config)

    async def spare(stop: asyncio.Event) -> None:  # fed only after it has gone silent
        await feed(ports[0], stop, after_s=14.0, seed=2)

    async def noisy(stop: asyncio.Event) -> None:
        await feed(ports[2], stop, garbage=0.6, seed=3)

    async def fast(stop: asyncio.Event) -> None:
        await feed(ports[3], stop, clock_rate=2.0, seed=4)

    with node_in_thread(node, spare, noisy, fast) as base:
        yield base, node, data_dir


def test_every_sensor_is_judged_as_it_is(running: tuple[str, Node, Path]) -> None:
    base, _, _ = running
    first = readiness_of(base)
    assert first["spare"]["state"] in ("waiting", "silent")
    wanted = {"spare": "silent", "drill": "silent", "noisy": "degraded", "fast": "degraded"}
    got: dict[str, Any] = {}  # each sensor as first seen in its expected state

    def all_found() -> bool:
        r = readiness_of(base)
        got.update({k: r[k] for k, v in wanted.items() if r[k]["state"] == v and k not in got})
        if r["spare"]["state"] == "silent":  # spare is fed after 14 s: the node's state then
            got.setdefault("", r[""])
        return set(wanted) <= set(got)

    wait_until("the bad sensors found out", all_found, 40)
    got |= {k: v for k, v in readiness_of(base).items() if k.startswith("synthetic")}
    spare, drill, noisy, fast = got["spare"], got["drill"], got["noisy"], got["fast"]
    synthetic, radar = got["synthetic"], got["synthetic-radar"]
    assert "nothing received" in spare["reasons"][0] and spare["silent_s"] is None
    assert drill["exercise"] and not spare["exercise"]
    assert synthetic["state"] == "ok" and synthetic["rate"] > 10
    assert synthetic["error_ratio"] == 0 and synthetic["decoded_ratio"] > 0.9
    assert radar["state"] == "ok" and radar["rate"] > 0 and radar["clock"] is None
    assert noisy["error_ratio"] > 0.1 and noisy["reasons"][0].startswith("errors")
    assert noisy["totals"]["bad_input"].get("beast-garbage", 0) > 0
    assert fast["clock"] is not None and fast["clock"]["drift_ppm"] > 0.9e6  # twice as fast
    assert any(r.startswith("clock") for r in fast["reasons"])
    # a true clock: within the threshold (over half a minute, a loaded machine's
    # scheduling moves the fitted line by tens of ppm)
    assert synthetic["clock"] is not None
    assert abs(synthetic["clock"]["drift_ppm"]) < READINESS.max_clock_drift_ppm / 2
    assert radar["coverage"]["max_range_nm"] > 10 and radar["coverage"]["bearings_seen"] > 0
    assert got[""]["state"] == "impaired" and got[""]["sensor_states"]["silent"] == 2


def test_bad_sensors_raise_readiness_alerts_and_a_fed_one_clears(
        running: tuple[str, Node, Path]) -> None:
    base, node, _ = running

    def cases() -> dict[str, dict[str, Any]]:
        listing = httpx.get(f"{base}/api/alerts?all=1", timeout=5).json()["alerts"]
        return {c["sensor"]: c for c in listing if c["sensor"]}

    found = wait_until("readiness alerts", lambda: c if {"spare", "drill", "noisy", "fast"}
                       <= set(c := cases()) else None, 40)
    assert found["spare"]["rule"] == "sensor_silent" and found["drill"]["rule"] == "sensor_silent"
    assert found["noisy"]["rule"] == found["fast"]["rule"] == "sensor_degraded"
    assert found["drill"]["exercise"] is True
    assert not any(found[s]["exercise"] for s in ("spare", "noisy", "fast"))
    assert found["spare"]["partner"] == "home" and "nothing received" in found["spare"]["detail"]
    assert "synthetic" not in found and "synthetic-radar" not in found
    # spare is fed from 14 s on: ok again, its alert cleared (2 evaluations + 10 s)
    wait_until("spare fed", lambda: readiness_of(base)["spare"]["state"] == "ok", 40)
    wait_until("spare's alert cleared", lambda: not cases()["spare"]["condition_active"], 30)
    assert cases()["drill"]["condition_active"]
    assert node.readiness.working()[0]  # and it counts for coverage again


def test_the_coverage_outlines_are_served_and_kept(running: tuple[str, Node, Path]) -> None:
    base, node, data_dir = running
    doc = httpx.get(f"{base}/api/readiness/coverage", timeout=5).json()
    names = {f["properties"]["sensor"] for f in doc["features"]}
    assert "synthetic-radar" in names and "noisy" in names
    assert all(f["geometry"]["type"] == "Polygon" for f in doc["features"])
    node.readiness.save()
    table = pq.read_table(data_dir / "readiness" / "coverage.parquet")
    assert set(table.column("sensor").to_pylist()) >= {"synthetic-radar", "noisy"}
