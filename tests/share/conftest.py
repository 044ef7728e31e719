"""Real nats-server processes on free loopback ports, in temporary directories.

Servers are started once per module where tests only read; tests that restart or
reload a server ask for ``fresh_federation`` (one server of their own).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from skyshare.share.natsbus import NatsBus
from skyshare.share.natsconf import (
    FederationAuth,
    FederationFiles,
    NatsCredentials,
    ServerSpec,
    write_federation,
)
from skyshare.share.natsserver import NatsCluster, NatsServer, find_nats_server

# central receives tracks from west and alerts from east; east receives tracks from west
GRANTS = {"central": [("west", "tracks"), ("east", "alerts")], "east": [("west", "tracks")]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Federation:
    """Files and running servers of one test federation."""

    root: Path
    auth: FederationAuth
    specs: list[ServerSpec]
    files: FederationFiles
    servers: list[NatsServer]

    def creds(self, user: str) -> NatsCredentials:
        return NatsCredentials.load(self.files.creds[user])

    def bus(self, user: str, **options: float) -> NatsBus:
        """A bus for ``user`` (not yet connected: connect inside the test's loop)."""
        return NatsBus.from_credentials(self.creds(user), name=f"test-{user}", **options)

    def rewrite(self, auth: FederationAuth) -> None:
        self.auth = auth
        self.files = write_federation(self.root, auth, self.specs)


def make_federation(root: Path, *, servers: int, jetstream: bool = True) -> Federation:
    find_nats_server()  # a clear error when the wheel is missing
    specs = [ServerSpec(f"n{i}", free_port(),
                        cluster_port=free_port() if servers > 1 else None,
                        http_port=free_port(),
                        store_dir=root / f"js-n{i}" if jetstream else None)
             for i in range(servers)]
    auth = FederationAuth.from_grants(GRANTS)
    files = write_federation(root, auth, specs)
    procs = [NatsServer.from_spec(files.configs[s.name], s) for s in specs]
    return Federation(root, auth, specs, files, procs)


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    """One server with JetStream, shared by a module's read-only tests."""
    fed = make_federation(tmp_path_factory.mktemp("fed"), servers=1)
    with fed.servers[0]:
        yield fed


@pytest.fixture
def fresh_federation(tmp_path: Path) -> Iterator[Federation]:
    """A server of the test's own, for tests that restart or reload it."""
    fed = make_federation(tmp_path, servers=1, jetstream=False)
    with fed.servers[0]:
        yield fed


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    """Three clustered servers with JetStream on loopback."""
    fed = make_federation(tmp_path_factory.mktemp("cluster"), servers=3)
    with NatsCluster(fed.servers):
        yield fed


@pytest.fixture(scope="module")
def loop() -> Iterator[Any]:
    """An event loop in a thread for a module's buses (:class:`fedkit.Loop`)."""
    from .fedkit import Loop  # fedkit uses free_port from here

    lp = Loop()
    yield lp
    lp.close()
