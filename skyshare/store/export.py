"""Reports and track updates as Arrow tables, written as CSV, Parquet or JSON lines.

The format is chosen by the output file's extension (``.csv``, ``.parquet``,
``.jsonl``/``.ndjson``); units travel as Parquet field metadata (``model.UNITS``).
Writers are streaming: batches are appended as they come, so memory stays flat on
long recordings.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from skyshare.errors import InputFormatError
from skyshare.model import (
    SOURCE_KIND_NAMES,
    UNITS,
    ReportBatch,
    SourceKind,
    TrackBatch,
    TrackFlag,
    format_category,
    format_icao24,
    format_squawk,
    sensor_lists,
)

EXTENSIONS: Final = {".csv": "csv", ".parquet": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl",
                     ".json": "jsonl"}
_SOURCE_NAMES: Final = np.array(SOURCE_KIND_NAMES, dtype=object)


def output_format(path: str | Path) -> str:
    """'csv', 'parquet' or 'jsonl' from the file name, or a clear error."""
    ext = Path(path).suffix.lower()
    if ext not in EXTENSIONS:
        raise InputFormatError(
            f"cannot tell the output format from {ext or 'no extension'!r}; "
            "name the file .csv, .parquet or .jsonl", path=str(path))
    return EXTENSIONS[ext]


def _nullable(values: np.ndarray[Any, Any], missing: np.ndarray[Any, Any]) -> pa.Array:
    return pa.array(values, mask=missing)


def _text(values: np.ndarray[Any, Any]) -> pa.Array:
    return pa.array(values.astype(object), type=pa.string(), mask=values == "")


def _callsign(values: np.ndarray[Any, Any]) -> pa.Array:
    return _text(np.char.strip(np.char.decode(values, "ascii", "replace")))


def _float(values: np.ndarray[Any, Any]) -> pa.Array:
    return pa.array(values, mask=~np.isfinite(values))


def reports_table(reports: ReportBatch, sensor_names: list[str]) -> pa.Table:
    """The columns of ``skyshare decode``: one row per decoded frame or SBS message."""
    names = np.array([*sensor_names, "?"], dtype=object)
    sensor = names[np.minimum(reports["sensor"], len(sensor_names))]
    cols: dict[str, pa.Array] = {
        "time": pa.array(reports["time"]),
        "sensor": pa.array(sensor, type=pa.string()),
        "source": pa.array(_SOURCE_NAMES[np.minimum(reports["source"], len(SourceKind) - 1)],
                           type=pa.string()),
        "icao24": _text(format_icao24(reports["icao24"])),
        "df": _nullable(reports["df"], reports["df"] == 0xFF),
        "typecode": _nullable(reports["typecode"], reports["typecode"] == 0xFF),
        "category": _text(format_category(reports["category"])),
        "callsign": _callsign(reports["callsign"]),
        "squawk": _text(format_squawk(reports["squawk"])),
    }
    for name in ("lat", "lon", "alt_baro", "alt_geo", "groundspeed", "track", "vertical_rate",
                 "airspeed", "heading", "rssi"):
        cols[name] = _float(reports[name])
    cols["emergency"] = pa.array(reports["emergency"])
    for name in ("nic", "nacp", "sil"):
        cols[name] = _nullable(reports[name], reports[name] == 0xFF)
    cols["flags"] = pa.array(reports["flags"])
    return _with_units(pa.table(cols))


def track_updates_table(tracks: TrackBatch, sensor_names: list[str]) -> pa.Table:
    """The columns of ``skyshare track``: one row per track update (``time`` = last_seen)."""
    sensors = sensor_lists(tracks["sensors"], sensor_names)
    cols: dict[str, pa.Array] = {
        "time": pa.array(tracks["last_seen"]),
        "track_id": pa.array(tracks["track_id"]),
        "icao24": _text(format_icao24(tracks["icao24"])),
        "callsign": _callsign(tracks["callsign"]),
        "squawk": _text(format_squawk(tracks["squawk"])),
    }
    for name in ("lat", "lon", "alt", "groundspeed", "track", "vertical_rate", "pos_sigma"):
        cols[name] = _float(tracks[name])
    cols["on_ground"] = pa.array((tracks["flags"] & TrackFlag.ON_GROUND) != 0)
    cols["sensors"] = pa.array(sensors, type=pa.list_(pa.string()))
    return _with_units(pa.table(cols))


def _with_units(table: pa.Table) -> pa.Table:
    fields = [f.with_metadata({"unit": UNITS[f.name]}) if f.name in UNITS else f
              for f in table.schema]
    return table.cast(pa.schema(fields))


class TableWriter:
    """Appends Arrow tables to one file whose format follows its extension."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.format = output_format(self.path)
        self.rows = 0
        self._parquet: pq.ParquetWriter | None = None
        self._csv: pacsv.CSVWriter | None = None
        self._jsonl: IO[str] | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, table: pa.Table) -> None:
        if self.format == "parquet":
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.path, table.schema, compression="zstd")
            self._parquet.write_table(table)
        elif self.format == "csv":
            table = _flatten_lists(table)
            if self._csv is None:
                self._csv = pacsv.CSVWriter(self.path, table.schema)
            self._csv.write_table(table)
        else:
            if self._jsonl is None:
                self._jsonl = self.path.open("w", encoding="utf-8")
            write_jsonl(table, self._jsonl)
        self.rows += table.num_rows

    def close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
        if self._csv is not None:
            self._csv.close()
        if self._jsonl is not None:
            self._jsonl.close()
        if self.rows == 0 and not self.path.exists():
            self.path.write_text("", encoding="utf-8")

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _flatten_lists(table: pa.Table) -> pa.Table:
    """CSV cannot hold lists: join them with ';'."""
    for i, f in enumerate(table.schema):
        if pa.types.is_list(f.type):
            joined = [";".join(v) if v else "" for v in table.column(i).to_pylist()]
            table = table.set_column(i, f.name, pa.array(joined, type=pa.string()))
    return table


def write_jsonl(table: pa.Table, out: IO[str]) -> None:
    """One JSON object per row; nulls omitted, floats rounded to what the data carries."""
    columns = table.to_pydict()
    names = list(columns)
    for values in zip(*columns.values(), strict=True):
        row = {n: v for n, v in zip(names, values, strict=True)
               if v is not None and not (isinstance(v, float) and math.isnan(v))}
        out.write(json.dumps(row, separators=(",", ":")))
        out.write("\n")
