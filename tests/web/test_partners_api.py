"""Partners in the API: ``/api/partners``, ``/api/status``, ``/metrics``, a track's
provenance, and the ``partners`` column of the picture and of both change streams.

The node here is :class:`StubNode`, a small :class:`~skyshare.web.app.NodeState` that
holds a real :class:`~skyshare.picture.Picture`, and its federation is
:class:`StubFederation`, a fixed table at the :class:`FederationView` plug point (the
node's real federation lives in ``skyshare.share``).  Everything between them and the
HTTP and WebSocket clients is real: the app served by uvicorn on loopback
(:func:`serve_app`).  ``test_partners_browser`` reuses all three.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
import numpy as np
import pytest
import uvicorn
import websockets.sync.client
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from wire_reader import read_frame  # tests/web, on sys.path for its tests

from skyshare.alerts.service import AlertService
from skyshare.auth import Sessions
from skyshare.model import SourceKind, TrackBatch, TrackFlag, empty_tracks
from skyshare.node import free_port
from skyshare.picture import Picture
from skyshare.sources.base import SensorStatus
from skyshare.web import views
from skyshare.web.app import PipelineStats, create_app
from skyshare.web.federation_view import (
    PARTNER_STATES,
    FederationView,
    federation_status,
    partner_metrics,
)

PARTNERS = ["west", "north", "east"]  # bit i of a track's mask is PARTNERS[i]
NOW = time.time()


def flow(tracks: int, messages: int, last: float | None) -> dict[str, object]:
    return {"messages": messages, "tracks": tracks, "bytes": 180 * tracks, "last": last,
            "age_s": None}


def agreement(ident: str, fields: list[str], *, active: bool = True,
              until: str | None = None) -> dict[str, object]:
    return {"id": ident, "active": active, "fields": fields, "sources": "own",
            "max_rate_hz": 1.0, "min_delay_s": None, "until": until}


def partner_rows(now: float) -> list[dict[str, object]]:
    """The three partners of the stub: one each connected, lagging and down."""
    return [
        {"partner": "west", "state": "connected", "heard": now - 0.5, "lag_s": 0.1,
         "clock_offset_s": 0.02, "sent": flow(1200, 60, now - 1), "received": flow(800, 60,
                                                                                  now - 0.5),
         "dropped": {}, "agreements": {
             "outgoing": [agreement("home-to-west", ["position", "identity"])],
             "incoming": [agreement("west-to-home", ["position", "identity", "squawk"])]}},
        {"partner": "north", "state": "lagging", "heard": now - 6.0, "lag_s": 4.5,
         "clock_offset_s": -0.3, "sent": flow(300, 20, now - 1), "received": flow(90, 12,
                                                                                 now - 6),
         "dropped": {"bad-signature": 3, "no-agreement": 1}, "agreements": {
             "outgoing": [agreement("home-to-north", ["position"])],
             "incoming": [agreement("north-to-home", ["position"], active=False,
                                    until="2020-01-01T00:00:00Z")]}},
        {"partner": "east", "state": "down", "heard": None, "lag_s": None,
         "clock_offset_s": None, "sent": flow(0, 0, None), "received": flow(0, 0, None),
         "dropped": {}, "agreements": {"outgoing": [], "incoming": [
             agreement("east-to-home", ["position", "quality"])]}},
    ]


@dataclass
class StubFederation:
    """A fixed federation at the plug point: the rows above, ``silent_s`` as of ``now``;
    ``rates`` (partner -> (received, sent) tracks/s) make its track counters grow."""

    names: list[str] = field(default_factory=lambda: list(PARTNERS))
    heard_base: float = NOW
    provenance: dict[int, list[dict[str, object]]] = field(default_factory=dict)
    rates: dict[str, tuple[float, float]] = field(default_factory=dict)
    asked: list[int] = field(default_factory=list)  # track ids whose provenance was asked

    @property
    def partner_names(self) -> list[str]:
        return self.names

    def partners_json(self, now: float) -> list[dict[str, object]]:
        rows = partner_rows(self.heard_base)
        for row in rows:
            heard = row["heard"]
            row["silent_s"] = round(now - heard, 3) if isinstance(heard, float) else None
            received, sent = self.rates.get(str(row["partner"]), (0.0, 0.0))
            for key, rate in (("received", received), ("sent", sent)):
                counts = row[key]
                assert isinstance(counts, dict)
                counts["tracks"] += round(rate * (now - self.heard_base))
        return rows

    def provenance_json(self, track_id: int) -> list[dict[str, object]]:
        self.asked.append(track_id)
        return self.provenance.get(track_id, [])


@dataclass
class StubNode:
    """A :class:`NodeState` around a picture the test publishes (no pipeline, no alerts)."""

    federation: FederationView | None
    name: str = "home"
    picture: Picture = field(default_factory=Picture)
    statuses: list[SensorStatus] = field(default_factory=list)
    stats: PipelineStats = field(default_factory=PipelineStats)
    stream_interval_s: float = 0.2
    reference: tuple[float, float] | None = None
    alerts: AlertService | None = None
    sessions: Sessions | None = None
    anonymous_read: bool = True


def federated_tracks(now: float) -> TrackBatch:
    """Three confirmed tracks: 101 own sensors only, 102 from west and north only, 103
    own sensors and east."""
    t = empty_tracks(3)
    t["track_id"] = [101, 102, 103]
    t["icao24"] = [0x3C6586, 0x4CA2D1, 0x440123]
    t["callsign"] = [b"OWN101", b"FED102", b"MIX103"]
    t["flags"] = TrackFlag.CONFIRMED | TrackFlag.HAS_POSITION
    t["lat"], t["lon"] = [48.0, 48.3, 47.7], [10.0, 10.4, 9.6]
    t["alt"] = [31000, 24000, 12000]
    t["first_seen"], t["last_seen"], t["last_pos"] = now - 60, now, now
    t["messages"] = [400, 0, 30]
    partner, adsb = 1 << SourceKind.PARTNER, 1 << SourceKind.ADSB
    t["sources"] = [adsb, partner, adsb | partner]
    t["partners"] = [0, 0b011, 0b100]
    return t


def provenance(now: float) -> dict[int, list[dict[str, object]]]:
    """What the partners contributed to tracks 102 and 103 (see :func:`federated_tracks`)."""
    return {
        102: [{"partner": "west", "remote_track_id": 12, "sources": ["adsb", "mlat"],
               "last_seen": now - 1.0},
              {"partner": "north", "remote_track_id": 7, "sources": ["radar_ssr"],
               "last_seen": now - 4.0}],
        103: [{"partner": "east", "remote_track_id": 9001, "sources": ["adsb"],
               "last_seen": now - 2.0}],
    }


PROVENANCE: Final = provenance(NOW)


@contextmanager
def serve_app(app: Starlette) -> Iterator[str]:
    """``app`` served by uvicorn on a free loopback port in a thread; yields its URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off",
                                           ws="websockets-sansio"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the app did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        assert not thread.is_alive(), "the app did not stop"


@dataclass
class Served:
    client: httpx.Client
    node: StubNode
    fed: StubFederation


@pytest.fixture(scope="module")
def federated() -> Iterator[Served]:
    fed = StubFederation(provenance=PROVENANCE)
    node = StubNode(fed)
    node.picture.publish(federated_tracks(time.time()), time.time())
    with serve_app(create_app(node)) as base, httpx.Client(base_url=base) as client:
        yield Served(client, node, fed)


@pytest.fixture(scope="module")
def alone() -> Iterator[httpx.Client]:
    node = StubNode(None)
    tracks = federated_tracks(time.time())
    tracks["partners"] = 0
    node.picture.publish(tracks, time.time())
    with serve_app(create_app(node)) as base, httpx.Client(base_url=base) as client:
        yield client


def samples(text: str) -> dict[str, float]:
    """Prometheus text as {'name{labels}': value}; checks every family is declared."""
    out: dict[str, float] = {}
    declared: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            declared.add(line.split()[2])
        elif line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            assert key.split("{")[0] in declared, f"{key}: no # TYPE line before it"
            out[key] = float(value)
    return out


# ---------------------------------------------------------------- /api/partners


def test_partners_lists_the_federation_rows(federated: Served) -> None:
    client, fed = federated.client, federated.fed
    fed.asked.clear()
    before = time.time()
    body = client.get("/api/partners").json()
    after = time.time()
    assert body["node"] == "home" and before <= body["now"] <= after
    expected = fed.partners_json(body["now"])
    assert body["partners"] == expected
    assert [p["state"] for p in body["partners"]] == ["connected", "lagging", "down"]
    west = body["partners"][0]
    assert before - NOW + 0.5 - 0.001 <= west["silent_s"] <= after - NOW + 0.5 + 0.001
    assert west["agreements"]["incoming"][0]["fields"] == ["position", "identity", "squawk"]


def test_without_federation_the_api_says_so_and_nothing_more(alone: httpx.Client) -> None:
    assert alone.get("/api/partners").json()["partners"] == []
    assert alone.get("/api/status").json()["federation"] is None
    assert "skyshare_partner" not in alone.get("/metrics").text
    got = alone.get("/api/tracks/102/provenance").json()
    assert (got["partners"], got["provenance"]) == ([], [])
    picture = alone.get("/api/picture").json()["tracks"]
    assert [t["partners"] for t in picture] == [[], [], []]


def test_status_counts_partners_by_state(federated: Served) -> None:
    client = federated.client
    got = client.get("/api/status").json()["federation"]
    assert got == {"partners": 3, "connected": 1, "lagging": 1, "down": 1}


# ---------------------------------------------------------------- /metrics


def test_metrics_per_partner(federated: Served) -> None:
    client, fed = federated.client, federated.fed
    fed.asked.clear()
    got = samples(client.get("/metrics").text)
    rows = {r["partner"]: r for r in fed.partners_json(time.time())}
    for name, row in rows.items():
        states = {s: got[f'skyshare_partner_up{{partner="{name}",state="{s}"}}']
                  for s in PARTNER_STATES}
        assert states == {s: float(s == row["state"]) for s in PARTNER_STATES}, name
        assert got[f'skyshare_partner_sent_tracks_total{{partner="{name}"}}'] == (
            row["sent"]["tracks"])
        assert got[f'skyshare_partner_received_tracks_total{{partner="{name}"}}'] == (
            row["received"]["tracks"])
        lag = f'skyshare_partner_lag_seconds{{partner="{name}"}}'
        assert got.get(lag) == row["lag_s"]  # absent (None) when never heard
    dropped = {k: v for k, v in got.items() if k.startswith("skyshare_partner_dropped_total")}
    assert dropped == {
        'skyshare_partner_dropped_total{partner="north",reason="bad-signature"}': 3,
        'skyshare_partner_dropped_total{partner="north",reason="no-agreement"}': 1}
    assert got["skyshare_tracks"] == 3  # the node's own metrics are still there


def test_metrics_escape_labels_and_survive_odd_rows() -> None:
    class Odd(StubFederation):
        def partners_json(self, now: float) -> list[dict[str, object]]:
            return [{"partner": "west", "state": "sleeping", "sent": "lots", "lag_s": math.inf,
                     "dropped": {'quote"d\\reason\n': 2, "nan": math.nan, "flag": True}},
                    {"nothing": None}]

    with serve_app(create_app(StubNode(Odd()))) as base:
        text = httpx.get(f"{base}/metrics").text
        status = httpx.get(f"{base}/api/status").json()["federation"]
    got = samples(text)
    assert got['skyshare_partner_up{partner="west",state="down"}'] == 1  # unknown: down
    assert got['skyshare_partner_up{partner="?",state="down"}'] == 1
    assert got[r'skyshare_partner_dropped_total{partner="west",reason="quote\"d\\reason\n"}'] == 2
    assert not any("lag_seconds{" in k or "sent_tracks_total{" in k for k in got)
    assert status == {"partners": 2, "connected": 0, "lagging": 0, "down": 2}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=20)
ROW = st.dictionaries(st.sampled_from(["partner", "state", "sent", "received", "dropped",
                                       "lag_s", "silent_s", "heard"]), JSON, max_size=8)


@given(st.lists(ROW | JSON, max_size=5))
def test_summaries_read_any_rows_without_failing(rows: list[Any]) -> None:
    counts = federation_status(rows)
    assert counts is not None and counts["partners"] == len(rows)
    assert sum(counts[s] for s in PARTNER_STATES) == len(rows)
    for family in partner_metrics(rows):
        for labels, value in family.samples:
            assert math.isfinite(value) and all(isinstance(v, str) for v in labels.values())
        if family.name == "skyshare_partner_up":
            assert len(family.samples) == 3 * len(rows)


# ---------------------------------------------------------------- provenance


def test_provenance_of_a_track_from_partners(federated: Served) -> None:
    client, fed = federated.client, federated.fed
    fed.asked.clear()
    got = client.get("/api/tracks/102/provenance").json()
    assert got["track_id"] == 102 and got["partners"] == ["west", "north"]
    assert got["provenance"] == PROVENANCE[102]
    own = client.get("/api/tracks/101/provenance").json()
    assert (own["partners"], own["provenance"]) == ([], [])
    assert fed.asked == [102, 101]


@pytest.mark.parametrize("path", ["/api/tracks/104/provenance", "/api/tracks/0/provenance",
                                  f"/api/tracks/{2**32 + 102}/provenance",
                                  "/api/tracks/1e3/provenance", "/api/tracks/-1/provenance"])
def test_provenance_of_no_such_track_is_404(federated: Served, path: str) -> None:
    client, fed = federated.client, federated.fed
    fed.asked.clear()
    response = client.get(path)
    assert response.status_code == 404
    assert fed.asked == []


def test_provenance_404_says_what_to_do(federated: Served) -> None:
    client = federated.client
    assert "/api/picture" in client.get("/api/tracks/5/provenance").json()["error"]


# ---------------------------------------------------------------- the partners column


def test_picture_rows_name_their_partners(federated: Served) -> None:
    client = federated.client
    rows = {t["id"]: t for t in client.get("/api/picture").json()["tracks"]}
    assert rows[101]["partners"] == [] and rows[101]["sources"] == ["adsb"]
    assert rows[102]["partners"] == ["west", "north"] and rows[102]["sources"] == ["partner"]
    assert rows[103]["partners"] == ["east"]
    columns = client.get("/api/picture", params={"format": "columns"}).json()["columns"]
    assert columns["partners"] == [rows[i]["partners"] for i in columns["id"]]


def test_both_streams_carry_the_same_partners(federated: Served) -> None:
    client, node = federated.client, federated.node
    url = str(client.base_url).replace("http", "ws") + "/api/stream"
    with websockets.sync.client.connect(url, open_timeout=10) as ws:
        text = json.loads(ws.recv(timeout=10))
    with websockets.sync.client.connect(url + "?format=binary", open_timeout=10) as ws:
        frame = read_frame(ws.recv(timeout=10))
    assert frame["partners"] == PARTNERS
    assert frame["columns"]["partners"].dtype == np.dtype("<u2")
    masks = frame["columns"]["partners"].tolist()
    from_binary = [[frame["partners"][i] for i in range(16) if m >> i & 1] for m in masks]
    assert text["columns"]["partners"] == from_binary
    assert masks == node.picture.tracks["partners"].tolist()


@given(st.lists(st.integers(0, 0xFFFF), max_size=50),
       st.lists(st.from_regex(re.compile(r"[a-z][a-z0-9-]{0,31}", re.ASCII), fullmatch=True),
                max_size=20, unique=True))
def test_partner_lists_name_each_bit(masks: list[int], names: list[str]) -> None:
    got = views.partner_lists(np.array(masks, dtype=np.uint16), names)
    table = [*names[:16], *(f"partner-{i}" for i in range(len(names), 16))]
    assert got == [[table[i] for i in range(16) if m >> i & 1] for m in masks]
