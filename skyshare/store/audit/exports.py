"""Audit exports: entries written as JSON lines or CSV with both hashes, and read back
so that :func:`~skyshare.store.audit.verify` can check an export on its own."""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Generator
from pathlib import Path
from typing import Final

from skyshare.errors import AuditError
from skyshare.store.audit.chain import COLUMNS, _dumps, _Row
from skyshare.store.audit.log import _open_reader, _select

EXPORT_FORMATS: Final = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}


def export(path: str | Path, out_path: str | Path, since_seq: int = 1,
           until_seq: int | None = None, kind: str | None = None) -> int:
    """Write entries to JSON lines or CSV (by extension), each with both hashes.

    An export of a contiguous range (no ``kind``) can be re-verified on its own by
    :func:`verify`; a ``kind`` filter leaves gaps, so only each row's own hash can be
    recomputed.  Returns the number of entries written.
    """
    path, out = Path(path), Path(out_path)
    fmt = EXPORT_FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise AuditError("name the export .jsonl or .csv", path=out)
    db = _open_reader(path)
    written, seq = 0, since_seq
    try:
        with out.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, lineterminator="\n") if fmt == "csv" else None
            if writer is not None:
                writer.writerow(COLUMNS)
            for row in _select(db, since_seq, until_seq, kind):
                seq = row[0]
                if writer is not None:
                    writer.writerow((row[0], repr(row[1]), *row[2:]))
                else:
                    obj = dict(zip(COLUMNS, row, strict=True))
                    obj["data"] = json.loads(row[7])
                    f.write(json.dumps(obj, ensure_ascii=False, allow_nan=False) + "\n")
                written += 1
    except sqlite3.Error as exc:
        raise AuditError(f"cannot read: {exc}", path=path) from exc
    except (ValueError, TypeError) as exc:
        raise AuditError(f"entry {seq}: cannot export ({exc}); run 'skyshare audit verify' "
                         "on the log", path=path) from exc
    finally:
        db.close()
    return written


def _jsonl_rows(path: Path) -> Generator[_Row | str, None, None]:
    with path.open("r", encoding="utf-8", errors="surrogateescape", newline="\n") as f:
        for lineno, line in enumerate(f, 1):
            try:
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    raise TypeError
                values = [obj[c] for c in COLUMNS]
                values[7] = _dumps(values[7]) if isinstance(values[7], dict) else None
            except (ValueError, TypeError, KeyError, RecursionError):
                yield f"line {lineno} of the export is not an audit entry"
                continue
            yield tuple(values)


def _csv_rows(path: Path) -> Generator[_Row | str, None, None]:
    with path.open("r", encoding="utf-8", errors="surrogateescape", newline="") as f:
        reader = csv.reader(f)
        if tuple(next(reader, ())) != COLUMNS:
            raise AuditError(f"not an audit export: the header is not {','.join(COLUMNS)}",
                             path=path)
        for values in reader:
            try:
                if len(values) != len(COLUMNS):
                    raise ValueError
                seq, time, *text, exercise, data, prev, hsh = values
                yield (int(seq), float(time), *text, int(exercise), data, prev, hsh)
            except ValueError:
                yield f"line {reader.line_num} of the export is not an audit entry"
