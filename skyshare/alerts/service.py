"""A node's alerting: rules, engine and workflow run on each picture, every step audited.

:class:`AlertService` is what the node holds.  :meth:`AlertService.update` evaluates
the rules on the latest picture, feeds the engine and the workflow, and appends every
event to the audit log in one transaction before returning; :meth:`AlertService.act`
applies a duty officer's action and returns only once it is in the log, so an
acknowledgement the API confirmed is never lost.  Both run in worker threads; a lock
keeps the workflow and the log in the same order.

Federated nodes (see :mod:`skyshare.share.alertlink`, which calls these):

- :meth:`AlertService.take_changes` gives the cases changed since the last call, and
  the partners' requests answered since, so the link can tell partners;
- an action on a mirror (a case of another node) is checked here with the same rules
  as the panel's (:func:`~skyshare.alerts.workflow.allowed`), recorded as
  ``alert.forwarded`` and handed to :attr:`AlertService.forward`; the case stays as it
  is, ``pending``, until the origin answers;
- :meth:`AlertService.apply_note` records a note from a case's origin
  (``alert.received``), :meth:`AlertService.apply_request` applies a partner's forwarded
  action to our own case as that partner's officer.  Both return only once the step is
  in the audit log (and raise if the log refused it, leaving the workflow as it was),
  because the bus acknowledges the message when they return.

After a restart, :meth:`AlertService.restore` rebuilds the cases from the audit log
(:mod:`skyshare.alerts.restore`) before the first evaluation, and
:meth:`AlertService.resend_pending` sends again the actions forwarded to partners and
not answered before the stop.  A request or note JetStream delivers again after that is
recognised (by its id in a case's history, by the note's version) and not recorded
twice; a request seen before is answered again, since its first answer may have been
lost with the stopped node's outbox.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from skyshare.alerts.engine import AlertEngine, EngineConfig
from skyshare.alerts.notes import ACTIONS, Action, ActionNote, Answer, CaseNote, ChangedCases
from skyshare.alerts.restore import CaseEntry, RestoredCases, restore_cases
from skyshare.alerts.rules import Airspace, Coverage, RulesConfig, evaluate
from skyshare.alerts.sensors import SensorAlerts, SensorCondition
from skyshare.alerts.workflow import (
    SYSTEM,
    Case,
    Event,
    Owners,
    Workflow,
    WorkflowConfig,
    WorkflowError,
)
from skyshare.auth import Actor, Role
from skyshare.model import TrackBatch

log = logging.getLogger("skyshare.alerts")

__all__ = ["ACTIONS", "Action", "AlertService", "AlertStats", "AlertsConfig"]


class Named(Protocol):
    """An airspace volume as alerts show it (:class:`skyshare.airspace.Volume`)."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...


class SensorSource(Protocol):
    """Readiness, as the alert service reads it (:class:`skyshare.readiness.Readiness`)."""

    def sensor_conditions(self, now: float) -> tuple[Sequence[SensorCondition], set[str]]:
        """The sensors silent or degraded now, and the names of all sensors judged."""
        ...


class AuditSink(Protocol):
    """Where events go (:class:`skyshare.store.audit.AuditLog`)."""

    def append_many(self, records: Iterable[Event]) -> list[Any]: ...


@dataclass(frozen=True)
class AlertsConfig:
    """The YAML ``alerts:`` section."""

    rules: RulesConfig = field(default_factory=RulesConfig)
    engine: EngineConfig = field(default_factory=EngineConfig)
    workflow: WorkflowConfig = field(default_factory=WorkflowConfig)
    coverage_nm: float = 200.0
    """Range of each placed sensor, for telling a lost transponder from leaving coverage."""
    interval_s: float = 1.0
    """How often the rules run on the latest picture."""


@dataclass
class AlertStats:
    """What the last evaluations cost and did (read by the status API)."""

    evaluations: int = 0
    last_ms: float = 0.0
    max_ms: float = 0.0
    conditions: int = 0
    raised: int = 0
    cleared: int = 0
    events: int = 0


class AlertService:
    """Rules + engine + workflow of one node, writing to its audit log."""

    def __init__(self, node: str, config: AlertsConfig, audit: AuditSink, *,
                 airspace: Airspace | None = None, volumes: Sequence[Named] = (),
                 owners: Owners | None = None, coverage: Coverage | None = None,
                 sensors: SensorSource | None = None, first_serial: int = 1) -> None:
        self.config = config
        self.volumes = tuple(volumes)  # what the airspace's volume indices refer to
        self.rules = replace(config.rules, volume_kinds=tuple(v.kind for v in self.volumes))
        self.airspace = airspace
        self.coverage = coverage
        self.engine = AlertEngine(node, config.engine, first_serial=first_serial)
        self.sensors = sensors
        self.sensor_alerts = SensorAlerts(self.engine, config.engine)
        self.workflow = Workflow(config.workflow, owners)
        self.node = node
        self.audit = audit
        self.stats = AlertStats()
        self.forward: Callable[[ActionNote], None] | None = None
        """Sends an action on a mirror to the case's origin (set by the alert link); it
        may raise WorkflowError when nothing can carry it there."""
        self.notify: Callable[[], None] | None = None
        """Called (from any thread) after an action changed a case: the link sends now."""
        self._lock = threading.Lock()  # workflow step + its audit append, as one
        self._unwritten: list[Event] = []  # events the log refused, retried first
        self._changed: set[str] = set()  # case ids changed since take_changes()
        self._answers: list[Answer] = []
        self._resend: list[ActionNote] = []  # forwarded before a restart, not answered

    def volume_name(self, index: int) -> str | None:
        """The name of volume ``index`` (None for -1, an alert not about a volume)."""
        return self.volumes[index].name if 0 <= index < len(self.volumes) else None

    @property
    def active_count(self) -> int:
        """Alerts whose condition holds (readiness alerts included)."""
        return len(self.engine.active) + len(self.sensor_alerts.active)

    @property
    def unwritten(self) -> int:
        """Events waiting for the audit log to accept them (0 when healthy)."""
        return len(self._unwritten)

    def _record(self, events: list[Event]) -> None:
        """Append ``events`` after any earlier ones the log refused; keep them on failure
        (a full disk must not lose alerts: they are retried on the next update)."""
        pending = self._unwritten + events
        if not pending:
            return
        try:
            self.audit.append_many(pending)
        except Exception:
            log.exception("audit log refused %d events; retrying on the next update",
                          len(pending))
            self._unwritten = pending
            return
        self._unwritten = []

    def restore(self, entries: Iterable[CaseEntry], now: float | None = None
                ) -> RestoredCases:
        """Rebuild the cases from the audit entries of their kinds (in seq order, see
        :func:`skyshare.alerts.restore.case_entries`); call once, before the first
        :meth:`update`.  Nothing is appended for the cases (their steps are in the log)
        but one ``alert.restored`` entry with the counts, when there was anything to
        read.  Own cases are marked changed, so partners get their current note again
        (one lost in the stopped node's outbox arrives; others are known duplicates)."""
        now = time.time() if now is None else now
        started = time.perf_counter()
        restored = restore_cases(entries, self.node, now,
                                 self.config.workflow.keep_resolved_s)
        took_ms = round((time.perf_counter() - started) * 1000, 1)
        with self._lock:
            self.engine.restore([a for a in restored.active_alerts if a.sensor is None])
            self.sensor_alerts.restore([a for a in restored.active_alerts if a.sensor])
            self.workflow.load(restored.cases)
            self._resend = list(restored.pending)
            self._changed.update(c.id for c in restored.cases if c.origin is None)
            if restored.entries:
                self._record([Event("alert.restored", self.node,
                                    {**restored.counts(), "ms": took_ms}, SYSTEM, False, now)])
        log.info("restored %d own cases (%d alerts active) and %d mirrors from %d audit "
                 "entries in %.0f ms (%d skipped)", restored.own,
                 len(restored.active_alerts), restored.mirrors, restored.entries, took_ms,
                 restored.skipped)
        return restored

    def resend_pending(self, now: float | None = None) -> int:
        """Send again (through :attr:`forward`) the actions on mirrors that were
        forwarded before the restart and not answered; one that cannot go now is
        recorded as failed, as a fresh one would be.  Returns the requests sent."""
        now = time.time() if now is None else now
        forward, sent = self.forward, 0
        with self._lock:
            requests, self._resend = self._resend, []
            if forward is None:
                return 0
            for request in requests:
                try:
                    before = self.workflow.get(request.alert_id)
                except WorkflowError:
                    continue  # gone meanwhile
                if before.pending is None or before.pending.request != request.request:
                    continue  # answered meanwhile
                try:
                    forward(request)
                    sent += 1
                except WorkflowError as exc:
                    self._commit(self.workflow.forward_failed(request.alert_id, str(exc),
                                                              now), before)
        return sent

    def update(self, tracks: TrackBatch, now: float | None = None) -> list[Event]:
        """Evaluate the rules on ``tracks`` and record what changed (worker thread)."""
        now = time.time() if now is None else now
        started = time.perf_counter()
        conditions = evaluate(tracks, now, self.rules, self.airspace, self.coverage)
        sensors = self.sensors.sensor_conditions(now) if self.sensors is not None else None
        with self._lock:
            changes = self.engine.update(conditions, tracks, now)
            if sensors is not None:
                more = self.sensor_alerts.update(*sensors, now)
                changes.raised += more.raised
                changes.cleared += more.cleared
            events = self.workflow.on_changes(changes, now) + self.workflow.tick(now)
            self._record(events)
            self._changed.update(e.subject for e in events)
        st = self.stats
        st.last_ms = (time.perf_counter() - started) * 1000
        st.max_ms = max(st.max_ms, st.last_ms)
        st.evaluations += 1
        st.conditions = len(conditions)
        st.raised += len(changes.raised)
        st.cleared += len(changes.cleared)
        st.events += len(events)
        return events

    def act(self, action: Action, alert_id: str, actor: Actor, *, text: str = "",
            now: float | None = None) -> Case:
        """Apply a user's action; returns the case once the step is in the audit log.

        ``text`` is the comment (resolve), the partner (hand_over) or the reason
        (decline, reopen).  Raises :class:`~skyshare.alerts.workflow.WorkflowError`.
        On a mirror (with :attr:`forward` set) the action is checked, recorded as
        forwarded and sent to the case's origin: the case comes back unchanged but for
        ``pending``, and changes when the origin's answer arrives.
        """
        now = time.time() if now is None else now
        flow = self.workflow
        with self._lock:
            before = flow.get(alert_id)  # WorkflowError if there is no such alert
            if before.origin is not None and self.forward is not None:
                return self._forward(action, before, actor, text, now)
            events = self._apply(action, alert_id, actor, text, now)
            self._commit(events, before)
            self._changed.add(alert_id)
        log.info("%s %s %s", actor.user, action, alert_id)
        self._notify()
        return flow.get(alert_id)

    def _apply(self, action: Action, alert_id: str, actor: Actor, text: str, now: float
               ) -> list[Event]:
        flow = self.workflow
        if action == "acknowledge":
            return flow.acknowledge(alert_id, actor, now)
        if action == "resolve":
            return flow.resolve(alert_id, actor, text, now)
        if action == "hand_over":
            return flow.hand_over(alert_id, actor, text.strip(), now)
        if action == "accept":
            return flow.accept(alert_id, actor, now)
        if action == "decline":
            return flow.decline(alert_id, actor, text, now)
        return flow.reopen(alert_id, actor, text, now)

    def _commit(self, events: list[Event], before: Case | None, alert_id: str = "") -> None:
        """Append ``events`` (after any the log refused earlier); if the log refuses
        them, put the case back as it was ``before`` (None: it did not exist) and raise:
        not in the log, so it did not happen."""
        try:
            self.audit.append_many([*self._unwritten, *events])
        except Exception:
            if before is not None:
                self.workflow.restore(before)
            else:
                self.workflow.discard(alert_id)
            raise
        self._unwritten = []
        self.stats.events += len(events)

    def _notify(self) -> None:
        if self.notify is not None:
            self.notify()

    # -- federation: mirrors, forwarded actions and answers
    def _forward(self, action: Action, case: Case, actor: Actor, text: str, now: float
                 ) -> Case:
        """An action on a mirror: recorded as forwarded, then sent to the case's origin
        (called with the lock held)."""
        assert self.forward is not None
        request = ActionNote(request=f"{self.node}-{uuid.uuid4().hex[:16]}", alert_id=case.id,
                             action=action, user=actor.user, role=actor.role.value,
                             text=text, time=now)
        self._commit(self.workflow.forwarded(request, actor, now), case)
        try:
            self.forward(request)
        except WorkflowError as exc:  # no agreement carries it: say so, and why
            self._commit(self.workflow.forward_failed(case.id, str(exc), now), case)
            raise
        log.info("%s %s %s: forwarded to %s", actor.user, action, case.id, case.origin)
        return self.workflow.get(case.id)

    def take_changes(self) -> ChangedCases:
        """Case ids changed, and partners' requests answered, since the last call."""
        with self._lock:
            changed = ChangedCases(frozenset(self._changed), tuple(self._answers))
            self._changed, self._answers = set(), []
        return changed

    def apply_note(self, note: CaseNote, now: float | None = None) -> list[Event]:
        """Show a note from a case's origin as a mirror (``alert.received``, once per
        version: [] for a redelivery).  Raises if the audit log refuses it."""
        now = time.time() if now is None else now
        with self._lock:
            try:
                before: Case | None = self.workflow.get(note.id)
            except WorkflowError:
                before = None
            events = self.workflow.upsert_mirror(note, now)
            if events:
                self._commit(events, before, note.id)
        return events

    def apply_request(self, request: ActionNote, partner: str, now: float | None = None
                      ) -> list[Event]:
        """Apply ``partner``'s forwarded action to our case, as that partner's officer
        ``user@partner`` (its node vouches for the user; the workflow's rules still
        apply); a refusal is recorded as ``alert.refused``.  Either way the answer goes
        back to ``partner`` with the case's next note.  A request seen before (a
        redelivery) does nothing.  Raises if the audit log refuses the step."""
        now = time.time() if now is None else now
        actor = Actor(f"{request.user}@{partner}", partner, Role(request.role))
        mark = {"via": partner, "request": request.request}
        flow = self.workflow
        with self._lock:
            try:
                before: Case | None = flow.get(request.alert_id)
            except WorkflowError:
                before = None
            seen = _answer_given(before, request.request) if before is not None else None
            if seen is not None:  # a redelivery: answered again, not applied again
                self._changed.add(request.alert_id)
                self._answers.append(Answer(request.alert_id, partner, request.request, seen))
                return []
            refused = ""
            try:
                if before is not None and before.origin is not None:
                    raise WorkflowError("conflict", f"alert {before.id} is a case of "
                                        f"{before.origin}'s node, not of this one")
                events = self._apply(request.action, request.alert_id, actor, request.text,
                                     now)
                events = flow.annotate(request.alert_id, events, mark)
            except WorkflowError as exc:
                refused = str(exc)
                events = [flow.refuse(request.alert_id, actor.user, {
                    "action": request.action, "text": request.text, "reason": refused,
                    "problem": exc.problem, **mark}, now)]
            self._commit(events, before, request.alert_id)
            self._changed.add(request.alert_id)
            self._answers.append(Answer(request.alert_id, partner, request.request, refused))
        log.info("%s %s %s via %s: %s", actor.user, request.action, request.alert_id, partner,
                 refused or "done")
        return events


def _answer_given(case: Case, request: str) -> str | None:
    """How ``case``'s origin answered ``request`` before: None if it never saw it, ""
    if it was done, the reason if it was refused."""
    for event in case.history:
        if event.data.get("request") == request:
            reason = event.data.get("reason", "") if event.kind == "alert.refused" else ""
            return reason if isinstance(reason, str) else ""
    return None
