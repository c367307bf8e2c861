"""The notification log's judgement: send this alert to this receiver, and why, or not.

The log has one entry per (subject, state, receiver): the last change announced in
that state and when (see :class:`compliance.store.models.NotificationLog`). A change
is announced once per receiver (a second delivery attempt after a restart finds its
change already logged); a repeat of a still-open violation goes out only when
``repeat_interval`` has passed since the last announcement. Reasons are the ones
Alertmanager logs: ``first``, ``changed`` (a new change in a state announced
before), ``repeat``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

REPEAT = "#repeat"


@dataclass(frozen=True)
class Logged:
    """What the log says was last announced for one (subject, state, receiver)."""

    change_key: str
    sent_at: datetime


def is_repeat(change_key: str) -> bool:
    """Whether an outbox row re-announces a still-open violation."""
    return REPEAT in change_key


def decide(
    change_key: str, logged: Logged | None, *, now: datetime, repeat_interval: timedelta
) -> tuple[bool, str]:
    """(send?, reason): ``first``/``changed``/``repeat`` to send; why not, otherwise."""
    if logged is None:
        return True, "first"
    if is_repeat(change_key):
        if logged.sent_at + repeat_interval <= now:
            return True, "repeat"
        return False, "announced within repeat_interval"
    if logged.change_key == change_key:
        return False, "already announced to this receiver"
    return True, "changed"
