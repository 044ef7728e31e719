"""AVR text framing (dump1090 port 30002 "raw" output), both ways.

One frame per line: ``*`` + hex + ``;``, or ``@`` + 12 hex digits of the 12 MHz clock
+ hex + ``;``.  4, 14 or 28 hex digits make a Mode A/C, short or long frame.  The
``;`` may be missing at the end of a line, lines may end in ``\\r\\n``, blank lines
are ignored.  Skipped lines are counted in :class:`~skyshare.badinput.BadInput` as
``avr-bad-hex`` (a non-hex digit), ``avr-bad-length`` (another number of digits, or
a line longer than :data:`MAX_LINE`) or ``avr-bad-line`` (no ``*``/``@`` at the start);
the lines around them are kept.  ``*0000;`` is the keepalive dump1090 sends on an
idle connection and is dropped.
"""

from __future__ import annotations

from typing import Final

import numba as nb
import numpy as np
import numpy.typing as npt

from skyshare.badinput import BadInput
from skyshare.model import MAX_FRAME_BYTES, FrameBatch, FrameFlag
from skyshare.sources.frames import ClockTimer, frame_batch
from skyshare.sources.hexcodec import (
    all_hex,
    hex_field,
    hex_to_bytes,
    is_frame_digits,
    write_hex,
    write_hex_u48,
)

MAX_LINE: Final = 256
"""Longer lines are skipped whole (the longest valid one has 43 bytes)."""
MIN_LINE_BYTES: Final = 6  # "*0000\n"
NL: Final = 0x0A
_BAD_HEX, _BAD_LENGTH, _BAD_LINE, _GOOD_BYTES = range(4)
_N_COUNTS: Final = 4
_KEEPALIVE: Final = 100


@nb.njit(cache=True, nogil=True)
def _is_space(byte: int) -> bool:
    return byte == 0x20 or byte == 0x09 or byte == 0x0D


@nb.njit(cache=True, nogil=True)
def _frame_line(buf: npt.NDArray[np.uint8], start: int, stop: int, row: npt.NDArray[np.uint8],
                clock: npt.NDArray[np.uint64], n: int) -> int:
    """Decode one line ``buf[start:stop]`` (no newline) into ``row``: its length in
    bytes (> 0), 0 for a blank line, _KEEPALIVE, or -1 - the index of the counter to
    increase."""
    if stop - start > MAX_LINE:  # before trimming: the same rule as for a partial line
        return -1 - _BAD_LENGTH
    while start < stop and _is_space(buf[start]):
        start += 1
    while stop > start and _is_space(buf[stop - 1]):
        stop -= 1
    if start == stop:
        return 0
    lead = buf[start]
    if lead != 0x2A and lead != 0x40:  # '*', '@'
        return -1 - _BAD_LINE
    if buf[stop - 1] == 0x3B:  # ';'
        stop -= 1
    start += 1
    if not all_hex(buf, start, stop):
        return -1 - _BAD_HEX
    ticks = np.int64(0)
    if lead == 0x40:
        if stop - start < 12:
            return -1 - _BAD_LENGTH
        ticks = hex_field(buf, start, 12)
        start += 12
    n_digits = stop - start
    if not is_frame_digits(n_digits):
        return -1 - _BAD_LENGTH
    hex_to_bytes(buf, start, n_digits, row)
    if n_digits == 4 and ticks == 0 and row[0] == 0 and row[1] == 0:
        return _KEEPALIVE
    clock[n] = np.uint64(ticks)
    return n_digits // 2


@nb.njit(cache=True, nogil=True)
def scan_avr(buf: npt.NDArray[np.uint8], state: npt.NDArray[np.int64], final: bool,
             data: npt.NDArray[np.uint8], length: npt.NDArray[np.uint8],
             clock: npt.NDArray[np.uint64], counts: npt.NDArray[np.int64]) -> tuple[int, int]:
    """Frames of the complete lines of ``buf`` -> (frames written, bytes consumed).

    ``final`` also takes an unterminated last line.  ``state[0]`` is 1 while skipping
    the rest of an over-long line (carried over between calls).
    """
    n_buf = buf.shape[0]
    i = 0
    n = 0
    while i < n_buf:
        end = i
        while end < n_buf and buf[end] != NL:
            end += 1
        if state[0]:  # the rest of a line already counted as too long
            if end >= n_buf and not final:
                i = n_buf
                break
            state[0] = 0
            i = end + 1
            continue
        if end >= n_buf and not final:
            if end - i > MAX_LINE:  # this line will be too long: skip it, count it once
                counts[_BAD_LENGTH] += 1
                state[0] = 1
                i = n_buf
            break
        got = _frame_line(buf, i, end, data[n], clock, n)
        if got == _KEEPALIVE:
            counts[_GOOD_BYTES] += end + 1 - i
        elif got > 0:
            length[n] = got
            counts[_GOOD_BYTES] += end + 1 - i
            n += 1
        elif got < 0:
            counts[-1 - got] += 1
        i = end + 1
    return n, min(i, n_buf)


class AvrFramer:
    """AVR lines -> frames, keeping only an incomplete line between reads.

    Time is ``recv_time`` for live feeds; with ``clock_epoch`` (recordings) it comes
    from the ``@`` clocks as for Beast, and ``*`` lines take the time of the last
    clocked line (``clock_epoch`` before any).
    """

    def __init__(self, sensor: int, bad: BadInput, clock_epoch: float | None = None) -> None:
        self.sensor = sensor
        self.bad = bad
        self.good_bytes = 0
        self._timer = ClockTimer(clock_epoch) if clock_epoch is not None else None
        self._tail = b""
        self._state = np.zeros(1, dtype=np.int64)

    def feed(self, chunk: bytes, recv_time: float) -> FrameBatch:
        return self._scan(bytes(chunk), recv_time, final=False)

    def finish(self, recv_time: float) -> FrameBatch:
        """End of stream: frame a last line that has no newline."""
        out = self._scan(b"", recv_time, final=True)
        self._state[0] = 0
        return out

    def _scan(self, chunk: bytes, recv_time: float, final: bool) -> FrameBatch:
        buf = self._tail + chunk if self._tail else chunk
        arr = np.frombuffer(buf, dtype=np.uint8)
        n_max = len(buf) // MIN_LINE_BYTES + 1
        data = np.zeros((n_max, MAX_FRAME_BYTES), dtype=np.uint8)
        length = np.empty(n_max, dtype=np.uint8)
        clock = np.empty(n_max, dtype=np.uint64)
        counts = np.zeros(_N_COUNTS, dtype=np.int64)
        n, used = scan_avr(arr, self._state, final, data, length, clock, counts)
        self._tail = buf[used:]
        self.good_bytes += int(counts[_GOOD_BYTES])
        self.bad.add("avr-bad-hex", int(counts[_BAD_HEX]), "a line with non-hex digits")
        self.bad.add("avr-bad-length", int(counts[_BAD_LENGTH]),
                     "a line that is not 4, 14 or 28 hex digits")
        self.bad.add("avr-bad-line", int(counts[_BAD_LINE]), "a line not starting with * or @")
        clock = clock[:n]
        time = (self._timer.times(clock, clock != 0) if self._timer is not None
                else recv_time)
        rssi = np.full(n, np.nan, dtype=np.float32)
        return frame_batch(self.sensor, data[:n], length[:n], clock, rssi, time)


@nb.njit(cache=True, nogil=True)
def _encode(data: npt.NDArray[np.uint8], length: npt.NDArray[np.uint8],
            clock: npt.NDArray[np.uint64], with_clock: npt.NDArray[np.bool_],
            out: npt.NDArray[np.uint8]) -> int:
    pos = 0
    for i in range(length.shape[0]):
        if with_clock[i]:
            out[pos] = 0x40
            pos = write_hex_u48(clock[i], out, pos + 1)
        else:
            out[pos] = 0x2A
            pos += 1
        pos = write_hex(data[i], length[i], out, pos)
        out[pos] = 0x3B
        out[pos + 1] = NL
        pos += 2
    return pos


def encode_avr(frames: FrameBatch, with_clock: bool = False) -> bytes:
    """Frames as AVR lines (``*HEX;\\n``); with ``with_clock`` the frames that have a
    clock (CLOCK_VALID) are written ``@`` + 12 clock digits + ``HEX;``."""
    length = frames["length"]
    if not np.isin(length, (2, 7, 14)).all():
        raise ValueError("AVR carries only 2-, 7- and 14-byte frames")
    clocked = (frames["flags"] & np.uint8(FrameFlag.CLOCK_VALID)) != 0
    clocked &= bool(with_clock)
    out = np.empty(len(frames) * (16 + 2 * MAX_FRAME_BYTES), dtype=np.uint8)
    n = _encode(np.ascontiguousarray(frames["data"]), np.ascontiguousarray(length),
                np.ascontiguousarray(frames["clock"]), clocked, out)
    return out[:n].tobytes()
