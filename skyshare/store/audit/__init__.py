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

Layout, upstream first: :mod:`~skyshare.store.audit.chain` (canonical form, hashes, the
row-by-row check), :mod:`~skyshare.store.audit.heads` (the heads file, usable without a
log), :mod:`~skyshare.store.audit.log` (the SQLite file and :class:`AuditLog`),
:mod:`~skyshare.store.audit.exports` (:func:`export` and reading exports back) and
:mod:`~skyshare.store.audit.verification` (:func:`verify`).
"""

from __future__ import annotations

from skyshare.errors import AuditError
from skyshare.store.audit.chain import (
    COLUMNS,
    GENESIS_HASH,
    JsonInput,
    JsonValue,
    canonical_bytes,
    canonical_data,
    chain_hash,
)
from skyshare.store.audit.exports import EXPORT_FORMATS, export
from skyshare.store.audit.heads import Head, default_heads_path, format_utc
from skyshare.store.audit.log import AUDIT_FILE, SCHEMA_VERSION, AuditEntry, AuditLog, AuditRecord
from skyshare.store.audit.verification import VerifyReport, verify

__all__ = [
    "AUDIT_FILE",
    "COLUMNS",
    "EXPORT_FORMATS",
    "GENESIS_HASH",
    "SCHEMA_VERSION",
    "AuditEntry",
    "AuditError",
    "AuditLog",
    "AuditRecord",
    "Head",
    "JsonInput",
    "JsonValue",
    "VerifyReport",
    "canonical_bytes",
    "canonical_data",
    "chain_hash",
    "default_heads_path",
    "export",
    "format_utc",
    "verify",
]
