"""Mode S replies and squitters other than ADS-B (Annex 10 Vol IV 3.1.2.8 and 3.1.2.6).

==========  ======================================  ===================================
DF          content                                 fields decoded (frame bits)
==========  ======================================  ===================================
0, 16       short / long air-air surveillance       VS (6), AC13 altitude (20-32)
4, 20       surveillance / Comm-B altitude reply    FS (6-8), AC13 altitude (20-32)
5, 21       surveillance / Comm-B identity reply    FS (6-8), ID13 Mode A code (20-32)
11          all-call reply (acquisition squitter)   CA (6-8), AA address (9-32)
20, 21      Comm-B                                  BDS 2,0 aircraft identification
==========  ======================================  ===================================

``hdr`` below is frame bits 1-32 as an integer.  Comm-B registers are not
self-identifying; only BDS 2,0 is decoded, recognised by its first octet (0x20)
and eight valid characters, which is how rs1090 and pyModeS infer it.
"""

from __future__ import annotations

from typing import Final

import numba as nb

from skyshare.decode.adsb import write_callsign
from skyshare.decode.altitude import ac13_ft, id13_squawk
from skyshare.decode.columns import ReportColumns
from skyshare.model import ReportFlag

F_ON_GROUND: Final = int(ReportFlag.ON_GROUND)
F_ALERT: Final = int(ReportFlag.ALERT)
F_SPI: Final = int(ReportFlag.SPI)


@nb.njit(cache=True, nogil=True, inline="always")
def flight_status(fs: int, out: ReportColumns, k: int) -> None:
    """FS field (Annex 10 Vol IV 3.1.2.6.5.1): alert, SPI and on-ground flags."""
    if fs == 1 or fs == 3:
        out.flags[k] |= F_ON_GROUND
    if fs == 2 or fs == 3 or fs == 4:
        out.flags[k] |= F_ALERT
    if fs == 4 or fs == 5:
        out.flags[k] |= F_SPI


@nb.njit(cache=True, nogil=True, inline="always")
def reply(df: int, hdr: int, mb: int, out: ReportColumns, k: int) -> None:
    """Fields of a DF0/4/5/16/20/21 reply into row ``k`` (address already written)."""
    code13 = hdr & 0x1FFF
    if df == 0 or df == 16:
        if (hdr >> 26) & 1:  # VS: vertical status, 1 = on the ground
            out.flags[k] |= F_ON_GROUND
        out.alt_baro[k] = ac13_ft(code13)
        return
    flight_status((hdr >> 24) & 7, out, k)
    if df == 4 or df == 20:
        out.alt_baro[k] = ac13_ft(code13)
    else:
        out.squawk[k] = id13_squawk(code13)
    if (df == 20 or df == 21) and (mb >> 48) == 0x20:
        write_callsign(mb & 0xFFFFFFFFFFFF, out, k, True)


@nb.njit(cache=True, nogil=True)
def capability_on_ground(ca: int) -> bool:
    """CA field of DF11/17 (Annex 10 Vol IV 3.1.2.5.2.2.1): 4 = on the ground."""
    return ca == 4
