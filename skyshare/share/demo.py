"""``skyshare federation demo``: a NATS server and three partner nodes on loopback.

The partners ``west``, ``central`` and ``east`` (the regions of ``skyshare demo``) each
run a node with its own synthetic receiver.  All three simulate the same aircraft (same
seed, aircraft count and start time) and each receiver hears those above its own radio
horizon, so neighbours see some aircraft twice and each sees only part of the sky
alone.  Central also has a simulated radar (Mode S and primary): every other demo
incident switches an aircraft's transponder off, and central keeps it on primary radar
alone.  They share under the demo agreements (``skyshare/data/agreements/demo.yaml``,
copied to ``DIR/agreements/`` so you can edit it while the demo runs: the nodes reload
it within a second, and the demo rewrites the NATS permissions and reloads the server).
Each node has its own map URL, so what each partner sees sits side by side.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Final, TextIO

from skyshare.demo import ensure_demo_users
from skyshare.errors import SkyshareError
from skyshare.share.agreements import AgreementFiles
from skyshare.share.natsserver import NatsCluster
from skyshare.share.setup import Layout, NodeExtras, follow_agreements, init_federation

RECEIVERS: Final = {"west": (48.6, 2.5), "central": (49.8, 8.8), "east": (50.2, 15.2)}
"""Where each partner's synthetic antenna stands (inside its demo region)."""
RADARS: Final = {"central": (49.8, 8.8, 150.0)}
"""Partners with a simulated radar (Mode S and primary, ASTERIX over UDP to the node);
every node's transponder incidents happen within 80 NM of central's radar, so that all
simulate the same incident."""
AGREEMENTS_FILE: Final = "demo.yaml"


def _data(name: str) -> Path:
    return Path(str(resources.files("skyshare") / "data" / name))


@dataclass(frozen=True)
class DemoOptions:
    root: Path = Path("var/federation")
    aircraft: int = 600
    seed: int = 1
    base_port: int = 8081
    nats_port: int = 4222
    incident_every_s: float = 90.0


def prepare(options: DemoOptions, start_time: float) -> Layout:
    """Write the demo's federation folder (agreements kept if already there)."""
    root = options.root
    agreements = root / "agreements" / AGREEMENTS_FILE
    if not agreements.exists():
        agreements.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_data("agreements") / AGREEMENTS_FILE, agreements)
        # the agreements name their regions by a path relative to themselves
        shutil.copyfile(_data("demo-regions.geojson"), root / "demo-regions.geojson")
    airspace = {"volumes": [str(_data("demo-airspace.openair"))],
                "regions": [str(_data("demo-regions.geojson"))]}
    extras = {
        partner: NodeExtras(
            http_port=options.base_port + i, airspace=airspace,
            synthetic={"aircraft": options.aircraft, "seed": options.seed,
                       "start_time": start_time, "receiver": list(position),
                       "incident_every_s": options.incident_every_s,
                       "transponder_incidents": [*RADARS["central"][:2], 80.0],
                       **({"radar": list(RADARS[partner])} if partner in RADARS else {})})
        for i, (partner, position) in enumerate(RECEIVERS.items())}
    layout = init_federation(root, [agreements.parent], servers=1, port=options.nats_port,
                             extras=extras)
    missing = set(RECEIVERS) - set(layout.partners)
    if missing:
        raise SkyshareError(f"the demo agreements in {agreements} no longer name "
                            f"{', '.join(sorted(missing))}: delete the file to get the "
                            "original back")
    return layout


def run_demo(options: DemoOptions, out: TextIO = sys.stdout) -> int:
    """Start everything, print the URLs, and run until Ctrl-C (or a node stops)."""
    layout = prepare(options, start_time=time.time())
    cluster = layout.cluster()
    nodes: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    try:
        cluster.start()
        streams = layout.ensure_streams()
        print(f"NATS server up on {', '.join(cluster.urls)} (config in {layout.nats_dir}; "
              f"streams {', '.join(streams)})", file=out, flush=True)
        for i, partner in enumerate(RECEIVERS):
            data_dir = layout.node_config(partner).parent / "data"
            logins, _ = ensure_demo_users(data_dir)
            nodes[partner] = _start_node(layout, partner)
            print(f"  {partner:8} http://127.0.0.1:{options.base_port + i}/   "
                  f"(log: {layout.node_config(partner).parent / 'node.log'}, log-ins: "
                  f"{logins})", file=out, flush=True)
        print(f"Agreements: {layout.agreements[0]} (edit it: the nodes and the server "
              "follow within seconds). Ctrl-C stops everything.", file=out, flush=True)
        return _supervise(layout, cluster, nodes, lambda: stopping, out)
    except KeyboardInterrupt:
        return 0
    finally:
        for proc in nodes.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in nodes.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        cluster.stop()


def _start_node(layout: Layout, partner: str) -> subprocess.Popen[bytes]:
    folder = layout.node_config(partner).parent
    with (folder / "node.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "skyshare", "run", str(layout.node_config(partner))],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _supervise(layout: Layout, cluster: NatsCluster, nodes: dict[str, subprocess.Popen[bytes]],
               stopping: Callable[[], bool], out: TextIO) -> int:
    """Wait; follow agreement edits on the server side; stop when a node dies."""
    files = AgreementFiles.of(layout.agreements)
    while not stopping():
        time.sleep(1.0)
        for partner, proc in nodes.items():
            if proc.poll() is not None:
                print(f"node {partner} stopped (exit {proc.returncode}); see "
                      f"{layout.node_config(partner).parent / 'node.log'}", file=out,
                      flush=True)
                return 1
        files = follow_agreements(layout, cluster, files, out)
    return 0
