"""Vertical limits as the files write them."""

from __future__ import annotations

import math

import pytest

from skyshare.airspace import LimitRef, parse_limit


@pytest.mark.parametrize(("text", "value", "ref"), [
    ("FL95", 95.0, LimitRef.FL), ("fl 95", 95.0, LimitRef.FL),
    ("2500 ft AMSL", 2500.0, LimitRef.AMSL), ("2500FT MSL", 2500.0, LimitRef.AMSL),
    ("2500ft", 2500.0, LimitRef.AMSL), ("2500", 2500.0, LimitRef.AMSL),
    ("1000ft AGL", 1000.0, LimitRef.AGL), ("1000 ft SFC", 1000.0, LimitRef.AGL),
    ("1000ft GND", 1000.0, LimitRef.AGL), ("600m", 600 / 0.3048, LimitRef.AMSL),
    ("600M", 600 / 0.3048, LimitRef.AMSL), ("300 m AGL", 300 / 0.3048, LimitRef.AGL),
    ("5000ft STD", 50.0, LimitRef.FL), ("GND", 0.0, LimitRef.GND), ("SFC", 0.0, LimitRef.GND),
    ("UNL", math.inf, LimitRef.UNL), ("Unlimited", math.inf, LimitRef.UNL),
    (1500, 1500.0, LimitRef.AMSL), (1500.5, 1500.5, LimitRef.AMSL)])
def test_parse_limit(text: object, value: float, ref: LimitRef) -> None:
    limit = parse_limit(text)
    assert (limit.value, limit.ref) == (pytest.approx(value), ref)


@pytest.mark.parametrize("text", ["FL", "abc", "10 km", "", "-100ft", "1000ft AGL/FL100",
                                  True, None, float("nan"), "FL95 AGL"])
def test_parse_limit_rejects(text: object) -> None:
    with pytest.raises(ValueError, match="altitude"):
        parse_limit(text)
