"""Shared fixtures: the real recordings in ../shared/data, and a headless chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chromium import CHROMIUM, CHROMIUM_ARGS, require_chromium

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
DATA_DIR = Path(os.environ.get("SKYSHARE_DATA", DEFAULT_DATA)).resolve()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared recordings; tests that need them skip with the reason when absent."""
    if not DATA_DIR.is_dir():
        pytest.skip(f"recordings not found at {DATA_DIR} (set SKYSHARE_DATA)")
    return DATA_DIR


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium, headless, driven by Playwright; one per test module."""
    require_chromium()
    from playwright import sync_api

    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
