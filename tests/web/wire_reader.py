"""An independent reader of the change stream's binary frame, written from the layout
in ``skyshare/web/wire.py``'s docstring, checking its alignment rules as it goes."""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np

NUMPY_TYPES = {"u8": "<u1", "u16": "<u2", "u32": "<u4", "u64": "<u8", "i16": "<i2",
               "f32": "<f4", "f64": "<f8"}


def read_frame(buf: bytes) -> dict[str, Any]:
    """The frame's header plus its columns as numpy arrays, checking the layout rules."""
    magic, version, zero, header_len = struct.unpack_from("<4sHHI", buf, 0)
    assert (magic, version, zero) == (b"SKYP", 1, 0)
    body = 12 + header_len
    assert body % 8 == 0, "the body must start on an 8-byte boundary"
    header = json.loads(buf[12:body])
    n = header["count"]
    columns: dict[str, Any] = {}
    for col in header["columns"]:
        start = body + col["offset"]
        assert col["offset"] % 8 == 0
        if col["type"] == "ascii8":
            columns[col["name"]] = np.frombuffer(buf, "S8", n, start)
        else:
            columns[col["name"]] = np.frombuffer(buf, NUMPY_TYPES[col["type"]], n, start)
    removed = header["removed"]
    header["removed_ids"] = np.frombuffer(buf, "<u4", removed["count"], body + removed["offset"])
    header["columns"] = columns
    return header
