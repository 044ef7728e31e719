"""The audit log: the hash rule re-implemented here, tampering of every kind, SIGKILL
while appending, concurrent writers, Hypothesis over contents and byte mutations, and
the ``skyshare audit`` commands run as a user runs them."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import random
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from skyshare.store.audit import (
    GENESIS_HASH,
    AuditError,
    AuditLog,
    AuditRecord,
    default_heads_path,
    export,
    verify,
)

PUBLISHED = datetime(2026, 11, 23, 10, 0, tzinfo=UTC).timestamp()
COLUMNS = "seq, time, node, kind, subject, actor, exercise, data, prev_hash, hash"


# ----------------------------------------------------------------------------- helpers
def reference_hash(prev_hash: str, seq: int, time: float, node: str, kind: str, subject: str,
                   actor: str, exercise: int, data: Any) -> str:
    """The rule of the module docstring, written from it without the module's help."""
    canonical = json.dumps([seq, time, node, kind, subject, actor, exercise, data],
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                           allow_nan=False).encode("utf-8")
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical).hexdigest()


@contextlib.contextmanager
def raw(path: Path) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection, as someone tampering with the file would use."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA ignore_check_constraints = ON")
    try:
        yield db
        db.commit()
    finally:
        db.close()


def rows(path: Path) -> list[tuple[Any, ...]]:
    with raw(path) as db:
        return db.execute(f"SELECT {COLUMNS} FROM entries ORDER BY seq").fetchall()


def rehash_from(path: Path, k: int) -> None:
    """Recompute hash and prev_hash of entries k.. so the chain is consistent again."""
    with raw(path) as db:
        prev = db.execute("SELECT hash FROM entries WHERE seq = ?", (k - 1,)).fetchone()
        prev_hash = prev[0] if prev else GENESIS_HASH
        for row in db.execute(f"SELECT {COLUMNS} FROM entries WHERE seq >= ? ORDER BY seq",
                              (k,)).fetchall():
            seq, time, node, kind, subject, actor, exercise, data = row[:8]
            hsh = reference_hash(prev_hash, seq, time, node, kind, subject, actor, exercise,
                                 json.loads(data))
            db.execute("UPDATE entries SET prev_hash = ?, hash = ? WHERE seq = ?",
                       (prev_hash, hsh, seq))
            prev_hash = hsh


def fill(log: AuditLog, n: int, start: int = 1) -> None:
    log.append_many([AuditRecord("alert.raised" if i % 3 else "alert.acknowledged", f"A{i}",
                                 {"level": i % 4, "text": f"alert {i} → Blagnac",
                                  "pos": [43.6 + i / 1000, 1.37]},
                                 actor="system" if i % 2 else "opérateur",
                                 exercise=i % 5 == 0, time=1.79e9 + i * 0.25)
                     for i in range(start, start + n)])


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    """A closed log of 30 entries with a head published at 20."""
    path = tmp_path / "var" / "audit.sqlite"
    with AuditLog(path, "toulouse") as log:
        fill(log, 20)
        log.publish_head(now=PUBLISHED)
        fill(log, 10, start=21)
    return path


# ----------------------------------------------------------------------------- append
def test_entries_are_chained_by_the_documented_rule(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite"
    with AuditLog(path, "toulouse-été") as log:
        first = log.append("alert.raised", "A1", {"b": [1, 2.5, None], "a": {"z": "ñ"}},
                           time=1790000000.123456789)
        more = log.append_many([("config.changed", "tracker.coast_after_s", {"old": 15,
                                 "new": 20}, "alice", False, None),
                                ("alert.raised", "X7", {}, "system", True, 1e16)])
        assert log.head() == (3, more[-1].hash)
        assert list(log.entries()) == [first, *more]
        assert [e.seq for e in log.entries(since_seq=2, kind="alert.raised")] == [3]
    stored = rows(path)
    assert [r[0] for r in stored] == [1, 2, 3]
    prev = "00" * 32
    for seq, time, node, kind, subject, actor, exercise, data, prev_hash, hsh in stored:
        assert prev_hash == prev
        assert hsh == reference_hash(prev, seq, time, node, kind, subject, actor, exercise,
                                     json.loads(data))
        assert data == json.dumps(json.loads(data), sort_keys=True, separators=(",", ":"),
                                  ensure_ascii=False)
        prev = hsh
    assert stored[0][1] == 1790000000.123456789 and stored[2][1] == 1e16
    assert [r[6] for r in stored] == [0, 0, 1] and more[1].exercise is True
    assert first.data == {"a": {"z": "ñ"}, "b": [1, 2.5, None]} and first.node == "toulouse-été"
    report = verify(path)
    assert report.ok and report.entries == 3 and report.last_hash == more[-1].hash


def test_the_log_is_durable_and_versioned(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite"
    with AuditLog(path, "n") as log:
        assert log._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    with raw(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1


def test_times_are_stored_exactly_and_negative_zero_is_normalised(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite"
    times = [1790000000.1, 5e-324, 1e16, 2.0**63, -0.0, 17, 1.7976931348623157e308]
    with AuditLog(path, "n") as log:
        for t in times:
            log.append("k", "s", {}, time=t)
        stored = [e.time for e in log.entries()]
    assert stored == [float(t) for t in times]
    assert [repr(t) for t in stored][4] == "0.0"
    assert verify(path).ok


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"data": {"x": float("nan")}}, "canonical JSON"),
    ({"data": {"x": {1, 2}}}, "canonical JSON"),
    ({"data": {1: "a", "1": "b"}}, "canonical JSON"),
    ({"data": {"x": "\ud800"}}, "canonical JSON"),
    ({"time": float("inf")}, "finite"),
    ({"exercise": "yes"}, "exercise"),
    ({"subject": 12}, "subject must be text"),
])
def test_bad_entries_are_refused_and_nothing_is_written(tmp_path: Path, kwargs: dict[str, Any],
                                                        message: str) -> None:
    args: dict[str, Any] = {"kind": "alert.raised", "subject": "A1", "data": {}} | kwargs
    with AuditLog(tmp_path / "audit.sqlite", "n") as log:
        log.append("ok", "first", {})
        with pytest.raises(AuditError, match=message):
            log.append_many([("ok", "second", {}, "system", False, None),
                             (args["kind"], args["subject"], args["data"], "system",
                              args.get("exercise", False), args.get("time"))])
        assert log.head()[0] == 1
        assert log.append("ok", "third", {}).seq == 2


def test_a_second_writer_on_the_same_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite"
    with AuditLog(path, "n") as a, AuditLog(path, "n") as b:
        a.append("k", "s", {})
        with pytest.raises(AuditError, match="another writer"):
            b.append("k", "s", {})
    assert verify(path).ok


def test_two_threads_appending_make_one_gap_free_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite"
    start = threading.Barrier(2)
    with AuditLog(path, "n") as log:
        def worker(name: str) -> None:
            start.wait()
            for i in range(150):
                if i % 10 == 0:
                    log.append_many([("alert.raised", name, {"i": i, "j": j}, "system",
                                      False, None) for j in range(20)])
                else:
                    log.append("alert.raised", name, {"i": i, "j": 0})

        threads = [threading.Thread(target=worker, args=(n,)) for n in ("worker", "loop")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        entries = list(log.entries())
    assert [e.seq for e in entries] == list(range(1, 2 * (135 + 15 * 20) + 1))
    for name in ("worker", "loop"):
        mine = [(e.data["i"], e.data["j"]) for e in entries if e.subject == name]
        assert mine == sorted(mine) and len(mine) == 135 + 15 * 20
    report = verify(path)
    assert report.ok and report.entries == len(entries)


# ----------------------------------------------------------------------------- tampering
def test_an_intact_log_verifies_against_its_head(log_path: Path) -> None:
    report = verify(log_path)
    assert report.ok, report.reason
    assert (report.entries, report.heads_checked, report.head and report.head.seq) == (30, 1, 20)
    assert report.describe() == (f"audit log {log_path}: 30 entries, chain intact, matches "
                                 "head seq 20 published 2026-11-23T10:00:00Z")


def set_field(path: Path, seq: int, column: str, value: object) -> None:
    with raw(path) as db:
        db.execute(f"UPDATE entries SET {column} = ? WHERE seq = ?", (value, seq))


@pytest.mark.parametrize(("column", "value"), [
    ("data", '{"level":3,"pos":[43.617,1.37],"text":"alert 17 → Blagnac"}'),
    ("time", 1.79e9 + 17 * 0.25 + 1e-6),
    ("kind", "alert.cleared"),
    ("actor", "mallory"),
    ("exercise", 1),
    ("node", "bordeaux"),
])
def test_a_changed_field_names_its_entry(log_path: Path, column: str, value: object) -> None:
    set_field(log_path, 17, column, value)
    report = verify(log_path)
    assert not report.ok and report.first_bad_seq == 17 and report.entries == 16
    assert report.reason.startswith("entry 17 altered: hash mismatch")


def test_same_data_in_another_spelling_is_an_alteration(log_path: Path) -> None:
    (data,) = (r[7] for r in rows(log_path) if r[0] == 5)
    set_field(log_path, 5, "data", data.replace(",", ", "))  # same JSON value
    report = verify(log_path)
    assert report.first_bad_seq == 5 and "canonical" in report.reason


def test_invalid_utf8_in_a_text_column_names_its_entry(log_path: Path) -> None:
    with raw(log_path) as db:
        db.execute("UPDATE entries SET subject = CAST(? AS TEXT) WHERE seq = 9", (b"A\xff9",))
    report = verify(log_path)
    assert (report.ok, report.first_bad_seq) == (False, 9)
    assert report.reason == "entry 9 altered: text is not valid Unicode"


def test_a_deleted_row_is_named(log_path: Path) -> None:
    with raw(log_path) as db:
        db.execute("DELETE FROM entries WHERE seq = 12")
    report = verify(log_path)
    assert (report.ok, report.first_bad_seq) == (False, 12)
    assert report.reason == "entry 12 missing: seq jumps from 11 to 13 (row deleted?)"


def test_swapped_data_names_the_first_of_the_two(log_path: Path) -> None:
    stored = {r[0]: r[7] for r in rows(log_path)}
    set_field(log_path, 8, "data", stored[25])
    set_field(log_path, 25, "data", stored[8])
    report = verify(log_path)
    assert (report.ok, report.first_bad_seq) == (False, 8)
    assert "hash mismatch" in report.reason


def test_one_entry_rewritten_and_rehashed_is_named(log_path: Path) -> None:
    set_field(log_path, 26, "subject", "A999")
    with raw(log_path) as db:
        row = db.execute(f"SELECT {COLUMNS} FROM entries WHERE seq = 26").fetchone()
        db.execute("UPDATE entries SET hash = ? WHERE seq = 26",
                   (reference_hash(row[8], *row[:7], json.loads(row[7])),))
    report = verify(log_path)
    assert (report.ok, report.first_bad_seq) == (False, 26)
    assert "rewritten and re-hashed (entry 27 still links to its former hash)" in report.reason


def test_a_consistent_rewrite_is_caught_by_the_published_head(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite"
    with AuditLog(path, "n") as log:
        fill(log, 50)
        log.publish_head(now=PUBLISHED)
        fill(log, 100, start=51)
        log.publish_head(now=PUBLISHED + 3600)
        fill(log, 10, start=151)
    set_field(path, 100, "data", '{"level":0}')
    rehash_from(path, 100)
    with raw(path) as db:
        assert db.execute("SELECT count(*) FROM entries").fetchone()[0] == 160
    with pytest.raises(AuditError, match="no such heads file"):
        verify(path, heads_path=tmp_path / "elsewhere.jsonl")
    default_heads_path(path).rename(tmp_path / "heads-copy.jsonl")
    assert verify(path).ok  # without heads, a consistent rewrite cannot be seen
    report = verify(path, heads_path=tmp_path / "heads-copy.jsonl")
    assert (report.ok, report.first_bad_seq, report.heads_checked) == (False, 150, 1)
    assert report.reason == ("entry 150 altered: its hash differs from head seq 150 published "
                             "2026-11-23T11:00:00Z; the log was rewritten and re-hashed in "
                             "entries 51..150")
    assert report.head is not None and report.head.seq == 50


def test_a_deleted_tail_is_caught_by_the_published_head(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite"
    with AuditLog(path, "n") as log:
        fill(log, 150)
        log.publish_head(now=PUBLISHED)
    with raw(path) as db:
        db.execute("DELETE FROM entries WHERE seq > 120")
    report = verify(path)
    assert (report.ok, report.first_bad_seq, report.entries) == (False, 121, 120)
    assert report.reason == ("log ends at seq 120 but head seq 150 was published "
                             "2026-11-23T10:00:00Z (entries 121..150 deleted?)")
    with pytest.raises(AuditError, match="refusing to append: log ends at seq 120"):
        AuditLog(path, "n")


def test_opening_refuses_a_log_whose_tail_does_not_verify(log_path: Path) -> None:
    set_field(log_path, 30, "data", "{}")
    with pytest.raises(AuditError, match=r"refusing to append: entry 30 altered.*audit verify"):
        AuditLog(log_path, "toulouse")
    set_field(log_path, 30, "data", rows(log_path)[0][7])  # still not its own data
    with raw(log_path) as db:
        db.execute("DELETE FROM entries WHERE seq = 29")
    with pytest.raises(AuditError, match="entry 29 missing"):
        AuditLog(log_path, "toulouse")


def test_opening_checks_the_last_published_head(log_path: Path) -> None:
    set_field(log_path, 20, "subject", "A0")
    rehash_from(log_path, 20)
    with pytest.raises(AuditError, match="entry 20 differs from the head published"):
        AuditLog(log_path, "toulouse")


def test_tampering_in_the_middle_is_left_to_verify(log_path: Path) -> None:
    set_field(log_path, 3, "data", "{}")
    with AuditLog(log_path, "toulouse") as log:  # the open check reads the tail only
        assert log.append("k", "s", {}).seq == 31
    assert verify(log_path).first_bad_seq == 3


# ----------------------------------------------------------------------------- heads
def test_heads_are_fsynced_lines_and_a_torn_line_is_dropped(log_path: Path) -> None:
    heads = default_heads_path(log_path)
    lines = heads.read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"node": "toulouse", "seq": 20, "hash": rows(log_path)[19][9], "time": PUBLISHED}]
    with heads.open("a") as f:
        f.write('{"node": "toulouse", "seq": 30, "ha')  # a crash while publishing
    assert verify(log_path).ok
    with AuditLog(log_path, "toulouse") as log:
        head = log.publish_head(now=PUBLISHED + 60)
    assert [json.loads(line)["seq"] for line in heads.read_text().splitlines()] == [20, 30]
    report = verify(log_path)
    assert report.ok and report.head == head and report.heads_checked == 2


def test_a_heads_file_out_of_order_is_an_error(log_path: Path) -> None:
    heads = default_heads_path(log_path)
    line = heads.read_text()
    heads.write_text(line.replace('"seq": 20', '"seq": 25') + line)
    with pytest.raises(AuditError, match="heads go back from seq 25 to 20"):
        verify(log_path)
    heads.write_text("not json\n")
    with pytest.raises(AuditError, match="line 1 is not a published head"):
        verify(log_path)


# ----------------------------------------------------------------------------- export
@pytest.mark.parametrize("ext", ["jsonl", "csv"])
def test_exports_carry_hashes_and_verify_on_their_own(log_path: Path, tmp_path: Path,
                                                       ext: str) -> None:
    out = tmp_path / f"all.{ext}"
    assert export(log_path, out) == 30
    if ext == "jsonl":
        exported = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    else:
        with out.open(newline="", encoding="utf-8") as f:
            exported = list(csv.DictReader(f))
        for row in exported:
            row["data"] = json.loads(row["data"])
    stored = rows(log_path)
    for row, original in zip(exported, stored, strict=True):
        assert row["hash"] == original[9] == reference_hash(
            row["prev_hash"], int(row["seq"]), float(row["time"]), row["node"], row["kind"],
            row["subject"], row["actor"], int(row["exercise"]), row["data"])
    report = verify(out, heads_path=default_heads_path(log_path))
    assert report.ok and report.entries == 30 and report.heads_checked == 1

    part = tmp_path / f"part.{ext}"
    assert export(log_path, part, since_seq=11, until_seq=25) == 15
    report = verify(part, heads_path=default_heads_path(log_path))
    assert report.ok and (report.first_seq, report.last_seq, report.heads_checked) == (11, 25, 1)
    assert "15 entries (seq 11..25), chain intact" in report.describe()

    text = out.read_text(encoding="utf-8")
    out.write_text(text.replace("alert 7 → Blagnac", "alert 7 -> Blagnac"), encoding="utf-8")
    report = verify(out)
    assert (report.ok, report.first_bad_seq) == (False, 7)


def test_export_by_kind(log_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "acks.jsonl"
    assert export(log_path, out, kind="alert.acknowledged") == 10
    seqs = [json.loads(line)["seq"] for line in out.read_text().splitlines()]
    assert seqs == list(range(3, 31, 3))
    with pytest.raises(AuditError, match=r"\.jsonl or \.csv"):
        export(log_path, tmp_path / "x.parquet")


# ----------------------------------------------------------------------------- crash
CHILD = r"""
import os, random, sys
from skyshare.store.audit import AuditLog

def say(*words):  # one write(2) per line: a kill cannot leave half a line
    os.write(1, (" ".join(map(str, words)) + "\n").encode())

rng = random.Random(int(sys.argv[2]))
log = AuditLog(sys.argv[1], "crashy")
say("open", log.head()[0])
while True:
    n = rng.choice([1, 1, 1, 1, 3, 40])
    start = log.head()[0] + 1
    say("try", start, start + n - 1)
    done = log.append_many([("alert.raised", f"A{s}", {"seq": s, "pad": "x" * (s % 89)},
                             "system", s % 7 == 0, 1.79e9 + s / 8)
                            for s in range(start, start + n)])
    say("ack", done[0].seq, done[-1].seq)
    if rng.random() < 0.05:
        say("head", log.publish_head().seq)
"""


def test_sigkill_while_appending_loses_nothing_acknowledged(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite"
    rng = random.Random(20261123)
    acked: set[int] = set()
    ends = {0}  # the last seq of every batch: a log always ends on one
    last_seq = 0
    for round_ in range(5):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(round_)],
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None
        opened = child.stdout.readline().split()
        assert opened[0] == "open", opened
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=rng.uniform(0.05, 0.8))
        child.send_signal(signal.SIGKILL)
        out = child.stdout.read()
        assert child.wait() == -signal.SIGKILL
        child.stdout.close()
        for line in out.split("\n")[:-1]:  # complete lines only
            word, *numbers = line.split()
            if word == "try":
                ends.add(int(numbers[1]))
            elif word == "ack":
                acked.update(range(int(numbers[0]), int(numbers[1]) + 1))
        report = verify(path)
        assert report.ok, report.reason
        stored = rows(path)
        assert len(stored) == report.entries == report.last_seq and report.last_seq in ends
        assert acked <= {r[0] for r in stored}, f"round {round_}: acknowledged seq lost"
        assert all(json.loads(r[7])["seq"] == r[0] for r in stored)
        assert int(opened[1]) == last_seq  # appending resumed after the last entry
        last_seq = report.last_seq
    with AuditLog(path, "crashy") as log:
        n = log.head()[0]
        assert n > 20 and log.append("k", "s", {}).seq == n + 1
    assert verify(path).ok


# ----------------------------------------------------------------------------- hypothesis
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12)
RECORD = st.tuples(st.text(), st.text(), st.dictionaries(st.text(), JSON, max_size=4),
                   st.text(), st.booleans(),
                   st.none() | st.floats(allow_nan=False, allow_infinity=False))
SETTINGS = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(node=st.text(min_size=1), batches=st.lists(st.lists(RECORD, min_size=1, max_size=6),
                                                   min_size=1, max_size=4))
def test_any_appended_contents_verify(node: str, batches: list[list[Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "audit.sqlite"
        with AuditLog(path, node) as log:
            for batch in batches:
                log.append_many(batch)
            entries = list(log.entries())
        records = [r for batch in batches for r in batch]
        assert len(entries) == len(records)
        for entry, (kind, subject, data, actor, exercise, _) in zip(entries, records,
                                                                    strict=True):
            assert (entry.kind, entry.subject, entry.actor, entry.exercise) == (
                kind, subject, actor, exercise)
            assert json.dumps(entry.data, sort_keys=True) == json.dumps(data, sort_keys=True)
        prev = GENESIS_HASH
        for row in rows(path):
            assert row[8] == prev
            prev = reference_hash(prev, *row[:7], json.loads(row[7]))
            assert row[9] == prev
        report = verify(path)
        assert report.ok and report.entries == len(records), report.reason


FIELDS = ["seq", "time", "node", "kind", "subject", "actor", "exercise", "data", "prev_hash",
          "hash"]


def mutate(value: object, index: int, byte: int) -> object:
    """``value`` with one byte of its stored form replaced (or added, if it has none)."""
    if isinstance(value, float):
        raw_bytes = bytearray(struct.pack("<d", value))
    elif isinstance(value, int):
        raw_bytes = bytearray(struct.pack("<q", value))
    else:
        assert isinstance(value, str)
        raw_bytes = bytearray(value.encode("utf-8"))
    if not raw_bytes:
        return bytes([byte])
    i = index % len(raw_bytes)
    raw_bytes[i] = byte if byte != raw_bytes[i] else (byte + 1) % 256
    if isinstance(value, float):
        return struct.unpack("<d", raw_bytes)[0]
    if isinstance(value, int):
        return struct.unpack("<q", raw_bytes)[0]
    try:
        return raw_bytes.decode("utf-8")
    except UnicodeDecodeError:
        return bytes(raw_bytes)  # not UTF-8: stored as a BLOB or cast to TEXT below


@SETTINGS
@given(records=st.lists(RECORD, min_size=1, max_size=8), data=st.data())
def test_any_single_byte_mutation_is_detected(records: list[Any], data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "audit.sqlite"
        with AuditLog(path, "n") as log:
            log.append_many(records)
        seq = data.draw(st.integers(1, len(records)), label="seq")
        column = data.draw(st.sampled_from(FIELDS), label="column")
        before = next(r for r in rows(path) if r[0] == seq)[FIELDS.index(column)]
        changed = mutate(before, data.draw(st.integers(0, 10**6)), data.draw(st.integers(0, 255)))
        as_text = data.draw(st.booleans(), label="invalid UTF-8 cast to TEXT")
        try:
            with raw(path) as db:
                value = "CAST(? AS TEXT)" if as_text and isinstance(changed, bytes) else "?"
                db.execute(f"UPDATE entries SET {column} = {value} WHERE seq = ?",
                           (changed, seq))
        except sqlite3.IntegrityError:
            assume(False)  # NaN time (stored as NULL) or a seq already taken
        with raw(path) as db:
            db.text_factory = bytes
            after = db.execute(f"SELECT {column} FROM entries WHERE seq = ?",
                               (changed if column == "seq" else seq,)).fetchone()
        if isinstance(before, str) and after is not None and isinstance(after[0], bytes):
            after = (after[0].decode("utf-8", "surrogateescape"),)
        assume(after is not None and repr(after[0]) != repr(before))  # SQLite kept the change
        report = verify(path)
        assert not report.ok
        if column != "seq":
            assert report.first_bad_seq == seq, report.reason


# ----------------------------------------------------------------------------- CLI
def skyshare(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "skyshare.cli", *args], capture_output=True,
                          text=True, timeout=120, check=False)


def test_cli_verify_intact_and_tampered(log_path: Path) -> None:
    proc = skyshare("audit", "verify", "--data-dir", str(log_path.parent))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == (f"audit log {log_path}: 30 entries, chain intact, matches "
                                   "head seq 20 published 2026-11-23T10:00:00Z")
    set_field(log_path, 17, "data", "{}")
    proc = skyshare("audit", "verify", "--log", str(log_path))
    assert proc.returncode == 1
    assert proc.stdout.startswith(f"audit log {log_path}: entry 17 altered: hash mismatch")


def test_cli_export_and_reverify(log_path: Path, tmp_path: Path) -> None:
    for ext in ("jsonl", "csv"):
        out = tmp_path / f"audit.{ext}"
        proc = skyshare("audit", "export", "--log", str(log_path), "-o", str(out),
                        "--since-seq", "5")
        assert proc.returncode == 0, proc.stderr
        assert "26 audit entries" in proc.stderr
        proc = skyshare("audit", "verify", "--log", str(out), "--heads",
                        str(default_heads_path(log_path)))
        assert proc.returncode == 0, proc.stderr
        assert "26 entries (seq 5..30), chain intact, matches head seq 20" in proc.stdout
    proc = skyshare("audit", "export", "--data-dir", str(log_path.parent), "-o",
                    str(tmp_path / "raised.jsonl"), "--kind", "alert.raised")
    assert proc.returncode == 0 and "20 audit entries" in proc.stderr


def test_cli_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    proc = skyshare("audit", "verify", "--data-dir", str(tmp_path / "nowhere"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == (f"skyshare: error: {tmp_path / 'nowhere' / 'audit.sqlite'}: "
                                   "no such file")
    proc = skyshare("audit", "export", "--log", str(tmp_path / "x.sqlite"), "-o", "out.jsonl")
    assert proc.returncode == 2 and "no such file" in proc.stderr
    from skyshare.cli import main

    with pytest.raises(SystemExit):
        main(["audit", "verify", "--help"])
    text = capsys.readouterr().out
    assert "examples:" in text and "--heads" in text and "skyshare audit export" in text


# ----------------------------------------------------------------------------- partners
def west_and_central(tmp_path: Path) -> tuple[Path, Path]:
    """West's log (40 entries) whose heads at 10 and 30 central's log recorded, in the
    documented form, among entries of its own and heads of another partner's node; west's
    own heads file is gone (its operator can delete or rewrite it)."""
    west, central = tmp_path / "west" / "audit.sqlite", tmp_path / "central" / "audit.sqlite"
    with AuditLog(west, "west-node") as w, AuditLog(central, "central-node") as c:
        fill(w, 10)
        first = w.publish_head(now=PUBLISHED)
        fill(w, 20, start=11)
        second = w.publish_head(now=PUBLISHED + 60)
        fill(w, 10, start=31)
        fill(c, 5)
        for head in (first, second):
            c.append("audit.partner_head", "west", {"partner": "west", "node": "west-node",
                                                    "seq": head.seq, "hash": head.hash,
                                                    "time": head.time})
            c.append("audit.partner_head", "east", {"partner": "east", "node": "east-node",
                                                    "seq": head.seq, "hash": "e" * 64,
                                                    "time": head.time})
    default_heads_path(west).unlink()
    return west, central


def test_heads_recorded_by_partners_reveal_a_rewrite_and_a_cut(tmp_path: Path) -> None:
    from skyshare.store.audit.verification import log_nodes, partner_heads

    west, central = west_and_central(tmp_path)
    assert log_nodes(west) == ("west-node",)
    recorded = partner_heads([central], ["west-node"])
    assert [(r.partner, r.head.seq) for r in recorded] == [("west", 10), ("west", 30)]
    report = verify(west, partner_heads=recorded)
    assert report.ok, report.reason
    assert (report.heads_checked, report.partner_heads_checked) == (2, 2)
    assert report.describe().endswith("2 of 2 heads recorded by partners compared, all match")
    assert verify(west).ok  # without them, the rewrite below would go unnoticed

    set_field(west, 20, "data", '{"level":0}')
    rehash_from(west, 20)
    assert verify(west).ok
    report = verify(west, partner_heads=recorded)
    assert (report.ok, report.first_bad_seq) == (False, 30)
    assert report.reason == (
        "entry 30 altered: its hash differs from head seq 30 published 2026-11-23T10:01:00Z "
        f"(as recorded by central-node ({central})); the log was rewritten and re-hashed in "
        "entries 11..30")

    with raw(west) as db:
        db.execute("DELETE FROM entries WHERE seq > 15")  # the rewrite gone with the tail
    assert verify(west).ok
    report = verify(west, partner_heads=recorded)
    assert (report.ok, report.first_bad_seq) == (False, 16)
    assert "log ends at seq 15 but head seq 30 was published" in report.reason
    assert "as recorded by central-node" in report.reason


def test_partner_heads_are_chosen_by_node_and_partner(tmp_path: Path) -> None:
    from skyshare.store.audit.verification import partner_heads

    _, central = west_and_central(tmp_path)
    with AuditLog(central, "central-node") as c:  # another partner's node of the same name
        c.append("audit.partner_head", "north", {"partner": "north", "node": "west-node",
                                                 "seq": 3, "hash": "0" * 64, "time": 1.0})
    with pytest.raises(AuditError, match=r"recorded for partners north, west .*--partner"):
        partner_heads([central], ["west-node"])
    assert [r.head.seq for r in partner_heads([central], ["west-node"], partner="west")] == [
        10, 30]
    out = tmp_path / "heads-from-central.jsonl"  # what central's operator hands over
    assert export(central, out, kind="audit.partner_head") == 5
    assert [r.head.seq for r in partner_heads([out], ["west-node"], partner="west")] == [10, 30]
    assert partner_heads([central], ["nobody"]) == []


def test_cli_verify_against_partner_heads(tmp_path: Path) -> None:
    west, central = west_and_central(tmp_path)
    proc = skyshare("audit", "verify", "--log", str(west), "--partner-heads", str(central))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == (
        f"audit log {west}: 40 entries, chain intact, matches head seq 30 published "
        "2026-11-23T10:01:00Z; 2 of 2 heads recorded by partners compared, all match")
    with raw(west) as db:
        db.execute("DELETE FROM entries WHERE seq > 12")
    proc = skyshare("audit", "verify", "--log", str(west), "--partner-heads", str(central),
                    "--partner", "west")
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith(f"audit log {west}: log ends at seq 12 but head seq 30 "
                                  "was published 2026-11-23T10:01:00Z (as recorded by "
                                  "central-node")
    with raw(west) as db:
        db.execute("DELETE FROM entries")
    proc = skyshare("audit", "verify", "--log", str(west), "--partner-heads", str(central))
    assert proc.returncode == 2 and "name its node with --node" in proc.stderr
    proc = skyshare("audit", "verify", "--log", str(west), "--partner-heads", str(central),
                    "--node", "west-node")
    assert proc.returncode == 1 and "log ends at seq 0 but head seq 30" in proc.stdout
