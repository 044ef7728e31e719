"""What the framers share: assembling a :data:`FrameBatch` from kernel columns, and
turning a receiver's 12 MHz clock into UNIX time for recordings."""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from skyshare.model import FRAME_DTYPE, FrameBatch, FrameFlag

TICKS_PER_S: Final = 12e6
"""Beast and AVR '@' timestamps count a 12 MHz clock."""
_WRAP: Final = 1 << 48
_HALF: Final = 1 << 47
_MASK: Final = _WRAP - 1


def frame_batch(sensor: int, data: npt.NDArray[np.uint8], length: npt.NDArray[np.uint8],
                clock: npt.NDArray[np.uint64], rssi: npt.NDArray[np.float32],
                time: npt.NDArray[np.float64] | float) -> FrameBatch:
    """Frames from columns; ``data`` is (n, 14) zero padded; flags derived: CLOCK_VALID
    where ``clock`` is non-zero (receivers send 0 when they have no timestamp) and
    MODE_AC for 2-byte frames."""
    out = np.empty(len(length), dtype=FRAME_DTYPE)
    out["time"] = time
    out["clock"] = clock
    out["sensor"] = sensor
    out["length"] = length
    flags = np.where(clock != 0, np.uint8(FrameFlag.CLOCK_VALID), np.uint8(0))
    flags |= np.where(length == 2, np.uint8(FrameFlag.MODE_AC), np.uint8(0))
    out["flags"] = flags
    out["rssi"] = rssi
    out["data"] = data
    return out


class ClockTimer:
    """Times of recorded frames from their receiver clock.

    ``time = epoch + (clock - first_clock) / 12e6``, the 48-bit counter unwrapped (a
    step back of less than half the range is taken as jitter, not a wrap).  A frame
    without a clock gets the time of the last frame that had one (``epoch`` before any).
    Stateful across calls, so a recording read in chunks gets the same times as read
    whole.
    """

    def __init__(self, epoch: float) -> None:
        self.epoch = float(epoch)
        self._first: int | None = None
        self._last_raw = 0
        self._last_unwrapped = 0
        self._last_time = self.epoch

    def times(self, clock: npt.NDArray[np.uint64],
              valid: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
        n = len(clock)
        full = np.full(n, self._last_time)
        idx = np.flatnonzero(valid)
        if len(idx):
            c = clock[idx].astype(np.int64)
            if self._first is None:
                self._first = self._last_raw = self._last_unwrapped = int(c[0])
            prev = np.empty_like(c)
            prev[0] = self._last_raw
            prev[1:] = c[:-1]
            step = (c - prev) & _MASK
            step = np.where(step >= _HALF, step - _WRAP, step)
            unwrapped = self._last_unwrapped + np.cumsum(step)
            full[idx] = self.epoch + (unwrapped - self._first) / TICKS_PER_S
            self._last_raw, self._last_unwrapped = int(c[-1]), int(unwrapped[-1])
            # frames without a clock take the time of the last one with a clock
            pos = np.where(valid, np.arange(n), -1)
            np.maximum.accumulate(pos, out=pos)
            full = np.where(pos >= 0, full[np.maximum(pos, 0)], self._last_time)
        if n:
            self._last_time = float(full[-1])
        return full
