"""The sender: claim due groups, drop what must not be sent, render, send, record.

For each receiver, Alertmanager's notify pipeline in order: silences, inhibition,
the notification log (dedup), then one message per group through the receiver's
transport, then the outcome is recorded. Sending happens between two short
transactions (claim; record), never inside one, so a slow receiver holds no locks.

What the lead wires (see README "Alerts"):

* the daemon, every cycle: :func:`cycle` (repeats of still-open violations, then
  every due group);
* a one-off ``compliance check``: :func:`deliver` with ``flush=True, wait=True``:
  groups are sent without waiting out ``group_wait``, a receiver's Retry-After is
  waited for within ``delivery.max_wait`` in all, and what is still undelivered stays
  in the outbox for the next run or the daemon.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from compliance.alerts import outbox
from compliance.alerts.config import AlertsConfig
from compliance.alerts.dedup import Logged, decide
from compliance.alerts.inhibit import inhibited_by
from compliance.alerts.matchers import matches_all
from compliance.alerts.outbox import NOTIFYING, Claimed
from compliance.alerts.receivers import Factories, Outcome, Transport, scrub, transport_for
from compliance.alerts.render import Group, Item, alert_key, idempotency_key, render
from compliance.alerts.silences import active, silenced_by
from compliance.store.db import Store
from compliance.store.models import UNRESOLVED, NotificationLog, OutboxRow, Violation
from compliance.store.rows import chunks

Clock = Callable[[], datetime]


@dataclass
class Report:
    """What one delivery did (and what it left for later)."""

    messages: int = 0
    alerts: int = 0
    dropped: int = 0
    failed: int = 0
    dead: int = 0
    waited: float = 0.0
    left: int = 0

    def summary(self) -> str:
        """One line for stderr."""
        line = f"alerts: {self.messages} message{'s' if self.messages != 1 else ''} sent ({self.alerts} alerts)"
        extra = [
            f"{n} {label}"
            for n, label in (
                (self.dropped, "dropped"),
                (self.failed, "failed"),
                (self.dead, "dead"),
                (self.left, "left in the outbox"),
            )
            if n
        ]
        return line + (", " + ", ".join(extra) if extra else "")


@dataclass
class _Plan:
    groups: list[tuple[Group, list[Claimed]]]
    dropped: list[tuple[Claimed, str]]


def cycle(
    store: Store,
    config: AlertsConfig,
    *,
    now: Clock,
    environ: Mapping[str, str] = os.environ,
    factories: Factories | None = None,
) -> Report:
    """The daemon's turn: queue repeats of still-open violations, then send what is due."""
    with store.write() as session:
        outbox.enqueue_repeats(session, config, now=now())
    return deliver(store, config, now=now, environ=environ, factories=factories)


def deliver(
    store: Store,
    config: AlertsConfig,
    *,
    now: Clock,
    environ: Mapping[str, str] = os.environ,
    factories: Factories | None = None,
    transports: Mapping[str, Transport] | None = None,
    flush: bool = False,
    wait: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    receivers: Sequence[str] | None = None,
) -> Report:
    """Send every due group once; with ``wait``, also wait for Retry-Afters (within
    ``delivery.max_wait`` in all) and send those again. ``flush``: don't wait out
    ``group_wait`` (a one-off check ends its groups when its checking is done)."""
    report = Report()
    budget = config.delivery.max_wait.total_seconds() if wait else 0.0
    factories = factories or Factories()
    built: dict[str, Transport] = dict(transports or {})
    while True:
        at = now()
        with store.write() as session:
            claimed = outbox.claim(
                session, now=at, lease=config.delivery.lease, flush=flush, receivers=receivers
            )
        if not claimed:
            break
        with store.read() as session:
            plan = _plan(session, config, claimed, at)
        results = _send(config, plan.groups, built, environ, factories)
        retry_afters: list[float] = []
        done = now()
        with store.write() as session:
            outbox.mark_dropped(session, plan.dropped, now=done)
            report.dropped += len(plan.dropped)
            delivered: list[Claimed] = []
            for (_group, rows), outcome in zip(plan.groups, results, strict=True):
                if outcome.ok:
                    delivered.extend(rows)
                    report.messages += 1
                    report.alerts += len(rows)
                    continue
                dead = outbox.mark_failed(
                    session,
                    rows,
                    error=outcome.error or "failed",
                    retry_after=outcome.retry_after,
                    now=done,
                    delivery=config.delivery,
                )
                report.failed += len(rows) - len(dead)
                report.dead += len(dead)
                if outcome.retry_after is not None and len(dead) < len(rows):
                    retry_afters.append(outcome.retry_after)
            # One write for every delivered message of the pass (statements per pass, not per group).
            outbox.mark_sent(session, delivered, now=done, actor=lambda r: _actor(config, r))
        flush = False  # what a later pass picks up is only what came due meanwhile
        if not retry_afters or min(retry_afters) > budget - report.waited:
            break
        pause = min(retry_afters)
        sleep(pause)
        report.waited += pause
        report.failed = 0  # counted again if they fail again
    with store.read() as session:
        report.left = sum(outbox.counts(session).values())
    return report


def _actor(config: AlertsConfig, receiver: str) -> str:
    spec = config.receivers.get(receiver)
    return f"{spec.kind if spec else 'receiver'}:{receiver}"


def _plan(
    session: Session, config: AlertsConfig, claimed: Sequence[Claimed], at: datetime
) -> _Plan:
    """Decide, row by row, what is sent (grouped) and what is dropped (with why)."""
    silences = active(session, at)
    log = _logged(session, claimed)
    statuses = _statuses(session, claimed)
    # Sources are looked up only when some rule could mute one of these alerts.
    targeted = any(matches_all(rule.target, r.labels) for rule in config.inhibit for r in claimed)
    sources = _sources(session, claimed, statuses) if targeted else []
    announcing = {(r.subject, r.receiver) for r in claimed if r.event in NOTIFYING}
    dropped: list[tuple[Claimed, str]] = []
    grouped: dict[tuple[str, str], list[tuple[Claimed, str]]] = {}
    for row in sorted(claimed, key=lambda r: r.id):
        reason = _drop_reason(row, statuses, silences, sources, config, at)
        if (
            reason is None
            and row.event == "fixed"
            and (row.subject, row.receiver) not in announcing
        ) and not any((row.subject, s, row.receiver) in log for s in NOTIFYING):
            reason = "fixed before anyone was told of it"
        if reason is None:
            send, why = decide(
                row.change_key,
                log.get((row.subject, row.event, row.receiver)),
                now=at,
                repeat_interval=timedelta(seconds=row.repeat_interval),
            )
            if not send:
                reason = why
        if reason is not None:
            dropped.append((row, reason))
        else:
            grouped.setdefault((row.receiver, row.group_key), []).append((row, why))
    groups = []
    for (receiver, key), members in sorted(grouped.items()):
        rows = [r for r, _ in members]
        items = tuple(
            Item(
                payload=r.payload,
                labels=r.labels,
                reason=why,
                key=alert_key(receiver, r.subject, r.change_key),
            )
            for r, why in members
        )
        group = Group(
            receiver=receiver,
            group_key=key,
            group_labels=_group_labels(key),
            items=items,
            idempotency_key=idempotency_key(receiver, [(r.subject, r.change_key) for r in rows]),
        )
        groups.append((group, rows))
    return _Plan(groups, dropped)


def _drop_reason(
    row: Claimed,
    statuses: Mapping[int, str],
    silences: Sequence[Any],
    sources: Sequence[tuple[str, Mapping[str, str]]],
    config: AlertsConfig,
    at: datetime,
) -> str | None:
    if row.receiver not in config.receivers:
        return f"receiver {row.receiver!r} is no longer configured"
    if row.violation_id is not None and row.event in NOTIFYING:
        status = statuses.get(row.violation_id)
        if status in ("waived", "fixed"):
            return f"violation was {status} before it was sent"
    silence = silenced_by(row.labels, silences, at)
    if silence is not None:
        return f"silenced by silence {silence.id}"
    source = inhibited_by(row.subject, row.labels, sources, config.inhibit)
    if source is not None:
        return f"inhibited by {source}"
    return None


def _group_labels(key: str) -> dict[str, str]:
    _, _, labels = key.partition(":")
    try:
        value = json.loads(labels)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _logged(session: Session, claimed: Sequence[Claimed]) -> dict[tuple[str, str, str], Logged]:
    log = NotificationLog.__table__
    subjects = sorted({r.subject for r in claimed})
    out: dict[tuple[str, str, str], Logged] = {}
    for chunk in chunks(subjects):
        for row in session.execute(
            select(
                log.c.subject, log.c.state, log.c.receiver, log.c.change_key, log.c.sent_at
            ).where(log.c.subject.in_(chunk))
        ):
            out[(row.subject, row.state, row.receiver)] = Logged(row.change_key, row.sent_at)
    return out


def _statuses(session: Session, claimed: Sequence[Claimed]) -> dict[int, str]:
    ids = sorted({r.violation_id for r in claimed if r.violation_id is not None})
    table = Violation.__table__
    out: dict[int, str] = {}
    for chunk in chunks(ids):
        for row in session.execute(select(table.c.id, table.c.status).where(table.c.id.in_(chunk))):
            out[row.id] = row.status
    return out


def _sources(
    session: Session, claimed: Sequence[Claimed], statuses: Mapping[int, str]
) -> list[tuple[str, dict[str, str]]]:
    """Active alerts that may inhibit others: what is being sent, and the unresolved
    violations of the same posts (their labels as their outbox rows carry them)."""
    sources: dict[str, dict[str, str]] = {}
    for r in claimed:
        if r.event in NOTIFYING and statuses.get(r.violation_id or -1, "open") in UNRESOLVED:
            sources.setdefault(r.subject, dict(r.labels))
    posts = sorted({r.labels.get("post", "") for r in claimed if r.violation_id is not None} - {""})
    if not posts:
        return list(sources.items())
    table = Violation.__table__
    ids = [r.violation_id for r in claimed if r.violation_id is not None]
    post_ids: set[int] = set()
    for chunk in chunks(sorted(set(ids))):
        post_ids.update(session.scalars(select(table.c.post_id).where(table.c.id.in_(chunk))))
    box = OutboxRow.__table__
    for chunk in chunks(sorted(post_ids)):
        stmt = (
            select(box.c.subject, box.c.labels)
            .join(table, table.c.id == box.c.violation_id)
            .where(
                table.c.post_id.in_(chunk),
                table.c.status.in_(UNRESOLVED),
                box.c.event.in_(NOTIFYING),
            )
        )
        for row in session.execute(stmt):
            sources.setdefault(row.subject, dict(row.labels))
    return list(sources.items())


def _send(
    config: AlertsConfig,
    groups: Sequence[tuple[Group, list[Claimed]]],
    built: dict[str, Transport],
    environ: Mapping[str, str],
    factories: Factories,
) -> list[Outcome]:
    """One batch per receiver (one connection where the protocol has them)."""
    outcomes: dict[int, Outcome] = {}
    by_receiver: dict[str, list[int]] = {}
    for i, (group, _) in enumerate(groups):
        by_receiver.setdefault(group.receiver, []).append(i)
    for receiver, indexes in by_receiver.items():
        messages = [
            render(groups[i][0], digest_limit=config.delivery.digest_limit) for i in indexes
        ]
        try:
            transport = built.get(receiver)
            if transport is None:
                transport = built[receiver] = transport_for(
                    config.receivers[receiver], environ, factories
                )
            results = transport.send(messages)
        except Exception as exc:  # a transport bug must not lose the alerts: they are retried
            results = [Outcome(False, scrub(f"{receiver}: {type(exc).__name__}", ()))] * len(
                messages
            )
        for i, outcome in zip(indexes, results, strict=True):
            outcomes[i] = outcome
    return [outcomes[i] for i in range(len(groups))]
