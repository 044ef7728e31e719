"""A real node running in a background thread, for the tests that talk to it over HTTP."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from skyshare.alerts.service import AlertsConfig
from skyshare.auth import UserStore
from skyshare.config import AirspaceConfig, NodeConfig
from skyshare.node import Node
from skyshare.sources.base import SensorSpec

PASSWORD = "correct horse battery"  # every test user's


def wait_until(what: str, check: Callable[[], Any], timeout_s: float = 30.0) -> Any:
    """What ``check`` returns once it is true; AssertionError naming ``what`` if it is
    not within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout_s} s: {what}")


@contextmanager
def node_in_thread(node: Node, *others: Callable[[asyncio.Event], Awaitable[None]]
                   ) -> Iterator[str]:
    """``node`` (and ``others``, e.g. a feed) running in a thread; yields its base URL."""
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def main() -> None:
        await asyncio.gather(node.run(stop), *(other(stop) for other in others))

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 120  # the first run compiles the numba kernels
    while not node.ready.is_set() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert node.ready.is_set(), "node did not start"
    try:
        yield f"http://127.0.0.1:{node.http_port}"
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=20)
        assert not thread.is_alive(), "node did not stop"
        loop.close()


def alerts_node(name: str, data_dir: Path, feed_port: int, users: dict[str, tuple[str, str]],
                regions: Path, alerts: AlertsConfig, picture_interval_s: float) -> Node:
    """A node of partner "home" reading Beast from ``feed_port``, with ``regions`` and
    ``users`` (name -> (partner, role), password :data:`PASSWORD`, cheap hashes)."""
    store = UserStore(data_dir / "users.sqlite", scrypt_n=2**10)
    for user, (partner, role) in users.items():
        store.add(user, partner, role, PASSWORD)
    return Node(NodeConfig(
        name=name, partner="home", http_port=0, data_dir=data_dir,
        sensors=(SensorSpec(name="rx", index=0, format="beast", mode="connect",
                            port=feed_port),),
        airspace=AirspaceConfig(regions=(regions,)), alerts=alerts,
        picture_interval_s=picture_interval_s))
