"""Scoring: what the network did about each expectation, as the exercise summary.

For each :class:`~skyshare.exercise.expect.Expectation`:

- **detection**: the first alert with the expected rule about the expected aircraft
  (address) or sensor raised on any node after the event (the common picture may raise
  it on a neighbour's node first); for the expectations scored on the picture, the
  first poll where the responsible partner's track shows it;
- **reached**: for each responsible partner, when the case was first on that
  partner's node (raised there, or received from the raising node);
- **acknowledged**: when a duty officer (or the scripted responder) acknowledged it;
- **hand-over**: for a border crossing with an alert open about the aircraft, when the
  case was offered to the new partner and when that partner accepted it.

An outcome is ``detected`` within the expectation's deadline, ``late`` after it, else
``missed``.  Every EXERCISE alert raised during the run that answers no expectation is
a false alert (an alert about background traffic included: it is what the duty
officers would have had to look at).  The score is ``100 (detected + late / 2) /
expected - 2 per false alert``, floored at 0.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from typing import Any, Final

from skyshare.exercise.expect import Expectation, angle_between
from skyshare.exercise.inject import SensorLog
from skyshare.exercise.observe import Observations
from skyshare.exercise.scenario import Scenario
from skyshare.exercise.traffic import ScenarioTraffic

SCHEMA: Final = "skyshare-exercise/1"
RELATED: Final = {"restricted_warning": ("restricted_entry",),
                  "adsb_emergency": ("squawk_7500", "squawk_7600", "squawk_7700")}
"""Alerts that accompany an expected one and are not false (a warning before an entry)."""
COURSE_TOLERANCE_DEG: Final = 20.0
DESCENDING_FPM: Final = -1000.0
PATH_POINTS: Final = 400
SAME_INCIDENT_S: Final = 30.0


def _r(x: float | None, digits: int = 1) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), digits)


def _own_cases(seen: Observations) -> list[tuple[str, dict[str, Any]]]:
    """(node, case) of every EXERCISE case a node raised itself (not a mirror)."""
    return [(node, c) for (node, _), c in seen.cases.items()
            if c.get("origin") is None and c.get("exercise")]


def _matches(x: Expectation, case: dict[str, Any], start: float) -> bool:
    if x.rule is None or float(case.get("raised_at") or 0) < start + x.at_s - 2.0:
        return False
    rule = case.get("rule")
    if x.sensor is not None:
        return rule == x.rule and case.get("sensor") == x.sensor
    return rule == x.rule and case.get("icao24") == x.address


def _officer(actor: Any, node: str) -> str | None:
    """``user@partner`` of an acknowledging officer, whichever node owned the case: a
    node records its own officers by name and a partner's, acting through its node, as
    ``user@partner``."""
    if not actor:
        return None
    return str(actor) if "@" in str(actor) else f"{actor}@{node}"


def _history(case: dict[str, Any], kind: str, **data: str) -> float | None:
    times = [float(h["time"]) for h in case.get("history") or []
             if h.get("kind") == kind and all((h.get("data") or {}).get(k) == v
                                              for k, v in data.items())]
    return min(times) if times else None


def _reached(seen: Observations, ids: set[str], partner: str) -> float | None:
    """When a case of ``ids`` was first on ``partner``'s node."""
    times = []
    for (node, cid), c in seen.cases.items():
        if node != partner or cid not in ids:
            continue
        if c.get("origin") is None:
            times.append(float(c["raised_at"]))
        else:
            times.append(_history(c, "alert.received") or float(c["first_seen_at"]))
    return min(times) if times else None


def _on_picture(x: Expectation, seen: Observations, start: float) -> tuple[float, str] | None:
    """(time, node) the responsible partner's picture first showed what ``x`` expects."""
    for s in seen.tracks:
        if s.icao24 != x.address or s.node not in x.responsible or s.t < start + x.at_s:
            continue
        if x.kind == "deviation" and x.course is not None and s.track is not None:
            old, new = x.course
            if (angle_between(s.track, new) <= COURSE_TOLERANCE_DEG
                    and angle_between(s.track, old) > COURSE_TOLERANCE_DEG):
                return s.t, s.node
        elif x.kind == "border_crossing" or (
                x.kind == "descent" and (s.vertical_rate or 0.0) <= DESCENDING_FPM):
            return s.t, s.node
    return None


def score_one(x: Expectation, seen: Observations, start: float,
              matched: dict[str, set[str]]) -> dict[str, Any]:
    """One event of the summary; ``matched`` collects the case ids each address or
    sensor's expectations matched (hand-overs look there)."""
    cases = [(n, c) for n, c in _own_cases(seen) if _matches(x, c, start)]
    ids = {str(c["id"]) for _, c in cases}
    key = x.address or x.sensor or ""
    out: dict[str, Any] = {
        "id": x.id, "at_s": round(x.at_s, 1), "kind": x.kind, "subject": x.subject,
        "description": x.description, "expected_rule": x.rule or "picture",
        "responsible": list(x.responsible),
        "position": [round(v, 4) for v in x.position] if x.position else None,
        "alert_id": None, "detected_by": None, "detection_s": None,
        "reached": {}, "acknowledged_s": None, "acknowledged_by": None, "handover": None}
    detected: float | None = None
    if cases:
        node, first = min(cases, key=lambda nc: float(nc[1]["raised_at"]))
        detected = float(first["raised_at"])
        out["alert_id"], out["detected_by"] = str(first["id"]), node
        acks = [(float(h["time"]), _officer(h.get("actor"), n)) for n, c in cases
                for h in c.get("history") or [] if h.get("kind") == "alert.acknowledged"]
        if acks:
            first_ack, by = min(acks, key=lambda a: a[0])
            out["acknowledged_s"] = _r(first_ack - start - x.at_s)
            out["acknowledged_by"] = by
        matched.setdefault(key, set()).update(ids)
    elif x.rule is None:
        hit = _on_picture(x, seen, start)
        if hit is not None:
            detected, out["detected_by"] = hit[0], hit[1]
    for p in x.responsible:
        at = _reached(seen, ids, p) if ids else (detected if x.rule is None else None)
        out["reached"][p] = _r(at - start - x.at_s) if at is not None else None
    if x.handover is not None:
        out["handover"] = _handover(x, seen, start, matched.get(key, set()))
    if detected is not None:
        out["detection_s"] = _r(max(0.0, detected - start - x.at_s))
    late = out["detection_s"] is not None and out["detection_s"] > x.deadline_s
    out["outcome"] = "missed" if detected is None else "late" if late else "detected"
    return out


def _handover(x: Expectation, seen: Observations, start: float, ids: set[str]
              ) -> dict[str, Any]:
    assert x.handover is not None
    old, new = x.handover
    offered = accepted = None
    for (_, cid), c in seen.cases.items():
        if cid in ids and c.get("origin") is None:
            o = _history(c, "alert.handover_offered", to=new)
            a = _history(c, "alert.handover_accepted", to=new)
            offered = o if offered is None or (o is not None and o < offered) else offered
            accepted = a if accepted is None or (a is not None and a < accepted) else accepted
    return {"from": old, "to": new,
            "offered_s": _r(offered - start - x.at_s) if offered is not None else None,
            "accepted_s": _r(accepted - start - x.at_s) if accepted is not None else None}


def false_alerts(expected: list[Expectation], seen: Observations, start: float,
                 end: float) -> list[dict[str, Any]]:
    """EXERCISE alerts raised in the run that answer no expectation; one entry per
    incident (the same rule about the same aircraft or sensor raised by several nodes
    within :data:`SAME_INCIDENT_S` is one false alert, naming every node)."""
    out: list[dict[str, Any]] = []
    for node, c in sorted(_own_cases(seen), key=lambda nc: float(nc[1].get("raised_at") or 0)):
        raised = float(c.get("raised_at") or 0)
        if not start <= raised <= end:
            continue
        related = RELATED.get(str(c.get("rule")), ())
        if any(_matches(x, c, start) for x in expected) or any(
                _matches(x, {**c, "rule": rule, "raised_at": start + x.at_s}, start)
                for x in expected for rule in related):
            continue  # expected, or accompanying what is (a warning before an entry)
        subject = str(c.get("sensor") or f"{c.get('callsign') or '?'} ({c.get('icao24')})")
        twin = next((f for f in out if f["rule"] == c.get("rule") and f["subject"] == subject
                     and abs(f["at_s"] - (raised - start)) <= SAME_INCIDENT_S), None)
        if twin is not None:
            twin["node"] = ", ".join(sorted({*twin["node"].split(", "), node}))
            twin["alert_id"] = ", ".join(sorted({*twin["alert_id"].split(", "), str(c["id"])}))
            continue
        out.append({"alert_id": str(c["id"]), "node": node, "rule": str(c.get("rule")),
                    "subject": subject, "partner": c.get("partner"),
                    "at_s": round(raised - start, 1)})
    return sorted(out, key=lambda f: f["at_s"])


def _median(values: Iterable[float | None]) -> float | None:
    xs = [v for v in values if v is not None]
    return _r(statistics.median(xs)) if xs else None


def summary(scenario: Scenario, traffic: ScenarioTraffic, expected: list[Expectation],
            seen: Observations, logs: list[SensorLog], start: float, end: float,
            notes: list[str]) -> dict[str, Any]:
    """The exercise summary (schema ``skyshare-exercise/1``)."""
    matched: dict[str, set[str]] = {}
    events = [score_one(x, seen, start, matched) for x in expected]
    false = false_alerts(expected, seen, start, end)
    detected = sum(e["outcome"] == "detected" for e in events)
    late = sum(e["outcome"] == "late" for e in events)
    total = len(events)
    score = 100.0 * (detected + 0.5 * late) / total if total else 100.0
    return {
        "schema": SCHEMA, "exercise": True, "scenario": scenario.name, "title": scenario.title,
        "description": scenario.description, "seed": scenario.seed,
        "started_at": start, "ended_at": end, "duration_s": round(end - start, 1),
        "partners": _partners(scenario, events, false),
        "regions": {p: [_ring(r.geometry) for r in scenario.regions.regions if r.partner == p]
                    for p in scenario.partners},
        "volumes": [{"id": v.id, "name": v.name, "polygon": _ring(v.geometry)}
                    for v in scenario.volumes],
        "sensors": [_sensor(scenario, s.name, log) for s, log
                    in zip(scenario.sensors, logs, strict=True)],
        "aircraft": [_aircraft(traffic, a.name, a.callsign, a.icao24, scenario.duration_s)
                     for a in scenario.aircraft],
        "events": events, "false_alerts": false,
        "totals": {"events": total, "detected": detected, "late": late,
                   "missed": total - detected - late, "false_alerts": len(false),
                   "score": round(max(0.0, score - 2.0 * len(false)), 1),
                   "median_detection_s": _median(e["detection_s"] for e in events)},
        "notes": notes,
    }


def _partners(scenario: Scenario, events: list[dict[str, Any]], false: list[dict[str, Any]]
              ) -> dict[str, Any]:
    out = {}
    for p in scenario.partners:
        mine = [e for e in events if p in e["responsible"]]
        reached = [e["reached"].get(p) for e in mine]
        out[p] = {"expected": len(mine), "reached": sum(r is not None for r in reached),
                  "missed": sum(r is None for r in reached),
                  "false_alerts": sum(f.get("partner") == p for f in false),
                  "acknowledged": sum(e["acknowledged_s"] is not None for e in mine),
                  "median_time_to_alert_s": _median(reached)}
    return out


def _ring(geometry: Any) -> list[list[float]]:
    """The outer ring of a (multi)polygon, [lat, lon], simplified for drawing."""
    geom = max(getattr(geometry, "geoms", [geometry]), key=lambda g: g.area)
    simple = geom.simplify(0.01)
    return [[round(y, 4), round(x, 4)] for x, y in simple.exterior.coords]


def _sensor(scenario: Scenario, name: str, log: SensorLog) -> dict[str, Any]:
    s = scenario.sensor(name)
    return {"name": s.name, "partner": s.partner, "kind": s.type, "format": s.format,
            "position": [s.lat, s.lon], "frames": log.messages,
            "series": log.series(scenario.duration_s),
            "outages": [{"from_s": e.at_s, "to_s": min(e.end_s, scenario.duration_s),
                         "kind": "failure" if e.kind == "fail" else "degraded"}
                        for e in scenario.sensor_events if e.sensor == name]}


def _aircraft(traffic: ScenarioTraffic, name: str, callsign: str, icao24: int,
              duration_s: float) -> dict[str, Any]:
    t, lat, lon, alt = traffic.truth(name)
    keep = t <= duration_s
    step = max(1, int(keep.sum()) // PATH_POINTS)
    path = [[round(float(a), 1), round(float(b), 4), round(float(c), 4), round(float(d))]
            for a, b, c, d in zip(t[keep][::step], lat[keep][::step], lon[keep][::step],
                                  alt[keep][::step], strict=True)]
    return {"label": name, "icao24": f"{icao24:06x}", "callsign": callsign, "path": path}
