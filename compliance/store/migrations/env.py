"""Alembic's environment: runs migrations on the connection compliance.store.migrate hands over.

There is no alembic.ini and no URL here: the caller opens the connection (and
its transaction, with whatever lock it needs) and passes it in
``config.attributes["connection"]``, so migrations run exactly where and how the
store runs.
"""

from __future__ import annotations

from alembic import context

from compliance.store.models import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable through the plain alembic CLI
    raise RuntimeError("run migrations through 'compliance db upgrade' (compliance.store.migrate)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
