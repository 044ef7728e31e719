"""End to end: Beast over loopback TCP into a running node.

A sender process simulates N aircraft heard by R overlapping receivers (each
receiver a Beast TCP server on loopback, all hearing every aircraft, as in a dense
receiver network) and streams in real time.  The node under test is started as a
separate process exactly as a user starts it (``skyshare run --beast-connect ...``).
Every second the bench reads the node's ``/api/status`` (frames received, pipeline
frame-to-picture latency) and ``/proc/PID/status`` (resident memory), then prints
sustained frames/s, p99 latency and peak RSS against the targets (300,000 frames/s,
p99 < 500 ms, RSS < 2 GiB).

If ``dump1090-mutability`` is installed, the same Beast stream is also pushed into
it (``--net-only``) in the same run and its CPU time per second is printed beside
the node's, as a reference for what a widely used single-receiver decoder spends.

    python bench/bench_end_to_end.py [--aircraft 20000] [--receivers 4] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

TICK_HZ = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ----------------------------------------------------------------------------- sender
async def send(aircraft: int, ports: list[int], seconds: float, peer_port: int | None) -> None:
    import numpy as np

    from skyshare.sources.beast import encode_beast
    from skyshare.synth.feed import SyntheticFeed
    from skyshare.synth.traffic import Traffic

    start = time.time()
    feed = SyntheticFeed(Traffic(aircraft, seed=11, start_time=start))
    writers: dict[int, list[asyncio.StreamWriter]] = {p: [] for p in ports}

    def on_connect(port: int):  # type: ignore[no-untyped-def]
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writers[port].append(writer)
        return handle

    servers = [await asyncio.start_server(on_connect(p), "127.0.0.1", p) for p in ports]
    peer: asyncio.StreamWriter | None = None
    print(json.dumps({"sender": "ready"}), flush=True)
    while not all(writers[p] for p in ports):
        await asyncio.sleep(0.05)
    if peer_port:
        _, peer = await asyncio.open_connection("127.0.0.1", peer_port)
    rng = np.random.default_rng(1)
    t = time.time()
    end = t + seconds
    while t < end:
        t1 = t + 0.1
        frames = feed.frames_between(t, t1)
        for i, p in enumerate(ports):
            copy = frames.copy()
            copy["rssi"] = -10.0 - 3 * i - rng.random(len(copy)).astype(np.float32) * 5
            data = encode_beast(copy)
            for w in writers[p]:
                w.write(data)
            if i == 0 and peer is not None:
                peer.write(data)
        for p in ports:
            for w in writers[p]:
                await w.drain()
        delay = t1 - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        t = t1
    for s in servers:
        s.close()


# ----------------------------------------------------------------------------- measure
def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK_HZ


def status(port: int) -> dict[str, object]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=5) as r:
        return json.loads(r.read())  # type: ignore[no-any-return]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--aircraft", type=int, default=20_000)
    ap.add_argument("--receivers", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--sender", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--ports", help=argparse.SUPPRESS)
    ap.add_argument("--peer-port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.sender:
        ports = [int(p) for p in args.ports.split(",")]
        asyncio.run(send(args.aircraft, ports, args.seconds, args.peer_port))
        return 0

    ports = [free_port() for _ in range(args.receivers)]
    http = free_port()
    peer = None
    peer_port = None
    dump1090 = shutil.which("dump1090-mutability")
    if dump1090:
        peer_port = free_port()
        peer = subprocess.Popen(
            [dump1090, "--net-only", "--net-bind-address", "127.0.0.1", "--net-bi-port",
             str(peer_port), "--net-ro-port", "0", "--net-sbs-port", "0", "--net-bo-port", "0",
             "--net-ri-port", "0", "--net-http-port", "0", "--quiet"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    warm = args.seconds + 30  # the sender runs a little longer than we measure
    sender = subprocess.Popen(
        [sys.executable, __file__, "--sender", "--aircraft", str(args.aircraft), "--ports",
         ",".join(map(str, ports)), "--seconds", str(warm)]
        + (["--peer-port", str(peer_port)] if peer_port else []),
        stdout=subprocess.PIPE, text=True)
    assert sender.stdout is not None
    sender.stdout.readline()  # ready
    node_cmd = [sys.executable, "-m", "skyshare.cli", "run", "--http", f"127.0.0.1:{http}",
                "--data-dir", "/tmp/skyshare-bench"]
    for p in ports:
        node_cmd += ["--beast-connect", f"127.0.0.1:{p}"]
    node = subprocess.Popen(node_cmd, stdout=subprocess.DEVNULL)
    print(f"end to end: {args.aircraft:,} aircraft x {args.receivers} receivers over loopback "
          f"TCP, {args.seconds:g} s measured after a 20 s warm-up", flush=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                status(http)
                break
            except OSError:
                time.sleep(0.5)
        time.sleep(20)  # numba compile, aircraft appear
        first = status(http)
        t0 = time.monotonic()
        cpu0 = cpu_seconds(node.pid)
        peer_cpu0 = cpu_seconds(peer.pid) if peer else 0.0
        peak_rss, p99s = 0, []
        last = first
        while time.monotonic() - t0 < args.seconds:
            time.sleep(1.0)
            last = status(http)
            peak_rss = max(peak_rss, rss_bytes(node.pid))
            if last["latency_p99_s"] is not None:
                p99s.append(float(last["latency_p99_s"]))  # type: ignore[arg-type]
            el = time.monotonic() - t0
            rate = (int(last["frames"]) - int(first["frames"])) / el  # type: ignore[call-overload]
            line = (f"  {el:5.1f} s  {rate:,.0f} frames/s  tracks {last['tracks']:,}  "
                    f"p99 {p99s[-1] if p99s else float('nan'):.3f} s  "
                    f"rss {peak_rss / 2**20:,.0f} MiB")
            if sys.stdout.isatty():
                print("\r" + line, end="", flush=True)
            elif len(p99s) % 10 == 0:
                print(line, flush=True)
        elapsed = time.monotonic() - t0
        cpu = cpu_seconds(node.pid) - cpu0
        peer_cpu = (cpu_seconds(peer.pid) - peer_cpu0) if peer else None
    finally:
        node.terminate()
        sender.terminate()
        if peer:
            peer.terminate()
        for proc in (node, sender, peer):
            if proc:
                proc.wait(timeout=20)
    frames = int(last["frames"]) - int(first["frames"])  # type: ignore[call-overload]
    rate = frames / elapsed
    p99 = max(p99s) if p99s else float("nan")
    print()
    print(f"sustained      {rate:12,.0f} frames/s   (target >= 300,000)  "
          f"{'OK' if rate >= 300_000 else 'BELOW TARGET'}")
    print(f"p99 latency    {p99 * 1000:12,.1f} ms         (target < 500)      "
          f"{'OK' if p99 < 0.5 else 'ABOVE TARGET'}")
    print(f"peak RSS       {peak_rss / 2**20:12,.0f} MiB        (target < 2048)     "
          f"{'OK' if peak_rss < 2 * 2**30 else 'ABOVE TARGET'}")
    print(f"tracks         {last['tracks']:>12,}")
    print(f"node CPU       {cpu / elapsed:12.2f} cores")
    if peer_cpu is not None:
        per_rx = rate / args.receivers
        print(f"dump1090-mutability --net-only on one receiver's stream ({per_rx:,.0f} frames/s): "
              f"{peer_cpu / elapsed:.2f} cores; node CPU per frame / dump1090 CPU per frame = "
              f"{(cpu / max(rate, 1)) / (peer_cpu / max(per_rx, 1)):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
