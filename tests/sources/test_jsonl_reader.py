"""JSON-lines recordings: the real file against a naive read, and bad lines."""

from __future__ import annotations

import gzip
import itertools
import json
import math
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skyshare.badinput import BadInput
from skyshare.model import FrameBatch, FrameFlag, frame_hex
from skyshare.sources.jsonl import MAX_LINE, JsonlFramer, read_jsonl_frames

SETTINGS = settings(deadline=None, max_examples=60)
GOOD = b'{"timestamp": 1717664319.5, "frame": "8c3461ce399e40586b4ee4932241", "df": "17"}\n'


def feed_chunks(data: bytes, cuts: list[int]) -> tuple[FrameBatch, BadInput]:
    bad = BadInput("test")
    framer = JsonlFramer(1, bad)
    edges = [0, *sorted(cuts), len(data)]
    parts = [framer.feed(data[a:b], math.nan) for a, b in itertools.pairwise(edges)]
    parts.append(framer.finish(math.nan))
    return np.concatenate(parts), bad


def test_real_recording_equals_a_naive_read(data_dir: Path) -> None:
    path = data_dir / "modes" / "tutorial_17ac.jsonl.gz"
    with gzip.open(path, "rt") as f:
        rows = [json.loads(line) for line in f]
    bad = BadInput()
    batches = list(read_jsonl_frames(path, 4, bad, chunk_rows=20_000))
    assert bad.total == 0
    assert max(len(b) for b in batches) <= 20_000
    frames = np.concatenate(batches)
    assert len(frames) == len(rows) == 71_939
    assert frame_hex(frames) == [r["frame"].upper() for r in rows]
    assert frames["time"].tolist() == [r["timestamp"] for r in rows]
    assert (frames["sensor"] == 4).all() and (frames["flags"] == 0).all()
    assert np.isnan(frames["rssi"]).all()


def test_plain_file(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    path.write_bytes(GOOD * 3)
    frames = np.concatenate(list(read_jsonl_frames(path, 0, BadInput())))
    assert len(frames) == 3 and frames["time"][0] == 1717664319.5


def test_bad_lines_are_counted_and_the_rest_kept() -> None:
    text = (GOOD + b"not json\n" + GOOD + b'{"timestamp": "x", "frame": "8d"}\n' + GOOD
            + b'{"timestamp": 5, "frame": "8d4840d6202cc371c32ce05760zz"}\n'
            + b'{"timestamp": 5, "frame": "8d4840"}\n' + b"[1, 2]\n" + b"\n"
            + b'{"frame": "8d4840d6202cc371c32ce0576098"}\n'
            + b'{"timestamp": 1, "frame": "' + b"0" * MAX_LINE + b'"}\n' + GOOD
            + b'{"timestamp": 2, "frame": "7700"}')
    frames, bad = feed_chunks(text, [])
    assert frame_hex(frames) == ["8C3461CE399E40586B4EE4932241"] * 4 + ["7700"]
    assert frames["flags"][-1] == FrameFlag.MODE_AC
    assert bad.counts == {"jsonl-bad-line": 5, "jsonl-bad-hex": 1, "jsonl-bad-length": 1}


def test_a_bad_line_costs_only_itself_when_arrow_falls_back() -> None:
    text = GOOD * 1000 + b"{broken\n" + GOOD * 1000
    frames, bad = feed_chunks(text, [])
    assert len(frames) == 2000
    assert bad.counts == {"jsonl-bad-line": 1}


lines = st.one_of(
    st.just(GOOD),
    st.builds(lambda t, h: json.dumps({"timestamp": t, "frame": h}).encode() + b"\n",
              st.floats(0, 2e9), st.sampled_from(["7700", "5d48520a0b0c0d", "xx", "8d"])),
    st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"") + b"\n"),
)


@SETTINGS
@given(st.lists(lines, max_size=8).map(b"".join), st.lists(st.integers(0, 500), max_size=3))
def test_chunking_gives_the_same_frames(text: bytes, cuts: list[int]) -> None:
    whole, bad_whole = feed_chunks(text, [])
    split, bad_split = feed_chunks(text, [c % (len(text) + 1) for c in cuts])
    assert frame_hex(split) == frame_hex(whole)
    assert split["time"].tolist() == whole["time"].tolist()
    assert bad_split.counts == bad_whole.counts


@SETTINGS
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    feed_chunks(data, [len(data) // 2])
