"""What a node records about itself in its audit log: its configuration and its users.

At start the node compares its configuration with the last one it recorded and appends
``config.changed`` with the differences (the first start records it whole); while it
runs it notices user changes made with ``skyshare users`` (the store's version counter)
and appends ``users.changed``.  Secrets never enter the log: passwords are not read,
and the query string of a tile URL (where API keys live) is replaced by ``?…``.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

from skyshare.alerts.workflow import Event
from skyshare.auth import UserStore
from skyshare.config import NodeConfig
from skyshare.store.audit.chain import canonical_data

SUBJECT = "node"


class AuditReader(Protocol):
    """The reading side of :class:`skyshare.store.audit.AuditLog`."""

    def entries(self, since_seq: int = 1, until_seq: int | None = None,
                kind: str | None = None) -> Iterator[Any]: ...


def plain(value: object) -> Any:
    """A settings value as JSON: dataclasses as objects, paths and enums as text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, frozenset | set):
        return sorted(plain(v) for v in value)
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    return value


def config_json(config: NodeConfig) -> dict[str, Any]:
    """The configuration as it goes into the log (no secrets)."""
    doc: dict[str, Any] = plain(config)
    url = doc["map"]["tile_url"]
    if url and "?" in url:
        doc["map"]["tile_url"] = url.split("?", 1)[0] + "?…"
    return doc


def flatten(doc: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}`` (lists stay values)."""
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """Per dotted key, ``{"old": ..., "new": ...}`` where the two documents differ."""
    a, b = flatten(old), flatten(new)
    return {k: {"old": a.get(k), "new": b.get(k)} for k in sorted(a.keys() | b.keys())
            if a.get(k) != b.get(k)}


def digest(doc: dict[str, Any]) -> str:
    """SHA-256 of ``doc`` in the audit log's canonical JSON."""
    return hashlib.sha256(canonical_data(doc)[0].encode()).hexdigest()


def _last(log: AuditReader, kind: str, key: str) -> dict[str, Any] | None:
    last = None
    for entry in log.entries(kind=kind):
        last = entry.data.get(key)
    return last if isinstance(last, dict) else None


class ChangeWatch:
    """Turns configuration and user changes into audit events."""

    def __init__(self, config: NodeConfig, users: UserStore, log: AuditReader) -> None:
        self.config = config
        self.users = users
        self._config_done = False
        self._config_before = _last(log, "config.changed", "config")
        self._users_before = _last(log, "users.changed", "users")
        self._users_version: int | None = None

    def users_json(self) -> dict[str, Any]:
        return {u.user: {"partner": u.partner, "role": plain(u.role), "disabled": u.disabled,
                         "password_changed": u.password_changed}
                for u in self.users.users()}

    def changes(self, now: float | None = None) -> list[Event]:
        """Events for what changed since the last call (or the last run, at first)."""
        events: list[Event] = []
        if not self._config_done:
            self._config_done = True
            doc = config_json(self.config)
            if doc != self._config_before:
                events.append(self._event("config.changed", {
                    "config": doc, "sha256": digest(doc),
                    "changed": differences(self._config_before or {}, doc)}, now))
        version = self.users.version()
        if version != self._users_version:
            self._users_version = version
            doc = self.users_json()
            if doc != (self._users_before or {}):
                events.append(self._event("users.changed", {
                    "users": doc, "changed": differences(self._users_before or {}, doc)}, now))
                self._users_before = doc
        return events

    def _event(self, kind: str, data: dict[str, Any], now: float | None) -> Event:
        return Event(kind, SUBJECT, data, "system", False, time.time() if now is None else now)
