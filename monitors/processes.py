"""The embedded daemon on every core: monitors split over several processes on one machine.

One Python process runs monitors on one core: fetching overlaps on threads, but
parsing, checking and recording hold the GIL. ``compliance daemon --processes N``
starts N copies of itself, each told its share with ``--shard i/N``; each runs the
monitors whose key falls in its share (:func:`shard_of`, a stable hash, so a
monitor stays in its process across reloads and restarts) with its own scheduler,
HTTP clients and group writer. They share the database (SQLite serialises their
write transactions; PostgreSQL takes them side by side) and nothing else.

The parent is a small supervisor (:class:`Supervisor`): it forwards SIGHUP (reload)
and SIGTERM/SIGINT (finish in-flight runs and stop) to its children, restarts a
child that dies (with a growing pause, so a child that keeps dying does not
spin), and exits when they have stopped. A child exiting with status 2 (its
configuration or database cannot be read: restarting cannot help) stops them all,
and the parent exits 2 as a single daemon would. Past one machine, the Celery executor
(``--executor celery`` and ``compliance worker``) is the way; this needs no broker.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import threading
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

log = logging.getLogger("compliance.daemon")

# A child that ran at least this long before dying is restarted at once (a crash);
# one that dies sooner waits longer each time (it cannot start: a broken database,
# say), up to the cap.
_HEALTHY_SECONDS = 60.0
_FIRST_PAUSE, _MAX_PAUSE = 1.0, 60.0
# The daemon's status for "cannot start: the configuration or database is unreadable".
FATAL = 2


def shard_of(key: str, shards: int) -> int:
    """The share (0 .. shards-1) that runs the monitor ``key``: stable across processes
    and runs (CRC-32 of the key, not Python's salted ``hash``)."""
    if shards < 1:
        raise ValueError(f"shards must be at least 1, not {shards}")
    return zlib.crc32(key.encode("utf-8")) % shards


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/N"`` -> ``(i, N)``, with 0 <= i < N."""
    index, sep, total = text.partition("/")
    try:
        i, n = int(index), int(total)
    except ValueError:
        i = n = -1
    if not sep or n < 1 or not 0 <= i < n:
        raise ValueError(f"a shard is i/N with 0 <= i < N, e.g. 0/2, not {text!r}")
    return i, n


@dataclass
class _Child:
    index: int
    argv: list[str]
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    pause: float = _FIRST_PAUSE
    restart_at: float | None = None
    restarts: int = 0


@dataclass
class Supervisor:
    """Runs one command per share and keeps them running (see the module's doc).

    ``commands[i]`` is the argv of share ``i``; children inherit this process's
    environment (secrets are read from it, never put on a command line) and its
    stdout/stderr, so their log lines reach the same journal.
    """

    commands: Sequence[Sequence[str]]
    env: Mapping[str, str] | None = None
    _children: list[_Child] = field(default_factory=list, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _hup: threading.Event = field(default_factory=threading.Event, init=False)
    _status: int = field(default=0, init=False)

    def _start(self, child: _Child) -> None:
        child.proc = subprocess.Popen(child.argv, env=dict(self.env) if self.env else None)
        child.started = time.monotonic()
        child.restart_at = None

    def _signal_all(self, signum: int) -> None:
        for child in self._children:
            if child.proc is not None and child.proc.poll() is None:
                child.proc.send_signal(signum)

    def _wait_all(self) -> list[int]:
        codes = []
        for child in self._children:
            assert child.proc is not None
            codes.append(child.proc.wait())
        return codes

    def run_once(self) -> list[int]:
        """Start every share, wait for all of them, return their exit codes (in order).
        SIGTERM/SIGINT meanwhile are passed on to them."""
        self._children = [_Child(i, list(argv)) for i, argv in enumerate(self.commands)]
        previous = self._install(lambda signum: self._signal_all(signum))
        try:
            for child in self._children:
                self._start(child)
            return self._wait_all()
        finally:
            self._restore(previous)

    def serve(self, *, poll: float = 0.2) -> int:
        """Start every share and keep them running until SIGTERM/SIGINT (passed on;
        then wait for them to stop). SIGHUP is passed on (each re-reads the config).
        Returns 0 once every child has stopped (2 when one exited with 2)."""
        self._children = [_Child(i, list(argv)) for i, argv in enumerate(self.commands)]

        def on_signal(signum: int) -> None:
            if signum == getattr(signal, "SIGHUP", None):
                self._hup.set()
            else:
                self._stop.set()

        previous = self._install(on_signal)
        try:
            for child in self._children:
                self._start(child)
            log.info("daemon started: %d processes", len(self._children))
            while not self._stop.wait(poll):
                if self._hup.is_set():
                    self._hup.clear()
                    self._signal_all(signal.SIGHUP)
                self._tend()
            self._signal_all(signal.SIGTERM)
            self._wait_all()
            log.info("daemon stopped: %d processes", len(self._children))
            return self._status
        finally:
            self._restore(previous)

    def stop(self) -> None:
        """Ask :meth:`serve` to stop its children and return (as SIGTERM does)."""
        self._stop.set()

    def _tend(self) -> None:
        """Restart the children that died, each after its pause."""
        now = time.monotonic()
        for child in self._children:
            assert child.proc is not None
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.restarts += 1
                    self._start(child)
                continue
            code = child.proc.poll()
            if code is None:
                continue
            if code == FATAL:
                log.error(
                    "daemon process %d/%d cannot start (status %d); stopping",
                    child.index,
                    len(self._children),
                    code,
                )
                self._status = FATAL
                self._stop.set()
                return
            if now - child.started >= _HEALTHY_SECONDS:
                child.pause = _FIRST_PAUSE
            log.error(
                "daemon process %d/%d exited with status %d; restarting it in %.0fs",
                child.index,
                len(self._children),
                code,
                child.pause,
            )
            child.restart_at = now + child.pause
            child.pause = min(child.pause * 2, _MAX_PAUSE)

    def pids(self) -> list[int | None]:
        """The children's process ids (None before start); for tests and status."""
        return [c.proc.pid if c.proc is not None else None for c in self._children]

    def restarts(self) -> list[int]:
        """How often each child was restarted."""
        return [c.restarts for c in self._children]

    @staticmethod
    def _install(handler: object) -> dict[int, object]:
        previous: dict[int, object] = {}
        if threading.current_thread() is not threading.main_thread():
            return previous  # signals can only be handled in the main thread (tests)
        names = ("SIGTERM", "SIGINT", "SIGHUP")
        for name in names:
            signum = getattr(signal, name, None)
            if signum is None:
                continue
            previous[signum] = signal.signal(signum, lambda s, _f: handler(s))  # type: ignore[operator]
        return previous

    @staticmethod
    def _restore(previous: dict[int, object]) -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
