"""Reading a recording (plain or gzip) in chunks, in any of the wire formats.

Times in recordings: Beast frames and AVR ``@`` lines carry a 12 MHz receiver clock
with no date, so their time is ``clock_epoch + (clock - first clock) / 12e6``; the
default ``clock_epoch`` is the file's modification time (the first frame is dated
then; give the real start with ``clock_epoch``/``--clock-epoch`` when it matters).
AVR ``*`` lines have no clock and take the time of the last clocked line.  SBS lines
keep their own "generated" date and time (read as UTC), JSON lines their
``timestamp``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from skyshare.badinput import BadInput
from skyshare.sources.base import SourceOutput, codec_for
from skyshare.sources.detect import HEAD_BYTES, detect_format
from skyshare.sources.stream import open_input, read_chunks

CHUNK_BYTES: Final = 4 << 20


@dataclass(frozen=True)
class FileChunk:
    """One chunk of a recording: what it held, and progress through the file."""

    output: SourceOutput
    bytes_done: int
    """Bytes of the file on disk read so far (compressed bytes for gzip)."""
    bytes_total: int
    """Size of the file on disk."""


def iter_file(path: str | Path, fmt: str | None, sensor: int, bad: BadInput, *,
              chunk_bytes: int = CHUNK_BYTES, clock_epoch: float | None = None
              ) -> Iterator[FileChunk]:
    """The frames (or, for SBS, reports) of a recording, one :class:`FileChunk` per
    ``chunk_bytes`` read (decompressed bytes for gzip, which is recognised by its
    magic bytes).

    ``fmt`` None: detected from the first bytes
    (:class:`~skyshare.errors.InputFormatError` if that fails).  Bad input is counted
    in ``bad``; a damaged gzip stream ends the recording where it breaks.  OSError
    when the file cannot be opened.
    """
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
