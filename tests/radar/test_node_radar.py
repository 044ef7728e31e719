"""Two simulated radars feed a real node over UDP: one aircraft, one track, whichever
radar sees it; a transponder that falls silent leaves a primary-only track and an
alert; the picture goes out as CAT062.  Everything goes through the real sockets,
CAT048/CAT034/CAT062 codecs and trackers; libasterix reads what the node sends."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import httpx
import numpy as np
from asterix.generated import Cat_062_1_18
from asterix_oracle import oracle_system_tracks
from web.nodes import node_in_thread  # tests/web (tests/ is on sys.path)

from skyshare.config import NodeConfig
from skyshare.fusion.tracker import TrackerConfig
from skyshare.node import Node
from skyshare.outputs import Cat062Output
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
    simulator = RadarSimulator(traffic, [MODE_S, CONVENTIONAL], seed=2)
    centre = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # a centre taking CAT062
    centre.bind(("127.0.0.1", 0))
    centre.settimeout(5.0)
    node = Node(NodeConfig(
        name="radar-node", http_port=0, data_dir=tmp_path,
        sensors=(sensor(0, MODE_S), sensor(1, CONVENTIONAL)),
        tracker=TrackerConfig(coast_after_s=6.0), picture_interval_s=0.5,
        outputs=(Cat062Output("127.0.0.1", centre.getsockname()[1], sac=25, sic=7,
                              interval_s=0.5),)))

    async def radars(stop: asyncio.Event) -> None:
        while not stop.is_set() and any(s.address.endswith(":0") for s in node.statuses):
            await asyncio.sleep(0.05)  # the node binds port 0: wait for the real ports
        targets = {i: ("127.0.0.1", int(s.address.rsplit(":", 1)[1]))
                   for i, s in enumerate(node.statuses)}
        # silent a few scans after the node starts listening, however long it took to
        # start (a cold numba cache compiles for tens of seconds)
        traffic.set_transponder_off(silent, time.time() + SILENT_AFTER_S)
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
        sent = http.get("/api/picture").json()["tracks"]
        centre.setblocking(False)  # what queued up meanwhile: not one picture
        try:
            while True:
                centre.recv(2048)
        except BlockingIOError:
            pass
        while True:  # the next whole picture: datagrams until the one after a pause
            centre.settimeout(5.0)
            received = [oracle_system_tracks(centre.recv(2048), Cat_062_1_18)]
            centre.settimeout(0.2)
            try:
                while True:
                    received.append(oracle_system_tracks(centre.recv(2048), Cat_062_1_18))
            except TimeoutError:
                pass
            if sum(map(len, received)) >= 10:
                break
    centre.close()
    system_tracks = [t for part in received for t in part]
    assert {(t["sac"], t["sic"]) for t in system_tracks} == {(25, 7)}
    numbers = [t["track_number"] for t in system_tracks]
    assert len(numbers) == len(set(numbers))  # radar-only ids do not collide
    by_address = {f"{t['icao24']:06x}": t for t in system_tracks if "icao24" in t}
    shown = {t["icao24"]: t for t in sent if t["icao24"]}
    common = set(by_address) & set(shown)
    assert len(common) > 5
    for address in common:  # as libasterix reads it: where the picture had the track
        t, s = by_address[address], shown[address]
        assert abs(t["lat"] - s["lat"]) < 0.02 and abs(t["lon"] - s["lon"]) < 0.02
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
