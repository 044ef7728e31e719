"""Fixtures of the airspace tests."""

from __future__ import annotations

import pytest
from airspace_helpers import OPENAIR

from skyshare.airspace import Volume, load_openair


@pytest.fixture(scope="module")
def openair() -> dict[str, Volume]:
    return {v.name: v for v in load_openair(OPENAIR)}
