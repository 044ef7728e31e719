"""Cases rebuilt from the audit log after a restart: the same cases as before the stop,
alerts re-adopted instead of raised twice, redeliveries recorded once, and an audit
log that does not parse never stopping a node from starting."""

from __future__ import annotations

import contextlib
import json
import math
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from alert_scene import (  # tests/alerts, on sys.path for its tests
    EAST_DUTY,
    HOME_DUTY,
    REGIONS,
    T0,
    WEST_DUTY,
    WEST_RO,
    WEST_SUP,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skyshare.alerts.engine import EngineConfig
from skyshare.alerts.notes import ActionNote, CaseNote
from skyshare.alerts.restore import CASE_KINDS, case_entries, restore_cases, track_row
from skyshare.alerts.service import AlertsConfig, AlertService
from skyshare.alerts.workflow import (
    Case,
    Event,
    State,
    WorkflowConfig,
    WorkflowError,
    track_json,
)
from skyshare.auth import Actor, Role
from skyshare.model import NO_ADDRESS, SourceKind, TrackFlag, empty_tracks
from skyshare.store.audit import AuditEntry, AuditLog

ACTORS = [WEST_DUTY, WEST_SUP, WEST_RO, EAST_DUTY, HOME_DUTY]
LON = {"west": 5.0, "east": 15.0, "home": 25.0}


def squawking(lons: list[float], squawks: list[int], *, first_id: int = 1,
              address: bool = True) -> np.ndarray:
    t = empty_tracks(len(lons))
    t["track_id"] = np.arange(first_id, first_id + len(lons))
    t["icao24"] = 0x3C0000 + np.arange(len(lons)) if address else NO_ADDRESS
    t["squawk"] = squawks
    t["callsign"] = b"DLH4AB"
    t["lat"], t["lon"], t["alt"] = 45.0, lons, 30000
    t["vertical_rate"] = 0
    t["last_pos"] = T0
    t["sensors"] = np.uint64(1)
    t["sources"] = 1 << SourceKind.ADSB
    t["flags"] = TrackFlag.CONFIRMED | TrackFlag.HAS_POSITION
    return t


def service(audit: AuditLog, *, keep_resolved_s: float = 1e9) -> AlertService:
    config = AlertsConfig(
        engine=EngineConfig(confirm_updates=1, clear_after_s=5),
        workflow=WorkflowConfig(partner="home", escalate_after_s=(30.0, 90.0),
                                keep_resolved_s=keep_resolved_s))
    return AlertService("n1", config, audit, owners=REGIONS,
                        first_serial=audit.head()[0] + 1)


@contextmanager
def audit_log() -> Iterator[AuditLog]:
    with tempfile.TemporaryDirectory() as tmp, AuditLog(Path(tmp) / "audit.sqlite",
                                                        "n1") as log:
        yield log


def restarted(audit: AuditLog, now: float, **kw: Any) -> AlertService:
    """A fresh service on ``audit``, restored as a node restores it at start."""
    fresh = service(audit, **kw)
    fresh.restore(case_entries(audit), now)
    return fresh


def restored_from(log: AuditLog, now: float) -> AlertService:
    """A fresh service restored from ``log``'s entries, leaving the log as it is."""
    fresh = service(log)
    cases = restore_cases(case_entries(log), "n1", now, 1e9)
    fresh.workflow.load(cases.cases)
    return fresh


def mirror_note(k: int, version: int, now: float, *, state: str = "new",
                partner: str = "west", offered_to: str | None = None, answers: str = "",
                refused: str = "") -> CaseNote:
    acked = state != "new"
    return CaseNote(
        id=f"central-node-{k}", version=version, origin="central", rule="squawk_7700",
        label="Squawk 7700: emergency", track_id=k, icao24=0x3C6400 + k, callsign="BAW12",
        squawk=7700, volume=None, value=None, verified=True, exercise=False,
        raised_at=T0 - 5, cleared_at=None, lat=45.0, lon=5.0, alt=31000.0,
        condition_active=True, state=state, partner=partner, offered_to=offered_to,
        escalation=0, acknowledged_by="wanda@west" if acked else None,
        acknowledged_at=now if acked else None,
        resolved_by="system" if state == "resolved" else None,
        resolved_at=now if state == "resolved" else None, comment="", updated_at=now,
        answers=answers, refused=refused)


def kinds(events: list[Event]) -> list[str]:
    """The kinds of ``events``, escalations left out."""
    return [e.kind for e in events if e.kind != "alert.escalated"]


def same_json(value: Any) -> Any:
    return json.loads(json.dumps(value))


def shown(case: Case, *, latest: bool) -> dict[str, Any]:
    """What a restore must give back of ``case``.  Not compared: ``region`` (a crossing
    nobody was offered is not in the log) and, while its condition holds, an own
    alert's latest state and value (the log keeps them as raised and as cleared)."""
    alert = case.alert
    return {
        "id": case.id, "state": case.state, "partner": case.partner,
        "offered_to": case.offered_to, "declined_by": case.declined_by,
        "escalation": case.escalation, "acknowledged": (case.acknowledged_by,
                                                        case.acknowledged_at),
        "resolved": (case.resolved_by, case.resolved_at), "comment": case.comment,
        "updated_at": case.updated_at, "origin": case.origin, "pending": case.pending,
        "refused": case.refused, "note": case.note,
        "history": [(e.kind, e.subject, e.actor, e.exercise, e.time, same_json(e.data))
                    for e in case.history],
        "alert": (alert.rule, alert.track_id, alert.volume, alert.raised_at, alert.verified,
                  alert.exercise, alert.cleared_at, track_json(alert.evidence)),
        "latest": (track_json(alert.latest), None if math.isnan(alert.value)
                   else alert.value) if latest else None}


def assert_same_cases(live: AlertService, back: AlertService) -> None:
    before = {c.id: c for c in live.workflow.cases()}
    after = {c.id: c for c in back.workflow.cases()}
    assert before.keys() == after.keys()
    for key, case in before.items():
        latest = case.origin is not None or not case.condition_active
        assert shown(after[key], latest=latest) == shown(case, latest=latest), key


# --------------------------------------------------------------------------- replay
OWN_ACTIONS = ["acknowledge", "resolve", "hand_over", "accept", "decline", "reopen"]
STEP = st.tuples(
    st.sampled_from([*OWN_ACTIONS, *OWN_ACTIONS, "move", "quiet", "squawk", "note",
                     "mirror_act", "mirror_act", "request", "again"]),
    st.sampled_from([None, None, None, *ACTORS]),  # None: an officer entitled to act
    st.sampled_from([0, 0, 0, 1, 2]),  # mostly one case, so that it gets far
    st.sampled_from(["west", "east", "home"]), st.integers(1, 40), st.booleans())
MIRROR_ACTIONS = ["acknowledge", "hand_over", "resolve", "accept", "decline"]


def entitled(case: Case, action: str) -> Actor:
    """An officer of the partner that may take ``action`` on ``case`` now."""
    partner = (case.offered_to or case.partner) if action in ("accept", "decline") \
        else case.partner
    role = Role.SUPERVISOR if action == "reopen" else Role.DUTY_OFFICER
    return Actor(f"{partner}-{role.value}", partner, role)


class Random:
    """Random actions by random (or entitled) users on a live service, notes from a
    partner's node about its cases and requests from partners about ours."""

    def __init__(self, live: AlertService) -> None:
        self.live, self.now = live, T0
        self.lons, self.squawks = [5.0, 9.9, 15.0], [7700, 7700, 7600]
        self.versions = [0, 0, 0]
        self.requests: list[tuple[ActionNote, str]] = []
        self.refuse_forward = False
        live.forward = self._forward
        live.update(squawking(self.lons, self.squawks), self.now)
        for k in range(3):  # and three cases of central's node, shown here as mirrors
            self._note(k, "west", 1, False)

    def _forward(self, request: ActionNote) -> None:
        if self.refuse_forward:
            raise WorkflowError("conflict", "no agreement carries it")

    def case(self, k: int, *, mirror: bool = False) -> Case | None:
        found = sorted((c for c in self.live.workflow.cases()
                        if (c.origin is not None) == mirror), key=lambda c: c.id)
        return found[k % len(found)] if found else None

    def step(self, action: str, actor: Actor | None, k: int, partner: str, dt: int,
             flag: bool) -> None:
        self.now += dt
        if action in ("move", "quiet", "squawk"):
            if action == "move":
                self.lons[k] = LON[partner]
            else:
                self.squawks[k] = 7700 if action == "squawk" else 1000
            self.live.update(squawking(self.lons, self.squawks), self.now)
        elif action == "note":
            self._note(k, partner, dt, flag)
        elif action in ("request", "again"):
            self._request(action, actor, k, partner, dt, flag)
        else:
            mirror = action == "mirror_act"
            case = self.case(k, mirror=mirror)
            if case is None:
                return
            if mirror:
                action, self.refuse_forward = MIRROR_ACTIONS[dt % 5], flag
            text = {"resolve": " " if flag and actor else "done", "hand_over": partner,
                    "decline": "no", "reopen": "again"}.get(action, "")
            with contextlib.suppress(WorkflowError):
                self.live.act(action, case.id, actor or entitled(case, action),  # type: ignore[arg-type]
                              text=text, now=self.now)

    def _note(self, k: int, partner: str, dt: int, flag: bool) -> None:
        """A note from central's node; not newer than the last one half of the time
        (a redelivery), answering the pending request when ``flag``."""
        self.versions[k] += dt % 2
        known = [c for c in self.live.workflow.cases() if c.id == f"central-node-{k}"]
        request = known[0].pending.request if known and known[0].pending else ""
        self.live.apply_note(mirror_note(
            k, max(self.versions[k], 1), self.now, state=["new", "acknowledged",
                                                          "resolved"][dt % 3],
            partner=partner, offered_to="east" if dt % 5 == 0 else None,
            answers=request if flag else "", refused="no" if dt % 7 == 0 else ""), self.now)

    def _request(self, action: str, actor: Actor | None, k: int, partner: str, dt: int,
                 flag: bool) -> None:
        if action == "again" and self.requests:  # a redelivery: answered, not applied
            request, via = self.requests[k % len(self.requests)]
        else:
            case = self.case(k)
            if case is None:
                return
            what = ["acknowledge", "resolve", "hand_over", "accept", "decline"][dt % 5]
            who = actor or entitled(case, what)
            text = {"resolve": "done" if flag else "", "hand_over": partner}.get(what, "")
            request = ActionNote(f"{who.partner}-node-{len(self.requests)}", case.id,
                                 what, who.user, who.role.value, text, self.now)  # type: ignore[arg-type]
            via = who.partner
            self.requests.append((request, via))
        self.live.apply_request(request, via, self.now)


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(STEP, min_size=10, max_size=40))
def test_restored_cases_equal_the_live_ones(steps: list[tuple[Any, ...]]) -> None:
    """Random actions by random users, notes and requests from partners, forwards that
    fail; then a fresh service restored from the log has the same cases."""
    with audit_log() as log:
        run = Random(service(log))
        for step in steps:
            run.step(*step)
        back = restarted(log, run.now)
        assert_same_cases(run.live, back)
        (summary,) = log.entries(kind="alert.restored")
        assert summary.data["own"] + summary.data["mirrors"] == len(back.workflow.cases())
        assert summary.data["skipped"] == 0


def test_every_kind_of_step_comes_back() -> None:
    """One case through every step the workflow records (and mirrors through every
    step of theirs): after each step, the restored cases equal the live ones."""
    with audit_log() as log:
        live = service(log)
        forwards: list[ActionNote] = []
        live.forward = forwards.append
        unplaced = squawking([15.0, 5.0], [7700, 7500])
        unplaced["lat"][0] = unplaced["lon"][0] = np.nan  # no position yet: home's
        live.update(unplaced, T0)
        case, other = sorted(live.workflow.cases(), key=lambda c: c.alert.track_id)
        east = Actor("erin", "east", Role.DUTY_OFFICER)
        home = Actor("hal", "home", Role.DUTY_OFFICER)
        steps = [
            lambda t: live.update(squawking([15.0, 5.0], [7700, 7500]), t),  # routed east
            lambda t: live.update(squawking([15.0, 5.0], [7700, 7500]), t),  # escalated
            lambda t: live.update(squawking([25.0, 5.0], [7700, 7500]), t),  # offered home
            lambda t: live.act("decline", case.id, home, text="not ours", now=t),
            lambda t: live.act("hand_over", case.id, east, text="west", now=t),
            lambda t: live.act("accept", case.id, WEST_DUTY, now=t),
            lambda t: live.act("resolve", case.id, WEST_DUTY, text="landed", now=t),
            lambda t: live.act("reopen", case.id, WEST_SUP, text="squawk again", now=t),
            lambda t: live.apply_request(ActionNote("west-node-1", case.id, "resolve", "w",
                                                    "duty_officer", "", t), "west", t),
            lambda t: live.update(squawking([25.0, 5.0], [1000, 7500]), t),
            lambda t: live.update(squawking([25.0, 5.0], [1000, 7500]), t),  # cleared
            lambda t: live.act("acknowledge", other.id, WEST_DUTY, now=t),
            lambda t: live.apply_note(mirror_note(1, 1, t), t),
            lambda t: live.apply_note(mirror_note(2, 1, t), t),
            lambda t: live.act("acknowledge", "central-node-1", WEST_DUTY, now=t),
            lambda t: live.act("hand_over", "central-node-2", WEST_DUTY, text="east", now=t),
            lambda t: live.apply_note(mirror_note(1, 2, t, state="acknowledged",
                                                  answers=forwards[0].request), t),
            lambda t: live.act("resolve", "central-node-1", WEST_DUTY, text="ok", now=t)]
        for i, step in enumerate(steps):  # a restart could come after any of them
            step(T0 + 40 * (i + 1))
            assert_same_cases(live, restored_from(log, T0 + 40 * (i + 1)))
        live.apply_note(mirror_note(3, 1, T0 + 990), T0 + 990)

        def nowhere(request: ActionNote) -> None:
            raise WorkflowError("conflict", "no agreement in force")
        live.forward = nowhere
        with pytest.raises(WorkflowError, match="no agreement"):
            live.act("acknowledge", "central-node-3", WEST_DUTY, now=T0 + 1000)
        assert {e.kind for e in log.entries()} >= set(CASE_KINDS)
        back = restarted(log, T0 + 1000)
        assert_same_cases(live, back)
        restored = back.workflow.get(case.id)
        assert (restored.partner, restored.state, restored.comment) == (
            "west", State.RESOLVED, "condition ended")
        assert "alert.handover_declined" in [e.kind for e in restored.history]
        assert "no agreement" in back.workflow.get("central-node-3").refused
        assert back.workflow.get("central-node-2").pending == forwards[1]
        assert back.workflow.get("central-node-1").pending == forwards[2]


# --------------------------------------------------------------------------- engine
def test_an_active_alert_is_readopted_by_address_not_raised_twice() -> None:
    with audit_log() as log:
        live = service(log)
        live.update(squawking([5.0], [7700]), T0)
        (before,) = live.workflow.cases()
        live.act("acknowledge", before.id, WEST_DUTY, now=T0 + 1)

        back = restarted(log, T0 + 60)
        (case,) = back.workflow.cases()
        assert case.alert.restored and case.condition_active
        assert (case.state, case.acknowledged_by) == (State.ACKNOWLEDGED, "wanda")
        again = squawking([5.5], [7700], first_id=77)  # a new track id after the restart
        assert [e.kind for e in back.update(again, T0 + 61)] == []
        (case,) = back.workflow.cases()
        assert (case.id, case.alert.track_id, case.alert.restored) == (before.id, 77, False)
        assert float(case.alert.latest["lon"]) == 5.5
        assert len(back.engine.active) == 1
        # once re-adopted, it clears like any alert
        kinds = [e.kind for e in back.update(squawking([5.5], [1000], first_id=77), T0 + 70)]
        assert kinds == ["alert.cleared", "alert.resolved"]


def test_a_restored_alert_clears_once_its_aircraft_is_seen_without_the_condition() -> None:
    with audit_log() as log:
        live = service(log)
        live.update(squawking([5.0, 6.0], [7700, 7600]), T0)
        back = restarted(log, T0 + 60)
        quiet = squawking([5.0], [1000], first_id=40)  # the first aircraft, squawk reset
        assert "alert.cleared" not in kinds(back.update(quiet, T0 + 61))  # seen once
        assert kinds(back.update(quiet, T0 + 66)) == ["alert.cleared"]
        by_rule = {c.alert.rule.name: c for c in back.workflow.cases()}
        assert not by_rule["SQUAWK_7700"].condition_active
        assert by_rule["SQUAWK_7600"].condition_active  # its aircraft is not in the picture
        assert by_rule["SQUAWK_7600"].alert.restored


def test_an_alert_without_an_address_cannot_be_matched_and_stays_open() -> None:
    with audit_log() as log:
        live = service(log)
        live.update(squawking([5.0], [7700], address=False), T0)
        back = restarted(log, T0 + 60)
        (old,) = back.workflow.cases()
        assert old.condition_active and old.alert.restored
        again = squawking([5.0], [7700], first_id=9, address=False)
        assert kinds(back.update(again, T0 + 61)) == ["alert.raised"]  # nothing ties them
        assert back.workflow.get(old.id).condition_active


def test_escalations_due_while_the_node_was_down_come_at_the_first_evaluation() -> None:
    with audit_log() as log:
        live = service(log)
        live.update(squawking([5.0], [7700]), T0)
        back = restarted(log, T0 + 100)
        kinds = [e.kind for e in back.update(squawking([5.0], [7700], first_id=3), T0 + 100)]
        assert kinds == ["alert.escalated"]
        (case,) = back.workflow.cases()
        assert case.escalation == 1  # one step per evaluation, as before a restart
        back.update(squawking([5.0], [7700], first_id=3), T0 + 101)
        assert back.workflow.get(case.id).escalation == 2


def test_ids_go_on_after_the_restored_ones() -> None:
    with audit_log() as log:
        live = service(log)
        live.update(squawking([5.0], [7700]), T0)
        back = restarted(log, T0 + 10)
        back.update(squawking([5.0, 15.0], [7700, 7500], first_id=20), T0 + 11)
        ids = [c.id for c in back.workflow.cases()]
        assert len(ids) == len(set(ids)) == 2


# --------------------------------------------------------------------------- keeping
def test_resolved_cases_older_than_keep_resolved_are_not_restored() -> None:
    with audit_log() as log:
        live = service(log)
        live.update(squawking([5.0, 6.0], [7700, 7700]), T0)
        first, second = sorted(c.id for c in live.workflow.cases())
        live.act("acknowledge", first, WEST_DUTY, now=T0 + 1)
        live.act("resolve", first, WEST_DUTY, text="landed", now=T0 + 2)
        live.act("acknowledge", second, WEST_DUTY, now=T0 + 3)
        live.act("resolve", second, WEST_DUTY, text="landed", now=T0 + 50)
        back = restarted(log, T0 + 100, keep_resolved_s=60)
        assert [c.id for c in back.workflow.cases()] == [second]
        (summary,) = log.entries(kind="alert.restored")
        assert (summary.data["own"], summary.data["expired"]) == (1, 1)


def test_a_fresh_log_records_no_restore() -> None:
    with audit_log() as log:
        restarted(log, T0)
        assert list(log.entries()) == []


# --------------------------------------------------------------------------- federation
def test_a_redelivered_note_is_not_recorded_again_after_a_restart() -> None:
    with audit_log() as log:
        live = service(log)
        live.apply_note(mirror_note(1, 1, T0), T0)
        live.apply_note(mirror_note(1, 2, T0 + 1, state="acknowledged"), T0 + 1)
        back = restarted(log, T0 + 10)
        count = len(list(log.entries()))
        assert back.apply_note(mirror_note(1, 2, T0 + 1, state="acknowledged"), T0 + 11) == []
        assert back.apply_note(mirror_note(1, 1, T0), T0 + 11) == []
        assert len(list(log.entries())) == count
        assert [e.kind for e in back.apply_note(mirror_note(1, 3, T0 + 12, state="resolved"),
                                                T0 + 12)] == ["alert.received"]
        case = back.workflow.get("central-node-1")
        assert (case.state, case.version) == (State.RESOLVED, 3)
        assert [e.kind for e in case.history] == ["alert.received"] * 3


def test_a_redelivered_request_is_answered_again_not_applied_again() -> None:
    with audit_log() as log:
        live = service(log)
        live.update(squawking([5.0], [7700]), T0)
        (case,) = live.workflow.cases()
        request = ActionNote("west-node-r1", case.id, "acknowledge", "wanda", "duty_officer",
                             "", T0 + 1)
        live.apply_request(request, "west", T0 + 1)
        refused = replace(request, request="west-node-r2", action="resolve", text="")
        live.apply_request(refused, "west", T0 + 2)
        back = restarted(log, T0 + 10)
        back.take_changes()
        count = len(list(log.entries()))
        assert back.apply_request(request, "west", T0 + 11) == []
        assert back.apply_request(refused, "west", T0 + 11) == []
        assert len(list(log.entries())) == count  # nothing applied or recorded twice
        answers = back.take_changes().answers
        assert [(a.request, a.refused != "") for a in answers] == [("west-node-r1", False),
                                                                   ("west-node-r2", True)]
        assert "comment" in answers[1].refused


def test_an_unanswered_forward_is_pending_again_and_sent_again() -> None:
    with audit_log() as log:
        live = service(log)
        sent: list[ActionNote] = []
        live.forward = sent.append
        for k in (1, 2, 3):
            live.apply_note(mirror_note(k, 1, T0), T0)
            live.act("acknowledge", f"central-node-{k}", WEST_DUTY, now=T0 + k)
        live.apply_note(mirror_note(3, 2, T0 + 5, state="acknowledged",
                                    answers=sent[2].request), T0 + 5)
        back = restarted(log, T0 + 10)
        assert back.workflow.get("central-node-1").pending == sent[0]
        assert back.workflow.get("central-node-3").pending is None
        again: list[ActionNote] = []

        def forward(request: ActionNote) -> None:
            if request.alert_id == "central-node-2":
                raise WorkflowError("conflict", "no agreement in force")
            again.append(request)

        back.forward = forward
        assert back.resend_pending(T0 + 11) == 1
        assert again == [sent[0]]  # the same request id: the origin knows it if it got it
        failed = back.workflow.get("central-node-2")
        assert failed.pending is None and "no agreement" in failed.refused
        assert failed.history[-1].kind == "alert.forward_failed"
        assert back.resend_pending(T0 + 12) == 0  # once


# --------------------------------------------------------------------------- bad logs
def entry(seq: int, kind: str, subject: str, data: dict[str, Any], *, actor: str = "system",
          t: float = T0) -> AuditEntry:
    return AuditEntry(seq, t + seq, "n1", kind, subject, actor, False, data, "", "")


def test_an_old_received_entry_without_its_note_is_skipped_and_counted() -> None:
    with audit_log() as log:
        live = service(log)
        live.update(squawking([5.0], [7700]), T0)
        entries = [e for e in log.entries() if e.kind != "alert.restored"]
        raised = entries[0].data
        old_raised = {k: v for k, v in raised.items() if k != "region"}
    old = [entry(1, "alert.raised", "n1-1", old_raised),
           entry(2, "alert.received", "central-node-1", {"id": "central-node-1",
                                                         "version": 1}),
           entry(3, "alert.forwarded", "central-node-1", {"action": "acknowledge"})]
    restored = restore_cases(old, "n1", T0 + 10, 3600)
    assert (restored.own, restored.mirrors, restored.skipped) == (1, 0, 1)
    (case,) = restored.cases
    assert (case.partner, case.region) == ("west", "west")  # it had a position


JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**40, 2**40)
                    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)
KEYS = ["rule", "evidence", "partner", "region", "value", "verified", "track_id", "volume",
        "latest", "to", "reason", "level", "comment", "note", "action", "request", "text",
        "role", "id", "version"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_data_in_any_entry_restores_or_is_skipped_never_raises(data: st.DataObject
                                                                   ) -> None:
    """Valid entries with fields replaced by anything JSON can hold: the restore never
    raises; what it gives back are well-formed cases."""
    with audit_log() as log:
        live = service(log)
        live.forward = lambda request: None
        live.update(squawking([5.0, 15.0], [7700, 7700]), T0)
        live.apply_note(mirror_note(1, 1, T0), T0)
        ids = sorted(c.id for c in live.workflow.cases() if c.origin is None)
        live.act("hand_over", ids[0], WEST_DUTY, text="east", now=T0 + 1)
        live.act("acknowledge", "central-node-1", WEST_DUTY, now=T0 + 2)
        good = list(log.entries())
    hostile = []
    for e in good:
        payload = dict(e.data)
        for key in data.draw(st.lists(st.sampled_from(KEYS), max_size=3)):
            payload[key] = data.draw(JSON)
        if isinstance(payload.get("note"), dict) and payload["note"]:
            note = dict(payload["note"])
            note[data.draw(st.sampled_from(sorted(note)))] = data.draw(JSON)
            payload["note"] = note
        hostile.append(replace(e, kind=data.draw(st.sampled_from([e.kind, *CASE_KINDS])),
                               data=payload))
    restored = restore_cases(hostile, "n1", T0 + 10, 3600)
    assert restored.entries == len(hostile) and 0 <= restored.skipped <= len(hostile)
    for case in restored.cases:
        assert case.state in State and case.alert.evidence.dtype == empty_tracks(1).dtype
        assert all(e.subject == case.id for e in case.history)


@given(st.dictionaries(st.sampled_from(["lat", "lon", "alt", "icao24", "squawk", "callsign",
                                        "flags", "track_id", "bogus"]), JSON))
def test_track_row_takes_any_json_or_says_no(doc: dict[str, Any]) -> None:
    try:
        row = track_row(doc)
    except ValueError:
        return
    assert row.dtype == empty_tracks(1).dtype


# --------------------------------------------------------------------------- speed
@pytest.mark.slow
def test_restoring_100k_entries_takes_seconds_not_minutes(tmp_path: Path) -> None:
    """A busy node's log: 21k cases of five steps each (raised, escalated twice,
    acknowledged, resolved), a fifth of them still open: 100,800 entries."""
    with AuditLog(tmp_path / "audit.sqlite", "n1") as log:
        live = service(log)
        live.update(squawking([5.0], [7700]), T0)
        (raised,) = [e for e in log.entries() if e.kind == "alert.raised"]
        rows = []
        for i in range(21_000):
            t, sid = T0 + i, f"n1-{100 + i}"
            rows += [("alert.raised", sid, raised.data, "system", False, t),
                     ("alert.escalated", sid, {"level": 1, "to": "supervisor",
                                               "partner": "west"}, "system", False, t + 30),
                     ("alert.escalated", sid, {"level": 2, "to": "supervisor",
                                               "partner": "west"}, "system", False, t + 90),
                     ("alert.acknowledged", sid, {"partner": "west", "after_s": 95.0},
                      "wanda", False, t + 95)]
            if i % 5:
                rows.append(("alert.resolved", sid, {"partner": "west", "comment": "ok"},
                             "wanda", False, t + 99))
        for start in range(0, len(rows), 10_000):
            log.append_many(rows[start:start + 10_000])
        started = time.perf_counter()
        back = restarted(log, T0 + 30_000)
        took = time.perf_counter() - started
    assert len(rows) == 100_800
    assert len(back.workflow.cases()) == 21_000 + 1
    assert sum(c.state == State.ACKNOWLEDGED for c in back.workflow.cases()) == 4200
    assert took < 30, f"restoring {len(rows)} entries took {took:.1f} s"
