"""Opening a recording: gzip recognised by its magic bytes and decompressed on the fly;
the position in the file on disk is kept for progress."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

from skyshare.badinput import BadInput

GZIP_MAGIC: Final = b"\x1f\x8b"


@dataclass
class OpenedInput:
    """A recording open for reading: ``stream`` gives its (decompressed) bytes."""

    path: str
    stream: BinaryIO | gzip.GzipFile
    raw: BinaryIO
    size: int  # bytes on disk
    compressed: bool
    mtime: float

    @property
    def position(self) -> int:
        """Bytes of the file on disk read so far (compressed bytes for gzip)."""
        return min(self.raw.tell(), self.size)


@contextmanager
def open_input(path: str | Path) -> Iterator[OpenedInput]:
    """Open ``path`` (plain or gzip); OSError if it cannot be read."""
    with open(path, "rb") as raw:
        stat = Path(path).stat()
        compressed = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        if not compressed:
            yield OpenedInput(str(path), raw, raw, stat.st_size, False, stat.st_mtime)
            return
        with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
            yield OpenedInput(str(path), unzipped, raw, stat.st_size, True, stat.st_mtime)


def read_chunks(opened: OpenedInput, chunk_bytes: int, bad: BadInput) -> Iterator[bytes]:
    """The bytes of the recording in chunks; a damaged or truncated gzip stream ends
    the recording there (counted as ``gzip-damaged``), keeping what came before."""
    while True:
        try:
            chunk = opened.stream.read(chunk_bytes)
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            bad.add("gzip-damaged", detail=f"{opened.path}: {exc}; reading stopped there")
            return
        if not chunk:
            return
        yield chunk
