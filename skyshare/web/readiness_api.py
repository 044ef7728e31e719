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

import time
from typing import Protocol

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from skyshare.readiness.monitor import PartnerSource, Readiness
from skyshare.web.assets import STATIC_DIR


class ReadinessNode(Protocol):
    """What these routes need from a running node."""

    @property
    def readiness(self) -> Readiness: ...
    @property
    def federation(self) -> PartnerSource | None: ...


def readiness_routes(node: ReadinessNode) -> list[BaseRoute]:
    async def page(request: Request) -> Response:
        return FileResponse(STATIC_DIR / "readiness.html", headers={"Cache-Control": "no-cache"})

    async def readiness(request: Request) -> Response:
        return JSONResponse(node.readiness.json(time.time(), node.federation))

    async def coverage(request: Request) -> Response:
        r = node.readiness
        return JSONResponse(r.coverage.geojson(time.time(), [s.exercise for s in r.specs]))

    return [Route("/readiness", page), Route("/api/readiness", readiness),
            Route("/api/readiness/coverage", coverage)]
