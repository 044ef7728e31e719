"""Counting and logging bad input: counted per sensor and kind, logged once per kind.

Every parser reports what it skipped here instead of raising, so a hostile or broken
feed can never crash the node and the operator can still see what was wrong.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

log = logging.getLogger("skyshare.badinput")


@dataclass
class BadInput:
    """Per-sensor tally of skipped input, keyed by a short kind name.

    ``kind`` names are stable identifiers (``beast-bad-escape``, ``avr-bad-hex``,
    ``crc-fail`` ...) that appear in ``/api/sensors`` and ``/metrics``.
    """

    sensor: str = ""
    counts: Counter[str] = field(default_factory=Counter)
    quiet: bool = False  # count only (for internal runs such as the kernel warm-up)
    _logged: set[str] = field(default_factory=set)

    def add(self, kind: str, n: int = 1, detail: str = "") -> None:
        """Count ``n`` skipped items of ``kind``; the first of each kind is logged."""
        if n <= 0:
            return
        self.counts[kind] += n
        if kind not in self._logged and not self.quiet:
            self._logged.add(kind)
            log.warning(
                "sensor %s: skipping bad input of kind %r%s (further ones are only counted)",
                self.sensor or "?",
                kind,
                f": {detail}" if detail else "",
            )

    def merge(self, other: BadInput) -> None:
        for kind, n in other.counts.items():
            self.add(kind, n)

    @property
    def total(self) -> int:
        return sum(self.counts.values())
