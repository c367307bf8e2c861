"""Schema migrations, run from code: no alembic.ini, no separate tool for users.

The migration scripts live in ``compliance/store/migrations`` (shipped with the
package). :func:`ensure` runs on every open: a database at :data:`HEAD` costs
one query; an empty one is created; one at an older revision is refused with
the command that upgrades it (``compliance db upgrade``): changing the schema
of a shared server is something people should choose to do, not a side effect
of a listing. Creation and upgrades hold a lock (SQLite: ``BEGIN IMMEDIATE``;
PostgreSQL: a transaction-level advisory lock) and run inside one transaction,
so two processes opening a fresh database at once create it once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

    from compliance.store.db import Store

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The newest revision; a test checks it against the scripts so it cannot drift.
# Kept as a constant so that opening a database does not parse every script.
HEAD = "0004"
# Any number, as long as it is the same in every process: the advisory lock's key.
_PG_LOCK_KEY = 0x636F6D70  # "comp"


def config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the shipped scripts (and at ``connection``, if given)."""
    # Alembic is imported only when migrating: opening a database at head does not need it.
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def script_head() -> str | None:
    """The head revision according to the migration scripts themselves."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(config()).get_current_head()


def current(connection: Connection) -> str | None:
    """The database's revision, or None when it has none (fresh, or not ours).

    Read straight from Alembic's ``alembic_version`` table, as Alembic itself does.
    """
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def ensure(store: Store, *, create: bool = True) -> None:
    """Make sure the database is at :data:`HEAD`: create a fresh one, refuse the others."""
    from compliance.store.db import StoreError

    with store.engine.connect() as connection:
        revision = current(connection)
        connection.rollback()
    if revision == HEAD:
        return
    if revision is None and create:
        upgrade(store, fresh_only=True)
        return
    if revision is None:
        raise StoreError(
            f"database {store.display} has no compliance tables; run 'compliance db upgrade'"
        )
    if revision in _known_revisions():
        raise StoreError(
            f"database {store.display} is at schema {revision}, this version needs {HEAD}: "
            "back it up, then run 'compliance db upgrade'"
        )
    raise StoreError(
        f"database {store.display} is at schema {revision}, unknown to this version "
        f"(newest known: {HEAD}); upgrade compliance"
    )


def upgrade(store: Store, *, fresh_only: bool = False) -> tuple[str | None, str]:
    """Upgrade the database to the newest schema; return (revision before, revision after).

    With ``fresh_only``, only an empty database is touched: one that already has
    tables but no revision is not ours to take over, and is refused.
    """
    from alembic import command

    from compliance.store.db import StoreError

    with store.errors(), store._write_engine.connect() as connection, connection.begin():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        before = current(connection)  # again, under the lock: another process may have won
        if before is None:
            tables = set(inspect(connection).get_table_names()) - {"alembic_version"}
            if tables and fresh_only:
                raise StoreError(
                    f"database {store.display} already has tables that are not compliance's "
                    f"({', '.join(sorted(tables)[:3])}...); use another database"
                )
        if before != HEAD:
            command.upgrade(config(connection), "head")
        after = current(connection)
    return before, after or HEAD


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(config())
    return {rev.revision for rev in script.walk_revisions()}
