"""TCP readers: connect to a receiver's feed, or listen for receivers that push.

Transport only: bytes go to a codec from :func:`~skyshare.sources.base.make_codec`
and what it returns is emitted.  Bad data never raises out of a reader (it is
counted and logged), state changes are logged once (not once per retry), and both
readers return promptly when ``stop`` is set.

A feed that is mostly garbage (less than 10 % of its bytes in good frames over a
window of at least 64 KiB, e.g. AVR text sent to a Beast sensor) is dropped with a
log message and counted as ``feed-garbage-dropped``; the client then reconnects with
backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

from skyshare.sources.base import (
    Codec,
    SensorSpec,
    SensorStatus,
    SourceOutput,
    format_address,
    make_codec,
)

log = logging.getLogger("skyshare.sources.net")

Emit = Callable[[SourceOutput], None]
GARBAGE_KIND: Final = "feed-garbage-dropped"
Outcome = Literal["closed", "reset", "garbage", "stopped"]


@dataclass(frozen=True)
class NetOptions:
    """Tunables of the TCP readers (the defaults suit real receivers; tests shrink them)."""

    read_bytes: int = 64 * 1024
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    backoff_jitter: float = 0.25  # each wait is scaled by 1 +- this, at random
    connect_timeout_s: float = 10.0
    garbage_window_bytes: int = 64 * 1024
    garbage_min_good: float = 0.10  # below this share of good bytes a feed is garbage


class Backoff:
    """Exponential backoff with jitter: initial, doubling, capped; reset on success."""

    def __init__(self, options: NetOptions) -> None:
        self._options = options
        self._next = options.backoff_initial_s

    def reset(self) -> None:
        self._next = self._options.backoff_initial_s

    def next_delay(self) -> float:
        o = self._options
        delay = self._next * (1.0 + random.uniform(-o.backoff_jitter, o.backoff_jitter))
        self._next = min(self._next * 2.0, o.backoff_max_s)
        return min(delay, o.backoff_max_s)


class GarbageGuard:
    """Tells a garbage feed from a working one, over windows of received bytes."""

    def __init__(self, options: NetOptions) -> None:
        self._window = options.garbage_window_bytes
        self._min_good = options.garbage_min_good
        self._bytes = 0
        self._good = 0

    def unusable(self, received: int, good: int) -> float | None:
        """Add a read; at the end of a window whose good share is too low, the
        unusable share (0-1), else None."""
        self._bytes += received
        self._good += good
        if self._bytes < self._window:
            return None
        share = self._good / self._bytes
        self._bytes = self._good = 0
        return None if share >= self._min_good else 1.0 - share


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds`` or until ``stop`` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


def _emit(emit: Emit, output: SourceOutput, status: SensorStatus) -> None:
    try:
        emit(output)
    except Exception:  # a consumer's bug must not kill the reader
        log.exception("sensor %s: the consumer of its data failed; batch dropped", status.name)


async def _pump(reader: asyncio.StreamReader, codec: Codec, status: SensorStatus,
                emit: Emit, options: NetOptions) -> tuple[Outcome, int, float]:
    """Read, decode and emit until the connection ends -> (why, messages, unusable)."""
    guard = GarbageGuard(options)
    messages = 0
    while True:
        try:
            chunk = await reader.read(options.read_bytes)
        except OSError:
            return "reset", messages, 0.0
        if not chunk:
            return "closed", messages, 0.0
        now = time.time()
        status.bytes += len(chunk)
        good_before = codec.good_bytes
        try:
            output = codec.feed(chunk, now)
        except Exception:  # a codec bug on hostile bytes: count, log once, keep reading
            status.bad.counts["codec-error"] += 1
            if status.bad.counts["codec-error"] == 1:
                log.exception("sensor %s: framing a chunk failed; chunk dropped (further "
                              "failures are only counted as 'codec-error')", status.name)
            continue
        if output.messages:
            messages += output.messages
            status.record(output.messages, now)
            _emit(emit, output, status)
        status.good_bytes += codec.good_bytes - good_before
        unusable = guard.unusable(len(chunk), codec.good_bytes - good_before)
        if unusable is not None:
            return "garbage", messages, unusable


async def _serve_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                            spec: SensorSpec, status: SensorStatus, emit: Emit,
                            options: NetOptions, stop: asyncio.Event
                            ) -> tuple[Outcome, int, float]:
    """Run one connection until it ends or ``stop`` is set (which closes it)."""
    codec = make_codec(spec, status.bad)
    stopper = asyncio.ensure_future(stop.wait())
    stopper.add_done_callback(lambda _: writer.transport.abort())
    try:
        outcome = await _pump(reader, codec, status, emit, options)
    finally:
        stopper.cancel()
        writer.transport.abort()
    if stop.is_set():
        return "stopped", outcome[1], outcome[2]
    return outcome


async def _connect(spec: SensorSpec, options: NetOptions, stop: asyncio.Event
                   ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
    """A connection to the sensor, or None when ``stop`` was set first."""
    connecting = asyncio.ensure_future(asyncio.wait_for(
        asyncio.open_connection(spec.host, spec.port), options.connect_timeout_s))
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:  # cancelled from outside: leave nothing running
        connecting.cancel()
        raise
    finally:
        stopping.cancel()
    if not connecting.done():
        connecting.cancel()
        with contextlib.suppress(asyncio.CancelledError, OSError, TimeoutError):
            await connecting
        return None
    return connecting.result()  # raises OSError/TimeoutError when it failed


class _StreakLog:
    """Logs each kind of event once per unhealthy streak (repeats go to DEBUG), so a
    sensor that stays down or keeps sending garbage does not flood the log."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def log(self, level: int, key: str, message: str, *args: object) -> None:
        log.log(logging.DEBUG if key in self._seen else level, message, *args)
        self._seen.add(key)

    def healthy(self) -> None:
        self._seen.clear()


async def run_client(spec: SensorSpec, status: SensorStatus, emit: Emit, *,
                     stop: asyncio.Event, options: NetOptions | None = None) -> None:
    """Read the feed served at ``spec.host:spec.port`` until ``stop`` is set,
    reconnecting with backoff whenever the connection fails, drops or is garbage."""
    options = options or NetOptions()
    backoff = Backoff(options)
    where = format_address(spec.host, spec.port)
    events = _StreakLog()
    while not stop.is_set():
        try:
            conn = await _connect(spec, options, stop)
        except (OSError, TimeoutError, ValueError) as exc:  # ValueError: a bad host name
            events.log(logging.WARNING, "refused", "sensor %s: cannot connect to %s (%s); "
                       "retrying with backoff up to %g s", spec.name, where,
                       str(exc) or type(exc).__name__, options.backoff_max_s)
        else:
            if conn is None:
                break
            status.connected = True
            status.connections += 1
            events.log(logging.INFO, "connected", "sensor %s: connected to %s", spec.name,
                       where)
            try:
                outcome, messages, unusable = await _serve_connection(
                    *conn, spec, status, emit, options, stop)
            finally:
                status.connected = False
            if outcome == "stopped":
                break
            if outcome == "garbage":
                status.bad.counts[GARBAGE_KIND] += 1
                events.log(logging.WARNING, "garbage", "sensor %s: feed is mostly garbage "
                           "(%d%% unusable) — wrong format? dropping and reconnecting",
                           spec.name, round(100 * unusable))
            else:
                if messages:  # a healthy connection: start the backoff afresh
                    backoff.reset()
                    events.healthy()
                events.log(logging.WARNING, "lost", "sensor %s: connection to %s %s; "
                           "reconnecting", spec.name, where,
                           "closed by the peer" if outcome == "closed" else "reset")
        if stop.is_set():
            break
        await _wait(stop, backoff.next_delay())
        if not stop.is_set():
            status.reconnects += 1
    log.info("sensor %s: stopped", spec.name)


async def run_server(spec: SensorSpec, status: SensorStatus, emit: Emit, *,
                     stop: asyncio.Event, options: NetOptions | None = None) -> None:
    """Accept receivers pushing their feed to ``spec.host:spec.port`` until ``stop``
    is set; one codec per connection; a garbage connection is dropped."""
    options = options or NetOptions()
    backoff = Backoff(options)
    active: set[asyncio.Task[None]] = set()
    live = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal live
        peer = writer.get_extra_info("peername")
        who = format_address(str(peer[0]), int(peer[1])) if isinstance(peer, tuple) else "?"
        live += 1
        status.connections += 1
        status.connected = True
        log.info("sensor %s: %s connected", spec.name, who)
        try:
            outcome, _, unusable = await _serve_connection(
                reader, writer, spec, status, emit, options, stop)
        finally:
            live -= 1
            status.connected = live > 0
        if outcome == "garbage":
            status.bad.counts[GARBAGE_KIND] += 1
            log.warning("sensor %s: feed from %s is mostly garbage (%d%% unusable) — wrong "
                        "format? dropping this connection", spec.name, who,
                        round(100 * unusable))
        elif outcome != "stopped":
            log.info("sensor %s: %s disconnected", spec.name, who)

    def track(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.ensure_future(handle(reader, writer))
        active.add(task)
        task.add_done_callback(active.discard)

    failing = False
    while not stop.is_set():
        try:
            server = await asyncio.start_server(track, spec.host, spec.port)
        except (OSError, ValueError) as exc:
            if not failing:
                log.error("sensor %s: cannot listen on %s (%s); retrying with backoff",
                          spec.name, format_address(spec.host, spec.port), exc)
                failing = True
            await _wait(stop, backoff.next_delay())
            continue
        sockname = server.sockets[0].getsockname() if server.sockets else None
        if sockname:
            status.address = format_address(spec.host, int(sockname[1]))
        log.info("sensor %s: listening on %s", spec.name, status.address)
        async with server:
            await stop.wait()
        break
    if active:
        await asyncio.gather(*active, return_exceptions=True)
    log.info("sensor %s: stopped", spec.name)
