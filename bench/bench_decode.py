"""Decoding throughput: skyshare's Mode S decoder against rs1090 and pyModeS.

The real recording ``modes/tutorial_17ac.jsonl.gz`` (72k frames, 17 aircraft) is
tiled, each copy shifted to follow the previous one in time, to ``--frames`` frames.
Each decoder gets its input in its own native form, prepared before the clock
starts: skyshare a ``FRAME_DTYPE`` batch decoded in chunks of ``--chunk`` frames (as
the offline command does), rs1090 and pyModeS lists of hex strings and timestamps
in one batch call each (with positions: a reference for rs1090, timestamps for
both).  The peers are timed on the first ``--rs1090-frames`` / ``--pymodes-frames``
frames and their rate scaled; everything is measured in this one run, skyshare
after a warm-up that loads (or compiles) its numba kernels.

    python bench/bench_decode.py [--frames 1000000] [--chunk 100000]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from skyshare.decode.modes import ModeSDecoder  # noqa: E402
from skyshare.model import FrameBatch, empty_frames  # noqa: E402

REFERENCE = (43.6, 1.4)  # the recording's receiver area (Toulouse)


def data_dir() -> Path:
    return Path(os.environ.get("SKYSHARE_DATA", REPO / ".." / "shared" / "data")).resolve()


def load(path: Path) -> FrameBatch:
    with gzip.open(path, "rt") as f:
        rows = [json.loads(line) for line in f]
    frames = empty_frames(len(rows))
    for i, row in enumerate(rows):
        data = bytes.fromhex(row["frame"])
        frames["time"][i] = row["timestamp"]
        frames["length"][i] = len(data)
        frames["data"][i, : len(data)] = np.frombuffer(data, dtype=np.uint8)
    return frames


def tile(frames: FrameBatch, n: int) -> FrameBatch:
    copies = -(-n // len(frames))
    span = float(frames["time"][-1] - frames["time"][0]) + 1.0
    out = np.concatenate([frames] * copies)
    out["time"] += np.repeat(np.arange(copies) * span, len(frames))
    return out


def bench_skyshare(frames: FrameBatch, chunk: int, repeats: int) -> float:
    ModeSDecoder(reference=REFERENCE).decode(frames[:chunk])  # load or compile the kernels
    rates = []
    for r in range(repeats):
        decoder = ModeSDecoder(reference=REFERENCE)
        start = time.perf_counter()
        for i in range(0, len(frames), chunk):
            decoder.decode(frames[i:i + chunk])
        elapsed = time.perf_counter() - start
        rates.append(len(frames) / elapsed)
        print(f"  run {r + 1}/{repeats}: {len(frames):,} frames in {elapsed:.3f} s "
              f"= {rates[-1]:,.0f} frames/s  ({decoder.counts['position']:,} positions, "
              f"{decoder.counts['decoded']:,} reports)", flush=True)
    return statistics.median(rates)


def hex_and_times(frames: FrameBatch) -> tuple[list[str], list[float]]:
    data, length = frames["data"], frames["length"]
    return ([bytes(data[i, : length[i]]).hex() for i in range(len(frames))],
            frames["time"].tolist())


def bench_rs1090(frames: FrameBatch) -> float:
    import rs1090

    hexes, times = hex_and_times(frames)
    start = time.perf_counter()
    decoded = rs1090.decode(hexes, times, reference=REFERENCE)
    elapsed = time.perf_counter() - start
    positions = sum(1 for m in decoded if m.get("latitude") is not None)
    print(f"  {len(hexes):,} frames in {elapsed:.3f} s = {len(hexes) / elapsed:,.0f} frames/s "
          f"({positions:,} positions)", flush=True)
    return len(hexes) / elapsed


def bench_pymodes(frames: FrameBatch) -> float:
    import pyModeS

    hexes, times = hex_and_times(frames)
    start = time.perf_counter()
    decoded = pyModeS.decode(hexes, timestamps=times, surface_ref=REFERENCE)
    elapsed = time.perf_counter() - start
    positions = sum(1 for m in decoded if m.get("latitude") is not None)
    print(f"  {len(hexes):,} frames in {elapsed:.3f} s = {len(hexes) / elapsed:,.0f} frames/s "
          f"({positions:,} positions)", flush=True)
    return len(hexes) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rs1090-frames", type=int, default=100_000)
    parser.add_argument("--pymodes-frames", type=int, default=50_000)
    args = parser.parse_args()

    path = data_dir() / "modes" / "tutorial_17ac.jsonl.gz"
    print(f"loading {path} ...", flush=True)
    base = load(path)
    frames = tile(base, args.frames)
    print(f"{len(frames):,} frames (the recording tiled {len(frames) // len(base)} times)\n",
          flush=True)

    print(f"skyshare ModeSDecoder (chunks of {args.chunk:,}, median of {args.repeats}):",
          flush=True)
    ours = bench_skyshare(frames, args.chunk, args.repeats)
    print("rs1090 batch decode:", flush=True)
    rs = bench_rs1090(frames[: args.rs1090_frames])
    print("pyModeS batch decode (PipeDecoder):", flush=True)
    pms = bench_pymodes(frames[: args.pymodes_frames])

    print("\nframes/s")
    print(f"  skyshare  {ours:>14,.0f}")
    print(f"  rs1090    {rs:>14,.0f}   skyshare/rs1090  = {ours / rs:6.1f}x")
    print(f"  pyModeS   {pms:>14,.0f}   skyshare/pyModeS = {ours / pms:6.1f}x")


if __name__ == "__main__":
    main()
