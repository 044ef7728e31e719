"""The duty workflow, fed by the real rules, engine and responsibility regions."""

from __future__ import annotations

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
from hypothesis import given, settings
from hypothesis import strategies as st

from skyshare.alerts.engine import Alert, AlertEngine, EngineConfig
from skyshare.alerts.rules import RulesConfig, evaluate
from skyshare.alerts.workflow import State, Workflow, WorkflowConfig, WorkflowError
from skyshare.auth import Actor
from skyshare.model import SourceKind, TrackFlag, empty_tracks
from skyshare.store.audit import AuditLog, verify


def squawking(lons: list[float], squawk: int = 7700, exercise: bool = False) -> np.ndarray:
    t = empty_tracks(len(lons))
    t["track_id"] = np.arange(1, len(lons) + 1)
    t["icao24"] = 0x3C0000 + np.arange(len(lons))
    t["squawk"] = squawk
    t["lat"], t["lon"], t["alt"] = 45.0, lons, 30000
    t["vertical_rate"] = 0
    t["last_pos"] = T0
    t["sensors"] = np.uint64(1)
    t["sources"] = 1 << SourceKind.ADSB
    if exercise:
        t["flags"] |= np.uint16(TrackFlag.EXERCISE)
    return t


class Desk:
    """Engine plus workflow, stepped like the node steps them."""

    def __init__(self, config: WorkflowConfig | None = None) -> None:
        self.engine = AlertEngine("n1", EngineConfig(confirm_updates=1, clear_after_s=5))
        self.flow = Workflow(config or WorkflowConfig(partner="home"), REGIONS)

    def step(self, tracks: np.ndarray, now: float) -> list[str]:
        changes = self.engine.update(evaluate(tracks, now, RulesConfig()), tracks, now)
        events = self.flow.on_changes(changes, now) + self.flow.tick(now)
        return [e.kind for e in events]


def raise_one(lon: float, desk: Desk | None = None, **kw: object) -> tuple[Desk, Alert]:
    desk = desk or Desk()
    desk.step(squawking([lon], **kw), T0)  # type: ignore[arg-type]
    (alert,) = desk.engine.active
    return desk, alert


def test_an_alert_goes_to_the_partner_responsible_for_where_it_happens() -> None:
    desk = Desk()
    assert desk.step(squawking([5.0, 15.0, 25.0]), T0) == ["alert.raised"] * 3
    owners = {c.alert.track_id: c.partner for c in desk.flow.cases()}
    assert owners == {1: "west", 2: "east", 3: "home"}  # outside every region: the node's own
    assert [c.alert.track_id for c in desk.flow.cases(partner="east")] == [2]
    raised = desk.flow.get(desk.flow.cases(partner="west")[0].id).history[0]
    assert raised.data["partner"] == "west" and raised.data["rule"] == "squawk_7700"
    assert raised.data["evidence"]["squawk"] == 7700 and raised.actor == "system"


def test_new_acknowledged_resolved_only_by_the_owning_partners_officers() -> None:
    desk, alert = raise_one(5.0)
    with pytest.raises(WorkflowError) as exc:
        desk.flow.acknowledge(alert.id, EAST_DUTY, T0 + 1)
    assert exc.value.problem == "forbidden" and "west's" in str(exc.value)
    with pytest.raises(WorkflowError, match="read-only") as exc:
        desk.flow.acknowledge(alert.id, WEST_RO, T0 + 1)
    with pytest.raises(WorkflowError) as exc:
        desk.flow.resolve(alert.id, WEST_DUTY, "done", T0 + 1)
    assert exc.value.problem == "conflict"  # new -> resolved skips the acknowledgement
    events = desk.flow.acknowledge(alert.id, WEST_DUTY, T0 + 2)
    assert [(e.kind, e.actor, e.data["after_s"]) for e in events] == [
        ("alert.acknowledged", "wanda", 2.0)]
    with pytest.raises(WorkflowError, match="already acknowledged"):
        desk.flow.acknowledge(alert.id, WEST_SUP, T0 + 3)
    with pytest.raises(WorkflowError) as exc:
        desk.flow.resolve(alert.id, WEST_DUTY, "   ", T0 + 3)
    assert exc.value.problem == "invalid"
    (done,) = desk.flow.resolve(alert.id, WEST_SUP, "crew confirmed, squawk set in error", T0 + 4)
    assert done.data["comment"] == "crew confirmed, squawk set in error"
    case = desk.flow.get(alert.id)
    assert (case.state, case.acknowledged_by, case.resolved_by) == (State.RESOLVED, "wanda", "walt")
    with pytest.raises(WorkflowError, match="no alert"):
        desk.flow.acknowledge("n1-999", WEST_DUTY, T0)


def test_unacknowledged_alerts_escalate_at_each_threshold_and_stop_when_acknowledged() -> None:
    desk = Desk(WorkflowConfig(partner="home", escalate_after_s=(60, 180)))
    t = squawking([5.0, 6.0])
    desk.step(t, T0)
    first, second = sorted(desk.flow.cases(), key=lambda c: c.alert.track_id)
    desk.flow.acknowledge(second.id, WEST_DUTY, T0 + 30)
    assert desk.step(t, T0 + 59) == []
    assert desk.step(t, T0 + 60) == ["alert.escalated"]
    assert desk.step(t, T0 + 61) == []
    assert desk.step(t, T0 + 200) == ["alert.escalated"]
    assert desk.step(t, T0 + 900) == []  # no third threshold
    case = desk.flow.get(first.id)
    levels = [e.data["level"] for e in case.history if e.kind == "alert.escalated"]
    assert levels == [1, 2] and case.history[-1].data["to"] == "supervisor"
    assert desk.flow.get(second.id).escalation == 0


def test_crossing_offers_the_case_and_the_sender_keeps_it_until_accepted() -> None:
    desk, alert = raise_one(9.9)
    t = squawking([10.1])  # now over the east
    assert desk.step(t, T0 + 1) == ["alert.handover_offered"]
    case = desk.flow.get(alert.id)
    assert (case.partner, case.offered_to) == ("west", "east")
    assert case.routed_to("east") and case.routed_to("west")
    assert desk.step(t, T0 + 2) == []  # offered once
    with pytest.raises(WorkflowError):
        desk.flow.acknowledge(alert.id, EAST_DUTY, T0 + 3)  # not east's yet
    with pytest.raises(WorkflowError) as exc:
        desk.flow.accept(alert.id, WEST_DUTY, T0 + 3)  # the sender cannot accept for east
    assert exc.value.problem == "forbidden"
    desk.flow.acknowledge(alert.id, WEST_DUTY, T0 + 3)  # the sender still answers for it
    events = desk.flow.accept(alert.id, EAST_DUTY, T0 + 4)
    assert [e.kind for e in events] == ["alert.handover_accepted", "alert.acknowledged"]
    assert events[0].data == {"from": "west", "to": "east"}
    case = desk.flow.get(alert.id)
    assert (case.partner, case.offered_to, case.acknowledged_by) == ("east", None, "erin")
    with pytest.raises(WorkflowError):
        desk.flow.resolve(alert.id, WEST_DUTY, "not mine any more", T0 + 5)
    desk.flow.resolve(alert.id, EAST_DUTY, "handled", T0 + 5)


def test_a_declined_offer_is_not_repeated_and_stays_with_the_sender() -> None:
    desk, alert = raise_one(9.9)
    t = squawking([10.1])
    desk.step(t, T0 + 1)
    (declined,) = desk.flow.decline(alert.id, EAST_DUTY, "aircraft returns west", T0 + 2)
    assert declined.data["reason"] == "aircraft returns west"
    assert desk.step(t, T0 + 3) == []
    case = desk.flow.get(alert.id)
    assert (case.partner, case.offered_to) == ("west", None)
    # a duty officer can still hand it over explicitly
    (offer,) = desk.flow.hand_over(alert.id, WEST_DUTY, "east", T0 + 4)
    assert offer.data == {"from": "west", "to": "east", "reason": "manual"}
    with pytest.raises(WorkflowError) as exc:
        desk.flow.hand_over(alert.id, WEST_DUTY, "east", T0 + 5)
    assert exc.value.problem == "conflict"


def test_an_accepted_hand_over_is_not_offered_back_while_the_aircraft_stays() -> None:
    desk, alert = raise_one(5.0)  # deep in the west, and it stays there
    desk.flow.hand_over(alert.id, WEST_DUTY, "east", T0 + 1)
    desk.flow.accept(alert.id, EAST_DUTY, T0 + 2)
    assert desk.step(squawking([5.0]), T0 + 3) == []  # no crossing, so no offer back
    assert desk.step(squawking([5.5]), T0 + 4) == []
    assert desk.flow.get(alert.id).partner == "east"
    assert desk.step(squawking([25.0]), T0 + 5) == ["alert.handover_offered"]  # a crossing
    assert desk.flow.get(alert.id).offered_to == "home"


def test_an_alert_without_a_position_is_routed_when_one_arrives() -> None:
    desk = Desk()
    unplaced = squawking([15.0])
    unplaced["lat"] = unplaced["lon"] = np.nan  # a squawk heard before any position
    desk.step(unplaced, T0)
    (case,) = desk.flow.cases()
    assert case.partner == "home" and case.region is None
    assert desk.step(squawking([15.0]), T0 + 1) == ["alert.routed"]
    case = desk.flow.get(case.id)
    assert (case.partner, case.offered_to) == ("east", None)
    assert case.history[-1].data == {"from": "home", "to": "east", "reason": "first position"}



def test_an_answered_alert_is_offered_not_moved_when_its_first_position_arrives() -> None:
    desk = Desk()
    unplaced = squawking([15.0])
    unplaced["lat"] = unplaced["lon"] = np.nan
    desk.step(unplaced, T0)
    (case,) = desk.flow.cases()
    desk.flow.acknowledge(case.id, HOME_DUTY, T0 + 1)  # home answered it: it stays home's
    assert desk.step(squawking([15.0]), T0 + 2) == ["alert.handover_offered"]
    case = desk.flow.get(case.id)
    assert (case.partner, case.offered_to) == ("home", "east")


def test_manual_hand_over_checks_the_partner() -> None:
    desk, alert = raise_one(5.0)
    with pytest.raises(WorkflowError, match="unknown partner 'mars'"):
        desk.flow.hand_over(alert.id, WEST_DUTY, "mars", T0 + 1)
    with pytest.raises(WorkflowError, match="already west's"):
        desk.flow.hand_over(alert.id, WEST_DUTY, "west", T0 + 1)
    with pytest.raises(WorkflowError):
        desk.flow.hand_over(alert.id, HOME_DUTY, "home", T0 + 1)  # home cannot give west's away
    desk.flow.hand_over(alert.id, WEST_DUTY, "home", T0 + 1)
    desk.flow.accept(alert.id, HOME_DUTY, T0 + 2)
    assert desk.flow.get(alert.id).partner == "home"


def test_condition_end_resolves_acknowledged_cases_and_keeps_unseen_ones() -> None:
    desk = Desk()
    emergency, quiet = squawking([5.0, 6.0]), squawking([5.0, 6.0], squawk=1000)
    desk.step(emergency, T0)
    seen, unseen = sorted(desk.flow.cases(), key=lambda c: c.alert.track_id)
    desk.flow.acknowledge(seen.id, WEST_DUTY, T0 + 1)
    desk.step(quiet, T0 + 2)
    kinds = desk.step(quiet, T0 + 8)
    assert sorted(kinds) == ["alert.cleared", "alert.cleared", "alert.resolved"]
    case = desk.flow.get(seen.id)
    assert (case.state, case.resolved_by, case.comment) == (State.RESOLVED, "system",
                                                            "condition ended")
    case = desk.flow.get(unseen.id)
    assert case.state == State.NEW and not case.condition_active
    events = desk.flow.acknowledge(unseen.id, WEST_DUTY, T0 + 9)
    assert [e.kind for e in events] == ["alert.acknowledged", "alert.resolved"]


def test_only_a_supervisor_reopens() -> None:
    desk, alert = raise_one(5.0)
    desk.flow.acknowledge(alert.id, WEST_DUTY, T0 + 1)
    desk.flow.resolve(alert.id, WEST_DUTY, "false alarm", T0 + 2)
    with pytest.raises(WorkflowError, match="supervisor"):
        desk.flow.reopen(alert.id, WEST_DUTY, "too early", T0 + 3)
    (event,) = desk.flow.reopen(alert.id, WEST_SUP, "squawk is back", T0 + 3)
    assert event.kind == "alert.reopened" and desk.flow.get(alert.id).state == State.ACKNOWLEDGED


def test_resolved_cases_are_dropped_after_the_configured_time() -> None:
    desk = Desk(WorkflowConfig(partner="home", keep_resolved_s=60))
    desk, alert = raise_one(5.0, desk)
    desk.flow.acknowledge(alert.id, WEST_DUTY, T0 + 1)
    desk.flow.resolve(alert.id, WEST_DUTY, "done", T0 + 2)
    desk.flow.tick(T0 + 61)
    assert desk.flow.cases() != []
    desk.flow.tick(T0 + 63)
    assert desk.flow.cases() == []


def test_exercise_alerts_mark_every_event_exercise_and_real_ones_never() -> None:
    desk = Desk()
    desk.step(squawking([5.0], exercise=True), T0)
    real = squawking([6.0])
    real["track_id"] = 99
    desk.step(np.concatenate([squawking([5.0], exercise=True), real]), T0 + 1)
    for case in desk.flow.cases():
        desk.flow.acknowledge(case.id, WEST_DUTY, T0 + 2)
        for event in desk.flow.get(case.id).history:
            assert event.exercise == (case.alert.track_id != 99)


def test_events_go_into_the_audit_log_as_they_are(tmp_path) -> None:  # type: ignore[no-untyped-def]
    desk, alert = raise_one(9.9)
    events = list(desk.flow.get(alert.id).history)
    events += desk.flow.tick(T0 + 1)
    t = squawking([10.1])
    events += desk.flow.on_changes(desk.engine.update(
        evaluate(t, T0 + 2, RulesConfig()), t, T0 + 2), T0 + 2) + desk.flow.tick(T0 + 2)
    events += desk.flow.accept(alert.id, EAST_DUTY, T0 + 3)
    events += desk.flow.resolve(alert.id, EAST_DUTY, "landed", T0 + 4)
    with AuditLog(tmp_path / "audit.sqlite", "n1") as log:
        log.append_many(events)
        stored = list(log.entries())
    assert [(e.kind, e.subject, e.actor) for e in stored] == [
        (e.kind, e.subject, e.actor) for e in events]
    assert stored[0].data["evidence"]["lon"] == pytest.approx(9.9)
    assert verify(tmp_path / "audit.sqlite").ok


ACTORS = [WEST_DUTY, WEST_SUP, WEST_RO, EAST_DUTY, HOME_DUTY]
ACTIONS = ["acknowledge", "resolve", "hand_over", "accept", "decline", "reopen", "move", "quiet"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(ACTIONS), st.sampled_from(ACTORS),
                          st.integers(0, 2), st.sampled_from(["west", "east", "home"])),
                max_size=40))
def test_nobody_ever_acts_for_another_partner(steps: list[tuple[str, Actor, int, str]]) -> None:
    """Random actions by random users: every accepted one was taken by a duty officer
    or supervisor of the partner that owned the case (or was offered it), and states
    only move along the workflow's edges."""
    desk = Desk()
    lons = [5.0, 9.9, 15.0]
    desk.step(squawking(lons), T0)
    ids = {c.alert.track_id - 1: c.id for c in desk.flow.cases()}
    allowed = {(State.NEW, State.ACKNOWLEDGED), (State.ACKNOWLEDGED, State.RESOLVED),
               (State.NEW, State.RESOLVED), (State.RESOLVED, State.ACKNOWLEDGED)}
    now = T0
    for action, actor, k, partner in steps:
        now += 1
        if action in ("move", "quiet"):
            lons[k] = {"west": 5.0, "east": 15.0, "home": 25.0}[partner]
            desk.step(squawking(lons, squawk=1000 if action == "quiet" else 7700), now)
            continue
        before = desk.flow.get(ids[k])
        args: tuple[object, ...] = {"resolve": ("done",), "hand_over": (partner,),
                                    "decline": ("no",), "reopen": ("again",)}.get(action, ())
        try:
            events = getattr(desk.flow, action)(ids[k], actor, *args, now)
        except WorkflowError:
            assert desk.flow.get(ids[k]).state == before.state
            continue
        assert actor.role.can_act()
        entitled = before.offered_to if action in ("accept", "decline") else before.partner
        assert actor.partner == entitled
        assert all(e.actor in (actor.user, "system") for e in events)
        after = desk.flow.get(ids[k])
        if after.state != before.state:
            assert (before.state, after.state) in allowed
