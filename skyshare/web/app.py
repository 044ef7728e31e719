"""The node's HTTP/WebSocket API (Starlette).

Routes
------
``GET /``                       the live map (``static/index.html``; files under ``/static/``)
``GET /api/picture[?bbox=s,w,n,e][&format=rows|columns]``  current confirmed tracks
``GET /data/aircraft.json``     the same, as dump1090/readsb/tar1090 JSON
``GET /data/receiver.json``     what tar1090 reads first (poll interval, position)
``GET /api/sensors``            per-sensor state, rates and bad-input counts
``GET /api/status``             node counters, pipeline latency, alerts and partners by state
``GET /api/partners``           ``{"node", "now", "partners": [row, …]}``: each federation
                                partner's state, flows, drops and agreements (rows:
                                :mod:`.federation_view`; ``[]`` without a federation)
``GET /api/tracks/{id}/provenance``  ``{"node", "track_id", "partners": [name, …],
                                "provenance": [entry, …]}``: who contributed to track
                                ``id`` (404 when it is not in the picture)
``GET /metrics``                Prometheus text exposition
``WS  /api/stream[?format=binary]``  a full snapshot, then compact deltas (JSON
                                columns, or packed binary columns: :mod:`.wire`)
``/api/login``, ``/api/alerts``…  logging in and the alerts workflow: :mod:`.alerts_api`
``/readiness``, ``/api/readiness``…  sensors' and partners' health: :mod:`.readiness_api`

The app reads the node through :class:`NodeState` only; it never touches the
pipeline's state directly, so a slow client cannot stall fusion.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from skyshare import __version__
from skyshare.alerts.service import AlertService
from skyshare.config import MapConfig
from skyshare.model import TrackBatch
from skyshare.picture import BBox, Picture
from skyshare.sources.base import SensorStatus
from skyshare.web import views, wire
from skyshare.web.alerts_api import AlertsNode, alerts_routes
from skyshare.web.federation_view import (
    FederationView,
    federation_status,
    partner_metrics,
)
from skyshare.web.readiness_api import ReadinessNode, readiness_routes
from skyshare.web.static_routes import static_routes


@dataclass
class PipelineStats:
    """Running counters of the node's pipeline (written by the pipeline only)."""

    started: float = field(default_factory=time.time)
    frames: int = 0
    reports: int = 0
    batches: int = 0
    latency_p50_s: float = math.nan
    latency_p99_s: float = math.nan
    interval_s: float = math.nan  # between step starts now (see skyshare.cadence)
    decode_counts: dict[str, int] = field(default_factory=dict)
    tracker_counts: dict[str, int] = field(default_factory=dict)


class NodeState(AlertsNode, ReadinessNode, Protocol):
    """What the web layer needs from a running node (and :class:`AlertsNode`,
    :class:`ReadinessNode`)."""

    @property
    def name(self) -> str: ...
    @property
    def picture(self) -> Picture: ...
    @property
    def statuses(self) -> list[SensorStatus]: ...
    @property
    def stats(self) -> PipelineStats: ...
    @property
    def stream_interval_s(self) -> float: ...
    @property
    def reference(self) -> tuple[float, float] | None: ...
    @property
    def federation(self) -> FederationView | None:
        """The node's federation, or None: then the page shows no partner feature."""
        ...


def create_app(node: NodeState, tiles: MapConfig | None = None) -> Starlette:
    """The ASGI application serving ``node`` (``tiles``: the map's online basemap)."""

    def sensor_names() -> list[str]:
        return [s.name for s in node.statuses]

    def partner_names() -> list[str]:
        return node.federation.partner_names if node.federation is not None else []

    async def picture(request: Request) -> Response:
        bbox = None
        if "bbox" in request.query_params:
            try:
                bbox = BBox.parse(request.query_params["bbox"])
            except ValueError as exc:
                return JSONResponse({"error": f"bad bbox: {exc}"}, status_code=400)
        snap = node.picture.snapshot
        tracks = node.picture.query(bbox)
        now = time.time()
        columns = views.track_columns(tracks, now, sensor_names(), partner_names())
        fmt = request.query_params.get("format", "rows")
        if fmt not in ("rows", "columns"):
            return JSONResponse({"error": "format must be rows or columns"}, status_code=400)
        body: dict[str, Any] = {"node": node.name, "version": snap.version, "now": now,
                                "count": len(tracks)}
        body["tracks" if fmt == "rows" else "columns"] = (
            views.rows(columns) if fmt == "rows" else columns)
        return JSONResponse(body)

    async def aircraft(request: Request) -> Response:
        doc = views.aircraft_json(node.picture.tracks, time.time(), node.stats.frames)
        return JSONResponse(doc)

    async def receiver(request: Request) -> Response:
        # tar1090 reads this first: how often to poll aircraft.json, and where we are
        return JSONResponse(views.receiver_json(__version__, node.stream_interval_s,
                                                node.reference))

    async def sensors(request: Request) -> Response:
        now = time.time()
        return JSONResponse({"sensors": [sensor_json(s, now) for s in node.statuses]})

    async def status(request: Request) -> Response:
        st = node.stats
        now = time.time()
        return JSONResponse({
            "node": node.name,
            "uptime_s": round(now - st.started, 1),
            "tracks": len(node.picture.tracks),
            "frames": st.frames,
            "reports": st.reports,
            "latency_p50_s": None if math.isnan(st.latency_p50_s) else st.latency_p50_s,
            "latency_p99_s": None if math.isnan(st.latency_p99_s) else st.latency_p99_s,
            "step_interval_s": None if math.isnan(st.interval_s) else st.interval_s,
            "decode": st.decode_counts,
            "tracker": st.tracker_counts,
            "alerts": alerts_status(node.alerts),
            "federation": federation_status(
                None if node.federation is None else node.federation.partners_json(now)),
        })

    async def partners(request: Request) -> Response:
        fed = node.federation
        now = time.time()
        return JSONResponse({"node": node.name, "now": now,
                             "partners": [] if fed is None else fed.partners_json(now)})

    async def provenance(request: Request) -> Response:
        track_id = int(request.path_params["track_id"])
        tracks = node.picture.tracks
        at = _row_of(tracks, track_id)
        if at is None:
            return JSONResponse({"error": f"no track {track_id} in the picture (it may "
                                          "have ended): take an id from /api/picture"},
                                status_code=404)
        fed = node.federation
        return JSONResponse({
            "node": node.name, "track_id": track_id,
            "partners": views.partner_lists(tracks["partners"][at:at + 1], partner_names())[0],
            "provenance": [] if fed is None else fed.provenance_json(track_id)})

    async def metrics(request: Request) -> Response:
        return PlainTextResponse(prometheus_text(node, time.time()),
                                 media_type="text/plain; version=0.0.4")

    async def stream(ws: WebSocket) -> None:
        fmt = ws.query_params.get("format", "json")
        if fmt not in ("json", "binary"):
            await ws.close(code=1008, reason="format must be json or binary")
            return
        await ws.accept()
        # the client sends nothing we need, but reading is how a close is noticed;
        # without it the handler would outlive its client and hold up shutdown
        closed = asyncio.create_task(_until_closed(ws))
        version = 0
        try:
            while not closed.done():
                delta = node.picture.delta_since(version)
                if delta.version != version:
                    version = delta.version
                    if fmt == "binary":
                        await ws.send_bytes(wire.encode_delta(
                            delta, time.time(), sensor_names(), partner_names()))
                    else:
                        await ws.send_text(json.dumps(
                            delta_json(delta, sensor_names(), partner_names())))
                await asyncio.wait({closed}, timeout=node.stream_interval_s)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            closed.cancel()

    routes = [
        *static_routes(node.name, tiles),
        Route("/api/picture", picture),
        Route("/data/aircraft.json", aircraft),
        Route("/data/receiver.json", receiver),
        Route("/api/sensors", sensors),
        Route("/api/status", status),
        Route("/api/partners", partners),
        Route("/api/tracks/{track_id:int}/provenance", provenance),
        Route("/metrics", metrics),
        WebSocketRoute("/api/stream", stream),
        *alerts_routes(node),
        *readiness_routes(node),
    ]
    return Starlette(routes=routes)


def _row_of(tracks: TrackBatch, track_id: int) -> int | None:
    """The row of ``track_id`` in a picture's tracks (sorted by id), or None."""
    if not 0 <= track_id < 2**32:
        return None
    at = int(np.searchsorted(tracks["track_id"], np.uint32(track_id)))
    return at if at < len(tracks) and tracks["track_id"][at] == track_id else None


async def _until_closed(ws: WebSocket) -> None:
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
    except (WebSocketDisconnect, RuntimeError):
        return


def alerts_status(alerts: AlertService | None) -> dict[str, Any] | None:
    """What the alerting costs and does: evaluation time, counts, audit backlog."""
    if alerts is None:
        return None
    st = alerts.stats
    return {"evaluations": st.evaluations, "last_ms": round(st.last_ms, 2),
            "max_ms": round(st.max_ms, 2), "active": alerts.active_count,
            "raised": st.raised, "cleared": st.cleared, "events": st.events,
            "unwritten": alerts.unwritten}


def sensor_json(s: SensorStatus, now: float) -> dict[str, Any]:
    return {
        "name": s.name,
        "index": s.index,
        "format": s.format,
        "mode": s.mode,
        "address": s.address,
        "lat": s.lat,
        "lon": s.lon,
        "alt_m": s.alt_m,
        "exercise": s.exercise,
        "connected": s.connected,
        "connections": s.connections,
        "reconnects": s.reconnects,
        "bytes": s.bytes,
        "messages": s.frames,
        "rate": round(s.rate(now), 1),
        "last_message_ago": None if math.isnan(s.last_message) else round(now - s.last_message, 1),
        "bad_input": dict(s.bad.counts),
    }


def delta_json(delta: Any, sensor_names: list[str],
               partner_names: Sequence[str] = ()) -> dict[str, Any]:
    return {
        "type": "snapshot" if delta.full else "delta",
        "version": delta.version,
        "time": delta.time if math.isfinite(delta.time) else None,
        "columns": views.track_columns(delta.changed, time.time(), sensor_names,
                                       partner_names),
        "removed": delta.removed.tolist(),
    }


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: dict[str, str]) -> str:
    inside = ",".join(f'{key}="{_label(value)}"' for key, value in labels.items())
    return f"{{{inside}}}" if inside else ""


def prometheus_text(node: NodeState, now: float) -> str:
    """Counters and gauges in the Prometheus text exposition format 0.0.4."""
    st = node.stats
    out: list[str] = []

    def metric(name: str, kind: str, help_: str, samples: list[tuple[str, float]]) -> None:
        out.append(f"# HELP {name} {help_}")
        out.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            out.append(f"{name}{labels} {value}")

    metric("skyshare_frames_total", "counter", "Frames and SBS messages received.",
           [("", st.frames)])
    metric("skyshare_reports_total", "counter", "Decoded reports fused.", [("", st.reports)])
    metric("skyshare_tracks", "gauge", "Confirmed tracks in the picture.",
           [("", len(node.picture.tracks))])
    if node.alerts is not None:
        a = node.alerts
        metric("skyshare_alerts_active", "gauge", "Alerts whose condition holds.",
               [("", a.active_count)])
        metric("skyshare_alerts_raised_total", "counter", "Alerts raised.", [("", a.stats.raised)])
        metric("skyshare_alert_evaluation_seconds", "gauge",
               "Time of the last rule evaluation.", [("", a.stats.last_ms / 1000)])
        metric("skyshare_audit_unwritten", "gauge",
               "Events the audit log has not accepted yet (0 when healthy).",
               [("", a.unwritten)])
    lat = [(f'{{quantile="{q}"}}', v) for q, v in (("0.5", st.latency_p50_s),
                                                   ("0.99", st.latency_p99_s))
           if not math.isnan(v)]
    metric("skyshare_frame_to_picture_seconds", "summary",
           "Time from frame reception to its effect in the picture.", lat)
    metric("skyshare_decode_total", "counter", "Decoder outcomes by kind.",
           [(f'{{kind="{_label(k)}"}}', v) for k, v in sorted(st.decode_counts.items())])
    metric("skyshare_tracker_total", "counter", "Tracker outcomes by kind.",
           [(f'{{kind="{_label(k)}"}}', v) for k, v in sorted(st.tracker_counts.items())])
    per_sensor: dict[str, list[tuple[str, float]]] = {
        "messages": [], "bytes": [], "connected": [], "rate": [], "reconnects": []}
    bad: list[tuple[str, float]] = []
    for s in node.statuses:
        lab = f'sensor="{_label(s.name)}"'
        per_sensor["messages"].append((f"{{{lab}}}", s.frames))
        per_sensor["bytes"].append((f"{{{lab}}}", s.bytes))
        per_sensor["connected"].append((f"{{{lab}}}", int(s.connected)))
        per_sensor["rate"].append((f"{{{lab}}}", round(s.rate(now), 3)))
        per_sensor["reconnects"].append((f"{{{lab}}}", s.reconnects))
        bad += [(f'{{{lab},kind="{_label(k)}"}}', v) for k, v in sorted(s.bad.counts.items())]
    metric("skyshare_sensor_messages_total", "counter", "Messages per sensor.",
           per_sensor["messages"])
    metric("skyshare_sensor_bytes_total", "counter", "Bytes per sensor.", per_sensor["bytes"])
    metric("skyshare_sensor_connected", "gauge", "1 when the sensor is connected.",
           per_sensor["connected"])
    metric("skyshare_sensor_message_rate", "gauge", "Messages per second over ~10 s.",
           per_sensor["rate"])
    metric("skyshare_sensor_reconnects_total", "counter", "Reconnections per sensor.",
           per_sensor["reconnects"])
    metric("skyshare_bad_input_total", "counter", "Skipped bad input by sensor and kind.", bad)
    if node.federation is not None:
        for family in partner_metrics(node.federation.partners_json(now)):
            metric(family.name, family.kind, family.help,
                   [(_labels(labels), value) for labels, value in family.samples])
    return "\n".join(out) + "\n"
