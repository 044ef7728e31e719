"""A partner's node killed with SIGKILL and restarted: its alerts panel shows the same
cases as before (rebuilt from its audit log: JetStream does not deliver again what was
acknowledged), then what changed while it was down (from JetStream), with nothing
recorded twice, and its officers act on the restored cases as before.

West runs as a real node process (``python -m skyshare run node.yaml``, the file
``skyshare federation init`` writes); central is what a federated node runs for alerts
(audit log, AlertService, Federation and AlertLink on an event loop thread, see
test_alertlink), so that the test decides when its aircraft squawk."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from web.nodes import PASSWORD  # tests/, on sys.path (tests.share's root)

from skyshare.alerts.workflow import State
from skyshare.auth import USERS_FILE, Actor, Role, UserStore
from skyshare.share.setup import Layout, NodeExtras, init_federation
from skyshare.store.audit import AUDIT_FILE, AuditLog

from .conftest import free_port
from .fedkit import Loop
from .test_alertlink import AGREEMENTS, Site, close_site, emergency, open_site, wait_until

START_S = 180.0  # a node's first start compiles the numba kernels


class West:
    """West's node as a process, and an HTTP client logged in as its duty officer."""

    def __init__(self, layout: Layout, port: int) -> None:
        self.config = layout.node_config("west")
        self.base = f"http://127.0.0.1:{port}"
        self.out = self.config.parent / "node.out"
        self.proc: subprocess.Popen[bytes] | None = None
        self.web = httpx.Client(base_url=self.base, timeout=10)

    def start(self) -> None:
        with self.out.open("a") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "skyshare", "run",
                                          str(self.config)], stdout=out,
                                         stderr=subprocess.STDOUT)
        wait_until("west's node up", self._up, START_S)
        token = self.web.post("/api/login", json={"user": "wanda", "password": PASSWORD})
        assert token.status_code == 200, token.text
        self.web.headers["authorization"] = f"Bearer {token.json()['token']}"

    def _up(self) -> bool:
        assert self.proc is not None and self.proc.poll() is None, self.out.read_text()
        try:
            return self.web.get("/api/status").status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)  # no shutdown, no final audit head
            self.proc.wait(timeout=10)

    def listed(self) -> dict[str, dict[str, Any]]:
        return {a["id"]: a for a in self.web.get("/api/alerts").json()["alerts"]}

    def shows(self, alert_id: str, state: str) -> bool:
        case = self.listed().get(alert_id)
        return case is not None and case["state"] == state and case["pending"] is None

    def act(self, alert_id: str, action: str, **body: str) -> None:
        sent = self.web.post(f"/api/alerts/{alert_id}/{action}", json=body)
        assert sent.status_code == 202, sent.text  # forwarded to central, pending


def squawking(site: Site, aircraft: list[float]) -> set[str]:
    """Evaluate one emergency per longitude (all of them, so that none clears) at
    ``site``; the ids of the alerts raised."""
    before = {c.id for c in site.service.workflow.cases()}
    site.service.update(np.concatenate([emergency(lon, track_id=i + 1)
                                        for i, lon in enumerate(aircraft)]))
    site.link.wake()
    return {c.id for c in site.service.workflow.cases()} - before


def logged(data_dir: Path, kind: str) -> list[tuple[str, dict[str, Any]]]:
    """(subject, data) of west's audit entries of ``kind``, read as a reviewer would
    while the node runs (read-only)."""
    uri = f"{(data_dir / AUDIT_FILE).resolve().as_uri()}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        rows = db.execute("SELECT subject, data FROM entries WHERE kind = ? ORDER BY seq",
                          (kind,)).fetchall()
    return [(subject, json.loads(data)) for subject, data in rows]


def received(data_dir: Path) -> Counter[tuple[str, int]]:
    """(alert id, version) of every ``alert.received`` in west's audit log."""
    return Counter((subject, data["version"])
                   for subject, data in logged(data_dir, "alert.received"))


def test_a_killed_node_shows_its_cases_again_and_catches_up_once(tmp_path: Path,
                                                                 loop: Loop) -> None:
    (tmp_path / "agreements.yaml").write_text(AGREEMENTS)
    port = free_port()
    layout = init_federation(tmp_path / "fed", [tmp_path / "agreements.yaml"],
                             port=free_port(), extras={"west": NodeExtras(http_port=port)})
    data_dir = layout.node_config("west").parent / "data"
    data_dir.mkdir(parents=True)
    UserStore(data_dir / USERS_FILE, scrypt_n=2**10).add("wanda", "west", "duty_officer",
                                                         PASSWORD)
    west = West(layout, port)
    walt = Actor("walt", "west", Role.SUPERVISOR)  # a west supervisor working at central
    with layout.cluster():
        layout.ensure_streams()
        central = open_site(layout, loop, tmp_path, "central")
        try:
            west.start()
            kept, changed = sorted(squawking(central, [5.0, 6.0]))  # both over west
            wait_until("both cases at west", lambda: {kept, changed} <= west.listed().keys())
            for alert_id in (kept, changed):
                west.act(alert_id, "acknowledge")
            wait_until("central's answers at west", lambda: all(
                west.shows(a, "acknowledged") for a in (kept, changed)))
            before, seen = received(data_dir), west.listed()[kept]

            west.kill()
            central.service.act("resolve", changed, walt, text="landed safely")
            (new,) = squawking(central, [5.0, 6.0, 7.0])  # a third aircraft, while down
            wait_until("central's notes stored", lambda: central.link.unsent == 0)

            west.start()
            wait_until("the cases at west again", lambda: west.shows(kept, "acknowledged")
                       and west.shows(changed, "resolved") and west.shows(new, "new"), 60)
            shown = west.listed()
            assert shown[kept]["acknowledged_by"] == "wanda@west"
            assert shown[changed]["resolved_by"] == "walt"
            same = ("state", "acknowledged_by", "acknowledged_at", "updated_at", "origin",
                    "can", "lat", "lon", "icao24")
            assert {k: shown[kept][k] for k in same} == {k: seen[k] for k in same}
            history = west.web.get(f"/api/alerts/{kept}").json()["history"]
            assert [h["kind"] for h in history] == ["alert.received", "alert.forwarded",
                                                    "alert.received"]
            after = received(data_dir)  # kept came back from the log, not delivered again
            assert {k: n for k, n in after.items() if k[0] == kept} == {
                k: n for k, n in before.items() if k[0] == kept}

            west.act(kept, "resolve", comment="crew confirmed")
            wait_until("the resolution at west", lambda: west.shows(kept, "resolved"))
        finally:
            west.kill()
            west.web.close()
            close_site(central, loop)
    assert max(received(data_dir).values()) == 1, received(data_dir)
    verify = subprocess.run([sys.executable, "-m", "skyshare", "audit", "verify",
                             "--data-dir", str(data_dir)], capture_output=True, text=True,
                            timeout=60)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    with AuditLog(data_dir / AUDIT_FILE, "west"):  # reopening checks the tail too
        pass
    (_, summary), = logged(data_dir, "alert.restored")
    assert (summary["mirrors"], summary["own"], summary["skipped"]) == (2, 0, 0)
    at_central = {a: central.service.workflow.get(a) for a in (kept, changed, new)}
    assert at_central[kept].resolved_by == "wanda@west"
    assert at_central[changed].acknowledged_by == "wanda@west"  # west's, before the kill
    assert at_central[changed].resolved_by == "walt"
    assert at_central[new].state == State.NEW
