"""The outbox: alerts written with the change that causes them, then sent, retried, dead-lettered.

* :func:`enqueue` runs inside the recording transaction (the recorder's
  ``on_changes``): it routes each change and writes one row per receiver, so a
  change is never committed without its alerts nor an alert without its change.
* A sender :func:`claim` s due rows (``SELECT ... FOR UPDATE SKIP LOCKED`` on
  PostgreSQL, so several senders share the work; SQLite has one writer at a time)
  and marks them ``sending`` with a lease; a sender that dies leaves them to be
  taken again when the lease ends. Sending happens outside any transaction.
* :func:`mark_sent`, :func:`mark_failed` and :func:`mark_dropped` record outcomes;
  failures are retried with exponential backoff (or the receiver's Retry-After)
  and end ``dead`` after ``max_tries``. :func:`retry` sends a dead one again.
* :func:`pending` is the ``alerts pending`` view: it reads only unfinished rows,
  through the (status, due_at) index, however long the history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from compliance.alerts import routing
from compliance.alerts.alert import Alert, from_change
from compliance.alerts.config import AlertsConfig, Delivery, Route
from compliance.alerts.dedup import REPEAT
from compliance.alerts.grouping import first_due, group_key
from compliance.store.bulk import Upsert
from compliance.store.changes import OnChanges, ViolationChange
from compliance.store.lifecycle import mark_notified_many
from compliance.store.models import (
    UNRESOLVED,
    AlertGroup,
    NotificationLog,
    OutboxRow,
    Violation,
)
from compliance.store.rows import chunks, dialect_insert

UNFINISHED = ("pending", "sending", "retrying", "dead")
# Events whose delivery makes a violation "notified".
NOTIFYING = ("opened", "regressed")


class OutboxError(Exception):
    """An outbox operation that cannot be done (unknown id, a row already sent)."""


def enqueue(
    session: Session, changes: Sequence[ViolationChange], config: AlertsConfig, *, now: datetime
) -> int:
    """Route the recorded changes and write their outbox rows in this transaction."""
    return enqueue_alerts(session, [from_change(c) for c in changes], config, now=now)


def on_changes(config: AlertsConfig) -> OnChanges:
    """The recorder's ``on_changes`` callback: outbox rows stamped with the change's time."""

    def callback(session: Session, changes: Sequence[ViolationChange]) -> None:
        enqueue(session, changes, config, now=changes[0].at)

    return callback


def enqueue_alerts(
    session: Session, alerts: Sequence[Alert], config: AlertsConfig, *, now: datetime
) -> int:
    """Write one outbox row per (alert, receiver it is routed to); returns the row count."""
    planned = []
    for alert in alerts:
        for leaf in routing.receivers(config.route, alert.labels):
            planned.append((alert, leaf, group_key(leaf, alert.labels)))
    if not planned:
        return 0
    flushed = _flushed(session, {(leaf.receiver, key) for _, leaf, key in planned})
    rows = [
        {
            "receiver": leaf.receiver,
            "route": leaf.id,
            "group_key": key,
            "subject": alert.subject,
            "violation_id": alert.violation_id,
            "event": alert.event,
            "change_key": alert.change_key,
            "labels": dict(alert.labels),
            "payload": dict(alert.payload),
            "group_interval": int(leaf.group_interval.total_seconds()),
            "repeat_interval": int(leaf.repeat_interval.total_seconds()),
            "status": "pending",
            "created_at": now,
            "due_at": first_due(leaf, now, flushed.get((leaf.receiver, key))),
            "tries": 0,
            "reason": None,
            "sent_at": None,
        }
        for alert, leaf, key in planned
    ]
    _INSERT_OUTBOX.run(session, rows)
    return len(rows)


# Plain SQL on the driver (see compliance.store.bulk): a monitor cycle's first run
# writes tens of thousands of these rows.
_INSERT_OUTBOX = Upsert(
    OutboxRow.__table__,
    columns=(
        "receiver",
        "route",
        "group_key",
        "subject",
        "violation_id",
        "event",
        "change_key",
        "labels",
        "payload",
        "group_interval",
        "repeat_interval",
        "status",
        "created_at",
        "due_at",
        "tries",
        "reason",
        "sent_at",
    ),
)


def _flushed(session: Session, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], datetime]:
    """When each (receiver, group key) was last sent."""
    out: dict[tuple[str, str], datetime] = {}
    by_receiver: dict[str, list[str]] = {}
    for receiver, key in pairs:
        by_receiver.setdefault(receiver, []).append(key)
    for receiver, keys in by_receiver.items():
        for chunk in chunks(sorted(keys)):
            for row in session.execute(_FLUSHED, {"receiver": receiver, "keys": list(chunk)}):
                out[(receiver, row.group_key)] = row.flushed_at
    return out


_FLUSHED = select(AlertGroup.__table__.c.group_key, AlertGroup.__table__.c.flushed_at).where(
    AlertGroup.__table__.c.receiver == bindparam("receiver"),
    AlertGroup.__table__.c.group_key.in_(bindparam("keys", expanding=True)),
)


def enqueue_repeats(session: Session, config: AlertsConfig, *, now: datetime) -> int:
    """Re-announce still-unresolved violations whose last announcement to a receiver is
    older than its route's ``repeat_interval`` (the daemon calls this every cycle)."""
    log = NotificationLog.__table__
    box = OutboxRow.__table__
    stmt = (
        select(log.c.subject, log.c.receiver, log.c.change_key, log.c.sent_at, log.c.count, box)
        .join(box, box.c.id == log.c.outbox_id)
        .join(Violation.__table__, Violation.__table__.c.id == log.c.violation_id)
        .where(
            log.c.state.in_(NOTIFYING),
            log.c.sent_at <= now - _shortest_repeat(config.route),
            Violation.__table__.c.status.in_(UNRESOLVED),
        )
    )
    busy = {
        (row.subject, row.receiver)
        for row in session.execute(
            select(box.c.subject, box.c.receiver).where(
                box.c.status.in_(("pending", "sending", "retrying"))
            )
        )
    }
    rows = []
    for row in session.execute(stmt):
        if (row.subject, row.receiver) in busy:
            continue
        if row.sent_at + timedelta(seconds=row.repeat_interval) > now:
            continue
        original = row.change_key.split(REPEAT, 1)[0]
        rows.append(
            {
                "receiver": row.receiver,
                "route": row.route,
                "group_key": row.group_key,
                "subject": row.subject,
                "violation_id": row.violation_id,
                "event": row.event,
                "change_key": f"{original}{REPEAT}{row.count}",
                "labels": row.labels,
                "payload": row.payload,
                "group_interval": row.group_interval,
                "repeat_interval": row.repeat_interval,
                "status": "pending",
                "created_at": now,
                "due_at": now,
                "tries": 0,
                "reason": None,
                "sent_at": None,
            }
        )
    if rows:
        session.execute(box.insert(), rows)
    return len(rows)


def _shortest_repeat(route: Route) -> timedelta:
    return min([route.repeat_interval, *(_shortest_repeat(child) for child in route.routes)])


@dataclass(frozen=True)
class Claimed:
    """An outbox row taken by a sender."""

    id: int
    receiver: str
    route: str
    group_key: str
    subject: str
    violation_id: int | None
    event: str
    change_key: str
    labels: Mapping[str, str]
    payload: Mapping[str, Any]
    tries: int
    group_interval: int
    repeat_interval: int


def claim(
    session: Session,
    *,
    now: datetime,
    lease: timedelta,
    flush: bool = False,
    receivers: Iterable[str] | None = None,
) -> list[Claimed]:
    """Take every due group's rows: a group is due when one of its rows is; then all its
    pending rows go in the same message. ``flush``: pending rows need not wait out their
    group's wait (a one-off check). Claimed rows are ``sending`` until ``now + lease``."""
    box = OutboxRow.__table__
    due = box.c.due_at <= now
    if flush:
        due = or_(due, box.c.status == "pending")
    ready = select(box.c.id, box.c.receiver, box.c.group_key).where(
        box.c.status.in_(("pending", "sending", "retrying")), due
    )
    if receivers is not None:
        ready = ready.where(box.c.receiver.in_(list(receivers)))
    ready = ready.order_by(box.c.id).with_for_update(skip_locked=True)
    ids: set[int] = set()
    groups: set[tuple[str, str]] = set()
    for row in session.execute(ready):
        ids.add(row.id)
        groups.add((row.receiver, row.group_key))
    if not ids:
        return []
    # The rest of each due group: pending rows that joined after the first one.
    by_receiver: dict[str, list[str]] = {}
    for receiver, key in groups:
        by_receiver.setdefault(receiver, []).append(key)
    for receiver, keys in sorted(by_receiver.items()):
        for chunk in chunks(sorted(keys)):
            more = (
                select(box.c.id)
                .where(
                    box.c.receiver == receiver,
                    box.c.group_key.in_(chunk),
                    box.c.status == "pending",
                )
                .with_for_update(skip_locked=True)
            )
            ids.update(session.scalars(more))
    taken: list[Claimed] = []
    for chunk in chunks(sorted(ids)):
        for row in session.execute(select(box).where(box.c.id.in_(chunk))):
            taken.append(
                Claimed(
                    id=row.id,
                    receiver=row.receiver,
                    route=row.route,
                    group_key=row.group_key,
                    subject=row.subject,
                    violation_id=row.violation_id,
                    event=row.event,
                    change_key=row.change_key,
                    labels=row.labels,
                    payload=row.payload,
                    tries=row.tries,
                    group_interval=row.group_interval,
                    repeat_interval=row.repeat_interval,
                )
            )
        session.execute(
            update(box).where(box.c.id.in_(chunk)).values(status="sending", due_at=now + lease)
        )
    return taken


def mark_sent(
    session: Session, rows: Sequence[Claimed], *, now: datetime, actor: Callable[[str], str]
) -> None:
    """Record a delivered message: rows sent, the notification log, the group's send time,
    and the violations notified (per receiver: ``actor(receiver)`` names it in the trail)."""
    if not rows:
        return
    box = OutboxRow.__table__
    for chunk in chunks([r.id for r in rows]):
        session.execute(
            update(box)
            .where(box.c.id.in_(chunk))
            .values(status="sent", sent_at=now, reason=None, tries=box.c.tries + 1)
        )
    log = NotificationLog.__table__
    latest: dict[tuple[str, str, str], Claimed] = {}
    for r in rows:
        latest[(r.subject, r.event, r.receiver)] = r
    insert = dialect_insert(session, log)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["subject", "state", "receiver"],
            set_={
                "change_key": insert.excluded.change_key,
                "outbox_id": insert.excluded.outbox_id,
                "violation_id": insert.excluded.violation_id,
                "sent_at": insert.excluded.sent_at,
                "count": log.c.count + 1,
            },
        ),
        [
            {
                "subject": r.subject,
                "violation_id": r.violation_id,
                "state": r.event,
                "receiver": r.receiver,
                "change_key": r.change_key,
                "outbox_id": r.id,
                "first_sent_at": now,
                "sent_at": now,
                "count": 1,
            }
            for (_, _, _), r in sorted(latest.items())
        ],
    )
    groups = sorted({(r.receiver, r.group_key) for r in rows})
    ginsert = dialect_insert(session, AlertGroup.__table__)
    session.execute(
        ginsert.on_conflict_do_update(
            index_elements=["receiver", "group_key"],
            set_={"flushed_at": ginsert.excluded.flushed_at},
        ),
        [{"receiver": rc, "group_key": key, "flushed_at": now} for rc, key in groups],
    )
    by_receiver: dict[str, list[int]] = {}
    for r in rows:
        if r.violation_id is not None and r.event in NOTIFYING:
            by_receiver.setdefault(r.receiver, []).append(r.violation_id)
    for receiver, ids in sorted(by_receiver.items()):
        mark_notified_many(session, sorted(set(ids)), by=actor(receiver), at=now)


def backoff(delivery: Delivery, tries: int) -> timedelta:
    """The wait after the ``tries``-th failed attempt: doubling from ``backoff``, capped."""
    step = delivery.backoff * (2 ** max(0, min(tries - 1, 30)))
    return min(step, delivery.max_backoff)


def mark_failed(
    session: Session,
    rows: Sequence[Claimed],
    *,
    error: str,
    retry_after: float | None,
    now: datetime,
    delivery: Delivery,
) -> list[int]:
    """Record a failed attempt: retry later (Retry-After when the receiver gave one, else
    backoff), or dead after ``max_tries``. Returns the ids that went dead."""
    box = OutboxRow.__table__
    dead: list[int] = []
    by_tries: dict[int, list[int]] = {}
    for r in rows:
        by_tries.setdefault(r.tries + 1, []).append(r.id)
    for tries, ids in by_tries.items():
        if tries >= delivery.max_tries:
            status, due = "dead", now
            dead.extend(ids)
            reason = f"gave up after {tries} tries: {error}"
        else:
            wait = (
                timedelta(seconds=retry_after)
                if retry_after is not None
                else backoff(delivery, tries)
            )
            status, due, reason = "retrying", now + wait, error
        for chunk in chunks(ids):
            session.execute(
                update(box)
                .where(box.c.id.in_(chunk))
                .values(status=status, tries=tries, due_at=due, reason=reason[:2000])
            )
    return dead


def mark_dropped(
    session: Session, dropped: Sequence[tuple[Claimed, str]], *, now: datetime
) -> None:
    """Rows not sent on purpose (silenced, inhibited, already announced), with the reason."""
    box = OutboxRow.__table__
    for row, reason in dropped:
        session.execute(
            update(box)
            .where(box.c.id == row.id)
            .values(status="dropped", reason=reason, due_at=now)
        )


def release(session: Session, rows: Sequence[Claimed], *, now: datetime) -> None:
    """Give claimed rows back untouched (a sender stopping before it sent them)."""
    box = OutboxRow.__table__
    for chunk in chunks([r.id for r in rows]):
        session.execute(
            update(box)
            .where(box.c.id.in_(chunk), box.c.status == "sending")
            .values(status="retrying", due_at=now)
        )


@dataclass(frozen=True)
class Pending:
    """One unfinished row, as ``alerts pending`` shows it (never a secret: errors were
    scrubbed before they were stored)."""

    id: int
    receiver: str
    event: str
    subject: str
    status: str
    tries: int
    created_at: datetime
    due_at: datetime
    reason: str | None
    summary: str


def pending(
    session: Session, *, limit: int = 100, statuses: Sequence[str] = UNFINISHED
) -> list[Pending]:
    """Unfinished rows (queued, sending, retrying, dead), oldest first."""
    box = OutboxRow.__table__
    stmt = (
        select(
            box.c.id,
            box.c.receiver,
            box.c.event,
            box.c.subject,
            box.c.status,
            box.c.tries,
            box.c.created_at,
            box.c.due_at,
            box.c.reason,
            box.c.labels,
        )
        .where(box.c.status.in_(list(statuses)))
        .order_by(box.c.status, box.c.due_at, box.c.id)
    )
    if limit:
        stmt = stmt.limit(limit)
    return [
        Pending(
            id=row.id,
            receiver=row.receiver,
            event=row.event,
            subject=row.subject,
            status=row.status,
            tries=row.tries,
            created_at=row.created_at,
            due_at=row.due_at,
            reason=row.reason,
            summary=" ".join(
                f"{k}={row.labels[k]}" for k in ("creator", "rule", "monitor") if row.labels.get(k)
            ),
        )
        for row in session.execute(stmt)
    ]


def counts(session: Session) -> dict[str, int]:
    """Unfinished rows per status."""
    box = OutboxRow.__table__
    stmt = (
        select(box.c.status, func.count())
        .where(box.c.status.in_(UNFINISHED))
        .group_by(box.c.status)
    )
    return {status: n for status, n in session.execute(stmt)}


def retry(session: Session, outbox_id: int, *, now: datetime) -> None:
    """Send a dead or retrying row again at the next send, with a fresh count of tries."""
    box = OutboxRow.__table__
    row = session.execute(select(box.c.status).where(box.c.id == outbox_id)).first()
    if row is None:
        raise OutboxError(f"no alert {outbox_id} in the outbox")
    if row.status not in ("dead", "retrying"):
        raise OutboxError(
            f"alert {outbox_id} is {row.status}: only dead or retrying alerts can be retried"
        )
    session.execute(
        update(box)
        .where(box.c.id == outbox_id)
        .values(status="retrying", due_at=now, tries=0, reason="retry requested")
    )
