"""The NATS transport against real nats-server processes, and its in-process twin.

What the server must refuse is the federation's security policy, so those
expectations are written out here (the spec), not computed from the code under test.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import ssl
import stat
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from hypothesis import given
from hypothesis import strategies as st

from skyshare.errors import ConfigError
from skyshare.share.bus import (
    Bus,
    BusError,
    EmbeddedBroker,
    EmbeddedBus,
    pattern_covers,
    subject_matches,
)
from skyshare.share.natsbus import NatsBus
from skyshare.share.natsconf import (
    FederationAuth,
    ServerSpec,
    StreamSpec,
    alert_streams,
    write_federation,
)
from skyshare.share.natsserver import NatsServer, NatsServerError, check_config
from skyshare.share.pki import issue, make_ca

from .conftest import GRANTS, Federation, free_port


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.02)


async def connected(fed: Federation, *users: str, **options: float) -> list[NatsBus]:
    buses = [fed.bus(u, **options) for u in users]
    for bus in buses:
        await bus.connect()
    return buses


async def close_all(buses: list[NatsBus]) -> None:
    for bus in buses:
        await bus.close()


# --------------------------------------------------------------------------- config, pki
def test_generated_configs_are_accepted_and_durable(tmp_path: Path) -> None:
    auth = FederationAuth.from_grants(GRANTS)
    specs = [ServerSpec(f"s{i}", free_port(), cluster_port=free_port(),
                        store_dir=tmp_path / f"js{i}") for i in range(3)]
    files = write_federation(tmp_path, auth, specs)
    for path in files.configs.values():
        check_config(path)
        text = path.read_text()
        jetstream = text[text.index("jetstream {"):]
        assert "sync_interval: always" in jetstream[:jetstream.index("}")]
        assert "no_auth_user" not in text
        assert "verify: true" in text[text.index("cluster {"):]  # routes: mutual TLS
    broken = tmp_path / "broken.conf"
    broken.write_text(files.configs["s0"].read_text().replace("sync_interval", "sync_intervl"))
    with pytest.raises(ConfigError, match="sync_intervl"):
        check_config(broken)


def test_rewriting_keeps_passwords_and_certificates(tmp_path: Path) -> None:
    specs = [ServerSpec("solo", free_port())]
    first = write_federation(tmp_path, FederationAuth.from_grants(GRANTS), specs)
    creds, cert = first.creds["east"].read_bytes(), (tmp_path / "pki" / "solo.pem").read_bytes()
    write_federation(tmp_path, FederationAuth.from_grants({"east": []}, ["west"]), specs)
    assert first.creds["east"].read_bytes() == creds
    assert (tmp_path / "pki" / "solo.pem").read_bytes() == cert


def test_secrets_are_private_and_certificates_chain_to_the_ca(tmp_path: Path) -> None:
    files = write_federation(tmp_path, FederationAuth.from_grants(GRANTS),
                             [ServerSpec("solo", free_port())])
    secret = [*files.creds.values(), *files.configs.values(), tmp_path / "secrets.json",
              files.ca.key_file, tmp_path / "pki" / "solo.key"]
    for path in secret:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    ca = x509.load_pem_x509_certificate(files.ca.cert_file.read_bytes())
    leaf_files = issue(make_ca(tmp_path / "pki"), "extra", dns=["nats.example"],
                       ips=["127.0.0.1", "::1"])
    leaf = x509.load_pem_x509_certificate(leaf_files.cert_file.read_bytes())
    leaf.verify_directly_issued_by(ca)
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["nats.example"]
    assert {str(ip) for ip in names.get_values_for_type(x509.IPAddress)} == {"127.0.0.1",
                                                                            "::1"}


# --------------------------------------------------------------------------- permissions
def test_ungranted_subscriptions_are_refused_and_get_nothing(federation: Federation) -> None:
    async def scenario() -> None:
        buses = central, east, west = await connected(federation, "central", "east", "west")
        got: dict[str, list[bytes]] = {"stolen": [], "central": [], "east": []}
        await central.subscribe("sky.tracks.west.east", lambda s, d: got["stolen"].append(d))
        await central.subscribe("sky.>", lambda s, d: got["stolen"].append(d))
        await central.subscribe("sky.tracks.west.central", lambda s, d: got["central"].append(d))
        await east.subscribe("sky.tracks.west.east", lambda s, d: got["east"].append(d))
        await central.flush()
        await east.flush()
        await west.publish("sky.tracks.west.east", b"for-east")
        await west.publish("sky.tracks.west.central", b"for-central")
        await west.flush()
        await wait_until(lambda: bool(got["east"] and got["central"]))
        await asyncio.sleep(0.2)  # time for a wrongly allowed subscription to get it
        assert got == {"stolen": [], "central": [b"for-central"], "east": [b"for-east"]}
        assert central.stats.permission_violations == 2
        assert "subscription" in central.stats.last_error
        assert east.stats.permission_violations == 0
        await close_all(buses)
    asyncio.run(scenario())


def test_a_partner_cannot_publish_as_another_origin(federation: Federation) -> None:
    async def scenario() -> None:
        buses = central, east, west = await connected(federation, "central", "east", "west")
        got: list[bytes] = []
        await central.subscribe("sky.tracks.west.central", lambda s, d: got.append(d))
        await central.flush()
        await east.publish("sky.tracks.west.central", b"forged")
        await east.flush()
        await west.publish("sky.tracks.west.central", b"genuine")
        await west.flush()
        await wait_until(lambda: bool(got))
        await asyncio.sleep(0.2)
        assert got == [b"genuine"]
        assert east.stats.permission_violations == 1
        assert 'publish to "sky.tracks.west.central"' in east.stats.last_error
        await close_all(buses)
    asyncio.run(scenario())


# (user, operation, subject, refused): the policy of natsconf's docstring
POLICY = [
    ("central", "sub", "sky.tracks.west.central", False),
    ("central", "sub", "sky.alerts.east.central", False),
    ("central", "sub", "sky.status.*.central", False),
    ("central", "sub", "sky.status.west.central", False),
    ("central", "sub", "_INBOX_central.x.y", False),
    ("central", "sub", "sky.tracks.west.east", True),
    ("central", "sub", "sky.>", True),
    ("central", "sub", ">", True),
    ("central", "sub", "sky.*.west.central", True),
    ("central", "sub", "sky.status.>", True),
    ("central", "sub", "_INBOX_east.>", True),
    ("east", "sub", "sky.alerts.*.east", True),
    ("east", "pub", "sky.alerts.east.central", False),
    ("east", "pub", "sky.status.east.west", False),
    ("east", "pub", "sky.tracks.west.central", True),
    ("east", "pub", "sky.tracks.east.central", True),  # east gives central no tracks
    ("east", "pub", "sky.status.west.east", True),
    ("west", "pub", "sky.tracks.west.east", False),
    ("west", "pub", "$JS.API.STREAM.INFO.sky-alerts-west", False),
    ("west", "pub", "$JS.API.STREAM.CREATE.anything", True),
    ("west", "pub", "$JS.API.STREAM.INFO.sky-alerts-central", True),
    ("west", "pub", "$JS.API.CONSUMER.CREATE.sky-alerts-central.mine", True),
]


async def refusals(buses: dict[str, Bus]) -> list[bool]:
    out = []
    for user, op, subject, _ in POLICY:
        bus = buses[user]
        before = bus.stats.permission_violations
        if op == "sub":
            await bus.subscribe(subject, lambda s, d: None)
        else:
            await bus.publish(subject, b"x")
        await bus.flush()
        out.append(bus.stats.permission_violations > before)
    return out


def test_the_server_and_its_embedded_twin_refuse_the_same(federation: Federation) -> None:
    users = ("central", "east", "west")

    async def on_nats() -> list[bool]:
        buses = await connected(federation, *users)
        try:
            return await refusals(dict(zip(users, buses, strict=True)))
        finally:
            await close_all(buses)

    async def on_twin() -> list[bool]:
        broker = EmbeddedBroker({u: federation.auth.permissions(u) for u in users})
        buses: dict[str, Bus] = {u: EmbeddedBus(broker, user=u) for u in users}
        for bus in buses.values():
            await bus.connect()
        return await refusals(buses)

    expected = [refused for *_, refused in POLICY]
    assert asyncio.run(on_nats()) == expected
    assert asyncio.run(on_twin()) == expected


# --------------------------------------------------------------------------- access
def test_no_anonymous_access_and_no_wrong_password(federation: Federation) -> None:
    creds = federation.creds("east")

    async def attempt(user: str, password: str) -> None:
        bus = NatsBus(creds.urls, user=user, password=password, ca_file=creds.ca_file,
                      inbox_prefix=creds.inbox_prefix, connect_timeout_s=0.5)
        await bus.connect()
        await bus.close()

    asyncio.run(attempt(creds.user, creds.password))  # the control: these work
    for user, password in (("", ""), (creds.user, "wrong"), ("_route", "x")):
        with pytest.raises(BusError, match=r"(?i)authorization violation"):
            asyncio.run(attempt(user, password))


def test_plain_tcp_and_untrusted_certificates_are_refused(federation: Federation,
                                                          tmp_path: Path) -> None:
    creds = federation.creds("west")
    spec = federation.specs[0]
    connect = json.dumps({"user": creds.user, "pass": creds.password, "verbose": False})
    hello = f"CONNECT {connect}\r\nPING\r\n".encode()

    Wrap = Callable[[socket.socket], socket.socket]

    def exchange(wrap: Wrap | None) -> tuple[dict[str, object], bytes]:
        with socket.create_connection((spec.host, spec.port), timeout=3) as raw:
            info = json.loads(raw.recv(4096)[5:])
            sock = wrap(raw) if wrap else raw
            reply = b""
            try:
                sock.sendall(hello)
                while b"PONG" not in reply and (chunk := sock.recv(4096)):
                    reply += chunk
            except (TimeoutError, ConnectionResetError, BrokenPipeError, ssl.SSLError):
                pass
            finally:
                sock.close()
            return info, reply

    info, reply = exchange(None)
    assert info["tls_required"] is True
    assert b"PONG" not in reply
    context = ssl.create_default_context(cafile=creds.ca_file)
    _, reply = exchange(lambda s: context.wrap_socket(s, server_hostname=spec.host))
    assert b"PONG" in reply  # the same exchange over TLS is accepted

    other_ca = make_ca(tmp_path / "other")

    async def untrusted() -> None:
        bus = NatsBus(creds.urls, user=creds.user, password=creds.password,
                      ca_file=other_ca.cert_file, inbox_prefix=creds.inbox_prefix,
                      connect_timeout_s=1.0)
        await bus.connect()
    with pytest.raises(BusError, match=r"(?i)certificate verify failed"):
        asyncio.run(untrusted())


# --------------------------------------------------------------------------- resilience
def test_a_bus_reconnects_by_itself_after_a_server_restart(
        fresh_federation: Federation) -> None:
    fed = fresh_federation

    async def scenario() -> None:
        buses = east, west = await connected(fed, "east", "west")
        got: list[bytes] = []
        await east.subscribe("sky.tracks.west.east", lambda s, d: got.append(d))
        await east.flush()
        await west.publish("sky.tracks.west.east", b"before")
        await wait_until(lambda: got == [b"before"])
        await asyncio.to_thread(fed.servers[0].restart)
        await wait_until(lambda: east.connected and west.connected, timeout=10)
        await east.flush()  # its subscription is back on the server
        await west.publish("sky.tracks.west.east", b"after")
        await wait_until(lambda: got == [b"before", b"after"])
        assert east.stats.disconnects >= 1 and east.stats.reconnects >= 1
        await close_all(buses)
    asyncio.run(scenario())


def test_closing_a_bus_whose_server_died_with_data_pending_does_not_raise(
        fresh_federation: Federation) -> None:
    """nats-py flushes what is pending into the dead TLS transport on close."""
    fed = fresh_federation

    async def scenario() -> None:
        (west,) = await connected(fed, "west")
        await west.publish("sky.tracks.west.east", b"before")
        await west.flush()
        await asyncio.to_thread(fed.servers[0].kill)
        for _ in range(20):  # before and after the client notices: some into its buffer
            with contextlib.suppress(BusError):
                await west.publish("sky.tracks.west.east", b"x" * 1000)
            await asyncio.sleep(0.05)
        await west.close()
        assert not west.connected
    asyncio.run(scenario())


def test_removing_a_grant_and_reloading_revokes_within_5_s(
        fresh_federation: Federation) -> None:
    fed = fresh_federation

    async def scenario() -> None:
        buses = central, west, admin = await connected(fed, "central", "west", "_admin")
        got: list[bytes] = []
        await central.subscribe("sky.tracks.west.central", lambda s, d: got.append(d))
        await central.flush()
        await admin.publish("sky.tracks.west.central", b"granted")
        await wait_until(lambda: got == [b"granted"])

        fed.rewrite(FederationAuth.from_grants({"east": [("west", "tracks")]}, ["central"]))
        reloaded = time.monotonic()
        await asyncio.to_thread(fed.servers[0].reload)
        probe = 0
        while True:  # the operator (unrestricted) keeps publishing until it stops arriving
            probe += 1
            await admin.publish("sky.tracks.west.central", b"probe-%d" % probe)
            await admin.flush()
            await asyncio.sleep(0.2)
            if b"probe-%d" % probe not in got:
                break
            assert time.monotonic() - reloaded < 5.0, "still delivered 5 s after reload"
        count = len(got)
        await admin.publish("sky.tracks.west.central", b"late")
        await west.publish("sky.tracks.west.central", b"late-west")
        await admin.flush()
        await west.flush()
        await asyncio.sleep(0.3)
        assert len(got) == count
        assert west.stats.permission_violations == 1  # west lost the right to send it too
        await close_all(buses)
    asyncio.run(scenario())


# --------------------------------------------------------------------------- JetStream
def test_a_partner_uses_jetstream_only_on_its_own_stream(federation: Federation) -> None:
    async def scenario() -> None:
        buses = central, east, west, admin = await connected(
            federation, "central", "east", "west", "_admin", request_timeout_s=0.5)
        for spec in alert_streams(federation.auth, replicas=1):
            await admin.ensure_stream(spec)
        assert await east.publish_durable("sky.alerts.east.central", b"a", "own-1")
        got: list[bytes] = []
        await central.consume_durable("sky-alerts-central", "own-central",
                                      lambda s, d: got.append(d))
        await wait_until(lambda: got == [b"a"])
        started = time.monotonic()
        with pytest.raises(BusError, match="refused"):
            await east.consume_durable("sky-alerts-central", "snoop", lambda s, d: None)
        with pytest.raises(BusError, match="refused"):  # west gives central no alerts
            await west.publish_durable("sky.alerts.west.central", b"b", "own-2")
        with pytest.raises(BusError, match="refused"):
            await east.ensure_stream(StreamSpec("sky-alerts-east", ("sky.alerts.*.east",)))
        assert time.monotonic() - started < 5  # refusals fail fast, no 15 s retries
        assert (await admin.stream_status("sky-alerts-central")).messages == 1
        await close_all(buses)
    asyncio.run(scenario())


def test_cluster_stream_dedups_and_survives_losing_a_server(cluster: Federation) -> None:
    subject = "sky.alerts.east.central"

    async def scenario() -> None:
        buses = central, east, admin = await connected(cluster, "central", "east", "_admin")
        for spec in alert_streams(cluster.auth, replicas=3):
            await admin.ensure_stream(spec)
        assert await east.publish_durable(subject, b"a1", "alert-1") is True
        assert await east.publish_durable(subject, b"a1", "alert-1") is False
        status = await admin.stream_status("sky-alerts-central")
        assert (status.messages, status.replicas) == (1, 3)
        got: list[bytes] = []
        await central.consume_durable("sky-alerts-central", "central-node",
                                      lambda s, d: got.append(d))
        await wait_until(lambda: got == [b"a1"])

        victim = next(s for s in cluster.servers if f"{s.host}:{s.port}" == east.server)
        await asyncio.to_thread(victim.kill)
        for i in range(2, 6):
            assert await east.publish_durable(subject, b"a%d" % i, f"alert-{i}") is True
        await wait_until(lambda: len(got) >= 5, timeout=15)
        await asyncio.sleep(0.3)
        assert got == [b"a1", b"a2", b"a3", b"a4", b"a5"]
        assert east.stats.disconnects >= 1  # it did lose its server
        assert (await admin.stream_status("sky-alerts-central")).messages == 5
        await close_all(buses)
    asyncio.run(scenario())


# --------------------------------------------------------------------------- the twin
def test_twin_delivers_asynchronously_and_durably() -> None:
    async def scenario() -> None:
        now = [1000.0]
        broker = EmbeddedBroker(clock=lambda: now[0])
        a, b = EmbeddedBus(broker, name="a"), EmbeddedBus(broker, name="b")
        await a.connect()
        await b.connect()
        got: list[tuple[str, bytes]] = []
        await b.subscribe("sky.*.west.>", lambda s, d: got.append((s, d)))
        await a.publish("sky.tracks.west.east", b"1")
        await a.publish("sky.tracks.east.west", b"2")
        assert got == []  # not before the publisher yields
        await a.flush()
        assert got == [("sky.tracks.west.east", b"1")]

        await a.ensure_stream(StreamSpec("s", ("sky.alerts.*.east",), duplicate_window_s=600))
        assert await a.publish_durable("sky.alerts.west.east", b"x", "id-1")
        assert not await a.publish_durable("sky.alerts.west.east", b"x", "id-1")
        now[0] += 601  # outside the duplicate window: stored again
        assert await a.publish_durable("sky.alerts.west.east", b"x", "id-1")
        seen: list[bytes] = []
        fails = [1]

        def flaky(subject: str, data: bytes) -> None:
            if fails[0]:
                fails[0] -= 1
                raise RuntimeError("handler bug")
            seen.append(data)
        await b.consume_durable("s", "d", flaky)
        await wait_until(lambda: len(seen) == 2)
        assert b.stats.handler_errors == 1
        await a.close()
        await b.close()
    asyncio.run(scenario())


def test_twin_reload_drops_subscriptions_no_longer_allowed() -> None:
    async def scenario() -> None:
        auth = FederationAuth.from_grants(GRANTS)
        broker = EmbeddedBroker({p: auth.permissions(p) for p in auth.partners})
        central, west = EmbeddedBus(broker, user="central"), EmbeddedBus(broker, user="west")
        await central.connect()
        await west.connect()
        got: list[bytes] = []
        await central.subscribe("sky.tracks.west.central", lambda s, d: got.append(d))
        await west.publish("sky.tracks.west.central", b"1")
        await west.flush()
        revoked = FederationAuth.from_grants({"east": [("west", "tracks")]}, ["central"])
        broker.set_permissions({p: revoked.permissions(p) for p in revoked.partners})
        await west.publish("sky.tracks.west.central", b"2")
        await west.flush()
        assert got == [b"1"]
        assert west.stats.permission_violations == 1
        with pytest.raises(BusError, match="refused"):  # only the operator makes streams
            await west.ensure_stream(StreamSpec("sky-alerts-west", ("sky.alerts.*.west",)))
        operator = EmbeddedBus(broker, user="_admin")
        await operator.connect()
        await operator.ensure_stream(StreamSpec("sky-alerts-west", ("sky.alerts.*.west",)))
    asyncio.run(scenario())


TOKENS = st.sampled_from(["a", "b", "*", ">"])


@given(st.lists(TOKENS, min_size=1, max_size=4), st.lists(TOKENS, min_size=1, max_size=4),
       st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=6))
def test_pattern_cover_agrees_with_matching(allow: list[str], pattern: list[str],
                                            subject: list[str]) -> None:
    """If ``allow`` covers ``pattern``, every subject matching ``pattern`` matches
    ``allow``; and a literal pattern is covered exactly when it matches."""
    a, p, s = ".".join(allow), ".".join(pattern), ".".join(subject)
    if ">" in allow[:-1] or ">" in pattern[:-1]:
        return  # not valid patterns
    if pattern_covers(a, p) and subject_matches(p, s):
        assert subject_matches(a, s)
    assert pattern_covers(a, s) == _brute_match(allow, subject)


def _brute_match(pattern: list[str], subject: list[str]) -> bool:
    if not pattern:
        return not subject
    if pattern[0] == ">":
        return bool(subject)
    return bool(subject) and pattern[0] in ("*", subject[0]) and _brute_match(
        pattern[1:], subject[1:])


def test_find_binary_and_failed_start_say_what_to_do(tmp_path: Path) -> None:
    bad = tmp_path / "bad.conf"
    bad.write_text("listen: 127.0.0.1:1\nthis is not a config {\n")
    server = NatsServer(bad, port=free_port(), start_timeout_s=5)
    with pytest.raises(NatsServerError, match="exited while starting"):
        server.start()
    assert os.path.exists(server.log_path)
