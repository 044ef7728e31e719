"""A real node running in a background thread, for the tests that talk to it over HTTP."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

from skyshare.node import Node


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
