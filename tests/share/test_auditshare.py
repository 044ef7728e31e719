"""Audit replication between partners through a real NATS server with JetStream: heads
reach every partner and are recorded once, a restarted consumer catches up without
recording twice, forged heads are dropped and rewritten or cut logs recorded as
contradictions, the recorded heads verify the partner's log, permissions, the head
codec under Hypothesis, and a running node wired to it all.

Each "site" is what a federated node runs for audit replication: an audit log, a
Federation (keys, agreements, a NatsBus with the partner's own credentials) and the
AuditShare, run as the node runs it (``AuditShare.run`` on an event loop thread)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import shutil
import ssl
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path

import nats
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web.nodes import node_in_thread  # tests/, on sys.path (tests.share's root)

from skyshare.config import NodeConfig
from skyshare.node import Node
from skyshare.share.auditshare import (
    AuditShare,
    decode_head,
    encode_head,
)
from skyshare.share.bus import BusError, DurableBus, EmbeddedBroker, EmbeddedBus
from skyshare.share.federation import Federation
from skyshare.share.keys import NodeKey, PublicKeys
from skyshare.share.natsconf import (
    AUDIT_STREAM,
    FederationAuth,
    NatsCredentials,
    StreamSpec,
    audit_stream,
)
from skyshare.share.setup import Layout
from skyshare.share.wire import WireError
from skyshare.store.audit import AUDIT_FILE, AuditEntry, AuditLog, Head, default_heads_path
from skyshare.store.audit.verification import partner_heads, verify

from .conftest import GRANTS
from .conftest import Federation as NatsFederation
from .fedkit import Loop, config, write_federation


# --------------------------------------------------------------------------- sites
@dataclass
class Site:
    """One partner's node, as far as audit replication goes."""

    me: str
    audit: AuditLog
    fed: Federation
    share: AuditShare
    stop: asyncio.Event
    running: Future[None] | None = None

    def recorded(self, kind: str = "audit.partner_head") -> list[AuditEntry]:
        return list(self.audit.entries(kind=kind))

    def recorded_seqs(self, partner: str) -> list[int]:
        return [int(e.data["seq"]) for e in self.recorded()  # type: ignore[arg-type]
                if e.subject == partner]

    def publish(self) -> Head:
        """Publish a head as the node's alerts loop does every minute."""
        head = self.audit.publish_head()
        self.share.publish(head)
        return head


def open_site(layout: Layout, loop: Loop, root: Path, me: str, *,
              audit: AuditLog | None = None) -> Site:
    """A site for ``me``, connected and running its share, its start head stored
    (``audit`` given: the same log with a new share and bus, as after a restart)."""
    if audit is None:
        audit = AuditLog(root / f"{me}-audit.sqlite", f"{me}-node")
    fed = Federation(me, f"{me}-node", config(layout, me), root / me)
    site = Site(me, audit, fed, AuditShare(fed, audit), asyncio.Event())
    loop.run(fed.bus.connect())
    site.running = asyncio.run_coroutine_threadsafe(site.share.run(site.stop, retry_s=0.2),
                                                    loop.loop)
    stats = site.share.stats
    wait_until(f"{me}'s start head", lambda: stats.published + stats.duplicates >= 1)
    return site


def close_site(site: Site, loop: Loop, *, audit: bool = True) -> Head:
    """Stop the share and close the bus; the last head it published (when it stopped)."""
    loop.loop.call_soon_threadsafe(site.stop.set)
    if site.running is not None:
        site.running.result(15)
    loop.run(site.fed.bus.close())
    last = heads_file(site.audit.path)[-1]
    if audit:
        site.audit.close()
    return last


def seq_hash(head: Head | None) -> tuple[int, str] | None:
    return (head.seq, head.hash) if head is not None else None


def heads_file(log: Path) -> list[Head]:
    """The heads a log's node published, in order."""
    lines = default_heads_path(log).read_text().splitlines()
    return [Head(**json.loads(line)) for line in lines]


def wait_until(what: str, check: Callable[[], bool], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def delete_consumer(layout: Layout, loop: Loop, name: str) -> None:
    """As the operator: forget ``name``'s position in the audit stream, so JetStream
    delivers the whole stream again (every head a redelivery)."""
    creds = NatsCredentials.load(layout.nats_dir / "creds" / "_admin.json")

    async def delete() -> None:
        nc = await nats.connect(servers=list(creds.urls), user=creds.user,
                                password=creds.password,
                                tls=ssl.create_default_context(cafile=str(creds.ca_file)))
        try:
            assert await nc.jetstream().delete_consumer(AUDIT_STREAM, name)
        finally:
            await nc.close()
    loop.run(delete())


def rewritten_log(path: Path, node: str, entries: int, tag: str) -> None:
    """Replace the (closed) log at ``path`` with another, consistent chain of ``entries``
    entries and no heads file: what an operator rewriting the log would leave."""
    other = path.with_name(f"{tag}.sqlite")
    with AuditLog(other, node) as log:
        log.append_many([("alert.raised", f"{tag}{i}", {"i": i}, "system", False, None)
                         for i in range(entries)])
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    default_heads_path(path).unlink(missing_ok=True)
    shutil.move(other, path)


def fill(site: Site, n: int) -> None:
    site.audit.append_many([("alert.raised", f"A{i}", {"i": i}, "system", False, None)
                            for i in range(n)])


@pytest.fixture
def layout(tmp_path: Path) -> Iterator[Layout]:
    """A federation of its own per test (the durable consumers outlive the sites)."""
    out = write_federation(tmp_path / "fed")
    with out.cluster():
        assert "sky-audit" in out.ensure_streams()
        yield out


# --------------------------------------------------------------------------- replication
def test_heads_reach_every_partner_and_are_recorded_once(
        layout: Layout, loop: Loop, tmp_path: Path) -> None:
    sites = {me: open_site(layout, loop, tmp_path, me) for me in ("central", "east", "west")}
    central, east, west = sites["central"], sites["east"], sites["west"]
    try:
        fill(west, 5)
        first = west.publish()
        fill(west, 3)
        second = west.publish()
        west.share.publish(replace(second, time=second.time + 60))  # an unchanged log's
        wait_until("west's heads at central and east", lambda: all(
            second.seq in s.recorded_seqs("west") for s in (central, east)))
        time.sleep(0.3)  # time for a wrong second record
        for site in (central, east):
            assert site.recorded_seqs("west") == [0, first.seq, second.seq]
        # the republished head had the same message id: JetStream stored it once
        wait_until("the republished head sent", lambda: west.share.stats.duplicates == 1)
        assert west.share.stats.published == 3  # start, first, second
        recorded = {int(e.data["seq"]): e for e in central.recorded()  # type: ignore[arg-type]
                    if e.subject == "west"}
        assert recorded[second.seq].data == {"partner": "west", "node": "west-node",
                                             "seq": second.seq, "hash": second.hash,
                                             "time": second.time}
        assert recorded[second.seq].kind == "audit.partner_head"
        assert central.share.latest("west") == second
        assert central.share.latest("north") is None
        assert central.recorded_seqs("central") == []  # its own heads are not recorded
        assert central.recorded_seqs("east") == [0]  # east's start head
        assert sum(central.share.stats.conflicts.values()) == 0

        # the heads central recorded vouch for west's log
        heads = partner_heads([central.audit.path], ["west-node"])
        default_heads_path(west.audit.path).unlink()
        report = verify(west.audit.path, partner_heads=heads)
        assert report.ok and report.partner_heads_checked == 3, report.reason
    finally:
        for site in sites.values():
            close_site(site, loop)


def test_a_restarted_consumer_catches_up_without_recording_a_head_twice(
        layout: Layout, loop: Loop, tmp_path: Path) -> None:
    central = open_site(layout, loop, tmp_path, "central")
    west = open_site(layout, loop, tmp_path, "west")
    try:
        wait_until("west's start head", lambda: central.recorded_seqs("west") == [0])
        close_site(central, loop)  # central goes down
        missed = []
        for _ in range(3):
            fill(west, 2)
            missed.append(west.publish().seq)
        wait_until("west's heads stored", lambda: west.share.unsent == 0)

        log = AuditLog(tmp_path / "central-audit.sqlite", "central-node")  # reopened
        central = open_site(layout, loop, tmp_path, "central", audit=log)
        wait_until("the heads missed", lambda: missed[-1] in central.recorded_seqs("west"))
        assert central.recorded_seqs("west") == [0, *missed]
        close_site(central, loop)

        delete_consumer(layout, loop, "central")  # every head will come again
        log = AuditLog(tmp_path / "central-audit.sqlite", "central-node")
        central = open_site(layout, loop, tmp_path, "central", audit=log)
        stored = west.share.stats.published
        wait_until("the whole stream again", lambda: central.share.stats.repeated
                   + central.share.stats.stale >= stored)
        time.sleep(0.3)
        assert central.recorded_seqs("west") == [0, *missed]
        assert central.share.stats.recorded == 0
        assert central.share.latest("west") is not None
        assert central.share.latest("west").seq == missed[-1]  # type: ignore[union-attr]
    finally:
        close_site(west, loop)
        close_site(central, loop)


def test_forged_heads_are_dropped_and_a_rewritten_or_cut_log_is_a_conflict(
        layout: Layout, loop: Loop, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    central = open_site(layout, loop, tmp_path, "central")
    west = open_site(layout, loop, tmp_path, "west")
    west_log = tmp_path / "west-audit.sqlite"
    try:
        fill(west, 6)
        honest = west.publish()
        wait_until("west's head", lambda: honest.seq in central.recorded_seqs("west"))

        # west's credentials, but not west's key: dropped, counted, never recorded
        dropped = Counter(central.fed.status["west"].dropped)
        forged = Head("west-node", honest.seq, "f" * 64, time.time())
        for payload, msg_id in ((encode_head("west", forged, NodeKey.generate()), "forged"),
                                (b"garbage " * 12, "garbage")):
            assert loop.run(west.share.bus.publish_durable("sky.audit.west", payload, msg_id))
        wait_until("the drops", lambda: sum(central.fed.status["west"].dropped.values())
                   - sum(dropped.values()) == 2)
        now = central.fed.status["west"].dropped
        assert (now["bad-signature"] - dropped["bad-signature"],
                now["bad-magic"] - dropped["bad-magic"]) == (1, 1)
        assert central.recorded("audit.partner_head_conflict") == []
        assert central.share.latest("west") == honest

        # west's operator rewrites the log (as long, other entries) and restarts
        stopped = close_site(west, loop)  # an unchanged log: the stream keeps one copy
        wait_until("west's last head", lambda: seq_hash(central.share.latest("west"))
                   == seq_hash(stopped))
        last = central.share.latest("west")
        assert last is not None
        caplog.set_level(logging.ERROR, logger="skyshare.share")
        rewritten_log(west_log, "west-node", last.seq, "rewrite")
        west = open_site(layout, loop, tmp_path, "west", audit=AuditLog(west_log, "west-node"))
        wait_until("the contradiction", lambda: central.share.stats.conflicts["west"] >= 1)
        (conflict,) = central.recorded("audit.partner_head_conflict")
        assert conflict.subject == "west"
        assert (conflict.data["problem"], conflict.data["seq"]) == ("hash-changed", last.seq)
        assert conflict.data["recorded"] == {"partner": "west", "node": "west-node",
                                             "seq": last.seq, "hash": last.hash,
                                             "time": last.time}
        assert conflict.data["hash"] != last.hash
        assert "contradicts a head recorded before" in caplog.text

        # then cuts it to fewer entries than central recorded
        close_site(west, loop)
        time.sleep(1.5)  # more than CLOCK_SLACK_S after the last head central recorded
        rewritten_log(west_log, "west-node", 2, "cut")
        west = open_site(layout, loop, tmp_path, "west", audit=AuditLog(west_log, "west-node"))
        wait_until("the cut", lambda: central.share.stats.conflicts["west"] >= 2)
        cut = central.recorded("audit.partner_head_conflict")[-1]
        assert cut.data["problem"] == "went-back" and cut.data["seq"] == 2
        assert central.share.latest("west") == last  # what it recorded first stays

        # and the heads central recorded say so
        heads = partner_heads([central.audit.path], ["west-node"])
        report = verify(west_log, partner_heads=heads)
        assert not report.ok and "as recorded by central-node" in report.reason
    finally:
        close_site(west, loop)
        close_site(central, loop)


# --------------------------------------------------------------------------- permissions
# (user, operation, stream or subject, refused): the audit part of natsconf's policy
AUDIT_POLICY = [
    ("west", "publish", "sky.audit.west", False),
    ("west", "publish", "sky.audit.east", True),
    ("east", "publish", "sky.audit.west", True),
    ("east", "publish", "sky.audit.central", True),
    ("east", "consume", "west", True),
    ("east", "consume", "snoop", True),
    ("east", "consume", "east", False),
    ("east", "stream", AUDIT_STREAM, True),
]


async def audit_refusals(buses: dict[str, DurableBus]) -> list[bool]:
    out = []
    for user, op, target, _ in AUDIT_POLICY:
        b = buses[user]
        try:
            if op == "publish":
                await b.publish_durable(target, b"x", f"{user}-{target}")
            elif op == "consume":
                await b.consume_durable(AUDIT_STREAM, target, lambda s, d: None)
            else:
                await b.ensure_stream(StreamSpec(target, ("sky.audit.east",)))
            out.append(False)
        except BusError as exc:
            assert "refused" in str(exc)
            out.append(True)
    return out


def test_a_partner_publishes_only_its_own_heads_and_reads_only_its_consumer(
        federation: NatsFederation) -> None:
    users = ("central", "east", "west", "_admin")
    expected = [refused for *_, refused in AUDIT_POLICY]

    async def on_nats() -> list[bool]:
        buses = [federation.bus(u, request_timeout_s=0.5) for u in users]
        for b in buses:
            await b.connect()
        try:
            await buses[-1].ensure_stream(audit_stream(federation.auth, replicas=1))
            return await audit_refusals(dict(zip(users, buses, strict=True)))
        finally:
            for b in buses:
                await b.close()

    async def on_twin() -> list[bool]:
        broker = EmbeddedBroker({u: federation.auth.permissions(u) for u in users[:3]})
        buses: dict[str, DurableBus] = {u: EmbeddedBus(broker, user=u) for u in users}
        for b in buses.values():
            await b.connect()
        await buses["_admin"].ensure_stream(audit_stream(federation.auth, replicas=1))
        try:
            return await audit_refusals(buses)
        finally:
            for b in buses.values():
                await b.close()

    assert asyncio.run(on_nats()) == expected
    assert asyncio.run(on_twin()) == expected


def test_the_audit_stream_holds_every_partners_subject() -> None:
    auth = FederationAuth.from_grants(GRANTS)
    spec = audit_stream(auth, replicas=3)
    assert (spec.name, spec.replicas) == ("sky-audit", 3)
    assert set(spec.subjects) == {"sky.audit.central", "sky.audit.east", "sky.audit.west"}
    assert spec.max_age_s >= 7 * 24 * 3600  # a partner down for a week still catches up


# --------------------------------------------------------------------------- codec
KEYS = {name: NodeKey.generate() for name in ("west", "east")}
PUBLIC = PublicKeys({name: key.public_key() for name, key in KEYS.items()})
HEADS = st.builds(
    Head,
    node=st.text(st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Z"),
                               whitelist_characters=" "), min_size=1, max_size=128),
    seq=st.integers(0, 2**63 - 1),
    hash=st.text("0123456789abcdef", min_size=64, max_size=64),
    time=st.floats(allow_nan=False, allow_infinity=False, width=64))


@given(HEADS)
def test_a_head_survives_the_wire_and_any_changed_byte_is_refused(head: Head) -> None:
    data = encode_head("west", head, KEYS["west"])
    assert decode_head(data, subject="sky.audit.west", keys=PUBLIC) == ("west", head)
    with pytest.raises(WireError) as info:
        decode_head(data, subject="sky.audit.east", keys=PUBLIC)
    assert info.value.reason == "origin-mismatch"
    forged = encode_head("west", head, KEYS["east"])
    with pytest.raises(WireError) as info:
        decode_head(forged, subject="sky.audit.west", keys=PUBLIC)
    assert info.value.reason == "bad-signature"


@given(HEADS, st.data())
def test_every_single_byte_change_is_refused(head: Head, data: st.DataObject) -> None:
    good = bytearray(encode_head("west", head, KEYS["west"]))
    i = data.draw(st.integers(0, len(good) - 1), label="index")
    good[i] ^= data.draw(st.integers(1, 255), label="xor")
    with pytest.raises(WireError):
        decode_head(bytes(good), subject="sky.audit.west", keys=PUBLIC)


@given(st.binary(max_size=400), st.sampled_from(["sky.audit.west", "sky.audit", "x.y.z", ""]))
def test_any_bytes_decode_or_raise_only_wire_errors(data: bytes, subject: str) -> None:
    with contextlib.suppress(WireError):
        decode_head(data, subject=subject, keys=PUBLIC)


def test_heads_the_decoder_would_refuse_are_not_encoded() -> None:
    good = Head("west-node", 3, "a" * 64, 1.0)
    for bad in (Head("", 3, "a" * 64, 1.0), Head("west\nnode", 3, "a" * 64, 1.0),
                Head("west-node", -1, "a" * 64, 1.0), Head("west-node", 3, "A" * 64, 1.0),
                Head("west-node", 3, "a" * 64, float("nan")), Head("\ud800", 3, "a" * 64, 1.0)):
        with pytest.raises(ValueError):
            encode_head("west", bad, KEYS["west"])
    with pytest.raises(ValueError):
        encode_head("West", good, KEYS["west"])


# --------------------------------------------------------------------------- the judge
def true_hash(seq: int, version: int = 0) -> str:
    return hashlib.sha256(f"{version}:{seq}".encode()).hexdigest()


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.integers(0, 4), min_size=1, max_size=8),
       order=st.lists(st.integers(0, 7), min_size=1, max_size=14),
       restart=st.integers(0, 14))
def test_any_delivery_of_an_honest_history_records_each_head_once_without_conflict(
        layout_files: Layout, steps: list[int], order: list[int], restart: int) -> None:
    """West's heads (seq never going down, published 10 s apart) delivered in any order,
    any number of times, with a restart of central anywhere: every seq recorded at most
    once, in increasing order, the highest delivered always, and no contradiction; then a
    head with a recorded seq and another hash is exactly one."""
    history, seq = [], 0
    for i, step in enumerate(steps):
        seq += step
        history.append(Head("west-node", seq, true_hash(seq), 1.8e9 + 10 * i))
    key = NodeKey.load_or_create(layout_files.root / "keys" / "west.key")
    delivered = [history[i % len(history)] for i in order]
    with tempfile.TemporaryDirectory() as tmp, AuditLog(Path(tmp) / "c.sqlite", "c") as log:
        share = quiet_share(layout_files, log, Path(tmp))
        for n, head in enumerate(delivered):
            if n == restart:
                share = quiet_share(layout_files, log, Path(tmp))
                share.load()
            share.on_message("sky.audit.west", encode_head("west", head, key))
        seqs = [int(e.data["seq"]) for e in log.entries(kind="audit.partner_head")]  # type: ignore[arg-type]
        assert seqs == sorted(set(seqs))
        assert max(h.seq for h in delivered) in seqs
        assert list(log.entries(kind="audit.partner_head_conflict")) == []
        last = max(delivered, key=lambda h: (h.seq, h.time))
        assert share.latest("west") is not None
        assert share.latest("west").seq == last.seq  # type: ignore[union-attr]

        lie = Head("west-node", last.seq, true_hash(last.seq, version=1), last.time + 60)
        for _ in range(2):
            share.on_message("sky.audit.west", encode_head("west", lie, key))
        (conflict,) = log.entries(kind="audit.partner_head_conflict")
        assert (conflict.data["problem"], conflict.data["hash"]) == ("hash-changed", lie.hash)


@pytest.fixture(scope="module")
def layout_files(tmp_path_factory: pytest.TempPathFactory) -> Layout:
    """A federation's files (keys, agreements, credentials), no server running."""
    return write_federation(tmp_path_factory.mktemp("files"))


def quiet_share(layout: Layout, log: AuditLog, root: Path) -> AuditShare:
    """An AuditShare fed by hand (its bus is an unconnected twin)."""
    twin = EmbeddedBus(EmbeddedBroker())
    fed = Federation("central", "central-node", config(layout, "central"), root, bus=twin)
    return AuditShare(fed, log, bus=twin)


# --------------------------------------------------------------------------- the node
def test_a_running_node_sends_its_heads_and_they_verify_its_log(
        layout: Layout, loop: Loop, tmp_path: Path) -> None:
    """West as a real node (alerts loop, federation loop and share wired by Node): central
    records its start head and, once it stops, its last one; both match west's heads
    file, and vouch for west's log."""
    central = open_site(layout, loop, tmp_path, "central")
    data_dir = tmp_path / "west-data"
    node = Node(NodeConfig(name="west-node", partner="west", http_port=0, data_dir=data_dir,
                           federation=config(layout, "west")))
    try:
        with node_in_thread(node):
            wait_until("west's start head", lambda: bool(central.recorded_seqs("west")))
            assert node.audit_share is not None
            stopping = time.time()

        def last_heard() -> float:
            head = central.share.latest("west")
            return head.time if head is not None else 0.0
        wait_until("west's last head", lambda: last_heard() >= stopping)
        published = {(h.seq, h.hash) for h in heads_file(data_dir / AUDIT_FILE)}
        got = {(e.data["seq"], e.data["hash"]) for e in central.recorded()
               if e.subject == "west"}
        assert len(got) >= 2 and got <= published
        report = verify(data_dir / AUDIT_FILE,
                        partner_heads=partner_heads([central.audit.path], ["west-node"]))
        assert report.ok and report.partner_heads_checked == len(got), report.reason
    finally:
        close_site(central, loop)


def test_a_head_partners_would_refuse_is_dropped_not_retried_forever(
        layout_files: Layout, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A node name the decoder refuses (a control character) cannot block the outbox."""
    async def scenario() -> list[Head]:
        broker = EmbeddedBroker()
        twin = EmbeddedBus(broker)
        await twin.connect()
        await twin.ensure_stream(audit_stream(FederationAuth.from_grants(GRANTS), replicas=1))
        fed = Federation("west", "west-node", config(layout_files, "west"), tmp_path, bus=twin)
        with AuditLog(tmp_path / "w.sqlite", "west-node") as log:
            share = AuditShare(fed, log, bus=twin)
            good = log.publish_head()
            share.publish(Head("west\tnode", good.seq, good.hash, good.time))
            share.publish(good)
            assert await share.flush() == 1 and share.unsent == 0
        got: list[Head] = []
        reader = EmbeddedBus(broker)
        await reader.connect()
        await reader.consume_durable(AUDIT_STREAM, "east", lambda s, d: got.append(
            decode_head(d, subject=s, keys=fed.keys)[1]))
        await asyncio.sleep(0.05)
        await reader.close()
        await twin.close()
        return got
    (sent,) = asyncio.run(scenario())
    assert sent.node == "west-node"
    assert "cannot be sent" in caplog.text and "node.name" in caplog.text
