"""The package's public names."""

from __future__ import annotations

import skyshare.airspace as airspace
from skyshare import errors


def test_public_api() -> None:
    assert sorted(airspace.__all__) == airspace.__all__
    for name in airspace.__all__:
        assert hasattr(airspace, name)


def test_error_and_constants_are_the_shared_ones() -> None:
    assert airspace.AirspaceFileError is errors.AirspaceFileError
    assert issubclass(airspace.AirspaceFileError, errors.ConfigError)
    assert (airspace.EARTH_RADIUS_M, airspace.NM_M) == (6_371_008.8, 1852.0)  # skyshare.alerts
