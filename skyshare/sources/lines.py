"""Splitting a byte stream into complete lines, for the line-based text formats."""

from __future__ import annotations

from collections.abc import Callable

import numba as nb
import numpy as np
import numpy.typing as npt


class LineBuffer:
    """Returns the complete lines of each chunk and keeps the incomplete last one.

    A partial line longer than ``max_line`` is dropped, reported once through
    ``on_overlong`` and the rest of it skipped up to its newline, so a stream without
    newlines cannot grow the buffer.  The parsers reject complete lines longer than
    ``max_line`` too, so any chunking gives the same result.
    """

    def __init__(self, max_line: int, on_overlong: Callable[[], None]) -> None:
        self.max_line = max_line
        self._on_overlong = on_overlong
        self._tail = b""
        self._skipping = False

    def feed(self, chunk: bytes) -> bytes:
        """The complete lines (each ending in ``\\n``) now available."""
        if self._skipping:
            newline = chunk.find(b"\n")
            if newline < 0:
                return b""
            chunk = chunk[newline + 1:]
            self._skipping = False
        buf = self._tail + chunk if self._tail else bytes(chunk)
        cut = buf.rfind(b"\n") + 1
        lines, self._tail = buf[:cut], buf[cut:]
        if len(self._tail) > self.max_line:
            self._on_overlong()
            self._tail = b""
            self._skipping = True
        return lines

    def finish(self) -> bytes:
        """End of stream: the unterminated last line, if any."""
        rest, self._tail, self._skipping = self._tail, b"", False
        return rest


@nb.njit(cache=True, nogil=True)
def line_stats(buf: npt.NDArray[np.uint8]) -> tuple[int, int]:
    """(lines that are not blank, length of the longest line without its newline);
    blank means only the whitespace ``bytes.strip()`` removes."""
    n_lines = 0
    longest = 0
    start = 0
    blank = True
    for i in range(buf.shape[0] + 1):
        if i == buf.shape[0] or buf[i] == 0x0A:
            longest = max(longest, i - start)
            n_lines += 0 if blank else 1
            start = i + 1
            blank = True
        elif not (buf[i] == 0x20 or 0x09 <= buf[i] <= 0x0D):
            blank = False
    return n_lines, longest
