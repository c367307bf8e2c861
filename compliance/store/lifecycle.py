"""A violation's lifecycle, and the transitions that people and other layers make.

Statuses::

    open ──notify──▶ notified
     │  ╲              │
     │   ╲ waive       │ a later caption version complies
     │    ▼            ▼
     │   waived ────▶ fixed ──the disclosure is removed again──▶ regressed
     │    │  ▲                                                    │
     │    │  └────────────────────── waive ──────────────────────┘
     │    └─ the waiver expires ──▶ open
     └──────── a later caption version complies ──▶ fixed

* ``open``: a checked version broke the rule. ``notified``: the alerting layer
  told someone (:func:`mark_notified`). ``regressed``: it was fixed, and a later
  version broke the rule again; it needs attention like ``open`` does.
* ``fixed`` records the version that fixed it. Any unresolved or waived
  violation becomes fixed when a checked version complies: a fix makes a waiver moot.
* ``waived``: a person accepted it, with who, why and (optionally) until when.
  ``until`` is exclusive; at that instant the waiver expires and the violation
  is ``open`` again (:func:`expire_waivers`, run before every recording and listing).
* **Acknowledging is not a status.** ``ack`` says "a person has seen this and is on
  it"; it changes nothing about whether the post complies, and a status for it
  would hide whether the violation is open, notified or regressed. So an ack is an
  event (with who and a note) plus ``acked_by`` / ``acked_at`` on the violation,
  shown next to the status in listings.

Every transition writes a :class:`~compliance.store.models.ViolationEvent` with
the time (from the clock passed in) and the actor. Transitions that the checker
makes are in :mod:`compliance.store.record`; the ones here are for people and
the alerting layer. All functions take an open session and leave committing to
the caller (``with store.write() as session: ...``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from compliance.store.models import UNRESOLVED, Violation, ViolationEvent
from compliance.store.observed import NAME_SIZE

Clock = Callable[[], datetime]

# The actor of transitions nobody in particular made (an expiring waiver).
SYSTEM = "system"
# Statuses a waiver can be put on: anything not yet fixed (waived: to change the waiver).
WAIVABLE = (*UNRESOLVED, "waived")


class LifecycleError(Exception):
    """A transition that is not allowed from the violation's status, or an unknown violation."""


def get(session: Session, violation_id: int, *, lock: bool = False) -> Violation:
    """The violation with this id (locked for update when ``lock``); LifecycleError if none."""
    stmt = select(Violation).where(Violation.id == violation_id)
    if lock:
        stmt = stmt.with_for_update()
    violation = session.scalars(stmt).one_or_none()
    if violation is None:
        raise LifecycleError(f"no violation {violation_id}")
    return violation


def _event(
    session: Session,
    violation: Violation,
    action: str,
    *,
    at: datetime,
    actor: str,
    to_status: str | None = None,
    note: str | None = None,
    until: datetime | None = None,
) -> ViolationEvent:
    event = ViolationEvent(
        violation_id=violation.id,
        at=at,
        actor=actor,
        action=action,
        from_status=violation.status,
        to_status=to_status or violation.status,
        note=note,
        until=until,
    )
    session.add(event)
    return event


def _require_actor(actor: str) -> str:
    actor = actor.strip()
    if not actor:
        raise LifecycleError("say who is doing this (--by)")
    if len(actor) > NAME_SIZE:  # the events' actor column
        raise LifecycleError(f"--by: at most {NAME_SIZE} characters")
    return actor


def acknowledge(
    session: Session, violation_id: int, *, by: str, note: str | None, now: Clock
) -> Violation:
    """Record that ``by`` has seen the violation (an event; the status does not change)."""
    by = _require_actor(by)
    violation = get(session, violation_id, lock=True)
    at = now()
    _event(session, violation, "acknowledged", at=at, actor=by, note=note)
    violation.acked_at = at
    violation.acked_by = by
    session.flush()
    return violation


def waive(
    session: Session,
    violation_id: int,
    *,
    by: str,
    reason: str,
    until: datetime | None,
    now: Clock,
) -> Violation:
    """Accept the violation on ``by``'s authority for ``reason``, until ``until`` (None: no expiry).

    Waiving a waived violation replaces its waiver (a new event keeps the old one
    on record). A fixed violation has nothing left to waive.
    """
    by = _require_actor(by)
    if not reason.strip():
        raise LifecycleError("a waiver needs a reason (--reason)")
    violation = get(session, violation_id, lock=True)
    at = now()
    if violation.status not in WAIVABLE:
        raise LifecycleError(
            f"violation {violation_id} is {violation.status}: only {', '.join(WAIVABLE)} "
            "violations can be waived"
        )
    if until is not None and until <= at:
        raise LifecycleError(f"the waiver would already have expired ({until.isoformat()})")
    _event(
        session, violation, "waived", at=at, actor=by, to_status="waived", note=reason, until=until
    )
    violation.status = "waived"
    violation.status_at = at
    violation.waived_by = by
    violation.waived_reason = reason
    violation.waived_until = until
    session.flush()
    return violation


def mark_notified(
    session: Session, violation_id: int, *, by: str, note: str | None = None, now: Clock
) -> bool:
    """For the alerting layer: the violation was sent to people (``by``: the receiver, e.g.
    ``slack:#brand-safety``). ``open`` and ``regressed`` become ``notified``; for other
    statuses only ``notified_at`` and the event are written. Returns whether the status changed.
    """
    violation = get(session, violation_id, lock=True)
    at = now()
    changed = violation.status in ("open", "regressed")
    _event(
        session,
        violation,
        "notified",
        at=at,
        actor=_require_actor(by),
        to_status="notified" if changed else None,
        note=note,
    )
    if changed:
        violation.status = "notified"
        violation.status_at = at
    violation.notified_at = at
    session.flush()
    return changed


def has_expired_waivers(session: Session, *, now: Clock) -> bool:
    """Whether any waiver has run out (a cheap read, to skip the write when there is none)."""
    at = now()
    stmt = (
        select(Violation.id)
        .where(
            Violation.status == "waived",
            Violation.waived_until.is_not(None),
            Violation.waived_until <= at,
        )
        .limit(1)
    )
    return session.execute(stmt).first() is not None


def expire_waivers(session: Session, *, now: Clock) -> list[int]:
    """Reopen every waived violation whose waiver has run out; return their ids."""
    at = now()
    # The conditional UPDATE picks the rows and guards against a concurrent run
    # doing the same: each expired waiver reopens (and is logged) once.
    session.flush()  # the caller's pending changes first, as the ORM's execute would
    expired = session.connection().execute(_EXPIRE, {"b_at": at}).all()
    for violation_id, until in expired:
        session.add(
            ViolationEvent(
                violation_id=violation_id,
                at=at,
                actor=SYSTEM,
                action="waiver_expired",
                from_status="waived",
                to_status="open",
                until=until,
            )
        )
    if expired:
        session.flush()
    return [violation_id for violation_id, _ in expired]


# Built once and run on the Core connection: every recorded batch runs it (see
# expire_waivers), and through the ORM's bulk-update path it cost ~100 us a call to
# find nothing, against ~30 us here (no ORM objects are loaded that it could update).
_VIOLATIONS = Violation.__table__
_EXPIRE = (
    update(_VIOLATIONS)
    .where(
        _VIOLATIONS.c.status == "waived",
        _VIOLATIONS.c.waived_until.is_not(None),
        _VIOLATIONS.c.waived_until <= bindparam("b_at"),
    )
    .values(status="open", status_at=bindparam("b_at"))
    .returning(_VIOLATIONS.c.id, _VIOLATIONS.c.waived_until)
)


def mark_notified_many(
    session: Session, violation_ids: list[int], *, by: str, at: datetime
) -> list[int]:
    """:func:`mark_notified` for many violations at once (the alerting layer's digests):
    ``open``/``regressed`` ones become ``notified``; every one gets ``notified_at`` and a
    "notified" event naming the receiver ``by``. Returns the ids whose status changed."""
    actor = _require_actor(by)
    table = Violation.__table__
    statuses: dict[int, str] = {}
    for start in range(0, len(violation_ids), 500):
        chunk = violation_ids[start : start + 500]
        stmt = select(table.c.id, table.c.status).where(table.c.id.in_(chunk)).with_for_update()
        statuses.update({row.id: row.status for row in session.execute(stmt)})
    changed = [vid for vid, status in statuses.items() if status in ("open", "regressed")]
    became = set(changed)
    for start in range(0, len(changed), 500):
        session.execute(
            update(table)
            .where(table.c.id.in_(changed[start : start + 500]))
            .values(status="notified", status_at=at)
        )
    for start in range(0, len(violation_ids), 500):
        session.execute(
            update(table)
            .where(table.c.id.in_(violation_ids[start : start + 500]))
            .values(notified_at=at)
        )
    events = [
        {
            "violation_id": vid,
            "at": at,
            "actor": actor,
            "action": "notified",
            "from_status": status,
            "to_status": "notified" if vid in became else status,
            "version_id": None,
            "note": None,
            "until": None,
        }
        for vid, status in sorted(statuses.items())
    ]
    if events:
        session.execute(ViolationEvent.__table__.insert(), events)
    return sorted(changed)
