"""What the airspace tests share: fixture paths, the tests' own geodesy and schedule
oracle, and small builders of volumes and GeoJSON documents."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import box

from skyshare.airspace import Schedule, Volume, WeeklyWindow, parse_limit

DATA = Path(__file__).parents[1] / "data" / "airspace"
OPENAIR = DATA / "sample.openair"
R = 6_371_008.8  # m, the sphere the module documents
NM = 1852.0
F64 = npt.NDArray[np.float64]


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


T0 = utc("2026-11-23T08:00:00")  # a Monday


# --------------------------------------------------------------------------- geodesy (test's own)
def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * R * math.asin(math.sqrt(a))


def offset(lat: float, lon: float, bearing: float, dist_m: float) -> tuple[float, float]:
    """(lat, lon) at ``dist_m`` along ``bearing`` (spherical direct problem)."""
    d, b, p1 = dist_m / R, math.radians(bearing), math.radians(lat)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    dl = math.atan2(math.sin(b) * math.sin(d) * math.cos(p1),
                    math.cos(d) - math.sin(p1) * math.sin(p2))
    return math.degrees(p2), lon + math.degrees(dl)


def area_m2(geometry: Any) -> float:
    """Area on the sphere through the sinusoidal (equal-area) projection."""
    def project(xy: F64) -> F64:
        lon, lat = np.radians(xy[:, 0]), np.radians(xy[:, 1])
        return np.column_stack([R * lon * np.cos(lat), R * lat])
    return float(shapely.transform(geometry, project).area)


def dms(text: str) -> float:
    d, m, s = (float(x) for x in text.split(":"))
    return d + m / 60 + s / 3600


def oracle_active(s: Schedule, t: float) -> bool:
    """Independent of the module's week arithmetic: datetime weekday and minutes."""
    if s.always or any(a <= t < b for a, b in s.windows):
        return True
    dt = datetime.fromtimestamp(t, UTC)
    minute = dt.hour * 60 + dt.minute + (dt.second + dt.microsecond / 1e6) / 60
    day = dt.weekday()
    for w in s.weekly:
        if w.end_min > w.start_min:
            if day in w.days and w.start_min <= minute < w.end_min:
                return True
        elif (day in w.days and minute >= w.start_min) or (
                (day - 1) % 7 in w.days and minute < w.end_min):
            return True
    return False


def schedules(rng: np.random.Generator, n: int) -> list[Schedule]:
    out = []
    for _ in range(n):
        kind = rng.integers(0, 4)
        if kind == 0:
            out.append(Schedule())
            continue
        windows = tuple((a, a + rng.uniform(1.0, 400.0))
                        for a in T0 + rng.uniform(-300.0, 600.0, rng.integers(0, 3)))
        weekly = tuple(WeeklyWindow(frozenset(rng.choice(7, rng.integers(1, 4), replace=False)
                                              .tolist()), int(a), int(b))
                       for a, b in rng.integers(0, 1441, (rng.integers(0, 3), 2))
                       if a % 1440 != b % 1440 and a < 1440)
        out.append(Schedule(False, windows if kind != 2 else (), weekly if kind != 1 else ()))
    return out


def volume(geometry: Any = None, lower: str = "GND", upper: str = "UNL",
           schedule: Schedule | None = None, vid: str = "v") -> Volume:
    return Volume(vid, vid, "restricted", geometry or box(0, 0, 1, 1), parse_limit(lower),
                  parse_limit(upper), schedule or Schedule(), "test")


# OpenAir snippets: a record head without geometry, a circle, a square
HEAD = "AC R\nAN T\nAL GND\nAH FL100\n"
CIRCLE = "V X=47:00:00N 008:00:00E\nDC 2\n"
SQUARE = ("DP 47:00:00N 008:00:00E\nDP 47:00:00N 008:10:00E\nDP 47:10:00N 008:10:00E\n"
          "DP 47:10:00N 008:00:00E\n")


def feature(geometry: Any = None, **props: Any) -> dict[str, Any]:
    base = {"id": "A", "class": "restricted", "lower": "GND", "upper": "FL100"}
    geometry = geometry or {"type": "Polygon",
                            "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    return {"type": "Feature", "properties": {**base, **props}, "geometry": geometry}


def collection(*features: dict[str, Any]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})
