"""The last exercise a node took part in: the newest readable summary in its folder,
with stray and broken files passed over."""

from __future__ import annotations

import json
import os
from pathlib import Path

from exercise.test_report import summary  # tests/ is on sys.path (tests.readiness' root)

from skyshare.readiness.exercises import LastExercise


def write(folder: Path, name: str, doc: object, mtime: float) -> None:
    path = folder / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    os.utime(path, (mtime, mtime))


def test_the_newest_readable_summary_is_the_last_exercise(tmp_path: Path) -> None:
    older, newer = summary(), summary(scenario="sensor-outage")
    newer["ended_at"] = older["ended_at"] + 3600
    write(tmp_path, "a-old.json", older, 1000)
    write(tmp_path, "b-new.json", newer, 2000)
    write(tmp_path, "c-broken.json", "{not json", 3000)
    write(tmp_path, "d-other.json", {"schema": "something-else"}, 4000)
    write(tmp_path, "e-bad-total.json", {**newer, "totals": {"score": "high"}}, 5000)
    last = LastExercise(tmp_path)
    result = last.get()
    assert result is not None and result.scenario == "sensor-outage"
    assert result.score == newer["totals"]["score"] and result.events == len(newer["events"])
    assert set(result.partners) == set(newer["partners"])
    assert result.json()["file"].endswith("b-new.json")
    write(tmp_path, "f-newest.json", {**older, "ended_at": newer["ended_at"] + 1}, 6000)
    assert last.get().scenario == older["scenario"]  # a new file is seen


def test_no_folder_and_an_empty_one_have_no_exercise(tmp_path: Path) -> None:
    assert LastExercise(None).get() is None
    assert LastExercise(tmp_path / "missing").get() is None
    assert LastExercise(tmp_path).get() is None
