"""The README's ``make demo``: ``skyshare federation demo`` as a user runs it.

One process starts a NATS server and three partner nodes; the test waits for the three
maps, checks through the API that every partner sees the other two connected and that
the pictures merge partner tracks (under the demo agreements, which it reads like a
user would), opens central's map in Debian's chromium to see the Partners panel, then
stops the demo with SIGINT and checks that nothing is left running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from chromium import ARTIFACTS, open_on_loopback, require_chromium

from skyshare.node import free_port

require_chromium()

PARTNERS = ("west", "central", "east")


def free_run(count: int) -> int:
    """The first of ``count`` consecutive free ports."""
    for _ in range(50):
        first = free_port()
        if first + count < 65536 and all(_free(first + i) for i in range(1, count)):
            return first
    raise RuntimeError("no run of free ports")


def _free(port: int) -> bool:
    import socket
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def get(url: str) -> Any:
    return httpx.get(url, timeout=5).json()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    root = tmp_path_factory.mktemp("federation-demo")
    base, nats = free_run(3), free_port()
    out = (root / "demo.out").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "skyshare", "federation", "demo", "--dir", str(root / "fed"),
         "--aircraft", "300", "--port", str(base), "--nats-port", str(nats)],
        stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    urls = {p: f"http://127.0.0.1:{base + i}" for i, p in enumerate(PARTNERS)}
    try:
        deadline = time.monotonic() + 180  # three nodes compiling their kernels on 2 cores
        while time.monotonic() < deadline:
            assert proc.poll() is None, (root / "demo.out").read_text()
            try:
                states = [get(u + "/api/status")["federation"] for u in urls.values()]
                if all(s and s["connected"] == 2 for s in states):
                    break
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(1)
        else:
            pytest.fail("the demo's partners did not all connect:\n"
                        + (root / "demo.out").read_text())
        yield urls
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        out.close()
    assert proc.returncode == 0, (root / "demo.out").read_text()
    for url in urls.values():  # every node stopped with it
        with pytest.raises(httpx.HTTPError):
            httpx.get(url + "/api/status", timeout=2)


def test_the_demo_prints_its_maps_and_the_partners_share(demo: dict[str, str]) -> None:
    deadline = time.monotonic() + 60
    merged: dict[str, list[str]] = {}
    while time.monotonic() < deadline and len(merged) < 3:
        for partner, url in demo.items():
            tracks = get(url + "/api/picture")["tracks"]
            got = sorted({p for t in tracks for p in t["partners"]})
            if got:
                merged[partner] = got
        time.sleep(2)
    # the demo agreements: central gives west and east; west gives central and east;
    # east gives central (east's agreement with west is revoked)
    assert set(merged.get("central", [])) <= {"west", "east"} and merged.get("central")
    assert "east" not in merged.get("west", [])
    for partner, url in demo.items():
        rows = {r["partner"]: r for r in get(url + "/api/partners")["partners"]}
        assert set(rows) == set(PARTNERS) - {partner}
        assert all(r["state"] == "connected" for r in rows.values())
        assert not any(r["dropped"] for r in rows.values()), rows
        for r in rows.values():  # data received: its measurement-to-picture latency shows
            if r["received"]["tracks"]:
                assert r["latency_p99_s"] is not None and r["latency_p99_s"] > 0, r


def test_central_map_shows_both_partners_connected(browser: Any, demo: dict[str, str]
                                                   ) -> None:
    errors: list[str] = []
    page = open_on_loopback(browser, demo["central"] + "/", [], errors)
    try:
        page.wait_for_selector("#partners-section:not([hidden])", timeout=20_000)
        for name in ("west", "east"):
            item = page.locator(f"#partners li[data-partner={name}]")
            item.wait_for(timeout=10_000)
            assert item.get_attribute("data-state") == "connected"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "federation-demo-central.png"))
        assert not errors, errors
    finally:
        page.context.close()


def test_each_partner_keeps_the_others_audit_heads(demo: dict[str, str]) -> None:
    """Every node's audit head reaches its partners, who record it (audit replication)."""
    deadline = time.monotonic() + 60
    rows: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        rows = [r for url in demo.values() for r in get(url + "/api/partners")["partners"]]
        if all(r.get("audit_head") for r in rows):
            break
        time.sleep(1)
    assert all(r.get("audit_head") and r["audit_head"]["seq"] > 0 for r in rows), rows
    assert not any(r.get("audit_conflicts") for r in rows), rows
