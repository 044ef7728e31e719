"""Single-bit error correction of extended squitters (ICAO Annex 10 Vol IV 3.1.2.3.3).

The CRC is linear: the syndrome of a frame with one flipped bit is the syndrome of
that bit alone.  :data:`ERROR_SYNDROMES` maps the syndrome of each correctable bit
of a 112-bit frame to its position.  Bits 1-5 (the downlink format) are never
corrected: a repaired DF would turn a reply of another format into a squitter.
Only DF17/18 are repaired, since their parity is not overlaid with an address.
"""

from __future__ import annotations

from typing import Final

import numba as nb
import numpy as np
import numpy.typing as npt

from skyshare.decode.crc import TABLE

FIRST_CORRECTABLE_BIT: Final = 5
"""0-based index of the first bit that may be repaired (after the 5 DF bits)."""


def _crc_py(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFF) ^ int(TABLE[((crc >> 16) ^ byte) & 0xFF])
    return crc


def _error_syndromes() -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]]:
    """Syndromes of each single-bit error in bits 6..112, sorted, with the bit index."""
    syndromes = []
    for bit in range(FIRST_CORRECTABLE_BIT, 112):
        if bit < 88:
            data = bytearray(11)
            data[bit >> 3] = 0x80 >> (bit & 7)
            syndromes.append(_crc_py(bytes(data)))
        else:
            syndromes.append(1 << (111 - bit))
    syn = np.array(syndromes, dtype=np.uint32)
    bits = np.arange(FIRST_CORRECTABLE_BIT, 112, dtype=np.int64)
    order = np.argsort(syn)
    if len(np.unique(syn)) != len(syn):  # pragma: no cover - a property of the polynomial
        raise RuntimeError("single-bit syndromes of CRC-24 are not unique")
    return syn[order], bits[order]


ERROR_SYNDROMES, ERROR_BITS = _error_syndromes()


@nb.njit(cache=True, nogil=True)
def error_bit(syndrome: int) -> int:
    """0-based index of the single flipped bit giving ``syndrome``, or -1."""
    i = np.searchsorted(ERROR_SYNDROMES, np.uint32(syndrome))
    if i < ERROR_SYNDROMES.shape[0] and ERROR_SYNDROMES[i] == syndrome:
        return int(ERROR_BITS[i])
    return -1
