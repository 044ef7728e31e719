"""The hash chain: the canonical form of an entry, its hash, and the check of stored rows
one at a time (the rules are spelled out in :mod:`skyshare.store.audit`)."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Final, TypeAlias

GENESIS_HASH: Final = "0" * 64
COLUMNS: Final = ("seq", "time", "node", "kind", "subject", "actor", "exercise", "data",
                  "prev_hash", "hash")

JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"
JsonInput: TypeAlias = (
    "bool | int | float | str | Sequence[JsonInput] | Mapping[str, JsonInput] | None")
_HEX64: Final = re.compile(r"[0-9a-f]{64}\Z")

# stored values of one row, in COLUMNS order, as read (not yet validated)
_Row: TypeAlias = tuple[object, ...]


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
