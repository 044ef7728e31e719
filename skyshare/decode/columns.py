"""Column views of frame and report batches, as the numba kernels take them.

The kernels write straight into the fields of a :data:`REPORT_DTYPE` array through
strided views (no copy afterwards); the callsign, an ``S8`` field, is viewed as an
``(n, 8)`` byte matrix.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from skyshare.model import FRAME_DTYPE, REPORT_DTYPE, FrameBatch, ReportBatch


class FrameColumns(NamedTuple):
    """The fields of a frame batch the decoder reads."""

    time: npt.NDArray[np.float64]
    sensor: npt.NDArray[np.uint16]
    length: npt.NDArray[np.uint8]
    flags: npt.NDArray[np.uint8]
    rssi: npt.NDArray[np.float32]
    data: npt.NDArray[np.uint8]  # (n, 14)


class ReportColumns(NamedTuple):
    """Writable views of every field of a report batch (see ``REPORT_DTYPE``)."""

    time: npt.NDArray[np.float64]
    sensor: npt.NDArray[np.uint16]
    source: npt.NDArray[np.uint8]
    df: npt.NDArray[np.uint8]
    flags: npt.NDArray[np.uint16]
    icao24: npt.NDArray[np.uint32]
    typecode: npt.NDArray[np.uint8]
    category: npt.NDArray[np.uint8]
    callsign: npt.NDArray[np.uint8]  # (n, 8) bytes, zero padded
    squawk: npt.NDArray[np.int16]
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    alt_baro: npt.NDArray[np.float32]
    alt_geo: npt.NDArray[np.float32]
    groundspeed: npt.NDArray[np.float32]
    track: npt.NDArray[np.float32]
    vertical_rate: npt.NDArray[np.float32]
    airspeed: npt.NDArray[np.float32]
    heading: npt.NDArray[np.float32]
    emergency: npt.NDArray[np.uint8]
    nic: npt.NDArray[np.uint8]
    nacp: npt.NDArray[np.uint8]
    nacv: npt.NDArray[np.uint8]
    sil: npt.NDArray[np.uint8]
    rssi: npt.NDArray[np.float32]
    frame_hash: npt.NDArray[np.uint64]


def frame_columns(frames: FrameBatch) -> FrameColumns:
    if frames.dtype != FRAME_DTYPE:
        raise TypeError(f"frames must be of FRAME_DTYPE, not {frames.dtype}")
    return FrameColumns(frames["time"], frames["sensor"], frames["length"], frames["flags"],
                        frames["rssi"], frames["data"])


def report_columns(out: ReportBatch) -> ReportColumns:
    if out.dtype != REPORT_DTYPE:
        raise TypeError(f"reports must be of REPORT_DTYPE, not {out.dtype}")
    fields_ = REPORT_DTYPE.fields
    assert fields_ is not None
    if len(out):
        callsign = np.ndarray((len(out), 8), dtype=np.uint8, buffer=out,
                              offset=fields_["callsign"][1], strides=(REPORT_DTYPE.itemsize, 1))
    else:
        callsign = np.zeros((0, 8), dtype=np.uint8)
    fields = {name: out[name] for name in ReportColumns._fields if name != "callsign"}
    return ReportColumns(callsign=callsign, **fields)
