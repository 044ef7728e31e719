"""Cross-border alerts: a node's cases reach the partners that must know of them, and
those partners' duty officers act on them from their own nodes.

The node whose rules raised an alert (the *origin*) owns its case.  Each partner the
case is routed to (it answers for it, or is offered it), other than the origin's own
partner, receives a :class:`~skyshare.alerts.notes.CaseNote` after every workflow step
and shows a read-only mirror.  An action on a mirror comes back as an
:class:`~skyshare.alerts.notes.ActionNote`; the origin applies it as that partner's
officer (``user@partner``), audits it, and answers with the next note, which names the
request (``answers``) and, when the workflow refused it, says why (``refused``).
So acknowledgement travels both ways, and both audit logs hold both sides: the origin
records the step ``via`` the partner, the partner's node records ``alert.forwarded``
and each ``alert.received``.

Transport: JetStream, so that nothing is lost while a node is down.  Notes go to
``sky.alerts.<origin>.<partner>`` with the message id ``<case>@<version>-><partner>``
(``#<request>`` appended for an answer), requests the other way with the request id as
message id; each node reads its own stream ``sky-alerts-<me>`` through the durable
consumer ``node``.  The handler records before it returns (the message is acknowledged
when it returns: what was acknowledged is in the audit log); a redelivered note or
request is recognised by its version or request id and recorded once.  A malformed or
forged message is counted in the sender's partner status (``dropped``), logged at most
once a minute per reason, and acknowledged: it will never become valid.

What may travel (checked by the sender; the NATS permissions are the second lock):

* a note goes to partner P only while an agreement origin -> P is in force with
  ``alerts: true``, or with ``handover: true`` for a case offered to P (now or
  before).  A note not sent is counted in :attr:`LinkStats.not_agreed` and logged;
* a note carries the aircraft's address and callsign only when that agreement grants
  ``identity``, its squawk only with ``squawk`` (position always); an aircraft the
  agreement excludes (address, category, or exercise traffic when it excludes that)
  is not told of at all (:attr:`LinkStats.excluded`).  The agreement's shared regions
  do not limit alerts: a case goes to a partner because it is about its airspace;
* a request goes back P -> origin under an agreement P -> origin (``alerts`` or
  ``handover``): **a partner acts on a mirror only with agreements both ways.**
  Without one the action is refused at once, saying so.

Exercise cases travel in messages marked exercise, and their mirrors stay EXERCISE.

Threads: :meth:`AlertLink.collect` and :meth:`AlertLink.forward` run in worker threads
(the alerts loop, the web handlers); :meth:`AlertLink.flush`, :meth:`AlertLink.start`
and the message handler run on the event loop.  The outbox is shared under a lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from skyshare.alerts.notes import ActionNote, Answer, CaseNote
from skyshare.alerts.rules import RULE_LABELS, Rule
from skyshare.alerts.service import AlertService
from skyshare.alerts.workflow import Case, State, WorkflowError
from skyshare.errors import AuditError, SkyshareError
from skyshare.model import NO_ADDRESS, NO_SQUAWK
from skyshare.share.agreements import PARTNER_NAME, Agreement
from skyshare.share.bus import Bus, DurableBus, EmbeddedBus
from skyshare.share.federation import Federation
from skyshare.share.natsbus import NatsBus
from skyshare.share.natsconf import alerts_stream_name
from skyshare.share.status import Throttled
from skyshare.share.wire import (
    AlertMessage,
    Sequencer,
    WireError,
    decode,
    encode_alerts,
    parse_subject,
)

log = logging.getLogger("skyshare.share")

DURABLE: Final = "node"
"""The durable consumer each node reads its alerts stream with."""
_HANDOVER_KINDS: Final = ("alert.handover_offered", "alert.handover_accepted",
                          "alert.handover_declined")


@dataclass
class LinkStats:
    """What the link did since start (read by status views and tests)."""

    notes_sent: int = 0
    requests_sent: int = 0
    duplicates: int = 0  # publishes JetStream had stored before (a retry after a timeout)
    notes_applied: int = 0  # notes that changed a mirror (redeliveries not counted)
    requests_applied: int = 0  # partners' requests applied or refused here
    not_agreed: Counter[str] = field(default_factory=Counter)  # partner -> notes not sent
    excluded: Counter[str] = field(default_factory=Counter)  # partner -> notes withheld


@dataclass(frozen=True)
class _Outgoing:
    subject: str
    payload: bytes
    msg_id: str
    request: bool


class AlertLink:
    """Carries one node's alert cases to partners and their actions back (see above)."""

    def __init__(self, service: AlertService, federation: Federation, *,
                 bus: DurableBus | None = None, clock: Callable[[], float] = time.time
                 ) -> None:
        self.service, self.fed, self.me = service, federation, federation.me
        self.bus = bus if bus is not None else durable(federation.bus)
        self.stats = LinkStats()
        self._clock = clock
        self._sequencer = Sequencer(self.me, federation.epoch)
        self._outbox: deque[_Outgoing] = deque()
        self._lock = threading.Lock()  # outbox and sequencer: worker threads and the loop
        self._told: dict[str, set[str]] = {}  # case id -> partners told of it
        self._flushing = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._said = Throttled(log)

    @property
    def unsent(self) -> int:
        """Messages waiting in the outbox (the bus refused or was down)."""
        return len(self._outbox)

    # ------------------------------------------------------------------ worker side
    def collect(self, now: float | None = None) -> int:
        """Queue a note for every partner that must hear of each changed case: those it
        is routed to now, those told of it before (so they see it move, until it is
        resolved) and those whose request it answers.  Returns the notes queued."""
        now = self._clock() if now is None else now
        changed = self.service.take_changes()
        answers: dict[str, list[Answer]] = {}
        for answer in changed.answers:
            answers.setdefault(answer.alert_id, []).append(answer)
        queued = 0
        for alert_id in sorted(changed.ids | answers.keys()):
            try:
                case = self.service.workflow.get(alert_id)
            except WorkflowError:  # gone (resolved long ago, or a refused unknown id)
                self._told.pop(alert_id, None)
                continue
            if case.origin is None:
                queued += self._tell(case, answers.get(alert_id, []), now)
        return queued

    def _tell(self, case: Case, answers: list[Answer], now: float) -> int:
        told = self._told.setdefault(case.id, set())
        routed = {p for p in (case.partner, case.offered_to) if p is not None}
        queued = 0
        for partner in sorted((routed | told | {a.partner for a in answers}) - {self.me}):
            agreement = self._agreement(partner, now, handover=_handed(case, partner))
            if agreement is None:
                self.stats.not_agreed[partner] += 1
                self._said.warn(partner, "not-agreed", f"alert {case.id} not sent to "
                               f"{partner}: no agreement in force from {self.me} to "
                               f"{partner} has alerts: true (or handover: true for a "
                               "hand-over)")
                continue
            if _excluded(agreement, case):
                self.stats.excluded[partner] += 1
                continue
            mine: list[Answer | None] = [a for a in answers if a.partner == partner]
            for answer in mine or [None]:
                note = note_of(case, self.me, self.service.volume_name(case.alert.volume),
                               agreement.fields, answer)
                suffix = f"#{note.answers}" if note.answers else ""
                queued += self._queue(partner, agreement, note.exercise, [note], [],
                                      f"{note.id}@{note.version}->{partner}{suffix}")
            told.add(partner)
        if case.state == State.RESOLVED:
            self._told.pop(case.id, None)
        return queued

    def forward(self, request: ActionNote) -> None:
        """Send an action on a mirror to the case's origin (AlertService.forward);
        WorkflowError when no agreement lets it go there."""
        case = self.service.workflow.get(request.alert_id)
        origin = case.origin or ""
        agreement = self._agreement(origin, self._clock(),
                                    handover=case.routed_to(self.me))
        if agreement is None:
            raise WorkflowError("conflict", f"no agreement in force from {self.me} to "
                                f"{origin} has alerts: true, so this action cannot reach "
                                f"{origin}'s node, which owns alert {case.id}; ask "
                                f"{origin} to act on it")
        self._queue(origin, agreement, case.alert.exercise, [], [request], request.request)
        self.wake()

    def _agreement(self, partner: str, now: float, *, handover: bool) -> Agreement | None:
        if not PARTNER_NAME.fullmatch(partner):
            return None  # a region's partner no agreement can name
        a = self.fed.agreements.between(self.me, partner, now)
        return a if a is not None and (a.alerts or (handover and a.handover)) else None

    def _queue(self, partner: str, agreement: Agreement, exercise: bool,
               cases: list[CaseNote], actions: list[ActionNote], msg_id: str) -> int:
        with self._lock:
            env = self._sequencer.envelope("alerts", partner, sent=self._clock(),
                                           agreement=agreement.id, exercise=exercise)
            try:
                payload = encode_alerts(env, cases, actions, self.fed.key)
            except ValueError as exc:  # a bug upstream: the partner would refuse it
                log.error("alert message %s not sent: %s", msg_id, exc)
                return 0
            self._outbox.append(_Outgoing(env.subject, payload, msg_id, bool(actions)))
        return 1

    # ------------------------------------------------------------------ event loop side
    async def start(self) -> None:
        """Read this node's alerts stream (what arrived while it was down first)."""
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        await self.bus.consume_durable(alerts_stream_name(self.me), DURABLE, self.on_message)

    async def run(self, stop: asyncio.Event, *, interval_s: float = 1.0,
                  retry_s: float = 2.0) -> None:
        """Start (retrying until the stream exists), then collect and flush every
        ``interval_s`` or at once when woken (an action taken), until ``stop``."""
        while not stop.is_set():
            try:
                await self.start()
                break
            except SkyshareError as exc:
                self._said.warn("*", "start", f"alerts link not started ({exc}); the "
                               "operator creates the streams (skyshare federation serve)")
                await _wait(stop, retry_s)
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.collect)
                await self.flush()
            except Exception:  # the link must outlive a bug in one round
                log.exception("alerts link round failed")
            await self.wait(interval_s)

    def wake(self) -> None:
        """Make :meth:`run` collect and flush now (from any thread)."""
        loop, event = self._loop, self._wake
        if loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(event.set)

    async def wait(self, timeout_s: float) -> None:
        """Until woken or ``timeout_s`` passed."""
        if self._wake is None:
            await asyncio.sleep(timeout_s)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout_s)
        self._wake.clear()

    async def flush(self) -> int:
        """Publish the outbox durably; returns the messages stored.  A message leaves
        the outbox only once JetStream stored it, so a failure (or a cancellation)
        keeps it, in order, for the next call; after a failure nothing more is tried
        for that partner this time, so each partner gets notes in the order made."""
        if not self.bus.connected:
            return 0
        sent, at = 0, 0
        failed: set[str] = set()
        async with self._flushing:  # only one flush walks the outbox; others only append
            while True:
                with self._lock:
                    if at >= len(self._outbox):
                        return sent
                    item = self._outbox[at]
                if item.subject in failed:
                    at += 1
                    continue
                try:
                    stored = await self.bus.publish_durable(item.subject, item.payload,
                                                            item.msg_id)
                except SkyshareError as exc:
                    failed.add(item.subject)
                    at += 1
                    self._said.warn(item.subject, "send", f"alerts to {item.subject} not "
                                   f"sent yet (kept for the next try): {exc}")
                    continue
                with self._lock:
                    del self._outbox[at]
                sent += 1
                self.stats.duplicates += not stored
                if item.request:
                    self.stats.requests_sent += 1
                else:
                    self.stats.notes_sent += 1

    def on_message(self, subject: str, data: bytes) -> None:
        """A message of this node's alerts stream (event loop).  Records what it says
        before returning; raises only when the audit log refused it (redelivered)."""
        try:
            msg = decode(data, subject=subject, keys=self.fed.keys)
        except WireError as exc:
            self._drop(_origin_of(subject), exc.reason, str(exc))
            return
        env = msg.envelope
        if not isinstance(msg, AlertMessage) or env.to != self.me:
            self._drop(env.origin, "misrouted", f"a {env.kind} message to {env.to} on "
                       f"{self.me}'s alerts stream")
            return
        now = self._clock()
        agreement = self.fed.agreements.between(env.origin, self.me, now)
        if agreement is None or not (agreement.alerts or agreement.handover):
            self._drop(env.origin, "no-agreement", "no agreement in force lets it send "
                       "us alerts")
            return
        if env.agreement != agreement.id:
            self._drop(env.origin, "wrong-agreement", f"message names agreement "
                       f"{env.agreement!r}, in force is {agreement.id!r}")
            return
        if any(note.origin != env.origin for note in msg.cases):
            self._drop(env.origin, "origin-mismatch", "a note about another node's case")
            return
        try:
            for note in msg.cases:
                self.stats.notes_applied += bool(self.service.apply_note(note, now))
            for request in msg.actions:
                self.stats.requests_applied += bool(
                    self.service.apply_request(request, env.origin, now))
        except AuditError:
            raise  # not recorded: the bus redelivers it
        except Exception as exc:  # a bug must not stop the stream: count, log, go on
            log.exception("alerts message from %s not applied", env.origin)
            self._drop(env.origin, "not-applied", f"{type(exc).__name__}: {exc}")

    # ------------------------------------------------------------------ counting
    def _drop(self, origin: str, reason: str, detail: str) -> None:
        self.fed.drop(origin, reason, detail, what="an alerts message")


def note_of(case: Case, origin: str, volume: str | None, fields: tuple[str, ...],
            answer: Answer | None = None) -> CaseNote:
    """``case`` of partner ``origin``'s node as told under an agreement granting
    ``fields`` (identity and squawk only when granted), answering ``answer`` if given."""
    alert, latest = case.alert, case.alert.latest
    identity, squawk = "identity" in fields, "squawk" in fields
    callsign = bytes(latest["callsign"]).decode("ascii", "replace").strip()
    return CaseNote(
        id=case.id, version=case.version, origin=origin,
        rule=Rule(alert.rule).name.lower(), label=RULE_LABELS[Rule(alert.rule)],
        track_id=alert.track_id,
        icao24=int(latest["icao24"]) if identity else int(NO_ADDRESS),
        callsign="".join(c for c in callsign if " " <= c <= "~")[:8] if identity else "",
        squawk=int(latest["squawk"]) if squawk else int(NO_SQUAWK), volume=volume,
        value=_finite(alert.value), verified=alert.verified, exercise=alert.exercise,
        raised_at=alert.raised_at, cleared_at=alert.cleared_at,
        lat=_finite(float(latest["lat"])), lon=_finite(float(latest["lon"])),
        alt=_finite(float(latest["alt"])),
        condition_active=case.condition_active, state=case.state.value,
        partner=case.partner, offered_to=case.offered_to, escalation=case.escalation,
        acknowledged_by=case.acknowledged_by, acknowledged_at=case.acknowledged_at,
        resolved_by=case.resolved_by, resolved_at=case.resolved_at, comment=case.comment,
        updated_at=case.updated_at, answers=answer.request if answer else "",
        refused=answer.refused if answer else "", sensor=alert.sensor,
        detail=alert.detail[:1000])


def durable(bus: Bus) -> DurableBus:
    """``bus`` as a durable bus (alerts need JetStream), or a SkyshareError."""
    if isinstance(bus, NatsBus | EmbeddedBus):
        return bus
    raise SkyshareError(f"the federation's bus ({type(bus).__name__}) cannot store "
                        "messages: cross-border alerts need NATS with JetStream")


def _excluded(agreement: Agreement, case: Case) -> bool:
    """Whether the agreement never shares this aircraft (as the egress filter does)."""
    latest, rules = case.alert.latest, agreement.exclude
    return ((rules.exercise and case.alert.exercise)
            or int(latest["icao24"]) in rules.addresses
            or int(latest["category"]) in rules.categories)


def _handed(case: Case, partner: str) -> bool:
    """Whether ``partner`` took part in a hand-over of ``case`` (offered it, now or before)."""
    return case.offered_to == partner or any(
        e.kind in _HANDOVER_KINDS and e.data.get("to") == partner for e in case.history)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _origin_of(subject: str) -> str:
    try:
        return parse_subject(subject)[1]
    except WireError:
        return ""


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
