"""Alembic migrations of the record, shipped inside the package (run by compliance.store.migrate)."""
