"""An alert: a violation change or a monitor's failure on its way to people, as a value.

``labels`` are what routes, silences and inhibit rules match on (see
:data:`compliance.alerts.matchers.LABELS`); ``payload`` is what messages show.
``change_key`` names the state change: the notification log and the webhook's
idempotency key are built from it, so the same change is recognised after a restart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from compliance.store.changes import ViolationChange


@dataclass(frozen=True)
class Alert:
    """One thing to tell people about."""

    subject: str  # "violation:17", "monitor:3"
    event: str  # opened | regressed | fixed | monitor_failing | monitor_recovered
    change_key: str
    labels: Mapping[str, str]
    payload: Mapping[str, Any]
    at: datetime
    violation_id: int | None = None


def from_change(change: ViolationChange) -> Alert:
    """The alert for a recorded violation change."""
    finding = dict(change.finding or {})
    labels = {
        "brand": change.brand or "",
        "campaign": change.campaign or "",
        "creator": change.creator or "",
        "platform": change.platform,
        "jurisdiction": change.jurisdiction,
        "rule": change.rule,
        "code": change.code,
        "level": finding.get("level", "violation"),
        "event": change.action,
        "post": f"{change.platform}:{change.post_key}",
    }
    payload = {
        "kind": "violation",
        "violation_id": change.violation_id,
        "event": change.action,
        "at": change.at.isoformat(),
        "rule": change.rule,
        "name": finding.get("name"),
        "code": change.code,
        "message": finding.get("message"),
        "fix": finding.get("fix"),
        "source": finding.get("source"),
        "span": finding.get("span"),
        "caption": change.caption,
        "url": change.url,
        "creator": change.creator,
        "brand": change.brand,
        "platform": change.platform,
        "jurisdiction": change.jurisdiction,
        "pack": change.pack,
    }
    return Alert(
        subject=f"violation:{change.violation_id}",
        event=change.action,
        change_key=f"{change.action}@{change.version_id}@{change.at.isoformat()}",
        labels=labels,
        payload=payload,
        at=change.at,
        violation_id=change.violation_id,
    )


def monitor_alert(
    monitor_id: int | str,
    *,
    failing: bool,
    name: str,
    platform: str,
    creator: str | None,
    failures: int,
    error: str | None,
    at: datetime,
    brand: str | None = None,
) -> Alert:
    """The alert for a monitor that started failing (N fetches in a row) or recovered.

    For the monitors' failing/recovered flip event; ``error`` must already be free
    of secrets (the monitors' typed errors are).
    """
    event = "monitor_failing" if failing else "monitor_recovered"
    labels = {
        "monitor": str(name),
        "platform": platform,
        "creator": creator or "",
        "brand": brand or "",
        "event": event,
        "level": "warning",
    }
    payload = {
        "kind": "monitor",
        "event": event,
        "at": at.isoformat(),
        "monitor": str(name),
        "platform": platform,
        "creator": creator,
        "brand": brand,
        "failures": failures,
        "error": error,
    }
    return Alert(
        subject=f"monitor:{monitor_id}",
        event=event,
        change_key=f"{event}@{at.isoformat()}",
        labels=labels,
        payload=payload,
        at=at,
    )
