"""Readiness alerts through the real alert service: hysteresis, routing by the sensor's
position, the EXERCISE mark, the duty workflow, and a restart from the audit log."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from alert_scene import HOME_DUTY, REGIONS, T0, WEST_DUTY  # tests/alerts, on sys.path

from skyshare.alerts.engine import EngineConfig
from skyshare.alerts.restore import case_entries
from skyshare.alerts.rules import Rule
from skyshare.alerts.sensors import NO_TRACK, SensorCondition
from skyshare.alerts.service import AlertsConfig, AlertService
from skyshare.alerts.workflow import State, WorkflowConfig
from skyshare.model import empty_tracks
from skyshare.store.audit import AuditLog


class Sensors:
    """A stand-in for readiness at the plug point: the conditions a test sets."""

    def __init__(self) -> None:
        self.conditions: list[SensorCondition] = []
        self.judged: set[str] = {"rx-west", "rx-home", "ex"}

    def sensor_conditions(self, now: float) -> tuple[Sequence[SensorCondition], set[str]]:
        return self.conditions, self.judged


def silent(name: str, lon: float | None, *, exercise: bool = False, value: float = 40.0
           ) -> SensorCondition:
    return SensorCondition(Rule.SENSOR_SILENT, name, value, f"nothing received for "
                           f"{value:.0f} s", None if lon is None else 45.0, lon, exercise)


def service(audit: AuditLog, sensors: Sensors) -> AlertService:
    config = AlertsConfig(engine=EngineConfig(confirm_updates=2, clear_after_s=10),
                          workflow=WorkflowConfig(partner="home"))
    return AlertService("node", config, audit, owners=REGIONS, sensors=sensors,
                        first_serial=audit.head()[0] + 1)


def test_a_silent_sensor_raises_one_alert_routed_to_its_region(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.sqlite", "node")
    sensors = Sensors()
    alerts = service(audit, sensors)
    tracks = empty_tracks(0)
    sensors.conditions = [silent("rx-west", 5.0), silent("rx-home", None)]
    alerts.update(tracks, T0)
    assert not alerts.workflow.cases()  # one evaluation is not enough
    alerts.update(tracks, T0 + 1)
    cases = {c.alert.sensor: c for c in alerts.workflow.cases()}
    assert set(cases) == {"rx-west", "rx-home"}
    west, home = cases["rx-west"], cases["rx-home"]
    assert west.partner == "west" and home.partner == "home"  # no position: ours
    assert west.alert.rule == Rule.SENSOR_SILENT and west.alert.track_id == NO_TRACK
    assert west.alert.verified and not west.alert.exercise
    assert "nothing received" in west.alert.detail
    for t in range(2, 6):  # holding: no second alert, the evidence follows
        sensors.conditions = [silent("rx-west", 5.0, value=40 + t), silent("rx-home", None)]
        alerts.update(tracks, T0 + t)
    assert len(alerts.workflow.cases()) == 2
    assert alerts.workflow.get(west.id).alert.value == 45
    alerts.act("acknowledge", west.id, WEST_DUTY, now=T0 + 6)
    sensors.conditions = [silent("rx-home", None)]  # rx-west is back
    for t in range(7, 20):
        alerts.update(tracks, T0 + t)
    done = alerts.workflow.get(west.id)
    assert done.state == State.RESOLVED and done.resolved_by == "system"
    assert not done.condition_active
    assert alerts.workflow.get(home.id).condition_active
    kinds = [e.kind for e in done.history]
    assert kinds == ["alert.raised", "alert.acknowledged", "alert.cleared", "alert.resolved"]
    audit.close()


def test_an_exercise_sensor_alert_is_marked_and_a_real_one_is_not(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.sqlite", "node")
    sensors = Sensors()
    alerts = service(audit, sensors)
    sensors.conditions = [silent("ex", 5.0, exercise=True), silent("rx-west", 5.0)]
    alerts.update(empty_tracks(0), T0)
    alerts.update(empty_tracks(0), T0 + 1)
    marks = {c.alert.sensor: c.alert.exercise for c in alerts.workflow.cases()}
    assert marks == {"ex": True, "rx-west": False}
    rows = {e.subject: e.exercise for e in case_entries(audit)}
    by_sensor = {c.alert.sensor: rows[c.id] for c in alerts.workflow.cases()}
    assert by_sensor == {"ex": True, "rx-west": False}
    audit.close()


def test_an_unjudged_sensor_keeps_its_alert(tmp_path: Path) -> None:
    """A sensor readiness cannot judge (waiting for its first byte) does not clear."""
    audit = AuditLog(tmp_path / "audit.sqlite", "node")
    sensors = Sensors()
    alerts = service(audit, sensors)
    sensors.conditions = [silent("rx-west", 5.0)]
    alerts.update(empty_tracks(0), T0)
    alerts.update(empty_tracks(0), T0 + 1)
    sensors.conditions, sensors.judged = [], set()
    alerts.update(empty_tracks(0), T0 + 30)
    (case,) = alerts.workflow.cases()
    assert case.condition_active
    audit.close()


def test_after_a_restart_the_alert_is_taken_back_not_raised_again(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite"
    audit = AuditLog(path, "node")
    sensors = Sensors()
    first = service(audit, sensors)
    sensors.conditions = [silent("rx-west", 5.0), silent("rx-home", None)]
    first.update(empty_tracks(0), T0)
    first.update(empty_tracks(0), T0 + 1)
    before = {c.alert.sensor: c.id for c in first.workflow.cases()}
    audit.close()

    audit = AuditLog(path, "node")
    sensors = Sensors()
    again = service(audit, sensors)
    again.restore(case_entries(audit), now=T0 + 100)
    restored = {c.alert.sensor: c for c in again.workflow.cases()}
    assert {k: c.id for k, c in restored.items()} == before
    assert all(c.alert.restored for c in restored.values())
    assert restored["rx-west"].alert.detail.startswith("nothing received")
    # still waiting for its first byte: nothing changes
    sensors.conditions, sensors.judged = [], set()
    again.update(empty_tracks(0), T0 + 101)
    assert all(c.condition_active for c in again.workflow.cases())
    # rx-west silent again: the same alert; rx-home back: cleared after 10 s
    sensors.judged = {"rx-west", "rx-home"}
    for t in range(102, 115):
        sensors.conditions = [silent("rx-west", 5.0)]
        again.update(empty_tracks(0), T0 + t)
    cases = {c.alert.sensor: c for c in again.workflow.cases()}
    assert {k: c.id for k, c in cases.items()} == before  # nothing raised twice
    assert cases["rx-west"].condition_active and not cases["rx-west"].alert.restored
    assert not cases["rx-home"].condition_active
    assert math.isclose(cases["rx-home"].alert.cleared_at or 0, T0 + 112)
    audit.close()


def test_a_readiness_rule_is_only_for_sensors() -> None:
    try:
        SensorCondition(Rule.SQUAWK_7700, "rx", 1.0, "", None, None, False)
    except ValueError:
        return
    raise AssertionError("a track rule was taken for a readiness condition")


def test_the_home_officer_acts_on_a_sensor_alert_of_home(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.sqlite", "node")
    sensors = Sensors()
    alerts = service(audit, sensors)
    sensors.conditions = [silent("rx-home", 25.0)]  # outside every region: home's
    alerts.update(empty_tracks(0), T0)
    alerts.update(empty_tracks(0), T0 + 1)
    (case,) = alerts.workflow.cases()
    assert case.partner == "home"
    assert alerts.act("acknowledge", case.id, HOME_DUTY, now=T0 + 2).state == State.ACKNOWLEDGED
    audit.close()
