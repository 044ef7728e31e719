"""NatsBus: the :class:`~skyshare.share.bus.DurableBus` over a real NATS server (nats-py).

Connection policy, and why:

* TLS always, verified against the federation CA (``ca_file``); user and password from
  the partner's credentials; inbox prefix ``_INBOX_<me>`` (the only inbox the server
  lets this user read).
* The first :meth:`NatsBus.connect` gives up after ``connect_timeout_s`` with a
  :class:`BusError` quoting the server's refusal (bad password, TLS): a wrong setup
  should fail loudly at start.  Once connected, the client reconnects forever with a
  short wait: a partner's node outlives server restarts without help.
* Permission violations come back asynchronously (the server sends ``-ERR`` and keeps
  the connection): they are counted in :attr:`BusStats.permission_violations` with the
  server's text in ``last_error``; nothing raises.
* Durable messages (alerts) go through JetStream with a ``Nats-Msg-Id`` header, so a
  retry after a timeout (say, during a server failover) is stored once; consumers are
  durable pull consumers with explicit, confirmed (``ack_sync``) acknowledgements, so
  a message is redelivered unless the server confirmed the ack: handlers must be
  idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api

from skyshare.share.bus import BusError, BusStats, Handler
from skyshare.share.natsconf import NatsCredentials, StreamSpec

log = logging.getLogger(__name__)

T = TypeVar("T")
_FOREIGN = (nats.errors.Error, OSError, asyncio.TimeoutError, ssl.SSLError)
CLOSE_TIMEOUT_S = 5.0  # nats-py's close, which flushes into a transport that may be dead
# JetStream says "try again" with these while a cluster elects leaders or fails over
_TRANSIENT = (nats.errors.TimeoutError, nats.errors.NoRespondersError,
              nats.js.errors.NoStreamResponseError, nats.js.errors.ServiceUnavailableError,
              nats.errors.ConnectionReconnectingError, asyncio.TimeoutError)


@dataclass(frozen=True)
class StreamStatus:
    """A JetStream stream as its leader sees it."""

    name: str
    messages: int
    replicas: int
    current_replicas: int
    """The leader plus the followers that are up to date."""


class NatsBus:
    """A partner's connection to the federation's NATS servers."""

    def __init__(self, urls: Sequence[str], *, user: str, password: str, ca_file: Path,
                 inbox_prefix: str, name: str = "skyshare",
                 reconnect_wait_s: float = 0.25, connect_timeout_s: float = 5.0,
                 request_timeout_s: float = 2.0, durable_retry_s: float = 15.0) -> None:
        self.urls, self.user, self.name = tuple(urls), user, name
        self._password, self._ca_file, self._inbox = password, Path(ca_file), inbox_prefix
        self.reconnect_wait_s, self.connect_timeout_s = reconnect_wait_s, connect_timeout_s
        self.request_timeout_s, self.durable_retry_s = request_timeout_s, durable_retry_s
        self._nc: Client | None = None
        self._stats = BusStats()
        self._tasks: set[asyncio.Task[None]] = set()
        self._connect_errors: list[str] = []

    @classmethod
    def from_credentials(cls, creds: NatsCredentials, *, name: str = "skyshare",
                         **options: float) -> NatsBus:
        return cls(creds.urls, user=creds.user, password=creds.password,
                   ca_file=creds.ca_file, inbox_prefix=creds.inbox_prefix, name=name,
                   **options)

    @property
    def connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    @property
    def stats(self) -> BusStats:
        return self._stats

    @property
    def server(self) -> str:
        """``host:port`` of the server this bus is connected to ("" when it is not)."""
        url = self._nc.connected_url if self._nc is not None and self.connected else None
        return f"{url.hostname}:{url.port}" if url is not None else ""

    # ----------------------------------------------------------------- callbacks
    async def _on_error(self, exc: Exception) -> None:
        text = str(exc) or type(exc).__name__
        if "permissions violation" in text.lower():
            self._stats.permission_violations += 1
        if text != self._stats.last_error:  # log each new error once, not each retry
            log.warning("nats %s (%s): %s", self.name, self.user, text)
        self._stats.last_error = text
        if self._nc is None and text not in self._connect_errors:  # still connecting
            self._connect_errors.append(text)

    async def _on_disconnected(self) -> None:
        self._stats.disconnects += 1
        log.info("nats %s: disconnected; reconnecting", self.name)

    async def _on_reconnected(self) -> None:
        self._stats.reconnects += 1
        log.info("nats %s: reconnected", self.name)

    # ----------------------------------------------------------------- Bus
    async def connect(self) -> None:
        if self.connected:
            return
        if not self._ca_file.is_file():
            raise BusError(f"CA file {self._ca_file} not found: copy the federation's "
                           "pki/ca.pem next to the credentials")
        tls = ssl.create_default_context(cafile=str(self._ca_file))
        nc = Client()
        self._connect_errors.clear()
        try:
            await asyncio.wait_for(nc.connect(
                servers=list(self.urls), user=self.user, password=self._password, tls=tls,
                inbox_prefix=self._inbox, name=self.name, allow_reconnect=True,
                max_reconnect_attempts=-1, error_cb=self._on_error,
                # nats-py annotates these as int but takes float seconds (asyncio timers)
                reconnect_time_wait=self.reconnect_wait_s,  # type: ignore[arg-type]
                connect_timeout=self.connect_timeout_s,  # type: ignore[arg-type]
                disconnected_cb=self._on_disconnected, reconnected_cb=self._on_reconnected,
                ), self.connect_timeout_s)
        except _FOREIGN as exc:
            await _discard(nc)
            raise BusError(f"cannot connect to {', '.join(self.urls)} as {self.user!r} "
                           f"within {self.connect_timeout_s:g} s: "
                           f"{'; '.join(self._connect_errors[:4]) or repr(exc)}; check the "
                           "credentials, the CA file and that the servers run") from exc
        except asyncio.CancelledError:
            await _discard(nc)
            raise
        self._nc = nc

    def _client(self) -> Client:
        if self._nc is None or self._nc.is_closed:
            raise BusError(f"bus {self.name} is not connected: call connect() first")
        return self._nc

    async def _mapped(self, what: str, call: Awaitable[T]) -> T:
        try:
            return await call
        except _FOREIGN as exc:
            raise BusError(f"{what} failed on nats {self.name}: {exc!r}") from exc

    async def publish(self, subject: str, payload: bytes) -> None:
        await self._mapped(f"publish to {subject}", self._client().publish(subject, payload))

    async def subscribe(self, subject: str, handler: Handler) -> None:
        await self._mapped(f"subscribe to {subject}",
                           self._client().subscribe(subject, cb=self._callback(handler)))

    def _callback(self, handler: Handler) -> Callable[[Msg], Awaitable[None]]:
        async def on_message(msg: Msg) -> None:
            try:
                handler(msg.subject, msg.data)
            except Exception:
                self._stats.handler_errors += 1
                log.exception("nats %s: handler for %s failed", self.name, msg.subject)
        return on_message

    async def flush(self) -> None:
        """Round trips to the server: what was sent before has been processed and any
        permission violation for it reported.  Two, because nats-server may queue the
        ``-ERR`` of a refused publish behind the PONG of the first (seen for ``$JS.API``
        subjects)."""
        timeout = self.request_timeout_s  # nats-py: annotated int, float seconds work
        for _ in range(2):
            await self._mapped("flush", self._client().flush(timeout=timeout))  # type: ignore[arg-type]

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, *_FOREIGN):
                await task
        nc, self._nc = self._nc, None
        if nc is not None and not nc.is_closed:
            try:
                await asyncio.wait_for(nc.close(), CLOSE_TIMEOUT_S)
            except Exception as exc:  # closing must not fail the caller
                # nats-py flushes its pending buffer into a transport the server may have
                # closed already (AttributeError deep in asyncio's TLS): nothing to save
                log.debug("nats %s: error while closing, ignored: %r", self.name, exc)
            finally:
                await _abandon(nc)

    # ----------------------------------------------------------------- durable
    def _js(self) -> JetStreamContext:
        return self._client().jetstream(timeout=self.request_timeout_s)

    async def _retrying(self, what: str, make: Callable[[], Awaitable[T]]) -> T:
        """Retry transient JetStream failures for up to ``durable_retry_s``."""
        deadline = time.monotonic() + self.durable_retry_s
        while True:
            refusals = self._stats.permission_violations
            try:
                return await make()
            except _TRANSIENT as exc:
                await self._flush_quietly()  # a refusal arrives before the flush's PONG
                if self._stats.permission_violations > refusals:
                    raise BusError(f"{what} refused by the server: "
                                   f"{self._stats.last_error}") from exc
                if time.monotonic() > deadline:
                    raise BusError(f"{what}: no answer from JetStream within "
                                   f"{self.durable_retry_s:g} s ({exc!r}); check that "
                                   "a majority of the servers run") from exc
                await asyncio.sleep(self.reconnect_wait_s)
            except _FOREIGN as exc:
                raise BusError(f"{what} failed: {exc!r}") from exc

    async def _flush_quietly(self) -> None:
        with contextlib.suppress(*_FOREIGN, BusError):
            await self.flush()

    async def ensure_stream(self, spec: StreamSpec) -> None:
        """Create the stream, or update it to ``spec`` (needs the operator's user)."""
        config = api.StreamConfig(
            name=spec.name, subjects=list(spec.subjects), num_replicas=spec.replicas,
            duplicate_window=spec.duplicate_window_s, max_age=spec.max_age_s,
            storage=api.StorageType.FILE, retention=api.RetentionPolicy.LIMITS)

        async def create() -> None:
            js = self._js()
            try:
                await js.stream_info(spec.name)
            except nats.js.errors.NotFoundError:
                await js.add_stream(config)
            else:
                await js.update_stream(config)
        await self._retrying(f"creating stream {spec.name}", create)

    async def stream_status(self, name: str) -> StreamStatus:
        """How many messages a stream holds and how many of its replicas are current."""
        info = await self._retrying(f"stream info {name}", lambda: self._js().stream_info(name))
        replicas = info.config.num_replicas or 1
        current = 1 + sum(1 for r in (info.cluster.replicas or []) if r.current) if (
            info.cluster is not None) else 1
        return StreamStatus(name, info.state.messages, replicas, current)

    async def publish_durable(self, subject: str, payload: bytes, msg_id: str) -> bool:
        async def send() -> api.PubAck:
            return await self._js().publish(subject, payload,
                                            headers={api.Header.MSG_ID: msg_id})
        ack = await self._retrying(f"durable publish to {subject}", send)
        return not ack.duplicate

    async def consume_durable(self, stream: str, durable: str, handler: Handler) -> None:
        config = api.ConsumerConfig(
            name=durable, durable_name=durable, ack_policy=api.AckPolicy.EXPLICIT,
            deliver_policy=api.DeliverPolicy.ALL, ack_wait=30.0, max_ack_pending=1000)

        async def bind() -> JetStreamContext.PullSubscription:
            js = self._js()
            await js.add_consumer(stream, config)
            return await js.pull_subscribe_bind(durable=durable, stream=stream)
        psub = await self._retrying(f"consumer {durable} on {stream}", bind)
        task = asyncio.create_task(self._pull(psub, durable, handler))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _pull(self, psub: JetStreamContext.PullSubscription, durable: str,
                    handler: Handler) -> None:
        while True:
            try:
                msgs = await psub.fetch(batch=64, timeout=1.0)
            except nats.errors.TimeoutError:
                _raise_if_cancelling()
                continue
            except _FOREIGN as exc:
                _raise_if_cancelling()
                await self._on_error(exc)
                await asyncio.sleep(self.reconnect_wait_s)
                continue
            for msg in msgs:
                await self._handle_durable(msg, durable, handler)

    async def _handle_durable(self, msg: Msg, durable: str, handler: Handler) -> None:
        try:
            handler(msg.subject, msg.data)
        except Exception:
            self._stats.handler_errors += 1
            log.exception("nats %s: durable %s handler failed; redelivering", self.name,
                          durable)
            with contextlib.suppress(*_FOREIGN):
                await msg.nak(delay=1.0)
            return
        try:
            await msg.ack_sync(timeout=self.request_timeout_s)
        except _FOREIGN as exc:  # not confirmed: the server will redeliver it
            await self._on_error(exc)


async def _discard(nc: Client) -> None:
    """Stop a client that never connected (its reconnect loop would run forever)."""
    with contextlib.suppress(*_FOREIGN):
        await nc.close()


def _raise_if_cancelling() -> None:
    """Re-raise a cancellation that nats-py turned into a timeout (its asyncio.wait_for on
    Python 3.11 can): a pull loop that swallowed it would keep ``close()`` waiting for
    ever."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def _abandon(nc: Client) -> None:
    """Make sure nothing of a closed client runs on: when nats-py's close stops half way
    (an error flushing into a dead TLS transport, or the timeout), its reading, ping,
    flusher, reconnection and subscription tasks and its transport can be left behind,
    and a task left behind can keep ``asyncio.run`` from returning.  Cancel them, close
    the transport, and wait a moment for them to end."""
    tasks = [t for t in (getattr(nc, name, None) for name in (
        "_reading_task", "_ping_interval_task", "_flusher_task", "_reconnection_task"))
        if isinstance(t, asyncio.Task)]
    tasks += [t for sub in getattr(nc, "_subs", {}).values()
              if isinstance(t := getattr(sub, "_wait_for_msgs_task", None), asyncio.Task)]
    current = asyncio.current_task()
    pending = [t for t in tasks if not t.done() and t is not current]
    for task in pending:
        task.cancel()
    transport = getattr(nc, "_transport", None)
    if transport is not None:
        with contextlib.suppress(Exception):
            transport.close()
    if pending:
        await asyncio.wait(pending, timeout=1.0)
