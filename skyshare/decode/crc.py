"""Mode S CRC-24 (ICAO Annex 10 Vol IV 3.1.2.3.3), vectorised over frame batches.

The parity field of every Mode S frame is the CRC of the preceding bits, XORed with
the address (DF0/4/5/16/20/21), with the interrogator code (DF11), or with nothing
(DF17/18).  :func:`syndrome` returns that XOR: 0 for a valid extended squitter, the
aircraft address for surveillance replies.
"""

from __future__ import annotations

from typing import Final

import numba as nb
import numpy as np
import numpy.typing as npt

GENERATOR: Final = 0xFFF409  # x^24 + ... generator, top bit implicit


def _make_table() -> npt.NDArray[np.uint32]:
    table = np.zeros(256, dtype=np.uint32)
    for i in range(256):
        c = i << 16
        for _ in range(8):
            c = ((c << 1) ^ GENERATOR) if c & 0x800000 else (c << 1)
        table[i] = c & 0xFFFFFF
    return table


TABLE: Final = _make_table()


@nb.njit(cache=True, nogil=True)
def crc24(data: npt.NDArray[np.uint8], nbytes: int) -> np.uint32:
    """CRC-24 of the first ``nbytes`` bytes of one frame."""
    crc = 0
    for i in range(nbytes):
        crc = ((crc << 8) & 0xFFFFFF) ^ TABLE[((crc >> 16) ^ data[i]) & 0xFF]
    return np.uint32(crc)


@nb.njit(cache=True, nogil=True)
def syndrome_one(data: npt.NDArray[np.uint8], length: int) -> np.uint32:
    """CRC of the data bits XOR the transmitted parity (last 3 bytes) of one frame."""
    n = length - 3
    parity = (np.uint32(data[n]) << 16) | (np.uint32(data[n + 1]) << 8) | np.uint32(data[n + 2])
    return crc24(data, n) ^ parity


@nb.njit(cache=True, nogil=True)
def syndrome(data: npt.NDArray[np.uint8], length: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint32]:
    """:func:`syndrome_one` over a batch (``data`` is (n, 14)); 0xFFFFFFFF for bad lengths."""
    out = np.empty(data.shape[0], dtype=np.uint32)
    for i in range(data.shape[0]):
        if length[i] == 7 or length[i] == 14:
            out[i] = syndrome_one(data[i], length[i])
        else:
            out[i] = np.uint32(0xFFFFFFFF)
    return out


@nb.njit(cache=True, nogil=True)
def write_parity(data: npt.NDArray[np.uint8], length: npt.NDArray[np.uint8]) -> None:
    """Fill the parity field (last 3 bytes) of each frame in place, for encoders."""
    for i in range(data.shape[0]):
        n = length[i] - 3
        crc = crc24(data[i], n)
        data[i, n] = (crc >> 16) & 0xFF
        data[i, n + 1] = (crc >> 8) & 0xFF
        data[i, n + 2] = crc & 0xFF
