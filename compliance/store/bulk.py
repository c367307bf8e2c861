"""Many-row INSERT ... ON CONFLICT statements run as plain SQL on the driver.

Recording writes a few dozen to a few hundred rows per table per batch, thousands
of batches a monitor cycle. Through SQLAlchemy's Core each row's parameters are
processed one by one in Python (``construct_params``, the bind processors, the
"insertmanyvalues" rendering of every batch), which costs more than the database's
own work. An :class:`Upsert` renders its multi-row statement once per dialect and
row count, converts values with the columns' own bind processors (so stored values
are exactly what SQLAlchemy would have stored) and runs it with
``Connection.exec_driver_sql``: still inside the session's transaction, with
SQLAlchemy's error wrapping, events and logging, but without the per-row machinery.

The SQL is the same on SQLite and PostgreSQL (``ON CONFLICT (...) DO UPDATE SET
... = excluded....`` and ``RETURNING``); only the placeholder differs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

__all__ = ["Upsert"]

# At most this many rows per statement (a batch above it runs as several statements).
_MAX_ROWS = 500
# Bound parameters per statement: SQLite's limit since 3.32 (999 before), and far
# below PostgreSQL's 65,535.
_MAX_PARAMS = 32_766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999


@dataclass(frozen=True)
class _Compiled:
    """An :class:`Upsert` for one dialect."""

    head: str  # INSERT INTO t (a, b) VALUES
    group: str  # (?, ?)
    tail: str  # ON CONFLICT ... RETURNING ...
    bind: tuple[Callable[[Any], Any] | None, ...]  # per column
    result: tuple[Callable[[Any], Any] | None, ...]  # per returned column
    rows_per_statement: int
    sql: dict[int, str] = field(default_factory=dict)  # rows -> statement text

    def text(self, rows: int) -> str:
        found = self.sql.get(rows)
        if found is None:
            found = self.sql[rows] = f"{self.head} {', '.join([self.group] * rows)}{self.tail}"
        return found


@dataclass
class Upsert:
    """``INSERT INTO table (columns) VALUES ... ON CONFLICT (conflict) DO UPDATE SET
    update | DO NOTHING RETURNING returning`` for many rows.

    ``update`` maps a column to the SQL that sets it, written over the table's name
    and ``excluded`` (e.g. ``"coalesce(posts.url, excluded.url)"``); empty means DO
    NOTHING. ``conflict`` empty means a plain INSERT. Rows are mappings with a value
    for every column; they are written in the order given (callers sort them, so that
    concurrent writers lock rows in the same order).
    """

    table: Table
    columns: tuple[str, ...]
    conflict: tuple[str, ...] = ()
    update: Mapping[str, str] = field(default_factory=dict)
    returning: tuple[str, ...] = ()
    _by_dialect: dict[str, _Compiled] = field(default_factory=dict, init=False, repr=False)

    def run(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        """Write ``rows``; the returned columns of the rows written (or updated), as tuples."""
        if not rows:
            return []
        connection = session.connection()
        compiled = self._compiled(connection.dialect)
        bind = compiled.bind
        columns = self.columns
        out: list[tuple[Any, ...]] = []
        step = compiled.rows_per_statement
        for start in range(0, len(rows), step):
            chunk = rows[start : start + step]
            params: list[Any] = []
            for row in chunk:
                for name, process in zip(columns, bind, strict=True):
                    value = row[name]
                    params.append(process(value) if process is not None else value)
            result = connection.exec_driver_sql(compiled.text(len(chunk)), tuple(params))
            if self.returning:
                convert = compiled.result
                for raw in result.fetchall():
                    out.append(
                        tuple(
                            c(v) if c is not None else v for c, v in zip(convert, raw, strict=True)
                        )
                    )
        return out

    def _compiled(self, dialect: Dialect) -> _Compiled:
        found = self._by_dialect.get(dialect.name)
        if found is None:
            found = self._by_dialect[dialect.name] = self._compile(dialect)
        return found

    def _compile(self, dialect: Dialect) -> _Compiled:
        quote = dialect.identifier_preparer.quote
        table = quote(self.table.name)
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        head = f"INSERT INTO {table} ({', '.join(quote(c) for c in self.columns)}) VALUES"
        group = f"({', '.join([mark] * len(self.columns))})"
        tail = ""
        if self.conflict:
            tail = f" ON CONFLICT ({', '.join(quote(c) for c in self.conflict)}) DO "
            if self.update:
                sets = ", ".join(f"{quote(c)} = {sql}" for c, sql in self.update.items())
                tail += f"UPDATE SET {sets}"
            else:
                tail += "NOTHING"
        if self.returning:
            tail += f" RETURNING {', '.join(quote(c) for c in self.returning)}"
        columns = self.table.c
        bind = tuple(
            columns[c].type.dialect_impl(dialect).bind_processor(dialect) for c in self.columns
        )
        result = tuple(
            columns[c].type.dialect_impl(dialect).result_processor(dialect, None)
            for c in self.returning
        )
        rows = max(1, min(_MAX_ROWS, _MAX_PARAMS // len(self.columns)))
        return _Compiled(head, group, tail, bind, result, rows)
