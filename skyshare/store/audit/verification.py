"""Verifying a log, or an export of it, in one streaming pass against its published
heads (:func:`verify`)."""

from __future__ import annotations

import contextlib
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

from skyshare.errors import AuditError
from skyshare.store.audit.chain import _HEX64, GENESIS_HASH, _Chain, _Row
from skyshare.store.audit.exports import EXPORT_FORMATS, _csv_rows, _jsonl_rows
from skyshare.store.audit.heads import Head, _read_heads, default_heads_path, format_utc
from skyshare.store.audit.log import _sqlite_rows


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
