"""What nodes tell each other about alert cases: the vocabulary of cross-border alerts.

The node whose rules raised an alert (the *origin*) owns its case.  A partner that must
know of it receives :class:`CaseNote` s, the case as it stands after each workflow step,
and shows a read-only *mirror*; a duty officer acting on the mirror sends an
:class:`ActionNote` back, which the origin applies as that partner's officer and answers
with the next CaseNote (its ``answers`` names the request; ``refused`` says why, when
the workflow refused it).

Both are plain values (text, numbers, None, booleans): the wire codec
(:mod:`skyshare.share.wire`) checks every field, and the workflow builds a mirror from a
note without knowing about the wire.  They live here, upstream of the wire, like the
track schema lives in :mod:`skyshare.model`.

Conventions: times are UNIX seconds UTC; ``lat``/``lon`` WGS84 degrees and ``alt`` feet
(None when unknown); ``icao24`` is the 24-bit address as an integer (``0xFFFFFFFF``,
:data:`~skyshare.model.NO_ADDRESS`, when unknown or not granted by the agreement);
``squawk`` the four octal digits read as a decimal number (7700), -1 when unknown or
not granted; ``rule`` the lower-case :class:`~skyshare.alerts.rules.Rule` name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal, NamedTuple

import numpy as np

from skyshare.alerts.engine import Alert
from skyshare.alerts.rules import Rule
from skyshare.model import TrackFlag, empty_tracks

Action = Literal["acknowledge", "resolve", "hand_over", "accept", "decline", "reopen"]
ACTIONS: Final[tuple[Action, ...]] = ("acknowledge", "resolve", "hand_over", "accept",
                                      "decline", "reopen")


@dataclass(frozen=True)
class CaseNote:
    """One version of a case as its origin node tells a partner.

    ``version`` counts the case's workflow steps at the origin (it grows with every
    step), so a receiver keeps the newest and ignores redeliveries.  ``origin`` is the
    origin node's partner.  The other fields are those of the alerts API's case JSON.
    """

    id: str
    version: int
    origin: str
    rule: str
    label: str
    track_id: int
    icao24: int
    callsign: str
    squawk: int
    volume: str | None
    value: float | None
    verified: bool
    exercise: bool
    raised_at: float
    cleared_at: float | None
    lat: float | None
    lon: float | None
    alt: float | None
    condition_active: bool
    state: str
    partner: str
    offered_to: str | None
    escalation: int
    acknowledged_by: str | None
    acknowledged_at: float | None
    resolved_by: str | None
    resolved_at: float | None
    comment: str
    updated_at: float
    answers: str = ""
    """The request (:attr:`ActionNote.request`) this version answers; "" if none."""
    refused: str = ""
    """Why the answered request was refused (the workflow's text); "" when it was done."""
    sensor: str | None = None
    """A readiness alert's sensor (None: the alert is about a track)."""
    detail: str = ""
    """A readiness alert's findings in words."""


@dataclass(frozen=True)
class ActionNote:
    """A duty officer's action on a mirror, forwarded to the case's origin node.

    ``request`` is unique (``<node>-<random>``); ``user`` and ``role`` are those of the
    officer at the sending node, which vouches for them; ``text`` is the comment,
    partner or reason the action takes (see AlertService.act)."""

    request: str
    alert_id: str
    action: Action
    user: str
    role: str
    text: str
    time: float


class Answer(NamedTuple):
    """The origin's answer to one request: sent to ``partner`` with the next note."""

    alert_id: str
    partner: str
    request: str
    refused: str  # "" when the action was done


@dataclass(frozen=True)
class ChangedCases:
    """Cases changed since the alert link last asked, and requests answered since."""

    ids: frozenset[str]
    answers: tuple[Answer, ...]


def mirror_alert(note: CaseNote) -> Alert:
    """The :class:`Alert` a mirror shows: evidence and latest rows made from the note,
    so code reading ``alert.latest`` (the API, the map's highlight) works unchanged."""
    row = empty_tracks(1)
    row["track_id"], row["icao24"] = note.track_id, note.icao24
    row["callsign"] = note.callsign.encode("ascii", "replace")
    row["squawk"] = note.squawk
    for name in ("lat", "lon", "alt"):
        value = getattr(note, name)
        row[name] = math.nan if value is None else value
    flags = TrackFlag.EXERCISE if note.exercise else TrackFlag.NONE
    if note.lat is not None and note.lon is not None:
        flags |= TrackFlag.HAS_POSITION
    row["flags"] = np.uint16(flags)
    return Alert(id=note.id, rule=Rule[note.rule.upper()], track_id=note.track_id, volume=-1,
                 raised_at=note.raised_at, evidence=row[0], latest=row[0],
                 value=math.nan if note.value is None else note.value,
                 verified=note.verified, exercise=note.exercise, last_held=note.updated_at,
                 cleared_at=note.cleared_at, sensor=note.sensor, detail=note.detail)
