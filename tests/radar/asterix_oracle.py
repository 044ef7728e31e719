"""libasterix, the independent decoder the ASTERIX tests compare with."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from asterix.base import Bits, RawDatablock
from asterix.generated import Cat_048_1_32

from skyshare.decode.asterix.cat048 import NM, PlotFlag
from skyshare.model import NO_ADDRESS, NO_SQUAWK


def oracle_records(datagram: bytes, specs: dict[int, Any]) -> Iterator[tuple[int, Any]]:
    """(category, record) of libasterix's records in a datagram, in order, for the
    categories of ``specs`` (each parsed with its ``asterix.generated.Cat_NNN_x_y``)."""
    blocks = RawDatablock.parse(Bits.from_bytes(datagram))
    assert not isinstance(blocks, ValueError), blocks
    for db in blocks:
        category = db.get_category()
        if category in specs:
            records = specs[category].cv_uap.parse(db.get_raw_records())
            assert not isinstance(records, ValueError), records
            for record in records:
                yield category, record


def subitem(rec: Any, item: str, name: str) -> Any:
    """The content of subitem ``name`` of ``item`` in a libasterix record; None if the
    record lacks the item."""
    i = rec.get_item(item)
    return None if i is None else i.variation.get_item(name).variation.content


def check_row(row: np.void, want: dict[str, object], names: tuple[str, ...],
              floats: set[str], unknown: dict[str, object]) -> None:
    """Each of ``names`` of ``row`` as libasterix read it (``want``), or unknown (NaN for
    ``floats``, else ``unknown[name]``) where the record lacks it."""
    for name in names:
        got = row[name].item()
        if name not in want:
            assert (math.isnan(got) if name in floats else got == unknown[name]), name
        elif name in floats:
            assert got == pytest.approx(want[name], rel=1e-6, abs=1e-6), name
        else:
            assert got == want[name], name


def oracle_plots(datagram: bytes) -> list[dict[str, object]]:
    """The values libasterix reads from every CAT048 record of a datagram."""
    out = []
    for _, rec in oracle_records(datagram, {48: Cat_048_1_32}):
        def sub(item: str, name: str, rec: Any = rec) -> Any:
            return subitem(rec, item, name)
        row: dict[str, object] = {}
        if (sac := sub("010", "SAC")) is not None:
            row["sac"], row["sic"] = sac.as_uint(), sub("010", "SIC").as_uint()
        if (i140 := rec.get_item("140")) is not None:
            row["tod"] = i140.variation.content.as_quantity("s")
        if (typ := sub("020", "TYP")) is not None:
            row["typ"] = typ.as_uint()
            row["sim"] = sub("020", "SIM").as_uint()
        if (rho := sub("040", "RHO")) is not None:
            row["range_m"] = rho.as_quantity("NM") * NM
            row["azimuth_deg"] = sub("040", "THETA").as_quantity("°")
        if (m3a := sub("070", "MODE3A")) is not None:
            row["squawk"] = int(m3a.as_string())
            row["m3a_v"] = sub("070", "V").as_uint()
        if (fl := sub("090", "FL")) is not None:
            row["fl"] = fl.as_quantity("FL")
        if (i220 := rec.get_item("220")) is not None:
            row["icao24"] = i220.variation.content.as_uint()
        if (i240 := rec.get_item("240")) is not None:
            row["callsign"] = i240.variation.content.as_string().rstrip(" ").encode()
        if (trn := sub("161", "TRN")) is not None:
            row["track_number"] = trn.as_uint()
        if (gsp := sub("200", "GSP")) is not None:
            row["groundspeed_kt"] = gsp.as_quantity("NM/s") * 3600.0
            row["heading_deg"] = sub("200", "HDG").as_quantity("°")
        out.append(row)
    return out


def check_plot(plot: np.void, want: dict[str, object]) -> None:
    check_row(plot, want, ("sac", "sic", "tod", "typ", "range_m", "azimuth_deg", "squawk",
                           "fl", "icao24", "callsign", "track_number", "groundspeed_kt",
                           "heading_deg"),
              {"tod", "range_m", "azimuth_deg", "fl", "groundspeed_kt", "heading_deg"},
              {"typ": 255, "squawk": int(NO_SQUAWK), "icao24": int(NO_ADDRESS),
               "track_number": -1, "callsign": b"", "sac": 0, "sic": 0})
    flags = int(plot["flags"])
    assert bool(flags & PlotFlag.SIMULATED) == bool(want.get("sim", 0))
    assert bool(flags & PlotFlag.MODE3A_INVALID) == bool(want.get("m3a_v", 0))


def oracle_system_tracks(datagram: bytes, spec: Any) -> list[dict[str, object]]:
    """The values libasterix reads from every CAT062 record of a datagram (edition
    ``spec``, an ``asterix.generated.Cat_062_x_y``): the SYSTEM_TRACK_DTYPE columns, and
    ``service``, ``sti``, ``qnh``, ``adr_only`` (I062/380 holds ADR and nothing else)
    and the I062/080 extensions present (``sim``, ``cst``, ``sds``, ``ems``, ``sfc``)."""
    out = []
    for _, rec in oracle_records(datagram, {62: spec}):
        def sub(item: str, name: str, rec: Any = rec) -> Any:
            i = rec.get_item(item)
            if i is None:
                return None
            part = i.variation.get_item(name)  # None: an extension not sent
            return None if part is None else part.variation.content
        row: dict[str, object] = {}
        if (sac := sub("010", "SAC")) is not None:
            row["sac"], row["sic"] = sac.as_uint(), sub("010", "SIC").as_uint()
        for item, name, unit in (("015", "service", None), ("070", "tod", "s"),
                                 ("136", "fl", "FL"), ("130", "alt_geo_ft", "ft"),
                                 ("220", "vertical_rate_fpm", "ft/min"),
                                 ("040", "track_number", None)):
            if (i := rec.get_item(item)) is not None:
                content = i.variation.content
                row[name] = content.as_uint() if unit is None else content.as_quantity(unit)
        if (lat := sub("105", "LAT")) is not None:
            row["lat"], row["lon"] = lat.as_quantity("°"), sub("105", "LON").as_quantity("°")
        if (x := sub("100", "X")) is not None:
            row["x_m"], row["y_m"] = x.as_quantity("m"), sub("100", "Y").as_quantity("m")
        if (vx := sub("185", "VX")) is not None:
            row["vx_mps"] = vx.as_quantity("m/s")
            row["vy_mps"] = sub("185", "VY").as_quantity("m/s")
        if (m3a := sub("060", "MODE3A")) is not None:
            row["squawk"] = int(m3a.as_string())
        if (chars := sub("245", "CHR")) is not None:
            row["callsign"] = chars.as_string().rstrip(" ").encode()
            row["sti"] = sub("245", "STI").as_uint()
        if (i380 := rec.get_item("380")) is not None:
            if (adr := i380.variation.get_item("ADR")) is not None:
                row["icao24"] = adr.variation.content.as_uint()
            row["adr_only"] = i380.unparse().to_bytes()[0] == 0x80
        if (i080 := rec.get_item("080")) is not None:
            row["status"] = i080.unparse().to_bytes()[0] & 0xFE
            for name in ("SIM", "CST", "SDS", "EMS", "SFC"):
                if (value := sub("080", name)) is not None:
                    row[name.lower()] = value.as_uint()
        if (ctb := sub("135", "CTB")) is not None:
            row["alt_baro_ft"] = ctb.as_quantity("FL") * 100.0
            row["qnh"] = sub("135", "QNH").as_uint()
        out.append(row)
    return out
