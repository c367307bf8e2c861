"""The record: posts, caption versions, verdicts and violations with their lifecycle.

SQLAlchemy 2 models (:mod:`.models`), opened with :func:`.db.open_store` (SQLite
by default, PostgreSQL for servers; Alembic migrations in ``migrations/``, run by
:mod:`.migrate`). Writing: :class:`.record.Recorder` (with :mod:`.observed`, :mod:`.rows` and
:mod:`.transitions`); people's transitions:
:mod:`.lifecycle`; reading: :mod:`.queries`; evidence bundles: :mod:`.evidence`;
the HTML/Markdown report: :mod:`.report`. For the monitors: their state, run log and
failing/recovered flips (:mod:`.monitors`, shown by :mod:`.monitor_view`), posts gone
from their platform (:mod:`.gone`) and the window of recent posts a run compares
with the platform (:mod:`.window`).

Nothing is imported here, so that ``compliance.store.status`` stays cheap to import.
"""
