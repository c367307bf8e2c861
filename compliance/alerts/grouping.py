"""Grouping: which alerts share one message, and when a group's message is due.

Alertmanager's timing: a new group waits ``group_wait`` after its first alert (to
collect the others of the same burst); once a group has been sent, alerts that
join it wait until ``group_interval`` after the last send; a still-open violation
is announced again after ``repeat_interval`` (see :mod:`compliance.alerts.dedup`).
The clock is passed in.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime

from compliance.alerts.config import Route


def group_labels(route: Route, labels: Mapping[str, str]) -> dict[str, str]:
    """The labels a group is keyed on: the route's ``group_by`` (``...``: all of them)."""
    if "..." in route.group_by:
        return dict(sorted(labels.items()))
    return {name: labels.get(name, "") for name in route.group_by}


# The record holds a group key in 500 characters (alert_outbox.group_key).
_KEY_SIZE = 500


def group_key(route: Route, labels: Mapping[str, str]) -> str:
    """A group's identity: the route and the values of its ``group_by`` labels (their
    SHA-256 when that would not fit the record: labels carry handles and brand names)."""
    key = f"{route.id}:" + json.dumps(
        group_labels(route, labels), sort_keys=True, ensure_ascii=False
    )
    if len(key) <= _KEY_SIZE:
        return key
    return f"{route.id}:sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def first_due(route: Route, now: datetime, flushed_at: datetime | None) -> datetime:
    """When an alert joining a group now may be sent: after ``group_wait`` for a group
    never sent, else ``group_interval`` after its last send (or now, if that has passed)."""
    if flushed_at is None:
        return now + route.group_wait
    return max(now, flushed_at + route.group_interval)
