"""CAT048 written from columns: read back by our decoder and by libasterix, value for
value, for the real capture's plots and for random ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from asterix_oracle import check_plot, oracle_plots
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from skyshare.badinput import BadInput
from skyshare.decode.asterix.cat048 import PLOT_DTYPE, PlotFlag, decode_plots
from skyshare.decode.asterix.records import split_records
from skyshare.decode.asterix.write048 import encode_plots
from skyshare.model import NO_ADDRESS, NO_SQUAWK
from skyshare.sources.asterix import read_pcap, split_blocks


def decode(blocks: list[bytes]) -> np.ndarray:
    data = np.frombuffer(b"".join(blocks), np.uint8)
    bad = BadInput()
    plots = decode_plots(data, split_records(data, split_blocks(data, bad), bad))
    assert not bad.counts
    return plots


def same(a: np.ndarray, b: np.ndarray) -> None:
    for name in PLOT_DTYPE.names or ():
        if name == "record":
            continue
        if a[name].dtype.kind == "f":
            np.testing.assert_allclose(a[name], b[name], atol=1e-6, err_msg=name)
        else:
            assert np.array_equal(a[name], b[name]), name


def real_plots(data_dir: Path) -> np.ndarray:
    grams = read_pcap(data_dir / "asterix" / "cat034_cat048.pcap", BadInput())
    bad = BadInput()
    plots = decode_plots(grams.data, split_records(
        grams.data, split_blocks(grams.data, bad, grams.bounds), bad))
    return plots[np.isfinite(plots["range_m"])]  # two records carry no position


def test_the_real_plots_come_back_the_same(data_dir: Path) -> None:
    plots = real_plots(data_dir)
    blocks, dropped = encode_plots(plots)
    assert dropped == 0 and len(blocks) > 1 and all(len(b) <= 1400 for b in blocks)
    same(plots, decode(blocks))


def test_libasterix_reads_what_we_write(data_dir: Path) -> None:
    plots = real_plots(data_dir)
    blocks, _ = encode_plots(plots, max_block=300)
    expected = [row for block in blocks for row in oracle_plots(block)]
    assert len(expected) == len(plots)
    for plot, want in zip(plots, expected, strict=True):
        check_plot(plot, want)


def octal(n: int) -> int:
    return int(oct(n)[2:])


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_random_plots_round_trip_at_the_items_resolution(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 60))
    p = np.zeros(n, PLOT_DTYPE)
    p["sac"] = data.draw(hnp.arrays(np.uint8, n))
    p["sic"] = data.draw(hnp.arrays(np.uint8, n))
    p["tod"] = data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, 86400 * 128 - 1))) / 128
    p["typ"] = data.draw(hnp.arrays(np.uint8, n, elements=st.integers(0, 7)))
    p["range_m"] = data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, 65535))) / 256 * 1852
    p["azimuth_deg"] = data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, 65535))) \
        * (360 / 65536)
    squawks = data.draw(hnp.arrays(np.int64, n, elements=st.integers(-1, 4095)))
    p["squawk"] = [NO_SQUAWK if s < 0 else octal(s) for s in squawks]
    p["fl"] = data.draw(hnp.arrays(np.int64, n, elements=st.integers(-8192, 8191))) / 4
    p["icao24"] = data.draw(hnp.arrays(np.uint32, n, elements=st.sampled_from(
        [int(NO_ADDRESS), 0, 0x4CA123, 0xFFFFFE])))
    p["callsign"] = data.draw(hnp.arrays("S8", n, elements=st.sampled_from(
        [b"", b"RYR5XW", b"A1", b"ABCDEFGH"])))
    p["track_number"] = data.draw(hnp.arrays(np.int32, n, elements=st.integers(-1, 4095)))
    p["groundspeed_kt"] = data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, 65535))) \
        / 16384 * 3600
    p["heading_deg"] = data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, 65535))) \
        * (360 / 65536)
    p["flags"] = data.draw(hnp.arrays(np.uint16, n, elements=st.integers(0, 0x3FF)))
    mode3a_bits = PlotFlag.MODE3A_INVALID | PlotFlag.MODE3A_GARBLED | PlotFlag.MODE3A_SMOOTHED
    no_item = p["squawk"] == NO_SQUAWK  # the Mode 3/A bits belong to an item not written
    p["flags"] = np.where(no_item, p["flags"] & (0xFFFF ^ mode3a_bits), p["flags"])
    blocks, dropped = encode_plots(p, max_block=data.draw(st.integers(64, 1400)))
    assert dropped == 0
    same(p, decode(blocks))


def test_plots_without_a_writable_range_are_dropped_and_counted() -> None:
    p = np.zeros(3, PLOT_DTYPE)
    p["range_m"], p["azimuth_deg"] = [1000.0, np.nan, 600 * 1852.0], 10.0
    p["tod"], p["fl"], p["groundspeed_kt"], p["heading_deg"] = np.nan, np.nan, np.nan, np.nan
    p["squawk"], p["icao24"], p["track_number"] = NO_SQUAWK, NO_ADDRESS, -1
    blocks, dropped = encode_plots(p)
    assert dropped == 2 and len(decode(blocks)) == 1
    with pytest.raises(ValueError, match="max_block"):
        encode_plots(p, max_block=10)
