"""What a scenario expects, and how what the nodes showed is scored.

Expectations are checked against geometry computed here independently (where the
scripted path crosses 7 E, where it enters the restricted disc); scoring is fed
observations shaped as the nodes' API returns them."""

from __future__ import annotations

import math
from typing import Any

import pytest
import shapely

from exercise.scenes import scene
from exercise.test_traffic import haversine_nm
from skyshare.exercise.expect import expectations
from skyshare.exercise.inject import SensorLog
from skyshare.exercise.observe import Observations, TrackSeen
from skyshare.exercise.score import false_alerts, score_one, summary
from skyshare.exercise.traffic import ScenarioTraffic

T0 = 1_800_000_000.0


def test_crossings_entries_and_actions_become_expectations() -> None:
    sc = scene(duration_s=900, events=[
        {"at_s": 10, "aircraft": "A", "squawk": 7600},
        {"at_s": 15, "aircraft": "A", "squawk": 1234},  # not an emergency: nothing due
        {"at_s": 20, "aircraft": "A", "transponder": "off"},
        {"at_s": 30, "aircraft": "A", "descend": {"rate_fpm": 2000, "to_ft": 30000}},
        {"at_s": 100, "aircraft": "A", "deviate": {"volume": "R-EX-ODENWALD"}},
        {"at_s": 50, "sensor": "e", "fail": {"duration_s": 60}},
        {"at_s": 60, "sensor": "w", "degrade": {"duration_s": 60}}])
    traffic = ScenarioTraffic(sc, T0)
    xs = expectations(sc, traffic)
    kinds = [(x.kind, x.rule) for x in xs]
    assert kinds[:5] == [("squawk", "squawk_7600"), ("transponder_off", "transponder_loss"),
                         ("descent", None), ("sensor_failure", "sensor_silent"),
                         ("sensor_degraded", "sensor_degraded")]
    assert [x.id for x in xs] == [f"E{i + 1}" for i in range(len(xs))]
    assert xs[0].responsible == ("west",) and xs[3].responsible == ("east",)
    crossing = next(x for x in xs if x.kind == "border_crossing")
    assert crossing.handover == ("west", "east") and crossing.responsible == ("east",)
    straight = scene(events=[])
    crossing = next(x for x in expectations(straight, ScenarioTraffic(straight, T0)))
    # flown from (49.6, 6.5) towards 9.0 E at 450 kt: 7 E comes after this long
    expected_t = haversine_nm(49.6, 6.5, 49.6, 7.0) / 450 * 3600
    assert crossing.kind == "border_crossing" and abs(crossing.at_s - expected_t) <= 2.0
    assert crossing.handover is None  # no alert open about it
    entry = next(x for x in xs if x.kind == "restricted_entry")
    t, lat, lon, _ = traffic.truth("A")
    disc = shapely.Point(8.5, 49.1).buffer(5 / 60 / math.cos(math.radians(49.1)), 256)
    disc = shapely.affinity.scale(disc, 1.0, math.cos(math.radians(49.1)))  # 5 NM circle
    inside = [float(tt) for tt, a, b in zip(t, lat, lon, strict=True)
              if disc.contains(shapely.Point(b, a))]
    assert inside and abs(entry.at_s - inside[0]) <= 3.0
    deviation = next(x for x in xs if x.kind == "deviation")
    assert deviation.course is not None and deviation.rule is None


def case(cid: str, rule: str, raised: float, **extra: Any) -> dict[str, Any]:
    return {"id": cid, "rule": rule, "icao24": "abc123", "callsign": "TST1", "sensor": None,
            "raised_at": raised, "exercise": True, "origin": None, "partner": "west",
            "history": [{"kind": "alert.raised", "time": raised, "actor": "system",
                         "data": {}}], "first_seen_at": raised, **extra}


@pytest.fixture
def squawk_scene() -> tuple[Any, Any, list[Any]]:
    sc = scene(events=[{"at_s": 10, "aircraft": "A", "squawk": 7500}])
    traffic = ScenarioTraffic(sc, T0)
    return sc, traffic, expectations(sc, traffic)


def test_an_alert_is_scored_from_raise_to_acknowledgement(squawk_scene: Any) -> None:
    xs = squawk_scene[2]
    x = next(x for x in xs if x.kind == "squawk")
    seen = Observations()
    origin = case("east-1", "squawk_7500", T0 + 14.0)
    origin["history"].append({"kind": "alert.acknowledged", "time": T0 + 40.0,
                              "actor": "duty-west@west", "data": {}})
    seen.cases[("east", "east-1")] = origin
    mirror = case("east-1", "squawk_7500", T0 + 14.0, origin="east",
                  history=[{"kind": "alert.received", "time": T0 + 14.6, "data": {}}])
    seen.cases[("west", "east-1")] = mirror
    seen.cases[("west", "west-3")] = case("west-3", "squawk_7500", T0 + 16.0)  # a twin
    out = score_one(x, seen, T0, {})
    assert out["outcome"] == "detected" and out["detection_s"] == 4.0
    assert out["alert_id"] == "east-1" and out["detected_by"] == "east"
    assert out["reached"] == {"west": 4.6}
    assert out["acknowledged_s"] == 30.0 and out["acknowledged_by"] == "duty-west@west"
    # west's own case, acknowledged by west's officer at west's node: named the same way
    own = case("west-3", "squawk_7500", T0 + 14.0)
    own["history"].append({"kind": "alert.acknowledged", "time": T0 + 20.0,
                           "actor": "duty-west", "data": {}})
    local = score_one(x, Observations(cases={("west", "west-3"): own}), T0, {})
    assert local["acknowledged_by"] == "duty-west@west"
    late = Observations(cases={("east", "east-1"): case("east-1", "squawk_7500", T0 + 75.0)})
    assert score_one(x, late, T0, {})["outcome"] == "late"
    wrong = Observations(cases={("east", "e"): case("e", "squawk_7700", T0 + 12.0)})
    assert score_one(x, wrong, T0, {})["outcome"] == "missed"
    before = Observations(cases={("east", "e"): case("e", "squawk_7500", T0 + 1.0)})
    assert score_one(x, before, T0, {})["outcome"] == "missed"  # raised before the event


def test_unexpected_alerts_are_false_once_per_incident(squawk_scene: Any) -> None:
    _, _, xs = squawk_scene
    seen = Observations()
    seen.cases[("east", "east-1")] = case("east-1", "squawk_7500", T0 + 12.0)
    seen.cases[("east", "east-2")] = case("east-2", "transponder_loss", T0 + 50.0,
                                          icao24="0d0d0d", callsign="BG1")
    seen.cases[("west", "west-2")] = case("west-2", "transponder_loss", T0 + 52.0,
                                          icao24="0d0d0d", callsign="BG1")
    seen.cases[("west", "west-9")] = case("west-9", "unidentified", T0 + 99.0, icao24="")
    seen.cases[("west", "real")] = case("real", "unidentified", T0 + 99.0, exercise=False)
    seen.cases[("west", "west-1")] = case("west-1", "adsb_emergency", T0 + 5.0)  # with 7500
    seen.cases[("west", "west-8")] = case("west-8", "adsb_emergency", T0 + 5.0,
                                          icao24="0d0d0d")  # not the aircraft squawking
    out = false_alerts(xs, seen, T0, T0 + 240)
    assert (out[0]["rule"], out[0]["subject"]) == ("adsb_emergency", "TST1 (0d0d0d)")
    assert [(f["rule"], f["node"]) for f in out][1:] == [("transponder_loss", "east, west"),
                                                     ("unidentified", "west")]


def test_a_course_change_is_found_on_the_responsible_partners_picture() -> None:
    sc = scene(events=[{"at_s": 20, "aircraft": "A", "deviate": {"heading_deg": 0}}])
    traffic = ScenarioTraffic(sc, T0)
    x = next(x for x in expectations(sc, traffic) if x.kind == "deviation")
    seen = Observations(tracks=[
        TrackSeen(T0 + 25, "west", "abc123", 49.6, 6.6, 35000, 60.0, 0, False, True),
        TrackSeen(T0 + 40, "east", "abc123", 49.6, 6.6, 35000, 2.0, 0, False, True),
        TrackSeen(T0 + 51, "west", "abc123", 49.6, 6.6, 35000, 5.0, 0, False, True)])
    out = score_one(x, seen, T0, {})
    assert out["detection_s"] == 31.0 and out["detected_by"] == "west"  # east's is not west's
    assert out["reached"] == {"west": 31.0}


def test_the_summary_adds_up(squawk_scene: Any) -> None:
    sc, traffic, xs = squawk_scene
    seen = Observations(cases={("east", "east-1"): case("east-1", "squawk_7500", T0 + 12.0),
                               ("west", "w"): case("w", "unidentified", T0 + 30.0)})
    s = summary(sc, traffic, xs, seen, [SensorLog(x.name) for x in sc.sensors], T0,
                T0 + sc.duration_s, ["a note"])
    totals = s["totals"]
    assert totals["events"] == len(xs) and totals["false_alerts"] == 1
    assert totals["detected"] + totals["late"] + totals["missed"] == totals["events"]
    expected_score = 100 * totals["detected"] / totals["events"] - 2
    assert totals["score"] == pytest.approx(round(expected_score, 1))
    assert set(s["regions"]) == {"west", "east"} and s["aircraft"][0]["icao24"] == "abc123"
    assert s["partners"]["west"]["false_alerts"] == 1
