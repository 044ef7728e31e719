"""Published heads: the file of ``{"node", "seq", "hash", "time"}`` lines that reveals a
truncated or re-hashed log (see :mod:`skyshare.store.audit`).  It needs nothing of the
log itself, so heads can be sent to partners and checked on their own.

Heads recorded by partners: a federated node records each new head a partner's node
publishes as an entry of its own log, kind :data:`PARTNER_HEAD`, subject the partner,
data ``{"partner", "node", "seq", "hash", "time"}`` (:func:`head_record`); a head that
contradicts one recorded before (same seq and another hash, or a lower seq published
later) as kind :data:`PARTNER_HEAD_CONFLICT` with the same keys plus ``problem``
(``"hash-changed"`` or ``"went-back"``) and ``recorded`` (the head it contradicts).
Copies of those logs are the heads the partner's operator cannot rewrite."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from skyshare.errors import AuditError
from skyshare.store.audit.chain import _HEX64, JsonInput, JsonValue

PARTNER_HEAD: Final = "audit.partner_head"
PARTNER_HEAD_CONFLICT: Final = "audit.partner_head_conflict"


@dataclass(frozen=True)
class Head:
    """A published head: the log of ``node`` had ``seq`` entries ending in ``hash``."""

    node: str
    seq: int
    hash: str
    time: float  # UNIX s when it was published


def format_utc(unix_s: float) -> str:
    """``2026-11-23T10:00:00Z``."""
    return datetime.fromtimestamp(unix_s, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def default_heads_path(log_path: str | Path) -> Path:
    """``<log>.heads.jsonl`` beside the log."""
    return Path(f"{log_path}.heads.jsonl")


def head_record(partner: str, head: Head) -> dict[str, JsonInput]:
    """The data of a :data:`PARTNER_HEAD` entry: ``head``, published by ``partner``."""
    return {"partner": partner, "node": head.node, "seq": head.seq, "hash": head.hash,
            "time": float(head.time)}


def recorded_head(data: Mapping[str, JsonValue]) -> tuple[str, Head] | None:
    """(partner, head) of a :data:`PARTNER_HEAD` (or conflict) entry's data; None when it
    does not hold one."""
    partner = data.get("partner")
    head = _head_of(data)
    return (partner, head) if isinstance(partner, str) and head is not None else None


def _head_of(obj: Mapping[str, object]) -> Head | None:
    try:
        head = Head(obj["node"], obj["seq"], obj["hash"], obj["time"])  # type: ignore[arg-type]
    except KeyError:
        return None
    valid = (isinstance(head.node, str) and type(head.seq) is int and head.seq >= 0
             and isinstance(head.hash, str) and bool(_HEX64.match(head.hash))
             and type(head.time) in (int, float) and math.isfinite(head.time))
    return head if valid else None


def _parse_head(line: str, path: Path, where: str) -> Head:
    try:
        obj = json.loads(line)
        head = _head_of(obj) if isinstance(obj, dict) else None
    except ValueError:
        head = None
    if head is None:
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
