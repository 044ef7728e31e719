"""Watching the nodes during an exercise, through their public HTTP API.

Every :data:`POLL_S` the :class:`Observer` reads each node's alert cases
(``/api/alerts?all=1``; a case's history, with the time of each step, when it changed)
and its picture (``/api/picture``), keeping the tracks of the scripted aircraft.  It
sees what a duty officer's browser sees, so scoring measures the network, not our
internals.

The scripted responder (``respond_after_s``) plays the duty officers when nobody is at
the consoles: it acknowledges each EXERCISE case routed to its partner, and accepts
each hand-over offered to it, that many seconds after it appears.  It never touches a
case that is not EXERCISE.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final

from skyshare.exercise.nodes import PartnerNode

log = logging.getLogger("skyshare.exercise")

POLL_S: Final = 1.0
TIMEOUT_S: Final = 5.0


@dataclass(frozen=True)
class TrackSeen:
    """A scripted aircraft's track in one node's picture at one poll."""

    t: float  # UNIX s of the poll
    node: str
    icao24: str
    lat: float | None
    lon: float | None
    alt: float | None
    track: float | None
    vertical_rate: float | None
    primary_only: bool
    exercise: bool


@dataclass
class Observations:
    cases: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    """(node's partner, case id) -> the case as that node last showed it, with history."""
    tracks: list[TrackSeen] = field(default_factory=list)
    unmarked_tracks: Counter[str] = field(default_factory=Counter)
    """Per node, polls that showed a track not marked EXERCISE (a run has no real ones)."""
    actions: list[dict[str, Any]] = field(default_factory=list)
    """What the scripted responder did: node, case, action, time, HTTP status."""
    errors: Counter[str] = field(default_factory=Counter)


class _Client:
    """One node's API, logged in as its duty officer."""

    def __init__(self, node: PartnerNode) -> None:
        self.node = node
        self.token: str | None = None

    def call(self, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        if self.token is None and path != "/api/login":
            login = self.node.duty
            status, me = self.call("/api/login", {"user": login.user,
                                                  "password": login.password})
            if status != 200:
                return status, me
            self.token = str(me["token"])
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.node.url + path, data=data,
                                         method="POST" if data is not None else "GET")
        request.add_header("Content-Type", "application/json")
        if self.token is not None:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as r:
                return r.status, json.load(r)
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                self.token = None
            return exc.code, None
        except (OSError, ValueError):
            return 0, None


class Observer:
    """Polls ``nodes`` in a thread until :meth:`stop`; ``addresses`` are the scripted
    aircraft (hex) whose tracks are kept."""

    def __init__(self, nodes: list[PartnerNode], addresses: set[str],
                 respond_after_s: float | None) -> None:
        self.clients = [_Client(n) for n in nodes]
        self.addresses = addresses
        self.respond_after_s = respond_after_s
        self.seen = Observations()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="exercise-observer",
                                        daemon=True)
        self._lock = threading.Lock()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> Observations:
        """Stop after one last poll; what was seen."""
        self._stop.set()
        self._thread.join(timeout=60)
        return self.seen

    def alert_count(self) -> int:
        with self._lock:
            return sum(1 for c in self.seen.cases.values() if c.get("origin") is None)

    def _loop(self) -> None:
        while True:
            stopping = self._stop.is_set()
            started = time.monotonic()
            for client in self.clients:
                try:
                    self.poll(client)
                except Exception:  # one bad answer must not end the observation
                    log.exception("exercise: polling %s failed", client.node.partner)
                    self.seen.errors["poll"] += 1
            if stopping:
                return
            self._stop.wait(max(0.0, POLL_S - (time.monotonic() - started)))

    def poll(self, client: _Client) -> None:
        now = time.time()
        partner = client.node.partner
        status, listing = client.call("/api/alerts?all=1")
        if status == 200:
            for case in listing["alerts"]:
                self._case(client, case, now)
        else:
            self.seen.errors[f"alerts:{status}"] += 1
        status, picture = client.call("/api/picture?format=columns")
        if status != 200:
            self.seen.errors[f"picture:{status}"] += 1
            return
        cols = picture["columns"]
        unmarked = sum(1 for x in cols["exercise"] if not x)
        with self._lock:
            if unmarked:
                self.seen.unmarked_tracks[partner] += 1
            for i, address in enumerate(cols["icao24"]):
                if address in self.addresses:
                    self.seen.tracks.append(TrackSeen(
                        now, partner, address, cols["lat"][i], cols["lon"][i], cols["alt"][i],
                        cols["track"][i], cols["vertical_rate"][i], cols["primary_only"][i],
                        cols["exercise"][i]))

    def _case(self, client: _Client, case: dict[str, Any], now: float) -> None:
        key = (client.node.partner, str(case["id"]))
        known = self.seen.cases.get(key)
        if known is None or known.get("updated_at") != case.get("updated_at") or (
                known.get("state") != case.get("state")):
            status, full = client.call(f"/api/alerts/{case['id']}")
            if status == 200:
                case = full
            with self._lock:
                self.seen.cases[key] = {**case, "first_seen_at": (known or {}).get(
                    "first_seen_at", now)}
        if self.respond_after_s is not None and case.get("exercise"):
            self._respond(client, case, now)

    def _respond(self, client: _Client, case: dict[str, Any], now: float) -> None:
        """Play the duty officer: acknowledge what is ours, accept what is offered."""
        can = case.get("can") or []
        partner = client.node.partner
        action = None
        if "accept" in can and case.get("offered_to") == partner:
            action = "accept"
        elif "acknowledge" in can and case.get("state") == "new" and case.get("mine"):
            action = "acknowledge"
        if action is None or case.get("pending"):
            return
        since = float(case.get("updated_at") or case.get("raised_at") or now)
        if now - since < float(self.respond_after_s or 0.0):
            return
        status, _ = client.call(f"/api/alerts/{case['id']}/{action}", {})
        with self._lock:
            self.seen.actions.append({"node": partner, "alert_id": case["id"],
                                      "action": action, "at": time.time(), "status": status})
