"""Audit replication: each node's audit-log heads go, signed, to all its partners through
JetStream, and each node records the heads its partners publish in its own audit log.

Why: a node's audit log is hash-chained and its heads (seq, hash, time) reveal a log
whose tail was cut or whose entries were rewritten and re-hashed, but only if the heads
are kept where the node's own operator cannot rewrite them.  Partners are that place:
every head a partner recorded is in *its* hash-chained log, and ``skyshare audit verify
--log LOG --partner-heads THEIR_LOG...`` checks a log against them.

Sending: whenever the node publishes a head (at start, every minute, at stop; the node
hands the periodic ones to :meth:`AuditShare.publish`), the head is published durably
on ``sky.audit.<me>`` with the message id ``<me>:<seq>:<hash>``, so a retry is stored
once and a head that contradicts an earlier one with the same seq is *not* mistaken
for a retry (an id of seq alone would let JetStream drop it as a duplicate for ten
minutes).  Heads wait in an outbox, in order, while the bus is down.

Receiving: each node reads the whole stream ``sky-audit`` through the durable consumer
named after itself (its own heads are skipped).  A head must decode and verify with
its partner's key (else it is counted in that partner's status ``dropped``, logged once
a minute and skipped: a forged head is nobody's statement, so it is never recorded as a
contradiction, which would let a forger frame a partner).  Then, per partner:

* a seq not seen before and above the last one recorded: a new head, recorded as an
  ``audit.partner_head`` entry (partner, node, seq, hash, time);
* a seq recorded before with the same hash: a repeat (republished, or redelivered after
  a restart), not recorded again;
* the same seq with another hash (``hash-changed``), or a lower seq published later than
  the last head recorded (``went-back``, more than :data:`CLOCK_SLACK_S` later): the
  partner's log was rewritten or cut.  Each such contradiction is recorded once as
  ``audit.partner_head_conflict``, counted in :attr:`ShareStats.conflicts` and logged
  as an error; the head recorded first stays;
* a lower seq published before the last head recorded (give or take
  :data:`CLOCK_SLACK_S`): an old head delivered late (after a handler failure); skipped
  as stale, since the later head covers its entries.

The handler records before it returns and JetStream is acknowledged after that, so a
head is recorded at least once and, thanks to the checks above, at most once.  At start
the node rebuilds what it recorded (the last :data:`KEEP_HEADS` heads per partner) from
its own log.

Wire format: the framing of :mod:`skyshare.share.wire` (``b"SKY2"``, header length,
header, payload, Ed25519 signature over the framing, header and payload digest) with
the header canonical JSON ``{"kind": "audit", "origin": <partner>, "v": 1}`` and the
payload canonical JSON ``{"hash", "node", "seq", "time"}`` of the head.  :func:`encode_head` and
:func:`decode_head` do no I/O; decoding raises only :class:`~skyshare.share.wire.WireError`.

Threads: :meth:`AuditShare.publish` may be called from any thread; everything else runs
on the event loop (recording one head waits for one fsync of the audit log).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from skyshare.errors import SkyshareError
from skyshare.share.agreements import PARTNER_NAME
from skyshare.share.alertlink import durable
from skyshare.share.bus import DurableBus
from skyshare.share.federation import Federation
from skyshare.share.keys import NodeKey, PublicKeys
from skyshare.share.natsconf import AUDIT_STREAM, audit_subject
from skyshare.share.status import Throttled
from skyshare.share.wire import (
    WireError,
    WireReason,
    canonical_json,
    only_wire_errors,
    seal,
    unseal,
)
from skyshare.store.audit import AuditLog, Head
from skyshare.store.audit.heads import (
    PARTNER_HEAD,
    PARTNER_HEAD_CONFLICT,
    head_record,
    recorded_head,
)

log = logging.getLogger("skyshare.share")

VERSION: Final = 1
KEEP_HEADS: Final = 10_000
"""Recorded heads remembered per partner (a week at one a minute) to judge repeats."""
OUTBOX_LIMIT: Final = 10_000
"""Heads waiting for the bus; beyond, the oldest are dropped (they stay in the heads file)."""
STOP_FLUSH_S: Final = 5.0
"""How long the last head may take to reach JetStream when the node stops."""
CLOCK_SLACK_S: Final = 1.0
"""A lower seq published less than this after the last head recorded is taken for an
old head, not a cut log: a node stamps a head's time just before it waits for the log
(behind an append, at most a commit) to read its seq, so two heads published at once
may carry their times in the other order."""

_NODE: Final = re.compile(r"[^\x00-\x1f\x7f]{1,128}")
_HASH: Final = re.compile(r"[0-9a-f]{64}")
_MAX_SEQ: Final = 2**63 - 1


# --------------------------------------------------------------------------- codec
def encode_head(origin: str, head: Head, key: NodeKey) -> bytes:
    """A signed head of ``origin``'s node; ValueError for a head the decoder would refuse."""
    problem = _head_problem(head.node, head.seq, head.hash, head.time)
    if problem or not PARTNER_NAME.fullmatch(origin):
        raise ValueError(problem or f"bad partner name {origin!r}")
    header = canonical_json({"v": VERSION, "kind": "audit", "origin": origin})
    payload = canonical_json({"node": head.node, "seq": head.seq, "hash": head.hash,
                              "time": float(head.time)})
    return seal(header, payload, key)


def decode_head(data: bytes, *, subject: str, keys: PublicKeys) -> tuple[str, Head]:
    """(origin, head) of a message received on ``subject``; raises only WireError."""
    return only_wire_errors(_decode, bytes(data), subject, keys)


def subject_origin(subject: str) -> str | None:
    """``<partner>`` of ``sky.audit.<partner>``, else None."""
    parts = subject.split(".")
    if len(parts) == 3 and parts[:2] == ["sky", "audit"] and PARTNER_NAME.fullmatch(parts[2]):
        return parts[2]
    return None


def _decode(data: bytes, subject: str, keys: PublicKeys) -> tuple[str, Head]:
    sealed = unseal(data)
    origin = subject_origin(subject)
    if origin is None:
        raise WireError("origin-mismatch", f"not a sky.audit.<partner> subject: {subject!r}")
    header = _json(sealed.header, "bad-header", "header")
    if (not isinstance(header, dict) or set(header) != {"v", "kind", "origin"}
            or type(header["v"]) is not int or header["kind"] != "audit"):
        raise WireError("bad-header", 'header must be {"kind": "audit", "origin", "v"}')
    if header["v"] != VERSION:
        raise WireError("bad-header", f"format version {header['v']} (this node reads "
                        f"{VERSION}): upgrade the older node")
    if header["origin"] != origin:
        raise WireError("origin-mismatch", f"header says {header['origin']!r:.40}, subject "
                        f"is {subject}")
    if origin not in keys:
        raise WireError("unknown-origin", f"no public key for partner {origin!r}")
    if not keys.verify(origin, sealed.signature, sealed.signed):
        raise WireError("bad-signature", f"signature does not verify with {origin}'s key")
    body = _json(sealed.payload, "bad-value", "payload")
    if not isinstance(body, dict) or set(body) != {"node", "seq", "hash", "time"}:
        raise WireError("bad-value", 'payload must be {"hash", "node", "seq", "time"}')
    problem = _head_problem(body["node"], body["seq"], body["hash"], body["time"])
    if problem:
        raise WireError("bad-value", problem)
    return origin, Head(body["node"], body["seq"], body["hash"], float(body["time"]))


def _head_problem(node: Any, seq: Any, hsh: Any, unix_s: Any) -> str:
    """Why these are not a head's fields ("" when they are)."""
    if not isinstance(node, str) or not _NODE.fullmatch(node) or not node.isprintable():
        return "node is not a name of 1..128 printable characters"
    if type(seq) is not int or not 0 <= seq <= _MAX_SEQ:
        return "seq is not an integer 0..2**63-1"
    if not isinstance(hsh, str) or not _HASH.fullmatch(hsh):
        return "hash is not 64 lowercase hex digits"
    if type(unix_s) not in (int, float) or not math.isfinite(unix_s):
        return "time is not a finite number"
    return ""


def _json(raw: bytes, reason: WireReason, what: str) -> Any:
    """The canonical JSON value ``raw`` holds (one byte form only, as the wire codec)."""
    def no_constants(name: str) -> None:
        raise ValueError(f"{name} is not JSON")
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=no_constants)
        canonical = canonical_json(value)
    except (ValueError, RecursionError) as exc:
        raise WireError(reason, f"{what} is not JSON: {exc}") from exc
    if canonical != raw:
        raise WireError(reason, f"{what} is not canonical JSON")
    return value


# --------------------------------------------------------------------------- the share
@dataclass
class ShareStats:
    """What the share did since start (read by status views and tests)."""

    published: int = 0  # own heads stored in the stream
    duplicates: int = 0  # own heads the stream had stored before (a retry)
    dropped_unsent: int = 0  # own heads dropped from a full outbox
    recorded: int = 0  # partners' heads recorded in the own log
    repeated: int = 0  # partners' heads recorded before (republished, redelivered)
    stale: int = 0  # partners' older heads delivered after newer ones
    conflicts: Counter[str] = field(default_factory=Counter)  # partner -> contradictions


@dataclass
class _Partner:
    """What this node recorded of one partner's heads."""

    last: Head | None = None  # the recorded head with the highest seq
    latest: Head | None = None  # the last valid head received (repeats too)
    seen: dict[int, Head] = field(default_factory=dict)  # seq -> recorded, oldest first


class AuditShare:
    """Replicates one node's audit heads to its partners and records theirs (see above)."""

    def __init__(self, federation: Federation, audit: AuditLog, *,
                 bus: DurableBus | None = None, clock: Callable[[], float] = time.time,
                 keep: int = KEEP_HEADS) -> None:
        self.fed, self.audit, self.me = federation, audit, federation.me
        self.bus = bus if bus is not None else durable(federation.bus)
        self.stats = ShareStats()
        self._clock, self._keep = clock, max(1, keep)
        self._lock = threading.Lock()  # the outbox (any thread) and what latest() reads
        self._outbox: deque[Head] = deque()
        self._partners: dict[str, _Partner] = {}
        self._conflicts: set[tuple[str, int, str]] = set()
        self._loaded = self._consuming = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._said = Throttled(log)

    # ------------------------------------------------------------------ views
    def latest(self, partner: str) -> Head | None:
        """The last valid head received from ``partner``'s node (None: none yet)."""
        with self._lock:
            p = self._partners.get(partner)
            return p.latest if p is not None else None

    @property
    def unsent(self) -> int:
        return len(self._outbox)

    # ------------------------------------------------------------------ sending
    def publish(self, head: Head) -> None:
        """Send ``head``, which the node just published (any thread; :meth:`run` sends)."""
        with self._lock:
            if len(self._outbox) >= OUTBOX_LIMIT:
                self._outbox.popleft()
                self.stats.dropped_unsent += 1
            self._outbox.append(head)
        loop, event = self._loop, self._wake
        if loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(event.set)

    async def flush(self) -> int:
        """Publish the outbox durably, in order; a head leaves it only once stored.
        Returns the heads sent."""
        sent = 0
        while self.bus.connected:
            with self._lock:
                if not self._outbox:
                    break
                head = self._outbox[0]
            try:
                payload = encode_head(self.me, head, self.fed.key)
            except ValueError as exc:  # partners would refuse it: say why, drop it
                log.error("audit head %s of node %r cannot be sent (%s); rename the node "
                          "(node.name) to share its heads", head.seq, head.node, exc)
                self._pop(head)
                continue
            try:
                stored = await self.bus.publish_durable(
                    audit_subject(self.me), payload, f"{self.me}:{head.seq}:{head.hash}")
            except SkyshareError as exc:
                self._said.warn("*", "send", f"audit head {head.seq} not sent yet (kept for "
                               f"the next try): {exc}")
                break
            self._pop(head)
            sent += 1
            self.stats.published += stored
            self.stats.duplicates += not stored
        return sent

    def _pop(self, head: Head) -> None:
        with self._lock:
            if self._outbox and self._outbox[0] is head:
                self._outbox.popleft()

    async def _publish_own(self) -> None:
        """Publish a head of the own log (heads file and partners)."""
        try:
            self.publish(await asyncio.to_thread(self.audit.publish_head))
        except SkyshareError as exc:
            log.error("audit head not published: %s", exc)

    # ------------------------------------------------------------------ running
    async def start(self) -> None:
        """Rebuild what was recorded (once), then read the stream through this node's
        durable consumer: what arrived while it was down first."""
        if not self._loaded:
            await asyncio.to_thread(self.load)
        await self.bus.consume_durable(AUDIT_STREAM, self.me, self.on_message)
        self._consuming = True

    async def run(self, stop: asyncio.Event, *, retry_s: float = 2.0) -> None:
        """Publish a head, read partners' heads and send the node's until ``stop``; then
        publish a last head and give it :data:`STOP_FLUSH_S` to reach the stream."""
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        await self._publish_own()
        while not stop.is_set():
            if not self._consuming:
                try:
                    await self.start()
                except SkyshareError as exc:
                    self._said.warn("*", "start", f"partners' audit heads not read yet "
                                   f"({exc}); the operator creates the stream {AUDIT_STREAM} "
                                   "(skyshare federation serve)")
            try:
                await self.flush()
            except Exception:  # the share must outlive a bug in one round
                log.exception("audit share round failed")
            idle = self._consuming and not self.unsent
            await self._wait(stop, None if idle else retry_s)
        await self._publish_own()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.flush(), STOP_FLUSH_S)

    async def _wait(self, stop: asyncio.Event, timeout_s: float | None) -> None:
        """Until ``stop``, a :meth:`publish` or ``timeout_s``."""
        assert self._wake is not None
        waiters = [asyncio.ensure_future(e.wait()) for e in (stop, self._wake)]
        try:
            await asyncio.wait(waiters, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        self._wake.clear()

    # ------------------------------------------------------------------ receiving
    def load(self) -> None:
        """Rebuild the recorded heads and conflicts from the own log (a worker thread)."""
        for entry in self.audit.entries(kind=PARTNER_HEAD):
            parsed = recorded_head(entry.data)
            if parsed is not None:
                partner, head = parsed
                p = self._partners.setdefault(partner, _Partner())
                if p.last is None or head.seq > p.last.seq:
                    self._remember(p, head)
                p.latest = p.last
        for entry in self.audit.entries(kind=PARTNER_HEAD_CONFLICT):
            parsed = recorded_head(entry.data)
            if parsed is not None:
                self._conflicts.add((parsed[0], parsed[1].seq, parsed[1].hash))
        self._loaded = True

    def on_message(self, subject: str, data: bytes) -> None:
        """A message of the audit stream (event loop).  Records what it says before it
        returns; raises only when the audit log refused it (JetStream redelivers it)."""
        origin = subject_origin(subject) or ""
        if origin == self.me:
            return  # the own heads: the stream holds every partner's
        try:
            origin, head = decode_head(data, subject=subject, keys=self.fed.keys)
        except WireError as exc:
            self._drop(origin, exc.reason, str(exc))
            return
        if origin not in self.fed.status:
            self._drop(origin, "unknown-partner", "no agreement names this partner")
            return
        self._judge(origin, head, self._clock())

    def _judge(self, partner: str, head: Head, now: float) -> None:
        p = self._partners.setdefault(partner, _Partner())
        known = p.seen.get(head.seq)
        if known is not None and known.hash == head.hash:
            self.stats.repeated += 1
            with self._lock:
                p.latest = head if p.latest is None or head.time > p.latest.time else p.latest
        elif known is not None:
            self._conflict(partner, head, known, "hash-changed", now)
        elif p.last is None or head.seq > p.last.seq:
            self.audit.append(PARTNER_HEAD, partner, head_record(partner, head), time=now)
            self._remember(p, head)
            self.stats.recorded += 1
        elif head.time < p.last.time + CLOCK_SLACK_S:
            self.stats.stale += 1
        else:
            self._conflict(partner, head, p.last, "went-back", now)

    def _remember(self, p: _Partner, head: Head) -> None:
        with self._lock:
            p.seen[head.seq] = head
            while len(p.seen) > self._keep:
                del p.seen[next(iter(p.seen))]
            p.last = p.latest = head

    def _conflict(self, partner: str, head: Head, recorded: Head, problem: str,
                  now: float) -> None:
        if (partner, head.seq, head.hash) in self._conflicts:
            self.stats.repeated += 1
            return
        data = {**head_record(partner, head), "problem": problem,
                "recorded": head_record(partner, recorded)}
        self.audit.append(PARTNER_HEAD_CONFLICT, partner, data, time=now)
        self._conflicts.add((partner, head.seq, head.hash))
        self.stats.conflicts[partner] += 1
        said = (f"seq {head.seq} now has hash {head.hash[:12]}…, recorded as "
                f"{recorded.hash[:12]}…" if problem == "hash-changed" else
                f"seq {head.seq} published after seq {recorded.seq}")
        log.error("audit log of partner %s (node %s) contradicts a head recorded before: "
                  "%s; its log was rewritten or cut (recorded as %s; check it with "
                  "'skyshare audit verify --partner-heads')", partner, head.node, said,
                  PARTNER_HEAD_CONFLICT)

    # ------------------------------------------------------------------ counting
    def _drop(self, origin: str, reason: str, detail: str) -> None:
        self.fed.drop(origin, reason, detail, what="an audit head")

