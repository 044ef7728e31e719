"""What a scenario expects of the network: one :class:`Expectation` per scripted event.

Scripted actions say what they expect (a 7500 squawk: the ``squawk_7500`` alert; a
transponder switched off: ``transponder_loss``; a descent faster than the rules'
threshold: ``abnormal_descent``; a sensor failing: ``sensor_silent``; degraded:
``sensor_degraded``).  Two kinds are found in the flown paths instead of written:
entering a restricted volume (``restricted_entry``) and crossing from one partner's
region into another's (``border_crossing``: the aircraft in the new partner's picture,
and any open alert about it handed over).  A deviation or a descent no rule alerts on
is scored on the picture: when the responsible partner's track shows the new course or
the descent.  The partner responsible is the one whose region holds the aircraft (or the
sensor) at the time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np

from skyshare.airspace import VolumeSet
from skyshare.alerts.rules import RulesConfig
from skyshare.exercise.scenario import EMERGENCY, AircraftEvent, Scenario, ScriptedAircraft
from skyshare.exercise.traffic import ScenarioTraffic

DEADLINES_S: Final = {
    "squawk": 30.0, "transponder_off": 90.0, "descent": 45.0, "deviation": 60.0,
    "restricted_entry": 45.0, "border_crossing": 60.0, "sensor_failure": 90.0,
    "sensor_degraded": 120.0,
}
"""How long after its event an expected reaction still counts as on time."""
RESTRICTED_KINDS: Final = RulesConfig().restricted_kinds
TURN_SETTLE_S: Final = 60.0  # a deviation's new course is read this long after it


@dataclass(frozen=True)
class Expectation:
    id: str
    at_s: float
    kind: str
    subject: str
    description: str
    responsible: tuple[str, ...]
    deadline_s: float
    rule: str | None = None  # the alert expected; None: scored on the picture
    address: str | None = None  # aircraft, hex
    sensor: str | None = None
    position: tuple[float, float] | None = None
    course: tuple[float, float] | None = None  # deviation: (old, new) course, degrees
    handover: tuple[str, str] | None = None  # crossing: (from, to) partner


def _owner(scenario: Scenario, lat: float, lon: float) -> str | None:
    i = int(scenario.regions.owner(np.array([lat]), np.array([lon]))[0])
    return scenario.partners[i] if i >= 0 else None


def _at(traffic: ScenarioTraffic, a: ScriptedAircraft, at_s: float
        ) -> tuple[float, float, float, float]:
    """lat, lon, altitude, track of a scripted aircraft at exercise time ``at_s``."""
    slot = traffic.nb + traffic.scripted.index(a)
    s = traffic.sample([slot], [traffic.start_time + at_s])
    return float(s.lat[0]), float(s.lon[0]), float(s.alt_baro[0]), float(s.track[0])


def expectations(scenario: Scenario, traffic: ScenarioTraffic,
                 rules: RulesConfig | None = None) -> list[Expectation]:
    """Every expectation of ``scenario``, by time."""
    rules = rules or RulesConfig()
    out: list[Expectation] = []
    for e in scenario.aircraft_events:
        x = _aircraft_expectation(scenario, traffic, e, rules)
        if x is not None:
            out.append(x)
    for a in scenario.aircraft:
        out += _entries(scenario, traffic, a)
    out += _crossings(scenario, traffic, out)
    for se in scenario.sensor_events:
        s = scenario.sensor(se.sensor)
        owner = _owner(scenario, s.lat, s.lon) or s.partner
        kind = "sensor_failure" if se.kind == "fail" else "sensor_degraded"
        what = ("fails" if se.kind == "fail" else
                f"degraded ({se.loss:.0%} lost, {se.garbage:g} bytes of noise per byte)")
        out.append(Expectation(
            "", se.at_s, kind, s.name, f"{s.name} {what} for {se.duration_s:.0f} s",
            (owner,), se.deadline_s or DEADLINES_S[kind],
            rule="sensor_silent" if se.kind == "fail" else "sensor_degraded", sensor=s.name,
            position=(s.lat, s.lon)))
    out.sort(key=lambda x: x.at_s)
    return [_numbered(x, i) for i, x in enumerate(out)]


def _numbered(x: Expectation, i: int) -> Expectation:
    return Expectation(f"E{i + 1}", x.at_s, x.kind, x.subject, x.description, x.responsible,
                       x.deadline_s, x.rule, x.address, x.sensor, x.position, x.course,
                       x.handover)


def _aircraft_expectation(scenario: Scenario, traffic: ScenarioTraffic, e: AircraftEvent,
                          rules: RulesConfig) -> Expectation | None:
    a = next(x for x in scenario.aircraft if x.name == e.aircraft)
    lat, lon, _, course = _at(traffic, a, e.at_s)
    owner = _owner(scenario, lat, lon)
    if owner is None:
        return None  # outside every region: nobody is expected to answer
    subject = f"{a.callsign} ({a.icao24:06x})"
    common = {"responsible": (owner,), "address": f"{a.icao24:06x}", "position": (lat, lon)}
    if e.kind == "transponder" and e.value == 0.0:
        return Expectation("", e.at_s, "transponder_off", subject,
                           f"{a.callsign} switches its transponder off",
                           deadline_s=e.deadline_s or DEADLINES_S["transponder_off"],
                           rule="transponder_loss", **common)  # type: ignore[arg-type]
    if e.kind == "squawk" and int(e.value) in EMERGENCY:
        return Expectation("", e.at_s, "squawk", subject,
                           f"{a.callsign} squawks {int(e.value):04d}",
                           deadline_s=e.deadline_s or DEADLINES_S["squawk"],
                           rule=f"squawk_{int(e.value)}", **common)  # type: ignore[arg-type]
    if e.kind == "descend":
        alerting = e.value >= rules.descent_fpm
        return Expectation("", e.at_s, "descent", subject,
                           f"{a.callsign} descends at {e.value:.0f} ft/min to "
                           f"{e.to_ft:.0f} ft",
                           deadline_s=e.deadline_s or DEADLINES_S["descent"],
                           rule="abnormal_descent" if alerting else None,
                           **common)  # type: ignore[arg-type]
    if e.kind == "deviate":
        _, _, _, new = _at(traffic, a, min(e.at_s + TURN_SETTLE_S, scenario.duration_s))
        where = (f"towards {e.volume}" if e.volume else f"to heading {e.heading_deg:03.0f}"
                 if e.heading_deg is not None else "off its route")
        return Expectation("", e.at_s, "deviation", subject, f"{a.callsign} turns {where}",
                           deadline_s=e.deadline_s or DEADLINES_S["deviation"],
                           course=(course, new), **common)  # type: ignore[arg-type]
    return None


def _path(traffic: ScenarioTraffic, a: ScriptedAircraft) -> tuple[np.ndarray, ...]:
    t, lat, lon, alt = traffic.truth(a.name)
    return t, lat, lon, alt


def _entries(scenario: Scenario, traffic: ScenarioTraffic, a: ScriptedAircraft
             ) -> list[Expectation]:
    """Each first entry of the aircraft into a restricted volume."""
    watched = [v for v in scenario.volumes if v.kind in RESTRICTED_KINDS]
    if not watched:
        return []
    volumes = VolumeSet(watched)
    t, lat, lon, alt = _path(traffic, a)
    rows, vols = volumes.inside(lat, lon, alt, np.full(len(t), np.nan),
                                traffic.start_time + float(t[0]) if len(t) else 0.0)
    out = []
    for v in np.unique(vols).tolist():
        first = int(rows[vols == v].min())
        if first == 0:
            continue  # inside from the start: not an entry
        owner = _owner(scenario, float(lat[first]), float(lon[first]))
        if owner is None or t[first] > scenario.duration_s:
            continue
        volume = watched[v]
        out.append(Expectation(
            "", float(t[first]), "restricted_entry", f"{a.callsign} ({a.icao24:06x})",
            f"{a.callsign} enters {volume.name} ({volume.id})", (owner,),
            DEADLINES_S["restricted_entry"], rule="restricted_entry",
            address=f"{a.icao24:06x}", position=(float(lat[first]), float(lon[first]))))
    return out


def _crossings(scenario: Scenario, traffic: ScenarioTraffic, alerts: list[Expectation]
               ) -> list[Expectation]:
    """Each change of responsible partner along each scripted path."""
    out = []
    for a in scenario.aircraft:
        t, lat, lon, _ = _path(traffic, a)
        owners = scenario.regions.owner(lat, lon)
        change = np.flatnonzero((owners[1:] != owners[:-1]) & (owners[:-1] >= 0)
                                & (owners[1:] >= 0)) + 1
        for j in change.tolist():
            if t[j] > scenario.duration_s:
                break
            old, new = scenario.partners[owners[j - 1]], scenario.partners[owners[j]]
            address = f"{a.icao24:06x}"
            open_alert = any(x.address == address and x.rule is not None and x.at_s < t[j]
                             for x in alerts)
            out.append(Expectation(
                "", float(t[j]), "border_crossing", f"{a.callsign} ({address})",
                f"{a.callsign} crosses from {old} into {new}", (new,),
                DEADLINES_S["border_crossing"], address=address,
                position=(float(lat[j]), float(lon[j])),
                handover=(old, new) if open_alert else None))
    return out


def angle_between(a: float, b: float) -> float:
    """The smaller angle between two courses, degrees."""
    return abs((a - b + 180.0) % 360.0 - 180.0) if math.isfinite(a - b) else math.inf
