"""An exercise sensor marks everything it reads EXERCISE; a real one never does.

The same real recording is read twice, once by a real sensor and once by a sensor
configured ``exercise: true``: every aircraft becomes one real track and one EXERCISE
track, never one track mixing both, and no real frame, report or track is marked.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skyshare.badinput import BadInput
from skyshare.config import ConfigError, sensor_from_mapping
from skyshare.model import FrameFlag, ReportFlag, TrackFlag
from skyshare.pipeline import Pipeline
from skyshare.sources.base import SensorSpec, make_codec

REAL = SensorSpec(name="roof", index=0, format="beast", mode="listen")
EXERCISE = SensorSpec(name="injector", index=1, format="beast", mode="listen", exercise=True)


def test_the_same_bytes_make_a_real_and_an_exercise_track_per_aircraft(data_dir: Path) -> None:
    data = (data_dir / "modes" / "sample_dump1090.beast").read_bytes()
    bads = [BadInput(sensor=s.name, quiet=True) for s in (REAL, EXERCISE)]
    pipeline = Pipeline([REAL, EXERCISE], bads)
    codecs = [make_codec(s, b) for s, b in zip((REAL, EXERCISE), bads, strict=True)]
    t0, chunk = 1.7e9, 4096
    for i in range(0, len(data), chunk):
        outputs = [c.feed(data[i:i + chunk], t0 + i / 1e5) for c in codecs]
        real, exercise = outputs
        assert not np.any(real.frames["flags"] & FrameFlag.EXERCISE)
        assert np.all(exercise.frames["flags"] & FrameFlag.EXERCISE)
        reports = pipeline.decode(outputs)
        from_real = reports["sensor"] == 0
        assert not np.any(reports["flags"][from_real] & ReportFlag.EXERCISE)
        assert np.all(reports["flags"][~from_real] & ReportFlag.EXERCISE)
        pipeline.fuse(reports)
    tracks = pipeline.snapshot(t0 + len(data) / 1e5)
    marked = (tracks["flags"] & TrackFlag.EXERCISE) != 0
    real_addresses = np.sort(tracks["icao24"][~marked])
    exercise_addresses = np.sort(tracks["icao24"][marked])
    assert len(real_addresses) >= 2
    np.testing.assert_array_equal(real_addresses, exercise_addresses)
    assert len(np.unique(real_addresses)) == len(real_addresses)  # one of each, no mixing


def test_exercise_must_be_a_boolean() -> None:
    spec = sensor_from_mapping({"listen": 31005, "exercise": True}, 0, "sensors[0]")
    assert spec.exercise
    assert not sensor_from_mapping({"listen": 31005}, 0, "sensors[0]").exercise
    with pytest.raises(ConfigError, match="exercise: must be true or false"):
        sensor_from_mapping({"listen": 31005, "exercise": "yes"}, 0, "sensors[0]")
