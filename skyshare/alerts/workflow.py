"""The duty workflow: who answers for each alert, where it stands, and every step as an
audit event.

An alert (from :mod:`skyshare.alerts.engine`) becomes a :class:`Case` owned by the
partner responsible for where it happens (the responsibility regions; outside all of
them, this node's own partner).  A case moves ``new -> acknowledged -> resolved``:

- only users of the owning partner act on it, and only duty officers or supervisors;
- a case still ``new`` after ``escalate_after_s[0]`` seconds is escalated to the
  supervisors, again after each further threshold;
- a case raised before its aircraft had a position goes to this node's partner and
  moves, unanswered, to whoever's region the first position falls in;
- when the aircraft crosses into another partner's region (or a duty officer decides
  so) the case is *offered* to that partner.  The sending side keeps it, escalations
  included, until the receiving side accepts; accepting acknowledges it in the
  receiver's name.  A declined offer is not repeated for the same partner;
- when the alert's condition ends, an acknowledged case is resolved by the system; a
  case nobody acknowledged stays ``new`` (marked ``condition ended``) so that someone
  sees it happened, and is resolved as soon as it is acknowledged;
- a supervisor may reopen a resolved case.

Cases of other nodes: a partner's node that raised an alert routed to this node's
partner sends its case as :class:`~skyshare.alerts.notes.CaseNote` s;
:meth:`Workflow.upsert_mirror` keeps the newest as a read-only *mirror* (``Case.origin``
names the origin's partner).  The origin drives a mirror: no escalation, routing or
hand-over happens here; actions on it are forwarded to the origin (see
:mod:`skyshare.alerts.service`), which answers with the next note; ``Case.pending``
holds the forwarded action until then.

Every method returns the :class:`Event` s it caused; they have the shape of
:class:`skyshare.store.audit.AuditRecord`, so the node appends them to the audit log
as they are.  They say enough to rebuild every case after a restart
(:mod:`skyshare.alerts.restore`): ``alert.raised`` holds the alert and its evidence,
``alert.received`` the whole note, ``alert.forwarded`` the whole request.  The
workflow itself does no I/O and is safe to call from several threads (the pipeline
thread and the web handlers).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any, Final, Literal, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from skyshare.alerts.engine import Alert, Changes
from skyshare.alerts.notes import ActionNote, CaseNote, mirror_alert
from skyshare.alerts.rules import Rule
from skyshare.auth import Actor, Role
from skyshare.errors import SkyshareError
from skyshare.model import TRACK_DTYPE

SYSTEM: Final = "system"


class State(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


Problem = Literal["not_found", "forbidden", "conflict", "invalid"]


class WorkflowError(SkyshareError):
    """An action the workflow refuses; ``problem`` says which kind (the API's status)."""

    def __init__(self, problem: Problem, message: str) -> None:
        self.problem = problem
        super().__init__(message)


class Event(NamedTuple):
    """One workflow step, shaped like an audit record (kind, subject, data, actor, ...)."""

    kind: str
    subject: str
    data: dict[str, Any]
    actor: str
    exercise: bool
    time: float


class Owners(Protocol):
    """The part of :class:`skyshare.airspace.Regions` routing needs."""

    @property
    def partners(self) -> tuple[str, ...]: ...

    def owner(self, lat: npt.ArrayLike, lon: npt.ArrayLike) -> npt.NDArray[np.intp]: ...


@dataclass(frozen=True)
class WorkflowConfig:
    """Workflow settings (YAML ``alerts.workflow:``)."""

    partner: str = "skyshare"
    """This node's partner: answers for alerts outside every responsibility region."""
    escalate_after_s: tuple[float, ...] = (120.0, 300.0)
    """Escalate a case still new after each of these many seconds."""
    handover_on_crossing: bool = True
    """Offer a case to the partner whose region the aircraft has entered."""
    keep_resolved_s: float = 3600.0
    """How long resolved cases stay listed (the audit log keeps them for ever)."""


@dataclass
class Case:
    """The workflow state of one alert."""

    alert: Alert
    partner: str  # responsible now
    region: str | None = None  # whose region the aircraft was last seen in (None: unknown)
    state: State = State.NEW
    updated_at: float = math.nan
    escalation: int = 0  # thresholds of escalate_after_s passed while new
    offered_to: str | None = None  # a hand-over awaiting that partner's acceptance
    declined_by: frozenset[str] = frozenset()
    acknowledged_by: str | None = None
    acknowledged_at: float | None = None
    resolved_by: str | None = None
    resolved_at: float | None = None
    comment: str = ""
    history: list[Event] = field(default_factory=list)
    origin: str | None = None  # a mirror: the partner whose node owns the case; None: ours
    pending: ActionNote | None = None  # a mirror: the action forwarded, not yet answered
    refused: str = ""  # a mirror: why the origin refused the last action forwarded from here
    note: CaseNote | None = None  # a mirror: the origin's last note (its version, volume)

    @property
    def id(self) -> str:
        return self.alert.id

    @property
    def version(self) -> int:
        """Workflow steps so far (the origin's count, for a mirror): grows with each step."""
        return self.note.version if self.note is not None else len(self.history)

    @property
    def condition_active(self) -> bool:
        return self.alert.active

    def routed_to(self, partner: str) -> bool:
        """Whether ``partner`` has to know of this case (it owns it or is offered it)."""
        return partner in (self.partner, self.offered_to)


def allowed(case: Case, actor: Actor | None) -> list[str]:
    """The actions ``actor`` may take on ``case`` now (what the panel offers, and what a
    node checks before forwarding an action on a mirror to its origin)."""
    if actor is None or not actor.role.can_act() or case.pending is not None:
        return []
    mine = actor.partner == case.partner
    can = []
    if mine and case.state == State.NEW:
        can.append("acknowledge")
    if mine and case.state == State.ACKNOWLEDGED:
        can.append("resolve")
    if mine and case.state != State.RESOLVED and case.offered_to is None:
        can.append("hand_over")
    if case.offered_to == actor.partner:
        can += ["accept", "decline"]
    if mine and case.state == State.RESOLVED and actor.role == Role.SUPERVISOR:
        can.append("reopen")
    return can


def track_json(row: npt.NDArray[np.void]) -> dict[str, Any]:
    """A TRACK_DTYPE row as JSON-ready values (NaN -> None, callsign as text)."""
    out: dict[str, Any] = {}
    for name in TRACK_DTYPE.names or ():
        value = row[name].item()
        if isinstance(value, bytes):
            value = value.decode("ascii", "replace").strip()
        elif isinstance(value, float) and not math.isfinite(value):
            value = None
        out[name] = value
    return out


def _alert_json(alert: Alert, partner: str) -> dict[str, Any]:
    out = {"rule": Rule(alert.rule).name.lower(), "track_id": alert.track_id,
           "volume": alert.volume, "value": alert.value if math.isfinite(alert.value) else None,
           "verified": alert.verified, "partner": partner, "evidence": track_json(alert.evidence)}
    if alert.sensor is not None:  # a readiness alert: about a sensor, not a track
        out |= {"sensor": alert.sensor, "detail": alert.detail}
    return out


class Workflow:
    """The cases of one node, and the actions duty officers take on them."""

    def __init__(self, config: WorkflowConfig | None = None, owners: Owners | None = None
                 ) -> None:
        self.config = config or WorkflowConfig()
        self.owners = owners
        self._cases: dict[str, Case] = {}
        self._lock = threading.Lock()

    @property
    def partners(self) -> tuple[str, ...]:
        """Every partner a case can be routed or handed over to."""
        known = self.owners.partners if self.owners is not None else ()
        return tuple(dict.fromkeys((self.config.partner, *known)))

    # -- reading
    def cases(self, *, partner: str | None = None, include_resolved: bool = True
              ) -> list[Case]:
        """Copies of the cases (routed to ``partner`` if given), newest first."""
        with self._lock:
            found = [replace(c, history=list(c.history)) for c in self._cases.values()
                     if (partner is None or c.routed_to(partner))
                     and (include_resolved or c.state != State.RESOLVED)]
        return sorted(found, key=lambda c: -c.alert.raised_at)

    def get(self, alert_id: str) -> Case:
        with self._lock:
            case = self._find(alert_id)
            return replace(case, history=list(case.history))

    def restore(self, case: Case) -> None:
        """Put back a copy taken with :meth:`get` (an action the audit log refused)."""
        with self._lock:
            self._cases[case.id] = replace(case, history=list(case.history))

    def load(self, cases: Sequence[Case]) -> None:
        """Take the cases rebuilt from the audit log after a restart (no events: they
        are in the log already)."""
        with self._lock:
            self._cases.update((c.id, c) for c in cases)

    # -- fed by the pipeline
    def on_changes(self, changes: Changes, now: float) -> list[Event]:
        """Open a case per raised alert (routed by position); note cleared ones."""
        events: list[Event] = []
        regions = self._regions(changes.raised)
        with self._lock:
            for alert, region in zip(changes.raised, regions, strict=True):
                partner = region or self.config.partner
                case = Case(alert=alert, partner=partner, region=region, updated_at=now)
                self._cases[alert.id] = case
                events.append(self._log(case, "alert.raised", SYSTEM, now,
                                        {**_alert_json(alert, partner), "region": region}))
            for alert in changes.cleared:
                cleared = self._cases.get(alert.id)
                if cleared is None or cleared.origin is not None:
                    continue
                case = cleared
                events.append(self._log(case, "alert.cleared", SYSTEM, now, {
                    "latest": track_json(alert.latest),
                    "value": alert.value if math.isfinite(alert.value) else None,
                    **({"detail": alert.detail} if alert.sensor is not None else {})}))
                if case.state == State.ACKNOWLEDGED:
                    events.append(self._resolve(case, SYSTEM, "condition ended", now))
        return events

    def tick(self, now: float) -> list[Event]:
        """Escalations due, hand-overs offered on crossing, old resolved cases dropped."""
        events: list[Event] = []
        with self._lock:
            open_cases = [c for c in self._cases.values()
                          if c.state != State.RESOLVED and c.origin is None]
            thresholds = self.config.escalate_after_s
            for case in open_cases:
                if case.state == State.NEW and case.escalation < len(thresholds) and (
                        now - case.alert.raised_at >= thresholds[case.escalation]):
                    case.escalation += 1
                    events.append(self._log(case, "alert.escalated", SYSTEM, now, {
                        "level": case.escalation, "to": Role.SUPERVISOR.value,
                        "partner": case.partner,
                        "unacknowledged_s": round(now - case.alert.raised_at, 1)}))
            events += self._follow(open_cases, now)
            cutoff = now - self.config.keep_resolved_s
            for key in [k for k, c in self._cases.items()
                        if c.state == State.RESOLVED and (c.resolved_at or now) < cutoff]:
                del self._cases[key]
        return events

    def _regions(self, alerts: Sequence[Alert]) -> list[str | None]:
        """Whose region each alert's aircraft is in (this node's partner outside every
        region); None while its position is unknown."""
        if not alerts:
            return []
        lat = np.array([a.latest["lat"] for a in alerts], np.float64)
        lon = np.array([a.latest["lon"] for a in alerts], np.float64)
        known = np.isfinite(lat) & np.isfinite(lon)
        if self.owners is None:
            return [self.config.partner if k else None for k in known.tolist()]
        index = self.owners.owner(lat, lon)
        names = self.owners.partners
        return [None if not k else names[i] if i >= 0 else self.config.partner
                for i, k in zip(index.tolist(), known.tolist(), strict=True)]

    def _follow(self, cases: list[Case], now: float) -> list[Event]:
        """React to aircraft changing region: a case raised before its aircraft had a
        position is routed where it turns out to be (nobody has answered it yet); any
        other crossing into another partner's region offers the case to that partner.
        Only a change of region counts, so an accepted hand-over is not offered back
        while the aircraft stays where it was."""
        events = []
        for case, region in zip(cases, self._regions([c.alert for c in cases]), strict=True):
            if region is None or region == case.region:
                continue
            first_fix, case.region = case.region is None, region
            if region == case.partner:
                continue
            if first_fix and case.state == State.NEW and case.offered_to is None:
                sender, case.partner = case.partner, region
                events.append(self._log(case, "alert.routed", SYSTEM, now, {
                    "from": sender, "to": region, "reason": "first position"}))
            elif (self.config.handover_on_crossing and case.offered_to is None
                  and region not in case.declined_by):
                events.append(self._offer(case, region, SYSTEM, "crossing", now))
        return events

    # -- duty officers' actions
    def acknowledge(self, alert_id: str, actor: Actor, now: float) -> list[Event]:
        with self._lock:
            case = self._acting_on(alert_id, actor, owner=True)
            if case.state != State.NEW:
                raise WorkflowError("conflict", f"alert {alert_id} is already {case.state}")
            events = [self._acknowledge(case, actor.user, now)]
            if not case.condition_active:
                events.append(self._resolve(case, SYSTEM, "condition ended", now))
            return events

    def resolve(self, alert_id: str, actor: Actor, comment: str, now: float) -> list[Event]:
        comment = comment.strip()
        if not comment:
            raise WorkflowError("invalid", "resolving an alert needs a comment saying how")
        with self._lock:
            case = self._acting_on(alert_id, actor, owner=True)
            if case.state != State.ACKNOWLEDGED:
                raise WorkflowError("conflict", f"alert {alert_id} is {case.state}; "
                                    "only an acknowledged alert can be resolved")
            return [self._resolve(case, actor.user, comment, now)]

    def hand_over(self, alert_id: str, actor: Actor, to: str, now: float) -> list[Event]:
        with self._lock:
            case = self._acting_on(alert_id, actor, owner=True)
            if to not in self.partners:
                raise WorkflowError("invalid", f"unknown partner {to!r}; known: "
                                    f"{', '.join(self.partners)}")
            if to == case.partner:
                raise WorkflowError("invalid", f"alert {alert_id} is already {to}'s")
            if case.state == State.RESOLVED or case.offered_to is not None:
                raise WorkflowError("conflict", f"alert {alert_id} is "
                                    + (f"already offered to {case.offered_to}"
                                       if case.offered_to else "resolved"))
            return [self._offer(case, to, actor.user, "manual", now)]

    def accept(self, alert_id: str, actor: Actor, now: float) -> list[Event]:
        with self._lock:
            case = self._offered(alert_id, actor)
            sender = case.partner
            case.partner, case.offered_to, case.escalation = actor.partner, None, 0
            case.declined_by = frozenset()
            events = [self._log(case, "alert.handover_accepted", actor.user, now,
                                {"from": sender, "to": actor.partner})]
            events.append(self._acknowledge(case, actor.user, now))
            if not case.condition_active:
                events.append(self._resolve(case, SYSTEM, "condition ended", now))
            return events

    def decline(self, alert_id: str, actor: Actor, reason: str, now: float) -> list[Event]:
        with self._lock:
            case = self._offered(alert_id, actor)
            case.offered_to = None
            case.declined_by = case.declined_by | {actor.partner}
            return [self._log(case, "alert.handover_declined", actor.user, now,
                              {"from": case.partner, "to": actor.partner,
                               "reason": reason.strip()})]

    def reopen(self, alert_id: str, actor: Actor, reason: str, now: float) -> list[Event]:
        with self._lock:
            case = self._acting_on(alert_id, actor, owner=True)
            if actor.role != Role.SUPERVISOR:
                raise WorkflowError("forbidden", "only a supervisor can reopen an alert")
            if case.state != State.RESOLVED:
                raise WorkflowError("conflict", f"alert {alert_id} is {case.state}, not resolved")
            case.state, case.resolved_by, case.resolved_at = State.ACKNOWLEDGED, None, None
            return [self._log(case, "alert.reopened", actor.user, now,
                              {"reason": reason.strip()})]

    # -- cases of other nodes
    def upsert_mirror(self, note: CaseNote, now: float) -> list[Event]:
        """Show ``note`` as the mirror of a case of ``note.origin``'s node.

        Returns the ``alert.received`` event, or [] when the mirror already shows this
        version or a newer one (JetStream delivers at least once: redeliveries are
        normal) or when the id is one of this node's own cases.  A note that answers the
        pending action counts as newer even at the same version (two requests answered
        by one step).  The answer clears ``pending``; a refusal stays in ``refused``
        until the next action is forwarded."""
        with self._lock:
            known = self._cases.get(note.id)
            if known is not None and (known.origin is None or not _newer(note, known)):
                return []
            case = mirror_case(note, known)
            self._cases[note.id] = case
            event = self._log(case, "alert.received", SYSTEM, now, {
                "id": note.id, "from": note.origin, "version": note.version,
                "state": note.state, "partner": note.partner, "offered_to": note.offered_to,
                "answers": note.answers, "refused": note.refused, "note": asdict(note)})
            case.updated_at = note.updated_at  # the origin's time of the step shown
            return [event]

    def forwarded(self, request: ActionNote, actor: Actor, now: float) -> list[Event]:
        """Mark a mirror as waiting for its origin's answer to ``request`` once
        :func:`allowed` says ``actor`` may take that action (WorkflowError otherwise)."""
        with self._lock:
            case = self._find(request.alert_id)
            if case.origin is None:
                raise WorkflowError("conflict", f"alert {case.id} is this node's own case")
            if request.action not in allowed(case, actor):
                raise _not_allowed(case, actor, request.action)
            case.pending, case.refused = request, ""
            return [self._log(case, "alert.forwarded", actor.user, now, {
                "action": request.action, "text": request.text, "origin": case.origin,
                "request": request.request, "role": request.role})]

    def forward_failed(self, alert_id: str, reason: str, now: float) -> list[Event]:
        """The forwarded action could not be sent: nothing is pending any more."""
        with self._lock:
            case = self._find(alert_id)
            request, case.pending, case.refused = case.pending, None, reason
            return [self._log(case, "alert.forward_failed", SYSTEM, now, {
                "request": request.request if request else "", "reason": reason})]

    def refuse(self, alert_id: str, actor: str, data: dict[str, Any], now: float) -> Event:
        """Record a partner's request this node refused (in the case's history when the
        case is ours; a bare event when there is no such case)."""
        with self._lock:
            case = self._cases.get(alert_id)
            if case is None or case.origin is not None:
                return Event("alert.refused", alert_id, data, actor, False, now)
            return self._log(case, "alert.refused", actor, now, data)

    def annotate(self, alert_id: str, events: list[Event], extra: dict[str, Any]
                 ) -> list[Event]:
        """``events`` (just returned for ``alert_id``) with ``extra`` added to their data,
        in the case's history too: how a request from a partner's node is marked."""
        out = [e._replace(data={**e.data, **extra}) for e in events]
        swap = {id(e): new for e, new in zip(events, out, strict=True)}
        with self._lock:
            case = self._cases.get(alert_id)
            if case is not None:
                case.history = [swap.get(id(e), e) for e in case.history]
        return out

    def discard(self, alert_id: str) -> None:
        """Forget a case (a new mirror the audit log refused: it was not received)."""
        with self._lock:
            self._cases.pop(alert_id, None)

    # -- internals (called with the lock held)
    def _find(self, alert_id: str) -> Case:
        case = self._cases.get(alert_id)
        if case is None:
            raise WorkflowError("not_found", f"no alert {alert_id!r} (resolved alerts are "
                                f"listed for {self.config.keep_resolved_s:g} s)")
        return case

    def _acting_on(self, alert_id: str, actor: Actor, *, owner: bool) -> Case:
        if not actor.role.can_act():
            raise WorkflowError("forbidden", f"{actor.user} is {actor.role.value}: "
                                "read-only users cannot act on alerts")
        case = self._find(alert_id)
        if case.origin is not None:
            raise WorkflowError("conflict", f"alert {alert_id} is a case of {case.origin}'s "
                                "node and this node has no federation link to forward "
                                "actions to it")
        if owner and actor.partner != case.partner:
            raise WorkflowError("forbidden", f"alert {alert_id} is {case.partner}'s; only "
                                f"its users can act on it ({actor.user} is {actor.partner}'s)")
        return case

    def _offered(self, alert_id: str, actor: Actor) -> Case:
        case = self._acting_on(alert_id, actor, owner=False)
        if case.offered_to is None:
            raise WorkflowError("conflict", f"alert {alert_id} is not being handed over")
        if case.offered_to != actor.partner:
            raise WorkflowError("forbidden", f"alert {alert_id} is offered to "
                                f"{case.offered_to}, not to {actor.partner}")
        return case

    def _offer(self, case: Case, to: str, actor: str, reason: str, now: float) -> Event:
        case.offered_to = to
        return self._log(case, "alert.handover_offered", actor, now,
                         {"from": case.partner, "to": to, "reason": reason})

    def _acknowledge(self, case: Case, user: str, now: float) -> Event:
        case.state, case.acknowledged_by, case.acknowledged_at = State.ACKNOWLEDGED, user, now
        return self._log(case, "alert.acknowledged", user, now,
                         {"partner": case.partner,
                          "after_s": round(now - case.alert.raised_at, 3)})

    def _resolve(self, case: Case, user: str, comment: str, now: float) -> Event:
        case.state, case.resolved_by, case.resolved_at = State.RESOLVED, user, now
        case.comment, case.offered_to = comment, None
        return self._log(case, "alert.resolved", user, now,
                         {"partner": case.partner, "comment": comment})

    def _log(self, case: Case, kind: str, actor: str, now: float, data: dict[str, Any]
             ) -> Event:
        case.updated_at = now
        event = Event(kind, case.id, data, actor, case.alert.exercise, now)
        case.history.append(event)
        return event



def mirror_case(note: CaseNote, known: Case | None) -> Case:
    """The mirror showing ``note``, following ``known`` (the mirror so far, if any): a
    note answering the pending request clears it and shows the answer's refusal; any
    other keeps the pending request and the last refusal."""
    answered = (known is not None and known.pending is not None
                and note.answers == known.pending.request)
    return Case(alert=mirror_alert(note), partner=note.partner, state=State(note.state),
                escalation=note.escalation, offered_to=note.offered_to,
                acknowledged_by=note.acknowledged_by, acknowledged_at=note.acknowledged_at,
                resolved_by=note.resolved_by, resolved_at=note.resolved_at,
                comment=note.comment, history=known.history if known is not None else [],
                origin=note.origin, note=note,
                pending=None if answered or known is None else known.pending,
                refused=note.refused if answered else known.refused if known else "")


def _newer(note: CaseNote, mirror: Case) -> bool:
    shown = mirror.note.version if mirror.note is not None else 0
    answers = (note.answers != "" and mirror.pending is not None
               and note.answers == mirror.pending.request)
    return note.version > shown or (note.version == shown and answers)


def _not_allowed(case: Case, actor: Actor, action: str) -> WorkflowError:
    """Why ``actor`` may not take ``action`` on the mirror ``case`` now."""
    if not actor.role.can_act():
        return WorkflowError("forbidden", f"{actor.user} is {actor.role.value}: read-only "
                             "users cannot act on alerts")
    if case.pending is not None:
        return WorkflowError("conflict", f"alert {case.id}: waiting for {case.origin}'s "
                             f"answer to {case.pending.action}")
    if not case.routed_to(actor.partner):
        return WorkflowError("forbidden", f"alert {case.id} is {case.partner}'s; only its "
                             f"users can act on it ({actor.user} is {actor.partner}'s)")
    return WorkflowError("conflict", f"alert {case.id} is {case.state}: {action} is not "
                         "possible now")
