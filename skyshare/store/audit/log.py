"""The audit log's SQLite file: its schema, the one writer (:class:`AuditLog`) and the
read-only readers (the format is in :mod:`skyshare.store.audit`)."""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from collections.abc import Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from time import time as _unix_now
from types import TracebackType
from typing import Final, NamedTuple

from skyshare.errors import AuditError
from skyshare.store.audit.chain import (
    _HEX64,
    COLUMNS,
    GENESIS_HASH,
    JsonInput,
    JsonValue,
    _Chain,
    _Row,
    canonical_bytes,
    canonical_data,
    chain_hash,
)
from skyshare.store.audit.heads import (
    Head,
    _append_head,
    _last_head,
    default_heads_path,
    format_utc,
)

AUDIT_FILE: Final = "audit.sqlite"
SCHEMA_VERSION: Final = 1

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS entries (
    seq       INTEGER PRIMARY KEY,
    time      REAL    NOT NULL,
    node      TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    subject   TEXT    NOT NULL,
    actor     TEXT    NOT NULL,
    exercise  INTEGER NOT NULL CHECK (exercise IN (0, 1)),
    data      TEXT    NOT NULL,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL
)"""
_SELECT: Final = f"SELECT {', '.join(COLUMNS)} FROM entries"
_INSERT: Final = f"INSERT INTO entries VALUES ({', '.join('?' * len(COLUMNS))})"
_PAGE: Final = 1000


@dataclass(frozen=True)
class AuditEntry:
    """One stored entry; ``data`` is a fresh dict parsed from the stored JSON."""

    seq: int
    time: float
    node: str
    kind: str
    subject: str
    actor: str
    exercise: bool
    data: dict[str, JsonValue]
    prev_hash: str
    hash: str


class AuditRecord(NamedTuple):
    """What :meth:`AuditLog.append_many` takes; a plain 6-tuple works as well."""

    kind: str
    subject: str
    data: Mapping[str, JsonInput]
    actor: str = "system"
    exercise: bool = False
    time: float | None = None


def _entry(row: _Row) -> AuditEntry:
    seq, time, node, kind, subject, actor, exercise, data, prev_hash, hsh = row
    return AuditEntry(seq, time, node, kind, subject, actor, bool(exercise),  # type: ignore[arg-type]
                      json.loads(data), prev_hash, hsh)  # type: ignore[arg-type]


class AuditLog:
    """The append-only audit log of one node (see :mod:`skyshare.store.audit` for the format).

    Opening checks the last entry and the last published head; a log whose tail does
    not verify is refused (:class:`AuditError`): run ``skyshare audit verify`` on it.
    """

    def __init__(self, path: str | Path, node: str, heads_path: str | Path | None = None) -> None:
        if not isinstance(node, str) or not node:
            raise AuditError("the node name must be non-empty text", path=path)
        self.path = Path(path)
        self.node = node
        self.heads_path = Path(heads_path) if heads_path else default_heads_path(self.path)
        self._lock = threading.Lock()
        self._db = _open_writer(self.path)
        try:
            self._seq, self._hash = self._check_tail()
        except BaseException:
            self._db.close()
            raise

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def head(self) -> tuple[int, str]:
        """(seq, hash) of the last entry; (0, 64 zeros) for an empty log."""
        with self._lock:
            return self._seq, self._hash

    def append(self, kind: str, subject: str, data: Mapping[str, JsonInput],
               actor: str = "system", exercise: bool = False,
               time: float | None = None) -> AuditEntry:
        """Append one entry; returns once it is committed to disk."""
        return self.append_many([(kind, subject, data, actor, exercise, time)])[0]

    def append_many(self, records: Iterable[AuditRecord | tuple[
            str, str, Mapping[str, JsonInput], str, bool, float | None]]) -> list[AuditEntry]:
        """Append (kind, subject, data, actor, exercise, time) records in one transaction."""
        prepared = [self._prepare(AuditRecord(*r)) for r in records]
        if not prepared:
            return []
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    rows = self._chain_rows(prepared)
                    self._db.executemany(_INSERT, rows)
                    self._db.execute("COMMIT")
                except BaseException:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise AuditError(f"cannot append: {exc}", path=self.path) from exc
            self._seq, self._hash = rows[-1][0], rows[-1][9]  # type: ignore[assignment]
        return [AuditEntry(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]),  # type: ignore[arg-type]
                           parsed, r[8], r[9])  # type: ignore[arg-type]
                for r, (_, parsed) in zip(rows, prepared, strict=True)]

    def _prepare(self, record: AuditRecord) -> tuple[_Row, dict[str, JsonValue]]:
        """Validate one record; a row without seq and hashes, and its parsed data."""
        kind, subject, data, actor, exercise, time = record
        what = f"{kind!r} entry about {subject!r}"
        for name, value in (("kind", kind), ("subject", subject), ("actor", actor)):
            if not isinstance(value, str):
                raise AuditError(f"{what}: {name} must be text, not {type(value).__name__}")
        if not isinstance(exercise, int) or exercise not in (0, 1):
            raise AuditError(f"{what}: exercise must be True or False, not {exercise!r}")
        try:
            unix_s = _unix_now() if time is None else float(time)
        except (TypeError, ValueError) as exc:
            raise AuditError(f"{what}: time must be UNIX seconds, not {time!r}") from exc
        if not math.isfinite(unix_s):
            raise AuditError(f"{what}: time must be finite, not {unix_s}")
        try:
            text, parsed = canonical_data(data)
            for value in (kind, subject, actor):
                value.encode("utf-8")
        except (TypeError, ValueError, RecursionError) as exc:
            raise AuditError(f"{what}: cannot be stored as canonical JSON ({exc})") from exc
        row = (unix_s + 0.0, self.node, kind, subject, actor, int(bool(exercise)), text)
        return row, parsed  # + 0.0 turns -0.0 into 0.0, which SQLite would store anyway

    def _chain_rows(self, prepared: list[tuple[_Row, dict[str, JsonValue]]]) -> list[_Row]:
        """Number and hash the rows after the stored tail (inside the transaction)."""
        last = self._db.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1"
                                ).fetchone()
        seq, prev = last if last is not None else (0, GENESIS_HASH)
        if (seq, prev) != (self._seq, self._hash):
            raise AuditError(f"another writer changed the log (tail seq {seq}, expected "
                             f"{self._seq}); open one AuditLog per file", path=self.path)
        rows: list[_Row] = []
        for (time, node, kind, subject, actor, exercise, text), _ in prepared:
            seq += 1
            canonical = canonical_bytes(seq, time, node, kind, subject, actor,  # type: ignore[arg-type]
                                        exercise, text)  # type: ignore[arg-type]
            hsh = chain_hash(prev, canonical)
            rows.append((seq, time, node, kind, subject, actor, exercise, text, prev, hsh))
            prev = hsh
        return rows

    def publish_head(self, now: float | None = None) -> Head:
        """Append the current head to the heads file and fsync it."""
        published = _unix_now() if now is None else float(now)
        if not math.isfinite(published):
            raise AuditError(f"the publishing time must be finite, not {published}")
        with self._lock:
            head = Head(self.node, self._seq, self._hash, published)
            try:
                _append_head(self.heads_path, head)
            except OSError as exc:
                raise AuditError(f"cannot publish the head: {exc}", path=self.heads_path
                                 ) from exc
        return head

    def entries(self, since_seq: int = 1, until_seq: int | None = None,
                kind: str | None = None) -> Iterator[AuditEntry]:
        """Stored entries in seq order, read a page at a time (appends may interleave)."""
        seq = since_seq
        while True:
            with self._lock:
                rows = _select(self._db, seq, until_seq, kind, limit=_PAGE).fetchall()
            yield from (_entry(row) for row in rows)
            if len(rows) < _PAGE:
                return
            seq = rows[-1][0] + 1

    def _check_tail(self) -> tuple[int, str]:
        """The verified (seq, hash) of the tail, or AuditError."""
        rows = self._db.execute(f"{_SELECT} ORDER BY seq DESC LIMIT 2").fetchall()
        chain = _Chain()
        if len(rows) == 2 and type(rows[1][0]) is int and rows[1][0] > 1 \
                and _HEX64.match(str(rows[1][8])):
            chain = _Chain(rows[1][0] - 1, rows[1][8])
        problem = next(filter(None, (chain.step(row) for row in reversed(rows))), None)
        head = _last_head(self.heads_path)
        if problem is None and head is not None:
            if head.seq > chain.seq:
                problem = head.seq, (f"log ends at seq {chain.seq} but head seq {head.seq} "
                                     f"was published {format_utc(head.time)}")
            elif _hash_at(self._db, head.seq) != head.hash:
                problem = head.seq, (f"entry {head.seq} differs from the head published "
                                     f"{format_utc(head.time)}")
        if problem is not None:
            raise AuditError(f"refusing to append: {problem[1]}; run 'skyshare audit verify "
                             f"--log {self.path}' for the whole log", path=self.path)
        return chain.seq, chain.hash


def _hash_at(db: sqlite3.Connection, seq: int) -> str | None:
    if seq == 0:
        return GENESIS_HASH
    row = db.execute("SELECT hash FROM entries WHERE seq = ?", (seq,)).fetchone()
    return None if row is None else str(row[0])


def _select(db: sqlite3.Connection, since_seq: int, until_seq: int | None, kind: str | None,
            limit: int = -1) -> sqlite3.Cursor:
    where, params = ["seq >= ?"], [since_seq]
    if until_seq is not None:
        where.append("seq <= ?")
        params.append(until_seq)
    if kind is not None:
        where.append("kind = ?")
        params.append(kind)  # type: ignore[arg-type]
    return db.execute(f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY seq LIMIT {int(limit)}",
                      params)


def _open_writer(path: Path) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    except (OSError, sqlite3.Error) as exc:
        raise AuditError(f"cannot open: {exc}", path=path) from exc
    try:
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal":
            raise AuditError(f"SQLite refused WAL mode here (got {mode!r})", path=path)
        db.execute("PRAGMA synchronous=FULL")  # per connection: fsync on every commit
        db.execute("BEGIN IMMEDIATE")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if version not in (0, SCHEMA_VERSION) or (version == 0 and tables):
            db.execute("ROLLBACK")
            raise AuditError(f"not an audit log of format {SCHEMA_VERSION} "
                             f"(user_version {version}, {tables} tables)", path=path)
        db.execute(_SCHEMA)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except sqlite3.Error as exc:
        db.close()
        raise AuditError(f"cannot open: {exc}", path=path) from exc
    except AuditError:
        db.close()
        raise
    return db


def _open_reader(path: Path) -> sqlite3.Connection:
    """A read-only connection (the node may be appending meanwhile)."""
    if not path.is_file():
        raise AuditError("no such file", path=path)
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        db.text_factory = _lenient_text
        version = db.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.Error as exc:
        raise AuditError(f"cannot read as an audit log: {exc}", path=path) from exc
    if version != SCHEMA_VERSION:
        db.close()
        raise AuditError(f"not an audit log (user_version {version}, expected "
                         f"{SCHEMA_VERSION})", path=path)
    return db


def _lenient_text(raw: bytes) -> str:
    """Invalid UTF-8 in a TEXT column is kept (as lone surrogates), so the entry holding
    it is reported as altered instead of the whole read failing."""
    return raw.decode("utf-8", "surrogateescape")


def _sqlite_rows(path: Path) -> Generator[_Row, None, None]:
    db = _open_reader(path)
    try:
        cursor = db.execute(f"{_SELECT} ORDER BY seq")  # one statement: one snapshot
        while rows := cursor.fetchmany(_PAGE):
            yield from rows
    except sqlite3.Error as exc:
        raise AuditError(f"cannot read: {exc}", path=path) from exc
    finally:
        db.close()
