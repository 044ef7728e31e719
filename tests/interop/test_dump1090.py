"""Interoperability with a real peer: Debian's dump1090-mutability.

dump1090 demodulates the shared I/Q capture and serves Beast, AVR and SBS on
loopback; skyshare connects as a Beast client through its real network reader and
must decode the same messages dump1090 put on its AVR port, with the positions
dump1090 decoded itself on its SBS port.  In the other direction, dump1090 in
``--net-only`` mode takes skyshare's synthetic Beast and must decode the same
aircraft and positions skyshare's own decoder does.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from skyshare.badinput import BadInput
from skyshare.decode.modes import ModeSDecoder
from skyshare.decode.sbs import SbsDecoder
from skyshare.model import FrameFlag, format_icao24, frame_hex
from skyshare.sources.avr import AvrFramer
from skyshare.sources.base import SensorSpec, SensorStatus, SourceOutput
from skyshare.sources.net import run_client

DUMP1090 = shutil.which("dump1090-mutability")
pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(DUMP1090 is None, reason="dump1090-mutability is not installed "
                       "(make test installs it as root: apt-get install dump1090-mutability)"),
]


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"dump1090 did not open port {port}")


class Lines:
    """Collects a text feed (AVR or SBS) from a TCP port in a background thread."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.settimeout(0.2)
        self.data = bytearray()

    def pump(self) -> None:
        try:
            while chunk := self.sock.recv(65536):
                self.data += chunk
        except TimeoutError:
            pass

    def close(self) -> None:
        self.sock.close()

    def lines(self) -> list[str]:
        text = self.data.decode("ascii", "replace")
        return [ln.strip() for ln in text.splitlines() if ln.strip()]


@pytest.fixture
def dump1090_iq(data_dir: Path) -> Iterator[tuple[subprocess.Popen[bytes], list[int]]]:
    """dump1090 reading the I/Q capture from stdin, which we feed once clients are on."""
    beast, avr, sbs = free_ports(3)
    assert DUMP1090 is not None
    proc = subprocess.Popen(
        [DUMP1090, "--ifile", "-", "--net", "--net-bind-address", "127.0.0.1",
         "--net-bo-port", str(beast), "--net-ro-port", str(avr), "--net-sbs-port", str(sbs),
         "--net-ri-port", "0", "--net-bi-port", "0", "--net-http-port", "0", "--quiet"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for p in (beast, avr, sbs):
            wait_port(p)
        yield proc, [beast, avr, sbs]
    finally:
        proc.kill()
        proc.wait()
        assert proc.stdin is not None
        proc.stdin.close()


def test_skyshare_decodes_what_dump1090_demodulates(
        dump1090_iq: tuple[subprocess.Popen[bytes], list[int]], data_dir: Path) -> None:
    proc, (beast_port, avr_port, sbs_port) = dump1090_iq
    avr, sbs = Lines(avr_port), Lines(sbs_port)
    outputs: list[SourceOutput] = []
    spec = SensorSpec(name="dump1090", index=0, format="beast", mode="connect",
                      host="127.0.0.1", port=beast_port)
    status = SensorStatus.for_spec(spec)

    async def collect() -> None:
        stop = asyncio.Event()
        client = asyncio.create_task(run_client(spec, status, outputs.append, stop=stop))
        while not status.connected:
            await asyncio.sleep(0.02)
        iq = (data_dir / "iq" / "modes1_2p4MHz_uc8.iq").read_bytes()
        assert proc.stdin is not None
        await asyncio.to_thread(proc.stdin.write, iq)
        await asyncio.to_thread(proc.stdin.flush)
        # dump1090 flushes its network buffers on a timer; wait until the feed is quiet
        last, quiet_since = -1, time.monotonic()
        while time.monotonic() - quiet_since < 2.0:
            await asyncio.sleep(0.1)
            if status.frames != last:
                last, quiet_since = status.frames, time.monotonic()
        stop.set()
        await client

    asyncio.run(collect())
    avr.pump()
    sbs.pump()
    avr.close()
    sbs.close()
    frames = np.concatenate([o.frames for o in outputs])
    assert status.bad.total == 0, status.bad.counts

    # the same messages over Beast as over AVR
    avr_frames = sorted(ln.strip("*;").upper() for ln in avr.lines() if ln.startswith("*"))
    beast_frames = sorted(h for h in frame_hex(frames) if len(h) > 4)
    assert len(avr_frames) > 150  # dump1090 forwards 198 of the capture's messages
    assert beast_frames == avr_frames
    # ... and skyshare's AVR and SBS codecs read dump1090's own output of those ports
    avr_bad, sbs_bad = BadInput(sensor="avr"), BadInput(sensor="sbs")
    ours_avr = AvrFramer(0, avr_bad).feed(bytes(avr.data), 0.0)
    assert sorted(frame_hex(ours_avr)) == avr_frames and avr_bad.total == 0
    sbs_reports = SbsDecoder(0, sbs_bad).decode(bytes(sbs.data), 0.0)
    sbs_text = [ln.split(",") for ln in sbs.lines()]
    assert len(sbs_reports) == sum(1 for f in sbs_text if f[0] == "MSG") > 0
    assert sbs_bad.total == 0, sbs_bad.counts
    text_pos = sorted((float(f[14]), float(f[15])) for f in sbs_text
                      if f[0] == "MSG" and len(f) > 15 and f[14] and f[15])
    has = np.isfinite(sbs_reports["lat"])
    assert sorted(zip(sbs_reports["lat"][has].tolist(), sbs_reports["lon"][has].tolist(),
                      strict=True)) == text_pos

    # skyshare's decode of those frames agrees with dump1090's own decode (SBS).  The
    # capture was fed faster than real time, so arrival times say nothing; date each
    # frame by its 12 MHz receiver clock, as a recording is dated (CPR pairs need it)
    assert (frames["flags"] & FrameFlag.CLOCK_VALID).all()
    frames["time"] = 1.7e9 + (frames["clock"] - frames["clock"].min()) / 12e6
    decoder = ModeSDecoder()
    reports = decoder.decode(frames)
    sbs_pos: dict[str, list[tuple[float, float]]] = {}
    sbs_alt: dict[str, set[int]] = {}
    for ln in sbs.lines():
        f = ln.split(",")
        if len(f) >= 16 and f[0] == "MSG" and f[1] == "3" and f[14] and f[15]:
            sbs_pos.setdefault(f[4].lower(), []).append((float(f[14]), float(f[15])))
        if len(f) >= 12 and f[0] == "MSG" and f[11]:
            sbs_alt.setdefault(f[4].lower(), set()).add(int(f[11]))
    assert sbs_pos, "dump1090 decoded no positions; the capture holds 76"
    has_pos = np.isfinite(reports["lat"])
    ours = reports[has_pos]
    icao = format_icao24(ours["icao24"])
    # The capture is a splice of messages from minutes of flight packed into 0.11 s,
    # so which even/odd pairs a decoder accepts depends on its gating; each decoder
    # must still agree with the other on nearly every position, and invent none.
    for addr, positions in sbs_pos.items():
        mine = np.column_stack([ours["lat"][icao == addr], ours["lon"][icao == addr]])
        theirs = np.array(positions)
        d = np.abs(theirs[:, None, :] - mine[None, :, :]).max(axis=2)
        assert (d.min(axis=1) < 2e-5).mean() >= 0.9  # dump1090 prints 5 decimals
        assert (d.min(axis=0) < 2e-5).mean() >= 0.9
        assert d.min(axis=0).max() < 0.02  # nothing of ours far from its track
    alt_icao = format_icao24(reports["icao24"])
    for addr, alts in sbs_alt.items():
        mine_alt = set(reports["alt_baro"][(alt_icao == addr)
                                           & np.isfinite(reports["alt_baro"])].astype(int))
        assert alts <= mine_alt, (addr, alts - mine_alt)


def test_dump1090_decodes_skyshare_synthetic_beast() -> None:
    """Our encoder's Beast, pushed into dump1090 --net-only, comes back as the same
    aircraft and positions on its SBS port."""
    from skyshare.sources.beast import encode_beast
    from skyshare.synth.feed import SyntheticFeed
    from skyshare.synth.traffic import Traffic

    beast_in, sbs_out, bo, ro = free_ports(4)
    assert DUMP1090 is not None
    proc = subprocess.Popen(
        [DUMP1090, "--net-only", "--net-bind-address", "127.0.0.1", "--net-bi-port",
         str(beast_in), "--net-sbs-port", str(sbs_out), "--net-bo-port", str(bo),
         "--net-ro-port", str(ro), "--net-ri-port", "0", "--net-http-port", "0", "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(beast_in)
        wait_port(sbs_out)
        sbs = Lines(sbs_out)
        traffic = Traffic(20, seed=7, start_time=1.7e9)
        feed = SyntheticFeed(traffic)
        frames = feed.frames_between(1.7e9, 1.7e9 + 4.0)
        with socket.create_connection(("127.0.0.1", beast_in)) as s:
            s.sendall(encode_beast(frames))
            deadline = time.monotonic() + 3.0
            while time.monotonic() < deadline:
                sbs.pump()
        sbs.pump()
        sbs.close()
    finally:
        proc.kill()
        proc.wait()
    theirs: dict[str, tuple[float, float]] = {}
    for ln in sbs.lines():
        f = ln.split(",")
        if len(f) >= 16 and f[0] == "MSG" and f[1] == "3" and f[14] and f[15]:
            theirs[f[4].lower()] = (float(f[14]), float(f[15]))
    reports = ModeSDecoder().decode(frames)
    icao = format_icao24(reports["icao24"])
    ours = set(icao[np.isfinite(reports["lat"])].tolist())
    assert len(theirs) >= 15  # 20 aircraft, a few may be on the ground or just replaced
    assert set(theirs) == ours
    for addr, (lat, lon) in theirs.items():
        sel = (icao == addr) & np.isfinite(reports["lat"])
        d = np.hypot(reports["lat"][sel] - lat, reports["lon"][sel] - lon).min()
        assert d < 2e-5, (addr, d)


def test_readiness_of_a_live_node_fed_by_dump1090(
        dump1090_iq: tuple[subprocess.Popen[bytes], list[int]], data_dir: Path,
        tmp_path: Path) -> None:
    """A node reads dump1090's Beast; readiness counts what dump1090 sent (its AVR port
    the oracle), finds nothing erroneous, sees dump1090's 12 MHz clock, and once the
    capture is over calls the sensor silent although its connection stays up (a
    receiver that stopped hearing): a ``sensor_silent`` alert through the workflow."""
    import httpx
    from web.nodes import node_in_thread  # tests/ is on sys.path (tests.interop's root)

    from skyshare.config import NodeConfig
    from skyshare.node import Node, free_port
    from skyshare.readiness.settings import ReadinessConfig

    proc, (beast_port, avr_port, _) = dump1090_iq
    avr = Lines(avr_port)
    spec = SensorSpec(name="dump1090", index=0, format="beast", mode="connect",
                      host="127.0.0.1", port=beast_port, lat=43.6, lon=1.4)
    node = Node(NodeConfig(name="interop", partner="home", http_port=free_port(),
                           data_dir=tmp_path, sensors=(spec,),
                           readiness=ReadinessConfig(silent_after_s=4)))
    with node_in_thread(node) as base:
        def sensor() -> dict[str, object]:
            doc = httpx.get(f"{base}/api/readiness", timeout=5).json()
            return doc["sensors"][0]  # type: ignore[no-any-return]

        deadline = time.monotonic() + 10
        while not sensor()["connected"] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert proc.stdin is not None
        proc.stdin.write((data_dir / "iq" / "modes1_2p4MHz_uc8.iq").read_bytes())
        proc.stdin.flush()
        time.sleep(2.0)  # dump1090 flushes its network buffers on a timer
        heard = sensor()
        avr.pump()
        avr.close()
        sent = [ln for ln in avr.lines() if ln.startswith("*") and len(ln) > 6]
        totals = heard["totals"]
        assert isinstance(totals, dict) and totals["messages"] == len(sent) > 150
        assert heard["state"] == "ok" and heard["error_ratio"] == 0
        assert 0 < heard["decoded_ratio"] <= 1  # type: ignore[operator]
        clock = heard["clock"]
        assert isinstance(clock, dict) and clock["samples"] >= 1 and clock["resets"] == 0
        deadline = time.monotonic() + 20
        while sensor()["state"] != "silent" and time.monotonic() < deadline:
            time.sleep(0.2)
        quiet = sensor()
        assert quiet["state"] == "silent" and quiet["connected"] is True
        deadline = time.monotonic() + 10
        cases: list[dict[str, object]] = []
        while not cases and time.monotonic() < deadline:
            listing = httpx.get(f"{base}/api/alerts?all=1", timeout=5).json()["alerts"]
            cases = [c for c in listing if c["sensor"] == "dump1090"]
            time.sleep(0.3)
        assert cases and cases[0]["rule"] == "sensor_silent" and not cases[0]["exercise"]
