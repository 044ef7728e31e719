"""UDP reader: datagrams sent to us (ASTERIX radars and radar heads).

Each datagram goes whole to the sensor's codec (a datagram holds whole data blocks),
and what the codec returns is emitted.  Datagrams from any sender are taken (a radar
feed is usually one-way multicast or unicast on a dedicated network); ``connected``
means a datagram arrived within the last :data:`SILENT_AFTER_S`.  Bad datagrams are
counted by the codec, never raised; the reader returns promptly when ``stop`` is set.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Final

from skyshare.sources.base import Codec, SensorSpec, SensorStatus, format_address, make_codec
from skyshare.sources.net import Emit, _emit, _wait

log = logging.getLogger("skyshare.sources.udp")
SILENT_AFTER_S: Final = 10.0


class _Receiver(asyncio.DatagramProtocol):
    def __init__(self, codec: Codec, status: SensorStatus, emit: Emit) -> None:
        self.codec, self.status, self.emit = codec, status, emit

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        now = time.time()
        self.status.bytes += len(data)
        good_before = self.codec.good_bytes
        output = self.codec.feed(data, now)
        self.status.good_bytes += self.codec.good_bytes - good_before
        self.status.connected = True
        if output.messages:
            self.status.record(output.messages, now)
            _emit(self.emit, output, self.status)

    def error_received(self, exc: Exception) -> None:
        log.warning("sensor %s: UDP error %s", self.status.name, exc)


async def run_udp(spec: SensorSpec, status: SensorStatus, emit: Emit, *,
                  stop: asyncio.Event) -> None:
    """Take the datagrams sent to ``spec.host:spec.port`` until ``stop`` is set."""
    codec = make_codec(spec, status.bad)
    loop = asyncio.get_running_loop()
    delay = 1.0
    while not stop.is_set():
        try:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Receiver(codec, status, emit), local_addr=(spec.host, spec.port))
        except OSError as exc:
            log.error("sensor %s: cannot listen for UDP on %s (%s); retrying",
                      spec.name, format_address(spec.host, spec.port), exc)
            await _wait(stop, delay)
            delay = min(2 * delay, 30.0)
            continue
        sockname = transport.get_extra_info("sockname")
        if sockname:
            status.address = format_address(spec.host, int(sockname[1]))
        log.info("sensor %s: listening for UDP datagrams on %s", spec.name, status.address)
        try:
            while not stop.is_set():
                await _wait(stop, 1.0)
                status.connected = time.time() - status.last_message < SILENT_AFTER_S
        finally:
            transport.close()
        break
    log.info("sensor %s: stopped", spec.name)
