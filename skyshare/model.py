"""Column schemas shared by every stage: frames, reports and tracks.

Each arrow of the data flow (sources -> decode -> fusion -> picture) carries a numpy
structured array of one of the dtypes below: a batch, never a Python object per
message.  Units are declared once, in :data:`UNITS`, and travel with exported files
(Parquet field metadata, CSV/JSON column names follow the field names).

Conventions (see DESIGN.md): time is UNIX seconds (float64, UTC); positions are
WGS84 degrees; altitudes in feet, speeds in knots, rates in feet per minute, angles
in degrees clockwise from true north.  Missing float values are NaN; missing integer
values use the sentinels below.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag
from typing import Any, Final

import numpy as np
import numpy.typing as npt

# --------------------------------------------------------------------------- sentinels
NO_ADDRESS: Final = np.uint32(0xFFFFFFFF)
"""``icao24`` of a report or track without a 24-bit address."""
NO_SQUAWK: Final = np.int16(-1)
"""``squawk`` when unknown; otherwise the four octal digits read as a decimal (7700)."""
UNKNOWN_U8: Final = np.uint8(0xFF)
"""``nic``/``nacp``/``sil``/``nacv``/``typecode`` ... when unknown."""

MAX_FRAME_BYTES: Final = 14


class SourceKind(IntEnum):
    """What kind of sensor produced a report."""

    UNKNOWN = 0
    ADSB = 1  # DF17/18 extended squitter (and SBS MSG 1-4)
    MODES = 2  # other Mode S replies/squitters (DF0/4/5/11/16/20/21, SBS MSG 5-8)
    RADAR_PSR = 3
    RADAR_SSR = 4
    MLAT = 5
    PARTNER = 6


class FrameFlag(IntFlag):
    """Bits of ``FRAME_DTYPE['flags']``."""

    NONE = 0
    EXERCISE = 1  # produced by the exercise injector; stays marked downstream
    CLOCK_VALID = 2  # ``clock`` holds a receiver timestamp (Beast 12 MHz / AVR '@')
    MODE_AC = 4  # a 2-byte Mode A/C reply


class ReportFlag(IntFlag):
    """Bits of ``REPORT_DTYPE['flags']``."""

    NONE = 0
    EXERCISE = 1 << 0
    ON_GROUND = 1 << 1
    CRC_CORRECTED = 1 << 2  # a single-bit error was repaired (DF17/18)
    ADDRESS_RECOVERED = 1 << 3  # address taken from AP parity and matched a known aircraft
    NON_ICAO = 1 << 4  # DF18/TIS-B anonymous or non-ICAO address
    SPI = 1 << 5
    ALERT = 1 << 6  # FS alert bit (squawk changed)
    AIRSPEED_TAS = 1 << 7  # ``airspeed`` is TAS (otherwise IAS)
    VRATE_GEO = 1 << 8  # ``vertical_rate`` from GNSS (otherwise barometric)
    POSITION_LOCAL = 1 << 9  # CPR decoded locally against a reference
    POSITION_SURFACE = 1 << 10  # a surface position message
    HEADING_MAGNETIC = 1 << 11


class TrackFlag(IntFlag):
    """Bits of ``TRACK_DTYPE['flags']``."""

    NONE = 0
    EXERCISE = 1 << 0
    ON_GROUND = 1 << 1
    CONFIRMED = 1 << 2  # corroborated by more than one message: shown in the picture
    COASTING = 1 << 3  # no update recently; state is predicted
    NON_ICAO = 1 << 4
    HAS_POSITION = 1 << 5
    SPI = 1 << 6
    PRIMARY_ONLY = 1 << 7  # position from primary radar alone; the transponder is silent


class Emergency(IntEnum):
    """ADS-B emergency/priority status (DO-260B 2.2.3.2.7.8.1.1)."""

    NONE = 0
    GENERAL = 1
    LIFEGUARD = 2
    MINIMUM_FUEL = 3
    NO_COMMUNICATIONS = 4
    UNLAWFUL_INTERFERENCE = 5
    DOWNED = 6
    RESERVED = 7


# --------------------------------------------------------------------------- frames
FRAME_DTYPE: Final = np.dtype(
    [
        ("time", "f8"),  # s, UNIX receive time
        ("clock", "u8"),  # receiver clock ticks (Beast: 12 MHz), for multilateration
        ("sensor", "u2"),  # index into the node's sensor table
        ("length", "u1"),  # bytes used in ``data``: 2 (Mode A/C), 7 or 14
        ("flags", "u1"),  # FrameFlag
        ("rssi", "f4"),  # dBFS, NaN when the source gives none
        ("data", "u1", (MAX_FRAME_BYTES,)),  # frame bytes, zero padded
    ]
)

# --------------------------------------------------------------------------- reports
REPORT_DTYPE: Final = np.dtype(
    [
        ("time", "f8"),
        ("sensor", "u2"),
        ("source", "u1"),  # SourceKind
        ("df", "u1"),  # downlink format (0xFF for SBS reports with no DF)
        ("flags", "u2"),  # ReportFlag
        ("icao24", "u4"),  # NO_ADDRESS when none
        ("typecode", "u1"),  # ADS-B type code, UNKNOWN_U8 when not DF17/18
        ("category", "u1"),  # 0xA3 means "A3"; 0 unknown
        ("callsign", "S8"),
        ("squawk", "i2"),
        ("lat", "f8"),
        ("lon", "f8"),
        ("alt_baro", "f4"),
        ("alt_geo", "f4"),
        ("groundspeed", "f4"),
        ("track", "f4"),
        ("vertical_rate", "f4"),
        ("airspeed", "f4"),
        ("heading", "f4"),
        ("emergency", "u1"),  # Emergency
        ("nic", "u1"),
        ("nacp", "u1"),
        ("nacv", "u1"),
        ("sil", "u1"),
        ("rssi", "f4"),
        ("pos_sigma", "f4"),  # m, 1-sigma per axis of the position when the sensor says
        # (radar plots); NaN or 0: from NACp, else the tracker's default for the source
        ("frame_hash", "u8"),  # hash of the frame bytes (0: none), to drop duplicate copies
    ]
)

# --------------------------------------------------------------------------- radar plots
RADAR_PLOT_DTYPE: Final = np.dtype([  # radar plots, polar, with their radar
    ("time", "<f8"),  # UNIX s of the detection
    ("sensor", "<u2"),
    ("source", "u1"),  # SourceKind: RADAR_PSR (primary only), RADAR_SSR (Mode A/C, S)
    ("flags", "<u2"),  # ReportFlag (EXERCISE, SPI)
    ("icao24", "<u4"),  # Mode S address; NO_ADDRESS
    ("squawk", "<i2"),  # NO_SQUAWK
    ("callsign", "S8"),
    ("alt", "<f4"),  # ft, Mode C / S flight level x 100; NaN
    ("range_m", "<f8"),  # slant range
    ("azimuth_deg", "<f8"),
    ("radar_lat", "<f8"), ("radar_lon", "<f8"),
    ("radar_h", "<f8"),  # m above the WGS-84 ellipsoid
    ("sigma_range_m", "<f4"),
    ("sigma_azimuth_deg", "<f4"),
    ("scan_s", "<f4"),  # antenna rotation period
])

# --------------------------------------------------------------------------- tracks
TRACK_DTYPE: Final = np.dtype(
    [
        ("track_id", "u4"),
        ("icao24", "u4"),
        ("flags", "u2"),  # TrackFlag
        ("callsign", "S8"),
        ("squawk", "i2"),
        ("category", "u1"),
        ("emergency", "u1"),
        ("lat", "f8"),
        ("lon", "f8"),
        ("alt", "f4"),  # fused barometric altitude
        ("alt_geo", "f4"),
        ("groundspeed", "f4"),
        ("track", "f4"),
        ("vertical_rate", "f4"),
        ("pos_sigma", "f4"),  # 1-sigma horizontal position uncertainty
        ("nic", "u1"),
        ("nacp", "u1"),
        ("sil", "u1"),
        ("rssi", "f4"),
        ("first_seen", "f8"),
        ("last_seen", "f8"),
        ("last_pos", "f8"),  # time of the last position update (NaN: never)
        ("messages", "u4"),
        ("sensors", "u8"),  # bit i set: sensor i contributed
        ("sources", "u1"),  # bit k set: SourceKind k contributed (PARTNER: a partner did)
        ("partners", "u2"),  # bit i set: partner i of the node's federation table contributed
    ]
)

UNITS: Final[dict[str, str]] = {
    "time": "s",
    "first_seen": "s",
    "last_seen": "s",
    "last_pos": "s",
    "lat": "deg",
    "lon": "deg",
    "alt_baro": "ft",
    "alt_geo": "ft",
    "alt": "ft",
    "groundspeed": "kt",
    "airspeed": "kt",
    "track": "deg",
    "heading": "deg",
    "vertical_rate": "ft/min",
    "pos_sigma": "m",
    "rssi": "dBFS",
}

FrameBatch = npt.NDArray[np.void]
"""A numpy structured array of :data:`FRAME_DTYPE`."""
ReportBatch = npt.NDArray[np.void]
"""A numpy structured array of :data:`REPORT_DTYPE`."""
TrackBatch = npt.NDArray[np.void]
"""A numpy structured array of :data:`TRACK_DTYPE`."""
PlotBatch = npt.NDArray[np.void]
"""A numpy structured array of :data:`RADAR_PLOT_DTYPE`."""


def empty_frames(n: int = 0) -> FrameBatch:
    """``n`` zeroed frames (rssi NaN)."""
    out = np.zeros(n, dtype=FRAME_DTYPE)
    out["rssi"] = np.nan
    return out


def empty_plots(n: int = 0) -> PlotBatch:
    """``n`` radar plots, every field unknown."""
    out = np.zeros(n, dtype=RADAR_PLOT_DTYPE)
    for name in ("time", "alt", "range_m", "azimuth_deg", "radar_lat", "radar_lon",
                 "radar_h", "sigma_range_m", "sigma_azimuth_deg", "scan_s"):
        out[name] = np.nan
    out["icao24"] = NO_ADDRESS
    out["squawk"] = NO_SQUAWK
    return out


def empty_reports(n: int = 0) -> ReportBatch:
    """``n`` reports with every field set to its 'unknown' value."""
    out = np.zeros(n, dtype=REPORT_DTYPE)
    for name in ("lat", "lon", "alt_baro", "alt_geo", "groundspeed", "track",
                 "vertical_rate", "airspeed", "heading", "rssi", "pos_sigma"):
        out[name] = np.nan
    out["icao24"] = NO_ADDRESS
    out["squawk"] = NO_SQUAWK
    for name in ("typecode", "nic", "nacp", "nacv", "sil"):
        out[name] = UNKNOWN_U8
    return out


def _unknown_track() -> TrackBatch:
    out = np.zeros(1, dtype=TRACK_DTYPE)
    for name in ("lat", "lon", "alt", "alt_geo", "groundspeed", "track", "vertical_rate",
                 "pos_sigma", "rssi", "last_pos"):
        out[name] = np.nan
    out["icao24"] = NO_ADDRESS
    out["squawk"] = NO_SQUAWK
    for name in ("nic", "nacp", "sil"):
        out[name] = UNKNOWN_U8
    return out


_TRACK_ROW: Final = np.dtype((np.void, TRACK_DTYPE.itemsize))
_UNKNOWN_TRACK: Final = _unknown_track().view(_TRACK_ROW)


def empty_tracks(n: int = 0) -> TrackBatch:
    """``n`` tracks with every field set to its 'unknown' value."""
    out = np.empty(n, _TRACK_ROW)
    out[:] = _UNKNOWN_TRACK
    return out.view(TRACK_DTYPE)


def track_bytes(rows: TrackBatch) -> npt.NDArray[np.void]:
    """``rows`` seen as opaque fixed-size records, for fast moves.

    TRACK_DTYPE is packed (unaligned), and numpy copies such structured rows field by
    field: selecting or concatenating 20,000 rows takes milliseconds.  Moving the same
    bytes as opaque records is a plain memory copy, some 30 times faster.
    """
    return np.ascontiguousarray(rows).view(_TRACK_ROW)


def take_tracks(rows: TrackBatch,
                index: npt.NDArray[np.intp] | npt.NDArray[np.bool_]) -> TrackBatch:
    """``rows[index]`` (a copy), fast (see :func:`track_bytes`)."""
    return track_bytes(rows)[index].view(TRACK_DTYPE)


def concat_tracks(batches: list[TrackBatch]) -> TrackBatch:
    """The batches one after the other (a copy), fast (see :func:`track_bytes`)."""
    return np.concatenate([np.empty(0, _TRACK_ROW), *map(track_bytes, batches)]).view(
        TRACK_DTYPE)


def frame_hex(frames: FrameBatch) -> list[str]:
    """Frames as upper-case hex strings (for output and oracles; not for hot paths)."""
    data = frames["data"]
    return [bytes(data[i, : frames["length"][i]]).hex().upper() for i in range(len(frames))]


def format_icao24(icao24: npt.NDArray[np.uint32]) -> npt.NDArray[np.str_]:
    """Addresses as 6-digit lower-case hex; '' where there is none."""
    out = np.char.mod("%06x", icao24.astype(np.int64))
    return np.where(icao24 == NO_ADDRESS, "", out)


def format_squawk(squawk: npt.NDArray[np.int16]) -> npt.NDArray[np.str_]:
    """Squawks as 4-digit strings; '' where unknown."""
    out = np.char.mod("%04d", squawk.astype(np.int64))
    return np.where(squawk < 0, "", out)


def format_category(category: npt.NDArray[np.uint8]) -> npt.NDArray[np.str_]:
    """Emitter categories as 'A3' ...; '' where unknown."""
    out = np.char.mod("%02X", category.astype(np.int64))
    return np.where(category == 0, "", out)


def sensor_lists(mask: npt.NDArray[np.uint64], names: list[str]) -> list[list[str]]:
    """Bitmasks of contributing sensors (bit i = sensor i) as lists of sensor names."""
    return _bit_lists(mask, names[:64] + [f"sensor-{i}" for i in range(len(names), 64)])


SOURCE_KIND_NAMES: Final = tuple(k.name.lower() for k in SourceKind)
"""Lower-case name of each SourceKind, by value (bit k of a ``sources`` mask)."""


def source_lists(mask: npt.NDArray[np.uint8]) -> list[list[str]]:
    """Bitmasks of contributing source kinds (bit k = SourceKind k) as lists of names."""
    return _bit_lists(mask, list(SOURCE_KIND_NAMES))


def _bit_lists(mask: npt.NDArray[np.unsignedinteger[Any]], names: list[str]) -> list[list[str]]:
    width = len(names)
    one = mask.dtype.type(1)
    bits = ((mask[:, None] >> np.arange(width, dtype=mask.dtype)) & one).astype(bool)
    table = np.array(names, dtype=object)
    return [table[row].tolist() for row in bits]
