"""The readiness API and page: is every sensor and partner of the node working.

Routes
------
``GET /readiness``            the readiness page (``static/readiness.html``)
``GET /api/readiness``        the node's readiness as JSON (below)
``GET /api/readiness/coverage``  every placed sensor's observed coverage outline, as a
                              GeoJSON FeatureCollection: one Polygon per sensor and
                              altitude band (properties ``sensor``, ``band`` (0: every
                              altitude), ``lower_ft``, ``upper_ft``, ``max_range_nm``,
                              ``exercise``)

``/api/readiness``::

    {"partner", "now", "started",
     "state": "ok" | "degraded" | "impaired",     # impaired: a sensor silent, a partner down
     "sensor_states": {"ok": n, "degraded": n, "silent": n, "waiting": n},
     "sensors": [{"name", "index", "format", "mode", "address", "lat", "lon", "alt_m",
                  "exercise", "state", "reasons": [text], "since", "connected",
                  "silent_s", "rate", "baseline_rate", "window_s", "messages", "errors",
                  "decoded", "error_ratio", "decoded_ratio",
                  "totals": {"bytes", "messages", "bad_input": {kind: n}},
                  "gaps": {"count", "longest_s", "recent": [[start, end]], "span_s", "min_s"},
                  "clock": {"drift_ppm", "jitter_ms", "offset_s", "resets", "samples",
                            "span_s"} | null,
                  "coverage": {"max_range_nm", "median_range_nm", "bearings_seen",
                               "bearing_deg",           # width of a bearing bin
                               "bands": [{"lower_ft", "upper_ft", "max_range_nm",
                                          "ranges_nm": [per bin from north, 0: none]}]}
                              | null,                  # null: the sensor has no position
                  "series": [[t, messages/s, errors/s], ...]}],   # 10-s bins, 10 minutes
     "partners": [{"partner", "state", "silent_s", "lag_s", "latency_p99_s",
                   "received": {"tracks", "bytes", "age_s"}, "sent": {same},
                   "dropped", "last_exercise": {...} | null}],
     "exercise": {"scenario", "title", "ended_at", "score", "events", "detected", "late",
                  "missed", "false_alerts", "file", "partner": {...} | null} | null,
     "thresholds": {...}}

Times are UNIX s, rates per second, ranges NM.  Reading is open, as the picture is.
"""

from __future__ import annotations

import math
import time
from typing import Any, Final, Protocol

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from skyshare.readiness.assess import STATES, SensorReadiness
from skyshare.readiness.exercises import ExerciseResult
from skyshare.readiness.monitor import Readiness, overall
from skyshare.web.assets import STATIC_DIR
from skyshare.web.federation_view import (
    FederationView,
    PartnerRow,
    dropped_of,
    name_of,
    number,
    state_of,
)

SERIES_SPAN_S: Final = 600  # what the readiness page plots
SERIES_BIN_S: Final = 10
FLOW_KEYS: Final = ("tracks", "bytes", "age_s")
THRESHOLDS: Final = ("silent_after_s", "gap_s", "window_s", "max_error_ratio",
                     "min_rate_ratio", "baseline_s", "min_baseline_rate",
                     "max_clock_drift_ppm", "coverage_keep_s")


class ReadinessNode(Protocol):
    """What these routes need from a running node."""

    @property
    def readiness(self) -> Readiness: ...
    @property
    def federation(self) -> FederationView | None: ...


def readiness_routes(node: ReadinessNode) -> list[BaseRoute]:
    async def page(request: Request) -> Response:
        return FileResponse(STATIC_DIR / "readiness.html", headers={"Cache-Control": "no-cache"})

    async def readiness(request: Request) -> Response:
        now = time.time()
        fed = node.federation
        return JSONResponse(readiness_json(node.readiness, now,
                                           fed.partners_json(now) if fed is not None else []))

    async def coverage(request: Request) -> Response:
        r = node.readiness
        return JSONResponse(r.coverage.geojson(time.time(), [s.exercise for s in r.specs]))

    return [Route("/readiness", page), Route("/api/readiness", readiness),
            Route("/api/readiness/coverage", coverage)]


def readiness_json(readiness: Readiness, now: float, partners: list[PartnerRow]
                   ) -> dict[str, Any]:
    """``GET /api/readiness`` (shape in the module docstring)."""
    judged = readiness.sensors
    exercise = readiness.exercises.get()
    rows = partner_rows(partners, exercise)
    counts = dict.fromkeys(STATES, 0)
    for r in judged:
        counts[r.state] += 1
    return {
        "partner": readiness.partner, "now": now, "started": readiness.started,
        "state": overall(judged, [row["state"] for row in rows]),
        "sensor_states": counts, "sensors": [sensor_json(readiness, r, now) for r in judged],
        "partners": rows,
        "exercise": None if exercise is None else {
            **exercise.json(), "partner": exercise.partners.get(readiness.partner)},
        "thresholds": {k: getattr(readiness.config, k) for k in THRESHOLDS},
    }


def sensor_json(readiness: Readiness, r: SensorReadiness, now: float) -> dict[str, Any]:
    """One sensor's row of ``GET /api/readiness``."""
    spec, status = readiness.specs[r.index], readiness.statuses[r.index]
    config, clock = readiness.config, r.clock
    return {
        "name": r.name, "index": r.index, "format": spec.format, "mode": spec.mode,
        "address": spec.address, "lat": spec.lat, "lon": spec.lon, "alt_m": spec.alt_m,
        "exercise": r.exercise, "state": r.state, "reasons": list(r.reasons),
        "since": readiness.since(r.index), "connected": r.connected,
        "silent_s": _round(r.silent_s, 1), "rate": round(r.rate, 2),
        "baseline_rate": _round(r.baseline_rate, 2), "window_s": config.window_s,
        "messages": r.messages, "errors": r.errors, "decoded": r.decoded,
        "error_ratio": _round(r.error_ratio, 4), "decoded_ratio": _round(r.decoded_ratio, 4),
        "totals": {"bytes": status.bytes, "messages": status.frames,
                   "bad_input": dict(status.bad.counts)},
        "gaps": {"count": r.gaps.count, "longest_s": r.gaps.longest_s,
                 "recent": [list(g) for g in r.gaps.recent],
                 "span_s": config.history_s, "min_s": config.gap_s},
        "clock": None if clock is None else {
            "drift_ppm": _round(clock.drift_ppm, 2), "jitter_ms": _round(clock.jitter_ms, 3),
            "offset_s": round(clock.offset_s, 6), "resets": clock.resets,
            "samples": clock.samples, "span_s": clock.span_s},
        "coverage": readiness.coverage.summary(r.index, now),
        "series": [[t, round(m, 2), round(e, 2)] for t, m, e
                   in readiness.series[r.index].binned(now, SERIES_SPAN_S, SERIES_BIN_S)],
    }


def partner_rows(rows: list[PartnerRow], exercise: ExerciseResult | None
                 ) -> list[dict[str, Any]]:
    """Readiness of each partner: the federation's rows (read as defensively as the
    status and metrics read them), cut to what readiness shows, with the partner's part
    of the last exercise."""
    out = []
    for row in rows:
        name = name_of(row)
        out.append({
            "partner": name, "state": state_of(row),
            "silent_s": number(row, "silent_s"), "lag_s": number(row, "lag_s"),
            "latency_p99_s": number(row, "latency_p99_s"),
            "received": {k: number(row, "received", k) for k in FLOW_KEYS},
            "sent": {k: number(row, "sent", k) for k in FLOW_KEYS},
            "dropped": sum(dropped_of(row).values()),
            "last_exercise": None if exercise is None else exercise.partners.get(name),
        })
    return out


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, digits)
