"""Simulated radars on the wire: CAT048 plots and CAT034 north markers as UDP
datagrams (:func:`serve_udp`) or as a pcap recording (:func:`write_recording`).

Both cut simulated time into steps (100 ms): at the end of each step every radar
sends what it detected during the step, one data block a datagram, in time order (a
north marker between the plots of the scan it ends and those of the next), written
by the real codecs (:func:`~skyshare.decode.asterix.write048.encode_plots`,
:func:`~skyshare.decode.asterix.write034.encode_service`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import socket
import struct
import time as _time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from skyshare.decode.asterix.write034 import encode_service
from skyshare.decode.asterix.write048 import encode_plots
from skyshare.radar.sim import RadarSimulator

__all__ = ["STEP_S", "Datagram", "datagrams_between", "serve_udp", "write_recording"]

log = logging.getLogger(__name__)

STEP_S: Final = 0.1
MAX_CATCH_UP_S: Final = 1.0
"""A longer gap in wall time (a held-up event loop) is skipped, not sent in a burst."""
RECORDING_WINDOW_S: Final = 60.0
Datagram = tuple[float, int, bytes]
"""(UNIX time it is sent, radar index, payload)."""


def datagrams_between(simulator: RadarSimulator, t0: float, t1: float,
                      step: float = STEP_S) -> list[Datagram]:
    """What the radars send for [t0, t1), sent at the end of each ``step`` from ``t0``
    (the last one at ``t1``), by time then radar."""
    plots = simulator.plots_between(t0, t1)
    m_time, m_radar = simulator.scan_starts(t0, t1)
    markers = simulator.north_markers_between(t0, t1)
    n_steps = max(1, math.ceil((t1 - t0) / step - 1e-9))
    sent_at = np.minimum(t0 + step * np.arange(1, n_steps + 1), t1)
    out: list[Datagram] = []
    for r in range(len(simulator.radars)):
        mine = plots.radar == r
        p_time, p_rows = plots.time[mine], plots.plots[mine]
        m_mine = m_radar == r
        mt, m_rows = m_time[m_mine], markers[m_mine]
        p_step = np.minimum(((p_time - t0) // step).astype(np.int64), n_steps - 1)
        m_step = np.minimum(((mt - t0) // step).astype(np.int64), n_steps - 1)
        for s in np.unique(np.concatenate([p_step, m_step])):
            lo, hi = np.searchsorted(p_step, [s, s + 1])
            cuts = [lo, *np.searchsorted(p_time, mt[m_step == s]).tolist(), hi]
            when = float(sent_at[s])
            for i, j in enumerate(np.flatnonzero(m_step == s)):
                out.extend(_plot_datagrams(when, r, p_rows[cuts[i]:cuts[i + 1]]))
                out.extend((when, r, b) for b in encode_service(m_rows[j:j + 1]))
            out.extend(_plot_datagrams(when, r, p_rows[cuts[-2]:cuts[-1]]))
    out.sort(key=lambda d: d[0])  # stable: radar order within a step
    return out


def _plot_datagrams(when: float, radar: int, rows: npt.NDArray[np.void]) -> list[Datagram]:
    if not len(rows):
        return []
    blocks, dropped = encode_plots(rows)
    if dropped:
        log.debug("radar %d: %d plots could not be written", radar, dropped)
    return [(when, radar, b) for b in blocks]


# ----------------------------------------------------------------------------- UDP
async def serve_udp(simulator: RadarSimulator, targets: Mapping[int, tuple[str, int]],
                    stop: asyncio.Event, speed: float = 1.0,
                    clock: Callable[[], float] = _time.time,
                    start: float | None = None) -> int:
    """Send each radar's datagrams to ``targets[radar]`` (host, port) until ``stop`` is
    set; returns how many were sent.

    Every ~100 ms of wall time (``clock``) the datagrams of the simulated time elapsed
    are sent; simulated time starts at ``start`` (default: the clock's time, so that
    plots carry the time they are sent) and runs ``speed`` times as fast as the clock.
    Radars without a target are simulated but not sent.
    """
    if not (math.isfinite(speed) and speed > 0):
        raise ValueError(f"speed must be a positive number, not {speed!r}")
    for r in targets:
        if not 0 <= r < len(simulator.radars):
            raise ValueError(f"no radar {r}: the simulator has {len(simulator.radars)}")
    sockets: dict[int, tuple[socket.socket, tuple[str, int]]] = {}
    try:
        for r, (host, port) in targets.items():
            family, kind, proto, _, address = socket.getaddrinfo(
                host, port, type=socket.SOCK_DGRAM)[0]
            sock = socket.socket(family, kind, proto)
            sock.setblocking(False)
            sockets[r] = (sock, (str(address[0]), int(address[1])))
        return await _stream(simulator, sockets, stop, speed, clock, start)
    finally:
        for sock, _ in sockets.values():
            sock.close()


async def _stream(simulator: RadarSimulator,
                  sockets: Mapping[int, tuple[socket.socket, tuple[str, int]]],
                  stop: asyncio.Event, speed: float, clock: Callable[[], float],
                  start: float | None) -> int:
    wall0 = clock()
    sim0 = wall0 if start is None else float(start)
    t, sent = sim0, 0
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), STEP_S)
        if stop.is_set():
            break
        now = sim0 + (clock() - wall0) * speed
        if now - t > MAX_CATCH_UP_S * speed:
            log.debug("simulated radars skipped %.1f s", now - t - STEP_S * speed)
            t = now - STEP_S * speed
        if now <= t:
            continue
        # the compiled kernels release the GIL: simulating off the loop keeps it responsive
        grams = await asyncio.to_thread(datagrams_between, simulator, t, now, now - t)
        for _, r, payload in grams:
            if r in sockets:
                sock, address = sockets[r]
                try:
                    sock.sendto(payload, address)
                    sent += 1
                except (BlockingIOError, InterruptedError):
                    log.debug("radar %d: a datagram dropped (socket buffer full)", r)
                except OSError as exc:  # e.g. no route: keep going, as a radar would
                    log.debug("radar %d: %s", r, exc)
        t = now
    return sent


# ----------------------------------------------------------------------------- pcap
_ETHERNET_HEADER: Final = b"\x02\x00\x00\x00\x00\x01" + b"\x02\x00\x00\x00\x00\x02" \
    + b"\x08\x00"  # destination, source (locally administered), IPv4


def _ipv4_checksum(header: bytes) -> int:
    total = sum(int(word) for word in struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _packet(payload: bytes, radar: int, port: int, ident: int) -> bytes:
    """Ethernet + IPv4 + UDP around ``payload``: from 10.1.x.y (radar ``radar``) port
    ``port``, to 10.0.0.1 port ``port``; no UDP checksum (optional over IPv4)."""
    source = bytes([10, 1, (radar + 1) >> 8 & 0xFF, (radar + 1) & 0xFF])
    udp = struct.pack("!HHHH", port, port, 8 + len(payload), 0) + payload
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), ident & 0xFFFF, 0x4000,
                         64, 17, 0, source, bytes([10, 0, 0, 1]))
    header = header[:10] + struct.pack("!H", _ipv4_checksum(header)) + header[12:]
    return _ETHERNET_HEADER + header + udp


def write_recording(simulator: RadarSimulator, path: str | Path, t0: float,
                    duration_s: float, port: int = 8600, step: float = STEP_S) -> int:
    """Write the datagrams of [t0, t0 + duration_s) to a classic pcap file (Ethernet,
    IPv4, UDP; radar ``r`` to UDP port ``port + r``), each stamped with the time it is
    sent; returns how many were written."""
    if not (math.isfinite(duration_s) and duration_s > 0 and step > 0):
        raise ValueError(f"duration_s ({duration_s!r}) and step ({step!r}) must be positive")
    if not 0 < port <= 0xFFFF - len(simulator.radars) + 1:
        raise ValueError(f"port {port} leaves no room for {len(simulator.radars)} radars")
    written = 0
    end = t0 + duration_s
    window = max(step, math.floor(RECORDING_WINDOW_S / step) * step)
    with Path(path).open("wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        a = t0
        while a < end:
            b = min(a + window, end)
            for when, r, payload in datagrams_between(simulator, a, b, step):
                packet = _packet(payload, r, port + r, written)
                sec = math.floor(when)
                usec = min(round((when - sec) * 1e6), 999_999)
                out.write(struct.pack("<IIII", sec, usec, len(packet), len(packet)) + packet)
                written += 1
            a = b
    return written
