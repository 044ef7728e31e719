"""The exercise summary (schema ``skyshare-exercise/1``) read into frozen dataclasses.

The summary is a JSON document, and the renderer must never meet a surprise in it: a
wrong type found halfway through drawing a chart would surface as a stack trace that
says nothing about the file.  So :func:`read_summary` walks the whole document first,
collects every problem with the path of its field (``events[3].detection_s: ...``),
and the renderer only ever sees the typed :class:`Summary`.  Unknown keys are ignored
(the scorer may add some); optional values may be missing or null, and a NaN or
infinite optional number counts as missing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

from skyshare.errors import SkyshareError

SCHEMA: Final = "skyshare-exercise/1"
OUTCOMES: Final = ("detected", "late", "missed")
LatLon: TypeAlias = tuple[float, float]


class SummaryError(SkyshareError, ValueError):
    """A malformed summary; ``field`` names the first bad field, ``problems`` all."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        self.field = problems[0].split(":", 1)[0] if problems else ""
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__("malformed exercise summary: " + "; ".join(problems[:5]) + more)


@dataclass(frozen=True)
class Partner:
    name: str
    expected: int | None
    reached: int | None
    missed: int | None
    false_alerts: int | None
    acknowledged: int | None
    median_time_to_alert_s: float | None


@dataclass(frozen=True)
class Volume:
    id: str
    name: str | None
    polygon: tuple[LatLon, ...]


@dataclass(frozen=True)
class Outage:
    from_s: float
    to_s: float
    kind: str | None


@dataclass(frozen=True)
class Sensor:
    name: str
    partner: str | None
    kind: str | None
    format: str | None
    position: LatLon | None
    frames: int | None
    series: tuple[tuple[float, float], ...]
    outages: tuple[Outage, ...]


@dataclass(frozen=True)
class Aircraft:
    label: str
    icao24: str | None
    callsign: str | None
    path: tuple[tuple[float, float, float], ...]  # t, lat, lon (altitude is not drawn)


@dataclass(frozen=True)
class Handover:
    source: str | None
    target: str | None
    offered_s: float | None
    accepted_s: float | None


@dataclass(frozen=True)
class Event:
    id: str
    at_s: float
    kind: str
    subject: str
    description: str | None
    expected_rule: str | None
    responsible: tuple[str, ...]
    position: LatLon | None
    outcome: str
    alert_id: str | None
    detected_by: str | None
    detection_s: float | None
    reached: tuple[tuple[str, float | None], ...]
    acknowledged_s: float | None
    acknowledged_by: str | None
    handover: Handover | None


@dataclass(frozen=True)
class FalseAlert:
    alert_id: str | None
    node: str | None
    rule: str | None
    subject: str | None
    at_s: float | None


@dataclass(frozen=True)
class Totals:
    events: int | None
    detected: int | None
    late: int | None
    missed: int | None
    false_alerts: int | None
    score: float | None
    median_detection_s: float | None


@dataclass(frozen=True)
class Summary:
    scenario: str
    title: str | None
    description: str | None
    seed: int | None
    started_at: float
    ended_at: float | None
    duration_s: float
    partners: tuple[Partner, ...]
    regions: tuple[tuple[str, tuple[tuple[LatLon, ...], ...]], ...]
    volumes: tuple[Volume, ...]
    sensors: tuple[Sensor, ...]
    aircraft: tuple[Aircraft, ...]
    events: tuple[Event, ...]
    false_alerts: tuple[FalseAlert, ...]
    totals: Totals
    notes: tuple[str, ...]


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class _Reader:
    """Typed reads of one document; each failed read is recorded with its path and
    answered with a harmless default, so one pass finds every problem."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def bad(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def get(self, obj: Mapping[str, Any], key: str, path: str, required: bool) -> Any:
        value = obj.get(key)
        if value is None and required:
            self.bad(_join(path, key), "is required" if key not in obj else "must not be null")
        return value

    def text(self, obj: Mapping[str, Any], key: str, path: str, required: bool = False
             ) -> str | None:
        value = self.get(obj, key, path, required)
        if value is None or isinstance(value, str):
            return value
        self.bad(_join(path, key), f"expected a string, got {_show(value)}")
        return None

    def number(self, obj: Mapping[str, Any], key: str, path: str, required: bool = False
               ) -> float | None:
        return self.as_number(self.get(obj, key, path, required), _join(path, key), required)

    def as_number(self, value: Any, path: str, required: bool = False) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.bad(path, f"expected a number, got {_show(value)}")
            return None
        try:
            number = float(value)
        except OverflowError:  # an int beyond float range
            number = math.inf
        if not math.isfinite(number):
            if required:
                self.bad(path, f"expected a finite number, got {_show(value)}")
            return None
        return number

    def integer(self, obj: Mapping[str, Any], key: str, path: str) -> int | None:
        value = obj.get(key)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        self.bad(_join(path, key), f"expected an integer, got {_show(value)}")
        return None

    def items(self, obj: Mapping[str, Any], key: str, path: str, required: bool = False
              ) -> list[Any]:
        return self.as_list(self.get(obj, key, path, required), _join(path, key))

    def as_list(self, value: Any, path: str) -> list[Any]:
        if value is None:
            return []
        if isinstance(value, list | tuple):
            return list(value)
        self.bad(path, f"expected a list, got {_show(value)}")
        return []

    def mapping(self, value: Any, path: str, required: bool = True) -> Mapping[str, Any]:
        if isinstance(value, Mapping):
            return value
        if value is not None or required:
            self.bad(path, f"expected an object, got {_show(value)}")
        return {}

    def point(self, value: Any, path: str) -> LatLon | None:
        """[lat, lon] in degrees, or None (recorded) when it is not one."""
        if not isinstance(value, list | tuple) or len(value) < 2:
            self.bad(path, f"expected [lat, lon], got {_show(value)}")
            return None
        lat, lon = self.as_number(value[0], path, True), self.as_number(value[1], path, True)
        if lat is None or lon is None:
            return None
        if not (-90 <= lat <= 90 and -180 <= lon <= 360):
            self.bad(path, f"[lat, lon] out of range: {_show(value)}")
            return None
        return lat, lon

    def ring(self, value: Any, path: str) -> tuple[LatLon, ...]:
        if not isinstance(value, list | tuple):
            self.bad(path, f"expected a list of [lat, lon], got {_show(value)}")
            return ()
        points = (self.point(p, f"{path}[{i}]") for i, p in enumerate(value))
        return tuple(p for p in points if p is not None)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def read_summary(summary: Any) -> Summary:
    """The typed summary; raises :class:`SummaryError` naming every bad field."""
    r = _Reader()
    result = _summary(r, summary)
    if r.problems or result is None:
        raise SummaryError(r.problems or ["summary: expected an object"])
    return result


def check_summary(summary: Any) -> list[str]:
    """Every problem of ``summary`` as ``"field.path: what is wrong"``; [] if it renders."""
    try:
        read_summary(summary)
    except SummaryError as exc:
        return exc.problems
    return []


def _summary(r: _Reader, doc: Any) -> Summary | None:
    if not isinstance(doc, Mapping):
        r.bad("summary", f"expected an object, got {_show(doc)}")
        return None
    if doc.get("schema") != SCHEMA:
        r.bad("schema", f"expected {SCHEMA!r}, got {_show(doc.get('schema'))}")
    if doc.get("exercise") is not True:
        r.bad("exercise", "must be true: this report is for exercises only")
    started = r.number(doc, "started_at", "", required=True) or 0.0
    ended = r.number(doc, "ended_at", "")
    duration = r.number(doc, "duration_s", "")
    if duration is None:
        duration = max(0.0, ended - started) if ended is not None else 0.0
    return Summary(
        scenario=r.text(doc, "scenario", "", required=True) or "",
        title=r.text(doc, "title", ""), description=r.text(doc, "description", ""),
        seed=r.integer(doc, "seed", ""), started_at=started, ended_at=ended,
        duration_s=max(0.0, duration),
        partners=tuple(_partner(r, str(k), v) for k, v in
                       r.mapping(doc.get("partners"), "partners", False).items()),
        regions=tuple((str(k), tuple(r.ring(ring, f"regions.{k}[{i}]") for i, ring in
                                     enumerate(r.as_list(v, f"regions.{k}"))))
                      for k, v in r.mapping(doc.get("regions"), "regions", False).items()),
        volumes=_each(r, doc, "volumes", _volume),
        sensors=_each(r, doc, "sensors", _sensor),
        aircraft=_each(r, doc, "aircraft", _aircraft),
        events=_each(r, doc, "events", _event, required=True),
        false_alerts=_each(r, doc, "false_alerts", _false_alert),
        totals=_totals(r, r.mapping(doc.get("totals"), "totals", required=False)),
        notes=tuple(_note(r, n, f"notes[{i}]") for i, n in
                    enumerate(r.items(doc, "notes", ""))),
    )


def _each(r: _Reader, doc: Mapping[str, Any], key: str, read: Any, required: bool = False
          ) -> tuple[Any, ...]:
    out = []
    for i, item in enumerate(r.items(doc, key, "", required)):
        path = f"{key}[{i}]"
        if isinstance(item, Mapping):
            out.append(read(r, item, path))
        else:
            r.bad(path, f"expected an object, got {_show(item)}")
    return tuple(out)


def _note(r: _Reader, value: Any, path: str) -> str:
    if not isinstance(value, str):
        r.bad(path, f"expected a string, got {_show(value)}")
        return ""
    return value


def _partner(r: _Reader, name: str, value: Any) -> Partner:
    path = f"partners.{name}"
    v = r.mapping(value, path)
    return Partner(name, r.integer(v, "expected", path), r.integer(v, "reached", path),
                   r.integer(v, "missed", path), r.integer(v, "false_alerts", path),
                   r.integer(v, "acknowledged", path),
                   r.number(v, "median_time_to_alert_s", path))


def _volume(r: _Reader, v: Mapping[str, Any], path: str) -> Volume:
    return Volume(r.text(v, "id", path, required=True) or "", r.text(v, "name", path),
                  r.ring(v.get("polygon") or [], f"{path}.polygon"))


def _pairs(r: _Reader, values: list[Any], path: str, width: int) -> list[tuple[float, ...]]:
    """Rows of ``width`` finite numbers (a series point, a path point)."""
    out = []
    for i, row in enumerate(values):
        if not isinstance(row, list | tuple) or len(row) < width:
            r.bad(f"{path}[{i}]", f"expected {width} numbers, got {_show(row)}")
            continue
        nums = [r.as_number(x, f"{path}[{i}]", True) for x in row[:width]]
        if all(n is not None for n in nums):
            out.append(tuple(n for n in nums if n is not None))
    return out


def _sensor(r: _Reader, v: Mapping[str, Any], path: str) -> Sensor:
    series = _pairs(r, r.items(v, "series", path), f"{path}.series", 2)
    outages = []
    for i, o in enumerate(r.items(v, "outages", path)):
        o_path = f"{path}.outages[{i}]"
        o = r.mapping(o, o_path)
        start, end = r.number(o, "from_s", o_path, True), r.number(o, "to_s", o_path, True)
        if start is not None and end is not None:
            outages.append(Outage(start, end, r.text(o, "kind", o_path)))
    position = v.get("position")
    return Sensor(
        name=r.text(v, "name", path, required=True) or "", partner=r.text(v, "partner", path),
        kind=r.text(v, "kind", path), format=r.text(v, "format", path),
        position=None if position is None else r.point(position, f"{path}.position"),
        frames=r.integer(v, "frames", path),
        series=tuple((a, b) for a, b in series), outages=tuple(outages))


def _aircraft(r: _Reader, v: Mapping[str, Any], path: str) -> Aircraft:
    rows = _pairs(r, r.items(v, "path", path), f"{path}.path", 3)
    for i, (_, lat, lon) in enumerate(rows):
        if not (-90 <= lat <= 90 and -180 <= lon <= 360):
            r.bad(f"{path}.path[{i}]", "lat/lon out of range")
    return Aircraft(r.text(v, "label", path, required=True) or "", r.text(v, "icao24", path),
                    r.text(v, "callsign", path), tuple((a, b, c) for a, b, c in rows))


def _event(r: _Reader, v: Mapping[str, Any], path: str) -> Event:
    outcome = r.text(v, "outcome", path, required=True)
    if outcome is not None and outcome not in OUTCOMES:
        r.bad(f"{path}.outcome", f"expected one of {', '.join(OUTCOMES)}, got {_show(outcome)}")
    responsible = [_note(r, p, f"{path}.responsible[{i}]")
                   for i, p in enumerate(r.items(v, "responsible", path))]
    reached = r.mapping(v.get("reached"), f"{path}.reached", required=False)
    position = v.get("position")
    return Event(
        id=r.text(v, "id", path, required=True) or "",
        at_s=r.number(v, "at_s", path, required=True) or 0.0,
        kind=r.text(v, "kind", path, required=True) or "",
        subject=r.text(v, "subject", path, required=True) or "",
        description=r.text(v, "description", path),
        expected_rule=r.text(v, "expected_rule", path), responsible=tuple(responsible),
        position=None if position is None else r.point(position, f"{path}.position"),
        outcome=outcome or "missed", alert_id=r.text(v, "alert_id", path),
        detected_by=r.text(v, "detected_by", path),
        detection_s=r.number(v, "detection_s", path),
        reached=tuple((str(p), r.number(reached, p, f"{path}.reached")) for p in reached),
        acknowledged_s=r.number(v, "acknowledged_s", path),
        acknowledged_by=r.text(v, "acknowledged_by", path),
        handover=_handover(r, v.get("handover"), f"{path}.handover"))


def _handover(r: _Reader, value: Any, path: str) -> Handover | None:
    if value is None:
        return None
    h = r.mapping(value, path)
    return Handover(r.text(h, "from", path), r.text(h, "to", path),
                    r.number(h, "offered_s", path), r.number(h, "accepted_s", path))


def _false_alert(r: _Reader, v: Mapping[str, Any], path: str) -> FalseAlert:
    return FalseAlert(r.text(v, "alert_id", path), r.text(v, "node", path),
                      r.text(v, "rule", path), r.text(v, "subject", path),
                      r.number(v, "at_s", path))


def _totals(r: _Reader, v: Mapping[str, Any]) -> Totals:
    def count(key: str) -> int | None:
        return r.integer(v, key, "totals")

    return Totals(count("events"), count("detected"), count("late"), count("missed"),
                  count("false_alerts"), score=r.number(v, "score", "totals"),
                  median_detection_s=r.number(v, "median_detection_s", "totals"))
