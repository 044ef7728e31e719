"""CAT048 plots as columns, every value checked against libasterix's decoding of the
same records (the real radar capture and record file in ../shared/data/asterix)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from asterix_oracle import check_plot, oracle_plots
from hypothesis import given, settings
from hypothesis import strategies as st

from skyshare.badinput import BadInput
from skyshare.decode.asterix.cat048 import decode_plots
from skyshare.decode.asterix.records import split_records
from skyshare.model import NO_ADDRESS, NO_SQUAWK
from skyshare.sources.asterix import read_pcap, split_blocks


def plots_of(data: np.ndarray, bounds: np.ndarray | None = None) -> np.ndarray:
    bad = BadInput(quiet=True)
    blocks = split_blocks(data, bad, bounds)
    return decode_plots(data, split_records(data, blocks, bad))


def test_every_plot_of_the_radar_capture_matches_libasterix(data_dir: Path) -> None:
    grams = read_pcap(data_dir / "asterix" / "cat034_cat048.pcap", BadInput())
    plots = plots_of(grams.data, grams.bounds)
    expected = [row for d in range(len(grams))
                for row in oracle_plots(grams.data[grams.bounds[d]:grams.bounds[d + 1]].tobytes())]
    assert len(plots) == len(expected) == 128
    for plot, want in zip(plots, expected, strict=True):
        check_plot(plot, want)
    assert (plots["icao24"] != NO_ADDRESS).any() and (plots["squawk"] != NO_SQUAWK).any()


def test_the_cat048_record_file_matches_libasterix(data_dir: Path) -> None:
    raw = (data_dir / "asterix" / "cat048_ed1.23_record.bin").read_bytes()
    (plot,) = plots_of(np.frombuffer(raw, np.uint8))
    (want,) = oracle_plots(raw)
    check_plot(plot, want)
    assert plot["callsign"] == b"RYR5XW" and plot["squawk"] == 470  # Mode 3/A 0470


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_decode_without_crashing(junk: bytes) -> None:
    body = b"\xff\xff\xff\x00" + junk  # FSPEC: the first 21 items, then whatever follows
    data = np.frombuffer(bytes([48, (3 + len(body)) >> 8, (3 + len(body)) & 0xFF]) + body,
                         np.uint8)
    plots = plots_of(data)
    assert len(plots) <= 1
    if len(plots):
        assert 0 <= plots["azimuth_deg"][0] < 360 and plots["range_m"][0] >= 0
