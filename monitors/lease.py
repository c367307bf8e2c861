"""One scheduler at a time: a lock that dies with its holder.

With ``--executor celery`` any number of daemons may be started (a standby on a
second machine, a deploy that overlaps the old process); only the holder of the
scheduler lock enqueues, the others wait for it. The lock must go away by itself
when its holder dies, and never be held by two:

* PostgreSQL (the shared database of record of a scale-out): a session-level
  advisory lock (``pg_try_advisory_lock``) on a connection kept open for it. The
  server releases it the moment that connection ends, so a daemon killed with
  ``kill -9`` (or its machine powered off, once TCP keepalive notices) hands over
  to a waiting daemon with no lease to expire and no clock to trust. The holder
  checks that it still holds the lock before every poll; when its connection was
  lost (a database restart) it stops scheduling, so two never schedule at once.
* SQLite (one machine): an exclusive ``flock`` on a file beside the database,
  released by the kernel when the process dies.

The lock is per ``name`` (the task queue), so separate deployments sharing one
database server do not block each other.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import zlib
from pathlib import Path
from typing import IO, Any, Protocol

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool


class SchedulerLock(Protocol):
    """A non-blocking, holder-scoped lock."""

    def try_acquire(self) -> bool:
        """Take the lock if free; True when this process holds it (now or already)."""

    def held(self) -> bool:
        """True while this process still holds the lock."""

    def release(self) -> None:
        """Let the lock go (also done by the server/kernel when the process dies)."""


def lock_id(name: str) -> int:
    """The 63-bit advisory lock key of ``name`` (stable across processes and machines)."""
    return zlib.crc32(f"compliance.scheduler:{name}".encode()) | (0x5C << 32)


class PostgresLock:
    """A session-level PostgreSQL advisory lock on a connection of its own."""

    def __init__(self, url: Any, name: str) -> None:
        self.key = lock_id(name)
        # No pool: exactly one connection, whose life is the lock's.
        self._engine = create_engine(
            url,
            poolclass=NullPool,
            connect_args={
                "connect_timeout": 10,
                # A silent peer (power cut) is noticed in about a minute, freeing the lock.
                "keepalives": 1,
                "keepalives_idle": 30,
                "keepalives_interval": 10,
                "keepalives_count": 3,
            },
        )
        self._conn: Any = None

    def try_acquire(self) -> bool:
        if self.held():
            return True
        self._drop()
        self._conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        got = bool(
            self._conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar()
        )
        if not got:
            self._drop()
        return got

    def held(self) -> bool:
        if self._conn is None:
            return False
        try:
            row = self._conn.execute(
                text(
                    "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND pid = pg_backend_pid() AND objid = :lo AND classid = :hi"
                ),
                {"lo": self.key & 0xFFFFFFFF, "hi": self.key >> 32},
            ).first()
        except Exception:  # the connection is gone, and the lock with it
            self._drop()
            return False
        return row is not None

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # already gone with its connection
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
        self._drop()
        self._engine.dispose()

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # a dead connection holds nothing
                self._conn.close()
            self._conn = None


class FileLock:
    """An exclusive ``flock`` on ``path`` (one machine: the SQLite deployments)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None

    def try_acquire(self) -> bool:
        if self._file is not None:
            return True
        handle = open(self.path, "ab")  # noqa: SIM115  # held open for the lock's life
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    def held(self) -> bool:
        return self._file is not None

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def scheduler_lock(database_url: Any, name: str) -> SchedulerLock:
    """The scheduler lock for the database at ``database_url`` (PostgreSQL or SQLite)."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        return PostgresLock(url, name)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return FileLock(Path(f"{url.database}.scheduler-{os.path.basename(name)}.lock"))
    raise ValueError(
        f"no scheduler lock for a {url.get_backend_name()} database: use PostgreSQL or SQLite"
    )
