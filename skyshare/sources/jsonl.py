"""JSON-lines recordings: one object per line with ``timestamp`` (UNIX s) and
``frame`` (hex); other fields are ignored.

Blocks of lines are parsed by ``pyarrow.json`` into columns and the hex is decoded
in one compiled pass.  If Arrow rejects a block (a line that is not JSON, a
``timestamp`` that is not a number ...), only that block is parsed again line by
line, so a bad line is counted and skipped without losing the rest.  Kinds counted:
``jsonl-bad-line`` (not an object with a numeric ``timestamp`` and a string
``frame``, or longer than :data:`MAX_LINE`), ``jsonl-bad-hex``, ``jsonl-bad-length``.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.json as pa_json

from skyshare.badinput import BadInput
from skyshare.model import MAX_FRAME_BYTES, FrameBatch
from skyshare.sources.frames import frame_batch
from skyshare.sources.hexcodec import ROW_BAD_HEX, ROW_BAD_LENGTH, ROW_OK, decode_hex_rows
from skyshare.sources.lines import LineBuffer, line_stats
from skyshare.sources.stream import open_input, read_chunks

MAX_LINE: Final = 16 * 1024
"""Longer lines are skipped whole."""
READ_BYTES: Final = 4 << 20
_SCHEMA: Final = pa.schema([("timestamp", pa.float64()), ("frame", pa.string())])
_PARSE: Final = pa_json.ParseOptions(explicit_schema=_SCHEMA,
                                     unexpected_field_behavior="ignore")


def _hex_column(frames: pa.StringArray) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """The UTF-8 bytes and row offsets of a string column, without copying rows."""
    offsets32 = np.frombuffer(frames.buffers()[1], dtype=np.int32)
    offsets = offsets32[frames.offset: frames.offset + len(frames) + 1].astype(np.int64)
    data_buffer = frames.buffers()[2]
    text = (np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None
            else np.zeros(0, dtype=np.uint8))
    return text, offsets


class JsonlFramer:
    """JSON lines -> frames, keeping only an incomplete line between reads.

    The time of a frame is its ``timestamp``; ``recv_time`` is not used.
    """

    def __init__(self, sensor: int, bad: BadInput) -> None:
        self.sensor = sensor
        self.bad = bad
        self.good_bytes = 0
        self._lines = LineBuffer(MAX_LINE, self._overlong)

    def feed(self, chunk: bytes, recv_time: float) -> FrameBatch:
        return self._frames(self._lines.feed(bytes(chunk)))

    def finish(self, recv_time: float) -> FrameBatch:
        return self._frames(self._lines.finish())

    def _overlong(self) -> None:
        self.bad.add("jsonl-bad-line", detail=f"a line longer than {MAX_LINE} bytes")

    def _frames(self, lines: bytes) -> FrameBatch:
        if not lines.strip():
            return self._batch(np.zeros(0), pa.array([], pa.string()))
        time, hex_frames = self._arrow_block(lines)
        if time is None or hex_frames is None:
            time, hex_frames = self._line_by_line(lines)
        keep = np.isfinite(time) & hex_frames.is_valid().to_numpy(zero_copy_only=False)
        self.bad.add("jsonl-bad-line", int(len(keep) - keep.sum()),
                     "not an object with a numeric timestamp and a string frame")
        if not keep.all():
            time, hex_frames = time[keep], hex_frames.filter(pa.array(keep))
        out = self._batch(time, hex_frames)
        n_rows = lines.count(b"\n") + (not lines.endswith(b"\n"))
        self.good_bytes += len(lines) * len(out) // max(n_rows, 1)
        return out

    def _arrow_block(self, lines: bytes) -> tuple[npt.NDArray[np.float64] | None,
                                                  pa.StringArray | None]:
        """Arrow's columns for a block, or (None, None) when the block must be read
        line by line: Arrow rejected it, a line is too long, or a line did not make
        exactly one row (``{}{}``), so every line counts once whatever the chunking."""
        n_lines, longest = line_stats(np.frombuffer(lines, dtype=np.uint8))
        if longest > MAX_LINE:
            return None, None
        try:
            table = pa_json.read_json(io.BytesIO(lines), parse_options=_PARSE)
        except pa.ArrowInvalid:
            return None, None
        if table.num_rows != n_lines:
            return None, None
        time = table.column("timestamp").to_numpy(zero_copy_only=False).astype(np.float64)
        return time, table.column("frame").combine_chunks()

    def _line_by_line(self, lines: bytes) -> tuple[npt.NDArray[np.float64], pa.StringArray]:
        times: list[float] = []
        frames: list[str | None] = []
        for line in lines.split(b"\n"):
            if not line.strip():
                continue
            time, frame = _parse_line(line)
            times.append(time)
            frames.append(frame)
        return np.array(times, dtype=np.float64), pa.array(frames, pa.string())

    def _batch(self, time: npt.NDArray[np.float64], hex_frames: pa.StringArray) -> FrameBatch:
        text, offsets = _hex_column(hex_frames)
        n = len(time)
        data = np.zeros((n, MAX_FRAME_BYTES), dtype=np.uint8)
        length = np.zeros(n, dtype=np.uint8)
        status = np.zeros(n, dtype=np.uint8)
        decode_hex_rows(text, offsets, data, length, status)
        self.bad.add("jsonl-bad-hex", int((status == ROW_BAD_HEX).sum()),
                     "a frame with non-hex digits")
        self.bad.add("jsonl-bad-length", int((status == ROW_BAD_LENGTH).sum()),
                     "a frame that is not 4, 14 or 28 hex digits")
        ok = status == ROW_OK
        return frame_batch(self.sensor, data[ok], length[ok], np.zeros(int(ok.sum()), np.uint64),
                           np.full(int(ok.sum()), np.nan, np.float32), time[ok])


def _parse_line(line: bytes) -> tuple[float, str | None]:
    """One line -> (timestamp, hex); (NaN, None) when it is not usable."""
    if len(line) > MAX_LINE:
        return math.nan, None
    try:
        obj = json.loads(line.decode("utf-8", errors="replace"))  # as Arrow: bad hex later
    except (ValueError, RecursionError):
        return math.nan, None
    if not isinstance(obj, dict):
        return math.nan, None
    time, frame = obj.get("timestamp"), obj.get("frame")
    if isinstance(time, bool) or not isinstance(time, int | float) or not isinstance(frame, str):
        return math.nan, None
    try:
        return float(time), frame
    except OverflowError:  # an integer too large for a float
        return math.nan, None


def read_jsonl_frames(path: str | Path, sensor: int, bad: BadInput,
                      chunk_rows: int = 100_000) -> Iterator[FrameBatch]:
    """The frames of a JSON-lines recording (plain or gzip), ``chunk_rows`` at most at
    a time."""
    framer = JsonlFramer(sensor, bad)
    with open_input(path) as opened:
        for chunk in read_chunks(opened, READ_BYTES, bad):
            yield from _slices(framer.feed(chunk, math.nan), chunk_rows)
    yield from _slices(framer.finish(math.nan), chunk_rows)


def _slices(frames: FrameBatch, rows: int) -> Iterator[FrameBatch]:
    for start in range(0, len(frames), rows):
        yield frames[start: start + rows]
