"""The network an exercise runs on: a NATS server and one node per partner.

:func:`prepare` writes a federation folder (the same layout as ``skyshare federation
init``) for the scenario's partners: agreements sharing everything both ways, alerts
and hand-overs included (``exercise.yaml``); each node with the scenario's regions and
volumes and one ``exercise: true`` sensor per simulated sensor (ADS-B receivers push
to a ``listen:`` port, radars to a ``udp:`` port, all on loopback); a duty officer and a
supervisor per partner (``<node>/data/exercise-logins.txt``).  :class:`Network` starts
the server and the nodes (``skyshare run``, one process each) and stops them.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import yaml

from skyshare.auth import USERS_FILE, Role, UserStore
from skyshare.errors import SkyshareError
from skyshare.exercise.scenario import Scenario
from skyshare.node import free_port, free_udp_port
from skyshare.share.natsserver import NatsCluster
from skyshare.share.setup import Layout, NodeExtras, init_federation

LOGINS_FILE: Final = "exercise-logins.txt"
START_TIMEOUT_S: Final = 300.0  # a first run compiles the numba kernels


@dataclass(frozen=True)
class Login:
    user: str
    password: str
    partner: str
    role: Role


@dataclass(frozen=True)
class PartnerNode:
    """One partner's node as the exercise sees it."""

    partner: str
    url: str
    data_dir: Path
    config: Path
    logins: tuple[Login, ...]
    targets: dict[str, tuple[str, int]]  # its exercise sensors: name -> where to send

    @property
    def duty(self) -> Login:
        return next(x for x in self.logins if x.role == Role.DUTY_OFFICER)


def _agreements(scenario: Scenario) -> dict[str, Any]:
    """Everything shared both ways between every two partners, for the exercise."""
    bounds = [r.geometry.bounds for r in scenario.regions.regions]
    w, s = min(b[0] for b in bounds) - 5, min(b[1] for b in bounds) - 5
    e, n = max(b[2] for b in bounds) + 5, max(b[3] for b in bounds) + 5
    box = [[max(s, -89.0), max(w, -179.0)], [min(n, 89.0), max(w, -179.0)],
           [min(n, 89.0), min(e, 179.0)], [max(s, -89.0), min(e, 179.0)]]
    today = datetime.now(UTC).date()
    valid = {"from": (today - timedelta(days=1)).isoformat(),
             "until": (today + timedelta(days=30)).isoformat()}
    return {"agreements": [
        {"id": f"{a}-to-{b}", "from": a, "to": b, "valid": valid,
         "regions": [{"name": "exercise-area", "polygon": box}],
         "fields": ["position", "identity", "squawk", "quality", "provenance"],
         "sources": "own", "max_rate_hz": 2.0, "alerts": True, "handover": True}
        for a in scenario.partners for b in scenario.partners if a != b]}


def _sensor_entries(scenario: Scenario, partner: str) -> tuple[list[dict[str, Any]],
                                                                 dict[str, tuple[str, int]]]:
    entries, targets = [], {}
    for s in scenario.sensors:
        if s.partner != partner:
            continue
        entry: dict[str, Any] = {"name": s.name, "format": s.format,
                                 "position": [s.lat, s.lon, s.alt_m], "exercise": True}
        if s.radar is not None:
            port = free_udp_port()
            entry["udp"] = f"127.0.0.1:{port}"
            entry["radar"] = {"sigma_range_m": s.radar.range_sigma_m,
                              "sigma_azimuth_deg": s.radar.azimuth_sigma_deg,
                              "rotation_s": s.radar.rotation_s}
        else:
            port = free_port()
            entry["listen"] = f"127.0.0.1:{port}"
        entries.append(entry)
        targets[s.name] = ("127.0.0.1", port)
    return entries, targets


def _logins(data_dir: Path, partner: str) -> tuple[Login, ...]:
    """A duty officer and a supervisor of ``partner`` with fresh random passwords."""
    data_dir.mkdir(parents=True, exist_ok=True)
    store = UserStore(data_dir / USERS_FILE)
    existing = {u.user for u in store.users()}
    out = []
    for user, role in ((f"duty-{partner}", Role.DUTY_OFFICER),
                       (f"sup-{partner}", Role.SUPERVISOR)):
        password = secrets.token_urlsafe(12)
        if user in existing:
            store.set_password(user, password)
        else:
            store.add(user, partner, role, password)
        out.append(Login(user, password, partner, role))
    fd = os.open(data_dir / LOGINS_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("# exercise log-ins (user  password  partner  role)\n")
        f.writelines(f"{x.user:14} {x.password}  {x.partner:8} {x.role.value}\n" for x in out)
    return tuple(out)


def prepare(scenario: Scenario, root: Path) -> tuple[Layout, list[PartnerNode]]:
    """Write the exercise's federation folder under ``root``; the partners' nodes."""
    root.mkdir(parents=True, exist_ok=True)
    agreements = root / "agreements" / "exercise.yaml"
    agreements.parent.mkdir(parents=True, exist_ok=True)
    agreements.write_text(yaml.safe_dump(_agreements(scenario), sort_keys=False),
                          encoding="utf-8")
    airspace = {"regions": [str(p) for p in scenario.region_files],
                "volumes": [str(p) for p in scenario.volume_files]}
    http = {p: free_port() for p in scenario.partners}
    layout = init_federation(root, [agreements.parent], servers=1, port=free_port(),
                             extras={p: NodeExtras(http_port=http[p], airspace=airspace)
                                     for p in scenario.partners})
    nodes = []
    for partner in scenario.partners:
        config = layout.node_config(partner)
        doc = yaml.safe_load(config.read_text(encoding="utf-8"))
        sensors, targets = _sensor_entries(scenario, partner)
        doc["sensors"] = sensors
        header = f"# node of partner {partner} for exercise {scenario.name}\n"
        config.write_text(header + yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        data_dir = Path(doc["node"]["data_dir"])
        nodes.append(PartnerNode(partner, f"http://127.0.0.1:{http[partner]}", data_dir,
                                 config, _logins(data_dir, partner), targets))
    return layout, nodes


class Network:
    """The NATS server and the nodes of a prepared exercise folder, as processes."""

    def __init__(self, layout: Layout, nodes: list[PartnerNode]) -> None:
        self.layout = layout
        self.nodes = nodes
        self.cluster: NatsCluster | None = None
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self) -> None:
        self.cluster = self.layout.cluster()
        self.cluster.start()
        self.layout.ensure_streams()
        for node in self.nodes:
            with (node.config.parent / "node.log").open("ab") as log:
                self.processes[node.partner] = subprocess.Popen(
                    [sys.executable, "-m", "skyshare", "run", str(node.config)],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def wait_ready(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Return once every node answers HTTP; SkyshareError naming the log if one
        stops or does not answer in time."""
        deadline = time.monotonic() + timeout_s
        waiting = {n.partner: n for n in self.nodes}
        while waiting:
            for partner, node in list(waiting.items()):
                proc = self.processes[partner]
                if proc.poll() is not None:
                    raise SkyshareError(f"node {partner} stopped (exit {proc.returncode}); "
                                        f"see {node.config.parent / 'node.log'}")
                if _answers(node.url):
                    del waiting[partner]
            if waiting and time.monotonic() > deadline:
                raise SkyshareError(f"node(s) {', '.join(waiting)} did not start within "
                                    f"{timeout_s:.0f} s; see their node.log")
            time.sleep(0.25)

    def stopped(self) -> list[str]:
        """Partners whose node has stopped by itself."""
        return [p for p, proc in self.processes.items() if proc.poll() is not None]

    def stop(self) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.processes.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.cluster is not None:
            self.cluster.stop()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/status", timeout=2) as r:
            json.load(r)
            return True
    except (OSError, urllib.error.URLError, ValueError):
        return False
