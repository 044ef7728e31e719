"""A node's alerting: rules, engine and workflow run on each picture, every step audited.

:class:`AlertService` is what the node holds.  :meth:`AlertService.update` evaluates
the rules on the latest picture, feeds the engine and the workflow, and appends every
event to the audit log in one transaction before returning; :meth:`AlertService.act`
applies a duty officer's action and returns only once it is in the log, so an
acknowledgement the API confirmed is never lost.  Both run in worker threads; a lock
keeps the workflow and the log in the same order.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from skyshare.alerts.engine import AlertEngine, EngineConfig
from skyshare.alerts.rules import Airspace, Coverage, RulesConfig, evaluate
from skyshare.alerts.workflow import Case, Event, Owners, Workflow, WorkflowConfig
from skyshare.auth import Actor
from skyshare.model import TrackBatch

log = logging.getLogger("skyshare.alerts")

Action = Literal["acknowledge", "resolve", "hand_over", "accept", "decline", "reopen"]
ACTIONS: tuple[Action, ...] = ("acknowledge", "resolve", "hand_over", "accept", "decline",
                               "reopen")


class Named(Protocol):
    """An airspace volume as alerts show it (:class:`skyshare.airspace.Volume`)."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...


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
                 first_serial: int = 1) -> None:
        self.config = config
        self.volumes = tuple(volumes)  # what the airspace's volume indices refer to
        self.rules = replace(config.rules, volume_kinds=tuple(v.kind for v in self.volumes))
        self.airspace = airspace
        self.coverage = coverage
        self.engine = AlertEngine(node, config.engine, first_serial=first_serial)
        self.workflow = Workflow(config.workflow, owners)
        self.audit = audit
        self.stats = AlertStats()
        self._lock = threading.Lock()  # workflow step + its audit append, as one
        self._unwritten: list[Event] = []  # events the log refused, retried first

    def volume_name(self, index: int) -> str | None:
        """The name of volume ``index`` (None for -1, an alert not about a volume)."""
        return self.volumes[index].name if 0 <= index < len(self.volumes) else None

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

    def update(self, tracks: TrackBatch, now: float | None = None) -> list[Event]:
        """Evaluate the rules on ``tracks`` and record what changed (worker thread)."""
        now = time.time() if now is None else now
        started = time.perf_counter()
        conditions = evaluate(tracks, now, self.rules, self.airspace, self.coverage)
        with self._lock:
            changes = self.engine.update(conditions, tracks, now)
            events = self.workflow.on_changes(changes, now) + self.workflow.tick(now)
            self._record(events)
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
        """
        now = time.time() if now is None else now
        flow = self.workflow
        with self._lock:
            before = flow.get(alert_id)  # WorkflowError if there is no such alert
            if action == "acknowledge":
                events = flow.acknowledge(alert_id, actor, now)
            elif action == "resolve":
                events = flow.resolve(alert_id, actor, text, now)
            elif action == "hand_over":
                events = flow.hand_over(alert_id, actor, text.strip(), now)
            elif action == "accept":
                events = flow.accept(alert_id, actor, now)
            elif action == "decline":
                events = flow.decline(alert_id, actor, text, now)
            else:
                events = flow.reopen(alert_id, actor, text, now)
            try:
                self.audit.append_many([*self._unwritten, *events])
            except Exception:
                flow.restore(before)  # not in the log, so it did not happen
                raise
            self._unwritten = []
            self.stats.events += len(events)
        log.info("%s %s %s", actor.user, action, alert_id)
        return flow.get(alert_id)
