"""Bilateral sharing agreements: what one partner gives another, enforced by the sender.

An agreement covers one direction (``from`` gives ``to``).  Agreements are declarative
YAML, one per file or several under ``agreements:``; :func:`load_agreements` reads
files and folders into an :class:`AgreementSet`, all or nothing.  Every mistake is an
:class:`AgreementError` naming ``file:agreement N (id): key`` (N counts from 1 in the
file) and saying what to write instead.  Unknown keys are errors: a typo must not
silently widen or narrow what is shared.

Format (keys not marked required may be left out; the default is the narrower choice)::

    agreements:
      - id: west-to-central        # required, unique in the set: [a-z0-9._-], up to 64
        from: west                 # required: the giving partner, ^[a-z][a-z0-9-]{0,31}$
        to: central                # required: the receiving partner
        valid: {from: 2026-01-01, until: 2027-12-31T23:59:59Z}
                                   # UTC (a time needs Z or an offset; a date is 00:00Z);
                                   # both optional; from inclusive, until exclusive
        revoked: false             # true stops the agreement at once
        regions:                   # required, at least one
          - name: border-strip     # required, unique in the agreement
            polygon: [[43.0, 0.0], [44.0, 0.0], [44.0, 2.0]]   # [lat, lon], >= 3 vertices
            lower_ft: 0            # optional altitude band, inclusive, feet
            upper_ft: 45000
          - name: whole-fir
            geojson: west-fir.geojson   # instead of polygon: relative to the YAML file;
            match: {partner: west}      # optional: only features with these properties
        fields: [position, identity]    # required; position is mandatory
        sources: own               # own (default) | all
        min_delay_s: 0             # 0..300, default 0
        max_rate_hz: 1.0           # 0 < rate <= 20, default 1
        exclude: {addresses: ["3c6444"], categories: [A7], exercise: false}
        alerts: false              # default false
        handover: false            # default false

Two agreements for the same (from, to) pair that are valid at the same time are an
error (which one applies would be ambiguous); revoked agreements are left out of that
check, so a revoked one may stay in the file for the record beside its successor.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final, Literal, TypeVar

import yaml

from skyshare.errors import ConfigError
from skyshare.share.regions import (
    SharedRegion,
    _Invalid,
    _Nested,
    _number,
    _unknown,
    parse_regions,
)

__all__ = [
    "AGREEMENT_ID",
    "FIELD_GROUPS",
    "PARTNER_NAME",
    "Agreement",
    "AgreementError",
    "AgreementSet",
    "Exclusions",
    "SharedRegion",
    "load_agreements",
    "parse_agreements",
    "parse_utc",
]

FIELD_GROUPS: Final = ("position", "identity", "squawk", "quality", "provenance")
"""What an agreement's ``fields:`` may grant, in canonical order (see egress.GROUP_FIELDS)."""
PARTNER_NAME: Final = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
AGREEMENT_ID: Final = re.compile(r"^[a-z0-9._-]{1,64}$")
Sources = Literal["own", "all"]


class AgreementError(ConfigError):
    """A bad agreement: ``where`` is ``file:agreement N (id): key`` (parts as known)."""

    def __init__(self, message: str, *, path: str, index: int | None = None,
                 agreement_id: str | None = None, key: str | None = None) -> None:
        self.path, self.index, self.agreement_id, self.key = path, index, agreement_id, key
        where = path
        if index is not None:
            where += f":agreement {index}" + (f" ({agreement_id})" if agreement_id else "")
        if key:
            where += f": {key}"
        super().__init__(message, where=where)


@dataclass(frozen=True)
class Exclusions:
    """Tracks never shared under an agreement, whatever their position."""

    addresses: tuple[int, ...] = ()  # ICAO 24-bit addresses
    categories: tuple[int, ...] = ()  # ADS-B emitter categories, 0xA7 for "A7"
    exercise: bool = False  # True: EXERCISE tracks are not shared

    def __bool__(self) -> bool:
        return bool(self.addresses or self.categories or self.exercise)


@dataclass(frozen=True)
class Agreement:
    """What ``giver`` shares with ``receiver`` (YAML ``from`` and ``to``).

    Times are UNIX seconds UTC; ``valid_from`` is inclusive and ``valid_until``
    exclusive, None meaning unbounded.  ``fields`` lists the granted groups in the order
    of :data:`FIELD_GROUPS`.  ``source`` says where it was read (for messages)."""

    id: str
    giver: str
    receiver: str
    regions: tuple[SharedRegion, ...]
    fields: tuple[str, ...] = ("position",)
    sources: Sources = "own"
    min_delay_s: float = 0.0
    max_rate_hz: float = 1.0
    exclude: Exclusions = field(default_factory=Exclusions)
    alerts: bool = False
    handover: bool = False
    valid_from: float | None = None
    valid_until: float | None = None
    revoked: bool = False
    source: str = ""

    def active_at(self, t: float) -> bool:
        """True when not revoked and ``t`` is inside the validity period."""
        if self.revoked or math.isnan(t):
            return False
        return ((self.valid_from is None or t >= self.valid_from)
                and (self.valid_until is None or t < self.valid_until))

    def grants(self, group: str) -> bool:
        return group in self.fields

    def overlaps(self, other: Agreement) -> bool:
        """True when both validity periods share an instant."""
        start = max(self.valid_from or -math.inf, other.valid_from or -math.inf)
        end = min(math.inf if self.valid_until is None else self.valid_until,
                  math.inf if other.valid_until is None else other.valid_until)
        return start < end


class AgreementSet:
    """Every agreement of a federation, checked as a set (ids unique, at most one
    agreement valid at a time per direction)."""

    def __init__(self, agreements: Iterable[Agreement]) -> None:
        self.agreements = tuple(agreements)
        seen: dict[str, Agreement] = {}
        for a in self.agreements:
            if a.id in seen:
                raise AgreementError(f"agreement id {a.id!r} is used twice (also at "
                                     f"{seen[a.id].source}): give each agreement its own id",
                                     path=a.source, key="id")
            seen[a.id] = a
        self._by_id = seen
        live = [a for a in self.agreements if not a.revoked]
        for k, a in enumerate(live):
            for b in live[:k]:
                if (a.giver, a.receiver) == (b.giver, b.receiver) and a.overlaps(b):
                    raise AgreementError(
                        f"{a.id!r} and {b.id!r} (at {b.source}) both cover {a.giver} -> "
                        f"{a.receiver} at the same time: which one applies would be "
                        "ambiguous; end one's 'valid: until' where the other's 'from' "
                        "begins, or mark the old one 'revoked: true'", path=a.source, key="valid")

    def __len__(self) -> int:
        return len(self.agreements)

    def __iter__(self) -> Iterator[Agreement]:
        return iter(self.agreements)

    def __getitem__(self, agreement_id: str) -> Agreement:
        return self._by_id[agreement_id]

    @property
    def partners(self) -> tuple[str, ...]:
        """Every partner named as giver or receiver, sorted."""
        return tuple(sorted({a.giver for a in self} | {a.receiver for a in self}))

    def outgoing(self, partner: str) -> tuple[Agreement, ...]:
        """Agreements under which ``partner`` gives (whether active or not)."""
        return tuple(a for a in self if a.giver == partner)

    def incoming(self, partner: str) -> tuple[Agreement, ...]:
        """Agreements under which ``partner`` receives (whether active or not)."""
        return tuple(a for a in self if a.receiver == partner)

    def between(self, giver: str, receiver: str, at_time: float) -> Agreement | None:
        """The agreement under which ``giver`` shares with ``receiver`` at ``at_time``
        (at most one, by construction), or None."""
        for a in self:
            if a.giver == giver and a.receiver == receiver and a.active_at(at_time):
                return a
        return None

    def active(self, at_time: float) -> tuple[Agreement, ...]:
        return tuple(a for a in self if a.active_at(at_time))


# --------------------------------------------------------------------------- parsing
T = TypeVar("T")
MAX_DELAY_S: Final = 300.0
MAX_RATE_HZ: Final = 20.0
KEYS: Final = ("id", "from", "to", "valid", "revoked", "regions", "fields", "sources",
               "min_delay_s", "max_rate_hz", "exclude", "alerts", "handover")
REQUIRED: Final = ("id", "from", "to", "regions", "fields")
EXCLUDE_KEYS: Final = ("addresses", "categories", "exercise")
VALID_KEYS: Final = ("from", "until")
CATEGORY: Final = re.compile(r"^[A-D][0-7]$")
ADDRESS: Final = re.compile(r"^[0-9a-fA-F]{6}$")


def _utc(value: object) -> float:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(
                value)
        except ValueError:
            raise _Invalid(f"{value!r} is not an ISO date or time; write 2026-01-01 or "
                           "2026-01-01T00:00:00Z") from None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise _Invalid(f"{value.isoformat()} has no time zone: write it in UTC with a Z, "
                           f"e.g. {value.isoformat()}Z")
        return value.timestamp()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()
    raise _Invalid(f"{value!r} is not a date or time; write 2026-01-01 or 2026-01-01T00:00:00Z")


def parse_utc(value: object, where: str) -> float:
    """UNIX seconds of a date (00:00 UTC) or a time with a zone, as YAML or ISO text."""
    try:
        return _utc(value)
    except _Invalid as exc:
        raise ConfigError(str(exc), where=where) from None


def _validity(value: object) -> tuple[float | None, float | None]:
    if not isinstance(value, dict):
        raise _Invalid("write valid: {from: 2026-01-01, until: 2028-01-01} (both optional)")
    _unknown(value, VALID_KEYS)
    bounds: list[float | None] = []
    for key in VALID_KEYS:
        try:
            bounds.append(None if value.get(key) is None else _utc(value[key]))
        except _Invalid as exc:
            raise _Nested(f"valid.{key}", str(exc)) from None
    start, end = bounds
    if start is not None and end is not None and not start < end:
        raise _Nested("valid.until", "must be later than valid.from")
    return start, end


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"must be true or false, not {value!r}")
    return value


def _name(value: object, pattern: re.Pattern[str], what: str) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise _Invalid(f"{value!r} is not a valid {what} (it must match {pattern.pattern}; "
                       "quote it if YAML reads it as a number or true/false)")
    return value


def _fields(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Invalid(f"write a list of field groups among {', '.join(FIELD_GROUPS)}")
    unknown = [v for v in value if v not in FIELD_GROUPS]
    if unknown:
        raise _Invalid(f"unknown field group {unknown[0]!r}; expected some of "
                       f"{', '.join(FIELD_GROUPS)}")
    if len(set(value)) != len(value):
        raise _Invalid("a field group is listed twice")
    if "position" not in value:
        raise _Invalid("'position' is mandatory: nothing can be shared without it")
    return tuple(g for g in FIELD_GROUPS if g in value)


def _sources(value: object) -> Sources:
    if value == "own" or value == "all":
        return value
    raise _Invalid(f"{value!r}: write 'own' (only the sender's own sensors' tracks) or 'all' "
                   "(also what it received from other partners)")


def _list(value: object, parse: Callable[[object], T], key: str) -> tuple[T, ...]:
    if not isinstance(value, list):
        raise _Nested(key, f"write a list, e.g. {key}: [...]")
    try:
        return tuple(parse(v) for v in value)
    except _Invalid as exc:
        raise _Nested(key, str(exc)) from None


def _address(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        raise _Invalid(f"{value} was read as a number: quote the hex address, e.g. '{value}'")
    if not isinstance(value, str) or not ADDRESS.match(value):
        raise _Invalid(f"{value!r} is not an ICAO 24-bit address: write 6 hex digits, "
                       "e.g. '3c6444'")
    return int(value, 16)


def _category(value: object) -> int:
    if not isinstance(value, str) or not CATEGORY.match(value):
        raise _Invalid(f"{value!r} is not an ADS-B emitter category: write A0..D7, e.g. A7")
    return int(value, 16)


def _exclusions(value: object) -> Exclusions:
    if not isinstance(value, dict):
        raise _Invalid("write exclude: {addresses: ['3c6444'], categories: [A7], "
                       "exercise: false}")
    try:
        _unknown(value, EXCLUDE_KEYS)
    except _Invalid as exc:
        raise _Nested("exclude", str(exc)) from None
    addresses = _list(value.get("addresses", []), _address, "exclude.addresses")
    categories = _list(value.get("categories", []), _category, "exclude.categories")
    try:
        exercise = _bool(value.get("exercise", False))
    except _Invalid as exc:
        raise _Nested("exclude.exercise", str(exc)) from None
    return Exclusions(tuple(sorted(set(addresses))), tuple(sorted(set(categories))), exercise)


def _agreement(raw: object, index: int, path: Path) -> Agreement:
    ident = raw.get("id") if isinstance(raw, dict) else None
    shown = ident if isinstance(ident, str) and AGREEMENT_ID.match(ident) else None

    def error(message: str, key: str | None = None) -> AgreementError:
        return AgreementError(message, path=str(path), index=index, agreement_id=shown,
                              key=key)

    if not isinstance(raw, dict):
        raise error("must be a mapping with id, from, to, regions, fields ...")
    try:
        _unknown(raw, KEYS)
    except _Invalid as exc:
        raise error(str(exc)) from None
    for key in REQUIRED:
        if key not in raw:
            raise error(f"missing {key!r}: every agreement needs {', '.join(REQUIRED)}")

    def take(key: str, parse: Callable[[object], T], default: T) -> T:
        if key not in raw:
            return default
        try:
            return parse(raw[key])
        except _Nested as exc:
            raise error(str(exc), exc.sub) from None
        except _Invalid as exc:
            raise error(str(exc), key) from None

    giver = take("from", lambda v: _name(v, PARTNER_NAME, "partner name"), "")
    receiver = take("to", lambda v: _name(v, PARTNER_NAME, "partner name"), "")
    if giver == receiver:
        raise error(f"'from' and 'to' are both {giver!r}: an agreement is between two "
                    "partners", "to")
    no_bounds: tuple[float | None, float | None] = (None, None)
    valid_from, valid_until = take("valid", _validity, no_bounds)
    return Agreement(
        id=take("id", lambda v: _name(v, AGREEMENT_ID, "agreement id"), ""),
        giver=giver, receiver=receiver,
        regions=take("regions", lambda v: parse_regions(v, path.parent), ()),
        fields=take("fields", _fields, ()),
        sources=take("sources", _sources, "own"),
        min_delay_s=take("min_delay_s", lambda v: _number(v, 0.0, MAX_DELAY_S), 0.0),
        max_rate_hz=take("max_rate_hz",
                         lambda v: _number(v, 0.0, MAX_RATE_HZ, low_open=True), 1.0),
        exclude=take("exclude", _exclusions, Exclusions()),
        alerts=take("alerts", _bool, False), handover=take("handover", _bool, False),
        valid_from=valid_from, valid_until=valid_until,
        revoked=take("revoked", _bool, False),
        source=f"{path}:agreement {index}" + (f" ({shown})" if shown else ""))


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key given twice in one mapping (PyYAML would keep
    the last one silently: a second ``fields:`` must not quietly widen a grant)."""


def _unique_keys(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[tuple[str, str]] = set()
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value != "<<":
            key = (key_node.tag, key_node.value)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key_node.value!r} is given twice in one mapping; "
                    "keep one", key_node.start_mark)
            seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_keys)


def parse_agreements(text: str | bytes, path: str | Path) -> list[Agreement]:
    """The agreements of one YAML document; ``path`` names it in errors and is where
    ``geojson:`` paths are relative to."""
    path = Path(path)
    try:
        doc = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise AgreementError(f"not valid YAML: {exc.problem or exc.context}{at}",
                             path=str(path)) from None
    except yaml.YAMLError as exc:
        raise AgreementError(f"not valid YAML: {str(exc).splitlines()[0]}",
                             path=str(path)) from None
    if doc is None:
        raise AgreementError("the file is empty: write one agreement, or 'agreements:' with "
                             "a list of them", path=str(path))
    if not isinstance(doc, dict):
        raise AgreementError("the top level must be one agreement (a mapping) or "
                             "'agreements:' with a list", path=str(path))
    items: list[object] = [doc]
    if "agreements" in doc:
        if len(doc) != 1:
            raise AgreementError("a file with 'agreements:' has no other top-level key; "
                                 "move the others into the list's entries", path=str(path))
        listed = doc["agreements"]
        if not isinstance(listed, list):
            raise AgreementError("'agreements' must be a list ('- id: ...' entries)",
                                 path=str(path), key="agreements")
        items = listed
    return [_agreement(item, i, path) for i, item in enumerate(items, 1)]


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise AgreementError(f"cannot read: {exc.strerror or exc}", path=str(path)) from None


def _yaml_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir()
                       if p.suffix in (".yaml", ".yml") and p.is_file())
        if not files:
            raise AgreementError("no *.yaml or *.yml file in this folder", path=str(path))
        return files
    if not path.exists():
        raise AgreementError("no such file or folder", path=str(path))
    return [path]


@dataclass(frozen=True)
class AgreementFiles:
    """The files an agreement set is read from, with their modification times and sizes:
    two differ when a file was edited, added or removed (how nodes and ``serve`` notice
    an edit, a revocation say, without reading the YAML each second)."""

    stamp: tuple[tuple[str, float, int], ...]

    @classmethod
    def of(cls, paths: Iterable[str | Path]) -> AgreementFiles:
        found: list[tuple[str, float, int]] = []
        for path in paths:
            try:
                files = _yaml_files(Path(path))
            except AgreementError as exc:  # the loader will say so when it reads them
                found.append((str(exc), 0.0, -1))
                continue
            for f in files:
                try:
                    st = f.stat()
                except OSError:
                    found.append((str(f), 0.0, -1))
                    continue
                found.append((str(f), st.st_mtime, st.st_size))
        return cls(tuple(found))


def load_agreements(paths: Iterable[str | Path]) -> AgreementSet:
    """The agreements of YAML files and folders (every ``*.yaml``/``*.yml`` of a folder,
    sorted by name) as one checked set."""
    out: list[Agreement] = []
    for path in paths:
        for file in _yaml_files(Path(path)):
            out.extend(parse_agreements(_read(file), file))
    return AgreementSet(out)
