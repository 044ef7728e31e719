"""The last exercise result a node was part of: the newest summary in its
``<data_dir>/exercises/`` (``skyshare exercise run`` files one into every node it ran).

A summary that cannot be read or does not look like one is logged once and passed over
(the next newest is taken): a stray file must not hide the readiness page.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

log = logging.getLogger("skyshare.readiness")

SCHEMA: Final = "skyshare-exercise/1"
FOLDER: Final = "exercises"


@dataclass(frozen=True)
class ExerciseResult:
    """What readiness shows of one exercise (the whole summary is in ``path``)."""

    scenario: str
    title: str
    ended_at: float
    score: float
    events: int
    detected: int
    late: int
    missed: int
    false_alerts: int
    partners: dict[str, dict[str, Any]]
    path: str

    def json(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "title": self.title, "ended_at": self.ended_at,
                "score": self.score, "events": self.events, "detected": self.detected,
                "late": self.late, "missed": self.missed, "false_alerts": self.false_alerts,
                "file": self.path}


def _number(doc: dict[str, Any], key: str) -> float:
    value = doc.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{key} is not a number")
    return float(value)


def parse_summary(doc: Any, path: str) -> ExerciseResult:
    """An :class:`ExerciseResult` from a summary document; ValueError if it is not one."""
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise ValueError(f"not an exercise summary (schema {SCHEMA})")
    totals = doc.get("totals")
    partners = doc.get("partners")
    if not isinstance(totals, dict) or not isinstance(partners, dict):
        raise ValueError("no totals or partners")
    return ExerciseResult(
        scenario=str(doc.get("scenario", "")), title=str(doc.get("title", "")),
        ended_at=_number(doc, "ended_at"), score=_number(totals, "score"),
        events=int(_number(totals, "events")), detected=int(_number(totals, "detected")),
        late=int(_number(totals, "late")), missed=int(_number(totals, "missed")),
        false_alerts=int(_number(totals, "false_alerts")),
        partners={str(k): v for k, v in partners.items() if isinstance(v, dict)}, path=path)


@dataclass
class LastExercise:
    """The newest readable summary in ``folder``, read again only when the folder's
    files change."""

    folder: Path | None  # None: a node without a data folder has no exercises
    _seen: tuple[tuple[str, float], ...] = ()
    _result: ExerciseResult | None = None
    _bad: set[str] = field(default_factory=set)

    def get(self) -> ExerciseResult | None:
        if self.folder is None:
            return None
        try:
            files = sorted(self.folder.glob("*.json"))
            listing = tuple((p.name, p.stat().st_mtime) for p in files)
        except OSError:
            return None
        if listing == self._seen:
            return self._result
        self._seen, self._result = listing, None
        for name, _ in sorted(listing, key=lambda x: x[1], reverse=True):
            path = self.folder / name
            try:
                result = parse_summary(json.loads(path.read_text(encoding="utf-8")),
                                       str(path))
            except (OSError, ValueError) as exc:
                if str(path) not in self._bad:
                    self._bad.add(str(path))
                    log.warning("readiness: skipping %s: %s", path, exc)
                continue
            if self._result is None or result.ended_at > self._result.ended_at:
                self._result = result
        return self._result
