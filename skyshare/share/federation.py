"""A node's part in a federation: what it gives each partner and what it takes.

Data flow (one :class:`Federation` per node)::

    own picture (tracker) --outgoing(own, own, now, "own")--> EgressFilter --> outbox
                                             |                        [pipeline worker]
    bus (event loop) --on_message--> inbox --+ merge(own, now)
                                             +--> decode, check, PartnerTracks --> picture
    common picture --outgoing(own, common, now, "all")--> EgressFilter --> outbox
    outbox --send_pending()--> bus (event loop)

Threads: the bus calls :meth:`Federation.on_message` on the event loop; it only queues
the bytes.  Decoding, checking and fusing run in the pipeline's worker thread (one call
at a time), so partner tracks and own tracks are merged without locks.  Messages to
send wait in the outbox until the event loop publishes them: a step first filters what
``sources: own`` agreements give (the own picture is ready before the merge) and has it
published at once (:meth:`Federation.send_soon`), while it goes on merging; what
``sources: all`` agreements give follows after the merge.  One send runs at a time, so
messages leave in the order they were queued (the receiver refuses a lower ``seq``).

What a received message must pass before its tracks are fused (each failure is counted
per partner and reason, and logged at most once a minute per partner and reason):

1. the wire codec (:func:`skyshare.share.wire.decode`): framing, schema, the subject
   naming the header's origin and receiver, the origin's signature;
2. an agreement under which the origin gives to this node, active now, whose id the
   message names (``no-agreement``, ``wrong-agreement``);
3. the sequence (:class:`~skyshare.share.wire.ReplayGuard`): per origin and kind, a
   message numbered not above the last one of the same sender epoch, or of an older
   epoch, is a replay (``replayed``);
4. the grant (:meth:`EgressFilter.conforming`): a row carrying a field the agreement
   does not grant, or outside its regions, means the sender is not enforcing the
   agreement: the whole message is refused (``outside-agreement``).

The sender's own enforcement (the egress filter) is the wall that matters; these
checks make a misbehaving or forged sender visible instead of silently fused.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import Counter, deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

import numpy as np

from skyshare.errors import ConfigError, SkyshareError
from skyshare.fusion.partners import PartnerTracks
from skyshare.fusion.partners import warm_up as warm_up_partners
from skyshare.latency import LatencyWindow
from skyshare.model import TrackBatch, TrackFlag
from skyshare.share.agreements import Agreement, AgreementFiles, AgreementSet, load_agreements
from skyshare.share.bus import Bus
from skyshare.share.egress import EgressFilter, Outgoing
from skyshare.share.egress import warm_up as warm_up_egress
from skyshare.share.keys import NodeKey, PublicKeys
from skyshare.share.natsbus import NatsBus
from skyshare.share.natsconf import NatsCredentials
from skyshare.share.rowcheck import warm_up as warm_up_rows
from skyshare.share.settings import FederationConfig
from skyshare.share.status import PartnerStatus, Throttled
from skyshare.share.wire import (
    Envelope,
    Kind,
    ReplayGuard,
    Sequencer,
    StatusBody,
    StatusMessage,
    TrackMessage,
    WireError,
    decode,
    encode_status,
    encode_tracks,
    parse_subject,
    subject,
)
from skyshare.store.audit.heads import format_utc

if TYPE_CHECKING:
    from skyshare.share.auditshare import AuditShare

log = logging.getLogger("skyshare.share")

KEY_FILE: Final = "federation.key"
INBOX_LIMIT: Final = 10_000  # messages waiting for the worker; beyond: dropped, counted
_EXERCISE: Final = np.uint16(TrackFlag.EXERCISE)


class Federation:
    """Egress, ingest and partner status of one node (see the module docstring)."""

    def __init__(self, me: str, node_name: str, config: FederationConfig, data_dir: Path,
                 *, bus: Bus | None = None, agreements: AgreementSet | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        """``agreements`` given: these, never reloaded (tools and tests); otherwise those
        of ``config.agreements``, reloaded when the files change."""
        if agreements is None and not config.agreements:
            raise ConfigError("a federated node needs its agreements: list the files or "
                              "folders under federation.agreements", where="federation")
        self.me, self.config, self._clock = me, config, clock
        self._files = AgreementFiles.of(config.agreements)
        self.agreements = agreements or load_agreements(config.agreements)
        if me not in self.agreements.partners:
            raise ConfigError(f"no agreement names partner {me!r} (node.partner); the "
                              f"agreements name {', '.join(self.agreements.partners)}",
                              where="federation.agreements")
        self.partner_names = [p for p in self.agreements.partners if p != me]
        self.index = {p: i for i, p in enumerate(self.partner_names)}
        self.partners = PartnerTracks(self.partner_names, timeout_s=config.partner_timeout_s)
        self.key = NodeKey.load_or_create(config.key or data_dir / KEY_FILE)
        self.keys = load_public_keys(config.public_keys)
        self.bus = bus if bus is not None else nats_bus(config, me, node_name)
        self.status = {p: PartnerStatus(p) for p in self.partner_names}
        self.latency = LatencyWindow()  # a partner's measurement -> our published picture
        self._accepted: list[tuple[str, np.ndarray]] = []  # (partner, last_seen on our clock)
        self.epoch = clock()
        self._filters: dict[str, EgressFilter] = {}
        self._checks: dict[str, EgressFilter] = {}  # incoming agreements, for _grant_problem
        self._inbox: deque[tuple[str, bytes, float]] = deque()
        self._outbox: deque[tuple[str, bytes]] = deque()
        self._sequencer = Sequencer(me, self.epoch)
        self._replays = ReplayGuard()
        self._subscribed: set[str] = set()
        self._checked = 0.0
        self._said = Throttled(log)
        self.dropped_unknown: Counter[str] = Counter()
        self.reload_error = ""
        self.audit_share: AuditShare | None = None  # set by the node once it runs one
        self._loop: asyncio.AbstractEventLoop | None = None  # set by start()
        self._sending = asyncio.Lock()
        self._sends: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ event loop side
    def on_message(self, subj: str, data: bytes) -> None:
        """A message from the bus (event loop): queued for the worker, never decoded here."""
        if len(self._inbox) >= INBOX_LIMIT:
            self.drop(_origin_of(subj), "inbox-full", "the pipeline is not keeping up")
            return
        self._inbox.append((subj, data, self._clock()))

    async def start(self) -> None:
        """Connect (the bus retries by itself afterwards) and subscribe."""
        self._loop = asyncio.get_running_loop()
        await self.bus.connect()
        await self.subscribe()

    async def subscribe(self) -> None:
        """Subscribe to what this node may receive (new givers after a reload too)."""
        wanted = {f"sky.status.*.{self.me}"}
        for a in self.agreements.incoming(self.me):
            if not a.revoked:  # the server refuses what no agreement in force grants
                wanted.add(subject("tracks", a.giver, self.me))
        for subj in sorted(wanted - self._subscribed):
            await self.bus.subscribe(subj, self.on_message)
            self._subscribed.add(subj)

    async def send_pending(self) -> None:
        """Publish what the worker put in the outbox (event loop; one send at a time)."""
        async with self._sending:
            while self._outbox:
                subj, payload = self._outbox.popleft()
                try:
                    await self.bus.publish(subj, payload)
                except SkyshareError as exc:  # not connected: stale by the next step
                    self._outbox.clear()
                    self._said.warn("*", "send", f"cannot publish: {exc}")
                    return

    def send_soon(self) -> None:
        """Have the event loop publish the outbox now, while the worker goes on (worker
        thread; does nothing before :meth:`start`: the step's caller sends then)."""
        if self._loop is not None and self._outbox:
            with contextlib.suppress(RuntimeError):  # the loop has closed: the node stops
                self._loop.call_soon_threadsafe(self._start_send)

    def _start_send(self) -> None:
        task = asyncio.ensure_future(self.send_pending())
        self._sends.add(task)  # a reference until it is done
        task.add_done_callback(self._sends.discard)

    async def send_status(self) -> None:
        """Tell every partner we are alive (event loop, every status_interval_s)."""
        now = self._clock()
        for name, st in self.status.items():
            body = StatusBody(sent_tracks=st.sent.rows, received_tracks=st.received.rows,
                              agreements=tuple(a.id for a in self.agreements.outgoing(self.me)
                                               if a.receiver == name and a.active_at(now)),
                              node_time=now)
            env = self._envelope("status", name, now)
            try:
                await self.bus.publish(env.subject, encode_status(env, body, self.key))
            except SkyshareError as exc:
                self._said.warn(name, "status", f"cannot send status: {exc}")

    # ------------------------------------------------------------------ worker side
    def merge(self, own: TrackBatch, now: float) -> TrackBatch:
        """The common picture: ``own`` merged with what partners sent (worker thread)."""
        self._accepted.clear()  # a caller that never says when it publishes keeps none
        while self._inbox:
            subj, data, received = self._inbox.popleft()
            self._accept(subj, data, received)
        self.partners.expire(now)
        return self.partners.merge(own, now)

    def published(self, at: float) -> None:
        """The picture holding what :meth:`merge` took in was published ``at``: how long
        each partner's data took from its measurement to here (worker thread)."""
        for partner, seen in self._accepted:
            delays = at - seen
            self.latency.add(at, delays)
            self.status[partner].latency.add(at, delays)
        self._accepted.clear()

    def outgoing(self, own: TrackBatch, common: TrackBatch, now: float,
                 sources: Literal["own", "all"] | None = None) -> int:
        """Filter the pictures through every outgoing agreement (or those with these
        ``sources``) into the outbox (worker thread); returns the rows queued."""
        self._maybe_reload(now)
        queued = 0
        for a in self.agreements.outgoing(self.me):
            if sources is not None and a.sources != sources:
                continue
            if a.receiver not in self.index:
                continue  # a partner added by a reload: it gets a bit at the next restart
            out = self._filter(a).select(own, common, now)
            queued += self._queue_tracks(a, out, now)
        return queued

    # ------------------------------------------------------------------ ingest
    def _accept(self, subj: str, data: bytes, received: float) -> None:
        try:
            msg = decode(data, subject=subj, keys=self.keys)
        except WireError as exc:
            self.drop(_origin_of(subj), exc.reason, str(exc))
            return
        env = msg.envelope
        st = self.status.get(env.origin)
        if st is None or env.to != self.me:
            self.drop(env.origin, "unknown-partner", "no agreement names this partner")
            return
        verdict = self._replays.check(env)
        if verdict != "new":
            self.drop(env.origin, "replayed", f"{env.kind} {env.seq} of epoch "
                       f"{env.epoch:.3f} is a {verdict}")
            return
        st.heard_at(received)
        st.note_delay(env.sent, received)
        if isinstance(msg, StatusMessage):
            st.partner_view = {"sent_tracks": msg.body.sent_tracks,
                               "received_tracks": msg.body.received_tracks,
                               "agreements": list(msg.body.agreements)}
        elif isinstance(msg, TrackMessage):
            self._accept_tracks(msg, st, len(data), received)

    def _accept_tracks(self, msg: TrackMessage, st: PartnerStatus, size: int,
                       received: float) -> None:
        env = msg.envelope
        a = self.agreements.between(env.origin, self.me, received)
        if a is None:
            self.drop(env.origin, "no-agreement", "no agreement in force lets it give us tracks")
            return
        if env.agreement != a.id:
            self.drop(env.origin, "wrong-agreement",
                       f"message names agreement {env.agreement!r}, in force is {a.id!r}")
            return
        problem = self._grant_problem(a, msg.tracks)
        if problem:
            self.drop(env.origin, problem[0], problem[1])
            return
        self.partners.ingest(self.index[env.origin], msg.tracks, msg.removed, env.sent,
                             received)
        st.received.add(len(msg.tracks), size, received)
        if len(msg.tracks) and math.isfinite(st.clock_offset_s):
            # how old the newest data was when it reached us, on our clock
            self._accepted.append((env.origin, msg.tracks["last_seen"] + st.clock_offset_s))

    def _grant_problem(self, a: Agreement, rows: TrackBatch) -> tuple[str, str] | None:
        """Why ``rows`` could not have come out of ``a``'s egress filter (None: they could)."""
        if not len(rows):
            return None
        check = self._checks.get(a.id)
        if check is None or check.agreement != a:
            check = self._checks[a.id] = EgressFilter(a, None)
        bad = ~check.conforming(rows)
        if not bad.any():
            return None
        return ("outside-agreement",
                f"{int(np.count_nonzero(bad))} of {len(rows)} row(s) carry a field not granted "
                "or lie outside the agreed regions")

    def drop(self, origin: str, reason: str, detail: str, what: str = "a message") -> None:
        """Count a refused message from ``origin`` under ``reason`` in its partner status
        (``dropped_unknown`` when no agreement names it), and log it at most once a
        minute per kind of message, origin and reason.  The alert link and the audit
        share count their refusals here too, so a partner's status shows them all."""
        st = self.status.get(origin)
        if st is None:
            self.dropped_unknown[reason] += 1
        else:
            st.dropped[reason] += 1
        self._said.warn(f"{what}:{origin}", reason,
                        f"dropped {what} from {origin or '?'}: {detail}")

    # ------------------------------------------------------------------ egress
    def _filter(self, a: Agreement) -> EgressFilter:
        f = self._filters.get(a.id)
        if f is None:
            f = self._filters[a.id] = EgressFilter(a, self.index.get(a.receiver))
        elif f.agreement != a:  # new terms: what they no longer allow is withdrawn
            f = self._filters[a.id] = f.renewed(a)
        return f

    def _queue_tracks(self, a: Agreement, out: Outgoing, now: float) -> int:
        if not len(out.tracks) and not len(out.removed):
            return 0
        st = self.status[a.receiver]
        exercise = (out.tracks["flags"] & _EXERCISE) != 0
        parts = [(out.tracks[~exercise], out.removed, False)]
        if exercise.any():
            parts.append((out.tracks[exercise], np.zeros(0, np.uint32), True))
        for rows, removed, is_exercise in parts:
            if not len(rows) and not len(removed):
                continue
            env = self._envelope("tracks", a.receiver, now, a.id, is_exercise)
            payload = encode_tracks(env, rows, removed, self.key)
            self._outbox.append((env.subject, payload))
            st.sent.add(len(rows), len(payload), now)
        return len(out.tracks)

    def _envelope(self, kind: Kind, to: str, now: float, agreement: str = "",
                  exercise: bool = False) -> Envelope:
        return self._sequencer.envelope(kind, to, sent=now, agreement=agreement,
                                        exercise=exercise)

    def _maybe_reload(self, now: float) -> None:
        if not self.config.agreements or now - self._checked < self.config.reload_every_s:
            return
        self._checked = now
        files = AgreementFiles.of(self.config.agreements)
        if files == self._files:
            return
        self._files = files
        try:
            fresh = load_agreements(self.config.agreements)
        except SkyshareError as exc:
            self.reload_error = str(exc)
            log.error("agreements not reloaded, the previous ones stay in force: %s", exc)
            return
        self.reload_error = ""
        self._retire(fresh, now)
        self.agreements = fresh
        log.info("agreements reloaded: %d in force", len(fresh.active(now)))

    def _retire(self, fresh: AgreementSet, now: float) -> None:
        """Agreements gone from the files: their receivers drop what they had."""
        for agreement_id in set(self._filters) - {a.id for a in fresh}:
            f = self._filters.pop(agreement_id)
            self._queue_tracks(f.agreement, f.withdraw_all(now), now)

    # ------------------------------------------------------------------ views
    def partners_json(self, now: float) -> list[dict[str, object]]:
        up = self.bus.connected
        cfg = self.config
        out = []
        for name, st in self.status.items():
            agreements = {
                "outgoing": [agreement_json(a, now) for a in self.agreements.outgoing(self.me)
                             if a.receiver == name],
                "incoming": [agreement_json(a, now) for a in self.agreements.incoming(self.me)
                             if a.giver == name]}
            row = st.json(now, up, cfg.lagging_after_s, cfg.down_after_s, agreements)
            if self.audit_share is not None:  # its audit log's last head we recorded
                head = self.audit_share.latest(name)
                row["audit_head"] = ({"seq": head.seq, "time": head.time}
                                     if head is not None else None)
                row["audit_conflicts"] = self.audit_share.stats.conflicts[name]
            out.append(row)
        return out

    def provenance_json(self, track_id: int) -> list[dict[str, object]]:
        return [{"partner": c.partner, "remote_track_id": c.remote_track_id,
                 "sources": list(c.source_kinds),
                 "last_seen": c.last_seen if math.isfinite(c.last_seen) else None}
                for c in self.partners.provenance(track_id)]


def agreement_json(a: Agreement, now: float) -> dict[str, object]:
    return {"id": a.id, "active": a.active_at(now), "fields": list(a.fields),
            "sources": a.sources, "max_rate_hz": a.max_rate_hz, "min_delay_s": a.min_delay_s,
            "until": format_utc(a.valid_until) if a.valid_until is not None else None,
            "revoked": a.revoked}


def warm_up() -> None:
    """Compile (or load from numba's cache) the kernels of egress, ingest and partner
    fusion, so that a node's first shares and partner messages are not delayed by
    seconds."""
    warm_up_rows()
    warm_up_egress()
    warm_up_partners()


def load_public_keys(path: Path | None) -> PublicKeys:
    if path is None:
        raise ConfigError("federation.public_keys is needed to check partners' signatures "
                          "(a folder of <partner>.pub files, written by skyshare federation "
                          "init)", where="federation.public_keys")
    return PublicKeys.from_dir(path) if path.is_dir() else PublicKeys.from_file(path)


def nats_bus(config: FederationConfig, me: str, node_name: str) -> NatsBus:
    if config.credentials is None:
        raise ConfigError("federation.credentials is needed: this partner's NATS user file "
                          "(written by skyshare federation init)",
                          where="federation.credentials")
    creds = NatsCredentials.load(config.credentials)
    if creds.user != me:
        raise ConfigError(f"the credentials are those of {creds.user!r}, but this node "
                          f"belongs to {me!r}", where=str(config.credentials))
    if config.nats:
        creds = NatsCredentials(creds.user, creds.password, config.nats, creds.ca_file,
                                creds.inbox_prefix)
    return NatsBus.from_credentials(creds, name=f"skyshare:{node_name}")


def _origin_of(subj: str) -> str:
    try:
        return parse_subject(subj)[1]
    except WireError:
        return ""
