"""CAT048 written from columns: what a radar (the simulator, or a partner's test feed)
sends.

:func:`encode_plots` turns :data:`~.cat048.PLOT_DTYPE` rows into data blocks of at most
``max_block`` bytes (one UDP datagram each), one compiled pass; a column left unknown
leaves its item out (I048/010, /020 and /040 are always written).  Values are
rounded to the items' resolutions; out-of-range values are clipped to what the item
can hold (a range beyond 256 NM cannot be written and the plot is dropped, counted in
the return value).  Items written: I048/010, /140, /020 (with TST), /040, /070, /090,
/220, /240, /161, /200 and /170 (only its CNF bit, for a tentative track).
"""

from __future__ import annotations

import math
from typing import Final, Protocol

import numba as nb
import numpy as np
import numpy.typing as npt

from skyshare.decode.asterix.records import next_block, put_be

MAX_BLOCK: Final = 1400  # bytes: one UDP datagram on any usual MTU
_MAX_RECORD: Final = 4 + 2 + 3 + 2 + 4 + 2 + 2 + 3 + 6 + 2 + 4 + 1  # FSPEC + the items
_CODE: Final = np.zeros(256, np.uint8)  # ASCII -> 6-bit ICAO character (space: 32)
for _i, _c in enumerate(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
    _CODE[_c] = _i + 1
for _i, _c in enumerate(b"0123456789"):
    _CODE[_c] = 48 + _i
_CODE[ord(" ")] = 32
_CODE[0] = 32


class PlotRow(Protocol):
    """One :data:`~.cat048.PLOT_DTYPE` row as the kernel reads it."""

    sac: int
    sic: int
    tod: float
    typ: int
    flags: int
    range_m: float
    azimuth_deg: float
    squawk: int
    fl: float
    icao24: int
    track_number: int
    groundspeed_kt: float
    heading_deg: float


@nb.njit(cache=True, nogil=True)
def _record(buf: npt.NDArray[np.uint8], p: int, r: PlotRow, cs: npt.NDArray[np.uint8],
            code: npt.NDArray[np.uint8]) -> int:
    """Write one CAT048 record at ``p``; returns its end."""
    fspec = np.zeros(4, np.uint8)
    start = p
    p += 4  # room for the longest FSPEC; moved down once known
    body = p
    p = put_be(buf, p, r.sac, 1)
    p = put_be(buf, p, r.sic, 1)
    fspec[0] |= 0x80
    if math.isfinite(r.tod):
        p = put_be(buf, p, round(r.tod * 128.0) % (1 << 24), 3)
        fspec[0] |= 0x40
    typ = r.typ if r.typ <= 7 else 0
    b = (typ << 5) | (0x10 if r.flags & 1 else 0) | (0x04 if r.flags & 2 else 0) | (
        0x02 if r.flags & 4 else 0)
    if r.flags & (1 << 3):  # TST, in the first extension
        p = put_be(buf, p, b | 1, 1)
        p = put_be(buf, p, 0x80, 1)
    else:
        p = put_be(buf, p, b, 1)
    fspec[0] |= 0x20
    p = put_be(buf, p, min(round(r.range_m / 1852.0 * 256.0), 65535), 2)
    p = put_be(buf, p, round(r.azimuth_deg / 360.0 * 65536.0) % 65536, 2)
    fspec[0] |= 0x10
    if r.squawk >= 0:
        sq = r.squawk
        v = 0  # four octal digits written in decimal, 7 at most each (clipped)
        for scale in (1000, 100, 10, 1):
            v = (v << 3) | min((sq // scale) % 10, 7)
        if r.flags & (1 << 4):
            v |= 0x8000
        if r.flags & (1 << 5):
            v |= 0x4000
        if r.flags & (1 << 6):
            v |= 0x2000
        p = put_be(buf, p, v, 2)
        fspec[0] |= 0x08
    if math.isfinite(r.fl):
        q = min(max(round(r.fl * 4.0), -8192), 8191) & 0x3FFF
        if r.flags & (1 << 7):
            q |= 0x8000
        if r.flags & (1 << 8):
            q |= 0x4000
        p = put_be(buf, p, q, 2)
        fspec[0] |= 0x04
    if r.icao24 != 0xFFFFFFFF:
        p = put_be(buf, p, r.icao24 & 0xFFFFFF, 3)
        fspec[1] |= 0x80
    if cs[0] != 0:
        bits = 0
        for c in range(8):
            bits = (bits << 6) | int(code[cs[c]])
        p = put_be(buf, p, bits, 6)
        fspec[1] |= 0x40
    if r.track_number >= 0:
        p = put_be(buf, p, r.track_number & 0x0FFF, 2)
        fspec[1] |= 0x10
    if math.isfinite(r.groundspeed_kt) and math.isfinite(r.heading_deg):
        p = put_be(buf, p, min(round(r.groundspeed_kt / 3600.0 * 16384.0), 65535), 2)
        p = put_be(buf, p, round(r.heading_deg / 360.0 * 65536.0) % 65536, 2)
        fspec[1] |= 0x04
    if r.flags & (1 << 9):  # I048/170 with CNF: a tentative track
        p = put_be(buf, p, 0x80, 1)
        fspec[1] |= 0x02
    n_fspec = 1
    for k in range(3, 0, -1):
        if fspec[k]:
            n_fspec = k + 1
            break
    for k in range(n_fspec - 1):
        fspec[k] |= 1  # FX
    # move the items down so that the FSPEC sits right before them
    shift = 4 - n_fspec
    if shift:
        for k in range(body, p):
            buf[k - shift] = buf[k]
        p -= shift
    for k in range(n_fspec):
        buf[start + k] = fspec[k]
    return p


@nb.njit(cache=True, nogil=True)
def _encode(rows: npt.NDArray[np.void], callsigns: npt.NDArray[np.uint8],
            code: npt.NDArray[np.uint8], max_block: int, buf: npt.NDArray[np.uint8],
            bounds: npt.NDArray[np.int64]) -> tuple[int, int, int]:
    """(bytes written, blocks, plots dropped)."""
    p, n_blocks, dropped = 0, 0, 0
    block = -1
    for i in range(len(rows)):
        r = rows[i]
        if not (r.range_m >= 0.0 and r.range_m < 65535.5 / 256.0 * 1852.0
                and math.isfinite(r.azimuth_deg)):
            dropped += 1
            continue
        p, block, n_blocks = next_block(buf, p, block, 48, _MAX_RECORD, max_block, bounds,
                                        n_blocks)
        p = _record(buf, p, r, callsigns[i], code)
    if block >= 0:
        put_be(buf, block + 1, p - block, 2)
    bounds[n_blocks] = p
    return p, n_blocks, dropped


def encode_plots(plots: npt.NDArray[np.void], max_block: int = MAX_BLOCK
                 ) -> tuple[list[bytes], int]:
    """CAT048 data blocks of ``plots`` (PLOT_DTYPE rows), each at most ``max_block``
    bytes; and how many plots could not be written (range beyond 256 NM, or none)."""
    if max_block < 64:
        raise ValueError(f"max_block must be at least 64 bytes, not {max_block}")
    callsigns = np.zeros((len(plots), 8), np.uint8)
    names = plots["callsign"].astype("S8")
    callsigns[:] = np.frombuffer(names.tobytes(), np.uint8).reshape(len(plots), 8)
    blank = (callsigns == 0) & (np.arange(8) > 0)
    callsigns[blank & (callsigns[:, :1] != 0)] = ord(" ")  # pad known callsigns
    buf = np.zeros(len(plots) * (_MAX_RECORD + 3) + 3, np.uint8)
    bounds = np.zeros(len(plots) + 2, np.int64)
    _, n_blocks, dropped = _encode(plots, callsigns, _CODE, max_block, buf, bounds)
    return [buf[bounds[k]:bounds[k + 1]].tobytes() for k in range(n_blocks)], dropped

