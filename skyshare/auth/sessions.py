"""Login sessions in memory, and the throttle that slows password guessing.

Tokens are ``secrets.token_urlsafe(32)``; only their SHA-256 is kept, so a memory dump
or a log of this object's state holds no usable token.  Sessions live in memory: a node
restart logs everybody out, which a duty officer notices at once, rather than leaving
sessions in a file that could be copied.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from skyshare.auth.roles import Actor
from skyshare.auth.store import NAME, UserStore
from skyshare.errors import AuthError


class LoginThrottle:
    """At most ``failures`` failed logins per user name in any ``window_s`` seconds.

    Counts are kept per name, for names that do not exist too, so that the answer does
    not tell which names are real.  An attempt counts as a failure from the moment it
    starts until it succeeds: guesses sent in parallel are counted before their slow
    scrypt runs end.  Names that cannot exist share one count, and at most ``max_names``
    names are remembered (those quiet longest are forgotten first), which bounds memory
    under a spray of names.
    """

    def __init__(self, *, failures: int = 5, window_s: float = 300.0,
                 max_names: int = 10_000) -> None:
        self.failures = failures
        self.window_s = window_s
        self.max_names = max_names
        self._lock = threading.Lock()
        self._times: dict[str, deque[float]] = {}  # least recently tried first

    def begin(self, user: str, now: float) -> None:
        """Count an attempt for ``user``, or raise AuthError ``throttled``."""
        key = _key(user)
        with self._lock:
            times = self._times.pop(key, None) or deque()
            while times and now - times[0] >= self.window_s:
                times.popleft()
            self._times[key] = times
            if len(times) >= self.failures:
                wait = times[0] + self.window_s - now
                raise AuthError("throttled", "too many failed logins for this user name: "
                                f"wait {math.ceil(wait)} s and try again", retry_after_s=wait)
            times.append(now)
            if len(self._times) > self.max_names:
                self._forget(now)

    def succeeded(self, user: str) -> None:
        """Forget the failures of ``user`` after a right password."""
        with self._lock:
            self._times.pop(_key(user), None)

    def __len__(self) -> int:
        """How many names are remembered."""
        with self._lock:
            return len(self._times)

    def _forget(self, now: float) -> None:
        quiet = [k for k, t in self._times.items() if not t or now - t[-1] >= self.window_s]
        for key in quiet:
            del self._times[key]
        excess = len(self._times) - self.max_names * 9 // 10  # room for the next ones
        for key in list(itertools.islice(self._times, max(excess, 0))):
            del self._times[key]


@dataclass
class _Session:
    actor: Actor
    stamp: int  # the user's stamp at login: another one means the user changed since
    started: float
    seen: float


class Sessions:
    """Logged-in users by token; thread-safe.

    A session ends after ``idle_s`` without use, ``max_s`` after login, at logout, or
    as soon as its user is removed, disabled or gets a new role or password, by any
    process (seen at the next :meth:`actor`, which costs one small SQLite read, about
    0.2 ms).
    """

    def __init__(self, store: UserStore, *, idle_s: float = 8 * 3600,
                 max_s: float = 24 * 3600, clock: Callable[[], float] = time.time,
                 throttle: LoginThrottle | None = None) -> None:
        self.store = store
        self.idle_s = idle_s
        self.max_s = max_s
        self.throttle = throttle if throttle is not None else LoginThrottle()
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[bytes, _Session] = {}
        self._version: int | None = None
        self._stamps: dict[str, int] = {}

    def login(self, user: str, password: str) -> tuple[str, Actor]:
        """(token, actor) for right credentials.

        AuthError ``bad_credentials``, ``throttled`` or ``disabled`` otherwise.  Slow on
        purpose (one scrypt run): call it from a worker thread, not an event loop.
        """
        now = self._clock()
        self.throttle.begin(user, now)
        actor, stamp = self.store.authenticate_stamped(user, password)
        self.throttle.succeeded(user)
        token = secrets.token_urlsafe(32)
        with self._lock:
            for key in [k for k, s in self._sessions.items() if self._expired(s, now)]:
                del self._sessions[key]
            self._sessions[_digest(token)] = _Session(actor, stamp, now, now)
        return token, actor

    def actor(self, token: str | None) -> Actor | None:
        """The actor of a live session (whose idle time restarts), else None."""
        if not token:
            return None
        key, now = _digest(token), self._clock()
        with self._lock:
            session = self._sessions.get(key)
            if session is not None and self._expired(session, now):
                del self._sessions[key]
                return None
        if session is None:
            return None
        stamps = self._current_stamps()  # store I/O outside the lock
        with self._lock:
            session = self._sessions.get(key)
            if session is None:  # logged out meanwhile
                return None
            if stamps.get(session.actor.user) != session.stamp:
                del self._sessions[key]
                return None
            session.seen = max(session.seen, now)
            return session.actor

    def require(self, token: str | None) -> Actor:
        """Like :meth:`actor`, but AuthError ``bad_token`` instead of None."""
        actor = self.actor(token)
        if actor is None:
            raise AuthError("bad_token", "you are not logged in or your session has ended: "
                                         "log in again")
        return actor

    def logout(self, token: str) -> None:
        """End the session of ``token`` (nothing happens for an unknown token)."""
        with self._lock:
            self._sessions.pop(_digest(token), None)

    def __len__(self) -> int:
        """How many sessions are held (expired ones go at the next login)."""
        with self._lock:
            return len(self._sessions)

    def _expired(self, session: _Session, now: float) -> bool:
        return now - session.seen >= self.idle_s or now - session.started >= self.max_s

    def _current_stamps(self) -> dict[str, int]:
        version = self.store.version()
        with self._lock:
            if version == self._version:
                return self._stamps
        version, stamps = self.store.stamps()
        with self._lock:  # replaced, never changed: a caller may keep reading the old dict
            self._version, self._stamps = version, stamps
        return stamps


def _key(user: str) -> str:
    return user.lower() if NAME.fullmatch(user) else ""  # names match without ASCII case


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
