"""Beast binary framing (the Mode-S Beast / dump1090 port 30005 format), both ways.

A frame on the wire is ``0x1a``, a type byte, a 6-byte big-endian 12 MHz timestamp,
one signal byte and the Mode S (or Mode A/C) bytes; every 0x1a inside the frame is
doubled.  Types: ``'1'`` Mode A/C (2 bytes), ``'2'`` Mode S short (7), ``'3'`` Mode S
long (14), ``'4'`` receiver status (skipped silently).  Anything else resynchronises
at the next lone 0x1a and is counted in :class:`~skyshare.badinput.BadInput`:

* ``beast-bad-escape``: 0x1a followed by a byte that is no frame type, or a frame cut
  short by a lone 0x1a (the new frame that starts there is kept);
* ``beast-unknown-type``: a printable (or readsb 0xe3/0xe4) type byte we do not read;
* ``beast-garbage``: a run of bytes outside any frame.

An all-zero Mode A/C frame (no clock, no signal, code 0000) is the keepalive that
dump1090 sends on an idle connection; it is dropped, not counted.

The scan is one compiled pass over the buffer; only an incomplete last frame is kept
between reads, so any chunking of a stream gives the same frames and counts.
"""

from __future__ import annotations

from typing import Final

import numba as nb
import numpy as np
import numpy.typing as npt

from skyshare.badinput import BadInput
from skyshare.model import MAX_FRAME_BYTES, FrameBatch, FrameFlag
from skyshare.sources.frames import ClockTimer, frame_batch

ESC: Final = 0x1A
TYPE_MODE_AC: Final = 0x31
TYPE_SHORT: Final = 0x32
TYPE_LONG: Final = 0x33
TYPE_STATUS: Final = 0x34
MIN_WIRE_BYTES: Final = 11  # 0x1a, type, 6 clock, 1 signal, 2 Mode A/C bytes

# indices into the counters the kernel fills
_BAD_ESCAPE, _UNKNOWN_TYPE, _GARBAGE, _STATUS, _GOOD_BYTES = range(5)
_N_COUNTS: Final = 5


@nb.njit(cache=True, nogil=True)
def _payload_bytes(kind: int) -> int:
    if kind == TYPE_MODE_AC:
        return 2
    if kind == TYPE_SHORT:
        return 7
    if kind == TYPE_LONG:
        return 14
    return 0


@nb.njit(cache=True, nogil=True)
def _is_type_like(kind: int) -> bool:
    """A byte some receiver uses as a frame type (printable ASCII, readsb's 0xe3/0xe4)."""
    return (0x21 <= kind <= 0x7E) or kind == 0xE3 or kind == 0xE4


@nb.njit(cache=True, nogil=True)
def scan_beast(buf: npt.NDArray[np.uint8], state: npt.NDArray[np.int64],
               data: npt.NDArray[np.uint8], length: npt.NDArray[np.uint8],
               clock: npt.NDArray[np.uint64], signal: npt.NDArray[np.uint8],
               counts: npt.NDArray[np.int64]) -> tuple[int, int]:
    """Frames found in ``buf`` -> (number of frames written, bytes consumed).

    ``state[0]`` is 1 while resynchronising (skipping to the next lone 0x1a) and is
    carried over between calls; the unconsumed tail is an incomplete frame.
    """
    n_buf = buf.shape[0]
    unescaped = np.empty(7 + MAX_FRAME_BYTES, dtype=np.uint8)
    i = 0
    n = 0
    resync = state[0]
    while i < n_buf:
        if resync:
            if buf[i] != ESC:
                i += 1
                continue
            if i + 1 >= n_buf:
                break
            if buf[i + 1] == ESC:  # an escaped 0x1a inside a frame we are skipping
                i += 2
                continue
            resync = 0
        elif buf[i] != ESC:
            counts[_GARBAGE] += 1
            resync = 1
            i += 1
            continue
        if i + 1 >= n_buf:
            break
        kind = int(buf[i + 1])
        n_payload = _payload_bytes(kind)
        if n_payload == 0:
            if kind == TYPE_STATUS:
                counts[_STATUS] += 1
            elif kind != ESC and _is_type_like(kind):
                counts[_UNKNOWN_TYPE] += 1
            else:
                counts[_BAD_ESCAPE] += 1
            resync = 1
            if kind != ESC:  # a doubled 0x1a is skipped as a pair by the resync
                i += 2
            continue
        # unescape 6 clock bytes, 1 signal byte and the payload
        total = 7 + n_payload
        j = i + 2
        k = 0
        cut = False
        while k < total and j < n_buf:
            byte = buf[j]
            if byte == ESC:
                if j + 1 >= n_buf:
                    break
                if buf[j + 1] != ESC:
                    cut = True
                    break
                j += 1
            unescaped[k] = byte
            k += 1
            j += 1
        if cut:  # a new frame starts at j; this one is lost
            counts[_BAD_ESCAPE] += 1
            i = j
            continue
        if k < total:  # incomplete: keep from i for the next read
            break
        counts[_GOOD_BYTES] += j - i
        if n_payload == 2 and not unescaped[:9].any():  # a keepalive, not a reply
            i = j
            continue
        ticks = np.uint64(0)
        for b in range(6):
            ticks = (ticks << np.uint64(8)) | np.uint64(unescaped[b])
        clock[n] = ticks
        signal[n] = unescaped[6]
        length[n] = n_payload
        for b in range(n_payload):
            data[n, b] = unescaped[7 + b]
        n += 1
        i = j
    state[0] = resync
    return n, i


def signal_to_rssi(signal: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """Beast signal byte -> dBFS, ``20 log10(signal / 255)``; NaN for 0 (none)."""
    with np.errstate(divide="ignore"):
        rssi = (20.0 * np.log10(signal / 255.0)).astype(np.float32)
    rssi[signal == 0] = np.nan
    return rssi


def rssi_to_signal(rssi: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    """dBFS -> Beast signal byte (1-255; 0 for NaN, which means none)."""
    finite = np.isfinite(rssi)
    level = np.where(finite, 255.0 * 10.0 ** (np.where(finite, rssi, 0.0) / 20.0), 0.0)
    return np.where(finite, np.clip(np.rint(level), 1, 255), 0).astype(np.uint8)


class BeastFramer:
    """Beast bytes -> frames, keeping only an incomplete frame between reads.

    ``clock_epoch`` None (live feeds): every frame's time is the ``recv_time`` of the
    read.  For recordings give ``clock_epoch``: time is then derived from the 12 MHz
    clock (see :class:`~skyshare.sources.frames.ClockTimer`).
    """

    def __init__(self, sensor: int, bad: BadInput, clock_epoch: float | None = None) -> None:
        self.sensor = sensor
        self.bad = bad
        self.good_bytes = 0
        """Bytes (on the wire) that were part of good frames, for the garbage guard."""
        self._timer = ClockTimer(clock_epoch) if clock_epoch is not None else None
        self._tail = b""
        self._state = np.zeros(1, dtype=np.int64)

    @property
    def pending_bytes(self) -> int:
        """Bytes of an incomplete frame kept for the next read."""
        return len(self._tail)

    def feed(self, chunk: bytes, recv_time: float) -> FrameBatch:
        buf = self._tail + bytes(chunk) if self._tail else bytes(chunk)
        arr = np.frombuffer(buf, dtype=np.uint8)
        n_max = len(buf) // MIN_WIRE_BYTES + 1
        data = np.zeros((n_max, MAX_FRAME_BYTES), dtype=np.uint8)
        length = np.empty(n_max, dtype=np.uint8)
        clock = np.empty(n_max, dtype=np.uint64)
        signal = np.empty(n_max, dtype=np.uint8)
        counts = np.zeros(_N_COUNTS, dtype=np.int64)
        n, used = scan_beast(arr, self._state, data, length, clock, signal, counts)
        self._tail = buf[used:]
        self._count(counts)
        clock = clock[:n]
        time = (self._timer.times(clock, clock != 0) if self._timer is not None
                else recv_time)
        return frame_batch(self.sensor, data[:n], length[:n], clock,
                           signal_to_rssi(signal[:n]), time)

    def finish(self, recv_time: float) -> FrameBatch:
        """End of stream: an incomplete last frame is counted (``beast-truncated``)."""
        if self._tail and not self._state[0]:
            self.bad.add("beast-truncated", detail="the stream ended inside a frame")
        self._tail = b""
        self._state[0] = 0
        return frame_batch(self.sensor, np.zeros((0, MAX_FRAME_BYTES), np.uint8),
                           np.zeros(0, np.uint8), np.zeros(0, np.uint64),
                           np.zeros(0, np.float32), recv_time)

    def _count(self, counts: npt.NDArray[np.int64]) -> None:
        self.good_bytes += int(counts[_GOOD_BYTES])
        self.bad.add("beast-bad-escape", int(counts[_BAD_ESCAPE]),
                     "0x1a not followed by a frame type, or a frame cut short")
        self.bad.add("beast-unknown-type", int(counts[_UNKNOWN_TYPE]),
                     "a frame type other than '1', '2', '3' or '4'")
        self.bad.add("beast-garbage", int(counts[_GARBAGE]), "bytes outside any frame")


@nb.njit(cache=True, nogil=True)
def _encode(data: npt.NDArray[np.uint8], length: npt.NDArray[np.uint8],
            clock: npt.NDArray[np.uint64], signal: npt.NDArray[np.uint8],
            out: npt.NDArray[np.uint8]) -> int:
    raw = np.empty(7 + MAX_FRAME_BYTES, dtype=np.uint8)
    pos = 0
    for i in range(length.shape[0]):
        n_payload = length[i]
        out[pos] = ESC
        out[pos + 1] = (TYPE_MODE_AC if n_payload == 2
                        else TYPE_SHORT if n_payload == 7 else TYPE_LONG)
        pos += 2
        for b in range(6):
            raw[b] = (clock[i] >> np.uint64(8 * (5 - b))) & np.uint64(0xFF)
        raw[6] = signal[i]
        for b in range(n_payload):
            raw[7 + b] = data[i, b]
        for b in range(7 + n_payload):
            out[pos] = raw[b]
            pos += 1
            if raw[b] == ESC:
                out[pos] = ESC
                pos += 1
    return pos


def encode_beast(frames: FrameBatch) -> bytes:
    """Frames as a Beast byte stream: the clock when CLOCK_VALID (else 0), the signal
    byte from ``rssi``.  Frames must be 2, 7 or 14 bytes long."""
    length = frames["length"]
    if not np.isin(length, (2, 7, 14)).all():
        raise ValueError("Beast carries only 2-, 7- and 14-byte frames")
    valid = (frames["flags"] & np.uint8(FrameFlag.CLOCK_VALID)) != 0
    clock = np.where(valid, frames["clock"], np.uint64(0)).astype(np.uint64)
    signal = rssi_to_signal(frames["rssi"])
    out = np.empty(len(frames) * 2 * (2 + 7 + MAX_FRAME_BYTES), dtype=np.uint8)
    n = _encode(np.ascontiguousarray(frames["data"]), np.ascontiguousarray(length),
                clock, signal, out)
    return out[:n].tobytes()
