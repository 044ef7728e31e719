"""Published heads: the file of ``{"node", "seq", "hash", "time"}`` lines that reveals a
truncated or re-hashed log (see :mod:`skyshare.store.audit`).  It needs nothing of the
log itself, so heads can be sent to partners and checked on their own."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Generator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from skyshare.errors import AuditError
from skyshare.store.audit.chain import _HEX64


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
