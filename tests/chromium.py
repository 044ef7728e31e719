"""What every browser test shares: Debian's chromium, its launch arguments and the
folder screenshots are left in.  The ``browser`` fixture itself is in ``conftest.py``.

A browser test module calls ``require_chromium()`` at import, so it skips itself with
the reason (and the command that fixes it) on a machine without chromium or
Playwright; ``make test`` installs both.  ``open_on_loopback`` opens a page that may
talk to the node under test only, and records everything the page did wrong."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 # WebGL on the CPU: recent chromium no longer falls back to it by itself
                 "--enable-unsafe-swiftshader"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def require_chromium() -> None:
    """Skip the calling module unless chromium and Playwright are both installed."""
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (make test installs Debian's chromium as root)",
                    allow_module_level=True)
    pytest.importorskip("playwright.sync_api", reason="pip install playwright (dev)")


def open_on_loopback(browser: Any, url: str, external: list[str], errors: list[str], *,
                     expected: Callable[[Any], bool] = lambda response: False,
                     block: str | None = None, height: int = 800) -> Any:
    """A new page (in a context of its own) at ``url``.

    Requests off 127.0.0.1 are aborted and their URLs appended to ``external``.  Script
    errors, console errors and warnings, and HTTP errors (4xx/5xx) are appended to
    ``errors``, except a response ``expected(response)`` accepts (a failure the test
    provokes).  ``block``: requests whose URL holds it are aborted too, and HTTP and
    console errors are then not recorded (the blocked load failing is the point);
    script errors still are.  The software GL's performance notes are not the page's
    and are ignored."""
    context = browser.new_context(viewport={"width": 1280, "height": height})

    def only_loopback(route: Any) -> None:
        target = route.request.url
        if urlsplit(target).hostname != "127.0.0.1":
            external.append(target)
            route.abort()
        elif block and block in target:
            route.abort()
        else:
            route.continue_()

    def on_response(response: Any) -> None:
        if response.status >= 400 and not block and not expected(response):
            errors.append(f"HTTP {response.status} {response.request.method} {response.url}")

    def on_console(msg: Any) -> None:
        # the browser echoes each failed request as a console error: on_response judged it
        if block or msg.text.startswith("Failed to load resource: the server responded"):
            return
        if msg.type in ("error", "warning") and not msg.text.startswith("[.WebGL-"):
            errors.append(msg.text)

    context.route("**/*", only_loopback)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", on_response)
    page.on("console", on_console)
    page.goto(url)
    return page
