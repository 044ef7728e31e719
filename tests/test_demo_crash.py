"""The README's demo, killed with SIGKILL right after a duty officer's acknowledgement:
the acknowledgement the API confirmed is in the audit log, the log verifies
(`skyshare audit verify`, as a reviewer would run it), and the restarted node shows the
case again and never reuses an alert id."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from skyshare.node import free_port
from skyshare.store.audit import AUDIT_FILE, AuditLog


def wait_for(check, timeout_s: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if (found := check()):
                return found
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{what} within {timeout_s} s")


def start_demo(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with (data_dir / "demo.out").open("a") as out:
        demo = subprocess.Popen(
            [sys.executable, "-m", "skyshare", "demo", "--port", str(port), "--data-dir",
             str(data_dir), "--aircraft", "200", "--incident-every", "2"],
            stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: httpx.get(f"{base}/api/status").status_code == 200, 120, "no node")
    return demo, base


def test_kill_after_acknowledging_loses_nothing(tmp_path: Path) -> None:
    demo, base = start_demo(tmp_path)
    try:
        logins = {line.split()[0]: line.split()[1] for line in
                  (tmp_path / "demo-logins.txt").read_text().splitlines()
                  if not line.startswith("#")}
        alert = wait_for(lambda: next(iter(httpx.get(f"{base}/api/alerts").json()["alerts"]),
                                      None), 90, "no alert")
        user = f"{alert['partner']}-duty"
        with httpx.Client(base_url=base) as client:
            r = client.post("/api/login", json={"user": user, "password": logins[user]})
            assert r.status_code == 200, r.text
            r = client.post(f"/api/alerts/{alert['id']}/acknowledge", json={})
            assert r.status_code == 200, r.text
        os.kill(demo.pid, signal.SIGKILL)  # no shutdown, no final head
        demo.wait(timeout=10)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    verify = subprocess.run([sys.executable, "-m", "skyshare", "audit", "verify", "--data-dir",
                             str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "chain intact" in verify.stdout + verify.stderr
    with AuditLog(tmp_path / AUDIT_FILE, "demo") as log:  # reopening checks the tail too
        acks = [(e.subject, e.actor) for e in log.entries(kind="alert.acknowledged")]
        before = {e.subject for e in log.entries(kind="alert.raised")}
    assert (alert["id"], user) in acks

    # restarted on the same log: the acknowledged case is back (rebuilt from the log),
    # and the alerts raised since have ids the log never held
    demo, base = start_demo(tmp_path)
    try:
        back = wait_for(lambda: {a["id"]: a for a in httpx.get(f"{base}/api/alerts").json()[
            "alerts"]}, 90, "no alerts after the restart")
        fresh = wait_for(lambda: [a["id"] for a in httpx.get(f"{base}/api/alerts").json()[
            "alerts"] if a["id"] not in before], 90, "no new alert after the restart")
    finally:
        demo.terminate()
        demo.wait(timeout=30)
    assert back[alert["id"]]["acknowledged_by"] == user
    with AuditLog(tmp_path / AUDIT_FILE, "demo") as log:
        raised = [e.subject for e in log.entries(kind="alert.raised")]
    assert set(fresh) <= set(raised) and len(raised) == len(set(raised))
