"""Private servers that a fault test may stop and start: PostgreSQL and Redis in a temp dir.

The machine's shared servers are never touched: each instance here has its own
data directory, socket directory and free port, and is stopped at the end. When
the binaries are missing the tests skip with the reason, except under CI=true,
where they fail (.ci/run installs PostgreSQL and Redis).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from conftest import in_ci


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _missing(what: str) -> None:
    if in_ci():
        pytest.fail(f"{what} (CI=true: it is required; .ci/run installs it)")
    pytest.skip(f"{what}; install it to run the fault tests (under CI=true this fails)")


def wait_port(port: int, up: bool, limit: float = 30.0) -> None:
    """Wait until 127.0.0.1:``port`` accepts connections (``up``) or refuses them."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            if up:
                return
        except OSError:
            if not up:
                return
        time.sleep(0.05)
    raise AssertionError(f"port {port} did not come {'up' if up else 'down'}")


class PrivatePostgres:
    """A PostgreSQL cluster of our own (trust auth) that can be stopped and started."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            _missing("PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb) are absent")
        self.bin = Path(found[-1]).parent
        # Not under pytest's tmp_path: as root that is private to root (0700), and the
        # postgres user must reach its data and socket directories.
        self.root = root = Path(tempfile.mkdtemp(prefix="compliance-pg-"))
        self.data = root / "pgdata"
        self.sockets = root / "pgsock"
        self.log = root / "pg.log"
        self.port = free_port()
        # initdb and postgres refuse to run as root: run them as the postgres user then.
        self.prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.sockets.mkdir()
        if self.prefix:
            shutil.chown(root, "postgres")
            shutil.chown(self.sockets, "postgres")
        self._run("initdb", "-A", "trust", "-U", "postgres", "-D", str(self.data), "--no-sync")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            [*self.prefix, str(self.bin / tool), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise AssertionError(f"{tool} failed: {done.stdout}\n{done.stderr}")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
        wait_port(self.port, up=True)

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")
        wait_port(self.port, up=False)

    def close(self) -> None:
        """Stop the server if it runs, and remove its files."""
        if (self.data / "postmaster.pid").exists():
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    """A redis-server of our own on a free port, its data in ``root`` (append-only file)."""

    def __init__(self, root: Path) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            _missing("redis-server is not installed")
        self.root = root
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert self.binary is not None
        self.proc = subprocess.Popen(
            # Every write fsynced to the append-only file: a broker that comes back
            # after a crash still holds the messages it had accepted.
            [
                self.binary,
                *("--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.root)),
                *("--save", "", "--appendonly", "yes", "--appendfsync", "always"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port, up=True)

    def kill(self) -> None:
        """Gone at once, as a crashed broker is (SIGKILL: no goodbye to the clients)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        wait_port(self.port, up=False)
