"""An alert storm: every aircraft of a busy feed squawks 7700 at once.

The picture must keep updating while thousands of alerts are raised and committed to
the audit log, and every one of them must be raised and recorded (none dropped).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from nodes import node_in_thread  # tests/web, on sys.path for its tests

from skyshare.alerts.service import AlertsConfig
from skyshare.config import AirspaceConfig, NodeConfig
from skyshare.errors import ConfigError
from skyshare.node import Node, free_port
from skyshare.sources.base import SensorSpec
from skyshare.synth.feed import SyntheticFeed, serve_beast
from skyshare.synth.traffic import Traffic

AIRCRAFT = 2000


def test_a_storm_of_7700s_neither_blocks_the_picture_nor_drops_alerts(tmp_path: Path) -> None:
    traffic = Traffic(AIRCRAFT, seed=21, start_time=time.time())
    port = free_port()
    node = Node(NodeConfig(
        name="storm", http_port=0, data_dir=tmp_path,
        sensors=(SensorSpec(name="rx", index=0, format="beast", mode="connect", port=port),),
        alerts=AlertsConfig(interval_s=0.5)))
    feed = SyntheticFeed(traffic)
    with node_in_thread(node, lambda stop: serve_beast(feed, "127.0.0.1", port, stop=stop)):
        deadline = time.monotonic() + 60
        while len(node.picture.tracks) < 0.9 * AIRCRAFT and time.monotonic() < deadline:
            time.sleep(0.2)
        for address in traffic.state(time.time()).icao24.tolist():
            traffic.set_squawk(address, 7700)
        assert node.alerts is not None and node.audit is not None
        gaps, last_version, last_change = [], node.picture.snapshot.version, time.monotonic()
        storm_end = time.monotonic() + 25
        squawking: set[int] = set()
        while time.monotonic() < storm_end:
            snap = node.picture.snapshot
            now = time.monotonic()
            if snap.version != last_version:
                gaps.append(now - last_change)
                last_version, last_change = snap.version, now
            tracks = snap.tracks
            squawking |= set(tracks["track_id"][tracks["squawk"] == 7700].tolist())
            if len(squawking) >= 0.9 * AIRCRAFT and node.alerts.stats.raised >= len(squawking):
                break
            time.sleep(0.02)
        stats = node.alerts.stats
        raised = {e.data["track_id"] for e in node.audit.entries(kind="alert.raised")}
    # the picture went on: no pause between published versions longer than a second
    assert max(gaps) < 1.0, f"picture stalled {max(gaps):.2f} s during the storm"
    assert len(squawking) >= 0.9 * AIRCRAFT
    # every squawking track raised its alert, and every alert is in the audit log
    assert squawking <= raised, f"{len(squawking - raised)} squawking tracks without an alert"
    assert stats.raised == len(raised) and node.alerts.unwritten == 0
    print(f"storm: {len(raised)} alerts, slowest evaluation {stats.max_ms:.0f} ms, "
          f"longest picture gap {max(gaps) * 1000:.0f} ms")


def test_a_bad_airspace_file_stops_the_node_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "zones.openair"
    bad.write_text("AC R\nAN R-1\nAL SFC\nAH FL95\nDP 43:30:00 N 001:00:00 E\nDP nowhere\n")
    with pytest.raises(ConfigError, match=r"zones\.openair:6"):
        Node(NodeConfig(data_dir=tmp_path, airspace=AirspaceConfig(volumes=(bad,))))
