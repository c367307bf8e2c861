"""The record's words, importable without SQLAlchemy (the CLI builds its options from them).

The violation lifecycle's (see :mod:`compliance.store.lifecycle` for what they
mean and how one leads to another), a post's own events, and the monitors'
(see :mod:`compliance.store.monitors`).
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

# What happened to a post itself (not to one of its violations).
POST_ACTIONS = (
    "gone",  # the platform no longer shows it (deleted by the creator, or taken down)
    "reappeared",  # fetched again after it was marked gone
)

# What a monitor watches.
MONITOR_KINDS = ("creator", "hashtag", "account", "post")
# How a monitor run ended. "partial": some pages were read, then a failure stopped it.
OUTCOMES = ("ok", "failed", "partial", "not_modified")
# Outcomes that count as a failure (towards the failing threshold).
FAILED_OUTCOMES = ("failed", "partial")
# Why a run failed: the typed errors of the sources, named once for the store and the alerts.
ERROR_KINDS = (
    "rate_limited",
    "auth",
    "not_found",
    "private",
    "bot_wall",
    "malformed",
    "unavailable",
    "quota",
    "config",
)
# A monitor's state flips: the alerts send "monitor failing" / "monitor recovered".
MONITOR_ACTIONS = ("failing", "recovered")
