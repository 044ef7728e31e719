"""Altitude and identity codes (ICAO Annex 10 Vol IV 3.1.2.6.5.4 and 3.1.2.6.7.1).

* AC13 -- the 13-bit altitude code of DF0/4/16/20 (frame bits 20-32):
  ``C1 A1 C2 A2 C4 A4 M B1 Q B2 D2 B4 D4``.  M = 1: metric altitude (its coding is
  not specified and no transponder uses it: decoded as unknown); Q = 1: 25 ft
  increments (the 11 remaining bits N give N * 25 - 1000 ft); Q = 0: Gillham
  (Mode C) code in 100 ft increments.
* AC12 -- the 12-bit altitude of ADS-B airborne positions (ICAO Doc 9871 Table
  A-2-5, ME bits 9-20): the AC13 layout without its M bit.
* ID13 -- the 13-bit identity (Mode A code) of DF5/21 and of TC28 subtype 1:
  ``C1 A1 C2 A2 C4 A4 X B1 D1 B2 D2 B4 D4``, read as four octal digits ABCD.

Every function returns NaN (altitude) or -1 (squawk) for codes that carry no or
an invalid value; none raises.
"""

from __future__ import annotations

import math

import numba as nb


@nb.njit(cache=True, nogil=True)
def _gray_to_binary(g: int) -> int:
    b = g
    s = g >> 1
    while s:
        b ^= s
        s >>= 1
    return b


@nb.njit(cache=True, nogil=True)
def gillham_ft(ac13: int) -> float:
    """Altitude (ft) of a Gillham-coded AC13 field (Q = 0); NaN if invalid.

    The 500 ft part is the reflected Gray code D2 D4 A1 A2 A4 B1 B2 B4; the 100 ft
    part is the 'five-cycle' code C1 C2 C4 (Gray values decoding to 1..4, and 7
    standing for 5; 0, 5 and 6 are illegal), counted downwards in odd 500 ft
    bands.  D1 is never used for altitude.
    """
    c1 = (ac13 >> 12) & 1
    a1 = (ac13 >> 11) & 1
    c2 = (ac13 >> 10) & 1
    a2 = (ac13 >> 9) & 1
    c4 = (ac13 >> 8) & 1
    a4 = (ac13 >> 7) & 1
    b1 = (ac13 >> 5) & 1
    d1 = (ac13 >> 4) & 1
    b2 = (ac13 >> 3) & 1
    d2 = (ac13 >> 2) & 1
    b4 = (ac13 >> 1) & 1
    d4 = ac13 & 1
    if d1:
        return math.nan
    gray500 = (d2 << 7) | (d4 << 6) | (a1 << 5) | (a2 << 4) | (a4 << 3) | (b1 << 2) \
        | (b2 << 1) | b4
    n500 = _gray_to_binary(gray500)
    n100 = _gray_to_binary((c1 << 2) | (c2 << 1) | c4)
    if n100 == 0 or n100 == 5 or n100 == 6:
        return math.nan
    if n100 == 7:
        n100 = 5
    if n500 & 1:
        n100 = 6 - n100
    return float((n500 * 5 + n100 - 13) * 100)


@nb.njit(cache=True, nogil=True)
def ac13_ft(ac13: int) -> float:
    """Barometric altitude (ft) of an AC13 field; NaN when absent or invalid."""
    if ac13 == 0:
        return math.nan
    if ac13 & 0x40:  # M bit: metric altitude, coding unspecified and unused in practice
        return math.nan
    if ac13 & 0x10:  # Q bit: 25 ft increments
        n = ((ac13 & 0x1F80) >> 2) | ((ac13 & 0x20) >> 1) | (ac13 & 0x0F)
        return float(n * 25 - 1000)
    return gillham_ft(ac13)


@nb.njit(cache=True, nogil=True)
def ac12_ft(ac12: int) -> float:
    """Barometric altitude (ft) of the AC12 field of an airborne position."""
    if ac12 == 0:
        return math.nan
    # Re-insert a zero M bit after the sixth bit to get the AC13 layout.
    return ac13_ft(((ac12 & 0xFC0) << 1) | (ac12 & 0x3F))


@nb.njit(cache=True, nogil=True)
def id13_squawk(id13: int) -> int:
    """Mode A code of an ID13 field as the four octal digits read in decimal (7700)."""
    a = (((id13 >> 7) & 1) << 2) | (((id13 >> 9) & 1) << 1) | ((id13 >> 11) & 1)
    b = (((id13 >> 1) & 1) << 2) | (((id13 >> 3) & 1) << 1) | ((id13 >> 5) & 1)
    c = (((id13 >> 8) & 1) << 2) | (((id13 >> 10) & 1) << 1) | ((id13 >> 12) & 1)
    d = ((id13 & 1) << 2) | (((id13 >> 2) & 1) << 1) | ((id13 >> 4) & 1)
    return a * 1000 + b * 100 + c * 10 + d
