"""SBS-1 BaseStation (port 30003) framing: complete CSV lines out of a byte stream.

The lines become reports in :mod:`skyshare.decode.sbs`; SBS carries decoded values,
not frames, so it is the one format whose source output is reports.
"""

from __future__ import annotations

from typing import Final

from skyshare.badinput import BadInput
from skyshare.sources.lines import LineBuffer

MAX_LINE: Final = 1024
"""Longer lines are skipped whole (real ones have about 120 bytes)."""


class SbsFramer:
    """SBS bytes -> whole lines, keeping the incomplete last line between reads.

    A line longer than :data:`MAX_LINE` is skipped and counted
    as ``sbs-bad-line`` (as the decoder does for complete ones).
    """

    def __init__(self, bad: BadInput) -> None:
        self.bad = bad
        self._lines = LineBuffer(MAX_LINE, self._overlong)

    def feed(self, chunk: bytes) -> bytes:
        """The complete lines now available (each ends in ``\\n``)."""
        return self._lines.feed(chunk)

    def finish(self) -> bytes:
        """End of stream: the last line if it had no newline."""
        return self._lines.finish()

    def _overlong(self) -> None:
        self.bad.add("sbs-bad-line", detail=f"a line longer than {MAX_LINE} bytes")
