"""TCP readers against real loopback sockets: chunking, reconnects, garbage, stop."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import numpy as np
import pytest

from skyshare.badinput import BadInput
from skyshare.model import FrameBatch, frame_hex
from skyshare.sources.avr import encode_avr
from skyshare.sources.base import SensorSpec, SensorStatus, SourceOutput
from skyshare.sources.beast import BeastFramer, encode_beast
from skyshare.sources.net import GARBAGE_KIND, NetOptions, run_client, run_server

FAST = NetOptions(backoff_initial_s=0.05, backoff_max_s=0.2, connect_timeout_s=2.0)
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture(scope="module")
def sample(data_dir: Path) -> FrameBatch:
    raw = (data_dir / "modes" / "sample_dump1090.beast").read_bytes()
    return BeastFramer(0, BadInput()).feed(raw, 0.0)


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def send_in_odd_chunks(writer: asyncio.StreamWriter, data: bytes, size: int = 37) -> None:
    for i in range(0, len(data), size):
        writer.write(data[i: i + size])
        await writer.drain()
        await asyncio.sleep(0)


class Feed:
    """A receiver serving a feed: ``handlers[k]`` runs the k-th connection."""

    def __init__(self, *handlers: Handler) -> None:
        self.handlers = list(handlers)
        self.accepted = 0
        self.release = asyncio.Event()
        self.server: asyncio.Server | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = self.handlers[min(self.accepted, len(self.handlers) - 1)]
        self.accepted += 1
        try:
            await handler(reader, writer)
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        self.release.set()
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


def client_spec(port: int, fmt: str = "beast") -> SensorSpec:
    return SensorSpec(name="rx", index=2, format=fmt, mode="connect",  # type: ignore[arg-type]
                      host="127.0.0.1", port=port)


def frames_of(outputs: list[SourceOutput]) -> FrameBatch:
    return np.concatenate([o.frames for o in outputs])


def test_client_reads_a_feed_sent_in_odd_chunks(sample: FrameBatch) -> None:
    data = encode_beast(sample)

    async def main() -> tuple[list[SourceOutput], SensorStatus]:
        async def serve(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await send_in_odd_chunks(writer, data)
            await feed.release.wait()

        feed = Feed(serve)
        spec = client_spec(await feed.start())
        status = SensorStatus.for_spec(spec)
        outputs: list[SourceOutput] = []
        stop = asyncio.Event()
        task = asyncio.create_task(run_client(spec, status, outputs.append, stop=stop,
                                              options=FAST))
        await until(lambda: status.frames >= len(sample))
        assert status.connected
        stop.set()
        await asyncio.wait_for(task, 1.0)
        await feed.close()
        return outputs, status

    outputs, status = asyncio.run(main())
    frames = frames_of(outputs)
    assert frame_hex(frames) == frame_hex(sample)
    assert (frames["sensor"] == 2).all()
    assert status.bytes == len(data) and status.frames == len(sample)
    assert status.connections == 1 and status.reconnects == 0 and not status.connected
    assert status.bad.total == 0
    assert status.rate(time.time()) > 0 and status.last_message <= time.time()


def test_client_reconnects_when_the_feed_drops(sample: FrameBatch,
                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="skyshare.sources.net")
    first, second = encode_beast(sample[:100]), encode_beast(sample[100:])

    async def main() -> tuple[list[SourceOutput], SensorStatus]:
        async def serve_then_drop(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await send_in_odd_chunks(writer, first, 53)

        async def serve_rest(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await send_in_odd_chunks(writer, second, 29)
            await feed.release.wait()

        feed = Feed(serve_then_drop, serve_rest)
        spec = client_spec(await feed.start())
        status = SensorStatus.for_spec(spec)
        outputs: list[SourceOutput] = []
        stop = asyncio.Event()
        task = asyncio.create_task(run_client(spec, status, outputs.append, stop=stop,
                                              options=FAST))
        await until(lambda: status.frames >= len(sample))
        stop.set()
        await asyncio.wait_for(task, 1.0)
        await feed.close()
        return outputs, status

    outputs, status = asyncio.run(main())
    assert frame_hex(frames_of(outputs)) == frame_hex(sample)
    assert status.connections == 2 and status.reconnects == 1
    messages = [r.getMessage() for r in caplog.records]
    assert any("closed by the peer; reconnecting" in m for m in messages)
    assert sum("connected to" in m for m in messages) == 2


@pytest.mark.parametrize("kind", ["random bytes", "AVR text to a Beast sensor"])
def test_client_drops_a_garbage_feed_and_says_so(kind: str, sample: FrameBatch,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="skyshare.sources.net")
    if kind == "random bytes":
        junk = np.random.default_rng(1).integers(0, 256, 16384, dtype=np.uint8).tobytes()
    else:
        junk = encode_avr(sample)

    async def main() -> SensorStatus:
        async def serve_junk(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while not feed.release.is_set():
                writer.write(junk)
                await writer.drain()
                await asyncio.sleep(0.001)

        feed = Feed(serve_junk)
        spec = client_spec(await feed.start())
        status = SensorStatus.for_spec(spec)
        stop = asyncio.Event()
        task = asyncio.create_task(run_client(spec, status, lambda _: None, stop=stop,
                                              options=FAST))
        await until(lambda: status.bad.counts[GARBAGE_KIND] >= 2 and status.connections >= 3)
        stop.set()
        await asyncio.wait_for(task, 1.0)
        await feed.close()
        return status

    status = asyncio.run(main())
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING
                and "mostly garbage" in r.getMessage()]
    assert len(warnings) == 1  # once per streak, not once per reconnect
    assert "wrong format? dropping and reconnecting" in warnings[0]
    assert "% unusable" in warnings[0]
    assert status.reconnects >= 2 and not status.connected


def test_client_retries_a_refused_connection_and_logs_it_once(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="skyshare.sources.net")

    async def main() -> tuple[SensorStatus, float]:
        feed = Feed(lambda r, w: asyncio.sleep(0))
        port = await feed.start()
        await feed.close()  # nothing listens there any more
        spec = client_spec(port)
        status = SensorStatus.for_spec(spec)
        stop = asyncio.Event()
        task = asyncio.create_task(run_client(spec, status, lambda _: None, stop=stop,
                                              options=FAST))
        await until(lambda: status.reconnects >= 4)
        stop.set()
        started = time.monotonic()
        await asyncio.wait_for(task, 1.0)
        return status, time.monotonic() - started

    status, stop_took = asyncio.run(main())
    assert status.connections == 0 and not status.connected
    assert stop_took < 0.5
    refused = [r for r in caplog.records if "cannot connect" in r.getMessage()]
    assert [r.levelno for r in refused if r.levelno > logging.DEBUG] == [logging.WARNING]


def test_client_stops_promptly_on_an_idle_connection() -> None:
    async def main() -> float:
        async def idle(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await feed.release.wait()

        feed = Feed(idle)
        spec = client_spec(await feed.start())
        status = SensorStatus.for_spec(spec)
        stop = asyncio.Event()
        task = asyncio.create_task(run_client(spec, status, lambda _: None, stop=stop))
        await until(lambda: status.connected)
        stop.set()
        started = time.monotonic()
        await asyncio.wait_for(task, 1.0)
        took = time.monotonic() - started
        await feed.close()
        return took

    assert asyncio.run(main()) < 0.2


def test_consumer_errors_do_not_kill_the_client(sample: FrameBatch,
                                                caplog: pytest.LogCaptureFixture) -> None:
    data = encode_beast(sample)

    def broken(_: SourceOutput) -> None:
        raise RuntimeError("consumer bug")

    async def main() -> SensorStatus:
        async def serve(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await send_in_odd_chunks(writer, data, 500)
            await feed.release.wait()

        feed = Feed(serve)
        spec = client_spec(await feed.start())
        status = SensorStatus.for_spec(spec)
        stop = asyncio.Event()
        task = asyncio.create_task(run_client(spec, status, broken, stop=stop, options=FAST))
        await until(lambda: status.frames >= len(sample))
        stop.set()
        await asyncio.wait_for(task, 1.0)
        await feed.close()
        return status

    status = asyncio.run(main())
    assert status.connections == 1
    assert any("consumer" in r.getMessage() for r in caplog.records)


async def push(port: int, data: bytes, chunk: int) -> None:
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    await send_in_odd_chunks(writer, data, chunk)
    writer.close()
    await writer.wait_closed()


def test_server_receives_from_two_pushing_receivers(sample: FrameBatch) -> None:
    a, b = encode_beast(sample[:120]), encode_beast(sample[120:])

    async def main() -> tuple[list[SourceOutput], SensorStatus]:
        spec = SensorSpec(name="push", index=1, format="beast", mode="listen",
                          host="127.0.0.1", port=0)
        status = SensorStatus.for_spec(spec)
        outputs: list[SourceOutput] = []
        stop = asyncio.Event()
        task = asyncio.create_task(run_server(spec, status, outputs.append, stop=stop,
                                              options=FAST))
        await until(lambda: not status.address.endswith(":0"))
        port = int(status.address.rsplit(":", 1)[1])
        await asyncio.gather(push(port, a, 41), push(port, b, 17))
        await until(lambda: status.frames >= len(sample) and not status.connected)
        stop.set()
        await asyncio.wait_for(task, 1.0)
        return outputs, status

    outputs, status = asyncio.run(main())
    got = sorted(frame_hex(frames_of(outputs)))
    assert got == sorted(frame_hex(sample))
    assert status.connections == 2 and status.bytes == len(a) + len(b)
    assert status.bad.total == 0


def test_server_drops_a_garbage_connection_and_keeps_the_good_one(
        sample: FrameBatch, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="skyshare.sources.net")
    good = encode_beast(sample)
    junk = np.random.default_rng(2).integers(0, 256, 200_000, dtype=np.uint8).tobytes()
    junk = junk.replace(b"\x1a", b"\x00")  # not even a chance frame in it

    async def main() -> tuple[list[SourceOutput], SensorStatus]:
        spec = SensorSpec(name="push", index=1, format="beast", mode="listen",
                          host="127.0.0.1", port=0)
        status = SensorStatus.for_spec(spec)
        outputs: list[SourceOutput] = []
        stop = asyncio.Event()
        task = asyncio.create_task(run_server(spec, status, outputs.append, stop=stop,
                                              options=FAST))
        await until(lambda: not status.address.endswith(":0"))
        port = int(status.address.rsplit(":", 1)[1])
        _, idle_writer = await asyncio.open_connection("127.0.0.1", port)  # held open
        results = await asyncio.gather(push(port, junk, 8192), push(port, good, 64),
                                       return_exceptions=True)
        assert not isinstance(results[1], BaseException)
        await until(lambda: status.bad.counts[GARBAGE_KIND] == 1 and status.frames >= len(sample))
        assert status.connected  # the idle connection is still up
        stop.set()
        await asyncio.wait_for(task, 1.0)
        idle_writer.close()
        return outputs, status

    outputs, status = asyncio.run(main())
    assert sorted(frame_hex(frames_of(outputs))) == sorted(frame_hex(sample))
    assert any("dropping this connection" in r.getMessage() for r in caplog.records)
    assert not status.connected
