"""Shared fixtures: no test touches the user's database; storage tests run on SQLite and PostgreSQL.

PostgreSQL: the server at ``$COMPLIANCE_TEST_POSTGRES_URL`` (default
``postgresql+psycopg2://postgres@127.0.0.1:5432/postgres``, trust auth). Each
test session creates a uniquely named database and drops it at the end; each
test gets a fresh schema in it (via ``search_path``). When the server cannot be
reached, tests that need it are skipped with the reason, except under CI
(``CI=true``), where they fail: .ci/run starts a server, so a missing one is a
broken pipeline, not something to skip quietly.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

PG_ENV = "COMPLIANCE_TEST_POSTGRES_URL"
PG_DEFAULT = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


def in_ci() -> bool:
    """True on a CI runner (the convention: CI=true)."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


# Property tests (test_hostile_engine.py): on CI the same examples every run, so that a
# red build is reproducible and never a roll of the dice; locally, new examples each run.
settings.register_profile("ci", derandomize=True, print_blob=True)
if in_ci():
    settings.load_profile("ci")


@pytest.fixture(autouse=True, scope="session")
def _scratch_default_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """`compliance check --input` records by default: point the default at a scratch file."""
    path = tmp_path_factory.mktemp("default-db") / "compliance.db"
    patch = pytest.MonkeyPatch()
    patch.setenv("COMPLIANCE_DATABASE_URL", f"sqlite:///{path}")
    yield
    patch.undo()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[URL]:
    """A fresh PostgreSQL database for this test session (dropped afterwards): its URL."""
    from compliance.store.db import describe, masked

    server = make_url(os.environ.get(PG_ENV, PG_DEFAULT))
    admin = create_engine(server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    name = f"compliance_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any failure to reach or use the server
        reason = f"PostgreSQL at {masked(server)} is not usable: {describe(exc, server)}"
        admin.dispose()
        if in_ci():
            pytest.fail(f"{reason} (CI=true: PostgreSQL is required; .ci/run starts one)")
        pytest.skip(f"{reason} (start one, or set {PG_ENV}; under CI=true this fails)")
    try:
        yield server.set(database=name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A URL of an empty database: a SQLite file, then a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'record.db'}"
        return
    base: URL = request.getfixturevalue("postgres_database")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = base.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


class Clock:
    """A clock for tests: starts at a fixed instant and moves only when told."""

    def __init__(self, start: datetime = datetime(2026, 11, 5, 14, 0, tzinfo=timezone.utc)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move forward (e.g. ``advance(hours=1)``) and return the new time."""
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    """A fresh :class:`Clock`."""
    return Clock()
