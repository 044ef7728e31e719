"""The federation wire codec: bytes in, typed message out, and back.  No I/O.

One message is one signed envelope::

    b"SKY2" | u32 LE header length | header | payload | 64-byte Ed25519 signature

The signature is that of ``b"SKY2" | header length | header | SHA-256(payload)``: it
covers every byte before it, the payload through its digest (hashing a large payload
once with SHA-256 costs a fifth of what Ed25519's own two SHA-512 passes over it
would, for the same strength).  The header is canonical JSON (UTF-8, keys
sorted, no spaces, no NaN/Infinity) with exactly these keys:

=========== ==============================================================
``v``        1 (this format)
``kind``     ``"tracks"``, ``"alerts"`` or ``"status"``
``origin``   the sending partner; must equal the subject's ``<from>``
``to``       the receiving partner; must equal the subject's ``<to>``
``agreement`` id of the agreement the message is sent under ("" for status)
``seq``      1, 2, ... per (origin, to, kind) since the sender started
``epoch``    the sender's start time (UNIX s): a new epoch restarts ``seq``
``sent``     UNIX s on the sender's clock
``schema``   tracks: :data:`TRACK_SCHEMA` (digest of the row layout); else ""
``rows``     tracks: number of rows; else 0
``removed``  tracks: number of removed track ids; else 0
``exercise`` true: the whole message is exercise traffic
=========== ==============================================================

Payloads: for ``tracks``, ``rows`` packed little-endian :data:`TRACK_DTYPE` records then
``removed`` u4 LE track ids (the sender's ``track_id`` values it no longer shares), and
nothing else.  For ``alerts``, canonical JSON ``{"cases": [note, ...], "actions":
[request, ...]}``: each note has exactly the fields of
:class:`~skyshare.alerts.notes.CaseNote`, each request those of
:class:`~skyshare.alerts.notes.ActionNote`, checked one by one (type, length, range,
known rule, state, action and role); in an exercise message every note is an
exercise case, in a real one none is.  For ``status``, canonical JSON of
:class:`StatusBody`.

The fields ``rssi``, ``messages``, ``sensors`` and ``partners`` describe the sender's
own sensors and federation table: they never travel.  :func:`encode_tracks` blanks them
and :func:`decode` rejects rows that carry them.

:func:`decode` checks everything before it returns and raises only :class:`WireError`
whose ``reason`` is a short stable word for counters.  A single bad row rejects the
whole message: a partner sending garbage is a fault its operators must see, not
something to paper over.  Decoding is ``frombuffer`` plus vectorised checks.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import struct
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final, Literal, NamedTuple, TypeVar, get_args

import numpy as np
import numpy.typing as npt

from skyshare.alerts.notes import ACTIONS
from skyshare.alerts.notes import ActionNote as ActionNote  # re-exported: the codec's types
from skyshare.alerts.notes import CaseNote as CaseNote
from skyshare.alerts.rules import Rule
from skyshare.alerts.workflow import State
from skyshare.auth import Role
from skyshare.errors import SkyshareError
from skyshare.model import TRACK_DTYPE, TrackBatch, TrackFlag, track_bytes
from skyshare.share.agreements import AGREEMENT_ID, PARTNER_NAME
from skyshare.share.keys import SIGNATURE_BYTES, NodeKey, PublicKeys
from skyshare.share.rowcheck import track_rows_problem

M = TypeVar("M")

MAGIC: Final = b"SKY2"  # SKY1 signed the payload itself
VERSION: Final = 1
MAX_HEADER_BYTES: Final = 4096
"""A longer header is refused before it is parsed."""

Kind = Literal["tracks", "alerts", "status"]
KINDS: Final[tuple[Kind, ...]] = get_args(Kind)

WireReason = Literal["truncated", "bad-magic", "bad-header", "bad-schema", "bad-length",
                     "bad-signature", "unknown-origin", "origin-mismatch", "bad-value"]
WIRE_REASONS: Final[tuple[WireReason, ...]] = get_args(WireReason)

WIRE_TRACK_DTYPE: Final = TRACK_DTYPE.newbyteorder("<")
"""TRACK_DTYPE as it travels: packed, little-endian whatever the host."""
TRACK_SCHEMA: Final = hashlib.sha256(
    json.dumps(WIRE_TRACK_DTYPE.descr).encode()).hexdigest()[:16]
"""Digest of the row layout: a sender with another TRACK_DTYPE is refused (bad-schema)."""

_PREFIX = struct.Struct("<4sI")
_NEVER_SENT_ZERO: Final = ("messages", "sensors", "partners")
_MAX_SEQ: Final = 2**64 - 1
_MAX_NOTES: Final = 1000


class WireError(SkyshareError):
    """A message that cannot be accepted; ``reason`` is one of :data:`WIRE_REASONS`."""

    def __init__(self, reason: WireReason, detail: str) -> None:
        self.reason: WireReason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}")


@dataclass(frozen=True)
class Envelope:
    """Who sent what to whom, when, under which agreement (the header minus layout)."""

    kind: Kind
    origin: str
    to: str
    seq: int
    epoch: float
    sent: float
    agreement: str = ""
    exercise: bool = False

    @property
    def subject(self) -> str:
        return subject(self.kind, self.origin, self.to)


@dataclass(frozen=True)
class StatusBody:
    """A node's periodic 'alive' note to a partner: counts since its start."""

    sent_tracks: int
    received_tracks: int
    agreements: tuple[str, ...]
    node_time: float


@dataclass(frozen=True)
class TrackMessage:
    envelope: Envelope
    tracks: TrackBatch
    """Native TRACK_DTYPE rows, a writable copy."""
    removed: npt.NDArray[np.uint32]


@dataclass(frozen=True)
class AlertMessage:
    envelope: Envelope
    cases: tuple[CaseNote, ...]
    actions: tuple[ActionNote, ...]


@dataclass(frozen=True)
class StatusMessage:
    envelope: Envelope
    body: StatusBody


Message = TrackMessage | AlertMessage | StatusMessage


class Sequencer:
    """Numbers what one sender sends: ``seq`` counts from 1 per (receiver, kind) and
    ``epoch`` is the sender's start time, so a receiver can tell a restart from a replay."""

    def __init__(self, origin: str, epoch: float) -> None:
        self.origin, self.epoch = origin, epoch
        self._last: dict[tuple[str, Kind], int] = {}

    def envelope(self, kind: Kind, to: str, *, sent: float, agreement: str = "",
                 exercise: bool = False) -> Envelope:
        seq = self._last.get((to, kind), 0) + 1
        self._last[(to, kind)] = seq
        return Envelope(kind, self.origin, to, seq, self.epoch, sent, agreement, exercise)


SeqVerdict = Literal["new", "duplicate", "stale-epoch"]


class ReplayGuard:
    """The receiver's side of :class:`Sequencer`: accept each (origin, kind) message once.

    A message is new when its epoch is later than any seen from that origin (the
    sender restarted) or, within the current epoch, its seq is higher than the last
    accepted (gaps are allowed: the bus may drop).  A verdict other than "new" is a
    counted skip.  Keep one guard per node, for decoded messages only.
    """

    def __init__(self) -> None:
        self._last: dict[tuple[str, Kind], tuple[float, int]] = {}

    def check(self, env: Envelope) -> SeqVerdict:
        key = (env.origin, env.kind)
        epoch, seq = self._last.get(key, (-math.inf, 0))
        if env.epoch < epoch:
            return "stale-epoch"
        if env.epoch == epoch and env.seq <= seq:
            return "duplicate"
        self._last[key] = (env.epoch, env.seq)
        return "new"


# --------------------------------------------------------------------------- subjects
def subject(kind: Kind, origin: str, to: str) -> str:
    """``sky.<kind>.<origin>.<to>``; partner names are checked."""
    for name in (origin, to):
        if not PARTNER_NAME.fullmatch(name):
            raise ValueError(f"bad partner name {name!r}")
    if kind not in KINDS:
        raise ValueError(f"bad kind {kind!r}")
    return f"sky.{kind}.{origin}.{to}"


def parse_subject(text: str) -> tuple[Kind, str, str]:
    """(kind, origin, to) of ``sky.<kind>.<origin>.<to>``; WireError(origin-mismatch)."""
    parts = text.split(".")
    if (len(parts) != 4 or parts[0] != "sky" or parts[1] not in KINDS
            or not PARTNER_NAME.fullmatch(parts[2]) or not PARTNER_NAME.fullmatch(parts[3])):
        raise WireError("origin-mismatch", f"not a sky.<kind>.<from>.<to> subject: {text!r}")
    kind: Kind = parts[1]  # checked against KINDS above
    return kind, parts[2], parts[3]


# --------------------------------------------------------------------------- encoding
def canonical_json(value: object) -> bytes:
    """The one byte form of a JSON value that the codec writes and accepts."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def seal(header: bytes, payload: bytes, key: NodeKey) -> bytes:
    """Frame and sign a header and payload (the layer under every ``encode_*``)."""
    prefix = _PREFIX.pack(MAGIC, len(header))
    signature = key.sign(_signed(prefix, header, payload))
    return b"".join((prefix, header, payload, signature))


def _signed(prefix: bytes, header: bytes, payload: bytes) -> bytes:
    """What the signature is made over: the framing and header, and the payload's digest."""
    return b"".join((prefix, header, hashlib.sha256(payload).digest()))


class Sealed(NamedTuple):
    """A framed message taken apart (the checks of :func:`unseal` passed)."""

    header: bytes
    payload: bytes
    signed: bytes  # what the signature is made over (see the module docstring)
    signature: bytes


def unseal(data: bytes) -> Sealed:
    """Take a :func:`seal` ed message apart, checking only its framing (magic, lengths);
    WireError "truncated", "bad-magic" or "bad-length" otherwise.  The caller checks the
    header, then the signature with the origin's key."""
    if len(data) < _PREFIX.size + SIGNATURE_BYTES:
        raise WireError("truncated", f"{len(data)} bytes is shorter than an empty message")
    magic, hlen = _PREFIX.unpack_from(data)
    if magic != MAGIC:
        raise WireError("bad-magic", f"starts with {magic!r}, expected {MAGIC!r}")
    if hlen > MAX_HEADER_BYTES:
        raise WireError("bad-length", f"header of {hlen} bytes (at most {MAX_HEADER_BYTES})")
    body_end = len(data) - SIGNATURE_BYTES
    payload_at = _PREFIX.size + hlen
    if payload_at > body_end:
        raise WireError("truncated", f"header of {hlen} bytes does not fit in {len(data)}")
    header, payload = data[_PREFIX.size:payload_at], data[payload_at:body_end]
    return Sealed(header, payload, _signed(data[:_PREFIX.size], header, payload),
                  data[body_end:])


def _header(env: Envelope, *, schema: str = "", rows: int = 0, removed: int = 0) -> bytes:
    subject(env.kind, env.origin, env.to)  # validates names and kind
    if not 1 <= env.seq <= _MAX_SEQ:
        raise ValueError(f"seq must be 1..2**64-1, got {env.seq}")
    if env.agreement and not AGREEMENT_ID.fullmatch(env.agreement):
        raise ValueError(f"bad agreement id {env.agreement!r}")
    if not (math.isfinite(env.epoch) and math.isfinite(env.sent)):
        raise ValueError("epoch and sent must be finite UNIX times")
    return canonical_json({
        "v": VERSION, "kind": env.kind, "origin": env.origin, "to": env.to,
        "agreement": env.agreement, "seq": env.seq, "epoch": float(env.epoch),
        "sent": float(env.sent), "schema": schema, "rows": rows, "removed": removed,
        "exercise": bool(env.exercise)})


def _expect_kind(env: Envelope, kind: Kind) -> None:
    if env.kind != kind:
        raise ValueError(f"envelope kind is {env.kind!r}, expected {kind!r}")


def encode_tracks(envelope: Envelope, tracks: TrackBatch,
                  removed: npt.ArrayLike, key: NodeKey) -> bytes:
    """A signed ``tracks`` message; rows must already be filtered by the agreement.

    The never-sent fields are blanked here.  An exercise envelope requires every row to
    carry TrackFlag.EXERCISE (mixing real rows into exercise traffic is a bug).
    """
    _expect_kind(envelope, "tracks")
    if tracks.dtype != TRACK_DTYPE:
        raise ValueError("tracks must be a TRACK_DTYPE array")
    rows = _converted(tracks, WIRE_TRACK_DTYPE)  # a copy we may blank
    rows["rssi"] = np.nan
    for name in _NEVER_SENT_ZERO:
        rows[name] = 0
    if envelope.exercise and not np.all(rows["flags"] & TrackFlag.EXERCISE):
        raise ValueError("an exercise message may carry only EXERCISE tracks")
    ids = np.ascontiguousarray(removed, dtype="<u4")
    header = _header(envelope, schema=TRACK_SCHEMA, rows=len(rows), removed=len(ids))
    return seal(header, rows.tobytes() + ids.tobytes(), key)


def encode_alerts(envelope: Envelope, cases: Sequence[CaseNote],
                  actions: Sequence[ActionNote], key: NodeKey) -> bytes:
    """A signed ``alerts`` message; a note the decoder would refuse is a ValueError."""
    _expect_kind(envelope, "alerts")
    doc = {"cases": [asdict(c) for c in cases], "actions": [asdict(a) for a in actions]}
    try:
        _alert_notes(doc, exercise=envelope.exercise)
    except WireError as exc:
        raise ValueError(exc.detail) from exc
    return seal(_header(envelope), canonical_json(doc), key)


def encode_status(envelope: Envelope, body: StatusBody, key: NodeKey) -> bytes:
    _expect_kind(envelope, "status")
    payload = canonical_json({**asdict(body), "agreements": list(body.agreements)})
    return seal(_header(envelope), payload, key)


# --------------------------------------------------------------------------- decoding
def decode(data: bytes, *, subject: str, keys: PublicKeys) -> Message:
    """Check and decode one message received on ``subject``; raises only WireError."""
    return only_wire_errors(_decode, bytes(data), subject, keys)


def only_wire_errors(decoder: Callable[[bytes, str, PublicKeys], M], data: bytes,
                     subject: str, keys: PublicKeys) -> M:
    """``decoder(data, subject, keys)``, any exception but WireError turned into
    WireError("bad-value"): a bug in a decoder must not crash the node, it is counted as
    bad input (the fuzz tests fail if this ever catches anything)."""
    try:
        return decoder(data, subject, keys)
    except WireError:
        raise
    except Exception as exc:
        raise WireError("bad-value", f"undecodable ({type(exc).__name__}: {exc})") from exc


def _decode(data: bytes, subj: str, keys: PublicKeys) -> Message:
    sealed = unseal(data)
    header = _parse_header(sealed.header)
    kind, origin, to = parse_subject(subj)
    if (header["kind"], header["origin"], header["to"]) != (kind, origin, to):
        raise WireError("origin-mismatch", f"header says {header['kind']} from "
                        f"{header['origin']} to {header['to']}, subject is {subj}")
    if origin not in keys:
        raise WireError("unknown-origin", f"no public key for partner {origin!r}")
    if not keys.verify(origin, sealed.signature, sealed.signed):
        raise WireError("bad-signature", f"signature does not verify with {origin}'s key")
    env = Envelope(kind=kind, origin=origin, to=to, seq=header["seq"],
                   epoch=header["epoch"], sent=header["sent"],
                   agreement=header["agreement"], exercise=header["exercise"])
    payload = sealed.payload
    if kind == "tracks":
        return _decode_tracks(env, header, payload)
    if header["schema"] or header["rows"] or header["removed"]:
        raise WireError("bad-header", f"{kind} messages have no schema, rows or removed")
    doc = _parse_json(payload, "bad-value", "payload")
    if kind == "alerts":
        return AlertMessage(env, *_alert_notes(doc, exercise=env.exercise))
    return StatusMessage(env, _status_body(doc))


_HEADER_TYPES: Final[dict[str, tuple[type, ...]]] = {
    "v": (int,), "kind": (str,), "origin": (str,), "to": (str,), "agreement": (str,),
    "seq": (int,), "epoch": (float,), "sent": (float,), "schema": (str,), "rows": (int,),
    "removed": (int,), "exercise": (bool,)}


def _parse_json(raw: bytes, reason: WireReason, what: str) -> Any:
    def no_constants(name: str) -> None:
        raise ValueError(f"{name} is not JSON")
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=no_constants)
        canonical = canonical_json(value)  # UnicodeEncodeError: a lone surrogate
    except (ValueError, RecursionError) as exc:
        raise WireError(reason, f"{what} is not JSON: {exc}") from exc
    if canonical != raw:
        raise WireError(reason, f"{what} is not canonical JSON")
    return value


def _parse_header(raw: bytes) -> dict[str, Any]:
    header = _parse_json(raw, "bad-header", "header")
    if not isinstance(header, dict) or set(header) != set(_HEADER_TYPES):
        raise WireError("bad-header", f"header keys must be {sorted(_HEADER_TYPES)}")
    for name, types in _HEADER_TYPES.items():
        value = header[name]
        if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
            raise WireError("bad-header", f"header {name!r} has the wrong type")
    if header["v"] != VERSION:
        raise WireError("bad-header", f"format version {header['v']} (this node reads "
                        f"{VERSION}): upgrade the older node")
    if not 1 <= header["seq"] <= _MAX_SEQ:
        raise WireError("bad-header", f"seq {header['seq']} out of range")
    if header["rows"] < 0 or header["removed"] < 0:
        raise WireError("bad-header", "negative row or removed counts")
    if header["agreement"] and not AGREEMENT_ID.fullmatch(header["agreement"]):
        raise WireError("bad-header", f"bad agreement id {header['agreement']!r:.80}")
    return header


def _decode_tracks(env: Envelope, header: dict[str, Any], payload: bytes) -> TrackMessage:
    if header["schema"] != TRACK_SCHEMA:
        raise WireError("bad-schema", f"row schema {header['schema']!r}, this node has "
                        f"{TRACK_SCHEMA!r}: both nodes need the same skyshare version")
    nrows, nremoved = header["rows"], header["removed"]
    size = WIRE_TRACK_DTYPE.itemsize
    if len(payload) != nrows * size + nremoved * 4:
        raise WireError("bad-length", f"payload of {len(payload)} bytes for {nrows} rows "
                        f"and {nremoved} removed ids")
    rows = np.frombuffer(payload, dtype=WIRE_TRACK_DTYPE, count=nrows)
    removed = np.frombuffer(payload, dtype="<u4", count=nremoved, offset=nrows * size)
    problem = track_rows_problem(rows, exercise=env.exercise)
    if problem:
        raise WireError("bad-value", problem)
    return TrackMessage(env, _converted(rows, TRACK_DTYPE), removed.astype(np.uint32))


def _converted(rows: TrackBatch, dtype: np.dtype[np.void]) -> TrackBatch:
    """A copy of ``rows`` in ``dtype`` (TRACK_DTYPE or its wire form): a byte copy when
    the host is little-endian (the layouts are the same), else numpy's field by field."""
    if WIRE_TRACK_DTYPE == TRACK_DTYPE:
        return track_bytes(rows).copy().view(dtype)
    return rows.astype(dtype)


def _alert_notes(doc: Any, *, exercise: bool
                 ) -> tuple[tuple[CaseNote, ...], tuple[ActionNote, ...]]:
    if not isinstance(doc, dict) or set(doc) != {"cases", "actions"} or not all(
            isinstance(doc[k], list) for k in doc) or (
            len(doc["cases"]) + len(doc["actions"]) > _MAX_NOTES):
        raise WireError("bad-value", 'alerts payload must be {"cases": [...], "actions": '
                        f'[...]}} with at most {_MAX_NOTES} notes')
    cases = tuple(CaseNote(**_checked(item, _CASE_FIELDS, "case note"))
                  for item in doc["cases"])
    if any(c.exercise != exercise for c in cases):
        raise WireError("bad-value", "an exercise message carries only exercise cases, "
                        "a real one none")
    actions = tuple(ActionNote(**_checked(item, _ACTION_FIELDS, "action request"))
                    for item in doc["actions"])
    return cases, actions


def _checked(item: Any, checks: dict[str, Callable[[Any], bool]], what: str
             ) -> dict[str, Any]:
    """``item`` when it has exactly the keys of ``checks`` and each value passes its
    check (numbers of float fields as floats); WireError(bad-value) otherwise."""
    if not isinstance(item, dict) or set(item) != set(checks):
        raise WireError("bad-value", f"a {what} has exactly the keys {sorted(checks)}")
    bad = [k for k, ok in checks.items() if not ok(item[k])]
    if bad:
        raise WireError("bad-value", f"a {what} with bad {', '.join(bad)}: {item!r:.200}")
    return {k: float(v) if k in _FLOATS and v is not None else v for k, v in item.items()}


def _status_body(doc: Any) -> StatusBody:
    keys = {"sent_tracks", "received_tracks", "agreements", "node_time"}
    if not isinstance(doc, dict) or set(doc) != keys:
        raise WireError("bad-value", f"status payload keys must be {sorted(keys)}")
    counts = (doc["sent_tracks"], doc["received_tracks"])
    agreements = doc["agreements"]
    valid = (all(_is_count(c) for c in counts) and _is_number(doc["node_time"])
             and isinstance(agreements, list) and len(agreements) <= 1000
             and all(isinstance(a, str) and len(a) <= 128 for a in agreements))
    if not valid:
        raise WireError("bad-value", "status payload with bad field values")
    return StatusBody(counts[0], counts[1], tuple(agreements), float(doc["node_time"]))


def _is_number(value: Any) -> bool:
    """A finite JSON number (bool is not a number here)."""
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_flag(value: Any) -> bool:
    return isinstance(value, bool)


# --------------------------------------------------------------------------- alert notes
_LINE = re.compile(r"[^\x00-\x1f\x7f]{1,128}")  # ids and names: no control characters
_CALLSIGN = re.compile(r"[ -~]{0,8}")
_RULES: Final = frozenset(r.name.lower() for r in Rule)
_FLOATS: Final = frozenset({"value", "raised_at", "cleared_at", "lat", "lon", "alt",
                            "acknowledged_at", "resolved_at", "updated_at", "time"})


def _text(longest: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, str) and len(v) <= longest


def _optional(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: v is None or check(v)


def _among(values: Sequence[str]) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, str) and v in values


def _line(v: Any) -> bool:
    return isinstance(v, str) and _LINE.fullmatch(v) is not None


def _partner(v: Any) -> bool:
    return isinstance(v, str) and PARTNER_NAME.fullmatch(v) is not None


def _u32(v: Any) -> bool:
    return _is_count(v) and v < 2**32


def _squawk(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and (v == -1 or (
        0 <= v <= 7777 and all(int(d) <= 7 for d in f"{v:04d}")))


def _degrees(limit: float) -> Callable[[Any], bool]:
    return lambda v: _is_number(v) and -limit <= v <= limit


_NUMBER_OR_NONE = _optional(_is_number)
_CASE_FIELDS: Final[dict[str, Callable[[Any], bool]]] = {
    "id": _line, "version": lambda v: _is_count(v) and 1 <= v < 2**53, "origin": _partner,
    "rule": _among(tuple(_RULES)), "label": _text(200), "track_id": _u32, "icao24": _u32,
    "callsign": lambda v: isinstance(v, str) and _CALLSIGN.fullmatch(v) is not None,
    "squawk": _squawk, "volume": _optional(_text(200)), "value": _NUMBER_OR_NONE,
    "verified": _is_flag, "exercise": _is_flag, "raised_at": _is_number,
    "cleared_at": _NUMBER_OR_NONE, "lat": _optional(_degrees(90.0)),
    "lon": _optional(_degrees(180.0)), "alt": _NUMBER_OR_NONE, "condition_active": _is_flag,
    "state": _among([s.value for s in State]), "partner": _partner,
    "offered_to": _optional(_partner), "escalation": lambda v: _is_count(v) and v <= 1000,
    "acknowledged_by": _optional(_line), "acknowledged_at": _NUMBER_OR_NONE,
    "resolved_by": _optional(_line), "resolved_at": _NUMBER_OR_NONE, "comment": _text(4096),
    "updated_at": _is_number, "answers": lambda v: v == "" or _line(v),
    "refused": _text(4096), "sensor": _optional(_line), "detail": _text(1000)}
_ACTION_FIELDS: Final[dict[str, Callable[[Any], bool]]] = {
    "request": _line, "alert_id": _line, "action": _among(ACTIONS), "user": _line,
    "role": _among([r.value for r in Role]), "text": _text(4096), "time": _is_number}
