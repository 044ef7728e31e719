"""The node's users in one SQLite file, shared by the node and ``skyshare users``.

Storage
-------
Default ``<data_dir>/users.sqlite``, created mode 0600 because it holds password
hashes.  The node reads it while the CLI writes it, so every call opens its own
connection and every write is one short ``BEGIN IMMEDIATE`` transaction: no process
holds a lock between calls, and a reader meeting a commit waits a few milliseconds.
The journal is SQLite's default rollback journal, not WAL: with a connection per call,
WAL would create and delete its ``-wal`` and ``-shm`` files at every read.  Reading
never creates the file; a missing file is an empty store.  ``PRAGMA user_version`` is
1.  Tables::

    users(name, partner, role, password, created, password_changed, disabled, stamp)
    meta(key, value)       -- one row: ('version', N)

``version`` grows by one in every transaction that changes users, and each row changed
takes the new value as its ``stamp``.  A running node notices CLI edits with one cheap
read (:meth:`UserStore.version`) and tells which users changed by their stamps.  The
counter starts at a random 48-bit value, so a store deleted and created again does not
repeat the stamps that live sessions remember.

User and partner names are 1 to 64 of ``[A-Za-z0-9_.-]`` (they end up in audit
entries, URLs and log lines).  User names compare without regard to ASCII case: "Alice"
and "alice" are one user, spelled as given to :meth:`UserStore.add`.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from skyshare.auth.passwords import (
    DEFAULT_N,
    DEFAULT_P,
    DEFAULT_R,
    MAX_N,
    decoy_hash,
    hash_password,
    params_ok,
    verify_password,
)
from skyshare.auth.roles import Actor, Role
from skyshare.errors import AuthError, ConfigError, SkyshareError

USERS_FILE: Final = "users.sqlite"
LOGIN_FAILED: Final = "wrong user name or password"
NAME: Final = re.compile(r"[A-Za-z0-9_.-]{1,64}", re.ASCII)
SCHEMA_VERSION: Final = 1
_SCHEMA: Final = ("""
CREATE TABLE users (
    name             TEXT    PRIMARY KEY COLLATE NOCASE,
    partner          TEXT    NOT NULL,
    role             TEXT    NOT NULL CHECK (role IN ('read_only', 'duty_officer',
                                                      'supervisor')),
    password         TEXT    NOT NULL,
    created          REAL    NOT NULL,
    password_changed REAL    NOT NULL,
    disabled         INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    stamp            INTEGER NOT NULL
)""", "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
_VERSION: Final = "SELECT value FROM meta WHERE key = 'version'"


@dataclass(frozen=True)
class UserInfo:
    """One user as :meth:`UserStore.users` lists it (never its password hash)."""

    user: str
    partner: str
    role: Role
    created: float  # UNIX s
    password_changed: float  # UNIX s
    disabled: bool


class UserStoreError(SkyshareError):
    """The user store cannot be read or written; ``path`` names it."""

    def __init__(self, message: str, *, path: str | Path = "") -> None:
        self.path = str(path)
        super().__init__(f"{path}: {message}" if path else message)


class UserStore:
    """Users of one node; see the module docstring for the file and its locking.

    ``scrypt_n`` is the cost of new hashes (tests lower it to stay fast); hashes
    already stored keep the parameters written into them.
    """

    def __init__(self, path: str | Path, *, scrypt_n: int = DEFAULT_N) -> None:
        if not params_ok(scrypt_n, DEFAULT_R, DEFAULT_P):
            raise ConfigError(f"{scrypt_n} is not a power of 2 in 2..{MAX_N}",
                              where="scrypt_n")
        self.path = Path(path)
        self._n = scrypt_n
        self._decoy = decoy_hash(scrypt_n)  # what names that do not exist are checked against

    def add(self, user: str, partner: str, role: Role | str, password: str) -> None:
        """A new user; AuthError ``user_exists`` when the name is taken."""
        _check_name(user, "user name")
        _check_name(partner, "partner")
        role = _role(role)
        stored = hash_password(password, n=self._n)  # before the write lock: it is slow
        now = time.time()
        with self._write() as conn:
            taken = conn.execute("SELECT name FROM users WHERE name = ?", (user,)).fetchone()
            if taken is not None:
                raise AuthError("user_exists", f"user {taken[0]!r} already exists: pick "
                                "another name, or change it with 'skyshare users passwd' "
                                "or 'skyshare users role'")
            conn.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
                         (user, partner, role.value, stored, now, now, _bump(conn)))

    def set_password(self, user: str, password: str) -> None:
        """A new password for ``user``; its sessions end."""
        stored = hash_password(password, n=self._n)
        self._change(user, "UPDATE users SET password = ?, password_changed = ?, stamp = ? "
                           "WHERE name = ?", stored, time.time())

    def set_role(self, user: str, role: Role | str) -> None:
        """A new role for ``user``; its sessions end (they carry the old role)."""
        self._change(user, "UPDATE users SET role = ?, stamp = ? WHERE name = ?",
                     _role(role).value)

    def set_disabled(self, user: str, disabled: bool) -> None:
        """Disable (sessions end, logins refused) or enable ``user``, keeping its data."""
        self._change(user, "UPDATE users SET disabled = ?, stamp = ? WHERE name = ?",
                     int(disabled))

    def remove(self, user: str) -> None:
        """Delete ``user``; its sessions end."""
        with self._write() as conn:
            _bump(conn)
            if conn.execute("DELETE FROM users WHERE name = ?", (user,)).rowcount == 0:
                raise _unknown(user)

    def users(self) -> list[UserInfo]:
        """Every user, sorted by name."""
        with self._read() as conn:
            rows = [] if conn is None else conn.execute(
                "SELECT name, partner, role, created, password_changed, disabled FROM users "
                "ORDER BY name").fetchall()
        try:
            return [UserInfo(name, partner, Role(role), created, changed, bool(disabled))
                    for name, partner, role, created, changed, disabled in rows]
        except ValueError as exc:
            raise UserStoreError(f"corrupt user row: {exc}", path=self.path) from exc

    def authenticate(self, user: str, password: str) -> Actor:
        """The actor for right credentials; AuthError ``bad_credentials`` or ``disabled``.

        Not throttled: logins from the network go through :meth:`Sessions.login`.
        """
        return self.authenticate_stamped(user, password)[0]

    def authenticate_stamped(self, user: str, password: str) -> tuple[Actor, int]:
        """Like :meth:`authenticate`, with the user's stamp (what :class:`Sessions` keeps).

        One scrypt run whether or not ``user`` exists, and the same error for both.
        """
        row = None
        if NAME.fullmatch(user):
            with self._read() as conn:
                if conn is not None:
                    row = conn.execute("SELECT name, partner, role, password, disabled, "
                                       "stamp FROM users WHERE name = ?", (user,)).fetchone()
        ok = verify_password(password, row[3] if row is not None else self._decoy)
        if row is None or not ok:
            raise AuthError("bad_credentials", LOGIN_FAILED)
        if row[4]:  # told only to whoever knows the password
            raise AuthError("disabled", "this account is disabled: ask your node "
                                        "administrator to enable it")
        return Actor(row[0], row[1], _role(row[2])), int(row[5])

    def version(self) -> int:
        """A number that changes whenever any user changes (0: no store yet)."""
        with self._read() as conn:
            return 0 if conn is None else int(conn.execute(_VERSION).fetchone()[0])

    def stamps(self) -> tuple[int, dict[str, int]]:
        """(version, stamp of each enabled user), read in one snapshot."""
        with self._read() as conn:
            if conn is None:
                return 0, {}
            conn.execute("BEGIN")
            version = int(conn.execute(_VERSION).fetchone()[0])
            rows = conn.execute("SELECT name, stamp FROM users WHERE disabled = 0").fetchall()
            conn.execute("COMMIT")
        return version, {name: int(stamp) for name, stamp in rows}

    def _change(self, user: str, sql: str, *values: object) -> None:
        with self._write() as conn:
            if conn.execute(sql, (*values, _bump(conn), user)).rowcount == 0:
                raise _unknown(user)

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection | None]:
        """A connection to the existing store, or None when there is no store yet."""
        if not self.path.exists():
            yield None
            return
        try:
            # mode=rw: a file deleted meanwhile is an error, not a new empty database
            conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=rw", uri=True,
                                   timeout=10, isolation_level=None)
        except sqlite3.Error as exc:
            raise UserStoreError(f"cannot open the user store: {exc}", path=self.path) from exc
        try:
            yield conn if self._schema(conn) else None
        except sqlite3.Error as exc:
            raise UserStoreError(f"cannot read the user store: {exc}", path=self.path) from exc
        finally:
            conn.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction, creating the store on first use."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):  # 0600 before SQLite writes a hash
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise UserStoreError(f"cannot create the user store: {exc}", path=self.path) from exc
        try:
            conn.execute("PRAGMA synchronous=FULL")  # an edit reported done survives a crash
            conn.execute("BEGIN IMMEDIATE")
            if not self._schema(conn):
                for statement in _SCHEMA:  # not executescript: it would commit first
                    conn.execute(statement)
                conn.execute("INSERT INTO meta VALUES ('version', ?)", (secrets.randbits(48),))
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            yield conn
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise UserStoreError(f"cannot write the user store: {exc}", path=self.path) from exc
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            conn.close()

    def _schema(self, conn: sqlite3.Connection) -> bool:
        """True when the tables exist; refuses a store from a newer skyshare."""
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise UserStoreError(f"written by a newer skyshare (schema {version}): upgrade "
                                 "skyshare", path=self.path)
        return version == SCHEMA_VERSION


def _bump(conn: sqlite3.Connection) -> int:
    """The next store version, also the stamp of the rows this transaction changes."""
    conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'version'")
    return int(conn.execute(_VERSION).fetchone()[0])


def _check_name(name: str, what: str) -> None:
    if not NAME.fullmatch(name):
        raise ConfigError(f"{name!r} is not a valid name: use 1 to 64 letters, digits, "
                          "'_', '.' or '-'", where=what)


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise ConfigError(f"{role!r} is not a role: use one of "
                          f"{', '.join(r.value for r in Role)}", where="role") from None


def _unknown(user: str) -> AuthError:
    return AuthError("unknown_user", f"no user {user!r} on this node: 'skyshare users list' "
                                     "shows who there is")
