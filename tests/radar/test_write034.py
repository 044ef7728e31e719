"""CAT034 written from columns: read back by our decoder and by libasterix, value for
value, for random service messages and for the real capture's."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from test_cat034 import SERVICE_FIELDS, oracle

from skyshare.badinput import BadInput
from skyshare.decode.asterix.cat034 import SERVICE_DTYPE, decode_service
from skyshare.decode.asterix.records import split_records
from skyshare.decode.asterix.write034 import encode_service
from skyshare.sources.asterix import read_pcap, split_blocks

FLOATS = ("tod", "sector_deg", "rotation_s", "lat", "lon", "height_m")


def decode(blocks: list[bytes]) -> np.ndarray:
    data = np.frombuffer(b"".join(blocks), np.uint8)
    bad = BadInput()
    rows = decode_service(data, split_records(data, split_blocks(data, bad), bad))
    assert not bad.counts
    return rows


def same(got: np.ndarray, want: np.ndarray) -> None:
    assert len(got) == len(want)
    for name in SERVICE_FIELDS:
        if name in FLOATS:
            np.testing.assert_allclose(got[name], want[name], rtol=0, atol=1e-9, err_msg=name)
        else:
            assert np.array_equal(got[name], want[name]), name


def check_libasterix(blocks: list[bytes], want: np.ndarray) -> None:
    rows = [row for block in blocks for row in oracle(block)]
    assert len(rows) == len(want)
    for got, expected in zip(rows, want, strict=True):
        for name in SERVICE_FIELDS:
            value = expected[name].item()
            if name in FLOATS and math.isnan(value):
                assert name not in got, name
            else:
                assert got[name] == pytest.approx(value, rel=0, abs=1e-9), name


def ints(data: st.DataObject, n: int, lo: int, hi: int) -> np.ndarray:
    return data.draw(hnp.arrays(np.int64, n, elements=st.integers(lo, hi)))


def gaps(data: st.DataObject, n: int) -> np.ndarray:
    """Which rows lack a value (about one in four)."""
    return data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, 3))) == 0


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_random_service_messages_round_trip_at_the_items_resolution(
        data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 150))
    rows = np.zeros(n, SERVICE_DTYPE)
    rows["sac"] = ints(data, n, 0, 255)
    rows["sic"] = ints(data, n, 0, 255)
    rows["message_type"] = ints(data, n, 1, 4)
    rows["tod"] = np.where(gaps(data, n), np.nan, ints(data, n, 0, 86400 * 128 - 1) / 128)
    rows["sector_deg"] = np.where(gaps(data, n), np.nan, ints(data, n, 0, 255) * 360 / 256)
    rows["rotation_s"] = np.where(gaps(data, n), np.nan, ints(data, n, 0, 65535) / 128)
    rows["height_m"] = ints(data, n, -32768, 32767)
    rows["lat"] = ints(data, n, -(1 << 22), 1 << 22) * 180 / (1 << 23)
    rows["lon"] = ints(data, n, -(1 << 23), (1 << 23) - 1) * 180 / (1 << 23)
    for name in ("lat", "lon", "height_m"):  # any one unknown leaves I034/120 out
        rows[name] = np.where(gaps(data, n), np.nan, rows[name])
    max_block = data.draw(st.integers(22, 1400))
    blocks = encode_service(rows, max_block=max_block)
    assert all(len(b) <= max_block for b in blocks)
    partial = ~(np.isfinite(rows["lat"]) & np.isfinite(rows["lon"])
                & np.isfinite(rows["height_m"]))
    want = rows.copy()
    for name in ("lat", "lon", "height_m"):
        want[name] = np.where(partial, np.nan, rows[name])
    same(decode(blocks), want)
    check_libasterix(blocks, want)


def test_the_real_service_messages_come_back_the_same(data_dir: Path) -> None:
    grams = read_pcap(data_dir / "asterix" / "cat034_cat048.pcap", BadInput())
    bad = BadInput()
    real = decode_service(grams.data, split_records(
        grams.data, split_blocks(grams.data, bad, grams.bounds), bad))
    assert len(real) > 10
    blocks = encode_service(real, max_block=100)
    assert len(blocks) > 1
    same(decode(blocks), real)
    check_libasterix(blocks, real)


def test_values_are_rounded_and_clipped_to_what_the_items_hold() -> None:
    rows = np.zeros(2, SERVICE_DTYPE)
    rows["message_type"] = [1, 0]  # no I034/000 in the second record
    rows["tod"] = [10.0 + 0.3 / 128, np.nan]
    rows["sector_deg"] = [359.9, -1.4]  # -1.4 deg is 358.6 deg, nearest 358.59
    rows["rotation_s"] = [600.0, -1.0]
    rows["lat"], rows["lon"], rows["height_m"] = [45.0, -90.0], [180.0, 10.0], [4e4, -4e4]
    got = decode(encode_service(rows))
    assert got["message_type"].tolist() == [1, 0]
    assert got["tod"][0] == 10.0 and math.isnan(got["tod"][1])
    assert got["sector_deg"].tolist() == [0.0, 255 * 360 / 256]
    assert got["rotation_s"].tolist() == [65535 / 128, 0.0]
    assert got["lon"][0] == -180.0 and got["lat"][1] == -90.0
    assert got["height_m"].tolist() == [32767.0, -32768.0]


def test_nothing_to_write_and_a_block_too_small() -> None:
    assert encode_service(np.zeros(0, SERVICE_DTYPE)) == []
    with pytest.raises(ValueError, match="max_block"):
        encode_service(np.zeros(1, SERVICE_DTYPE), max_block=21)
