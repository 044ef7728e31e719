"""Helpers of the federation tests: an event loop in a thread, and a federation folder
with a real NATS server laid out as `skyshare federation init` does."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from skyshare.share.natsbus import NatsBus
from skyshare.share.natsconf import NatsCredentials
from skyshare.share.settings import FederationConfig
from skyshare.share.setup import Layout, init_federation

from .conftest import free_port

T = TypeVar("T")

AGREEMENTS = """\
agreements:
  - id: west-to-central
    from: west
    to: central
    regions:
      - name: box
        polygon: [[40.0, 0.0], [50.0, 0.0], [50.0, 10.0], [40.0, 10.0]]
    fields: [position]
    max_rate_hz: 20
  - id: central-to-west
    from: central
    to: west
    regions:
      - name: box
        polygon: [[40.0, 0.0], [50.0, 0.0], [50.0, 10.0], [40.0, 10.0]]
    fields: [position, identity]
    max_rate_hz: 20
  - id: east-to-central
    from: east
    to: central
    regions:
      - name: box
        polygon: [[40.0, 10.0], [50.0, 10.0], [50.0, 20.0], [40.0, 20.0]]
    fields: [position]
"""
"""west, central and east sharing in a box around 45N 5E (the tests' default)."""

class Loop:
    """An event loop in a thread: buses stay connected across hypothesis examples."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 15.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        async def cancel_rest() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.run(cancel_rest())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


def write_federation(root: Path, text: str = AGREEMENTS) -> Layout:
    root.mkdir(parents=True, exist_ok=True)
    (root / "agreements.yaml").write_text(text)
    return init_federation(root / "fed", [root / "agreements.yaml"], port=free_port())


def config(layout: Layout, me: str, **changes: Any) -> FederationConfig:
    fed = layout.root
    return FederationConfig(agreements=layout.agreements,
                            credentials=fed / "nats" / "creds" / f"{me}.json",
                            public_keys=fed / "keys" / "public", key=fed / "keys" / f"{me}.key",
                            **changes)


def bus(layout: Layout, user: str) -> NatsBus:
    creds = NatsCredentials.load(layout.nats_dir / "creds" / f"{user}.json")
    return NatsBus.from_credentials(creds, name=f"test-{user}")


