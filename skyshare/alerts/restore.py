"""Alert cases rebuilt from the audit log, so that a node restarted after a crash (or a
SIGKILL) shows what it showed before.

Cases live in memory, but every workflow step is an audit entry
(:mod:`skyshare.alerts.workflow`), written before the step is confirmed to anyone.
:func:`restore_cases` replays the entries of the case kinds, in seq order, with the
same transitions the workflow made:

- *own cases* start at ``alert.raised`` (the alert, its evidence, partner and region)
  and follow every later step: state, owner, offers and refusals, escalation, who
  acknowledged and resolved when, the comment, the history;
- *mirrors* of partners' cases are the last ``alert.received`` note of each case id
  (the whole note is in the entry), with ``pending`` set by an ``alert.forwarded``
  request that no note has answered yet.

Resolved cases older than ``keep_resolved_s`` are not restored (the workflow would have
dropped them).  Own alerts whose condition was active at the stop come back active with
the condition unknown; the engine re-adopts them when the rules see the condition
again (:meth:`skyshare.alerts.engine.AlertEngine.restore`).

What cannot be rebuilt is counted and logged, never fatal: an entry that does not
parse (a log written by another version, or one that fails verification) is skipped,
and so is an ``alert.received`` recorded before notes were kept whole.  The region an
aircraft was in is known only from the entries that name it (raised, routed, offered
on crossing): a crossing nobody was offered is not in the log.

Reading: :func:`case_entries` reads only the case kinds (one pass per kind, merged by
seq), which is what keeps a restart fast on a long log.
"""

from __future__ import annotations

import functools
import heapq
import logging
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import MISSING, dataclass, fields
from typing import Any, Final, Protocol, TypeGuard

import numpy as np
import numpy.typing as npt

from skyshare.alerts.engine import Alert
from skyshare.alerts.notes import ACTIONS, ActionNote, CaseNote
from skyshare.alerts.rules import Rule
from skyshare.alerts.workflow import Case, Event, State, mirror_case
from skyshare.auth import Role
from skyshare.model import TRACK_DTYPE, empty_tracks

log = logging.getLogger("skyshare.alerts")

OWN_KINDS: Final = ("alert.raised", "alert.cleared", "alert.acknowledged", "alert.resolved",
                    "alert.escalated", "alert.routed", "alert.handover_offered",
                    "alert.handover_accepted", "alert.handover_declined", "alert.reopened",
                    "alert.refused")
MIRROR_KINDS: Final = ("alert.received", "alert.forwarded", "alert.forward_failed")
CASE_KINDS: Final = OWN_KINDS + MIRROR_KINDS
"""The audit kinds a case is rebuilt from."""
LOG_SKIPS: Final = 5  # skipped entries logged one by one; the rest are only counted


class CaseEntry(Protocol):
    """The part of :class:`skyshare.store.audit.AuditEntry` a restore reads."""

    @property
    def seq(self) -> int: ...
    @property
    def time(self) -> float: ...
    @property
    def kind(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def actor(self) -> str: ...
    @property
    def exercise(self) -> bool: ...
    @property
    def data(self) -> Mapping[str, Any]: ...


class CaseLog(Protocol):
    """The part of :class:`skyshare.store.audit.AuditLog` a restore reads."""

    def entries(self, since_seq: int = 1, until_seq: int | None = None,
                kind: str | None = None) -> Iterator[Any]: ...


def case_entries(log: CaseLog) -> Iterator[CaseEntry]:
    """The entries of ``log`` a case is rebuilt from, in seq order."""
    return heapq.merge(*(log.entries(kind=kind) for kind in CASE_KINDS),
                       key=lambda e: int(e.seq))


@dataclass(frozen=True)
class RestoredCases:
    """What :func:`restore_cases` rebuilt."""

    cases: tuple[Case, ...]
    pending: tuple[ActionNote, ...]
    """Actions forwarded to a case's origin and not answered yet: the node sends them
    again (the origin recognises a request it has seen by its id)."""
    entries: int  # entries read
    skipped: int  # entries that could not be replayed (logged)
    expired: int  # resolved cases older than keep_resolved_s, not restored

    @property
    def own(self) -> int:
        return sum(c.origin is None for c in self.cases)

    @property
    def mirrors(self) -> int:
        return len(self.cases) - self.own

    @property
    def active_alerts(self) -> list[Alert]:
        """Own alerts whose condition was active at the stop (for the engine)."""
        return [c.alert for c in self.cases if c.origin is None and c.alert.active]

    def counts(self) -> dict[str, int]:
        """The summary an ``alert.restored`` audit entry records."""
        return {"entries": self.entries, "own": self.own, "mirrors": self.mirrors,
                "active": len(self.active_alerts), "pending": len(self.pending),
                "skipped": self.skipped, "expired": self.expired}


class _Bad(ValueError):
    """An entry that cannot be replayed (the message says why)."""


def restore_cases(entries: Iterable[CaseEntry], node: str, now: float,
                  keep_resolved_s: float) -> RestoredCases:
    """Replay ``entries`` (of node ``node``'s audit log, in seq order; other kinds are
    ignored) into the cases the workflow held, as of ``now``."""
    cases: dict[str, Case] = {}
    read = skipped = 0
    for entry in entries:
        read += 1
        try:
            _replay(cases, entry)
        except _Bad as exc:
            skipped += 1
            if skipped <= LOG_SKIPS:
                log.warning("audit log of %s: entry %s (%s about %r) not restored: %s%s",
                            node, entry.seq, entry.kind, entry.subject, exc,
                            "; further skips are only counted" if skipped == LOG_SKIPS
                            else "")
    cutoff = now - keep_resolved_s
    kept = [c for c in cases.values()
            if c.state != State.RESOLVED or (c.resolved_at or now) >= cutoff]
    pending = tuple(c.pending for c in kept if c.origin is not None and c.pending is not None)
    return RestoredCases(tuple(kept), pending, read, skipped, len(cases) - len(kept))


def _replay(cases: dict[str, Case], entry: CaseEntry) -> None:
    """Apply one entry to ``cases`` as the workflow applied the step it records."""
    kind, subject = entry.kind, entry.subject
    known = cases.get(subject)
    if kind == "alert.raised":
        if known is not None:
            raise _Bad(f"alert {subject} was raised before")
        case = cases[subject] = _raised(entry)
    elif kind == "alert.received":
        if known is not None and known.origin is None:
            raise _Bad(f"a note about {subject}, one of this node's own cases")
        note = note_from_json(entry.data.get("note"))
        if note.id != subject:
            raise _Bad(f"the note is about {note.id!r}")
        case = cases[subject] = mirror_case(note, known)
    elif known is None:
        return  # a refusal about no case, or the steps of a case not restored
    else:
        case = known
        step = (_OWN_STEPS if case.origin is None else _MIRROR_STEPS).get(kind)
        if step is None:
            return  # not a step of this kind of case (the workflow did not record it)
        step(case, entry)
    case.history.append(Event(kind, subject, dict(entry.data), entry.actor,
                              bool(entry.exercise), float(entry.time)))
    case.updated_at = case.note.updated_at if kind == "alert.received" and case.note \
        else float(entry.time)


# --------------------------------------------------------------------------- own cases
def _raised(entry: CaseEntry) -> Case:
    d = entry.data
    rule = _rule(_text(d, "rule"))
    evidence = track_row(d.get("evidence"))
    partner = _text(d, "partner")
    if "region" in d:
        region = _optional_text(d, "region")
    else:  # logged before regions were: the partner it went to, once it had a position
        placed = math.isfinite(float(evidence["lat"])) and math.isfinite(float(evidence["lon"]))
        region = partner if placed else None
    value = _optional_number(d, "value")
    verified = d.get("verified")
    if not isinstance(verified, bool):
        raise _Bad("verified is not true or false")
    alert = Alert(id=entry.subject, rule=rule, track_id=_int(d, "track_id"),
                  volume=_int(d, "volume"), raised_at=float(entry.time), evidence=evidence,
                  latest=evidence, value=math.nan if value is None else float(value),
                  verified=verified, exercise=bool(entry.exercise),
                  last_held=float(entry.time), sensor=_optional_text(d, "sensor"),
                  detail=_optional_text(d, "detail") or "")
    return Case(alert=alert, partner=partner, region=region)


def _cleared(case: Case, entry: CaseEntry) -> None:
    d = entry.data
    row = track_row(d["latest"]) if d.get("latest") is not None else case.alert.latest
    value = _optional_number(d, "value") if "value" in d else case.alert.value
    case.alert.cleared_at, case.alert.latest = float(entry.time), row
    case.alert.value = math.nan if value is None else value


def _acknowledged(case: Case, entry: CaseEntry) -> None:
    case.state, case.acknowledged_by = State.ACKNOWLEDGED, entry.actor
    case.acknowledged_at = float(entry.time)


def _resolved(case: Case, entry: CaseEntry) -> None:
    comment = _text(entry.data, "comment")
    case.state, case.resolved_by = State.RESOLVED, entry.actor
    case.resolved_at = float(entry.time)
    case.comment, case.offered_to = comment, None


def _escalated(case: Case, entry: CaseEntry) -> None:
    case.escalation = _int(entry.data, "level")


def _routed(case: Case, entry: CaseEntry) -> None:
    case.partner = case.region = _text(entry.data, "to")


def _offered(case: Case, entry: CaseEntry) -> None:
    to = _text(entry.data, "to")
    case.offered_to = to
    if entry.data.get("reason") == "crossing":  # the aircraft had entered to's region
        case.region = to


def _accepted(case: Case, entry: CaseEntry) -> None:
    case.partner = _text(entry.data, "to")
    case.offered_to, case.escalation, case.declined_by = None, 0, frozenset()


def _declined(case: Case, entry: CaseEntry) -> None:
    to = _text(entry.data, "to")
    case.offered_to, case.declined_by = None, case.declined_by | {to}


def _reopened(case: Case, entry: CaseEntry) -> None:
    case.state, case.resolved_by, case.resolved_at = State.ACKNOWLEDGED, None, None


def _history_only(case: Case, entry: CaseEntry) -> None:
    """A step that changes nothing but the history (a refused request)."""


_Step = Callable[[Case, CaseEntry], None]
_OWN_STEPS: Final[dict[str, _Step]] = {
    "alert.cleared": _cleared, "alert.acknowledged": _acknowledged,
    "alert.resolved": _resolved, "alert.escalated": _escalated, "alert.routed": _routed,
    "alert.handover_offered": _offered, "alert.handover_accepted": _accepted,
    "alert.handover_declined": _declined, "alert.reopened": _reopened,
    "alert.refused": _history_only}


# --------------------------------------------------------------------------- mirrors
def _forwarded(case: Case, entry: CaseEntry) -> None:
    d = entry.data
    action, role = _text(d, "action"), d.get("role")
    if action not in ACTIONS:
        raise _Bad(f"unknown action {action!r}")
    request = ActionNote(request=_text(d, "request"), alert_id=case.id, action=action,
                         user=entry.actor, role=role if isinstance(role, str) else "",
                         text=_text(d, "text"), time=float(entry.time))
    # a request logged without its role cannot be sent again: not waited for either
    known_role = request.role in {r.value for r in Role}
    case.pending, case.refused = (request if known_role else None), ""


def _forward_failed(case: Case, entry: CaseEntry) -> None:
    case.pending, case.refused = None, _text(entry.data, "reason")


_MIRROR_STEPS: Final[dict[str, _Step]] = {"alert.forwarded": _forwarded,
                                          "alert.forward_failed": _forward_failed}


# --------------------------------------------------------------------------- values
def note_from_json(doc: object) -> CaseNote:
    """The :class:`CaseNote` an ``alert.received`` entry keeps (``dataclasses.asdict``
    of it); _Bad when ``doc`` is not one.  Keys added by a later version are ignored."""
    if not isinstance(doc, dict):
        raise _Bad("no note (recorded before notes were kept whole)")
    values: dict[str, Any] = {}
    for f in fields(CaseNote):
        if f.name not in doc:
            if f.default is MISSING:
                raise _Bad(f"the note has no {f.name}")
            continue
        value, kind = doc[f.name], str(f.type)
        optional, base = kind.endswith(" | None"), kind.removesuffix(" | None")
        if value is None and optional:
            values[f.name] = None
        elif _TYPE_CHECKS[base](value):
            values[f.name] = float(value) if base == "float" else value
        else:
            raise _Bad(f"the note's {f.name} is not {kind}: {value!r:.80}")
    note = CaseNote(**values)
    _rule(note.rule)
    if note.state not in {s.value for s in State}:
        raise _Bad(f"the note's state {note.state!r} is not a workflow state")
    return note


def track_row(doc: object) -> npt.NDArray[np.void]:
    """A TRACK_DTYPE row from :func:`skyshare.alerts.workflow.track_json`'s JSON (None
    and missing fields: the unknown value); _Bad when a value does not fit."""
    if not isinstance(doc, dict):
        raise _Bad("the track is not a JSON object")
    values: list[object] = []
    for name, kind, largest, unknown in _track_fields():
        value = doc.get(name)
        if value is None:
            values.append(unknown)
        elif kind == "f" and _is_number(value) and abs(value) <= largest:
            values.append(value)
        elif kind == "S" and isinstance(value, str):
            values.append(value.encode("ascii", "replace"))
        elif kind in "iu" and _is_int(value):
            values.append(value)
        else:
            raise _Bad(f"track field {name} is {value!r:.40}")
    try:
        out: npt.NDArray[np.void] = np.array([tuple(values)], TRACK_DTYPE)[0]
    except (OverflowError, ValueError) as exc:  # an integer out of its field's range
        raise _Bad(f"a track field does not fit: {exc}") from exc
    return out


@functools.cache
def _track_fields() -> tuple[tuple[str, str, float, object], ...]:
    """(name, dtype kind, largest finite value, unknown value) of each TRACK_DTYPE field."""
    unknown = empty_tracks(1)[0]
    return tuple((name, TRACK_DTYPE[name].kind,
                  float(np.finfo(TRACK_DTYPE[name]).max) if TRACK_DTYPE[name].kind == "f"
                  else math.inf, unknown[name].item())
                 for name in TRACK_DTYPE.names or ())


def _rule(name: str) -> Rule:
    try:
        return Rule[name.upper()]
    except KeyError:
        raise _Bad(f"unknown rule {name!r}") from None


def _is_number(value: object) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


_TYPE_CHECKS: Final[dict[str, Callable[[object], bool]]] = {
    "str": lambda v: isinstance(v, str), "int": _is_int, "float": _is_number,
    "bool": lambda v: isinstance(v, bool)}


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise _Bad(f"{key} is not text: {value!r:.40}")
    return value


def _optional_text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return None if value is None else _text(data, key)


def _optional_number(data: Mapping[str, Any], key: str) -> float | None:
    value = data.get(key)
    if value is not None and not _is_number(value):
        raise _Bad(f"{key} is not a number: {value!r:.40}")
    return None if value is None else float(value)


def _int(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    if not _is_int(value):
        raise _Bad(f"{key} is not an integer: {value!r:.40}")
    return value
