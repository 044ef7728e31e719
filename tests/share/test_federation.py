"""Federations through a real NATS server (TLS, a user per partner, permissions from the
agreements), laid out by ``skyshare federation init``'s code: egress enforcement checked
on what actually arrives, forged and malformed data refused, revocation, reconnection."""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skyshare.model import SourceKind, TrackFlag, empty_tracks
from skyshare.share.agreements import Agreement, AgreementSet
from skyshare.share.federation import Federation
from skyshare.share.keys import NodeKey, PublicKeys
from skyshare.share.natsbus import NatsBus
from skyshare.share.setup import Layout
from skyshare.share.wire import Envelope, TrackMessage, decode, encode_tracks

from .egress_oracle import Receiver, agreements, check_step, next_pictures
from .fedkit import AGREEMENTS, Loop, bus, config, write_federation

T = TypeVar("T")

OWN = (1 << SourceKind.ADSB)
CONFIRMED_POS = int(TrackFlag.CONFIRMED | TrackFlag.HAS_POSITION)


# --------------------------------------------------------------------------- fixtures
@dataclass(repr=False)
class Inbox:
    """What a raw subscriber received."""

    messages: list[tuple[str, bytes]] = field(default_factory=list)

    def __call__(self, subject: str, data: bytes) -> None:
        self.messages.append((subject, data))

    def wait_for(self, count: int, timeout_s: float = 5.0) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.005)
        assert len(self.messages) >= count, f"{len(self.messages)} of {count} arrived"


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Layout]:
    out = write_federation(tmp_path_factory.mktemp("federation"), AGREEMENTS)
    with out.cluster():
        yield out


@pytest.fixture(scope="module")
def west_bus(layout: Layout, loop: Loop) -> Iterator[NatsBus]:
    b = bus(layout, "west")
    loop.run(b.connect())
    yield b
    loop.run(b.close())


@pytest.fixture(scope="module")
def central_inbox(layout: Layout, loop: Loop) -> Iterator[Inbox]:
    inbox, b = Inbox(), bus(layout, "central")
    loop.run(b.connect())
    loop.run(b.subscribe("sky.tracks.west.central", inbox))
    yield inbox
    loop.run(b.close())


def public_keys(layout: Layout) -> PublicKeys:
    return PublicKeys.from_dir(layout.root / "keys" / "public")


# --------------------------------------------------------------------------- egress
def arrived(layout: Layout, inbox: Inbox, start: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Rows (by track_id) and removed ids of the messages since ``start``, decoded as the
    receiver would, and the time they say they were sent."""
    keys = public_keys(layout)
    rows, removed, sent = [], [], math.nan
    for subject, data in inbox.messages[start:]:
        msg = decode(data, subject=subject, keys=keys)
        assert isinstance(msg, TrackMessage)
        assert (msg.envelope.origin, msg.envelope.to) == ("west", "central")
        rows.append(msg.tracks)
        removed.append(msg.removed)
        sent = msg.envelope.sent
    tracks = np.concatenate(rows) if rows else empty_tracks(0)
    tracks = tracks[np.argsort(tracks["track_id"], kind="stable")]
    return tracks, np.concatenate(removed) if removed else np.zeros(0, np.uint32), sent


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(agreements(), st.integers(1, 8), st.integers(0, 2**32 - 1))
def test_what_arrives_obeys_the_agreement(layout: Layout, loop: Loop, west_bus: NatsBus,
                                          central_inbox: Inbox, tmp_path: Path,
                                          a: Agreement, steps: int, seed: int) -> None:
    """The egress property test of test_egress, but on what a partner receives from the
    real server: the sending node's Federation filters, signs and publishes."""
    sender = Federation("west", "west-node", config(layout, "west"), tmp_path, bus=west_bus,
                        agreements=AgreementSet([a]))
    bit = sender.index["central"]
    rng = np.random.default_rng(seed)
    seen_rows: dict[tuple[int, float], tuple[Any, bool]] = {}
    rx = Receiver()
    now = 1_790_000_000.0
    for _ in range(steps):
        now += float(rng.choice([0.05, 0.3, 0.5, 1.0, 2.0, 3.1]))
        common, own, in_own = next_pictures(a, rng, now, seen_rows)
        before = sender.status["central"].sent.messages
        start = len(central_inbox.messages)
        sender.outgoing(own.copy(), common.copy(), now)
        loop.run(sender.send_pending())
        central_inbox.wait_for(start + sender.status["central"].sent.messages - before)
        tracks, removed, sent = arrived(layout, central_inbox, start)
        if len(tracks) or len(removed):
            assert sent == now
        current = {int(r["track_id"]): (r, bool(m)) for r, m in zip(common, in_own,
                                                                      strict=True)}
        check_step(a, bit, tracks, removed, now, seen_rows, current, rx, 1.0 / a.max_rate_hz)


# --------------------------------------------------------------------------- ingest
def picture_row(lat: float, lon: float, track_id: int = 7, icao24: int = 0xFFFFFFFF,
                last_seen: float | None = None) -> np.ndarray:
    t = empty_tracks(1)
    now = time.time() if last_seen is None else last_seen
    t["track_id"], t["icao24"], t["lat"], t["lon"], t["alt"] = track_id, icao24, lat, lon, 30_000
    t["flags"], t["sources"] = CONFIRMED_POS, OWN
    t["first_seen"] = t["last_seen"] = t["last_pos"] = now
    return t


def signed(layout: Layout, rows: np.ndarray, *, seq: int, agreement: str = "west-to-central",
           key: NodeKey | None = None, epoch: float = 1.0) -> bytes:
    env = Envelope("tracks", "west", "central", seq, epoch, time.time(), agreement)
    rows = rows.copy()
    rows["sources"] = 0  # as an egress filter granting no provenance leaves them
    return encode_tracks(env, rows, np.zeros(0, np.uint32),
                         key or NodeKey.load_or_create(layout.root / "keys" / "west.key"))


def test_forged_and_malformed_data_is_dropped_counted_and_never_fused(
        layout: Layout, loop: Loop, west_bus: NatsBus, tmp_path: Path) -> None:
    receiver = Federation("central", "central-node", config(layout, "central"), tmp_path)
    loop.run(receiver.start())
    east = bus(layout, "east")
    loop.run(east.connect())
    try:
        good = picture_row(45.0, 5.0)
        outside = picture_row(55.0, 5.0, track_id=8)  # north of the agreed box
        stranger = NodeKey.generate()
        subject = "sky.tracks.west.central"
        sends = [
            (west_bus, b"garbage " * 20),
            (west_bus, signed(layout, good, seq=1, key=stranger)),  # not west's key
            (west_bus, signed(layout, good, seq=2, agreement="other")),
            (west_bus, signed(layout, outside, seq=3)),
            (west_bus, signed(layout, good, seq=4)),  # the one good message
            (west_bus, signed(layout, good, seq=4)),  # replayed
            (east, signed(layout, good, seq=5)),  # east posing as west: the server refuses
        ]
        identity = picture_row(45.0, 5.0, track_id=9, icao24=0x3C6444)  # position only is
        sends.append((west_bus, signed(layout, identity, seq=6)))  # granted, not the address
        for b, payload in sends:
            loop.run(b.publish(subject, payload))
            loop.run(b.flush())
        deadline = time.monotonic() + 5
        while len(receiver._inbox) < 7 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # nothing more is coming (east's message must not)
        picture = receiver.merge(empty_tracks(0), time.time())
        dropped = dict(receiver.status["west"].dropped)
        assert dropped == {"bad-magic": 1, "bad-signature": 1, "wrong-agreement": 1,
                           "outside-agreement": 2, "replayed": 1}
        assert east.stats.permission_violations >= 1
        assert receiver.status["west"].received.messages == 1
        assert len(picture) == 1 and picture["partners"][0] == 1 << receiver.index["west"]
        assert picture["icao24"][0] == empty_tracks(1)["icao24"][0]  # as granted: no address
    finally:
        loop.run(east.close())
        loop.run(receiver.bus.close())


def test_an_agreement_removed_from_the_files_withdraws_what_it_gave(
        layout: Layout, loop: Loop, west_bus: NatsBus, central_inbox: Inbox,
        tmp_path: Path) -> None:
    files = tmp_path / "agreements.yaml"
    files.write_text(AGREEMENTS)
    cfg = replace(config(layout, "west"), agreements=(files,), reload_every_s=0.1)
    sender = Federation("west", "west-node", cfg, tmp_path, bus=west_bus)
    own = picture_row(45.0, 5.0, track_id=41)
    start = len(central_inbox.messages)
    now = time.time()
    sender.outgoing(own, own, now)
    loop.run(sender.send_pending())
    central_inbox.wait_for(start + 1)
    tracks, removed, _ = arrived(layout, central_inbox, start)
    assert list(tracks["track_id"]) == [41] and not len(removed)
    kept = AGREEMENTS.split("  - id: central-to-west")[1]
    files.write_text("agreements:\n  - id: central-to-west" + kept)  # west-to-central gone
    start = len(central_inbox.messages)
    sender.outgoing(own, own, now + 1.0)
    loop.run(sender.send_pending())
    central_inbox.wait_for(start + 1)
    tracks, removed, _ = arrived(layout, central_inbox, start)
    assert not len(tracks) and list(removed) == [41]
    assert [a.id for a in sender.agreements.outgoing("west")] == []


# --------------------------------------------------------------------------- live behaviour
def run_steps(fed: Federation, loop: Loop, own: np.ndarray, until: float,
              period: float = 0.1) -> None:
    while time.time() < until:
        now = time.time()
        own["last_seen"] = own["last_pos"] = now
        fed.outgoing(own, own, now)
        loop.run(fed.send_pending())
        time.sleep(period)


def test_revoking_an_agreement_stops_its_data_within_5_s(
        tmp_path: Path, loop: Loop) -> None:
    layout = write_federation(tmp_path / "revoke", AGREEMENTS)
    with layout.cluster() as cluster:
        sender = Federation("west", "west-node", config(layout, "west", reload_every_s=0.5),
                            tmp_path / "w")
        inbox, receiver_bus = Inbox(), bus(layout, "central")
        loop.run(sender.start())
        loop.run(receiver_bus.connect())
        loop.run(receiver_bus.subscribe("sky.tracks.west.central", inbox))
        try:
            own = picture_row(45.0, 5.0)
            run_steps(sender, loop, own, time.time() + 1.0)
            assert inbox.messages, "nothing flowed before the revocation"
            text = (tmp_path / "revoke" / "agreements.yaml").read_text()
            (tmp_path / "revoke" / "agreements.yaml").write_text(
                text.replace("    fields: [position]\n", "    fields: [position]\n"
                             "    revoked: true\n", 1))
            revoked_at = time.time()
            layout.write_nats()  # the operator's side: the server's permissions follow
            cluster.reload()
            run_steps(sender, loop, own, revoked_at + 6.0)
            keys = public_keys(layout)
            times = [(time.time(), decode(d, subject=s, keys=keys)) for s, d in inbox.messages]
            last_rows = max(m.envelope.sent for _, m in times
                            if isinstance(m, TrackMessage) and len(m.tracks))
            assert last_rows - revoked_at < 5.0
        finally:
            loop.run(sender.bus.close())
            loop.run(receiver_bus.close())


def test_nodes_reconnect_by_themselves_after_a_server_restart(
        tmp_path: Path, loop: Loop) -> None:
    layout = write_federation(tmp_path / "restart", AGREEMENTS)
    with layout.cluster() as cluster:
        sender = Federation("west", "west-node", config(layout, "west"), tmp_path / "w")
        receiver = Federation("central", "central-node", config(layout, "central"),
                              tmp_path / "c")
        loop.run(sender.start())
        loop.run(receiver.start())
        try:
            own = picture_row(45.0, 5.0)
            run_steps(sender, loop, own, time.time() + 0.5)
            assert receiver.merge(empty_tracks(0), time.time()).size == 1
            cluster.servers[0].restart()
            deadline = time.time() + 10
            got = 0
            while time.time() < deadline and not got:
                before = receiver.status["west"].received.messages
                run_steps(sender, loop, own, time.time() + 0.3)
                receiver.merge(empty_tracks(0), time.time())
                got = receiver.status["west"].received.messages - before
            assert got, "no data after the server came back"
            assert sender.bus.stats.reconnects >= 1 and receiver.bus.stats.reconnects >= 1
        finally:
            loop.run(sender.bus.close())
            loop.run(receiver.bus.close())


def test_a_partner_clock_seconds_ahead_does_not_reorder_or_age_its_tracks(
        tmp_path: Path, loop: Loop, layout: Layout) -> None:
    """West's clock runs 5 s ahead: the receiver places its updates on its own clock."""
    skew = 5.0
    sender = Federation("west", "west-node", config(layout, "west"), tmp_path / "w",
                        clock=lambda: time.time() + skew)
    receiver = Federation("central", "central-node", config(layout, "central"), tmp_path / "c")
    loop.run(sender.start())
    loop.run(receiver.start())
    try:
        own = picture_row(45.0, 5.0)
        seen = []
        for _ in range(15):
            now = time.time() + skew
            own["last_seen"] = own["last_pos"] = now
            sender.outgoing(own, own, now)
            loop.run(sender.send_pending())
            time.sleep(0.05)
            picture = receiver.merge(empty_tracks(0), time.time())
            if len(picture):
                seen.append(float(picture["last_seen"][0]))
        assert len(seen) >= 5
        assert all(b >= a for a, b in itertools.pairwise(seen))
        assert max(seen) <= time.time() + 0.5  # not 5 s in the future
    finally:
        loop.run(sender.bus.close())
        loop.run(receiver.bus.close())

