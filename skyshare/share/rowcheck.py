"""Whether track rows from the wire are acceptable: one compiled pass over the rows.

:func:`track_rows_problem` is the value check of every received ``tracks`` message
(:mod:`skyshare.share.wire`): any row that no honest sender's egress could produce
rejects the whole message.  It runs once per received message, so it is a numba kernel
over the structured rows (a vectorised numpy version took ~25 array passes, 0.2 ms for
800 rows; this takes a few microseconds).

The kernel names TRACK_DTYPE's float columns one by one; :data:`FLOAT_COLUMNS` must
list every float column of TRACK_DTYPE (checked at import: a column added to the dtype
without a check here fails loudly instead of travelling unchecked).
"""

from __future__ import annotations

from typing import Final

import numba as nb
import numpy as np

from skyshare.model import TRACK_DTYPE, TrackBatch, TrackFlag

FLOAT_COLUMNS: Final = ("lat", "lon", "alt", "alt_geo", "groundspeed", "track",
                        "vertical_rate", "pos_sigma", "rssi", "first_seen", "last_seen",
                        "last_pos")
if set(FLOAT_COLUMNS) != {n for n in TRACK_DTYPE.names or () if TRACK_DTYPE[n].kind == "f"}:
    raise ImportError("rowcheck.FLOAT_COLUMNS differs from TRACK_DTYPE's float columns: "
                      "check the new column in _problem_kernel too")

_KNOWN_FLAGS: Final = int(sum(TrackFlag))
_EXERCISE: Final = int(TrackFlag.EXERCISE)
_PROBLEMS: Final = (
    "",
    "latitude outside -90..90",
    "longitude outside -180..180",
    "rssi, messages, sensors or partners sent (they never travel)",
    "unknown flag or source-kind bits",
    "emergency code above 7",
    "squawk is not four octal digits",
    "a real track in an exercise message",
)
_INFINITE: Final = 100  # + index in FLOAT_COLUMNS
_UNSORTED: Final = -1  # ids not strictly increasing: duplicates are checked apart


@nb.njit(cache=True, nogil=True)
def _octal_squawk(squawk: int) -> bool:
    if squawk == -1:
        return True
    if squawk < 0 or squawk > 7777:
        return False
    while squawk:
        if squawk % 10 > 7:
            return False
        squawk //= 10
    return True


@nb.njit(cache=True, nogil=True)
def _problem_kernel(rows: TrackBatch, exercise: bool, known_flags: int,
                    exercise_flag: int) -> int:
    """0, the first problem's code (see _PROBLEMS, _INFINITE), or _UNSORTED."""
    unsorted = False
    for i in range(rows.shape[0]):
        r = rows[i]
        f8 = np.float64
        floats = (f8(r.lat), f8(r.lon), f8(r.alt), f8(r.alt_geo), f8(r.groundspeed),
                  f8(r.track), f8(r.vertical_rate), f8(r.pos_sigma), f8(r.rssi),
                  f8(r.first_seen), f8(r.last_seen), f8(r.last_pos))
        for k in range(len(floats)):
            if np.isinf(floats[k]):
                return _INFINITE + k
        if not (np.isnan(r.lat) or -90.0 <= r.lat <= 90.0):
            return 1
        if not (np.isnan(r.lon) or -180.0 <= r.lon <= 180.0):
            return 2
        if not np.isnan(r.rssi) or r.messages != 0 or r.sensors != 0 or r.partners != 0:
            return 3
        if (r.flags & ~known_flags) != 0 or r.sources >= 128:
            return 4
        if r.emergency > 7:
            return 5
        if not _octal_squawk(r.squawk):
            return 6
        if exercise and (r.flags & exercise_flag) == 0:
            return 7
        if i and rows[i - 1].track_id >= r.track_id:
            unsorted = True
    return _UNSORTED if unsorted else 0


def track_rows_problem(rows: TrackBatch, *, exercise: bool) -> str:
    """Why these wire rows are not acceptable ("" when they are)."""
    code = _problem_kernel(rows, exercise, _KNOWN_FLAGS, _EXERCISE)
    if code >= _INFINITE:
        return f"infinite {FLOAT_COLUMNS[code - _INFINITE]}"
    if code == _UNSORTED:  # egress sends rows sorted by id; anything else is checked here
        return "a track id appears twice" if len(np.unique(rows["track_id"])) != len(
            rows) else ""
    return _PROBLEMS[code]


def warm_up() -> None:
    """Compile (or load from numba's cache) the kernel, for both layouts it meets."""
    from skyshare.model import empty_tracks
    from skyshare.share.wire import WIRE_TRACK_DTYPE

    rows = empty_tracks(2)
    rows["track_id"] = [1, 2]
    for batch in (rows, np.frombuffer(rows.tobytes(), WIRE_TRACK_DTYPE)):
        track_rows_problem(batch, exercise=False)
