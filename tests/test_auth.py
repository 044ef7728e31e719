"""Users, password hashes, sessions, the login throttle and ``skyshare users``.

Stores are made with a tiny scrypt cost (``scrypt_n=16``) so that the whole file runs
in a few seconds; the default cost is exercised once, and by the CLI.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import os
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import skyshare.auth
from skyshare.auth import (
    LOGIN_FAILED,
    Actor,
    LoginThrottle,
    Role,
    Sessions,
    UserStore,
    UserStoreError,
    hash_password,
    verify_password,
)
from skyshare.cli import main
from skyshare.errors import AuthError, ConfigError

PASSWORD = "correct horse battery"
OTHER = "staple tumbles quietly"


class Clock:
    """A settable clock for sessions and the throttle."""

    def __init__(self, now: float = 1_764_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@functools.cache
def small_hash() -> str:
    return hash_password(PASSWORD, n=16, r=1, p=1)


@pytest.fixture
def store(tmp_path: Path) -> UserStore:
    users = UserStore(tmp_path / "users.sqlite", scrypt_n=16)
    users.add("alice", "DSNA", Role.DUTY_OFFICER, PASSWORD)
    users.add("bob", "ENAV", Role.SUPERVISOR, OTHER)
    return users


def auth_error(call: object, *args: str) -> AuthError:
    assert callable(call)
    with pytest.raises(AuthError) as info:
        call(*args)
    return info.value


def test_public_api() -> None:
    assert sorted(skyshare.auth.__all__) == sorted([
        "LOGIN_FAILED", "MIN_PASSWORD_CHARS", "USERS_FILE", "Actor", "LoginThrottle",
        "Role", "Sessions", "UserInfo", "UserStore", "UserStoreError", "hash_password",
        "verify_password"])


def test_roles() -> None:
    assert [r.can_act() for r in Role] == [False, True, True]
    assert Role("supervisor") is Role.SUPERVISOR and Role.READ_ONLY == "read_only"
    officer = Actor("alice", "DSNA", Role.DUTY_OFFICER)
    assert officer.can_act_for("DSNA") and not officer.can_act_for("ENAV")
    assert not Actor("eve", "DSNA", Role.READ_ONLY).can_act_for("DSNA")


# ----------------------------------------------------------------------------- passwords
def test_hash_round_trip_with_default_parameters() -> None:
    stored = hash_password(PASSWORD)
    assert stored.startswith("scrypt$n=32768,r=8,p=1$")
    _, _, salt, digest = stored.split("$")
    assert len(base64.b64decode(salt)) == 16 and len(base64.b64decode(digest)) == 32
    assert verify_password(PASSWORD, stored)
    assert not verify_password(PASSWORD + " ", stored)


def test_wrong_password_and_fresh_salts() -> None:
    stored = small_hash()
    assert verify_password(PASSWORD, stored)
    assert not verify_password("correct horse batterY", stored)
    assert not verify_password("", stored)
    assert hash_password(PASSWORD, n=16, r=1, p=1) != stored  # a new salt each time


def test_parameters_are_read_from_the_stored_string() -> None:
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=64, r=2, p=3, dklen=32)
    stored = (f"scrypt$n=64,r=2,p=3${base64.b64encode(salt).decode()}$"
              f"{base64.b64encode(digest).decode()}")
    assert verify_password(PASSWORD, stored)
    assert not verify_password(PASSWORD, stored.replace("n=64", "n=32"))
    assert hash_password(PASSWORD, n=4, r=2, p=2).startswith("scrypt$n=4,r=2,p=2$")
    assert verify_password(PASSWORD, hash_password(PASSWORD, n=4, r=2, p=2))


def test_passwords_are_compared_after_unicode_normalisation() -> None:
    stored = hash_password("caf\u00e9 au lait!", n=16, r=1, p=1)
    assert verify_password("cafe\u0301 au lait!", stored)
    assert not verify_password("\ud800 lone surrogate", stored)  # no UnicodeEncodeError


@pytest.mark.parametrize("kwargs", [{"n": 3}, {"n": 2**21}, {"r": 0}, {"p": 17},
                                    {"n": 2**20, "r": 8}])
def test_unusable_parameters_are_refused(kwargs: dict[str, int]) -> None:
    with pytest.raises(ConfigError, match="scrypt"):
        hash_password(PASSWORD, **kwargs)


def test_short_passwords_are_refused() -> None:
    with pytest.raises(ConfigError, match="at least 10 characters") as info:
        hash_password("123456789", n=16)
    assert info.value.where == "password"
    assert verify_password("1234567890", hash_password("1234567890", n=16))


def test_a_differently_spelled_but_equal_hash_is_refused() -> None:
    # base64 ignores the unused low bits of a padded last character: 'Q==' and 'R=='
    # decode alike; accepting both would let an edited file still verify
    stored = small_hash()
    head, salt = stored.split("$")[:2], stored.split("$")[2]
    assert salt.endswith("==")
    last = salt[-3]
    twin = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    index = twin.index(last)
    edited_salt = salt[:-3] + twin[index ^ 1] + "=="
    assert base64.b64decode(edited_salt) == base64.b64decode(salt)
    edited = "$".join([*head, edited_salt, stored.split("$")[3]])
    assert not verify_password(PASSWORD, edited)
    assert not verify_password(PASSWORD, stored.replace("n=16", "n=016"))
    # scrypt's shorter outputs are prefixes of its longer ones: a truncated hash must fail
    # (hypothesis found this one)
    assert not verify_password(PASSWORD, stored[:-20])


@st.composite
def mutations(draw: st.DrawFn) -> str:
    stored = small_hash()
    pos = draw(st.integers(0, len(stored)))
    op = draw(st.sampled_from(["replace", "insert", "delete", "truncate", "swapcase"]))
    char = draw(st.characters(codec="utf-8") | st.sampled_from("$=,+/0123456789nrpA"))
    if op == "replace":
        mutated = stored[:pos] + char + stored[pos + 1:]
    elif op == "insert":
        mutated = stored[:pos] + char + stored[pos:]
    elif op == "delete":
        mutated = stored[:pos] + stored[pos + 1:]
    elif op == "truncate":
        mutated = stored[:pos]
    else:
        mutated = stored[:pos] + stored[pos:pos + 1].swapcase() + stored[pos + 1:]
    return mutated


@given(mutations())
def test_any_edit_of_a_stored_hash_fails_to_verify(mutated: str) -> None:
    assume(mutated != small_hash())
    assert verify_password(PASSWORD, mutated) is False


@given(st.text(), st.text())
def test_garbage_never_raises(password: str, stored: str) -> None:
    assert verify_password(password, stored) is False


# ----------------------------------------------------------------------------- store
def test_store_lists_users_and_authenticates(store: UserStore) -> None:
    before = time.time()
    assert [(u.user, u.partner, u.role, u.disabled) for u in store.users()] == [
        ("alice", "DSNA", Role.DUTY_OFFICER, False), ("bob", "ENAV", Role.SUPERVISOR, False)]
    info = store.users()[0]
    assert before - 60 < info.created == info.password_changed <= time.time()
    assert not hasattr(info, "password")
    assert store.authenticate("alice", PASSWORD) == Actor("alice", "DSNA", Role.DUTY_OFFICER)
    assert store.authenticate("ALICE", PASSWORD).user == "alice"  # spelled as added
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600  # it holds password hashes


def test_unknown_user_and_wrong_password_read_the_same(store: UserStore) -> None:
    errors = [auth_error(store.authenticate, name, password)
              for name, password in [("alice", OTHER), ("nobody", PASSWORD),
                                     ("not a valid name!", PASSWORD), ("", "")]]
    assert {(e.reason, e.message, str(e)) for e in errors} == {
        ("bad_credentials", LOGIN_FAILED, LOGIN_FAILED)}
    assert LOGIN_FAILED == "wrong user name or password"


def test_unknown_names_cost_a_password_hash_too(tmp_path: Path) -> None:
    users = UserStore(tmp_path / "users.sqlite", scrypt_n=2**13)
    users.add("alice", "DSNA", Role.READ_ONLY, PASSWORD)

    def fastest(name: str) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            with pytest.raises(AuthError):
                users.authenticate(name, OTHER)
            times.append(time.perf_counter() - started)
        return min(times)

    # without the decoy hash an unknown name answers ~100 times faster
    assert fastest("nobody") > 0.3 * fastest("alice")


def test_store_edits_and_their_errors(store: UserStore) -> None:
    assert auth_error(store.add, "Alice", "DSNA", "read_only", PASSWORD).reason == "user_exists"
    for call, args in [(store.set_role, ("carol", "supervisor")),
                       (store.set_password, ("carol", PASSWORD)), (store.remove, ("carol",))]:
        error = auth_error(call, *args)
        assert error.reason == "unknown_user" and "skyshare users list" in error.message
    with pytest.raises(ConfigError, match="not a valid name") as info:
        store.add("al ice", "DSNA", Role.READ_ONLY, PASSWORD)
    assert info.value.where == "user name"
    with pytest.raises(ConfigError, match="not a valid name"):
        store.add("carol", "D/SNA", Role.READ_ONLY, PASSWORD)
    with pytest.raises(ConfigError, match="use one of read_only"):
        store.set_role("alice", "boss")
    with pytest.raises(ConfigError, match="at least 10"):
        store.set_password("alice", "short")
    store.set_role("alice", "supervisor")
    store.set_password("alice", OTHER)
    assert store.authenticate("alice", OTHER).role is Role.SUPERVISOR
    assert store.users()[0].password_changed >= store.users()[0].created
    store.set_disabled("alice", True)
    error = auth_error(store.authenticate, "alice", OTHER)
    assert error.reason == "disabled"
    assert auth_error(store.authenticate, "alice", PASSWORD).reason == "bad_credentials"
    store.remove("ALICE")
    assert [u.user for u in store.users()] == ["bob"]


def test_a_missing_store_is_empty_and_not_created(tmp_path: Path) -> None:
    users = UserStore(tmp_path / "nowhere" / "users.sqlite", scrypt_n=16)
    assert users.users() == [] and users.version() == 0
    assert auth_error(users.authenticate, "alice", PASSWORD).reason == "bad_credentials"
    assert not (tmp_path / "nowhere").exists()


def test_two_stores_on_one_file_see_each_others_changes(store: UserStore) -> None:
    cli = UserStore(store.path, scrypt_n=16)  # as a `skyshare users` process would
    version = store.version()
    assert cli.version() == version != 0
    cli.add("carol", "DSNA", "read_only", PASSWORD)
    assert store.version() == version + 1
    assert store.authenticate("carol", PASSWORD).role is Role.READ_ONLY
    store.set_role("carol", Role.DUTY_OFFICER)
    assert [u.role for u in cli.users() if u.user == "carol"] == [Role.DUTY_OFFICER]
    assert cli.version() == version + 2
    with pytest.raises(AuthError):  # a failed edit changes nothing
        cli.remove("nobody")
    assert store.version() == version + 2


def test_unreadable_stores_are_named_errors(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database" * 100)
    with pytest.raises(UserStoreError, match=r"garbage\.sqlite"):
        UserStore(garbage).users()
    newer = tmp_path / "newer.sqlite"
    with sqlite3.connect(newer) as conn:
        conn.execute("PRAGMA user_version = 2")
    conn.close()
    with pytest.raises(UserStoreError, match="newer skyshare"):
        UserStore(newer).version()


# ----------------------------------------------------------------------------- sessions
def test_login_and_logout(store: UserStore) -> None:
    sessions = Sessions(store, clock=Clock())
    token, actor = sessions.login("alice", PASSWORD)
    assert actor == Actor("alice", "DSNA", Role.DUTY_OFFICER)
    assert len(token) >= 43 and sessions.actor(token) == actor
    assert sessions.require(token) == actor
    assert token.encode() not in repr(vars(sessions)).encode()  # only its hash is kept
    for bad in (None, "", token + "x", "\ud800"):
        assert sessions.actor(bad) is None
    assert auth_error(sessions.require, None).reason == "bad_token"
    other, _ = sessions.login("alice", PASSWORD)
    sessions.logout(token)
    sessions.logout(token)  # twice is harmless
    assert sessions.actor(token) is None and sessions.actor(other) == actor


def test_sessions_expire(store: UserStore) -> None:
    clock = Clock()
    sessions = Sessions(store, idle_s=600, max_s=3600, clock=clock)
    idle, _ = sessions.login("alice", PASSWORD)
    busy, _ = sessions.login("bob", OTHER)
    for _ in range(5):  # bob keeps working; each use restarts the idle time
        clock.now += 500
        assert sessions.actor(busy) is not None
    assert sessions.actor(idle) is None  # 2,500 s without use
    clock.now += 1000  # 3,500 s after login; idle 1,000 s
    assert sessions.actor(busy) is None
    again, _ = sessions.login("bob", OTHER)
    clock.now += 500
    assert sessions.actor(again) is not None
    clock.now += 3100
    assert sessions.actor(again) is None  # used 100 s ago, but logged in over an hour ago
    assert len(sessions) == 0


def test_sessions_end_when_their_user_changes(store: UserStore) -> None:
    cli = UserStore(store.path, scrypt_n=16)  # edits come from another process
    sessions = Sessions(store, clock=Clock())
    alice, _ = sessions.login("alice", PASSWORD)
    bob, _ = sessions.login("bob", OTHER)
    cli.set_role("alice", Role.READ_ONLY)
    assert sessions.actor(alice) is None and sessions.actor(bob) is not None
    alice, actor = sessions.login("alice", PASSWORD)
    assert actor.role is Role.READ_ONLY and sessions.actor(alice) == actor
    cli.set_password("alice", OTHER)
    assert sessions.actor(alice) is None
    alice, _ = sessions.login("alice", OTHER)
    cli.set_disabled("alice", True)
    assert sessions.actor(alice) is None
    assert auth_error(sessions.login, "alice", OTHER).reason == "disabled"
    cli.set_disabled("alice", False)
    alice, _ = sessions.login("alice", OTHER)
    cli.remove("alice")
    assert sessions.actor(alice) is None
    cli.add("alice", "DSNA", Role.SUPERVISOR, OTHER)  # the same name again: not the same user
    assert sessions.actor(alice) is None
    assert sessions.actor(bob) == Actor("bob", "ENAV", Role.SUPERVISOR)


def test_sessions_are_thread_safe(store: UserStore) -> None:
    sessions = Sessions(store)
    tokens = [sessions.login("alice", PASSWORD)[0] for _ in range(4)]
    seen: list[Actor | None] = []

    def work(token: str) -> None:
        for _ in range(50):
            seen.append(sessions.actor(token))
        sessions.logout(token)

    threads = [threading.Thread(target=work, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 200 and set(seen) == {Actor("alice", "DSNA", Role.DUTY_OFFICER)}
    assert len(sessions) == 0


# ----------------------------------------------------------------------------- throttle
def test_five_failures_throttle_a_name_for_the_window(store: UserStore) -> None:
    clock = Clock()
    sessions = Sessions(store, clock=clock)
    for _ in range(5):
        assert auth_error(sessions.login, "alice", OTHER).reason == "bad_credentials"
        clock.now += 10
    error = auth_error(sessions.login, "alice", PASSWORD)  # even the right password
    assert error.reason == "throttled" and error.retry_after_s == pytest.approx(250)
    assert error.message == ("too many failed logins for this user name: wait 250 s and "
                             "try again")
    assert auth_error(sessions.login, "Alice", PASSWORD).reason == "throttled"
    assert sessions.login("bob", OTHER)[1].user == "bob"  # other names are not affected
    clock.now += 250  # the first failure leaves the window
    assert sessions.login("alice", PASSWORD)[1].user == "alice"
    for _ in range(4):  # a success forgot the failures
        auth_error(sessions.login, "alice", OTHER)
    assert sessions.login("alice", PASSWORD)[1].user == "alice"


def test_unknown_names_are_throttled_alike(store: UserStore) -> None:
    sessions = Sessions(store, clock=Clock())
    for name in ("nobody", "bad name!"):
        errors = [auth_error(sessions.login, name, PASSWORD) for _ in range(6)]
        assert [e.reason for e in errors] == ["bad_credentials"] * 5 + ["throttled"]


def test_the_throttle_stays_bounded() -> None:
    throttle = LoginThrottle(max_names=100)
    for i in range(1000):
        throttle.begin(f"user{i}", 1000.0 + i / 100)
        assert len(throttle) <= 100
    throttle.begin("late", 10_000.0)  # everything older than the window goes at once
    for i in range(100):
        throttle.begin(f"again{i}", 10_000.0)
    assert len(throttle) <= 100


# ----------------------------------------------------------------------------- CLI
def run_cli(monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(["users", *args])


def test_cli_manages_users(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    where = ["--data-dir", str(tmp_path)]
    assert run_cli(monkeypatch, "add", "alice", "--partner", "DSNA", "--role",
                   "duty_officer", "--password-stdin", *where, stdin=PASSWORD + "\n") == 0
    assert "added alice (duty_officer of DSNA)" in capsys.readouterr().out
    assert run_cli(monkeypatch, "list", *where) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["USER", "PARTNER", "ROLE"]
    assert lines[1].split()[:3] == ["alice", "DSNA", "duty_officer"]
    store = UserStore(tmp_path / "users.sqlite")
    assert store.authenticate("alice", PASSWORD).role is Role.DUTY_OFFICER
    assert run_cli(monkeypatch, "passwd", "alice", "--password-stdin", *where,
                   stdin=OTHER + "\r\n") == 0
    assert run_cli(monkeypatch, "role", "alice", "supervisor", *where) == 0
    assert run_cli(monkeypatch, "disable", "alice", "--store", str(store.path)) == 0
    assert "alice is disabled; their sessions" in capsys.readouterr().out.splitlines()[-1]
    assert store.users()[0].disabled
    assert run_cli(monkeypatch, "enable", "alice", *where) == 0
    assert store.authenticate("alice", OTHER).role is Role.SUPERVISOR
    assert run_cli(monkeypatch, "remove", "alice", *where) == 0
    assert store.users() == []
    capsys.readouterr()
    assert run_cli(monkeypatch, "list", *where) == 0
    assert "no users in" in capsys.readouterr().err


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (["role", "nobody", "supervisor"], "", "no user 'nobody' on this node"),
    (["add", "carol", "--partner", "DSNA", "--role", "read_only", "--password-stdin"],
     "short\n", "password: too short: use at least 10 characters"),
    (["add", "carol", "--partner", "DSNA", "--role", "read_only", "--password-stdin"],
     "", "standard input is empty"),
    (["add", "alice", "--partner", "DSNA", "--role", "read_only", "--password-stdin"],
     PASSWORD, "user 'alice' already exists"),
])
def test_cli_errors_are_one_line_with_status_2(
        store: UserStore, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], args: list[str], stdin: str, message: str) -> None:
    assert run_cli(monkeypatch, *args, "--store", str(store.path), stdin=stdin) == 2
    err = capsys.readouterr().err
    assert err.startswith("skyshare: error: ") and message in err and err.count("\n") == 1


def test_cli_asks_for_the_password_twice(store: UserStore, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    assert main(["users", "passwd", "alice", "--store", str(store.path)]) == 2
    assert "the two passwords differ" in capsys.readouterr().err
    answers = iter([OTHER, OTHER])
    assert main(["users", "passwd", "alice", "--store", str(store.path)]) == 0
    assert store.authenticate("alice", OTHER).user == "alice"


def test_cli_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["users", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert "examples:" in text and "skyshare users add alice --partner DSNA" in text
    assert "read_only" in text and "supervisor" in text
    for bad in (["users", "role", "alice", "boss"],
                ["users", "list", "--data-dir", "a", "--store", "b"],
                ["users", "add", "alice", "--role", "read_only"]):
        with pytest.raises(SystemExit) as info:
            main(bad)
        assert info.value.code == 2
    assert not os.listdir(tmp_path)


def test_cli_as_a_separate_process(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "skyshare", "users"]
    where = ["--data-dir", str(tmp_path)]
    proc = subprocess.run([*command, "add", "ops.wall", "--partner", "ENAV", "--role",
                           "read_only", "--password-stdin", *where], input=PASSWORD + "\n",
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    node = UserStore(tmp_path / "users.sqlite")  # the node sees it at once
    assert node.authenticate("ops.wall", PASSWORD) == Actor("ops.wall", "ENAV", Role.READ_ONLY)
    proc = subprocess.run([*command, "remove", "nobody", *where], capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "no user 'nobody'" in proc.stderr
