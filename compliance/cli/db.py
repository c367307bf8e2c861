"""``compliance db upgrade|current``: the schema of the database of record."""

from __future__ import annotations

import click

from compliance.cli.errors import handled
from compliance.cli.options import db_option


@click.group()
def db() -> None:
    """The database of record: schema upgrades and where it is."""


@db.command("upgrade")
@db_option
def db_upgrade(db: str | None) -> None:
    """Create the database or upgrade its schema to this version's (Alembic migrations)."""
    from compliance.store import migrate
    from compliance.store.db import open_store

    with handled():
        store = open_store(db, check_schema=False)
        before, after = migrate.upgrade(store)
    if before == after:
        click.echo(f"{store.display}: schema {after}, up to date")
    else:
        click.echo(f"{store.display}: schema {before or '(empty)'} -> {after}")


@db.command("current")
@db_option
def db_current(db: str | None) -> None:
    """Which database is used and its schema revision."""
    from compliance.store import migrate
    from compliance.store.db import open_store

    with handled():
        store = open_store(db, check_schema=False)
        with store.errors(), store.engine.connect() as connection:
            revision = migrate.current(connection)
    state = "up to date" if revision == migrate.HEAD else f"this version needs {migrate.HEAD}"
    click.echo(f"{store.display}: schema {revision or '(none)'}, {state}")
