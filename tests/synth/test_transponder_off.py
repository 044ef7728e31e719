"""A transponder switched off on the traffic: the ADS-B feed falls silent for that
aircraft, radars see it on the primary channel only, and the demo incident picks an
aircraft inside the given circle."""

from __future__ import annotations

import numpy as np

from skyshare.alerts.rules import distance_nm
from skyshare.badinput import BadInput
from skyshare.decode.modes import ModeSDecoder
from skyshare.radar.sim import RadarSimulator, RadarSpec
from skyshare.synth.feed import SyntheticFeed
from skyshare.synth.incidents import start_incident
from skyshare.synth.traffic import Traffic

T0 = 1_750_000_000.0
REGION = (48.8, 6.8, 51.4, 10.2)


def addresses(feed: SyntheticFeed, t0: float, t1: float) -> set[int]:
    reports = ModeSDecoder(bad_for=lambda _: BadInput(quiet=True)).decode(
        feed.frames_between(t0, t1))
    return set(reports["icao24"].tolist())


def test_the_feed_and_the_radar_obey_a_silent_transponder() -> None:
    traffic = Traffic(30, seed=4, region=REGION, start_time=T0)
    state = traffic.state(T0 + 10)
    address = int(state.icao24[np.flatnonzero(~state.on_ground)[0]])
    feed = SyntheticFeed(traffic)
    radar = RadarSimulator(traffic, [RadarSpec(name="r", lat=50.0, lon=8.5, mode_s=True,
                                               clutter_per_scan=0.0)])
    assert address in addresses(feed, T0, T0 + 10)
    traffic.set_transponder_off(address, T0 + 10)
    assert address in addresses(feed, T0 + 5, T0 + 10)  # before: heard
    assert address not in addresses(feed, T0 + 10, T0 + 20)
    assert len(addresses(feed, T0 + 10, T0 + 20)) > 5  # the others still are
    seen = radar.plots_between(T0 + 10, T0 + 40)
    mine = seen.truth_icao24 == address
    assert mine.any() and (seen.plots["typ"][mine] == 1).all()  # primary only
    assert (seen.plots["icao24"][mine] == 0xFFFFFFFF).all()
    traffic.set_transponder_off(address, None)
    assert address in addresses(feed, T0 + 40, T0 + 50)


def test_a_transponder_incident_happens_inside_its_circle() -> None:
    traffic = Traffic(200, seed=7, region=REGION, start_time=T0)
    rng = np.random.default_rng(1)
    for _ in range(5):
        address = start_incident(traffic, T0 + 600, rng, silence=(50.0, 8.5, 60.0))
        assert address is not None
        state = traffic.state(T0 + 600)
        row = int(np.flatnonzero(state.icao24 == address)[0])
        assert distance_nm(state.lat[row:row + 1], state.lon[row:row + 1], 50.0, 8.5)[0] <= 60
        assert traffic.transponder_silent(address, T0 + 601)
        assert state.squawk[row] not in (7500, 7600, 7700)
