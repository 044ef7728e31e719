"""Reading recordings in chunks: detection, gzip, progress and times."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest

from skyshare.badinput import BadInput
from skyshare.errors import InputFormatError
from skyshare.model import frame_hex
from skyshare.sources.avr import encode_avr
from skyshare.sources.base import SourceOutput
from skyshare.sources.beast import BeastFramer
from skyshare.sources.files import iter_file

SBS = (b"MSG,3,1,1,4CA2D6,1,2024/06/06,09:38:39.147,2024/06/06,09:38:39.147,RYR1234,36000,"
       b"450,270,43.6,1.37,-64,7700,0,0,0,0\n")


def read_all(path: Path, fmt: str | None = None, chunk_bytes: int = 1000,
             clock_epoch: float | None = None
             ) -> tuple[SourceOutput, BadInput, list[tuple[int, int]]]:
    bad = BadInput(path.name)
    chunks = list(iter_file(path, fmt, 2, bad, chunk_bytes=chunk_bytes,
                            clock_epoch=clock_epoch))
    progress = [(c.bytes_done, c.bytes_total) for c in chunks]
    out = SourceOutput(np.concatenate([c.output.frames for c in chunks]),
                       np.concatenate([c.output.reports for c in chunks]))
    return out, bad, progress


def test_beast_recording_plain_and_gzip(data_dir: Path, tmp_path: Path) -> None:
    src = data_dir / "modes" / "sample_dump1090.beast"
    plain = tmp_path / "rec.beast"
    plain.write_bytes(src.read_bytes())
    os.utime(plain, (1.7e9, 1.7e9))
    packed = tmp_path / "rec.bin"
    packed.write_bytes(gzip.compress(src.read_bytes()))
    reference = BeastFramer(2, BadInput()).feed(src.read_bytes(), 0.0)
    for path in (plain, packed):
        out, bad, progress = read_all(path)
        assert bad.total == 0
        assert frame_hex(out.frames) == frame_hex(reference)
        assert len(out.reports) == 0 and (out.frames["sensor"] == 2).all()
        done = [d for d, _ in progress]
        assert done == sorted(done) and progress[-1] == (path.stat().st_size,) * 2
    out, _, _ = read_all(plain)
    assert out.frames["time"][0] == 1.7e9  # default epoch: the file's mtime
    out, _, _ = read_all(plain, clock_epoch=1000.0)
    assert out.frames["time"][0] == 1000.0
    assert out.frames["time"][-1] == pytest.approx(1023.9, abs=0.05)


def test_jsonl_recording(data_dir: Path) -> None:
    out, bad, progress = read_all(data_dir / "modes" / "tutorial_17ac.jsonl.gz",
                                  chunk_bytes=1 << 20)
    assert len(progress) > 3
    assert bad.total == 0 and len(out.frames) == 71_939
    assert out.frames["time"][0] == 1717664319.147975


def test_sbs_recording_keeps_message_times(tmp_path: Path) -> None:
    path = tmp_path / "feed.txt"
    path.write_bytes(SBS * 50 + b"MSG,3,bad\n" + SBS.rstrip())
    out, bad, _ = read_all(path)
    assert len(out.reports) == 51 and len(out.frames) == 0
    assert (out.reports["time"] == 1717666719.147).all()
    assert bad.counts == {"sbs-bad-line": 1}


def test_avr_recording_with_forced_format(tmp_path: Path, data_dir: Path) -> None:
    frames = BeastFramer(0, BadInput()).feed(
        (data_dir / "modes" / "sample_dump1090.beast").read_bytes(), 0.0)
    path = tmp_path / "rec.avr"
    path.write_bytes(encode_avr(frames, with_clock=True))
    out, bad, _ = read_all(path, "avr", clock_epoch=10.0)
    assert bad.total == 0 and frame_hex(out.frames) == frame_hex(frames)
    assert out.frames["time"][0] == 10.0


def test_unrecognised_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just some notes\n")
    with pytest.raises(InputFormatError, match=r"notes\.txt.*--format"):
        list(iter_file(path, None, 0, BadInput()))


def test_truncated_gzip_keeps_what_came_before(tmp_path: Path) -> None:
    path = tmp_path / "feed.sbs.gz"
    packed = gzip.compress(SBS * 2000)
    path.write_bytes(packed[: len(packed) * 2 // 3])
    out, bad, _ = read_all(path, "sbs")
    assert 0 < len(out.reports) < 2000
    assert bad.counts["gzip-damaged"] == 1
