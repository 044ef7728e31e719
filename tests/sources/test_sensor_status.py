"""Sensor specs, live status and the format-independent codec."""

from __future__ import annotations

import math

import pytest

from skyshare.badinput import BadInput
from skyshare.errors import InputFormatError
from skyshare.model import FRAME_DTYPE, REPORT_DTYPE
from skyshare.sources.base import SensorSpec, SensorStatus, codec_for, make_codec

SBS = (b"MSG,3,1,1,4CA2D6,1,2024/06/06,09:38:39.147,2024/06/06,09:38:39.147,RYR1234,36000,"
       b"450,270,43.6,1.37,-64,7700,0,0,0,0\n")


def test_status_for_spec() -> None:
    spec = SensorSpec(name="rx", index=3, format="beast", mode="connect", host="::1",
                      port=30005)
    status = SensorStatus.for_spec(spec)
    assert (status.name, status.index, status.format, status.mode) == ("rx", 3, "beast",
                                                                       "connect")
    assert status.address == "[::1]:30005"
    assert status.bad.sensor == "rx"
    assert not status.connected and status.frames == 0 and math.isnan(status.last_message)
    file_spec = SensorSpec(name="f", index=0, format="sbs", mode="file", path="/x/y.sbs")
    assert SensorStatus.for_spec(file_spec).address == "/x/y.sbs"


def test_rate_over_the_last_ten_seconds() -> None:
    status = SensorStatus.for_spec(SensorSpec(name="rx", index=0, format="avr", mode="listen"))
    assert status.rate(1000.0) == 0.0
    for second in range(30):
        status.record(100, 1000.0 + second + 0.5)
    assert status.frames == 3000 and status.last_message == 1029.5
    assert status.rate(1029.9) == pytest.approx(100, rel=0.05)
    assert status.rate(1045.0) == 0.0  # quiet for 15 s
    young = SensorStatus.for_spec(SensorSpec(name="y", index=0, format="avr", mode="listen"))
    young.record(50, 2000.0)
    young.record(50, 2001.0)
    assert young.rate(2002.0) == pytest.approx(50, rel=0.01)


@pytest.mark.parametrize(("fmt", "chunk", "frames", "reports"), [
    ("beast", b"\x1a\x32" + bytes(14), 1, 0),
    ("avr", b"*02E18CA8F1D2ED;\n", 1, 0),
    ("jsonl", b'{"timestamp": 1, "frame": "02e18ca8f1d2ed"}\n', 1, 0),
    ("sbs", SBS, 0, 1),
])
def test_make_codec_for_every_format(fmt: str, chunk: bytes, frames: int, reports: int) -> None:
    spec = SensorSpec(name="s", index=1, format=fmt, mode="connect")  # type: ignore[arg-type]
    codec = make_codec(spec, BadInput())
    out = codec.feed(chunk, 5.0)
    assert out.frames.dtype == FRAME_DTYPE and out.reports.dtype == REPORT_DTYPE
    assert (len(out.frames), len(out.reports)) == (frames, reports)
    assert out.messages == frames + reports
    assert codec.good_bytes == len(chunk)
    if reports:
        assert out.reports["time"][0] == 5.0  # live SBS: the read time


def test_unknown_format() -> None:
    with pytest.raises(InputFormatError, match="unknown format 'cat999'"):
        codec_for("cat999", 0, BadInput())
