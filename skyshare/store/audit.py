"""The tamper-evident audit log: every alert, acknowledgement, hand-over and
configuration change of a node, hash-chained so that a reviewer can prove nothing was
altered or removed.

Storage
-------
One SQLite file (default ``<data_dir>/audit.sqlite``) in WAL mode with
``synchronous=FULL``: :meth:`AuditLog.append` returns only after its transaction is
committed and the WAL fsynced, so an entry acknowledged to the caller survives a crash
or a power loss.  ``PRAGMA user_version`` is 1.  Table ``entries``:

=========  =======  ==========================================================
seq        INTEGER  primary key, 1, 2, 3, ... without gaps
time       REAL     UNIX seconds (UTC), stored exactly as given (-0.0 as 0.0)
node       TEXT     name of the node that wrote the entry
kind       TEXT     e.g. ``alert.raised``, ``alert.acknowledged``, ``config.changed``
subject    TEXT     what the entry is about (an alert id, a config key, ...)
actor      TEXT     user name, or ``system``
exercise   INTEGER  1 for exercise entries, 0 for real ones
data       TEXT     the entry's JSON object, in canonical form (below)
prev_hash  TEXT     ``hash`` of entry seq - 1; for seq 1, 64 zeros (genesis)
hash       TEXT     lowercase hex SHA-256, below
=========  =======  ==========================================================

The hash chain (all a reviewer needs to re-implement verification)
-------------------------------------------------------------------
``canonical`` is the UTF-8 encoding of::

    json.dumps([seq, time, node, kind, subject, actor, exercise, data],
               sort_keys=True, separators=(",", ":"), ensure_ascii=False,
               allow_nan=False)

where ``seq`` and ``exercise`` are integers (``exercise`` 0 or 1, not a boolean),
``time`` is the stored float (Python writes the shortest repr that round-trips, such as
``1764000000.25`` or ``1e+16``), the text columns are JSON strings, and ``data`` is the
JSON *object* parsed from the ``data`` column (the column holds exactly
``json.dumps(data, <same options>)``, so the last element of the list is the column's
text verbatim).  Then::

    hash = sha256(bytes.fromhex(prev_hash) + canonical).hexdigest()

with ``prev_hash`` of entry 1 equal to 32 zero bytes.  A log is intact when the seqs run
1, 2, ... without gaps, every entry's ``prev_hash`` is the previous entry's ``hash``,
every ``hash`` recomputes, and every data column is in canonical form.

Outside Python, spell JSON as Python's ``json`` does: object keys sorted by code point;
strings raw UTF-8 except ``"`` ``\\`` and the controls below U+0020, escaped as ``\\"
\\\\ \\b \\f \\n \\r \\t`` or ``\\u00XX`` (lowercase hex); integers in decimal; ``true``
``false`` ``null``; floats as ``repr``: the shortest digits that round-trip, always with
a ``.`` or an exponent (``17.0``, ``0.25``), in exponent form ``1e+16``, ``1.5e-05``
when the decimal exponent is below -4 or above 15.

Published heads
---------------
:meth:`AuditLog.publish_head` appends ``{"node", "seq", "hash", "time"}`` as one JSON
line to the heads file (default ``<log>.heads.jsonl``) and fsyncs it.  Copied elsewhere
(and later sent to partners), heads are what detects a log whose tail was deleted or
whose entries were rewritten *and* re-hashed: :func:`verify` checks that the log still
holds every published head with the same hash.  A heads file belongs to one log, in
publishing order; a last line without its newline (a write torn by a crash) is ignored.
Without a published head, truncation or a consistent rewrite cannot be detected.

Threads: one :class:`AuditLog` owns one connection (``check_same_thread=False``) behind a
lock, so the node's worker thread and its event loop thread may both append (an append
waits for an fsync: from a coroutine, ``await asyncio.to_thread(log.append, ...)``).
One :class:`AuditLog` per file: a second writer is detected and refused.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import math
import os
import re
import sqlite3
import threading
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from time import time as _unix_now
from types import TracebackType
from typing import Final, NamedTuple, TypeAlias

from skyshare.errors import SkyshareError

AUDIT_FILE: Final = "audit.sqlite"
GENESIS_HASH: Final = "0" * 64
SCHEMA_VERSION: Final = 1
EXPORT_FORMATS: Final = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
COLUMNS: Final = ("seq", "time", "node", "kind", "subject", "actor", "exercise", "data",
                  "prev_hash", "hash")

JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"
JsonInput: TypeAlias = (
    "bool | int | float | str | Sequence[JsonInput] | Mapping[str, JsonInput] | None")

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
_HEX64: Final = re.compile(r"[0-9a-f]{64}\Z")
_PAGE: Final = 1000

# stored values of one row, in COLUMNS order, as read (not yet validated)
_Row: TypeAlias = tuple[object, ...]


class AuditError(SkyshareError):
    """The audit log cannot be opened, written, read or exported; ``path`` names it."""

    def __init__(self, message: str, *, path: str | Path = "") -> None:
        self.path = str(path)
        super().__init__(f"{path}: {message}" if path else message)


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


@dataclass(frozen=True)
class Head:
    """A published head: the log of ``node`` had ``seq`` entries ending in ``hash``."""

    node: str
    seq: int
    hash: str
    time: float  # UNIX s when it was published


@dataclass(frozen=True)
class VerifyReport:
    """The result of :func:`verify`.

    ``entries`` counts the entries found intact (all of them when ``ok``);
    ``first_bad_seq`` is the first entry proven altered or missing; ``head`` the last
    published head that matched and ``heads_checked`` how many did.
    """

    path: Path
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    reason: str = ""
    head: Head | None = None
    heads_checked: int = 0
    heads_path: Path | None = None
    first_seq: int = 1
    last_seq: int = 0
    last_hash: str = GENESIS_HASH

    def describe(self) -> str:
        """One line for people, as ``skyshare audit verify`` prints it."""
        if not self.ok:
            return f"audit log {self.path}: {self.reason}"
        span = f" (seq {self.first_seq}..{self.last_seq})" if self.first_seq > 1 else ""
        if self.head is not None:
            heads = (f"matches head seq {self.head.seq:,} published "
                     f"{format_utc(self.head.time)}")
        elif self.heads_path is not None:
            heads = f"no published head in {self.heads_path} to compare"
        else:
            heads = "no heads file to compare (truncation would go unnoticed)"
        count = f"{self.entries:,} {'entry' if self.entries == 1 else 'entries'}"
        return f"audit log {self.path}: {count}{span}, chain intact, {heads}"


def format_utc(unix_s: float) -> str:
    """``2026-11-23T10:00:00Z``."""
    return datetime.fromtimestamp(unix_s, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def default_heads_path(log_path: str | Path) -> Path:
    """``<log>.heads.jsonl`` beside the log."""
    return Path(f"{log_path}.heads.jsonl")


# ----------------------------------------------------------------------------- canonical form
def _dumps(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def canonical_data(data: Mapping[str, JsonInput]) -> tuple[str, dict[str, JsonValue]]:
    """The canonical JSON text of ``data`` and the object it parses back to.

    Raises ``ValueError`` or ``TypeError`` when ``data`` has no reproducible canonical
    form (NaN, non-JSON values, mixed key types, text that is not valid Unicode).
    """
    text = _dumps(dict(data))
    parsed = json.loads(text)
    if _dumps(parsed) != text:  # e.g. keys 1 and "1" collapsing into one
        raise ValueError("does not survive a JSON round trip unchanged")
    text.encode("utf-8")  # lone surrogates cannot be stored or hashed
    return text, parsed


def canonical_bytes(seq: int, time: float, node: str, kind: str, subject: str, actor: str,
                    exercise: int, data_json: str) -> bytes:
    """The bytes hashed for one entry; ``data_json`` is the stored canonical data text."""
    fields = _dumps([seq, time, node, kind, subject, actor, exercise])
    return f"{fields[:-1]},{data_json}]".encode()


def chain_hash(prev_hash: str, canonical: bytes) -> str:
    """``sha256(prev_hash_bytes + canonical)`` as lowercase hex."""
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical).hexdigest()


def _row_problem(row: _Row) -> str | None:
    """What makes a stored row impossible to hash as written, or None."""
    _, time, node, kind, subject, actor, exercise, data, prev_hash, hsh = row
    if not isinstance(time, float) or not math.isfinite(time):
        return "time is not a finite floating-point number"
    for name, value in (("node", node), ("kind", kind), ("subject", subject),
                        ("actor", actor)):
        if not isinstance(value, str):
            return f"{name} is not text"
    if type(exercise) is not int or exercise not in (0, 1):
        return "exercise is not 0 or 1"
    for name, value in (("prev_hash", prev_hash), ("hash", hsh)):
        if not isinstance(value, str) or not _HEX64.match(value):
            return f"{name} is not 64 lowercase hex digits"
    if not isinstance(data, str):
        return "data is not text"
    try:
        parsed = json.loads(data)
        canonical = isinstance(parsed, dict) and _dumps(parsed) == data
    except (ValueError, RecursionError):
        return "data is not JSON"
    return None if canonical else "data is not a JSON object in canonical form"


def _row_hash(row: _Row) -> str | None:
    """The hash recomputed from a row that passed :func:`_row_problem`."""
    seq, time, node, kind, subject, actor, exercise, data, prev_hash, _ = row
    try:
        canonical = canonical_bytes(seq, time, node, kind, subject, actor,  # type: ignore[arg-type]
                                    exercise, data)  # type: ignore[arg-type]
    except UnicodeEncodeError:
        return None
    return chain_hash(prev_hash, canonical)  # type: ignore[arg-type]


def _entry(row: _Row) -> AuditEntry:
    seq, time, node, kind, subject, actor, exercise, data, prev_hash, hsh = row
    return AuditEntry(seq, time, node, kind, subject, actor, bool(exercise),  # type: ignore[arg-type]
                      json.loads(data), prev_hash, hsh)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- chain checks
class _Chain:
    """Checks rows one at a time in seq order, remembering only the previous entry."""

    def __init__(self, seq: int = 0, hsh: str = GENESIS_HASH) -> None:
        self.seq = seq  # last entry found intact (or the start point)
        self.hash = hsh
        self.count = 0
        self.trusted_seq = seq  # an entry vouched for by a matching published head

    def step(self, row: _Row) -> tuple[int, str] | None:
        """(first bad seq, reason) if this row breaks the chain, else None."""
        expected = self.seq + 1
        seq = row[0]
        if type(seq) is not int:
            return expected, f"entry {expected} altered: seq is not an integer"
        if seq > expected:
            return expected, (f"entry {expected} missing: seq jumps from {self.seq} to {seq} "
                              "(row deleted?)")
        if seq < expected:
            return expected, f"entry {expected} altered: found seq {seq} in its place"
        problem = _row_problem(row)
        computed = _row_hash(row) if problem is None else None
        if problem is None and computed is None:
            problem = "text is not valid Unicode"
        if problem is not None:
            return seq, f"entry {seq} altered: {problem}"
        linked = row[8] == self.hash
        if computed != row[9]:
            return seq, (f"entry {seq} altered: hash mismatch (time, node, kind, subject, "
                         "actor, exercise or data changed?)" if linked else
                         f"entry {seq} altered: neither its prev_hash nor its hash match")
        if not linked:
            return self._rewritten(seq)
        self.seq, self.hash = seq, row[9]  # type: ignore[assignment]
        self.count += 1
        return None

    def _rewritten(self, seq: int) -> tuple[int, str]:
        # The row hashes correctly from its own prev_hash, which is not the previous
        # entry's hash: the previous entry was rewritten and re-hashed, unless it is
        # vouched for (genesis, or a matching published head).
        if self.seq == 0:
            return seq, f"entry {seq} altered: its prev_hash is not the genesis value"
        if self.trusted_seq == self.seq:
            return seq, (f"entry {seq} altered: rewritten and re-hashed (it does not link "
                         f"to entry {self.seq}, which matches a published head)")
        return self.seq, (f"entry {self.seq} altered: rewritten and re-hashed (entry {seq} "
                          "still links to its former hash)")


class _HeadCursor:
    """Walks a heads file alongside the entries (both in seq order)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._heads = _read_heads(path)
        self._next: Head | None = next(self._heads, None)
        self.checked = 0
        self.matched: Head | None = None

    def _advance(self) -> Head:
        head = self._next
        assert head is not None
        self._next = next(self._heads, None)
        if self._next is not None and self._next.seq < head.seq:
            raise AuditError(f"heads go back from seq {head.seq} to {self._next.seq}; a heads "
                             "file lists one log's heads in publishing order", path=self.path)
        return head

    def close(self) -> None:
        self._heads.close()

    def at(self, chain: _Chain) -> tuple[int, str] | None:
        """Compare the heads published at ``chain.seq`` (skipping any before it)."""
        while self._next is not None and self._next.seq <= chain.seq:
            head = self._advance()
            if head.seq < chain.seq:
                continue  # before the first entry of an export: nothing to compare
            if head.hash != chain.hash:
                return head.seq, (
                    f"entry {head.seq} altered: its hash differs from head seq {head.seq} "
                    f"published {format_utc(head.time)}; the log was rewritten and re-hashed "
                    f"in entries {chain.trusted_seq + 1}..{head.seq}")
            self.checked += 1
            self.matched = head
            chain.trusted_seq = head.seq
        return None

    def beyond(self, last_seq: int) -> tuple[int, str] | None:
        """Heads published past the end of the log: its tail was removed."""
        if self._next is None:
            return None
        head = self._advance()
        while self._next is not None:
            head = self._advance()
        return last_seq + 1, (f"log ends at seq {last_seq} but head seq {head.seq} was "
                              f"published {format_utc(head.time)} (entries "
                              f"{last_seq + 1}..{head.seq} deleted?)")


# ----------------------------------------------------------------------------- heads file
def _parse_head(line: str, path: Path, where: str) -> Head:
    try:
        obj = json.loads(line)
        head = Head(obj["node"], obj["seq"], obj["hash"], obj["time"])
        valid = (isinstance(head.node, str) and type(head.seq) is int and head.seq >= 0
                 and isinstance(head.hash, str) and bool(_HEX64.match(head.hash))
                 and type(head.time) in (int, float) and math.isfinite(head.time))
    except (ValueError, TypeError, KeyError):
        valid = False
    if not valid:
        raise AuditError(f"{where} is not a published head "
                         '({"node", "seq", "hash", "time"})', path=path)
    return head


def _read_heads(path: Path) -> Generator[Head, None, None]:
    """Every complete line of a heads file, in file order."""
    with path.open("r", encoding="utf-8", errors="replace", newline="\n") as f:
        for lineno, line in enumerate(f, 1):
            if not line.endswith("\n"):
                return  # torn by a crash while publishing: never acknowledged
            if line.strip():
                yield _parse_head(line, path, f"line {lineno}")


def _last_head(path: Path) -> Head | None:
    """The last complete line of a heads file, read from its end."""
    try:
        with path.open("rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - 65536))
            tail = f.read()
    except FileNotFoundError:
        return None
    lines = tail[: tail.rfind(b"\n") + 1].splitlines()
    complete = [line for line in lines if line.strip()]
    if not complete:
        return None
    return _parse_head(complete[-1].decode("utf-8", "replace"), path, "the last line")


def _append_head(path: Path, head: Head) -> None:
    line = json.dumps({"node": head.node, "seq": head.seq, "hash": head.hash,
                       "time": head.time}, ensure_ascii=False) + "\n"
    created = not path.exists()
    with path.open("a+b") as f:
        size = f.seek(0, os.SEEK_END)
        if size:
            f.seek(max(0, size - 65536))
            tail = f.read()
            if not tail.endswith(b"\n"):  # a torn line nobody was told about: drop it
                f.truncate(size - len(tail) + tail.rfind(b"\n") + 1)
        f.write(line.encode("utf-8"))
        f.flush()
        os.fsync(f.fileno())
    if created:  # make the new file's directory entry durable too
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# ----------------------------------------------------------------------------- the log
class AuditLog:
    """The append-only audit log of one node (see the module docstring for the format).

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


# ----------------------------------------------------------------------------- verify
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


def _rows(path: Path) -> Generator[_Row | str, None, None]:
    kind = EXPORT_FORMATS.get(path.suffix.lower(), "sqlite")
    if kind == "sqlite":
        return _sqlite_rows(path)
    if not path.is_file():
        raise AuditError("no such file", path=path)
    return _jsonl_rows(path) if kind == "jsonl" else _csv_rows(path)


def verify(path: str | Path, heads_path: str | Path | None = None) -> VerifyReport:
    """Recompute the whole chain in one streaming pass and compare the published heads.

    ``path`` is a log, or an export (``.jsonl``/``.csv``) of a contiguous range: an
    export starting after seq 1 is checked from its first entry's ``prev_hash``.  The
    heads file is ``heads_path``, else ``<path>.heads.jsonl`` when it exists.
    """
    path = Path(path)
    heads_file = Path(heads_path) if heads_path else default_heads_path(path)
    if heads_path and not heads_file.is_file():
        raise AuditError("no such heads file", path=heads_file)
    heads = _HeadCursor(heads_file) if heads_file.is_file() else None
    rows = _rows(path)
    chain, first_seq, problem = _Chain(), 1, None
    with contextlib.closing(rows), contextlib.ExitStack() as stack:
        if heads is not None:
            stack.callback(heads.close)
        for row in rows:
            if isinstance(row, str):
                expected = chain.seq + 1
                problem = expected, f"entry {expected} altered: {row}"
                break
            if chain.count == 0 and chain.seq == 0 and _export_start(path, row):
                chain = _Chain(row[0] - 1, row[8])  # type: ignore[operator, arg-type]
                first_seq = chain.seq + 1
            if chain.count == 0 and heads is not None:
                problem = heads.at(chain)  # genesis, or the hash an export starts from
            problem = problem or chain.step(row)
            if problem is None and heads is not None:
                problem = heads.at(chain)
            if problem is not None:
                break
        else:
            if heads is not None:
                problem = heads.at(chain) or heads.beyond(chain.seq)
    return VerifyReport(
        path=path, ok=problem is None, entries=chain.count,
        first_bad_seq=problem[0] if problem else None, reason=problem[1] if problem else "",
        head=heads.matched if heads else None, heads_checked=heads.checked if heads else 0,
        heads_path=heads_file if heads else None, first_seq=first_seq, last_seq=chain.seq,
        last_hash=chain.hash)


def _export_start(path: Path, row: _Row) -> bool:
    """Whether ``row`` opens an export of a range that starts after entry 1."""
    return (path.suffix.lower() in EXPORT_FORMATS and type(row[0]) is int and row[0] > 1
            and isinstance(row[8], str) and bool(_HEX64.match(row[8])))


# ----------------------------------------------------------------------------- export
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
