"""Two simulated radars feed a real node over UDP: one aircraft, one track, whichever
radar sees it; a transponder that falls silent leaves a primary-only track and an
alert.  Everything goes through the real sockets, CAT048/CAT034 codec and trackers."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import numpy as np
from web.nodes import node_in_thread  # tests/web (tests/ is on sys.path)

from skyshare.config import NodeConfig
from skyshare.fusion.tracker import TrackerConfig
from skyshare.node import Node
from skyshare.radar.plots import RadarSite
from skyshare.radar.sim import RadarSimulator, RadarSpec
from skyshare.radar.sim_output import serve_udp
from skyshare.sources.base import SensorSpec
from skyshare.synth.traffic import Traffic

REGION = (48.8, 6.8, 51.4, 10.2)
MODE_S = RadarSpec(name="frankfurt", sac=1, sic=1, lat=50.05, lon=8.6, alt_m=150.0,
                   rotation_s=2.0, clutter_per_scan=4.0)
CONVENTIONAL = RadarSpec(name="eifel", sac=1, sic=2, lat=50.4, lon=7.4, alt_m=600.0,
                         rotation_s=2.5, clutter_per_scan=4.0, mode_s=False)
SILENT_AFTER_S = 6.0


def sensor(index: int, spec: RadarSpec) -> SensorSpec:
    site = RadarSite(spec.lat, spec.lon, spec.alt_m, spec.range_sigma_m,
                     spec.azimuth_sigma_deg, spec.rotation_s)
    return SensorSpec(name=spec.name, index=index, format="asterix", mode="udp", port=0,
                      lat=spec.lat, lon=spec.lon, alt_m=spec.alt_m, radar=site)


def pick_aircraft(traffic: Traffic, t: float) -> int:
    """An aircraft cruising well inside the Mode S radar's coverage."""
    state = traffic.state(t)
    dist = np.hypot(state.lat - MODE_S.lat, (state.lon - MODE_S.lon) * 0.64) * 111.0
    rows = np.flatnonzero(~state.on_ground & (state.alt_baro >= 9000) & (dist < 100.0))
    assert len(rows), "no aircraft to silence"
    return int(state.icao24[rows[0]])


def test_radars_over_udp_make_one_track_per_aircraft_and_catch_a_silent_transponder(
        tmp_path: Path) -> None:
    start = time.time()
    traffic = Traffic(40, seed=5, region=REGION, start_time=start)
    silent = pick_aircraft(traffic, start + 30.0)
    simulator = RadarSimulator(traffic, [MODE_S, CONVENTIONAL], seed=2,
                               transponder_off={silent: start + SILENT_AFTER_S})
    node = Node(NodeConfig(
        name="radar-node", http_port=0, data_dir=tmp_path,
        sensors=(sensor(0, MODE_S), sensor(1, CONVENTIONAL)),
        tracker=TrackerConfig(coast_after_s=6.0), picture_interval_s=0.5))

    async def radars(stop: asyncio.Event) -> None:
        while not stop.is_set() and any(s.address.endswith(":0") for s in node.statuses):
            await asyncio.sleep(0.05)  # the node binds port 0: wait for the real ports
        targets = {i: ("127.0.0.1", int(s.address.rsplit(":", 1)[1]))
                   for i, s in enumerate(node.statuses)}
        await serve_udp(simulator, targets, stop)

    with node_in_thread(node, radars) as url, httpx.Client(base_url=url, timeout=10) as http:
        deadline = time.monotonic() + 90
        primary_only: list[dict[str, object]] = []
        lost: list[dict[str, object]] = []
        while not (primary_only and lost) and time.monotonic() < deadline:
            time.sleep(0.5)
            tracks = http.get("/api/picture").json()["tracks"]
            primary_only += [t for t in tracks if t["icao24"] == f"{silent:06x}"
                             and t["primary_only"]]
            lost = [a for a in http.get("/api/alerts").json()["alerts"]
                    if a["rule"] == "transponder_loss" and a["icao24"] == f"{silent:06x}"]
        sensors = {s["name"]: s for s in http.get("/api/sensors").json()["sensors"]}
    assert primary_only, f"{silent:06x} never shown on primary radar alone"
    assert "radar_psr" in primary_only[-1]["sources"]
    assert lost
    addresses = [t["icao24"] for t in tracks if t["icao24"]]
    assert len(addresses) == len(set(addresses)) > 10  # one track per aircraft
    # no clutter track: a radar-only track is an aircraft the conventional radar sees
    # (Mode A/C) and the Mode S radar does not, never a second track of a known one
    for lone in (t for t in tracks if not t["icao24"]):
        assert lone["squawk"] and lone["sensors"] == ["eifel"], lone
        twins = [t for t in tracks if t["icao24"] and t["squawk"] == lone["squawk"]
                 and abs(t["lat"] - lone["lat"]) < 0.05 and abs(t["lon"] - lone["lon"]) < 0.08]
        assert twins == [], (lone, twins)
    # the conventional radar's Mode A/C plots joined the Mode S radar's tracks
    assert any(t["icao24"] and "eifel" in t["sensors"] for t in tracks)
    for name in ("frankfurt", "eifel"):
        assert sensors[name]["messages"] > 0
        assert not any(k.startswith("asterix") for k in sensors[name]["bad_input"]), sensors[name]
