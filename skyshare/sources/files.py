"""Reading a recording (plain or gzip) in chunks, in any of the wire formats.

Times in recordings: Beast frames and AVR ``@`` lines carry a 12 MHz receiver clock
with no date, so their time is ``clock_epoch + (clock - first clock) / 12e6``; the
default ``clock_epoch`` is the file's modification time (the first frame is dated
then; give the real start with ``clock_epoch``/``--clock-epoch`` when it matters).
AVR ``*`` lines have no clock and take the time of the last clocked line.  SBS lines
keep their own "generated" date and time (read as UTC), JSON lines their
``timestamp``.  ASTERIX comes as a pcap capture (recognised by its magic bytes; each
UDP payload is dated by its capture time) or as a raw file of data blocks
(``--format asterix``; dated by ``clock_epoch``, default the file's mtime); the time of
day in each record then puts it on that day.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np

from skyshare.badinput import BadInput
from skyshare.sources.asterix import PCAP_MAGICS, read_pcap
from skyshare.sources.base import SourceOutput, codec_for
from skyshare.sources.detect import HEAD_BYTES, detect_format
from skyshare.sources.stream import open_input, read_chunks

CHUNK_BYTES: Final = 4 << 20
PCAP_CHUNK_S: Final = 10.0  # capture seconds of datagrams decoded together

if TYPE_CHECKING:
    from skyshare.radar.plots import RadarSite


@dataclass(frozen=True)
class FileChunk:
    """One chunk of a recording: what it held, and progress through the file."""

    output: SourceOutput
    bytes_done: int
    """Bytes of the file on disk read so far (compressed bytes for gzip)."""
    bytes_total: int
    """Size of the file on disk."""


def iter_file(path: str | Path, fmt: str | None, sensor: int, bad: BadInput, *,
              chunk_bytes: int = CHUNK_BYTES, clock_epoch: float | None = None,
              radar: RadarSite | None = None) -> Iterator[FileChunk]:
    """The frames (or, for SBS, reports) of a recording, one :class:`FileChunk` per
    ``chunk_bytes`` read (decompressed bytes for gzip, which is recognised by its
    magic bytes).

    ``fmt`` None: detected from the first bytes
    (:class:`~skyshare.errors.InputFormatError` if that fails).  Bad input is counted
    in ``bad``; a damaged gzip stream ends the recording where it breaks.  OSError
    when the file cannot be opened.
    """
    with open(path, "rb") as f:
        pcap = f.read(4) in PCAP_MAGICS
    if pcap or fmt == "asterix":
        yield from _iter_asterix(Path(path), pcap, sensor, bad, clock_epoch, radar)
        return
    with open_input(path) as opened:
        chunks = read_chunks(opened, chunk_bytes, bad)
        head: list[bytes] = []
        size = 0
        for chunk in chunks:  # enough bytes to recognise the format
            head.append(chunk)
            size += len(chunk)
            if size >= HEAD_BYTES:
                break
        if fmt is None:
            fmt = detect_format(b"".join(head), path=str(path))
        epoch = opened.mtime if clock_epoch is None else clock_epoch
        codec = codec_for(fmt, sensor, bad, clock_epoch=epoch, message_time=True)
        for chunk in itertools.chain(head, chunks):
            yield FileChunk(codec.feed(chunk, epoch), opened.position, opened.size)
        yield FileChunk(codec.finish(epoch), opened.size, opened.size)


def _iter_asterix(path: Path, pcap: bool, sensor: int, bad: BadInput,
                  clock_epoch: float | None, radar: RadarSite | None) -> Iterator[FileChunk]:
    """ASTERIX from a pcap capture (by ``PCAP_CHUNK_S`` of capture time) or a raw file
    of data blocks (read whole)."""
    codec = codec_for("asterix", sensor, bad, radar=radar)
    size = path.stat().st_size
    if not pcap:
        epoch = path.stat().st_mtime if clock_epoch is None else clock_epoch
        yield FileChunk(codec.feed(path.read_bytes(), epoch), size, size)
        return
    grams = read_pcap(path, bad)
    times = np.maximum.accumulate(grams.time) if len(grams) else grams.time
    start = 0
    while start < len(grams):
        end = int(np.searchsorted(times, times[start] + PCAP_CHUNK_S, "left"))
        end = max(end, start + 1)
        data = grams.data[grams.bounds[start]:grams.bounds[end]].tobytes()
        done = size * end // len(grams)
        yield FileChunk(codec.feed(data, float(grams.time[start])), done, size)
        start = end
    yield FileChunk(codec.finish(0.0), size, size)
