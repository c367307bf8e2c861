"""The database of record as the commands open it: the clock, the store, expired waivers.

This module is the edge where the wall clock is read (:func:`utcnow`); the store
below gets it passed in. Heavy imports (SQLAlchemy) happen inside the functions so
that ``compliance check --text`` starts as fast as before.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

import click

from compliance.cli.errors import handled

if TYPE_CHECKING:
    from compliance.store.db import Store


def utcnow() -> datetime:
    """The wall clock, in UTC: read here, at the edge, and handed to the store."""
    return datetime.now(timezone.utc)


def open_db(db: str | None) -> Store:
    """The store for ``--db`` (created on first use); errors exit 2."""
    from compliance.store.db import open_store

    with handled():
        return open_store(db)


def expire(store: Store, now: datetime) -> None:
    """Reopen violations whose waiver ran out, so that what is shown is current. Checked
    with a read first: a listing takes the write lock only when there is something to do."""
    from compliance.store.lifecycle import expire_waivers, has_expired_waivers

    with store.read() as session:
        if not has_expired_waivers(session, now=lambda: now):
            return
    with store.write() as session:
        expire_waivers(session, now=lambda: now)


def since_option_value(text: str | None, now: datetime) -> datetime | None:
    """``--since`` (7d, 12h, 2w or a date) as a UTC datetime; a bad value is a usage error."""
    from compliance.durations import parse_since

    if text is None:
        return None
    try:
        return parse_since(text, now)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--since'") from None
