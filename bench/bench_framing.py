"""Framing throughput of each wire format (MB/s and frames/s), in file-sized and
socket-sized chunks.

    .venv/bin/python bench/bench_framing.py [--frames 1000000]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable

import numpy as np

from skyshare.badinput import BadInput
from skyshare.model import FrameBatch, FrameFlag, empty_frames
from skyshare.sources.avr import AvrFramer, encode_avr
from skyshare.sources.base import SbsCodec
from skyshare.sources.beast import BeastFramer, encode_beast
from skyshare.sources.jsonl import JsonlFramer


def random_frames(n: int, seed: int = 1) -> FrameBatch:
    rng = np.random.default_rng(seed)
    frames = empty_frames(n)
    frames["length"] = rng.choice(np.array([7, 14], np.uint8), n, p=[0.4, 0.6])
    frames["data"] = rng.integers(0, 256, (n, 14), dtype=np.uint8)
    frames["data"][frames["length"] == 7, 7:] = 0
    frames["clock"] = np.cumsum(rng.integers(1, 24_000, n, dtype=np.uint64))
    frames["flags"] = FrameFlag.CLOCK_VALID
    frames["rssi"] = -rng.random(n).astype(np.float32) * 30
    return frames


def jsonl_lines(frames: FrameBatch) -> bytes:
    hexes = [bytes(f["data"][: f["length"]]).hex() for f in frames]
    return "".join(json.dumps({"timestamp": 1.7e9 + i * 1e-3, "frame": h, "df": "17"}) + "\n"
                   for i, h in enumerate(hexes)).encode()


def sbs_lines(n: int) -> bytes:
    line = (b"MSG,3,1,1,4CA2D6,1,2024/06/06,09:38:39.147,2024/06/06,09:38:39.147,RYR1234,"
            b"36000,450,270,43.61234,1.37123,-64,7700,0,0,0,0\n")
    return line * n


def measure(name: str, data: bytes, chunk: int, make: Callable[[], Callable[[bytes], int]],
            repeats: int = 3) -> None:
    feed = make()
    feed(data[: 1 << 16])  # compile / warm up
    best = math.inf
    count = 0
    for _ in range(repeats):
        feed = make()
        start = time.perf_counter()
        count = sum(feed(data[i: i + chunk]) for i in range(0, len(data), chunk))
        best = min(best, time.perf_counter() - start)
    print(f"{name:<8} chunks {chunk:>8,} B: {len(data) / best / 1e6:8.1f} MB/s "
          f"{count / best / 1e6:6.2f} M msgs/s ({count:,} in {best:.3f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=1_000_000)
    n = parser.parse_args().frames
    frames = random_frames(n)
    beast, avr = encode_beast(frames), encode_avr(frames, with_clock=True)
    jsonl, sbs = jsonl_lines(frames[: n // 4]), sbs_lines(n // 4)

    def beast_feed() -> Callable[[bytes], int]:
        framer = BeastFramer(0, BadInput())
        return lambda chunk: len(framer.feed(chunk, 0.0))

    def avr_feed() -> Callable[[bytes], int]:
        framer = AvrFramer(0, BadInput())
        return lambda chunk: len(framer.feed(chunk, 0.0))

    def jsonl_feed() -> Callable[[bytes], int]:
        framer = JsonlFramer(0, BadInput())
        return lambda chunk: len(framer.feed(chunk, 0.0))

    def sbs_feed() -> Callable[[bytes], int]:
        codec = SbsCodec(0, BadInput(), use_message_time=True)
        return lambda chunk: codec.feed(chunk, 0.0).messages

    for chunk in (4 << 20, 64 << 10):
        measure("beast", beast, chunk, beast_feed)
        measure("avr", avr, chunk, avr_feed)
        measure("jsonl", jsonl, chunk, jsonl_feed, repeats=1)
        measure("sbs", sbs, chunk, sbs_feed, repeats=1)


if __name__ == "__main__":
    main()
