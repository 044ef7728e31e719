"""What the web layer reads of a node's federation: the plug point and its summaries.

The node's federation (``skyshare.share``) implements :class:`FederationView`; the web
layer only reads it, so the map and the API never depend on how partners are reached.
A node without a federation has none (``NodeState.federation is None``): the API then
answers ``{"partners": []}``, ``/api/status`` says ``"federation": null`` and the map
shows no partner feature at all.

Bit ``i`` of a track's ``partners`` mask (``TRACK_DTYPE['partners']``, u16) is
``partner_names[i]``: the names are the table the JSON views and the binary stream send
alongside the masks.

``partners_json(now)`` returns one row per partner (times UNIX s UTC, durations s)::

    {"partner": "west",                        # ^[a-z][a-z0-9-]{0,31}$
     "state": "connected" | "lagging" | "down",
     "heard": unix | null,                     # last message of any kind from it
     "silent_s": float | null,                 # now - heard
     "lag_s": float | null,                    # how late its data arrives
     "clock_offset_s": float | null,           # our clock minus its, plus least latency
     "sent": {"messages", "tracks", "bytes", "last": unix | null, "age_s": float | null},
     "received": {same},
     "dropped": {"bad-signature": 3, ...},     # its messages refused, by reason
     "agreements": {"outgoing": [AGREEMENT, ...], "incoming": [AGREEMENT, ...]}}

    AGREEMENT = {"id": str, "active": bool, "fields": ["position", ...],
                 "sources": "own" | "all", "max_rate_hz": float | null,
                 "min_delay_s": float | null, "until": iso-8601 | null}

(extra keys are allowed and passed through unchanged).  ``provenance_json(track_id)``
says which partners contributed to one of this node's tracks::

    [{"partner": "west", "remote_track_id": 12, "sources": ["adsb", ...],
      "last_seen": unix}]

The rows cross into the web layer as plain JSON data: the functions below read them
defensively (a missing or ill-typed value counts as unknown, never as an error), so
that a partner's odd status can never take down ``/metrics`` or ``/api/status``.
"""

from __future__ import annotations

import math
from typing import Final, NamedTuple, Protocol

PARTNER_STATES: Final = ("connected", "lagging", "down")

PartnerRow = dict[str, object]
"""One row of :meth:`FederationView.partners_json` (shape in the module docstring)."""


class FederationView(Protocol):
    """What the web layer reads of the node's federation (read-only, cheap to call)."""

    @property
    def partner_names(self) -> list[str]:
        """The federation table: bit i of TRACK_DTYPE 'partners' is partner_names[i]."""
        ...

    def partners_json(self, now: float) -> list[dict[str, object]]:
        """One row per partner as of ``now`` (UNIX s), shaped as the module docstring says."""
        ...

    def provenance_json(self, track_id: int) -> list[dict[str, object]]:
        """Which partners contributed to this node's track ``track_id`` (empty: none)."""
        ...


class Metric(NamedTuple):
    """One Prometheus metric family: name, type, help text and (labels, value) samples."""

    name: str
    kind: str
    help: str
    samples: list[tuple[dict[str, str], float]]


def _field(row: object, *path: str) -> object:
    """``row[path[0]][path[1]]…``, or None where a step is missing or not an object."""
    value = row
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def number(row: object, *path: str) -> float | None:
    """A finite number at ``path`` in ``row``, else None (bools are not numbers)."""
    value = _field(row, *path)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def state_of(row: object) -> str:
    """The row's state; anything unknown reads as ``down`` (the cautious reading)."""
    state = _field(row, "state")
    return state if isinstance(state, str) and state in PARTNER_STATES else "down"


def name_of(row: object) -> str:
    name = _field(row, "partner")
    return name if isinstance(name, str) else "?"


def dropped_of(row: object) -> dict[str, float]:
    """Messages refused by reason (reasons with no count left out)."""
    dropped = _field(row, "dropped")
    if not isinstance(dropped, dict):
        return {}
    return {str(reason): n for reason in dropped
            if (n := number(dropped, reason)) is not None}


def federation_status(rows: list[PartnerRow] | None) -> dict[str, int] | None:
    """``/api/status``'s ``federation``: partners by state, or None without a federation."""
    if rows is None:
        return None
    counts = {"partners": len(rows)} | dict.fromkeys(PARTNER_STATES, 0)
    for row in rows:
        counts[state_of(row)] += 1
    return counts


def partner_metrics(rows: list[PartnerRow]) -> list[Metric]:
    """The per-partner metric families of ``/metrics``.

    ``skyshare_partner_up`` is a state set (as kube-state-metrics does for phases):
    every partner has one sample per state, 1 for its current state and 0 for the
    others, so every series always exists and ``skyshare_partner_up{state="down"} == 1``
    is the alert.  Unknown values (a partner never heard has no lag) are left out.
    """
    up: list[tuple[dict[str, str], float]] = []
    sent: list[tuple[dict[str, str], float]] = []
    received: list[tuple[dict[str, str], float]] = []
    sent_bytes: list[tuple[dict[str, str], float]] = []
    received_bytes: list[tuple[dict[str, str], float]] = []
    dropped: list[tuple[dict[str, str], float]] = []
    lag: list[tuple[dict[str, str], float]] = []
    silent: list[tuple[dict[str, str], float]] = []
    for row in rows:
        who = {"partner": name_of(row)}
        state = state_of(row)
        up += [(who | {"state": s}, float(s == state)) for s in PARTNER_STATES]
        for samples, path in ((sent, ("sent", "tracks")), (received, ("received", "tracks")),
                              (sent_bytes, ("sent", "bytes")),
                              (received_bytes, ("received", "bytes")),
                              (lag, ("lag_s",)), (silent, ("silent_s",))):
            if (value := number(row, *path)) is not None:
                samples.append((who, value))
        dropped += [(who | {"reason": r}, n) for r, n in sorted(dropped_of(row).items())]
    return [
        Metric("skyshare_partner_up", "gauge",
               "1 for each partner's current state (connected, lagging, down), 0 otherwise.",
               up),
        Metric("skyshare_partner_sent_tracks_total", "counter",
               "Track rows sent to each partner (after its agreement's filter).", sent),
        Metric("skyshare_partner_received_tracks_total", "counter",
               "Track rows received from each partner and accepted.", received),
        Metric("skyshare_partner_sent_bytes_total", "counter",
               "Bytes sent to each partner.", sent_bytes),
        Metric("skyshare_partner_received_bytes_total", "counter",
               "Bytes received from each partner.", received_bytes),
        Metric("skyshare_partner_dropped_total", "counter",
               "Messages from each partner refused, by reason.", dropped),
        Metric("skyshare_partner_lag_seconds", "gauge",
               "How late each partner's data arrives (clock offset removed).", lag),
        Metric("skyshare_partner_silent_seconds", "gauge",
               "Seconds since anything was heard from each partner.", silent),
    ]
