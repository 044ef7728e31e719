"""``skyshare exercise run`` from the command line, on a real network: a NATS server,
one node process per partner, frames over real sockets.

A short scenario (an aircraft squawking 7500 in west's airspace just before it crosses
into east's; east's receiver degrades, then west's fails): the alert is detected,
reaches both partners, is acknowledged by the scripted duty officer and handed over to
east at the border; each receiver's trouble raises its readiness alert on its own node,
and west's outage raises no transponder loss; the summary, the report and each node's
copy are written; every alert entry in every audit log is EXERCISE."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import yaml

from exercise.scenes import SHIPPED, doc


def test_a_scenario_runs_through_live_nodes_and_is_scored(tmp_path: Path) -> None:
    scenario = doc(
        scenario="short-crossing", duration_s=75, traffic={"aircraft": 20,
                                                           "region": [47, 3, 52, 11]},
        regions=str(SHIPPED / "regions.geojson"),
        volumes=[str(SHIPPED / "airspace.openair")],
        aircraft=[{"name": "A", "callsign": "TST1", "icao24": "abc123", "squawk": 2000,
                   "route": [[49.6, 6.8], [49.6, 9.0]], "altitude_ft": 35000,
                   "speed_kt": 450}],
        events=[{"at_s": 8, "aircraft": "A", "squawk": 7500},
                {"at_s": 20, "sensor": "e", "degrade": {"duration_s": 40, "loss": 0.3,
                                                        "garbage": 0.5}},
                {"at_s": 28, "sensor": "w", "fail": {"duration_s": 45}}])
    path = tmp_path / "short.yaml"
    path.write_text(yaml.safe_dump(scenario), encoding="utf-8")
    out = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "skyshare", "exercise", "run", str(path), "--out", str(out),
         "--respond-after", "3", "--settle", "15"],
        capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "score" in done.stdout and "report:" in done.stdout
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert (out / "report.html").stat().st_size > 1000
    events = {e["kind"]: e for e in summary["events"]}
    squawk, crossing = events["squawk"], events["border_crossing"]
    # readiness: west's receiver fails, east's degrades; each raised on its own node
    for kind, partner in (("sensor_failure", "west"), ("sensor_degraded", "east")):
        assert events[kind]["outcome"] == "detected", events[kind]
        assert events[kind]["detected_by"] == partner and events[kind]["reached"][partner]
    # a receiver's outage is not a flood of lost transponders
    assert not [f for f in summary["false_alerts"] if f["rule"] == "transponder_loss"], \
        summary["false_alerts"]
    assert squawk["outcome"] == "detected", squawk
    assert squawk["responsible"] == ["west"]
    assert squawk["reached"]["west"] is not None and squawk["acknowledged_s"] is not None
    assert squawk["acknowledged_by"] == "duty-west@west"
    assert crossing["handover"]["to"] == "east", crossing
    assert crossing["handover"]["offered_s"] is not None
    assert crossing["handover"]["accepted_s"] is not None
    assert summary["partners"]["west"]["reached"] >= 1
    assert not any("not marked EXERCISE" in n for n in summary["notes"]), summary["notes"]
    for partner in ("west", "east"):
        copies = list((out / partner / "data" / "exercises").glob("*-short-crossing.json"))
        assert len(copies) == 1
        with sqlite3.connect(f"file:{out / partner / 'data' / 'audit.sqlite'}?mode=ro",
                             uri=True) as db:
            marks = db.execute("SELECT DISTINCT exercise FROM entries WHERE kind LIKE "
                               "'alert.%'").fetchall()
        assert marks == [(1,)], (partner, marks)
