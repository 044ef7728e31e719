"""Hex text <-> frame bytes, compiled, for the text formats (AVR lines, JSON lines).

``HEX_VALUE`` maps an ASCII byte to its nibble value, or 0xFF for a non-hex byte.
"""

from __future__ import annotations

from typing import Final

import numba as nb
import numpy as np
import numpy.typing as npt


def _make_hex_value() -> npt.NDArray[np.uint8]:
    table = np.full(256, 0xFF, dtype=np.uint8)
    for i, c in enumerate(b"0123456789abcdef"):
        table[c] = i
    for i, c in enumerate(b"ABCDEF"):
        table[c] = 10 + i
    return table


HEX_VALUE: Final = _make_hex_value()
HEX_DIGITS: Final = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8).copy()

# Frame lengths in bytes accepted from hex text: Mode A/C, Mode S short, Mode S long.
ROW_OK: Final = 0
ROW_BAD_HEX: Final = 1
ROW_BAD_LENGTH: Final = 2


@nb.njit(cache=True, nogil=True)
def is_frame_digits(n_digits: int) -> bool:
    """4, 14 or 28 hex digits: a Mode A/C, short or long frame."""
    return n_digits == 4 or n_digits == 14 or n_digits == 28


@nb.njit(cache=True, nogil=True)
def hex_to_bytes(buf: npt.NDArray[np.uint8], start: int, n_digits: int,
                 out: npt.NDArray[np.uint8]) -> bool:
    """Decode ``n_digits`` (even) hex digits at ``buf[start:]`` into ``out``; False if
    any is not a hex digit (``out`` is then partly written)."""
    for k in range(n_digits // 2):
        hi = HEX_VALUE[buf[start + 2 * k]]
        lo = HEX_VALUE[buf[start + 2 * k + 1]]
        if hi == 0xFF or lo == 0xFF:
            return False
        out[k] = (hi << 4) | lo
    return True


@nb.njit(cache=True, nogil=True)
def all_hex(buf: npt.NDArray[np.uint8], start: int, stop: int) -> bool:
    for i in range(start, stop):  # noqa: SIM110 (a plain loop compiles best in numba)
        if HEX_VALUE[buf[i]] == 0xFF:
            return False
    return True


@nb.njit(cache=True, nogil=True)
def hex_field(buf: npt.NDArray[np.uint8], start: int, n_digits: int) -> np.int64:
    """Up to 15 hex digits as an integer; -1 if any is not a hex digit."""
    value = np.int64(0)
    for i in range(start, start + n_digits):
        v = HEX_VALUE[buf[i]]
        if v == 0xFF:
            return np.int64(-1)
        value = (value << 4) | np.int64(v)
    return value


@nb.njit(cache=True, nogil=True)
def decode_hex_rows(text: npt.NDArray[np.uint8], offsets: npt.NDArray[np.int64],
                    data: npt.NDArray[np.uint8], length: npt.NDArray[np.uint8],
                    status: npt.NDArray[np.uint8]) -> None:
    """Row ``i`` is ``text[offsets[i]:offsets[i + 1]]`` (e.g. an Arrow string column):
    decode each into ``data[i]``/``length[i]``, with ``status[i]`` one of ROW_*."""
    for i in range(offsets.shape[0] - 1):
        start = offsets[i]
        n_digits = offsets[i + 1] - start
        length[i] = 0
        if not all_hex(text, start, start + n_digits):
            status[i] = ROW_BAD_HEX
        elif not is_frame_digits(n_digits):
            status[i] = ROW_BAD_LENGTH
        else:
            hex_to_bytes(text, start, n_digits, data[i])
            length[i] = n_digits // 2
            status[i] = ROW_OK


@nb.njit(cache=True, nogil=True)
def write_hex(src: npt.NDArray[np.uint8], n_bytes: int, out: npt.NDArray[np.uint8],
              pos: int) -> int:
    """Write ``src[:n_bytes]`` as upper-case hex at ``out[pos:]``; the new position."""
    for k in range(n_bytes):
        out[pos] = HEX_DIGITS[src[k] >> 4]
        out[pos + 1] = HEX_DIGITS[src[k] & 0xF]
        pos += 2
    return pos


@nb.njit(cache=True, nogil=True)
def write_hex_u48(value: np.uint64, out: npt.NDArray[np.uint8], pos: int) -> int:
    """A 48-bit counter as 12 upper-case hex digits at ``out[pos:]``."""
    for k in range(12):
        out[pos + k] = HEX_DIGITS[(value >> np.uint64(4 * (11 - k))) & np.uint64(0xF)]
    return pos + 12

