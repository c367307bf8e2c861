"""What a checked caption version does to its post's violations.

Recording reads the violations of a batch's posts once, applies each checked
version to them in order (:func:`apply`: open a new one, regress a fixed one, fix
those the version no longer breaks), then writes the result (:func:`write_violations`).

Writes are guarded against other writers: new violations are inserted with ``ON
CONFLICT DO NOTHING`` and status changes are ``UPDATE ... WHERE status = <the
status read>``; when either finds the row was taken or changed meanwhile,
:class:`Conflict` is raised and the whole batch is redone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from compliance.store.bulk import Upsert
from compliance.store.models import Violation, ViolationEvent
from compliance.store.observed import Prepared
from compliance.store.rows import chunks


@dataclass
class RecordStats:
    """What recording did, for the summary line."""

    posts: int = 0
    opened: int = 0
    fixed: int = 0
    regressed: int = 0
    reopened: int = 0
    # Posts marked gone that a fetch found again.
    reappeared: int = 0

    def add(self, other: RecordStats) -> None:
        """Add another batch's counts."""
        self.posts += other.posts
        self.opened += other.opened
        self.fixed += other.fixed
        self.regressed += other.regressed
        self.reopened += other.reopened
        self.reappeared += other.reappeared

    def summary(self) -> str:
        """One line, e.g. ``recorded 40 posts: 3 violations opened, 1 fixed``."""
        parts = [
            f"{n} {label}"
            for n, label in (
                (self.opened, "opened"),
                (self.fixed, "fixed"),
                (self.regressed, "regressed"),
                (self.reopened, "reopened (waiver expired)"),
            )
            if n
        ]
        line = f"recorded {self.posts} post{'s' if self.posts != 1 else ''}"
        return line + (f": violations {', '.join(parts)}" if parts else "")


class Conflict(Exception):
    """Another writer changed a row this batch relied on: roll back and redo the batch."""


@dataclass
class State:
    """A violation as this batch sees it: read from the database or about to be inserted."""

    post_id: int
    rule: str
    status: str
    id: int | None = None
    read_status: str | None = None  # the status read from the database (None: new)
    code: str = ""
    opened_at: datetime | None = None
    status_at: datetime | None = None
    version_id: int = 0
    check_id: int = 0
    fixed_version_id: int | None = None
    finding: dict[str, Any] | None = None
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.read_status is not None and bool(self.events)


def read_violations(session: Session, post_ids: set[int]) -> dict[int, dict[str, State]]:
    """The batch's posts' violations, by post and rule."""
    states: dict[int, dict[str, State]] = {}
    for chunk in chunks(sorted(post_ids)):
        for row in session.execute(_READ, {"post_ids": list(chunk)}):
            states.setdefault(row.post_id, {})[row.rule] = State(
                post_id=row.post_id,
                rule=row.rule,
                status=row.status,
                id=row.id,
                read_status=row.status,
                code=row.code,
                fixed_version_id=row.fixed_version_id,
            )
    return states


_V = Violation.__table__
_READ = select(
    _V.c.id, _V.c.post_id, _V.c.rule, _V.c.status, _V.c.code, _V.c.fixed_version_id
).where(_V.c.post_id.in_(bindparam("post_ids", expanding=True)))


def apply(
    item: Prepared,
    states: dict[int, dict[str, State]],
    stats: RecordStats,
    *,
    at: datetime,
    actor: str,
) -> None:
    """The transitions one checked version causes for its post's violations."""
    post_states = states.setdefault(item.post_id, {})
    for rule, finding in item.findings.items():
        state = post_states.get(rule)
        if state is None:
            post_states[rule] = state = State(post_id=item.post_id, rule=rule, status="open")
            _violating(state, item, finding, at=at)
            state.opened_at = at
            state.events.append(_event_row("opened", None, "open", item, at, actor))
            stats.opened += 1
        elif state.status == "fixed":
            _violating(state, item, finding, at=at)
            state.events.append(_event_row("regressed", "fixed", "regressed", item, at, actor))
            state.status = "regressed"
            state.fixed_version_id = None
            stats.regressed += 1
        # open, notified, regressed: still violating, nothing new to say. waived: accepted.
    for rule, state in post_states.items():
        if rule not in item.findings and state.status != "fixed":
            state.events.append(_event_row("fixed", state.status, "fixed", item, at, actor))
            state.status = "fixed"
            state.status_at = at
            state.fixed_version_id = item.version_id
            stats.fixed += 1


def _violating(state: State, item: Prepared, finding: dict[str, Any], *, at: datetime) -> None:
    state.code = finding["code"]
    state.finding = finding
    state.version_id = item.version_id
    state.check_id = item.check_id
    state.status_at = at


def _event_row(
    action: str,
    from_status: str | None,
    to_status: str,
    item: Prepared,
    at: datetime,
    actor: str,
) -> dict[str, Any]:
    return {
        "at": at,
        "actor": actor,
        "action": action,
        "from_status": from_status,
        "to_status": to_status,
        "version_id": item.version_id,
        "note": None,
        "until": None,
    }


def write_violations(session: Session, states: dict[int, dict[str, State]], at: datetime) -> None:
    new = [s for by_rule in states.values() for s in by_rule.values() if s.id is None]
    changed = [s for by_rule in states.values() for s in by_rule.values() if s.changed]
    if new:
        new.sort(key=lambda s: (s.post_id, s.rule))
        inserted = {
            (post_id, rule): violation_id
            for violation_id, post_id, rule in _INSERT_VIOLATIONS.run(
                session,
                [
                    {
                        "post_id": s.post_id,
                        "rule": s.rule,
                        "code": s.code,
                        "status": s.status,
                        "opened_at": s.opened_at,
                        "status_at": s.status_at,
                        "version_id": s.version_id,
                        "check_id": s.check_id,
                        "fixed_version_id": s.fixed_version_id,
                        "finding": s.finding,
                    }
                    for s in new
                ],
            )
        }
        if len(inserted) != len(new):
            raise Conflict("another writer opened the same violation")
        for s in new:
            s.id = inserted[(s.post_id, s.rule)]
    for s in changed:
        values: dict[str, Any] = {
            "b_id": s.id,
            "b_read_status": s.read_status,
            "status": s.status,
            "status_at": s.status_at,
            "fixed_version_id": s.fixed_version_id,
        }
        if s.finding is not None:  # regressed: the new violating version is the evidence
            values.update(
                code=s.code, finding=s.finding, version_id=s.version_id, check_id=s.check_id
            )
        result = session.execute(_UPDATE, values)
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(f"violation {s.id} changed under us")
    events = [
        {**event, "violation_id": s.id}
        for by_rule in states.values()
        for s in by_rule.values()
        for event in s.events
    ]
    _INSERT_EVENTS.run(session, events)


# New violations; one another writer inserted first returns nothing (see Conflict).
_INSERT_VIOLATIONS = Upsert(
    _V,
    columns=(
        "post_id",
        "rule",
        "code",
        "status",
        "opened_at",
        "status_at",
        "version_id",
        "check_id",
        "fixed_version_id",
        "finding",
    ),
    conflict=("post_id", "rule"),
    returning=("id", "post_id", "rule"),
)
_INSERT_EVENTS = Upsert(
    ViolationEvent.__table__,
    columns=(
        "violation_id",
        "at",
        "actor",
        "action",
        "from_status",
        "to_status",
        "version_id",
        "note",
        "until",
    ),
)
# The SET clause comes from each call's parameters (a regression also moves the evidence).
_UPDATE = update(_V).where(_V.c.id == bindparam("b_id"), _V.c.status == bindparam("b_read_status"))
