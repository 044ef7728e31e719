"""Verifying a log, or an export of it, in one streaming pass against its published
heads and the heads partners recorded for it (:func:`verify`, :func:`partner_heads`)."""

from __future__ import annotations

import contextlib
import heapq
import json
import sqlite3
from collections.abc import Collection, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from skyshare.errors import AuditError
from skyshare.store.audit.chain import _HEX64, GENESIS_HASH, _Chain, _Row
from skyshare.store.audit.exports import EXPORT_FORMATS, _csv_rows, _jsonl_rows
from skyshare.store.audit.heads import (
    PARTNER_HEAD,
    Head,
    _read_heads,
    default_heads_path,
    format_utc,
    recorded_head,
)
from skyshare.store.audit.log import _open_reader, _sqlite_rows


@dataclass(frozen=True)
class RecordedHead:
    """A head of ``partner``'s node as another node recorded it in its own log."""

    head: Head
    partner: str
    by: str
    """Who recorded it, for people: ``central-node (central/audit.sqlite)``."""


@dataclass(frozen=True)
class VerifyReport:
    """The result of :func:`verify`.

    ``entries`` counts the entries found intact (all of them when ``ok``);
    ``first_bad_seq`` is the first entry proven altered or missing; ``head`` the last
    published head that matched and ``heads_checked`` how many did, of which
    ``partner_heads_checked`` were recorded by partners (``partner_heads`` were given).
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
    partner_heads: int = 0
    partner_heads_checked: int = 0

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
        elif self.partner_heads:
            heads = "no heads file to compare"
        else:
            heads = "no heads file to compare (truncation would go unnoticed)"
        if self.partner_heads:
            heads += (f"; {self.partner_heads_checked:,} of {self.partner_heads:,} heads "
                      "recorded by partners compared, all match")
        count = f"{self.entries:,} {'entry' if self.entries == 1 else 'entries'}"
        return f"audit log {self.path}: {count}{span}, chain intact, {heads}"


_Labelled = tuple[Head, str]  # a head and who recorded it ("" for the heads file)


class _HeadCursor:
    """Walks the heads (the heads file's merged with those partners recorded, all in seq
    order) alongside the entries."""

    def __init__(self, path: Path | None, recorded: Sequence[RecordedHead] = ()) -> None:
        self.path = path
        self._file = _read_heads(path) if path is not None else None
        own: Iterator[_Labelled] = ((h, "") for h in self._file or ())
        theirs = sorted(((r.head, r.by) for r in recorded), key=lambda hr: hr[0].seq)
        self._heads = heapq.merge(own, theirs, key=lambda hr: hr[0].seq)
        self._next: _Labelled | None = next(self._heads, None)
        self.checked = self.partner_checked = 0
        self.matched: Head | None = None

    def _advance(self) -> _Labelled:
        current = self._next
        assert current is not None
        self._next = next(self._heads, None)
        if self._next is not None and self._next[0].seq < current[0].seq:
            raise AuditError(f"heads go back from seq {current[0].seq} to "
                             f"{self._next[0].seq}; a heads file lists one log's heads in "
                             "publishing order", path=self.path or "")
        return current

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    def at(self, chain: _Chain) -> tuple[int, str] | None:
        """Compare the heads published at ``chain.seq`` (skipping any before it)."""
        while self._next is not None and self._next[0].seq <= chain.seq:
            head, by = self._advance()
            if head.seq < chain.seq:
                continue  # before the first entry of an export: nothing to compare
            if head.hash != chain.hash:
                return head.seq, (
                    f"entry {head.seq} altered: its hash differs from head seq {head.seq} "
                    f"published {format_utc(head.time)}{_by(by)}; the log was rewritten "
                    f"and re-hashed in entries {chain.trusted_seq + 1}..{head.seq}")
            self.checked += 1
            self.partner_checked += bool(by)
            self.matched = head
            chain.trusted_seq = head.seq
        return None

    def beyond(self, last_seq: int) -> tuple[int, str] | None:
        """Heads published past the end of the log: its tail was removed."""
        if self._next is None:
            return None
        head, by = self._advance()
        while self._next is not None:
            head, by = self._advance()
        return last_seq + 1, (f"log ends at seq {last_seq} but head seq {head.seq} was "
                              f"published {format_utc(head.time)}{_by(by)} (entries "
                              f"{last_seq + 1}..{head.seq} deleted?)")


def _by(recorder: str) -> str:
    return f" (as recorded by {recorder})" if recorder else ""


def _rows(path: Path) -> Generator[_Row | str, None, None]:
    kind = EXPORT_FORMATS.get(path.suffix.lower(), "sqlite")
    if kind == "sqlite":
        return _sqlite_rows(path)
    if not path.is_file():
        raise AuditError("no such file", path=path)
    return _jsonl_rows(path) if kind == "jsonl" else _csv_rows(path)


def verify(path: str | Path, heads_path: str | Path | None = None, *,
           partner_heads: Sequence[RecordedHead] = ()) -> VerifyReport:
    """Recompute the whole chain in one streaming pass and compare the published heads.

    ``path`` is a log, or an export (``.jsonl``/``.csv``) of a contiguous range: an
    export starting after seq 1 is checked from its first entry's ``prev_hash``.  The
    heads file is ``heads_path``, else ``<path>.heads.jsonl`` when it exists.  Heads
    ``partner_heads`` (see :func:`partner_heads`) are compared as well: the log must hold
    each of them too, which its own operator cannot arrange by rewriting a heads file.
    """
    path = Path(path)
    heads_file = Path(heads_path) if heads_path else default_heads_path(path)
    if heads_path and not heads_file.is_file():
        raise AuditError("no such heads file", path=heads_file)
    own = heads_file if heads_file.is_file() else None
    heads = _HeadCursor(own, partner_heads) if own is not None or partner_heads else None
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
        heads_path=own, first_seq=first_seq, last_seq=chain.seq, last_hash=chain.hash,
        partner_heads=len(partner_heads),
        partner_heads_checked=heads.partner_checked if heads else 0)


def _export_start(path: Path, row: _Row) -> bool:
    """Whether ``row`` opens an export of a range that starts after entry 1."""
    return (path.suffix.lower() in EXPORT_FORMATS and type(row[0]) is int and row[0] > 1
            and isinstance(row[8], str) and bool(_HEX64.match(row[8])))


# ----------------------------------------------------------------------------- partners
def log_nodes(path: str | Path) -> tuple[str, ...]:
    """The node names that wrote the first and the last entry of a log or export (one
    name, usually; none for an empty log): whose heads partners recorded for it."""
    path = Path(path)
    if EXPORT_FORMATS.get(path.suffix.lower(), "sqlite") == "sqlite":
        db = _open_reader(path)
        try:
            names = [db.execute(f"SELECT node FROM entries ORDER BY seq {order} LIMIT 1"
                                ).fetchone() for order in ("ASC", "DESC")]
        except sqlite3.Error as exc:
            raise AuditError(f"cannot read: {exc}", path=path) from exc
        finally:
            db.close()
        found = [str(n[0]) for n in names if n is not None]
    else:
        first: str | None = None
        last: str | None = None
        with contextlib.closing(_rows(path)) as rows:
            for row in rows:
                if not isinstance(row, str):
                    last = str(row[2])
                    first = last if first is None else first
        found = [n for n in (first, last) if n is not None]
    return tuple(dict.fromkeys(found))


def partner_heads(logs: Iterable[str | Path], nodes: Collection[str], *,
                  partner: str | None = None) -> list[RecordedHead]:
    """The heads of the node(s) named ``nodes`` that other nodes recorded in ``logs``
    (their audit logs or exports of them, ``audit.partner_head`` entries), in seq order.

    Node names need not be unique across partners: when the heads found come from more
    than one partner, name the one meant with ``partner`` (AuditError otherwise).
    """
    found: list[RecordedHead] = []
    for log in logs:
        found += _recorded_in(Path(log), set(nodes), partner)
    partners = sorted({r.partner for r in found})
    if len(partners) > 1:
        raise AuditError(f"heads of node {' or '.join(sorted(nodes))} were recorded for "
                         f"partners {', '.join(partners)} (node names are not unique): "
                         "say which partner wrote the log with --partner")
    return sorted(found, key=lambda r: (r.head.seq, r.head.time))


def _recorded_in(path: Path, nodes: set[str], partner: str | None) -> list[RecordedHead]:
    found: list[RecordedHead] = []
    with contextlib.closing(_rows(path)) as rows:
        for row in rows:
            if isinstance(row, str) or row[3] != PARTNER_HEAD or not isinstance(row[7], str):
                continue
            try:
                data = json.loads(row[7])
            except ValueError:
                continue
            parsed = recorded_head(data) if isinstance(data, dict) else None
            if parsed is None or parsed[1].node not in nodes or (
                    partner is not None and parsed[0] != partner):
                continue
            found.append(RecordedHead(parsed[1], parsed[0], f"{row[2]} ({path})"))
    return found
