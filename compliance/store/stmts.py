"""Statements built once per database dialect and reused by every batch.

Building a statement such as an ``INSERT ... ON CONFLICT DO UPDATE`` (with its
``excluded`` alias and RETURNING list) and computing its cache key cost more than
running it for a batch of a few dozen rows, and a monitor cycle records thousands
of such batches. Values vary per batch only through bind parameters, so the same
statement object serves every batch; SQLAlchemy then also reuses its compiled form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.orm import Session

T = TypeVar("T")

# (name, dialect) -> statement. Building one twice (two threads at once) is harmless:
# both are equal and either may stay.
_BUILT: dict[tuple[str, str], Any] = {}


def dialect_name(session: Session) -> str:
    """The name of the session's database dialect ("sqlite", "postgresql")."""
    return session.get_bind().dialect.name


def cached(session: Session, name: str, build: Callable[[str], T]) -> T:
    """The statement called ``name`` for the session's dialect, built by
    ``build(dialect_name)`` the first time it is asked for."""
    key = (name, dialect_name(session))
    stmt = _BUILT.get(key)
    if stmt is None:
        stmt = _BUILT[key] = build(key[1])
    return stmt  # type: ignore[no-any-return]


def insert_for(dialect: str, table: Table) -> Any:
    """The dialect's INSERT for ``table`` (with ``on_conflict_*``)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)
