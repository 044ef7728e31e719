"""ADS-B extended squitter messages (DF17/18 ME field), one function per register.

Every function takes the 56-bit ME field as an integer and writes the fields it
decodes into row ``k`` of the report columns (which the caller has initialised to
'unknown').  Bit numbers below are ME bits 1-56 as in ICAO Doc 9871 (Appendix A
tables, 2nd edition) and DO-260B 2.2.3.2.

==========  ==============================================  =========================
type code   register                                        Doc 9871 table
==========  ==============================================  =========================
0           no position (barometric altitude only)          A-2-5 (altitude field)
1-4         BDS 0,8 identification and category             A-2-8
5-8         BDS 0,6 surface position                        A-2-6
9-18, 20-22 BDS 0,5 airborne position                       A-2-5
19          BDS 0,9 airborne velocity, subtypes 1-4          A-2-9a, A-2-9b
28          BDS 6,1 emergency/priority status (subtype 1)   A-2-97
29          BDS 6,2 target state and status                 A-2-98 (DO-260B 2-40)
31          BDS 6,5 aircraft operational status             A-2-101
==========  ==============================================  =========================
"""

from __future__ import annotations

import math
from typing import Final

import numba as nb
import numpy as np

from skyshare.decode.aircraft import AircraftTable
from skyshare.decode.altitude import ac12_ft, id13_squawk
from skyshare.decode.columns import ReportColumns
from skyshare.model import ReportFlag

CHARSET: Final = np.frombuffer(
    b"#ABCDEFGHIJKLMNOPQRSTUVWXYZ##### ###############0123456789######", dtype=np.uint8
).copy()
"""The 6-bit character set of identification (Annex 10 Vol IV Table 3-9)."""

F_ON_GROUND: Final = int(ReportFlag.ON_GROUND)
F_SURFACE: Final = int(ReportFlag.POSITION_SURFACE)
F_TAS: Final = int(ReportFlag.AIRSPEED_TAS)
F_VRATE_GEO: Final = int(ReportFlag.VRATE_GEO)
F_HEADING_MAG: Final = int(ReportFlag.HEADING_MAGNETIC)
F_ALERT: Final = int(ReportFlag.ALERT)
F_SPI: Final = int(ReportFlag.SPI)


@nb.njit(cache=True, nogil=True)
def me_bits(me: int, first: int, n: int) -> int:
    """ME bits ``first`` .. ``first + n - 1`` (1-based, MSB first) as an integer."""
    return (me >> (57 - first - n)) & ((1 << n) - 1)


@nb.njit(cache=True, nogil=True, inline="always")
def write_callsign(chars: int, out: ReportColumns, k: int, strict: bool) -> bool:
    """Eight 6-bit characters into the callsign column, without spaces.

    ``strict`` writes nothing and returns False when a character is outside the
    character set (shown as '#' by other decoders): a callsign with a hole in it is
    corrupt, and joining the valid characters around the hole would invent one.
    Without ``strict`` such characters are dropped.  An empty callsign is not written.
    """
    j = 0
    for i in range(8):
        c = CHARSET[(chars >> (42 - 6 * i)) & 0x3F]
        if c == 35 and strict:  # '#'
            return False
        if c != 32 and c != 35:
            j += 1
    if j == 0:
        return False
    j = 0
    for i in range(8):
        c = CHARSET[(chars >> (42 - 6 * i)) & 0x3F]
        if c != 32 and c != 35:
            out.callsign[k, j] = c
            j += 1
    return True


@nb.njit(cache=True, nogil=True, inline="always")
def identification(me: int, tc: int, out: ReportColumns, k: int) -> None:
    """BDS 0,8 (TC 1-4): emitter category and callsign."""
    ca = me_bits(me, 6, 3)
    if ca != 0:
        out.category[k] = ((14 - tc) << 4) | ca  # TC4 -> A, TC3 -> B, TC2 -> C, TC1 -> D
    write_callsign(me_bits(me, 9, 48), out, k, True)


@nb.njit(cache=True, nogil=True)
def nic_airborne(tc: int, nic_a: int, nic_b: int) -> int:
    """NIC of an airborne position (DO-260B Table 2-14, NIC supplements A and B).

    Where a combination of supplements is not in the table, the lower NIC of the
    type code is taken (a conservative reading for version 0/1 transmitters too).
    """
    if tc == 9 or tc == 20:
        return 11
    if tc == 10 or tc == 21:
        return 10
    if tc == 11:
        return 9 if nic_a and nic_b else 8
    if tc == 16:
        return 3 if nic_a and nic_b else 2
    if 12 <= tc <= 15:
        return 19 - tc  # 12 -> 7 ... 15 -> 4
    if tc == 17:
        return 1
    return 0


@nb.njit(cache=True, nogil=True)
def nic_surface(tc: int, nic_a: int, nic_c: int) -> int:
    """NIC of a surface position (DO-260B Table 2-14, NIC supplements A and C)."""
    if tc == 5:
        return 11
    if tc == 6:
        return 10
    if tc == 7:
        return 9 if nic_a else 8
    if nic_a and nic_c:
        return 7
    if nic_a or nic_c:
        return 6
    return 0


@nb.njit(cache=True, nogil=True, inline="always")
def airborne_fields(me: int, tc: int, out: ReportColumns, k: int, table: AircraftTable,
                    slot: int) -> tuple[bool, int, int]:
    """BDS 0,5 fields but the position: altitude, SPI/alert, NIC.  Returns the CPR.

    TC 20-22 carry the GNSS height (HAE) in the altitude field, coded like the
    barometric altitude (DO-260B 2.2.3.2.3.4.3; as rs1090 and dump1090 read it;
    pyModeS reads metres).
    """
    ss = me_bits(me, 6, 2)
    if ss == 1 or ss == 2:
        out.flags[k] |= F_ALERT
    elif ss == 3:
        out.flags[k] |= F_SPI
    alt = ac12_ft(me_bits(me, 9, 12))
    if tc < 20:
        out.alt_baro[k] = alt
    else:
        out.alt_geo[k] = alt
    out.nic[k] = nic_airborne(tc, table.nic_a[slot], me_bits(me, 8, 1))
    out.nacp[k] = table.nacp[slot]
    out.sil[k] = table.sil[slot]
    return me_bits(me, 22, 1) == 1, me_bits(me, 23, 17), me_bits(me, 40, 17)


@nb.njit(cache=True, nogil=True)
def movement_kt(mov: int) -> float:
    """Ground speed of the surface 'movement' code (Doc 9871 Table A-2-6, note 2).

    Each code stands for a speed band; the lower bound of the band is returned, as
    rs1090 and pyModeS do (codes 3-8 in 0.125 kt steps).
    """
    if mov == 0 or mov > 124:
        return math.nan  # 0: no information; 125-127: reserved
    if mov == 1:
        return 0.0  # stopped
    if mov <= 8:
        return 0.125 * (mov - 1)
    if mov <= 12:
        return 1.0 + (mov - 9) * 0.25
    if mov <= 38:
        return 2.0 + (mov - 13) * 0.5
    if mov <= 93:
        return 15.0 + (mov - 39) * 1.0
    if mov <= 108:
        return 70.0 + (mov - 94) * 2.0
    if mov <= 123:
        return 100.0 + (mov - 109) * 5.0
    return 175.0  # 124: 175 kt or more


@nb.njit(cache=True, nogil=True, inline="always")
def surface_fields(me: int, tc: int, out: ReportColumns, k: int, table: AircraftTable,
                   slot: int) -> tuple[bool, int, int]:
    """BDS 0,6 fields but the position: movement, track, NIC.  Returns the CPR."""
    out.flags[k] |= F_ON_GROUND | F_SURFACE
    mov = me_bits(me, 6, 7)
    if mov != 0:
        out.groundspeed[k] = movement_kt(mov)
    if me_bits(me, 13, 1):
        out.track[k] = me_bits(me, 14, 7) * (360.0 / 128.0)
    out.nic[k] = nic_surface(tc, table.nic_a[slot], table.nic_c[slot])
    out.nacp[k] = table.nacp[slot]
    out.sil[k] = table.sil[slot]
    return me_bits(me, 22, 1) == 1, me_bits(me, 23, 17), me_bits(me, 40, 17)


@nb.njit(cache=True, nogil=True, inline="always")
def velocity(me: int, out: ReportColumns, k: int, table: AircraftTable, slot: int) -> None:
    """BDS 0,9 (TC 19): ground velocity (subtypes 1, 2) or air velocity (3, 4).

    Subtypes 2 and 4 (supersonic) count in units of 4 kt.  The vertical rate source
    bit (ME 36) is 0 for a geometric (GNSS) rate and 1 for a barometric one.  The
    GNSS-minus-baro difference (ME 49-56) is not reported (alt_geo stays NaN).
    """
    st = me_bits(me, 6, 3)
    if st < 1 or st > 4:
        return
    out.nacv[k] = me_bits(me, 11, 3)
    scale = 4.0 if st == 2 or st == 4 else 1.0
    if st <= 2:
        vew = me_bits(me, 15, 10)
        vns = me_bits(me, 26, 10)
        if vew != 0 and vns != 0:
            vx = (vew - 1) * scale * (-1.0 if me_bits(me, 14, 1) else 1.0)
            vy = (vns - 1) * scale * (-1.0 if me_bits(me, 25, 1) else 1.0)
            out.groundspeed[k] = math.hypot(vx, vy)
            trk = math.degrees(math.atan2(vx, vy))
            out.track[k] = trk + 360.0 if trk < 0.0 else trk
    else:
        if me_bits(me, 14, 1):
            out.heading[k] = me_bits(me, 15, 10) * (360.0 / 1024.0)
            if table.hrd[slot] != 0:  # magnetic unless TC31 said true north
                out.flags[k] |= F_HEADING_MAG
        airspeed = me_bits(me, 26, 10)
        if airspeed != 0:
            out.airspeed[k] = (airspeed - 1) * scale
            if me_bits(me, 25, 1):
                out.flags[k] |= F_TAS
    vr = me_bits(me, 38, 9)
    if vr != 0:
        out.vertical_rate[k] = (vr - 1) * 64.0 * (-1.0 if me_bits(me, 37, 1) else 1.0)
        if me_bits(me, 36, 1) == 0:
            out.flags[k] |= F_VRATE_GEO


@nb.njit(cache=True, nogil=True, inline="always")
def status(me: int, out: ReportColumns, k: int) -> None:
    """BDS 6,1 (TC 28) subtype 1: emergency/priority status and Mode A code."""
    if me_bits(me, 6, 3) != 1:
        return
    out.emergency[k] = me_bits(me, 9, 3)
    id13 = me_bits(me, 12, 13)
    if id13 != 0:
        out.squawk[k] = id13_squawk(id13)


@nb.njit(cache=True, nogil=True, inline="always")
def target_state(me: int, out: ReportColumns, k: int, table: AircraftTable,
                 slot: int) -> None:
    """BDS 6,2 (TC 29) subtypes 0 and 1: NACp (ME 40-43) and SIL (ME 45-46) only."""
    if me_bits(me, 6, 2) > 1:
        return
    nacp = me_bits(me, 40, 4)
    sil = me_bits(me, 45, 2)
    out.nacp[k] = nacp
    out.sil[k] = sil
    table.nacp[slot] = nacp
    table.sil[slot] = sil


@nb.njit(cache=True, nogil=True, inline="always")
def operational_status(me: int, out: ReportColumns, k: int, table: AircraftTable,
                       slot: int) -> None:
    """BDS 6,5 (TC 31): version, NIC supplements A/C, NACp, SIL, heading reference.

    Subtype 0 is sent airborne and 1 on the surface, where NIC supplement C is the
    last bit of the capability class (ME 20).  Version 0 (DO-260) transmitters
    have none of these fields and are skipped.
    """
    st = me_bits(me, 6, 3)
    version = me_bits(me, 41, 3)
    if st > 1 or version == 0:
        return
    table.nic_a[slot] = me_bits(me, 44, 1)
    nacp = me_bits(me, 45, 4)
    sil = me_bits(me, 51, 2)
    table.nacp[slot] = nacp
    table.sil[slot] = sil
    table.hrd[slot] = me_bits(me, 54, 1)
    if st == 1:
        table.nic_c[slot] = me_bits(me, 20, 1)
        out.flags[k] |= F_ON_GROUND
    out.nacp[k] = nacp
    out.sil[k] = sil

