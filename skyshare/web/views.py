"""Track batches as JSON documents: pure functions from columns to plain data.

Formatting is done per column (numpy), then zipped into rows only at the very edge.
NaN and sentinel values become ``null`` (JSON has no NaN).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from skyshare.model import (
    UNKNOWN_U8,
    Emergency,
    TrackBatch,
    TrackFlag,
    format_category,
    format_icao24,
    format_squawk,
    sensor_lists,
    source_lists,
)

# tar1090/readsb spellings of the emergency states
EMERGENCY_NAMES: Final = {
    Emergency.NONE: "none",
    Emergency.GENERAL: "general",
    Emergency.LIFEGUARD: "lifeguard",
    Emergency.MINIMUM_FUEL: "minfuel",
    Emergency.NO_COMMUNICATIONS: "nordo",
    Emergency.UNLAWFUL_INTERFERENCE: "unlawful",
    Emergency.DOWNED: "downed",
    Emergency.RESERVED: "reserved",
}
_EMERGENCY_TABLE: Final = np.array([EMERGENCY_NAMES[Emergency(i)] for i in range(8)], dtype=object)


def floats(a: npt.NDArray[np.floating[Any]], decimals: int) -> list[float | None]:
    """A float column rounded, with NaN as None."""
    rounded = np.round(a.astype(np.float64), decimals)
    out = rounded.astype(object)
    out[~np.isfinite(rounded)] = None
    return out.tolist()  # type: ignore[no-any-return]


def ints(a: npt.NDArray[np.floating[Any]]) -> list[int | None]:
    """A float column as integers, with NaN as None (altitudes, rates)."""
    finite = np.isfinite(a)
    out = np.zeros(len(a), dtype=np.int64)
    out[finite] = np.round(a[finite]).astype(np.int64)
    obj = out.astype(object)
    obj[~finite] = None
    return obj.tolist()


def u8_or_none(a: npt.NDArray[np.uint8]) -> list[int | None]:
    obj = a.astype(object)
    obj[a == UNKNOWN_U8] = None
    return obj.tolist()  # type: ignore[no-any-return]


def strings_or_none(a: npt.NDArray[np.str_]) -> list[str | None]:
    obj = a.astype(object)
    obj[a == ""] = None
    return obj.tolist()  # type: ignore[no-any-return]


def callsigns(a: npt.NDArray[np.bytes_]) -> list[str | None]:
    return strings_or_none(np.char.strip(np.char.decode(a, "ascii", "replace")))


PARTNER_BITS: Final = 16  # TRACK_DTYPE['partners'] is a u16 mask


def partner_lists(mask: npt.NDArray[np.uint16], names: Sequence[str]) -> list[list[str]]:
    """Bitmasks of contributing partners (bit i = ``names[i]``) as lists of names; a bit
    beyond the table reads ``partner-i`` (as :func:`skyshare.model.sensor_lists` does)."""
    table = np.array([*names[:PARTNER_BITS],
                      *(f"partner-{i}" for i in range(len(names), PARTNER_BITS))], dtype=object)
    bits = ((mask.astype(np.uint16)[:, None] >> np.arange(PARTNER_BITS, dtype=np.uint16))
            & np.uint16(1)).astype(bool)
    return [table[row].tolist() for row in bits]


def track_columns(tracks: TrackBatch, now: float, sensor_names: list[str],
                  partner_names: Sequence[str] = ()) -> dict[str, list[Any]]:
    """The picture's public columns (used by ``/api/picture`` and the change stream).

    ``partners`` lists the names of the federation partners that contributed (bit i of
    the track's mask is ``partner_names[i]``); it is empty on a node without a federation.
    """
    flags = tracks["flags"]
    return {
        "id": tracks["track_id"].tolist(),
        "icao24": strings_or_none(format_icao24(tracks["icao24"])),
        "callsign": callsigns(tracks["callsign"]),
        "squawk": strings_or_none(format_squawk(tracks["squawk"])),
        "category": strings_or_none(format_category(tracks["category"])),
        "emergency": _EMERGENCY_TABLE[np.minimum(tracks["emergency"], 7)].tolist(),
        "lat": floats(tracks["lat"], 6),
        "lon": floats(tracks["lon"], 6),
        "alt": ints(tracks["alt"]),
        "alt_geo": ints(tracks["alt_geo"]),
        "groundspeed": floats(tracks["groundspeed"], 1),
        "track": floats(tracks["track"], 1),
        "vertical_rate": ints(tracks["vertical_rate"]),
        "pos_sigma": floats(tracks["pos_sigma"], 1),
        "nic": u8_or_none(tracks["nic"]),
        "nacp": u8_or_none(tracks["nacp"]),
        "sil": u8_or_none(tracks["sil"]),
        "rssi": floats(tracks["rssi"], 1),
        "on_ground": ((flags & TrackFlag.ON_GROUND) != 0).tolist(),
        "coasting": ((flags & TrackFlag.COASTING) != 0).tolist(),
        "primary_only": ((flags & TrackFlag.PRIMARY_ONLY) != 0).tolist(),
        "exercise": ((flags & TrackFlag.EXERCISE) != 0).tolist(),
        "age": floats(now - tracks["first_seen"], 1),
        "seen": floats(now - tracks["last_seen"], 1),
        "seen_pos": floats(now - tracks["last_pos"], 1),
        "messages": tracks["messages"].tolist(),
        "sensors": sensor_lists(tracks["sensors"], sensor_names),
        "sources": source_lists(tracks["sources"]),
        "partners": partner_lists(tracks["partners"], partner_names),
    }


def rows(columns: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Columns zipped into one object per row (edge formatting only)."""
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def aircraft_json(tracks: TrackBatch, now: float, messages: int) -> dict[str, Any]:
    """The ``data/aircraft.json`` document of dump1090/readsb/tar1090.

    Field names and units follow readsb's README-json: ``alt_baro`` ft (or
    ``"ground"``), ``gs`` kt, ``baro_rate`` ft/min, ``seen``/``seen_pos`` s ago.
    """
    on_ground = (tracks["flags"] & TrackFlag.ON_GROUND) != 0
    alt = ints(tracks["alt"])
    alt_baro: list[Any] = ["ground" if g else a for g, a in zip(on_ground.tolist(), alt,
                                                               strict=True)]
    icao = format_icao24(tracks["icao24"])
    non_icao = (tracks["flags"] & TrackFlag.NON_ICAO) != 0
    hexes = np.where(non_icao, np.char.add("~", icao), icao)
    flight = np.char.ljust(np.char.decode(tracks["callsign"], "ascii", "replace"), 8)
    has_pos = np.isfinite(tracks["lat"])
    columns: dict[str, list[Any]] = {
        "hex": hexes.tolist(),
        "type": np.where(non_icao, "adsb_other", "adsb_icao").tolist(),
        "flight": strings_or_none(np.where(np.char.strip(flight) == "", "", flight)),
        "alt_baro": alt_baro,
        "alt_geom": ints(tracks["alt_geo"]),
        "gs": floats(tracks["groundspeed"], 1),
        "track": floats(tracks["track"], 1),
        "baro_rate": ints(tracks["vertical_rate"]),
        "squawk": strings_or_none(format_squawk(tracks["squawk"])),
        "emergency": _EMERGENCY_TABLE[np.minimum(tracks["emergency"], 7)].tolist(),
        "category": strings_or_none(format_category(tracks["category"])),
        "lat": floats(tracks["lat"], 6),
        "lon": floats(tracks["lon"], 6),
        "nic": u8_or_none(tracks["nic"]),
        "nac_p": u8_or_none(tracks["nacp"]),
        "sil": u8_or_none(tracks["sil"]),
        "seen_pos": floats(np.where(has_pos, now - tracks["last_pos"], np.nan), 1),
        "seen": floats(now - tracks["last_seen"], 1),
        "messages": tracks["messages"].tolist(),
        "rssi": floats(tracks["rssi"], 1),
    }
    aircraft = [{k: v for k, v in row.items() if v is not None} for row in rows(columns)]
    return {"now": round(now, 1), "messages": messages, "aircraft": aircraft}


def receiver_json(version: str, refresh_s: float,
                  position: tuple[float, float] | None) -> dict[str, Any]:
    """The ``data/receiver.json`` of dump1090/readsb: tar1090 reads it before polling
    ``aircraft.json`` every ``refresh`` ms; ``history`` 0 says there are no history files."""
    doc: dict[str, Any] = {"version": f"skyshare {version}",
                           "refresh": round(refresh_s * 1000), "history": 0}
    if position is not None:
        doc["lat"], doc["lon"] = round(position[0], 4), round(position[1], 4)
    return doc
