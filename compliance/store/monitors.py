"""Monitor state: where each monitor left off, how its runs went, and when it started failing.

One :class:`~compliance.store.models.MonitorStateRow` per monitor key (the
configuration's name for it, e.g. ``creator:mara:tiktok:@glowwithmara``). A run
ends with :func:`save_monitor_run`, one transaction that

* counts failures: ``failed`` and ``partial`` runs add one to
  ``consecutive_failures``, ``ok`` and ``not_modified`` reset it (a monitor is
  reported failing only after N failures in a row, as urlwatch does);
* flips ``failing`` on when the count reaches the threshold, and off again on the
  next success, writing a :class:`~compliance.store.models.MonitorEventRow` for each
  flip, which the alerts read once (:func:`unnotified_monitor_events`,
  :func:`mark_monitor_events_notified`). Raising the threshold does not end a
  failing spell: only a successful run does;
* keeps the source's cursor (``cursor=None``: keep the stored one, as a failed run
  should), the last run's counts and a row in ``monitor_runs``, pruned to the
  last :data:`KEEP_RUNS` of the monitor.

:func:`save_monitor_runs_in` does the same for many runs with a fixed number of
statements: the group writer saves every run of its transaction there.

Two processes saving the same monitor at once queue on the row: it is read
``FOR UPDATE`` on PostgreSQL, and SQLite's writers are serialised by ``BEGIN
IMMEDIATE``; neither loses the other's failure. Errors are stored as one line
without control characters, at most :data:`ERROR_CHARS` long: the caller passes a
message that is already free of secrets, and this keeps it printable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from compliance.store.db import Store
from compliance.store.models import (
    MonitorEventRow,
    MonitorPost,
    MonitorRunRow,
    MonitorStateRow,
)
from compliance.store.queries import iso
from compliance.store.rows import chunks, dialect_insert
from compliance.store.status import (
    ERROR_KINDS,
    FAILED_OUTCOMES,
    MONITOR_KINDS,
    OUTCOMES,
)
from compliance.store.transitions import RecordStats

Clock = Callable[[], datetime]

# Failures in a row before a monitor is reported failing, unless the config says otherwise.
DEFAULT_THRESHOLD = 3
# Runs kept per monitor in monitor_runs (what `compliance status` can show).
KEEP_RUNS = 20
# Longest stored error message; the rest is cut (the full story is in the daemon's log).
ERROR_CHARS = 500

# C0/C1 controls, and the Unicode format characters that reorder or hide text on a terminal.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]+")


@dataclass(frozen=True)
class RunCounts:
    """What one run did: posts fetched, new, edited and gone; violations opened, fixed, regressed."""

    fetched: int = 0
    new: int = 0
    edited: int = 0
    gone: int = 0
    opened: int = 0
    fixed: int = 0
    regressed: int = 0

    @classmethod
    def of(cls, stats: RecordStats, *, fetched: int, new: int, edited: int, gone: int) -> RunCounts:
        """The run's counts: the posts as the run saw them, the violations as recording did."""
        return cls(fetched, new, edited, gone, stats.opened, stats.fixed, stats.regressed)

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNT_FIELDS}


COUNT_FIELDS = tuple(f.name for f in fields(RunCounts))


@dataclass(frozen=True)
class MonitorState:
    """A monitor as stored after its last save. ``flipped`` is ``"failing"`` or
    ``"recovered"`` when the save that returned this state flipped it, else None."""

    key: str
    kind: str
    platform: str
    target: str
    cursor: Mapping[str, Any]
    created_at: datetime
    updated_at: datetime
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_outcome: str | None
    last_error: str | None
    last_error_kind: str | None
    consecutive_failures: int
    failure_threshold: int
    failing: bool
    failing_since: datetime | None
    next_run_at: datetime | None
    last_counts: RunCounts
    posts_total: int
    runs_total: int
    flipped: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, the shape ``compliance status --format json`` prints."""
        return {
            "key": self.key,
            "kind": self.kind,
            "platform": self.platform,
            "target": self.target,
            "last_run_at": iso(self.last_run_at),
            "last_success_at": iso(self.last_success_at),
            "last_outcome": self.last_outcome,
            "last_error_kind": self.last_error_kind,
            "last_error": self.last_error,
            "consecutive_failures": self.consecutive_failures,
            "failure_threshold": self.failure_threshold,
            "failing": self.failing,
            "failing_since": iso(self.failing_since),
            "next_run_at": iso(self.next_run_at),
            "last_counts": self.last_counts.as_dict(),
            "posts_total": self.posts_total,
            "runs_total": self.runs_total,
            "cursor": dict(self.cursor),
        }


@dataclass(frozen=True)
class MonitorRun:
    """One logged run of a monitor."""

    id: int
    key: str
    started_at: datetime
    finished_at: datetime
    outcome: str
    counts: RunCounts
    error_kind: str | None
    error: str | None


@dataclass(frozen=True)
class MonitorEvent:
    """A monitor started failing (``action="failing"``) or recovered."""

    id: int
    key: str
    platform: str
    target: str
    at: datetime
    action: str
    consecutive_failures: int
    error_kind: str | None
    error: str | None
    notified_at: datetime | None


def one_line(message: str | None, limit: int = ERROR_CHARS) -> str | None:
    """The message as stored: control characters and line breaks made spaces, cut to ``limit``."""
    if message is None:
        return None
    text = " ".join(_CONTROL.sub(" ", message).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


_STATES = MonitorStateRow.__table__
_RUNS = MonitorRunRow.__table__
_EVENTS = MonitorEventRow.__table__


def _state(row: Mapping[str, Any], flipped: str | None = None) -> MonitorState:
    """A state from a row of monitor_states (a Core row's mapping: its JSON is its own)."""
    return MonitorState(
        key=row["key"],
        kind=row["kind"],
        platform=row["platform"],
        target=row["target"],
        cursor=row["cursor"] or {},
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        last_run_at=row["last_run_at"],
        last_success_at=row["last_success_at"],
        last_outcome=row["last_outcome"],
        last_error=row["last_error"],
        last_error_kind=row["last_error_kind"],
        consecutive_failures=row["consecutive_failures"],
        failure_threshold=row["failure_threshold"],
        failing=bool(row["failing"]),
        failing_since=row["failing_since"],
        next_run_at=row["next_run_at"],
        last_counts=RunCounts(*(row[f"last_{name}"] for name in COUNT_FIELDS)),
        posts_total=row["posts_total"],
        runs_total=row["runs_total"],
        flipped=flipped,
    )


def _check_monitor(kind: str, threshold: int) -> None:
    if kind not in MONITOR_KINDS:
        raise ValueError(f"unknown monitor kind {kind!r} (one of {', '.join(MONITOR_KINDS)})")
    if threshold < 1:
        raise ValueError(f"failure threshold must be at least 1, not {threshold}")


# Built once: every monitor run reads and locks its row (see compliance.store.window).
_BY_KEY = select(_STATES).where(_STATES.c.key == bindparam("key"))


def _fresh_row(
    key: str, kind: str, platform: str, target: str, threshold: int, at: datetime
) -> dict[str, Any]:
    """The state row of a monitor that has never run."""
    return {
        "key": key,
        "kind": kind,
        "platform": platform,
        "target": target,
        "cursor": {},
        "created_at": at,
        "updated_at": at,
        "last_run_at": None,
        "last_success_at": None,
        "last_outcome": None,
        "last_error": None,
        "last_error_kind": None,
        "consecutive_failures": 0,
        "failure_threshold": threshold,
        "failing": False,
        "failing_since": None,
        "next_run_at": None,
        "posts_total": 0,
        "runs_total": 0,
        **{f"last_{name}": 0 for name in COUNT_FIELDS},
    }


class MonitorSpec(NamedTuple):
    """A configured monitor, as :func:`ensure_monitors` registers it."""

    key: str
    kind: str
    platform: str
    target: str
    threshold: int = DEFAULT_THRESHOLD


# Monitors registered per transaction: short transactions, few of them.
_REGISTER_CHUNK = 1000


def ensure_monitors(store: Store, monitors: Sequence[MonitorSpec], *, now: Clock) -> int:
    """Give every monitor in ``monitors`` a state row if it has none (as
    :func:`ensure_monitor` does one), a thousand per transaction; existing rows are
    left as they are. Returns how many rows were created.

    The daemon registers its whole configuration at start: one transaction per
    monitor would cost 10,000 commits for 10,000 creators.
    """
    for m in monitors:
        _check_monitor(m.kind, m.threshold)
    created = 0
    at = now()
    for start in range(0, len(monitors), _REGISTER_CHUNK):
        chunk = monitors[start : start + _REGISTER_CHUNK]
        rows = [_fresh_row(m.key, m.kind, m.platform, m.target, m.threshold, at) for m in chunk]
        with store.write() as session:
            stmt = dialect_insert(session, _STATES).on_conflict_do_nothing(index_elements=["key"])
            before = session.execute(select(func.count()).select_from(_STATES)).scalar_one()
            session.execute(stmt, rows)
            after = session.execute(select(func.count()).select_from(_STATES)).scalar_one()
            created += after - before
    return created


def ensure_monitor(
    store: Store,
    key: str,
    *,
    kind: str,
    platform: str,
    target: str,
    threshold: int = DEFAULT_THRESHOLD,
    now: Clock,
) -> MonitorState:
    """The monitor's state, created (never run, nothing failing) if it has none yet.

    The daemon calls this for every configured monitor at start, so that ``status``
    lists monitors that have not run yet. An existing row is returned as it is.
    """
    _check_monitor(kind, threshold)
    with store.write() as session:
        spec = MonitorSpec(key, kind, platform, target, threshold)
        return _state(_locked_rows(session, [spec], now())[key])


def load_monitor_state(store: Store, key: str) -> MonitorState | None:
    """The monitor's stored state, or None if it has never been saved."""
    with store.read() as session:
        return load_monitor_state_in(session, key)


def load_monitor_state_in(session: Session, key: str) -> MonitorState | None:
    """:func:`load_monitor_state` in the caller's transaction."""
    row = session.connection().execute(_BY_KEY, {"key": key}).mappings().first()
    return _state(row) if row is not None else None


def list_monitor_states(store: Store) -> list[MonitorState]:
    """Every monitor's state, by key."""
    with store.read() as session:
        rows = session.execute(select(_STATES).order_by(_STATES.c.key)).mappings()
        return [_state(row) for row in rows]


def set_next_run(store: Store, key: str, when: datetime | None) -> bool:
    """Record when the monitor runs next (None: not scheduled); False if there is no such monitor."""
    with store.write() as session:
        result = session.execute(
            update(_STATES).where(_STATES.c.key == key).values(next_run_at=when)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def save_monitor_run(store: Store, key: str, **options: Any) -> MonitorState:
    """Record the end of one run of the monitor ``key`` in a transaction of its own;
    ``options`` are those of :func:`save_monitor_run_in`."""
    with store.write() as session:
        return save_monitor_run_in(session, key, **options)


@dataclass(frozen=True)
class RunSave:
    """The end of one monitor run, to be saved by :func:`save_monitor_runs_in` (the
    fields are :func:`save_monitor_run_in`'s arguments). ``on_saved``, if given, is
    called with the state the save produced, inside the transaction (again if the
    transaction is redone)."""

    key: str
    kind: str
    platform: str
    target: str
    started_at: datetime
    outcome: str
    counts: RunCounts = RunCounts()
    cursor: Mapping[str, Any] | None = None
    error: str | None = None
    error_kind: str | None = None
    threshold: int = DEFAULT_THRESHOLD
    next_run_at: datetime | None = None
    on_saved: Callable[[MonitorState], None] | None = field(default=None, compare=False)

    def check(self) -> None:
        """Raise ValueError if the save cannot be recorded as it stands."""
        _check_monitor(self.kind, self.threshold)
        if self.outcome not in OUTCOMES:
            raise ValueError(f"unknown run outcome {self.outcome!r} (one of {', '.join(OUTCOMES)})")
        if self.outcome in FAILED_OUTCOMES and self.error_kind is None:
            raise ValueError(
                f"a {self.outcome} run needs an error kind (one of {', '.join(ERROR_KINDS)})"
            )
        if self.error_kind is not None and self.error_kind not in ERROR_KINDS:
            raise ValueError(
                f"unknown error kind {self.error_kind!r} (one of {', '.join(ERROR_KINDS)})"
            )


def save_monitor_run_in(
    session: Session,
    key: str,
    *,
    kind: str,
    platform: str,
    target: str,
    started_at: datetime,
    outcome: str,
    counts: RunCounts = RunCounts(),
    cursor: Mapping[str, Any] | None = None,
    error: str | None = None,
    error_kind: str | None = None,
    threshold: int = DEFAULT_THRESHOLD,
    next_run_at: datetime | None = None,
    now: Clock,
    keep_runs: int = KEEP_RUNS,
) -> MonitorState:
    """Record the end of one run of the monitor ``key`` (created on its first run) in
    the caller's transaction (a monitor run saves its state in the transaction that
    records its last posts, so the state never runs ahead of what is recorded).

    ``outcome`` is one of ``ok``, ``not_modified`` (success), ``failed``,
    ``partial`` (failure: some pages read, then an error; ``cursor`` may still
    carry the progress). A failure needs an ``error_kind`` (one of
    :data:`~compliance.store.status.ERROR_KINDS`) and should have a safe
    one-line ``error``. ``cursor`` None keeps the stored cursor; ``next_run_at``
    None keeps the stored next run. ``threshold`` is the monitor's current
    failures-in-a-row setting (stored, so a changed config applies at once).

    Returns the new state; its ``flipped`` says whether this run made the monitor
    ``"failing"`` or ``"recovered"`` (each flip also written as an event, once).
    """
    save = RunSave(
        key,
        kind,
        platform,
        target,
        started_at,
        outcome,
        counts,
        cursor,
        error,
        error_kind,
        threshold,
        next_run_at,
    )
    return save_monitor_runs_in(session, [save], now=now, keep_runs=keep_runs)[0]


def save_monitor_runs_in(
    session: Session,
    saves: Sequence[RunSave],
    *,
    now: Clock,
    keep_runs: int = KEEP_RUNS,
) -> list[MonitorState]:
    """Record the ends of many runs in the caller's transaction, as
    :func:`save_monitor_run_in` records one, with a fixed number of statements
    (read and lock the rows, count the posts, update, log the runs, write the flips,
    prune): the group writer saves the states of every run of its transaction here,
    where one save per run cost five statements each. Saves of the same monitor are
    applied in order, each on top of the one before. Returns the states, in order.
    """
    if keep_runs < 1:
        raise ValueError(f"keep_runs must be at least 1, not {keep_runs}")
    for save in saves:
        save.check()
    if not saves:
        return []
    at = now()
    specs = [MonitorSpec(s.key, s.kind, s.platform, s.target, s.threshold) for s in saves]
    rows = _locked_rows(session, specs, at)
    posts = _posts_totals(session, list(rows))

    updates: dict[str, dict[str, Any]] = {}
    runs: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    states: list[MonitorState] = []
    for save in saves:
        old = rows[save.key]
        failed = save.outcome in FAILED_OUTCOMES
        message = one_line(save.error) if failed else None
        error_kind = save.error_kind if failed else None
        values, flipped = _after_run(old, failed, save.threshold, message, error_kind, at)
        values.update(
            kind=save.kind,
            platform=save.platform,
            target=save.target,
            failure_threshold=save.threshold,
            last_run_at=at,
            last_outcome=save.outcome,
            updated_at=at,
            runs_total=old["runs_total"] + 1,
            posts_total=posts.get(save.key, 0),
            **{f"last_{name}": value for name, value in save.counts.as_dict().items()},
        )
        if save.cursor is not None:
            # Through JSON now, so that what is returned is what a later load gives.
            values["cursor"] = json.loads(json.dumps(dict(save.cursor)))
        if save.next_run_at is not None:
            values["next_run_at"] = save.next_run_at
        row = rows[save.key] = {**old, **values}
        updates[save.key] = row
        runs.append(
            {
                "monitor_id": old["id"],
                "started_at": save.started_at,
                "finished_at": at,
                "outcome": save.outcome,
                "error_kind": error_kind,
                "error": message,
                **save.counts.as_dict(),
            }
        )
        if flipped is not None:
            events.append(
                {
                    "monitor_id": old["id"],
                    "at": at,
                    "action": flipped,
                    "consecutive_failures": values["consecutive_failures"],
                    "error_kind": error_kind,
                    "error": message,
                    "notified_at": None,
                }
            )
        states.append(_state(row, flipped))

    session.execute(
        _SAVE, [{"b_key": k, **{f"b_{c}": row[c] for c in _SAVED}} for k, row in updates.items()]
    )
    session.execute(_RUNS.insert(), runs)
    if events:
        session.execute(_EVENTS.insert(), events)
    pruned = [
        {"b_monitor": row["id"], "b_keep": keep_runs - 1}
        for row in updates.values()
        if row["runs_total"] > keep_runs
    ]
    if pruned:
        session.execute(_PRUNE, pruned)
    for save, state in zip(saves, states, strict=True):
        if save.on_saved is not None:
            save.on_saved(state)
    return states


def _locked_rows(
    session: Session, monitors: Sequence[MonitorSpec], at: datetime
) -> dict[str, dict[str, Any]]:
    """The monitors' rows by key, created (as never run) where missing, locked until
    commit (``FOR UPDATE`` on PostgreSQL, in key order so that two writers cannot
    deadlock; a SQLite writer holds the whole file already). Where a key comes more
    than once, its first spec creates the row."""
    specs: dict[str, MonitorSpec] = {}
    for spec in monitors:
        specs.setdefault(spec.key, spec)
    keys = sorted(specs)
    rows = _read_locked(session, keys)
    missing = [k for k in keys if k not in rows]
    if missing:
        fresh = [_fresh_row(*specs[k], at) for k in missing]
        # Another process may be creating one at this moment: then its row is the one locked.
        stmt = dialect_insert(session, _STATES).on_conflict_do_nothing(index_elements=["key"])
        session.execute(stmt, fresh)
        rows.update(_read_locked(session, missing))
    return rows


def _read_locked(session: Session, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    connection = session.connection()
    return {
        row["key"]: dict(row)
        for chunk in chunks(keys)
        for row in connection.execute(_LOCKED_BY_KEYS, {"keys": list(chunk)}).mappings()
    }


def _posts_totals(session: Session, keys: Sequence[str]) -> dict[str, int]:
    """How many posts each monitor has seen, by key (none: left out)."""
    connection = session.connection()
    return {
        key: count
        for chunk in chunks(keys)
        for key, count in connection.execute(_POSTS_TOTALS, {"keys": list(chunk)})
    }


# What a save writes: every column but the identity and the creation time, in one
# statement built once (built per call, its ~25 values cost more than the database does).
_SAVED = tuple(c.name for c in _STATES.columns if c.name not in ("id", "key", "created_at"))
_SAVE = (
    update(_STATES)
    .where(_STATES.c.key == bindparam("b_key"))
    .values({c: bindparam(f"b_{c}") for c in _SAVED})
)
_LOCKED_BY_KEYS = (
    select(_STATES)
    .where(_STATES.c.key.in_(bindparam("keys", expanding=True)))
    .order_by(_STATES.c.key)
    .with_for_update()
)
_POSTS_TOTALS = (
    select(MonitorPost.monitor_key, func.count())
    .where(MonitorPost.monitor_key.in_(bindparam("keys", expanding=True)))
    .group_by(MonitorPost.monitor_key)
)


def _after_run(
    old: Mapping[str, Any],
    failed: bool,
    threshold: int,
    message: str | None,
    error_kind: str | None,
    at: datetime,
) -> tuple[dict[str, Any], str | None]:
    """The failure-counting columns after a run, and the flip it causes (if any)."""
    if failed:
        count = old["consecutive_failures"] + 1
        values: dict[str, Any] = {
            "consecutive_failures": count,
            "last_error": message,
            "last_error_kind": error_kind,
        }
        if not old["failing"] and count >= threshold:
            values.update(failing=True, failing_since=at)
            return values, "failing"
        return values, None
    values = {
        "consecutive_failures": 0,
        "last_success_at": at,
        "last_error": None,
        "last_error_kind": None,
    }
    if old["failing"]:
        values.update(failing=False, failing_since=None)
        return values, "recovered"
    return values, None


# Delete all but the newest ``b_keep + 1`` runs of the monitor ``b_monitor`` (one
# parameter set per monitor: executemany).
_PRUNE = delete(_RUNS).where(
    _RUNS.c.monitor_id == bindparam("b_monitor"),
    _RUNS.c.id
    < (
        select(_RUNS.c.id)
        .where(_RUNS.c.monitor_id == bindparam("b_monitor"))
        .order_by(_RUNS.c.id.desc())
        .offset(bindparam("b_keep"))
        .limit(1)
        .scalar_subquery()
    ),
)


def monitor_runs(store: Store, key: str, *, limit: int = KEEP_RUNS) -> list[MonitorRun]:
    """The monitor's logged runs, newest first."""
    with store.read() as session:
        stmt = (
            select(MonitorRunRow)
            .join(MonitorStateRow, MonitorStateRow.id == MonitorRunRow.monitor_id)
            .where(MonitorStateRow.key == key)
            .order_by(MonitorRunRow.id.desc())
            .limit(limit)
        )
        return [
            MonitorRun(
                id=r.id,
                key=key,
                started_at=r.started_at,
                finished_at=r.finished_at,
                outcome=r.outcome,
                counts=RunCounts(*(getattr(r, name) for name in COUNT_FIELDS)),
                error_kind=r.error_kind,
                error=r.error,
            )
            for r in session.scalars(stmt)
        ]


# --- For the alerts: each flip, once ----------------------------------------------------------


def unnotified_monitor_events(session: Session, *, limit: int = 100) -> list[MonitorEvent]:
    """Flips not yet marked notified, oldest first."""
    stmt = (
        select(
            MonitorEventRow, MonitorStateRow.key, MonitorStateRow.platform, MonitorStateRow.target
        )
        .join(MonitorStateRow, MonitorStateRow.id == MonitorEventRow.monitor_id)
        .where(MonitorEventRow.notified_at.is_(None))
        .order_by(MonitorEventRow.id)
        .limit(limit)
    )
    return [
        MonitorEvent(
            id=e.id,
            key=key,
            platform=platform,
            target=target,
            at=e.at,
            action=e.action,
            consecutive_failures=e.consecutive_failures,
            error_kind=e.error_kind,
            error=e.error,
            notified_at=e.notified_at,
        )
        for e, key, platform, target in session.execute(stmt)
    ]


def mark_monitor_events_notified(
    session: Session, event_ids: Sequence[int], *, now: Clock
) -> list[int]:
    """Mark flips as sent; return the ids this call marked (an id already marked by
    another process is left out, so two senders cannot both claim one flip)."""
    if not event_ids:
        return []
    table = _EVENTS
    result = session.execute(
        update(table)
        .where(table.c.id.in_(list(event_ids)), table.c.notified_at.is_(None))
        .values(notified_at=now())
        .returning(table.c.id)
    )
    return sorted(row[0] for row in result)
