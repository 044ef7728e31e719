"""The change stream's binary frame: a picture delta as packed little-endian columns.

The live map asks for it with ``/api/stream?format=binary``; other clients keep the
JSON messages (:func:`skyshare.web.app.delta_json`).  At 20,000 aircraft a second the
JSON is ~5 MB to parse on the browser's main thread; this frame is ~1.7 MB of typed
arrays the client reads in place.

Layout (all integers little-endian)::

    0   4 bytes  magic b"SKYP"
    4   u16      layout version (1)
    6   u16      0
    8   u32      H: length of the header
    12  H bytes  header, UTF-8 JSON (below)
    12+H         the body: column blocks, each at an 8-byte boundary (the header is
                 padded with spaces so that the body starts on one too)

Header::

    {"type": "snapshot" | "delta", "version": int, "time": float | null,
     "now": float,                      # UNIX s the relative times count back from
     "count": int,                      # rows in every column
     "sensors": [name, …],              # bit i of ``sensors`` is sensors[i]
     "partners": [name, …],             # bit i of ``partners`` is partners[i] (the
                                        # federation's table; [] without one)
     "sources": [kind, …],              # bit k of ``sources`` is sources[k]
     "emergencies": [name, …],          # ``emergency`` value -> readsb spelling
     "flags": {"on_ground": bit, …},    # bits of ``flags``
     "columns": [{"name", "type", "offset"}, …],  # offset from the body's start
     "removed": {"count": int, "offset": int}}   # u32 ids of tracks gone

Column types are ``u8 u16 u32 u64 i16 f32 f64`` (one value per row) and ``ascii8``
(8 bytes per row, space padded).  Sentinels are those of :data:`TRACK_DTYPE`: NaN
for an unknown float, 0xFFFFFFFF for no address, -1 for no squawk, 0xFF for an
unknown NIC/NACp/SIL, 0 for no category.  ``age``, ``seen`` and ``seen_pos`` are
seconds before ``now``.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

from skyshare.model import SOURCE_KIND_NAMES, Emergency, TrackBatch, TrackFlag
from skyshare.picture import Delta
from skyshare.web.views import EMERGENCY_NAMES

MAGIC: Final = b"SKYP"
LAYOUT_VERSION: Final = 1
_PREAMBLE: Final = struct.Struct("<4sHHI")

_TYPES: Final = {"u8": "<u1", "u16": "<u2", "u32": "<u4", "u64": "<u8", "i16": "<i2",
                 "f32": "<f4", "f64": "<f8", "ascii8": "S8"}

# (name on the wire, type, track column or None for a time relative to ``now``)
COLUMNS: Final = (
    ("id", "u32", "track_id"),
    ("icao24", "u32", "icao24"),
    ("flags", "u16", "flags"),
    ("callsign", "ascii8", "callsign"),
    ("squawk", "i16", "squawk"),
    ("category", "u8", "category"),
    ("emergency", "u8", "emergency"),
    ("lat", "f64", "lat"),
    ("lon", "f64", "lon"),
    ("alt", "f32", "alt"),
    ("alt_geo", "f32", "alt_geo"),
    ("groundspeed", "f32", "groundspeed"),
    ("track", "f32", "track"),
    ("vertical_rate", "f32", "vertical_rate"),
    ("pos_sigma", "f32", "pos_sigma"),
    ("nic", "u8", "nic"),
    ("nacp", "u8", "nacp"),
    ("sil", "u8", "sil"),
    ("rssi", "f32", "rssi"),
    ("age", "f32", "first_seen"),
    ("seen", "f32", "last_seen"),
    ("seen_pos", "f32", "last_pos"),
    ("messages", "u32", "messages"),
    ("sensors", "u64", "sensors"),
    ("sources", "u8", "sources"),
    ("partners", "u16", "partners"),
)
_RELATIVE: Final = frozenset({"age", "seen", "seen_pos"})

FLAG_BITS: Final = {f.name.lower(): int(f) for f in TrackFlag if f.name and f.value}
EMERGENCY_LIST: Final = [EMERGENCY_NAMES[e] for e in Emergency]


def _pad(n: int) -> int:
    return (8 - n % 8) % 8


def _column(tracks: TrackBatch, name: str, kind: str, field: str, now: float) -> bytes:
    values: npt.NDArray[np.generic] = tracks[field]
    if name in _RELATIVE:
        values = now - tracks[field].astype(np.float64)
    return np.ascontiguousarray(values, dtype=_TYPES[kind]).tobytes()


def encode_delta(delta: Delta, now: float, sensor_names: list[str],
                 partner_names: Sequence[str] = ()) -> bytes:
    """``delta`` as one binary frame (see the module docstring)."""
    tracks = delta.changed
    blocks = [_column(tracks, name, kind, field, now) for name, kind, field in COLUMNS]
    removed = np.ascontiguousarray(delta.removed, dtype="<u4").tobytes()
    header: dict[str, object] = {
        "type": "snapshot" if delta.full else "delta",
        "version": delta.version,
        "time": delta.time if math.isfinite(delta.time) else None,
        "now": now,
        "count": len(tracks),
        "sensors": sensor_names,
        "partners": list(partner_names),
        "sources": list(SOURCE_KIND_NAMES),
        "emergencies": EMERGENCY_LIST,
        "flags": FLAG_BITS,
    }
    offset = 0  # from the start of the body, the first 8-byte boundary after the header
    columns = []
    for (name, kind, _), block in zip(COLUMNS, blocks, strict=True):
        columns.append({"name": name, "type": kind, "offset": offset})
        offset += len(block) + _pad(len(block))
    header["columns"] = columns
    header["removed"] = {"count": len(delta.removed), "offset": offset}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * _pad(_PREAMBLE.size + len(text))  # JSON allows trailing spaces
    parts = [_PREAMBLE.pack(MAGIC, LAYOUT_VERSION, 0, len(text)), text]
    for block in (*blocks, removed):
        parts += [block, b"\0" * _pad(len(block))]
    return b"".join(parts)
