"""Partner status: is each partner connected, lagging or down, and what flows each way.

A partner is judged by what this node hears from it (its status messages every
``status_interval_s`` and its track messages) and by the bus connection:

* ``connected``: the bus is up, the partner was heard within ``lagging_after_s`` and its
  track messages arrive less than ``lagging_after_s`` after they were sent (corrected by
  the clock offset estimated from the fastest recent message);
* ``lagging``: heard, but not within ``lagging_after_s``, or its data arrives late;
* ``down``: not heard within ``down_after_s`` (or never), or this node's bus is down.

Counters are per direction: messages and track rows, bytes, and messages dropped by
reason (``bad-signature``, ``no-agreement``, ...), so an operator sees at once that a
partner sends data that is refused.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any, Literal

from skyshare.latency import LatencyWindow

State = Literal["connected", "lagging", "down"]

LATENCY_WINDOW = 64  # messages over which the clock offset and lag are estimated


@dataclass
class FlowCounts:
    """What went one way between this node and a partner since start."""

    messages: int = 0
    rows: int = 0
    bytes: int = 0
    last: float = math.nan  # UNIX time of the last message

    def add(self, rows: int, size: int, now: float) -> None:
        self.messages += 1
        self.rows += rows
        self.bytes += size
        self.last = now

    def json(self, now: float) -> dict[str, Any]:
        return {"messages": self.messages, "tracks": self.rows, "bytes": self.bytes,
                "last": _finite(self.last),
                "age_s": _finite(now - self.last)}


@dataclass
class PartnerStatus:
    """One partner as this node sees it (updated on the event loop and the worker)."""

    name: str
    sent: FlowCounts = field(default_factory=FlowCounts)
    received: FlowCounts = field(default_factory=FlowCounts)
    dropped: Counter[str] = field(default_factory=Counter)
    heard: float = math.nan  # last message of any kind from this partner
    partner_view: dict[str, Any] = field(default_factory=dict)  # its last status message
    latency: LatencyWindow = field(default_factory=LatencyWindow)
    """Its measurements to our published picture, over the last 10 s."""
    _delays: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_WINDOW))

    def heard_at(self, now: float) -> None:
        self.heard = now if not self.heard >= now else self.heard

    def note_delay(self, sent: float, received: float) -> None:
        """A message sent at ``sent`` (partner clock) arrived at ``received`` (ours)."""
        if math.isfinite(sent):
            self._delays.append(received - sent)

    @property
    def lag_s(self) -> float:
        """How much later than the fastest recent message the last one arrived: the lag
        behind the partner, free of clock offset (latency >= 0, so the fastest message
        bounds offset + minimal latency)."""
        if not self._delays:
            return math.nan
        return max(0.0, self._delays[-1] - min(self._delays))

    @property
    def clock_offset_s(self) -> float:
        """Our clock minus the partner's, plus the smallest recent latency."""
        return min(self._delays) if self._delays else math.nan

    def state(self, now: float, bus_up: bool, lagging_after_s: float,
              down_after_s: float) -> State:
        silent = now - self.heard if math.isfinite(self.heard) else math.inf
        if not bus_up or silent > down_after_s:
            return "down"
        if silent > lagging_after_s or self.lag_s > lagging_after_s:
            return "lagging"
        return "connected"

    def json(self, now: float, bus_up: bool, lagging_after_s: float, down_after_s: float,
             agreements: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
        return {
            "partner": self.name,
            "state": self.state(now, bus_up, lagging_after_s, down_after_s),
            "heard": _finite(self.heard),
            "silent_s": _finite(now - self.heard),
            "lag_s": _finite(self.lag_s),
            "clock_offset_s": _finite(self.clock_offset_s),
            "latency_p50_s": _finite(self.latency.quantiles()[0]),
            "latency_p99_s": _finite(self.latency.quantiles()[1]),
            "sent": self.sent.json(now),
            "received": self.received.json(now),
            "dropped": dict(sorted(self.dropped.items())),
            "agreements": agreements,
            "partner_view": self.partner_view,
        }


def _finite(value: float) -> float | None:
    return round(value, 3) if math.isfinite(value) else None


class Throttled:
    """Warnings said at most once per ``every_s`` for each (who, reason): a partner that
    sends garbage all day fills its counters, not the log."""

    def __init__(self, logger: logging.Logger, every_s: float = 60.0) -> None:
        self.logger, self.every_s = logger, every_s
        self._said: dict[tuple[str, str], float] = {}

    def warn(self, who: str, reason: str, text: str) -> None:
        now = time.monotonic()
        if now - self._said.get((who, reason), -math.inf) >= self.every_s:
            self._said[(who, reason)] = now
            self.logger.warning("%s (%s; repeats are counted, logged once a minute)", text,
                                reason)
