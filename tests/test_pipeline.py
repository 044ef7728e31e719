"""decode -> fuse together: hostile frames make no tracks; real recordings track well."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skyshare.badinput import BadInput
from skyshare.model import empty_frames, empty_reports, format_icao24
from skyshare.pipeline import Pipeline
from skyshare.sources.base import SensorSpec, SourceOutput
from skyshare.sources.files import iter_file

SPEC = SensorSpec(name="rx", index=0, format="beast", mode="connect")


def frames_of(payloads: list[bytes], t0: float = 1.7e9) -> SourceOutput:
    frames = empty_frames(len(payloads))
    for i, raw in enumerate(payloads):
        frames["data"][i, : len(raw)] = np.frombuffer(raw, np.uint8)
        frames["length"][i] = len(raw)
    frames["time"] = t0 + np.arange(len(payloads)) * 0.01
    return SourceOutput(frames, empty_reports())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.binary(min_size=14, max_size=14), st.binary(min_size=7, max_size=7),
                          st.just(bytes(14)), st.just(bytes(7))), min_size=1, max_size=400))
def test_noise_and_zero_frames_make_no_track(payloads: list[bytes]) -> None:
    bad = BadInput(sensor="rx")
    pipeline = Pipeline([SPEC], [bad])
    pipeline.process([frames_of(payloads)])
    # white noise passes the CRC with probability 2^-24 per frame; with no verified
    # address no reply can be attributed, and one message never confirms a track
    assert len(pipeline.tracker.snapshot()) == 0


def test_parity_replies_alone_never_make_a_track() -> None:
    # DF4/DF5 replies carry the address only in their parity: many of them, from an
    # address nobody announced, must stay unattributed
    from skyshare.decode.crc import crc24

    payloads = []
    for alt in range(50):
        body = bytes([0x20, 0x00, 0x10 + alt % 8, 0x30])
        data = np.frombuffer(body + bytes(3), np.uint8).copy()
        parity = int(crc24(data, 4)) ^ 0xABCDEF
        payloads.append(body + parity.to_bytes(3, "big"))
    bad = BadInput(sensor="rx")
    pipeline = Pipeline([SPEC], [bad])
    pipeline.process([frames_of(payloads)])
    assert len(pipeline.tracker.snapshot()) == 0
    assert bad.counts["unknown-address"] == 50


def test_tracks_follow_the_recorded_positions(data_dir: Path) -> None:
    """Fused positions stay close to the positions decoded in the recording itself."""
    src = data_dir / "modes" / "tutorial_17ac.jsonl.gz"
    truth: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    with gzip.open(src, "rt") as f:
        rows = [json.loads(line) for line in f]
    for icao in {r["icao24"] for r in rows if "latitude" in r}:
        sel = [r for r in rows if r["icao24"] == icao and "latitude" in r]
        truth[icao] = (np.array([r["timestamp"] for r in sel]),
                       np.array([r["latitude"] for r in sel]),
                       np.array([r["longitude"] for r in sel]))
    bad = BadInput(sensor="rec")
    pipeline = Pipeline([SPEC], [bad])
    errors = []
    for chunk in iter_file(src, None, 0, bad):
        reports = pipeline.decode([chunk.output])
        updates = pipeline.fuse(reports)
        has_pos = np.isfinite(updates["lat"]) & (updates["last_pos"] == updates["last_seen"])
        for u in updates[has_pos]:
            icao = format_icao24(np.array([u["icao24"]]))[0]
            t, lat, lon = truth[icao]
            i = np.searchsorted(t, u["last_seen"])
            i = min(i, len(t) - 1)
            if abs(t[i] - u["last_seen"]) > 1e-6:
                continue
            dn = (u["lat"] - lat[i]) * 111_195
            de = (u["lon"] - lon[i]) * 111_195 * np.cos(np.radians(lat[i]))
            errors.append(np.hypot(dn, de))
    errors_m = np.array(errors)
    assert len(errors_m) > 10_000
    # NACp 9-10 positions: the filter smooths them, it must not drag them
    assert np.median(errors_m) < 15, np.median(errors_m)
    assert np.percentile(errors_m, 99) < 60, np.percentile(errors_m, 99)
    assert bad.total == bad.counts["unknown-address"]  # nothing else in a clean recording
