"""Opening the record: which database, engines tuned per dialect, transactions, readable errors.

Where the database is, first match wins: ``--db URL``, the environment variable
``COMPLIANCE_DATABASE_URL``, the ``database:`` of compliance.yaml, else a SQLite
file in the user's data directory (``platformdirs.user_data_dir("compliance")/compliance.db``).
:func:`resolve_url` is the one place that decides.

SQLite is the embedded default and is opened in WAL mode (readers never block
the writer) with ``synchronous=NORMAL`` (WAL's recommended setting: an
application crash loses nothing committed; a power cut may lose the last
transactions but never corrupts the file). Writing transactions start with
``BEGIN IMMEDIATE`` so that two writers queue on the busy timeout instead of
failing when one upgrades a read lock. PostgreSQL needs nothing special: the
repository's upserts and row locks do the work.

Every database failure leaves this module as a :class:`StoreError` whose
message is one line and never contains a password.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session

from compliance.private import create_private, make_dirs

ENV_VAR = "COMPLIANCE_DATABASE_URL"
DEFAULT_FILE = "compliance.db"
# Seconds a writer waits for another one before "database is locked". Generous,
# because a long check in another process commits a batch at a time.
SQLITE_BUSY_TIMEOUT = 30.0
# Seconds to wait for a PostgreSQL server to answer before giving up.
PG_CONNECT_TIMEOUT = 10

_WRITE = "compliance_write"


class StoreError(Exception):
    """A database problem, worded as one line for the person at the terminal."""


def default_url() -> str:
    """The SQLite file in the user's data directory (created on first use)."""
    import platformdirs

    path = Path(platformdirs.user_data_dir("compliance", appauthor=False)) / DEFAULT_FILE
    return f"sqlite:///{path}"


def resolve_url(
    given: str | None, environ: Mapping[str, str] = os.environ, configured: str | None = None
) -> str:
    """The database URL to use: the one given (``--db``), else the environment's, else the
    configured one (compliance.yaml ``database:``), else the default."""
    return given or environ.get(ENV_VAR) or configured or default_url()


def masked(url: str | URL) -> str:
    """The URL as it may be shown to people: password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        # Unparseable: it may still hold a password somewhere, so show nothing of it.
        return "<unparseable database URL>"


# The modules SQLAlchemy imports for postgresql:// URLs (by driver).
_POSTGRES_DRIVERS = frozenset({"psycopg2", "psycopg", "asyncpg", "pg8000"})


def describe(exc: BaseException, url: URL | None = None) -> str:
    """One line saying what went wrong: the driver's own first line, without SQL or links."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        text = str(exc.orig)
    elif isinstance(exc, SQLAlchemyError):
        # SQLAlchemy appends "(Background on this error at: ...)" and the statement.
        text = str(exc).split("\n(Background", 1)[0]
    elif isinstance(exc, ModuleNotFoundError) and exc.name in _POSTGRES_DRIVERS:
        if exc.name == "psycopg2":
            return "PostgreSQL support is not installed: pip install 'compliance[postgres]'"
        return (
            f"the PostgreSQL driver {exc.name!r} that this URL asks for is not installed: "
            "pip install 'compliance[postgres]' and write the URL as postgresql+psycopg2://..."
        )
    else:
        text = str(exc) or type(exc).__name__
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), type(exc).__name__)
    if "database or disk is full" in line:  # SQLite's words for ENOSPC (or max_page_count)
        line += " (free space on the database's disk: nothing of this was written)"
    if url is not None and url.password:
        # Drivers echo parts of the DSN in some messages; never the password.
        line = line.replace(str(url.password), "***")
    return line


class Store:
    """The record's database: an engine, its schema check, and transactions.

    ``Store(url)`` connects lazily; :meth:`ensure_schema` (called by
    :func:`open_store`) creates a fresh database or refuses one whose schema is
    older or newer than this code. Use :meth:`read` for queries and
    :meth:`write` for anything that changes rows; both yield a
    :class:`~sqlalchemy.orm.Session` inside one transaction, committed when the
    block ends and rolled back if it raises.
    """

    def __init__(self, url: str | URL) -> None:
        try:
            self.url = make_url(url)
        except (ArgumentError, ValueError):
            raise StoreError(
                "cannot parse the database URL (expected e.g. sqlite:///path/to/file.db "
                "or postgresql+psycopg2://user@host/db)"
            ) from None
        self.display = masked(self.url)
        self.dialect = self.url.get_backend_name()
        try:
            self.engine = create_engine(self.url, **_engine_options(self.url))
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise StoreError(f"database {self.display}: {describe(exc, self.url)}") from None
        if self.dialect == "sqlite":
            _tune_sqlite(self.engine, _busy_timeout(self.url))
        # Writing transactions carry this option; on SQLite it selects BEGIN IMMEDIATE.
        self._write_engine = self.engine.execution_options(**{_WRITE: True})

    def __repr__(self) -> str:
        return f"Store({self.display!r})"

    @contextmanager
    def errors(self) -> Iterator[None]:
        """Turn database exceptions raised in the block into one-line :class:`StoreError`."""
        try:
            yield
        except SQLAlchemyError as exc:
            raise StoreError(f"database {self.display}: {describe(exc, self.url)}") from exc

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session in a read transaction."""
        with (
            self.errors(),
            Session(self.engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in a write transaction (SQLite: taken with BEGIN IMMEDIATE)."""
        with (
            self.errors(),
            Session(self._write_engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    def ensure_schema(self, *, create: bool = True) -> None:
        """Create the tables of a fresh database (when ``create``); refuse a stale or newer one."""
        from compliance.store import migrate

        with self.errors():
            migrate.ensure(self, create=create)

    def close(self) -> None:
        """Close the pooled connections."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(
    url: str | None = None,
    *,
    create: bool = True,
    check_schema: bool = True,
    configured: str | None = None,
) -> Store:
    """The store at ``url`` (resolved with :func:`resolve_url`, ``configured`` being the
    config file's ``database:``), its schema checked (and a fresh database created, when
    ``create``) unless ``check_schema`` is false."""
    store = Store(resolve_url(url, configured=configured))
    if store.dialect == "sqlite":
        _make_parent_dir(
            store.url, default=url is None and ENV_VAR not in os.environ and configured is None
        )
    if not check_schema:
        return store
    try:
        store.ensure_schema(create=create)
    except BaseException:
        store.close()
        raise
    return store


def _make_parent_dir(url: URL, *, default: bool) -> None:
    """Create the data directory of the default SQLite file (0700); other paths must exist.
    A new database file is created here, 0600, before SQLite opens it: SQLite gives its
    -wal and -shm files the database file's mode, so the whole record stays owner-only."""
    if not url.database or url.database == ":memory:" or url.query.get("mode") == "memory":
        return
    path = Path(url.database)
    try:
        if default:
            make_dirs(path.parent)
        if path.parent.is_dir():
            create_private(path)
    except OSError as exc:
        raise StoreError(f"cannot create {path}: {exc.strerror}") from None


def _engine_options(url: URL) -> dict[str, Any]:
    """Per-dialect engine options; values given in the URL's query win."""
    connect_args: dict[str, Any] = {}
    if url.get_backend_name() == "sqlite":
        if "timeout" not in url.query:
            connect_args["timeout"] = SQLITE_BUSY_TIMEOUT
    elif (
        url.get_backend_name() == "postgresql"
        and url.get_driver_name() in ("psycopg2", "psycopg")  # libpq's option
        and "connect_timeout" not in url.query
    ):
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT
    options: dict[str, Any] = {"connect_args": connect_args}
    if url.get_backend_name() == "postgresql":
        # A pooled connection may have died with a server restart: test it when it is
        # taken (one round trip), so a restart costs no run an error.
        options["pool_pre_ping"] = True
    return options


def _busy_timeout(url: URL) -> float:
    """Seconds a SQLite connection waits for a lock: the URL's ``timeout``, else the default."""
    given = url.query.get("timeout")
    if isinstance(given, tuple):
        given = given[-1]
    try:
        return float(given) if given is not None else SQLITE_BUSY_TIMEOUT
    except ValueError:
        return SQLITE_BUSY_TIMEOUT


def _tune_sqlite(engine: Engine, busy_timeout: float) -> None:
    """WAL, foreign keys, and transactions whose BEGIN we issue ourselves."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN, not the sqlite3 module.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            _use_wal(cursor, busy_timeout)
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _use_wal(cursor: Any, timeout: float) -> None:
    """Put the file in WAL mode, a lasting setting, so only a new file needs the switch.

    The switch needs the file to itself, and SQLite answers "database is locked" at
    once, without waiting the busy timeout, when another connection is using it: two
    processes opening the same new database (a check and a monitor, say) both try it.
    So the wait is done here, within the same timeout.
    """
    deadline = time.monotonic() + timeout
    while True:
        mode = str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower()
        if mode in ("wal", "memory"):  # in-memory databases have no WAL
            return
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)
