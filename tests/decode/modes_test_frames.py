"""Test-only Mode S frame builders and corpus loaders (slow, plain Python)."""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from skyshare.decode.cpr import cpr_encode_airborne, cpr_encode_surface
from skyshare.decode.crc import TABLE
from skyshare.decode.modes import frame_hash
from skyshare.model import FrameBatch, ReportBatch, empty_frames

CHARS = "#ABCDEFGHIJKLMNOPQRSTUVWXYZ##### ###############0123456789######"


def crc(data: bytes) -> int:
    value = 0
    for byte in data:
        value = ((value << 8) & 0xFFFFFF) ^ int(TABLE[((value >> 16) ^ byte) & 0xFF])
    return value


def with_parity(body: bytes, overlay: int = 0) -> bytes:
    """``body`` followed by its parity XOR ``overlay`` (address or interrogator code)."""
    return body + (crc(body) ^ overlay).to_bytes(3, "big")


def df17(address: int, me: int, *, df: int = 17, ca: int = 5) -> bytes:
    return with_parity(bytes([(df << 3) | ca]) + address.to_bytes(3, "big")
                       + me.to_bytes(7, "big"))


def df11(address: int, ca: int = 5, ic: int = 0) -> bytes:
    return with_parity(bytes([(11 << 3) | ca]) + address.to_bytes(3, "big"), ic)


def ac13_q(alt_ft: int) -> int:
    """AC13 code with Q = 1 (25 ft steps)."""
    n = (alt_ft + 1000) // 25
    return ((n & 0x7E0) << 2) | ((n & 0x10) << 1) | 0x10 | (n & 0x0F)


def df4(address: int, alt_ft: int, fs: int = 0, df: int = 4) -> bytes:
    head = (df << 27) | (fs << 24) | ac13_q(alt_ft)
    body = head.to_bytes(4, "big") + (bytes(7) if df == 20 else b"")
    return with_parity(body, address)


def df5(address: int, id13: int, fs: int = 0) -> bytes:
    return with_parity(((5 << 27) | (fs << 24) | id13).to_bytes(4, "big"), address)


def me_identification(callsign: str, tc: int = 4, ca: int = 3) -> int:
    me = (tc << 3) | ca
    for ch in callsign.ljust(8)[:8]:
        me = (me << 6) | CHARS.index(ch)
    return me


def me_airborne(lat: float, lon: float, alt_ft: int, odd: int, tc: int = 11) -> int:
    yz, xz = cpr_encode_airborne(lat, lon, odd)
    ac12 = ac13_q(alt_ft)
    ac12 = ((ac12 >> 1) & 0xFC0) | (ac12 & 0x3F)  # drop the M bit
    return (tc << 51) | (ac12 << 36) | (odd << 34) | (int(yz) << 17) | int(xz)


def me_surface(lat: float, lon: float, odd: int, mov: int = 20, trk: int = 0,
               tc: int = 7) -> int:
    yz, xz = cpr_encode_surface(lat, lon, odd)
    return ((tc << 51) | (mov << 44) | (1 << 43) | (trk << 36) | (odd << 34)
            | (int(yz) << 17) | int(xz))


def me_velocity(vx: int, vy: int, vrate: int, *, geo: bool = True) -> int:
    """Subtype 1 velocity: east and north components in kt, vertical rate in ft/min."""
    me = (19 << 51) | (1 << 48)
    me |= (1 if vx < 0 else 0) << 42 | (abs(vx) + 1) << 32
    me |= (1 if vy < 0 else 0) << 31 | (abs(vy) + 1) << 21
    me |= (0 if geo else 1) << 20 | (1 if vrate < 0 else 0) << 19
    me |= (abs(vrate) // 64 + 1) << 10
    return me


def frames(data: Sequence[bytes], times: Sequence[float] | None = None, *, sensor: int = 0,
           flags: int = 0) -> FrameBatch:
    out = empty_frames(len(data))
    for i, frame in enumerate(data):
        n = min(len(frame), 14)
        out["length"][i] = len(frame) if len(frame) < 256 else 255
        out["data"][i, :n] = np.frombuffer(frame[:n], dtype=np.uint8)
    out["time"] = np.arange(len(data), dtype=np.float64) if times is None else times
    out["sensor"] = sensor
    out["flags"] = flags
    return out


def frames_from_hex(hexes: Sequence[str], times: Sequence[float]) -> FrameBatch:
    return frames([bytes.fromhex(h) for h in hexes], times)


def source_rows(batch: FrameBatch, reports: ReportBatch) -> list[int]:
    """Index in ``batch`` of the frame behind each report (joined on time and hash)."""
    where: dict[tuple[float, int], list[int]] = defaultdict(list)
    for i in range(len(batch)):
        key = (float(batch["time"][i]), int(frame_hash(batch["data"][i], int(batch["length"][i]))))
        where[key].append(i)
    return [where[(float(r["time"]), int(r["frame_hash"]))].pop(0) for r in reports]


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt") as f:
        return [json.loads(line) for line in f]


def unescape_beast(raw: bytes) -> list[tuple[int, bytes]]:
    """(type, payload) of each Beast record: 0x1a type, 6-byte clock, signal, data."""
    sizes = {0x31: 2, 0x32: 7, 0x33: 14}
    out: list[tuple[int, bytes]] = []
    i = 0
    while i < len(raw):
        if raw[i] != 0x1A or i + 1 >= len(raw) or raw[i + 1] not in sizes:
            i += 1
            continue
        kind = raw[i + 1]
        need = 7 + sizes[kind]
        body = bytearray()
        j = i + 2
        while j < len(raw) and len(body) < need:
            if raw[j] == 0x1A:
                if j + 1 < len(raw) and raw[j + 1] == 0x1A:
                    body.append(0x1A)
                    j += 2
                    continue
                break  # a new record starts: this one is truncated
            body.append(raw[j])
            j += 1
        if len(body) == need:
            out.append((kind, bytes(body[7:])))
        i = j
    return out
