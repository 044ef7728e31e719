"""Recognising a recording's format from its first bytes."""

from __future__ import annotations

import contextlib
import gzip
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skyshare.errors import InputFormatError
from skyshare.sources.detect import FORMATS, detect_format

SBS = (b"MSG,3,1,1,4CA2D6,1,2024/06/06,09:38:39.147,2024/06/06,09:38:39.147,RYR1234,36000,"
       b"450,270,43.6,1.37,-64,7700,0,0,0,0\n")


def test_real_recordings(data_dir: Path) -> None:
    beast = (data_dir / "modes" / "sample_dump1090.beast").read_bytes()
    assert detect_format(beast) == "beast"
    assert detect_format(beast[1000:]) == "beast"  # joined mid-stream
    with gzip.open(data_dir / "modes" / "tutorial_17ac.jsonl.gz") as f:
        assert detect_format(f.read(100_000)) == "jsonl"


@pytest.mark.parametrize(("head", "fmt"), [
    (b"*8D4840D6202CC371C32CE0576098;\n" * 3, "avr"),
    (b"@0000159A3B2C5D4840D6202CC371C32CE0576098;\r\n" * 3, "avr"),
    (SBS * 3, "sbs"),
    (b"AIR,,333,3,4CA2D6,3,2024/06/06,09:38:39.147,2024/06/06,09:38:39.147\n" + SBS, "sbs"),
    (b'{"timestamp": 1.5, "frame": "5d48520a0b0c0d"}\n' * 2, "jsonl"),
    (b"\x1a\x32" + bytes(14) + b"\x1a\x33" + bytes(21), "beast"),
])
def test_each_format(head: bytes, fmt: str) -> None:
    assert detect_format(head) == fmt


def test_unknown_input_names_the_formats_and_the_flag() -> None:
    with pytest.raises(InputFormatError) as info:
        detect_format(b"Hello, this is a text file.\nNothing to see.\n", path="notes.txt")
    message = str(info.value)
    assert message.startswith("notes.txt: ")
    assert "--format" in message
    assert all(fmt in message for fmt in FORMATS)
    assert info.value.path == "notes.txt"


def test_empty_input() -> None:
    with pytest.raises(InputFormatError, match="empty"):
        detect_format(b"  \n")


@settings(deadline=None, max_examples=50)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_a_format_or_the_error(head: bytes) -> None:
    with contextlib.suppress(InputFormatError):
        assert detect_format(head) in FORMATS
