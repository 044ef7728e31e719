"""The Bus plug point and :class:`EmbeddedBus`, the NATS bus's in-process twin.

Semantics shared by both implementations (so code tested on the twin behaves the same
on NATS):

* subjects are NATS subjects; subscriptions may use ``*`` (one token) and ``>`` (one or
  more trailing tokens);
* delivery is asynchronous: ``publish`` returns before any handler runs; ``flush``
  waits until what was published so far has been handled by the twin (on NATS, until
  the server has processed it);
* a refused publish or subscribe does **not** raise: as on nats-server the refusal is
  reported asynchronously and counted in :attr:`BusStats.permission_violations` with
  the server's text in ``last_error`` (``Permissions Violation for Publish to "..."``);
  nothing is delivered;
* a handler that raises is logged and counted; the bus keeps going;
* durable publishing (JetStream on NATS) stores a message once per ``msg_id`` within
  the stream's duplicate window and delivers it to durable consumers until acknowledged.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from skyshare.errors import SkyshareError
from skyshare.share.natsconf import Permissions, StreamSpec

log = logging.getLogger(__name__)

Handler = Callable[[str, bytes], None]
"""Called with (subject, payload) for each message; must not block."""


class BusError(SkyshareError):
    """The bus cannot do what was asked (not connected, no such stream, server refusal
    of a request, bad subject); the text says which and what to check."""


@dataclass
class BusStats:
    """Counters a node shows in readiness; mutable, owned by one bus."""

    disconnects: int = 0
    reconnects: int = 0
    permission_violations: int = 0
    handler_errors: int = 0
    last_error: str = ""


class Bus(Protocol):
    """Moves bytes between nodes; knows nothing of what they mean."""

    async def connect(self) -> None: ...
    async def publish(self, subject: str, payload: bytes) -> None: ...
    async def subscribe(self, subject: str, handler: Handler) -> None: ...
    async def flush(self) -> None: ...
    async def close(self) -> None: ...

    @property
    def connected(self) -> bool: ...

    @property
    def stats(self) -> BusStats: ...


class DurableBus(Bus, Protocol):
    """A bus that can also store messages until a durable consumer acknowledges them."""

    async def ensure_stream(self, spec: StreamSpec) -> None: ...
    async def publish_durable(self, subject: str, payload: bytes, msg_id: str) -> bool:
        """Store and deliver; False when ``msg_id`` was already stored (duplicate)."""
        ...
    async def consume_durable(self, stream: str, durable: str, handler: Handler) -> None:
        """Deliver the stream's messages not yet acknowledged by ``durable``, then new
        ones, in the background; a message is acknowledged once ``handler`` returns."""
        ...


# --------------------------------------------------------------------------- subjects
_BAD_SUBJECT = re.compile(r"[\s]")


def check_subject(subject: str, *, wildcards: bool) -> list[str]:
    """Tokens of a valid subject (wildcards only where allowed); BusError otherwise."""
    tokens = subject.split(".")
    bad = not subject or _BAD_SUBJECT.search(subject) or any(not t for t in tokens)
    for i, token in enumerate(tokens):
        if token in ("*", ">") or "*" in token or ">" in token:
            bad = bad or not wildcards or token not in ("*", ">") or (
                token == ">" and i != len(tokens) - 1)
    if bad:
        raise BusError(f"invalid subject {subject!r}")
    return tokens


def subject_matches(pattern: str, subject: str) -> bool:
    """True when the literal ``subject`` matches ``pattern`` (NATS wildcards)."""
    return pattern_covers(pattern, subject)


def pattern_covers(allow: str, pattern: str) -> bool:
    """True when every subject matching ``pattern`` also matches ``allow``.

    This is how nats-server judges a wildcard subscription against an allow list:
    ``sky.>`` is refused when only ``sky.tracks.west.central`` is allowed.
    """
    a, p = allow.split("."), pattern.split(".")
    for i, token in enumerate(a):
        if token == ">":
            return len(p) > i
        if i >= len(p) or p[i] == ">":
            return False
        if token not in ("*", p[i]):
            return False
    return len(p) == len(a)


def allowed(patterns: tuple[str, ...] | None, subject: str) -> bool:
    """None: no restriction (like a user without permissions)."""
    return patterns is None or any(pattern_covers(a, subject) for a in patterns)


# --------------------------------------------------------------------------- the twin
@dataclass
class _Stream:
    spec: StreamSpec
    messages: list[tuple[str, bytes]] = field(default_factory=list)
    ids: dict[str, float] = field(default_factory=dict)  # msg_id -> time stored
    acked: dict[str, int] = field(default_factory=dict)  # durable -> messages acked
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class EmbeddedBroker:
    """The in-process 'server' that :class:`EmbeddedBus` clients share.

    ``permissions`` maps a user to what it may do (as in natsconf); a client connected
    with a user not in the map (or no user) is unrestricted, like the operator.
    """

    def __init__(self, permissions: Mapping[str, Permissions] | None = None,
                 *, clock: Callable[[], float] = time.time) -> None:
        self.permissions = dict(permissions or {})
        self._subs: list[tuple[EmbeddedBus, str, Handler]] = []
        self._streams: dict[str, _Stream] = {}
        self._inflight = 0  # deliveries scheduled and not yet run
        self._clock = clock

    def set_permissions(self, permissions: Mapping[str, Permissions]) -> None:
        """Like a server reload: subscriptions no longer allowed are dropped."""
        self.permissions = dict(permissions)
        self._subs = [(c, s, h) for c, s, h in self._subs
                      if allowed(c.allowed_subscribe(), s)]

    def _route(self, subject: str, payload: bytes) -> None:
        loop = asyncio.get_running_loop()
        for client, pattern, handler in list(self._subs):
            if client.connected and subject_matches(pattern, subject):
                self._inflight += 1
                loop.call_soon(self._deliver, client, subject, payload, handler)

    def _deliver(self, client: EmbeddedBus, subject: str, payload: bytes,
                 handler: Handler) -> None:
        self._inflight -= 1
        client.deliver(subject, payload, handler)

    async def _settle(self) -> None:
        while self._inflight:  # handlers may publish more: wait for those too
            await asyncio.sleep(0)


class EmbeddedBus:
    """One client of an :class:`EmbeddedBroker`; implements :class:`DurableBus`."""

    def __init__(self, broker: EmbeddedBroker, *, user: str | None = None,
                 name: str = "") -> None:
        self.broker, self.user, self.name = broker, user, name
        self._connected = False
        self._stats = BusStats()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def stats(self) -> BusStats:
        return self._stats

    def allowed_publish(self) -> tuple[str, ...] | None:
        perms = self.broker.permissions.get(self.user or "")
        return perms.publish if perms else None

    def allowed_subscribe(self) -> tuple[str, ...] | None:
        perms = self.broker.permissions.get(self.user or "")
        return perms.subscribe if perms else None

    async def connect(self) -> None:
        self._connected = True

    async def close(self) -> None:
        self._connected = False
        for task in self._tasks:
            task.cancel()
        self.broker._subs = [s for s in self.broker._subs if s[0] is not self]

    def _require_connected(self) -> None:
        if not self._connected:
            raise BusError(f"bus {self.name or self.user or ''} is not connected")

    def _refuse(self, what: str, subject: str) -> None:
        self._stats.permission_violations += 1
        self._stats.last_error = f'nats: permissions violation for {what} to "{subject}"'
        log.warning("%s: %s", self.name or self.user, self._stats.last_error)

    async def publish(self, subject: str, payload: bytes) -> None:
        self._require_connected()
        check_subject(subject, wildcards=False)
        if not allowed(self.allowed_publish(), subject):
            self._refuse("publish", subject)
            return
        self.broker._route(subject, bytes(payload))

    async def subscribe(self, subject: str, handler: Handler) -> None:
        self._require_connected()
        check_subject(subject, wildcards=True)
        if not allowed(self.allowed_subscribe(), subject):
            self._refuse("subscription", subject)
            return
        self.broker._subs.append((self, subject, handler))

    def deliver(self, subject: str, payload: bytes, handler: Handler) -> None:
        if not self._connected:
            return
        try:
            handler(subject, payload)
        except Exception:
            self._stats.handler_errors += 1
            log.exception("%s: handler for %s failed", self.name or self.user, subject)

    async def flush(self) -> None:
        self._require_connected()
        await self.broker._settle()

    # ----------------------------------------------------------------- durable
    async def ensure_stream(self, spec: StreamSpec) -> None:
        self._require_connected()
        api = f"$JS.API.STREAM.CREATE.{spec.name}"
        if not allowed(self.allowed_publish(), api):
            self._refuse("publish", api)
            raise BusError(f"creating stream {spec.name} refused (no permission)")
        self.broker._streams.setdefault(spec.name, _Stream(spec))

    async def publish_durable(self, subject: str, payload: bytes, msg_id: str) -> bool:
        self._require_connected()
        check_subject(subject, wildcards=False)
        if not allowed(self.allowed_publish(), subject):
            self._refuse("publish", subject)
            raise BusError(f"publishing to {subject} refused (no permission)")
        stream = next((s for s in self.broker._streams.values()
                       if any(subject_matches(p, subject) for p in s.spec.subjects)), None)
        if stream is None:
            raise BusError(f"no stream stores {subject}: create it with ensure_stream()")
        now = self.broker._clock()
        stream.ids = {k: t for k, t in stream.ids.items()
                      if now - t < stream.spec.duplicate_window_s}
        if msg_id in stream.ids:
            return False
        stream.ids[msg_id] = now
        stream.messages.append((subject, bytes(payload)))
        stream.changed.set()
        self.broker._route(subject, bytes(payload))
        return True

    async def consume_durable(self, stream: str, durable: str, handler: Handler) -> None:
        self._require_connected()
        api = f"$JS.API.CONSUMER.CREATE.{stream}.{durable}"
        if not allowed(self.allowed_publish(), api):
            self._refuse("publish", api)
            raise BusError(f"consumer {durable} on {stream} refused (no permission)")
        found = self.broker._streams.get(stream)
        if found is None:
            raise BusError(f"no stream {stream!r}: the operator creates it")
        task = asyncio.create_task(self._consume(found, durable, handler))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _consume(self, stream: _Stream, durable: str, handler: Handler) -> None:
        # the ack floor lives in the stream: a durable outlives the client, as on JetStream
        stream.acked.setdefault(durable, 0)
        while self._connected:
            while stream.acked[durable] < len(stream.messages):
                subject, payload = stream.messages[stream.acked[durable]]
                try:
                    handler(subject, payload)
                except Exception:
                    self._stats.handler_errors += 1
                    log.exception("%s: durable handler failed; redelivering", durable)
                    await asyncio.sleep(0.5)
                    continue
                stream.acked[durable] += 1
            stream.changed.clear()
            await stream.changed.wait()

