"""The federation wire codec and node keys: round trips, every refusal, hostile bytes."""

from __future__ import annotations

import dataclasses
import math
import os
import stat
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from skyshare.alerts.notes import ACTIONS
from skyshare.alerts.rules import Rule
from skyshare.alerts.workflow import State
from skyshare.auth import Role
from skyshare.errors import ConfigError
from skyshare.model import TRACK_DTYPE, TrackBatch, TrackFlag, empty_tracks
from skyshare.share.agreements import AGREEMENT_ID, PARTNER_NAME
from skyshare.share.keys import NodeKey, PublicKeys
from skyshare.share.rowcheck import track_rows_problem
from skyshare.share.rowcheck import warm_up as warm_up_rows
from skyshare.share.wire import (
    MAGIC,
    TRACK_SCHEMA,
    WIRE_REASONS,
    WIRE_TRACK_DTYPE,
    ActionNote,
    AlertMessage,
    CaseNote,
    Envelope,
    Message,
    ReplayGuard,
    Sequencer,
    StatusBody,
    StatusMessage,
    TrackMessage,
    WireError,
    canonical_json,
    decode,
    encode_alerts,
    encode_status,
    encode_tracks,
    seal,
)

KEY = NodeKey.generate()
OTHER_KEY = NodeKey.generate()
KEYS = PublicKeys({"west": KEY.public_key(), "east": OTHER_KEY.public_key()})
SUBJECT = "sky.tracks.west.central"
NEVER_SENT = ("rssi", "messages", "sensors", "partners")
FIELDS = TRACK_DTYPE.names or ()



@pytest.fixture(scope="module", autouse=True)
def _compiled() -> None:
    """The row check's kernel compiled before any example runs (hypothesis deadlines)."""
    warm_up_rows()


names = st.from_regex(PARTNER_NAME, fullmatch=True)
finite = st.floats(allow_nan=False, allow_infinity=False)


def envelope(kind: Any = "tracks", **changes: Any) -> Envelope:
    fields: dict[str, Any] = {"origin": "west", "to": "central", "seq": 7,
                              "epoch": 1.7e9, "sent": 1.7e9 + 3.5, "agreement": "w-c-1"}
    fields.update(changes)
    return Envelope(kind=kind, **fields)


def header(**changes: Any) -> dict[str, Any]:
    """A valid tracks header as a dict, for crafting hostile but signed messages."""
    fields: dict[str, Any] = {
        "v": 1, "kind": "tracks", "origin": "west", "to": "central", "agreement": "",
        "seq": 1, "epoch": 1.0, "sent": 2.0, "schema": TRACK_SCHEMA, "rows": 0,
        "removed": 0, "exercise": False}
    fields.update(changes)
    return fields


def some_tracks(n: int = 3) -> TrackBatch:
    tracks = empty_tracks(n)
    tracks["track_id"] = np.arange(1, n + 1)
    tracks["lat"], tracks["lon"], tracks["alt"] = 50.5, 4.25, 35000.0
    tracks["flags"] = TrackFlag.HAS_POSITION | TrackFlag.CONFIRMED
    tracks["callsign"] = b"KLM123"
    tracks["squawk"] = 7700
    return tracks


def wire_rows(tracks: TrackBatch) -> bytes:
    rows = tracks.astype(WIRE_TRACK_DTYPE)
    rows["rssi"] = np.nan
    for name in ("messages", "sensors", "partners"):
        rows[name] = 0
    return rows.tobytes()


def sealed_rows(tracks: TrackBatch, **changes: Any) -> bytes:
    head = header(rows=len(tracks), **changes)
    return seal(canonical_json(head), wire_rows(tracks), KEY)


def decoded_or_refused(data: bytes, subject: str = SUBJECT) -> Message | None:
    """Decode; a refusal must be a WireError the codec meant (not its safety net)."""
    try:
        return decode(data, subject=subject, keys=KEYS)
    except WireError as exc:
        assert exc.reason in WIRE_REASONS
        assert not exc.detail.startswith("undecodable"), exc.detail
        return None


# --------------------------------------------------------------------------- round trips
def octal_squawk(code: int) -> int:
    return int(f"{code:04o}")


@st.composite
def track_batches(draw: st.DrawFn, max_rows: int = 12) -> TrackBatch:
    n = draw(st.integers(0, max_rows))
    tracks = empty_tracks(n)

    def column(dtype: Any, elements: st.SearchStrategy[Any], **kw: Any) -> Any:
        return draw(hnp.arrays(dtype, n, elements=elements, **kw))
    tracks["track_id"] = column(np.uint32, st.integers(0, 2**32 - 1), unique=True)
    tracks["icao24"] = column(np.uint32, st.integers(0, 2**32 - 1))
    tracks["flags"] = column(np.uint16, st.integers(0, int(sum(TrackFlag))))
    tracks["callsign"] = column("S8", st.binary(max_size=8).map(lambda b: b.rstrip(b"\0")))
    tracks["squawk"] = column(np.int16, st.just(-1) | st.integers(0, 4095).map(octal_squawk))
    tracks["emergency"] = column(np.uint8, st.integers(0, 7))
    tracks["sources"] = column(np.uint8, st.integers(0, 127))
    for name in ("category", "nic", "nacp", "sil"):
        tracks[name] = column(np.uint8, st.integers(0, 255))
    tracks["lat"] = column(np.float64, st.floats(-90, 90) | st.just(math.nan))
    tracks["lon"] = column(np.float64, st.floats(-180, 180) | st.just(math.nan))
    for name in ("alt", "alt_geo", "groundspeed", "track", "vertical_rate", "pos_sigma"):
        tracks[name] = column(np.float32, st.floats(width=32, allow_infinity=False))
    for name in ("first_seen", "last_seen", "last_pos"):
        tracks[name] = column(np.float64, st.floats(allow_infinity=False))
    # the sender's own bookkeeping, which must not travel
    tracks["rssi"] = column(np.float32, st.floats(-50, 0, width=32))
    tracks["messages"] = column(np.uint32, st.integers(0, 2**32 - 1))
    tracks["sensors"] = column(np.uint64, st.integers(0, 2**64 - 1))
    tracks["partners"] = column(np.uint16, st.integers(0, 2**16 - 1))
    return tracks


envelopes = st.builds(
    Envelope, kind=st.just("tracks"), origin=names, to=names,
    seq=st.integers(1, 2**64 - 1), epoch=finite, sent=finite,
    agreement=st.just("") | st.from_regex(AGREEMENT_ID, fullmatch=True),
    exercise=st.booleans())


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=60)
@given(envelopes, track_batches(), hnp.arrays(np.uint32, st.integers(0, 20)))
def test_tracks_round_trip(env: Envelope, tracks: TrackBatch, removed: Any) -> None:
    if env.exercise:
        tracks["flags"] |= np.uint16(TrackFlag.EXERCISE)
    key = NodeKey.generate()
    data = encode_tracks(env, tracks, removed, key)
    msg = decode(data, subject=env.subject, keys=PublicKeys({env.origin: key.public_key()}))
    assert isinstance(msg, TrackMessage)
    assert msg.envelope == env
    assert msg.tracks.dtype == TRACK_DTYPE and msg.tracks.flags.writeable
    for name in FIELDS:
        if name not in NEVER_SENT:
            assert np.array_equal(msg.tracks[name], tracks[name],
                                  equal_nan=tracks[name].dtype.kind == "f"), name
    assert np.isnan(msg.tracks["rssi"]).all()
    assert not any(msg.tracks[n].any() for n in ("messages", "sensors", "partners"))
    assert np.array_equal(msg.removed, removed)


no_controls = st.characters(blacklist_categories=("Cc", "Cs"))
lines = st.text(no_controls, min_size=1, max_size=40)


def optional(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | values


octal_squawks = st.just(-1) | st.integers(0, 4095).map(octal_squawk)
case_notes = st.builds(
    CaseNote, id=lines, version=st.integers(1, 2**53 - 1), origin=names,
    rule=st.sampled_from([r.name.lower() for r in Rule]), label=st.text(max_size=60),
    track_id=st.integers(0, 2**32 - 1), icao24=st.integers(0, 2**32 - 1),
    callsign=st.from_regex(r"[ -~]{0,8}", fullmatch=True), squawk=octal_squawks,
    volume=optional(st.text(max_size=20)), value=optional(finite), verified=st.booleans(),
    exercise=st.booleans(), raised_at=finite, cleared_at=optional(finite),
    lat=optional(st.floats(-90, 90)), lon=optional(st.floats(-180, 180)),
    alt=optional(finite), condition_active=st.booleans(),
    state=st.sampled_from([s.value for s in State]), partner=names,
    offered_to=optional(names), escalation=st.integers(0, 1000),
    acknowledged_by=optional(lines), acknowledged_at=optional(finite),
    resolved_by=optional(lines), resolved_at=optional(finite), comment=st.text(max_size=80),
    updated_at=finite, answers=st.just("") | lines, refused=st.text(max_size=80))
action_notes = st.builds(
    ActionNote, request=lines, alert_id=lines, action=st.sampled_from(ACTIONS), user=lines,
    role=st.sampled_from([r.value for r in Role]), text=st.text(max_size=80), time=finite)
ALERTS_SUBJECT = "sky.alerts.west.central"


def a_case(**changes: Any) -> CaseNote:
    """A valid note (every field set), for crafting refusals one field at a time."""
    note = CaseNote(
        id="central-node-7", version=3, origin="west", rule="squawk_7700",
        label="Squawk 7700: emergency", track_id=12, icao24=0x3C6444, callsign="DLH4AB",
        squawk=7700, volume=None, value=None, verified=True, exercise=False,
        raised_at=1.7e9, cleared_at=None, lat=49.5, lon=8.25, alt=35000.0,
        condition_active=True, state="new", partner="central", offered_to=None,
        escalation=0, acknowledged_by=None, acknowledged_at=None, resolved_by=None,
        resolved_at=None, comment="", updated_at=1.7e9 + 1)
    return dataclasses.replace(note, **changes)


def a_request(**changes: Any) -> ActionNote:
    request = ActionNote(request="central-node-1f2e", alert_id="west-node-3",
                         action="acknowledge", user="carla", role="duty_officer", text="",
                         time=1.7e9)
    return dataclasses.replace(request, **changes)


def sealed_alerts(doc: Any, exercise: bool = False) -> bytes:
    head = header(kind="alerts", schema="", exercise=exercise)
    return seal(canonical_json(head), canonical_json(doc), KEY)


def case_dict(**changes: Any) -> dict[str, Any]:
    return {**dataclasses.asdict(a_case()), **changes}


@settings(max_examples=60)
@given(st.lists(case_notes, max_size=3), st.lists(action_notes, max_size=3), st.booleans())
def test_alerts_round_trip(cases: list[CaseNote], actions: list[ActionNote],
                           exercise: bool) -> None:
    cases = [dataclasses.replace(c, exercise=exercise) for c in cases]
    env = envelope("alerts", exercise=exercise)
    msg = decode(encode_alerts(env, cases, actions, KEY), subject=ALERTS_SUBJECT, keys=KEYS)
    assert isinstance(msg, AlertMessage)
    assert (msg.envelope, msg.cases, msg.actions) == (env, tuple(cases), tuple(actions))
    assert all(isinstance(c.raised_at, float) for c in msg.cases)


def test_the_codec_checks_every_field_of_both_notes() -> None:
    """The field tables cover exactly the dataclasses' fields."""
    from skyshare.share import wire
    assert set(wire._CASE_FIELDS) == {f.name for f in dataclasses.fields(CaseNote)}
    assert set(wire._ACTION_FIELDS) == {f.name for f in dataclasses.fields(ActionNote)}


def test_encoding_refuses_notes_the_decoder_would_refuse() -> None:
    with pytest.raises(ValueError, match="exercise"):
        encode_alerts(envelope("alerts", exercise=True), [a_case()], [], KEY)
    with pytest.raises(ValueError, match="callsign"):
        encode_alerts(envelope("alerts"), [a_case(callsign="TOO-LONG-1")], [], KEY)
    with pytest.raises(ValueError, match="action"):
        encode_alerts(envelope("alerts"), [], [a_request(action="delete")], KEY)


@given(st.builds(StatusBody, sent_tracks=st.integers(0, 2**63),
                 received_tracks=st.integers(0, 2**63),
                 agreements=st.lists(st.text(max_size=20), max_size=4).map(tuple),
                 node_time=finite))
def test_status_round_trip(body: StatusBody) -> None:
    env = envelope("status", agreement="")
    msg = decode(encode_status(env, body, KEY), subject="sky.status.west.central", keys=KEYS)
    assert isinstance(msg, StatusMessage)
    assert (msg.envelope, msg.body) == (env, body)


def test_encoding_refuses_programming_errors() -> None:
    real = some_tracks()
    with pytest.raises(ValueError, match="EXERCISE"):
        encode_tracks(envelope(exercise=True), real, [], KEY)
    with pytest.raises(ValueError, match="kind"):
        encode_tracks(envelope("alerts"), real, [], KEY)
    with pytest.raises(ValueError, match="partner name"):
        encode_tracks(envelope(origin="West"), real, [], KEY)
    with pytest.raises(ValueError, match="seq"):
        encode_tracks(envelope(seq=0), real, [], KEY)


def test_sequencer_numbers_per_receiver_and_kind_and_the_guard_drops_replays() -> None:
    sender = Sequencer("west", epoch=100.0)
    first = sender.envelope("tracks", "central", sent=101.0)
    second = sender.envelope("tracks", "central", sent=102.0)
    other = sender.envelope("tracks", "east", sent=102.0)
    status = sender.envelope("status", "central", sent=102.0)
    assert [e.seq for e in (first, second, other, status)] == [1, 2, 1, 1]
    guard = ReplayGuard()
    assert guard.check(first) == "new"
    assert guard.check(status) == "new"  # kinds are counted apart
    assert guard.check(first) == "duplicate"
    assert guard.check(second) == "new"
    assert guard.check(first) == "duplicate"
    restarted = Sequencer("west", epoch=200.0).envelope("tracks", "central", sent=201.0)
    assert guard.check(restarted) == "new"  # a restart counts from 1 again
    assert guard.check(second) == "stale-epoch"


# --------------------------------------------------------------------------- refusals
def _mutate_row(**values: Any) -> bytes:
    tracks = some_tracks()
    for name, value in values.items():
        tracks[name][1] = value
    return sealed_rows(tracks)


def _unblanked(name: str, value: float) -> bytes:
    """A row carrying one of the sender's own fields, which never travel."""
    tracks = some_tracks()
    tracks[name][0] = value
    return seal(canonical_json(header(rows=3)), tracks.astype(WIRE_TRACK_DTYPE).tobytes(),
                KEY)


def _valid() -> bytes:
    return encode_tracks(envelope(), some_tracks(), [9], KEY)


Case = tuple[str, Callable[[], bytes], str]  # reason, message maker, subject
CASES: list[Case] = [
    ("truncated", lambda: _valid()[:60], SUBJECT),
    ("truncated", lambda: struct.pack("<4sI", MAGIC, 300) + bytes(100), SUBJECT),
    ("bad-magic", lambda: b"SKY1" + _valid()[4:], SUBJECT),  # the previous format
    ("bad-header", lambda: seal(b"{not json", b"", KEY), SUBJECT),
    ("bad-header", lambda: seal(canonical_json(header(v=2)), b"", KEY), SUBJECT),
    ("bad-header", lambda: seal(canonical_json(header(extra=1)), b"", KEY), SUBJECT),
    ("bad-header", lambda: seal(canonical_json(header(seq=0)), b"", KEY), SUBJECT),
    ("bad-header", lambda: seal(canonical_json(header(rows=True)), b"", KEY), SUBJECT),
    ("bad-header", lambda: seal(canonical_json(header(agreement="No!")), b"", KEY),
     SUBJECT),
    ("bad-header", lambda: seal(canonical_json(header()).replace(b",", b", "), b"", KEY),
     SUBJECT),
    ("bad-header", lambda: seal(canonical_json(header(kind="status", rows=1)), b"{}", KEY),
     "sky.status.west.central"),
    ("bad-schema", lambda: seal(canonical_json(header(schema="0" * 16)), b"", KEY),
     SUBJECT),
    ("bad-length", lambda: seal(canonical_json(header(rows=2)),
                                wire_rows(some_tracks(2))[:-1], KEY), SUBJECT),
    ("bad-length", lambda: seal(canonical_json(header(removed=1)), b"", KEY), SUBJECT),
    ("bad-length", lambda: seal(canonical_json(header(rows=2)), bytes(108), KEY), SUBJECT),
    ("bad-length", lambda: struct.pack("<4sI", MAGIC, 5000) + bytes(6000), SUBJECT),
    ("bad-signature", lambda: _valid()[:-1] + bytes([_valid()[-1] ^ 1]), SUBJECT),
    ("bad-signature", lambda: encode_tracks(envelope(), some_tracks(), [], OTHER_KEY),
     SUBJECT),
    ("unknown-origin", lambda: encode_tracks(envelope(origin="north"), some_tracks(), [], KEY),
     "sky.tracks.north.central"),
    ("origin-mismatch", _valid, "sky.tracks.east.central"),
    ("origin-mismatch", _valid, "sky.tracks.west.east"),
    ("origin-mismatch", _valid, "sky.alerts.west.central"),
    ("origin-mismatch", _valid, "sky.tracks.west"),
    ("bad-value", lambda: _mutate_row(lat=90.5), SUBJECT),
    ("bad-value", lambda: _mutate_row(lon=-180.5), SUBJECT),
    ("bad-value", lambda: _mutate_row(alt=np.inf), SUBJECT),
    ("bad-value", lambda: _mutate_row(last_seen=-np.inf), SUBJECT),
    ("bad-value", lambda: _mutate_row(squawk=7778), SUBJECT),
    ("bad-value", lambda: _mutate_row(squawk=10000), SUBJECT),
    ("bad-value", lambda: _mutate_row(emergency=8), SUBJECT),
    ("bad-value", lambda: _mutate_row(flags=0x100), SUBJECT),
    ("bad-value", lambda: _mutate_row(sources=128), SUBJECT),
    ("bad-value", lambda: _mutate_row(track_id=1), SUBJECT),
    ("bad-value", lambda: sealed_rows(some_tracks(), exercise=True), SUBJECT),
    ("bad-value", lambda: _unblanked("rssi", -12.5), SUBJECT),
    ("bad-value", lambda: _unblanked("messages", 3), SUBJECT),
    ("bad-value", lambda: _unblanked("sensors", 1), SUBJECT),
    ("bad-value", lambda: _unblanked("partners", 2), SUBJECT),
    ("bad-value", lambda: seal(canonical_json(header(kind="alerts", schema="")),
                               b'{"actions": [], "cases": []}', KEY), ALERTS_SUBJECT),
    ("bad-value", lambda: sealed_alerts({"cases": [], "actions": [], "events": []}),
     ALERTS_SUBJECT),
    ("bad-value", lambda: sealed_alerts({"cases": {}, "actions": []}), ALERTS_SUBJECT),
    ("bad-value", lambda: sealed_alerts({"cases": [case_dict(id="")], "actions": []}),
     ALERTS_SUBJECT),
    ("bad-value", lambda: sealed_alerts({"cases": [case_dict(state="lost")], "actions": []}),
     ALERTS_SUBJECT),
    ("bad-value", lambda: sealed_alerts({"cases": [case_dict(rule="squawk_1234")],
                                         "actions": []}), ALERTS_SUBJECT),
    ("bad-value", lambda: sealed_alerts({"cases": [case_dict(squawk=7778)], "actions": []}),
     ALERTS_SUBJECT),
    ("bad-value", lambda: sealed_alerts({"cases": [case_dict(lat=90.5)], "actions": []}),
     ALERTS_SUBJECT),
    ("bad-value", lambda: sealed_alerts({"cases": [case_dict(version=0)], "actions": []}),
     ALERTS_SUBJECT),
    ("bad-value", lambda: sealed_alerts({"cases": [case_dict(verified=1)], "actions": []}),
     ALERTS_SUBJECT),
    ("bad-value", lambda: sealed_alerts({"cases": [case_dict(offered_to="East")],
                                         "actions": []}), ALERTS_SUBJECT),
    ("bad-value", lambda: sealed_alerts({"cases": [case_dict(extra=1)], "actions": []}),
     ALERTS_SUBJECT),
    ("bad-value", lambda: sealed_alerts({"cases": [case_dict(id="a\nb")], "actions": []}),
     ALERTS_SUBJECT),
    ("bad-value", lambda: sealed_alerts({"cases": [case_dict()], "actions": []},
                                        exercise=True), ALERTS_SUBJECT),
    ("bad-value", lambda: sealed_alerts({"cases": [], "actions": [
        {**dataclasses.asdict(a_request()), "role": "admin"}]}), ALERTS_SUBJECT),
    ("bad-value", lambda: sealed_alerts({"cases": [], "actions": [
        {**dataclasses.asdict(a_request()), "time": True}]}), ALERTS_SUBJECT),
    ("bad-value", lambda: seal(canonical_json(header(kind="status", schema="")),
                               canonical_json({"sent_tracks": -1}), KEY),
     "sky.status.west.central"),
]


@pytest.mark.parametrize(("reason", "make", "subject"), CASES)
def test_each_refusal_has_its_reason(reason: str, make: Callable[[], bytes],
                                     subject: str) -> None:
    with pytest.raises(WireError) as info:
        decode(make(), subject=subject, keys=KEYS)
    assert info.value.reason == reason, info.value


def test_every_reason_is_reachable() -> None:
    assert {reason for reason, _, _ in CASES} == set(WIRE_REASONS)


def test_the_crafted_helpers_make_valid_messages() -> None:
    """The refusal cases change one thing each: unchanged, they decode."""
    assert isinstance(decode(sealed_rows(some_tracks()), subject=SUBJECT, keys=KEYS),
                      TrackMessage)
    assert isinstance(decode(_mutate_row(), subject=SUBJECT, keys=KEYS), TrackMessage)
    valid = {"cases": [case_dict()], "actions": [dataclasses.asdict(a_request())]}
    assert isinstance(decode(sealed_alerts(valid), subject=ALERTS_SUBJECT, keys=KEYS),
                      AlertMessage)


# --------------------------------------------------------------------------- fuzz
@given(st.binary(max_size=3000))
def test_random_bytes_only_raise_wire_errors(data: bytes) -> None:
    assert decoded_or_refused(data) is None
    assert decoded_or_refused(MAGIC + data) is None


@given(st.data())
def test_mutated_messages_only_raise_wire_errors(data: st.DataObject) -> None:
    message = bytearray(_valid())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(message) - 1))
        message[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(message)))
    decoded_or_refused(bytes(message[:cut]))


def test_every_truncation_is_refused() -> None:
    message = _valid()
    for cut in range(len(message)):
        assert decoded_or_refused(message[:cut]) is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | finite | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=3),
    max_leaves=10)


@given(st.dictionaries(st.sampled_from(sorted(header())), json_values, max_size=4),
       st.binary(max_size=400))
def test_signed_hostile_headers_only_raise_wire_errors(changes: dict[str, Any],
                                                       payload: bytes) -> None:
    """Signed by a known key, so parsing goes past the signature check."""
    head = header(**changes)
    subject = f"sky.{head['kind']}.west.central" if head["kind"] in (
        "tracks", "alerts", "status") else SUBJECT
    decoded_or_refused(seal(canonical_json(head), payload, KEY), subject)


bodies = (json_values
          | st.fixed_dictionaries({"cases": st.lists(json_values, max_size=2),
                                   "actions": st.lists(json_values, max_size=2)})
          | st.dictionaries(st.sampled_from(["sent_tracks", "received_tracks", "agreements",
                                             "node_time"]), json_values, max_size=4))


@given(st.sampled_from(["alerts", "status"]), bodies)
def test_signed_hostile_bodies_only_raise_wire_errors(kind: str, body: Any) -> None:
    data = seal(canonical_json(header(kind=kind, schema="")), canonical_json(body), KEY)
    decoded_or_refused(data, f"sky.{kind}.west.central")


def _one_field_changed(data: st.DataObject, item: dict[str, Any]) -> dict[str, Any]:
    name = data.draw(st.sampled_from(sorted(item)))
    if data.draw(st.booleans()):
        return {k: v for k, v in item.items() if k != name}  # a field missing
    return {**item, name: data.draw(json_values)}


@given(st.data())
def test_signed_notes_with_a_field_changed_are_refused_or_sane(data: st.DataObject) -> None:
    """A known key's message whose note has one field replaced by any JSON value (or
    dropped) is refused with bad-value, or decodes into a note the encoder accepts."""
    doc = {"cases": [case_dict()], "actions": [dataclasses.asdict(a_request())]}
    which = data.draw(st.sampled_from(["cases", "actions"]))
    doc[which] = [_one_field_changed(data, doc[which][0])]
    msg = decoded_or_refused(sealed_alerts(doc), ALERTS_SUBJECT)
    if msg is not None:
        assert isinstance(msg, AlertMessage)
        again = encode_alerts(msg.envelope, msg.cases, msg.actions, KEY)  # still valid
        assert decode(again, subject=ALERTS_SUBJECT, keys=KEYS) == msg


@given(st.integers(0, 4), st.integers(0, 3), st.data())
def test_signed_random_rows_are_refused_or_sane(rows: int, removed: int,
                                                data: st.DataObject) -> None:
    payload = data.draw(st.binary(min_size=rows * 108 + removed * 4,
                                  max_size=rows * 108 + removed * 4))
    head = header(rows=rows, removed=removed)
    msg = decoded_or_refused(seal(canonical_json(head), payload, KEY))
    if msg is not None:
        assert isinstance(msg, TrackMessage)
        assert track_rows_problem(msg.tracks, exercise=False) == ""
        assert (np.abs(msg.tracks["lat"][~np.isnan(msg.tracks["lat"])]) <= 90).all()


@given(st.lists(st.sampled_from([math.nan, math.inf, -math.inf, 91.0, -90.0, 0.0]),
                min_size=1, max_size=6))
def test_value_checks_see_every_row(lats: list[float]) -> None:
    tracks = some_tracks(len(lats))
    tracks["lat"] = lats
    refused = decoded_or_refused(sealed_rows(tracks)) is None
    assert refused == any(math.isinf(x) or abs(x) > 90 for x in lats)


# --------------------------------------------------------------------------- keys
def test_node_key_is_created_private_and_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "west.key"
    first = NodeKey.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = NodeKey.load_or_create(path)
    assert again.public_b64() == first.public_b64()
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        NodeKey.load_or_create(path)


def test_public_keys_from_a_directory_and_a_file(tmp_path: Path) -> None:
    west, east = NodeKey.generate(), NodeKey.generate()
    west.write_public(tmp_path / "pub", "west")
    east.write_public(tmp_path / "pub", "east")
    (tmp_path / "keys.yaml").write_text(f"west: {west.public_b64()}\n")
    (tmp_path / "keys.json").write_text(f'{{"east": "{east.public_b64()}"}}')
    from_dir = PublicKeys.from_dir(tmp_path / "pub")
    assert sorted(from_dir) == ["east", "west"]
    assert from_dir.verify("west", west.sign(b"m"), b"m")
    assert not from_dir.verify("east", west.sign(b"m"), b"m")
    assert not from_dir.verify("north", west.sign(b"m"), b"m")
    assert PublicKeys.from_file(tmp_path / "keys.yaml").verify("west", west.sign(b"x"), b"x")
    assert PublicKeys.from_file(tmp_path / "keys.json").verify("east", east.sign(b"x"), b"x")
    (tmp_path / "bad.yaml").write_text("west: not-base64!\n")
    with pytest.raises(ConfigError, match="base64"):
        PublicKeys.from_file(tmp_path / "bad.yaml")
    with pytest.raises(ConfigError, match="partner name"):
        PublicKeys.from_b64({"West": west.public_b64()})
