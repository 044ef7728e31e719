"""ASTERIX framing (``skyshare.decode.asterix``): data blocks, records and items of CAT021,
CAT034, CAT048 and CAT062, checked against libasterix (an independent decoder generated from the
asterix-specs) on the real captures in ../shared/data/asterix, and against hostile
bytes.  (This folder is not named ``asterix``: that would hide libasterix's package.)"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from asterix.generated import Cat_021_2_6, Cat_034_1_29, Cat_048_1_32, Cat_062_1_19
from asterix_oracle import oracle_records
from hypothesis import given, settings
from hypothesis import strategies as st

from skyshare.badinput import BadInput
from skyshare.decode.asterix.records import TABLES, Records, split_records
from skyshare.sources.asterix import read_pcap, split_blocks

ORACLE = {21: Cat_021_2_6, 34: Cat_034_1_29, 48: Cat_048_1_32, 62: Cat_062_1_19}


def frame(data: bytes, bad: BadInput | None = None) -> tuple[np.ndarray, Records]:
    bad = bad if bad is not None else BadInput(quiet=True)
    buf = np.frombuffer(data, np.uint8)
    blocks = split_blocks(buf, bad)
    return blocks, split_records(buf, blocks, bad)


def item_name(category: int, frn: int) -> str:
    return TABLES.names[int(TABLES.first[category]) + frn - 1].split("/")[1]


def oracle_items(datagram: bytes) -> list[tuple[int, dict[str, bytes]]]:
    """(category, {item name: item bytes}) of every record, as libasterix reads them."""
    out = []
    for cat, rec in oracle_records(datagram, ORACLE):
        present = {}
        for name in ORACLE[cat].cv_record.cv_items_dict:
            item = rec.get_item(name)
            if item is not None:
                present[name] = item.unparse().to_bytes()
        if present:  # libasterix reads padding zeros as empty records; we skip them
            out.append((cat, present))
    return out


def ours(data: np.ndarray, framed: Records, first: int = 0,
         last: int | None = None) -> list[tuple[int, dict[str, bytes]]]:
    out = []
    recs = framed.records[first:last]
    for i, rec in enumerate(recs, start=first):
        items = framed.items[framed.items["record"] == i]
        out.append((int(rec["category"]), {
            item_name(int(rec["category"]), int(it["frn"])):
                data[it["offset"]:it["offset"] + it["length"]].tobytes() for it in items}))
    return out


def test_every_record_of_the_radar_capture_matches_libasterix(data_dir: Path) -> None:
    bad = BadInput()
    grams = read_pcap(data_dir / "asterix" / "cat034_cat048.pcap", bad)
    assert len(grams) == 100 and not bad.counts
    blocks = split_blocks(grams.data, bad, grams.bounds)
    framed = split_records(grams.data, blocks, bad)
    assert not bad.counts
    assert np.bincount(framed.records["category"], minlength=49)[[34, 48]].tolist() == [34, 128]
    got = 0
    for d in range(len(grams)):
        lo, hi = grams.bounds[d], grams.bounds[d + 1]
        expected = oracle_items(grams.data[lo:hi].tobytes())
        in_gram = np.flatnonzero(blocks["datagram"][framed.records["block"]] == d)
        assert ours(grams.data, framed, int(in_gram[0]), int(in_gram[-1]) + 1) == expected
        got += len(expected)
    assert got == len(framed.records)
    # records tile their blocks exactly
    ends = framed.records["offset"] + framed.records["length"]
    block_ends = blocks["offset"] + blocks["length"]
    last_of_block = np.r_[framed.records["block"][1:] != framed.records["block"][:-1], True]
    assert np.array_equal(ends[last_of_block], block_ends[framed.records["block"][last_of_block]])


@pytest.mark.parametrize(("name", "notable"), [
    ("cat048_ed1.23_record.bin", "130"),  # a compound item
    ("cat021_ed2.1_record.bin", "040"),  # an extended item
    ("cat062_ed1.12_record.bin", "390"),  # compound items with repetitive subfields
    ("cat062_ed1.16_record.bin", "510"),  # an FX-repetitive item
])
def test_the_record_files_match_libasterix(data_dir: Path, name: str, notable: str) -> None:
    raw = (data_dir / "asterix" / name).read_bytes()
    bad = BadInput()
    blocks, framed = frame(raw, bad)
    assert len(blocks) == 1 and len(framed.records) == 1 and not bad.counts
    got = ours(np.frombuffer(raw, np.uint8), framed)
    assert got == oracle_items(raw)
    assert notable in got[0][1]


def block(category: int, body: bytes) -> bytes:
    return struct.pack(">BH", category, 3 + len(body)) + body


GOOD = block(48, bytes([0xF0, 0x01, 0x02, 0x12, 0x34, 0x56, 0x20, 0x00, 0x10, 0x00, 0x20]))


def test_a_good_block_frames_as_one_record() -> None:
    _, framed = frame(GOOD)
    assert len(framed.records) == 1
    assert [item_name(48, int(f)) for f in framed.items["frn"]] == ["010", "140", "020", "040"]


@pytest.mark.parametrize(("bad_block", "kind"), [
    (struct.pack(">BH", 48, 2) + b"\x00", "asterix-bad-length"),
    (struct.pack(">BH", 48, 500) + b"\xf0\x01", "asterix-truncated"),
    (block(48, b"\xff\xff\xff\xff\xff\xff"), "asterix-bad-fspec"),  # FX loop
    (block(48, b"\x01\x00"), "asterix-bad-fspec"),  # FX but no item
    (block(34, b"\x01\x03\x02"), "asterix-bad-fspec"),  # FX past the 14 items of CAT034
    (block(34, b"\x02\x20\x01"), "asterix-unknown-item"),  # I034/050 with a spare subfield
    (block(48, b"\xf0\x01\x02"), "asterix-truncated-record"),  # I048/140 cut short
    (block(48, b"\x01\x20\x05" + bytes(4)), "asterix-truncated-record"),  # I048/250: 5 x 8
    (block(240, b"\x80\x01\x02"), "asterix-unknown-category"),
])
def test_bad_input_is_counted_and_the_next_good_block_kept(bad_block: bytes,
                                                           kind: str) -> None:
    bad = BadInput(quiet=True)
    if kind in ("asterix-bad-length", "asterix-truncated"):
        data = GOOD + bad_block  # the framing cannot go past these: they come last
        n_good = 1
    else:
        data = GOOD + bad_block + GOOD
        n_good = 2
    _, framed = frame(data, bad)
    assert bad.counts[kind] == 1, dict(bad.counts)
    assert bad.total == 1
    assert len(framed.records) == n_good
    assert all(len(framed.items[framed.items["record"] == r]) == 4 for r in range(n_good))


def test_zero_padding_after_the_records_is_skipped_quietly() -> None:
    bad = BadInput(quiet=True)
    _, framed = frame(block(48, GOOD[3:] + bytes(3)) + GOOD, bad)
    assert len(framed.records) == 2 and not bad.counts


def test_a_record_that_cannot_be_framed_takes_only_the_rest_of_its_block() -> None:
    body = GOOD[3:] + b"\xf0\x01"  # a good record, then one cut short in the same block
    _, framed = frame(block(48, body) + GOOD)
    assert len(framed.records) == 2 and len(framed.items) == 8


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.sampled_from([b"", GOOD]))
def test_any_bytes_frame_without_crashing_and_stay_inside(junk: bytes, tail: bytes) -> None:
    data = np.frombuffer(junk + tail, np.uint8)
    bad = BadInput(quiet=True)
    blocks = split_blocks(data, bad)
    framed = split_records(data, blocks, bad)
    assert np.all(blocks["offset"] + blocks["length"] <= len(data))
    rec, items = framed.records, framed.items
    b_end = (blocks["offset"] + blocks["length"])[rec["block"]]
    assert np.all(rec["offset"] >= blocks["offset"][rec["block"]] + 3)
    assert np.all(rec["offset"] + rec["length"] <= b_end)
    assert np.all((items["offset"] >= rec["offset"][items["record"]])
                  & (items["offset"] + items["length"]
                     <= (rec["offset"] + rec["length"])[items["record"]]))
    assert np.all(items["length"] >= 1)


def test_pcap_problems_are_counted_or_refused(tmp_path: Path, data_dir: Path) -> None:
    raw = (data_dir / "asterix" / "cat034_cat048.pcap").read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(raw[:len(raw) // 2])
    bad = BadInput(quiet=True)
    grams = read_pcap(cut, bad)
    assert bad.counts["pcap-truncated"] == 1 and 0 < len(grams) < 100
    ng = tmp_path / "capture.pcapng"
    ng.write_bytes(b"\x0a\x0d\x0d\x0a" + bytes(40))
    with pytest.raises(ValueError, match="pcapng"):
        read_pcap(ng, bad)


def test_the_cat062_capture_frames_where_its_edition_allows(data_dir: Path) -> None:
    """cat062.pcap is of an edition older than 1.16 (libasterix's oldest): 72 of its
    blocks do not frame as 1.16-1.21, for libasterix nor for us.  Those are counted and
    skipped; the datagrams that do frame match libasterix item for item."""
    grams = read_pcap(data_dir / "asterix" / "cat062.pcap", BadInput())
    matched = refused = 0
    for d in range(len(grams)):
        datagram = grams.data[grams.bounds[d]:grams.bounds[d + 1]].tobytes()
        bad = BadInput(quiet=True)
        _, framed = frame(datagram, bad)
        try:
            expected = oracle_items(datagram)
        except AssertionError:  # libasterix cannot frame a block of this datagram
            assert bad.total >= 1
            refused += 1
            continue
        assert not bad.counts
        assert ours(np.frombuffer(datagram, np.uint8), framed) == expected
        matched += len(expected)
    assert matched > 0 and refused > 0
