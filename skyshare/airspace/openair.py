"""The OpenAir airspace format: text in, volumes out (no file access here)."""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from shapely.geometry import Polygon

from skyshare.airspace.common import _Invalid
from skyshare.airspace.geometry import ARC_STEP_DEG, NM_M, _arc, _bearing_distance, _valid
from skyshare.airspace.limits import Limit, _check_limits, parse_limit
from skyshare.airspace.schedule import ALWAYS, Schedule, _window
from skyshare.airspace.volumes import Volume, _claim_id, _kind
from skyshare.errors import AirspaceFileError

log = logging.getLogger("skyshare.airspace")

MAX_RADIUS_NM: Final = 1000.0


_DMS_RE = re.compile(r"(\d{1,3}):(\d{1,2}(?:\.\d+)?)(?::(\d{1,2}(?:\.\d+)?))?\s*([NSEW])",
                     re.I | re.A)
_NUMBER_RE = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)", re.A)
_KEY_RE = re.compile(r"([A-Za-z]+)\s*(.*)")
_IGNORED_VARS: Final = frozenset({"W", "Z"})  # airway width (with DY), label zoom


def _coordinates(text: str, count: int) -> list[tuple[float, float]]:
    """``count`` (lat, lon) points from "DD:MM:SS N DDD:MM:SS E, ..." (or DD:MM.mmm)."""
    found = list(_DMS_RE.finditer(text))
    leftover = _DMS_RE.sub("", text).replace(",", "").strip()
    if len(found) != 2 * count or leftover:
        raise _Invalid(f"bad coordinate {text.strip()!r} (expected {count} point(s) like "
                       "'53:47:06 N 008:21:41 E' or '53:47.100N 008:21.700E')")
    values = []
    for m in found:
        minutes, seconds = float(m[2]), float(m[3] or 0.0)
        if minutes >= 60.0 or seconds >= 60.0:
            raise _Invalid(f"bad coordinate {m[0]!r}: minutes and seconds must be below 60")
        values.append((int(m[1]) + minutes / 60.0 + seconds / 3600.0, m[4].upper()))
    points = []
    for (lat, ns), (lon, ew) in zip(values[::2], values[1::2], strict=True):
        if ns not in "NS" or ew not in "EW" or lat > 90.0 or lon > 180.0:
            raise _Invalid(f"bad coordinate {text.strip()!r}: expected latitude N/S <= 90 "
                           "then longitude E/W <= 180")
        points.append((-lat if ns == "S" else lat, -lon if ew == "W" else lon))
    return points


def _numbers(text: str, count: int, what: str) -> list[float]:
    parts = [p for p in re.split(r"[\s,]+", text.strip()) if p]
    if len(parts) != count or not all(_NUMBER_RE.fullmatch(p) for p in parts):
        raise _Invalid(f"bad {what} {text.strip()!r}")
    values = [float(p) for p in parts]
    if not all(math.isfinite(v) for v in values):
        raise _Invalid(f"bad {what} {text.strip()!r}: number out of range")
    return values


def _radius_m(nm: float) -> float:
    if not 0.0 < nm <= MAX_RADIUS_NM:
        raise _Invalid(f"radius {nm:g} NM is not in (0, {MAX_RADIUS_NM:g}]")
    return nm * NM_M


@dataclass
class _OpenAirRecord:
    """One airspace being read: from its AC line to the next AC or the end."""

    line: int
    ac: str
    name: str = ""
    ident: str = ""
    ay: str = ""
    lower: Limit | None = None
    upper: Limit | None = None
    points: list[tuple[float, float]] = field(default_factory=list)  # (lon, lat)
    circle: list[tuple[float, float]] | None = None
    windows: list[tuple[float, float]] = field(default_factory=list)
    never: bool = False  # AA NONE
    centre: tuple[float, float] | None = None  # (lat, lon) from V X=
    clockwise: bool = True


class _OpenAirReader:
    """Reads records line by line; each ``_do_XX`` handles one directive."""

    def __init__(self, source: str, ignored: Counter[str], ids: dict[str, Volume]) -> None:
        self.source, self.ignored, self.ids = source, ignored, ids
        self.volumes: list[Volume] = []
        self.rec: _OpenAirRecord | None = None

    def line(self, lineno: int, key: str, arg: str) -> None:
        if key != "AN":  # names may hold a '*'; elsewhere it starts a trailing comment
            arg = arg.split("*", 1)[0].strip()
        if key == "AC":
            self.finish()
            if not arg:
                raise _Invalid("AC without an airspace class")
            self.rec = _OpenAirRecord(lineno, arg)
            return
        handler: Callable[[_OpenAirRecord, str], None] | None = getattr(self, f"_do_{key}", None)
        if handler is None and (key in ("SP", "SB") or (len(key) == 2 and key[0] == "A")):
            self.ignored[key] += 1  # styles and newer attributes (AF, AG, AT, AX ...)
            return
        if handler is None:
            raise _Invalid(f"unknown directive {key!r}")
        if self.rec is None:
            raise _Invalid(f"{key} before the first AC record")
        handler(self.rec, arg)

    def _do_AN(self, rec: _OpenAirRecord, arg: str) -> None:
        rec.name = arg

    def _do_AI(self, rec: _OpenAirRecord, arg: str) -> None:
        rec.ident = arg

    def _do_AY(self, rec: _OpenAirRecord, arg: str) -> None:
        rec.ay = arg

    def _do_AL(self, rec: _OpenAirRecord, arg: str) -> None:
        if rec.lower is not None:
            raise _Invalid("second AL (lower limit) in one airspace")
        rec.lower = parse_limit(arg)

    def _do_AH(self, rec: _OpenAirRecord, arg: str) -> None:
        if rec.upper is not None:
            raise _Invalid("second AH (upper limit) in one airspace")
        rec.upper = parse_limit(arg)

    def _do_AA(self, rec: _OpenAirRecord, arg: str) -> None:
        if arg.upper() == "NONE":
            rec.never = True
            return
        start, sep, end = arg.partition("/")
        if not sep:
            raise _Invalid(f"bad activation {arg!r} (expected START/END in ISO 8601 UTC)")
        rec.windows.append(_window(start, end))

    def _do_V(self, rec: _OpenAirRecord, arg: str) -> None:
        name, sep, value = (s.strip() for s in arg.partition("="))
        name = name.upper()
        if not sep:
            raise _Invalid(f"bad variable assignment {arg!r} (expected V X=..., V D=+ or V D=-)")
        if name == "X":
            rec.centre = _coordinates(value, 1)[0]
        elif name == "D" and value in ("+", "-"):
            rec.clockwise = value == "+"
        elif name in _IGNORED_VARS:
            self.ignored[f"V {name}"] += 1
        else:
            raise _Invalid(f"bad variable assignment {arg!r} (expected V X=..., V D=+ or V D=-)")

    def _do_DP(self, rec: _OpenAirRecord, arg: str) -> None:
        lat, lon = _coordinates(arg, 1)[0]
        rec.points.append((lon, lat))

    def _do_DA(self, rec: _OpenAirRecord, arg: str) -> None:
        radius, start, end = _numbers(arg, 3, "arc 'radius, start angle, end angle'")
        r = _radius_m(radius)
        rec.points += _arc(self._centre(rec, "DA"), r, r, start, end, rec.clockwise)

    def _do_DB(self, rec: _OpenAirRecord, arg: str) -> None:
        centre = self._centre(rec, "DB")
        (lat0, lon0), (lat1, lon1) = _coordinates(arg, 2)
        b0, r0 = _bearing_distance(*centre, lat0, lon0)
        b1, r1 = _bearing_distance(*centre, lat1, lon1)
        _radius_m(max(r0, r1) / NM_M)
        points = _arc(centre, r0, r1, b0, b1, rec.clockwise)
        rec.points += [(lon0, lat0), *points[1:-1], (lon1, lat1)]  # the ends exactly as given

    def _do_DC(self, rec: _OpenAirRecord, arg: str) -> None:
        r = _radius_m(_numbers(arg, 1, "circle radius")[0])
        if rec.circle is not None:
            raise _Invalid("second DC circle in one airspace")
        rec.circle = _arc(self._centre(rec, "DC"), r, r, 0.0, 360.0 - ARC_STEP_DEG, True)

    def _do_DY(self, rec: _OpenAirRecord, arg: str) -> None:
        raise _Invalid("DY airway segments are not supported; describe the area with DP")

    @staticmethod
    def _centre(rec: _OpenAirRecord, key: str) -> tuple[float, float]:
        if rec.centre is None:
            raise _Invalid(f"{key} without a preceding V X= centre")
        return rec.centre

    def finish(self) -> None:
        """Turn the current record into a :class:`Volume` (errors name its AC line)."""
        rec, self.rec = self.rec, None
        if rec is None:
            return
        try:
            self.volumes.append(_claim_id(self.ids, self._volume(rec), "the id is AI, else "
                                          "AN: give each airspace its own AI"))
        except _Invalid as exc:
            label = f"airspace {rec.name!r}" if rec.name else "airspace"
            raise AirspaceFileError(f"{label} starting here: {exc}", path=self.source,
                                    line=rec.line) from None

    def _volume(self, rec: _OpenAirRecord) -> Volume:
        if rec.lower is None or rec.upper is None:
            raise _Invalid("missing limits: " + " and ".join(
                k for k, v in (("AL", rec.lower), ("AH", rec.upper)) if v is None))
        _check_limits(rec.lower, rec.upper)
        if rec.circle is not None and rec.points:
            raise _Invalid("mixes a DC circle with DP/DA/DB points")
        pts = rec.points
        ring = rec.circle or [p for i, p in enumerate(pts) if i == 0 or p != pts[i - 1]]
        if ring and len(ring) > 1 and ring[0] == ring[-1]:
            ring = ring[:-1]  # closed explicitly; shapely closes it otherwise
        if not ring:
            raise _Invalid("no geometry (no DP, DA, DB or DC)")
        if len(set(ring)) < 3:
            raise _Invalid(f"polygon needs at least 3 distinct points, got {len(set(ring))}")
        kind = rec.ay if rec.ay.upper() not in ("", "NONE", "UNC", "UNCLASSIFIED") else rec.ac
        schedule = ALWAYS
        if rec.windows or rec.never:  # AA NONE overrides every window: never active
            schedule = Schedule(False, () if rec.never else tuple(rec.windows))
        where = f"{self.source}:{rec.line}"
        return Volume(rec.ident or rec.name or where, rec.name, _kind(kind),
                      _valid(Polygon(ring)), rec.lower, rec.upper, schedule, where)


def parse_openair(data: str | bytes, source: str = "<openair>", *,
                  ignored: Counter[str] | None = None,
                  ids: dict[str, Volume] | None = None) -> list[Volume]:
    """Volumes of an OpenAir text (UTF-8, else Latin-1).

    Handled: AC, AN, AL, AH, AY (kind, when given), AI (id), AA (activation windows),
    V X=/D=, DP, DA, DB, DC and ``*`` comments.  Other A* attributes, SP/SB styles and
    V W=/Z= are ignored and counted in ``ignored``.  DP polygons are closed implicitly;
    the arc direction (V D=) and centre (V X=) are reset by each AC.
    Ids (AI, else AN) must differ between records, and from the keys of ``ids`` (the
    volumes of a set loaded so far, by id; updated).  The first bad record raises
    :class:`AirspaceFileError` naming ``source:line``.
    """
    text = data if isinstance(data, str) else _decode(data)
    reader = _OpenAirReader(source, ignored if ignored is not None else Counter(),
                            ids if ids is not None else {})
    for lineno, raw in enumerate(re.split(r"\r\n?|\n", text), start=1):
        line = raw.strip()
        if not line or line.startswith("*"):
            continue
        m = _KEY_RE.fullmatch(line)
        try:
            if m is None:
                raise _Invalid(f"unknown directive in {line[:40]!r}")
            reader.line(lineno, m[1].upper(), m[2].strip())
        except _Invalid as exc:
            raise AirspaceFileError(str(exc), path=source, line=lineno) from None
    reader.finish()
    if reader.ignored:
        log.debug("%s: ignored OpenAir records %s", source, dict(reader.ignored))
    return reader.volumes


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")
