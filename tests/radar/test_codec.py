"""The ASTERIX sensor codec: what a node makes of each datagram."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from asterix.base import Bits, RawDatablock
from asterix.generated import Cat_021_2_1
from hypothesis import given, settings
from hypothesis import strategies as st

from skyshare.badinput import BadInput
from skyshare.decode.asterix.codec import NO_POSITION_KIND, AsterixCodec
from skyshare.model import SourceKind
from skyshare.radar.plots import RadarSite
from skyshare.sources.asterix import read_pcap

T = 1_462_433_754.0  # when the real capture was made (its pcap times)


def test_cat021_gives_adsb_reports(data_dir: Path) -> None:
    raw = (data_dir / "asterix" / "cat021_ed2.1_record.bin").read_bytes()
    out = AsterixCodec(3, BadInput(), None).feed(raw, T)
    (db,) = RawDatablock.parse(Bits.from_bytes(raw))
    (rec,) = Cat_021_2_1.cv_uap.parse(db.get_raw_records())
    (report,) = out.reports
    assert report["source"] == SourceKind.ADSB and report["sensor"] == 3
    assert report["icao24"] == rec.get_item("080").variation.content.as_uint()
    assert not len(out.plots)


def test_plots_wait_for_the_radar_position_cat034_gives(data_dir: Path) -> None:
    grams = read_pcap(data_dir / "asterix" / "cat034_cat048.pcap", BadInput())
    bad = BadInput()
    codec = AsterixCodec(0, bad, None)
    placed = 0
    for d in range(len(grams)):
        out = codec.feed(grams.data[grams.bounds[d]:grams.bounds[d + 1]].tobytes(),
                         float(grams.time[d]))
        placed += len(out.plots)
        assert codec.site is not None or not len(out.plots)
    assert codec.site is not None and placed > 50
    assert abs(codec.site.lat - 43.57) < 0.01  # the radar of the capture, from I034/120
    assert abs(codec.site.lon - 16.41) < 0.01
    waited = bad.counts[NO_POSITION_KIND]  # plots before the first CAT034 with I034/120
    assert waited > 0 and waited + placed <= 128


def test_a_configured_site_places_plots_from_the_first_datagram(data_dir: Path) -> None:
    grams = read_pcap(data_dir / "asterix" / "cat034_cat048.pcap", BadInput())
    site = RadarSite(46.0, 14.0, 300.0, rotation_s=5.0)
    out = AsterixCodec(0, BadInput(), site).feed(grams.data.tobytes(), float(grams.time[0]))
    assert len(out.plots) == 126
    assert np.all(np.abs(out.plots["time"] - grams.time[0]) < 60.0)
    assert (out.plots["radar_lat"] == 46.0).all()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_any_datagram_is_counted_never_raised(junk: bytes) -> None:
    bad = BadInput(quiet=True)
    codec = AsterixCodec(0, bad, RadarSite(46.0, 14.0))
    out = codec.feed(junk, T)
    assert codec.good_bytes <= len(junk)
    assert np.isfinite(out.plots["range_m"]).all()
    if junk and codec.good_bytes == 0:
        assert sum(bad.counts.values()) > 0
