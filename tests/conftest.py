"""Shared fixtures: the real recordings in ../shared/data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
DATA_DIR = Path(os.environ.get("SKYSHARE_DATA", DEFAULT_DATA)).resolve()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared recordings; tests that need them skip with the reason when absent."""
    if not DATA_DIR.is_dir():
        pytest.skip(f"recordings not found at {DATA_DIR} (set SKYSHARE_DATA)")
    return DATA_DIR
