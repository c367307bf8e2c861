"""The lifecycle's words, importable without SQLAlchemy (the CLI builds its options from them).

See :mod:`compliance.store.lifecycle` for what they mean and how one leads to another.
"""

from __future__ import annotations

# A violation's statuses.
STATUSES = ("open", "notified", "fixed", "regressed", "waived")
# Statuses that still need somebody to act.
UNRESOLVED = ("open", "notified", "regressed")
# What a violation event records.
ACTIONS = (
    "opened",  # first violating version seen
    "notified",  # the alerting layer told someone
    "acknowledged",  # a person took note (no status change)
    "fixed",  # a later version complies
    "regressed",  # a fixed violation violates again
    "waived",  # a person accepted it, with a reason and maybe an expiry
    "waiver_expired",  # the waiver ran out: back to open
)
