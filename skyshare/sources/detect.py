"""Recognising the format of a recording from its first bytes.

Each format's framer reads the head; the format under which most of the bytes form
good frames (or lines) wins, if that is at least half of them.
"""

from __future__ import annotations

import math
from typing import Final, Literal, cast, get_args

from skyshare.badinput import BadInput
from skyshare.errors import InputFormatError
from skyshare.sources.avr import AvrFramer
from skyshare.sources.beast import BeastFramer
from skyshare.sources.jsonl import JsonlFramer

Format = Literal["beast", "avr", "sbs", "jsonl", "asterix"]
FORMATS: Final[tuple[Format, ...]] = get_args(Format)
HEAD_BYTES: Final = 64 * 1024
"""How much of a recording to look at."""
MIN_SHARE: Final = 0.5
_SBS_OTHER: Final = (b"AIR", b"ID", b"STA", b"SEL", b"CLK")
_DESCRIPTIONS: Final = (
    "beast (binary, 0x1a-escaped frames)",
    "avr (text lines *HEX; or @CLOCKHEX;)",
    "sbs (BaseStation CSV lines MSG,...)",
    'jsonl (JSON lines {"timestamp": ..., "frame": "HEX"})',
    "asterix (EUROCONTROL data blocks; radar sensors over UDP, never guessed)",
)


class _Tally(BadInput):
    """Counts without logging: trying a format on bytes of another is not an error."""

    def add(self, kind: str, n: int = 1, detail: str = "") -> None:
        if n > 0:
            self.counts[kind] += n


def _complete_lines(head: bytes) -> bytes:
    cut = head.rfind(b"\n")
    return head[: cut + 1] if cut >= 0 else head


def _beast_share(head: bytes) -> float:
    framer = BeastFramer(0, _Tally())
    framer.feed(head, 0.0)
    return framer.good_bytes / max(len(head) - framer.pending_bytes, 1)


def _avr_share(lines: bytes) -> float:
    framer = AvrFramer(0, _Tally())
    framer.feed(lines, 0.0)
    framer.finish(0.0)
    return framer.good_bytes / max(len(lines), 1)


def _jsonl_share(lines: bytes) -> float:
    framer = JsonlFramer(0, _Tally())
    framer.feed(lines, math.nan)
    framer.finish(math.nan)
    return framer.good_bytes / max(len(lines), 1)


def _sbs_share(lines: bytes) -> float:
    good = 0
    for line in lines.splitlines(keepends=True):
        fields = line.split(b",")
        kind = fields[0].strip()
        if (kind == b"MSG" and len(fields) >= 10) or (kind in _SBS_OTHER and len(fields) >= 2):
            good += len(line)
    return good / max(len(lines), 1)


def detect_format(head: bytes, *, path: str = "") -> Format:
    """The format of a recording whose (decompressed) first bytes are ``head``.

    Raises :class:`~skyshare.errors.InputFormatError` naming the formats and the
    ``--format`` option when none fits.
    """
    head = head[:HEAD_BYTES]
    if not head.strip():
        raise InputFormatError("the input is empty; nothing to read", path=path)
    lines = _complete_lines(head)
    shares = {
        "beast": _beast_share(head),
        "avr": _avr_share(lines),
        "sbs": _sbs_share(lines),
        "jsonl": _jsonl_share(lines),
    }
    best = max(shares, key=lambda fmt: shares[fmt])
    if shares[best] >= MIN_SHARE:
        return cast(Format, best)
    raise InputFormatError(
        f"cannot recognise the input format from its first {len(head)} bytes "
        f"(they start {head[:24]!r}); the formats read are "
        + "; ".join(_DESCRIPTIONS)
        + ". Name the format with --format " + "|".join(FORMATS)
        + " (or 'format:' in the sensor configuration).",
        path=path,
    )
