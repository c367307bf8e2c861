"""Recording verdicts: posts, caption versions, checks, and the violations they open, fix or reopen.

:class:`Recorder` buffers verdicts and writes them in batches; each batch is one
transaction (:func:`record_batch`), so a crash loses at most the batch in flight
and never leaves half of one behind.

Idempotent and safe with several writers at once:

* every row has a natural key with a unique constraint (creator handle, account
  (platform, handle), campaign fingerprint, post (platform, key), version (post,
  caption hash), check (version, verdict hash), violation (post, rule)), and rows
  are written with the dialect's ``INSERT ... ON CONFLICT``; re-recording an
  unchanged post only moves ``last_seen`` / ``last_checked``;
* the post upsert (``ON CONFLICT DO UPDATE``) locks the batch's post rows until
  commit on PostgreSQL, so two processes never decide a post's violations at the
  same time; rows are written in sorted key order so that two batches cannot
  deadlock. SQLite writers are serialised by ``BEGIN IMMEDIATE``;
* status changes are conditional (``UPDATE ... WHERE status = <the status we
  read>``) and new violations are inserted with ``ON CONFLICT DO NOTHING``: if
  either finds another writer got there first, the batch is rolled back and
  redone (as it is after a PostgreSQL deadlock or serialisation failure).

Speed: per batch a fixed number of statements (executemany / multi-row VALUES),
independent of the batch size; ids of creators, accounts and campaigns already
seen are cached (only after their transaction committed).

The steps live in three modules: :mod:`.observed` (hashes, keys and verdict JSON,
computed without the database), :mod:`.rows` (the upserts of what was seen) and
:mod:`.transitions` (what each checked version does to its post's violations).

For the monitors: an observation carrying ``monitor_key`` is linked to that
monitor (``monitor_posts``), and one fetched after its post was marked gone
brings the post back (:func:`compliance.store.gone.reappear`). The counts a run
needs (violations opened, fixed, regressed; posts back) are in the
:class:`RecordStats` that :meth:`Recorder.flush` returns per batch and
:meth:`Recorder.close` for the whole recorder.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from compliance.model import Verdict
from compliance.store.changes import OnChanges, collect
from compliance.store.db import Store, StoreError
from compliance.store.gone import reappear
from compliance.store.lifecycle import expire_waivers
from compliance.store.monitors import RunSave, save_monitor_runs_in
from compliance.store.observed import NAME_SIZE, Observation, Prepared, prepare
from compliance.store.rows import (
    Known,
    ensure_accounts,
    ensure_campaigns,
    ensure_creators,
    link_monitors,
    update_current,
    upsert_checks,
    upsert_posts,
    upsert_versions,
)
from compliance.store.transitions import (
    Conflict,
    RecordStats,
    apply,
    read_violations,
    write_violations,
)

__all__ = [
    "CHECKER",
    "Observation",
    "RecordStats",
    "Recorder",
    "record_batch",
    "write_with_retries",
]

Clock = Callable[[], datetime]
# What runs in the transaction of a recorder's last batch: (session, the recorder's
# counts). A monitor run returns the save of its state, which is written there too
# (the group writer saves all of its transaction's runs' states together).
Finish = Callable[[Session, RecordStats], RunSave | None]
T = TypeVar("T")

BATCH_SIZE = 500
# Attempts at one batch when another writer got in the way (deadlock, lost race).
ATTEMPTS = 4
# The actor of transitions made by checking.
CHECKER = "check"
# PostgreSQL's deadlock_detected and serialization_failure: the batch can simply be redone.
_RETRY_PGCODES = {"40P01", "40001"}


def record_batch(
    session: Session,
    observations: Sequence[Observation | Prepared],
    *,
    now: Clock,
    actor: str = CHECKER,
    known: Known | None = None,
    on_changes: OnChanges | None = None,
    runs: Callable[[Observation], tuple[RecordStats, str]] | None = None,
) -> tuple[RecordStats, Known]:
    """Record one batch of verdicts in the session's transaction.

    ``on_changes`` is called with the session and the batch's violation changes
    (:class:`~compliance.store.changes.ViolationChange`) before the transaction
    ends: the alerting layer's outbox rows commit with the changes that cause them.

    Returns the counts and the creator/account/campaign ids learnt (to be cached
    once the transaction has committed). Raises :class:`Conflict` when another
    writer won a race; the caller rolls back and calls again.

    ``runs`` (group commit: one batch holding several monitor runs' posts) gives,
    per observation, the counts its violations' changes go to and the actor they
    are made by; by default the batch's counts and ``actor``.

    An observation may come already :func:`~compliance.store.observed.prepare`-d (its
    hashes and JSON worked out outside the transaction, so the write lock is held for
    less time); a transaction that is redone reuses it, since only its row ids change.
    """
    known = known or Known()
    # The events' actor column holds NAME_SIZE characters; a monitor's key may be longer.
    actor = actor[:NAME_SIZE]
    at = now()
    stats = RecordStats(posts=len(observations))
    stats.reopened = len(expire_waivers(session, now=lambda: at))
    items = [obs if isinstance(obs, Prepared) else prepare(obs) for obs in observations]
    learnt = Known()

    creator_ids = ensure_creators(session, items, known, learnt, at)
    account_ids = ensure_accounts(session, items, creator_ids, known, learnt, at)
    campaign_ids = ensure_campaigns(session, items, known, learnt, at)
    current, gone = upsert_posts(session, items, account_ids, campaign_ids, at)
    stats.reappeared = reappear(session, items, gone, at=at, actor=actor)
    link_monitors(session, items, at)
    upsert_versions(session, items, at)
    upsert_checks(session, items, at)

    states = read_violations(session, {item.post_id for item in items})
    latest: dict[int, Prepared] = {}
    for item in items:
        counts, by = runs(item.obs) if runs is not None else (stats, actor)
        apply(item, states, counts, at=at, actor=by[:NAME_SIZE])
        latest[item.post_id] = item
    write_violations(session, states, at)
    update_current(session, latest, current)
    if on_changes is not None:
        changes = collect(states, items)
        if changes:
            on_changes(session, changes)
    return stats, learnt


class Recorder:
    """Buffers verdicts and records them a batch (one transaction) at a time.

    Use as a context manager, or call :meth:`close` at the end: the last partial
    batch is written then. ``now`` is the clock (called once per batch: the time
    every row of the batch is stamped with). ``on_changes``: see :func:`record_batch`.
    """

    def __init__(
        self,
        store: Store,
        *,
        now: Clock,
        actor: str = CHECKER,
        batch_size: int = BATCH_SIZE,
        on_changes: OnChanges | None = None,
    ) -> None:
        self.store = store
        self.on_changes = on_changes
        self.now = now
        self.actor = actor
        self.batch_size = batch_size
        self.stats = RecordStats()
        self._known = Known()
        self._pending: list[Observation] = []

    def add(
        self,
        verdict: Verdict,
        *,
        source: str | None = None,
        raw_response: str | None = None,
        fetched_at: datetime | None = None,
        monitor_key: str | None = None,
    ) -> None:
        """Queue one verdict; a full batch is written now.

        A monitor passes the URL it fetched as ``source``, the platform's JSON for
        the post as ``raw_response`` (kept as evidence with the caption version),
        when it fetched it as ``fetched_at`` and its own key as ``monitor_key``.
        """
        self.add_observation(Observation(verdict, source, raw_response, fetched_at, monitor_key))

    def add_observation(self, observation: Observation) -> None:
        """Queue one observation (see :meth:`add`); a full batch is written now."""
        self._pending.append(observation)
        if len(self._pending) >= self.batch_size:
            self.flush()

    def flush(self, then: Finish | None = None) -> RecordStats:
        """Write the queued verdicts as one transaction (redone if another writer interfered);
        return that batch's counts (empty when nothing was queued).

        ``then(session, total)`` runs in the same transaction, after the batch, with
        the counts of every batch of this recorder including this one (a transaction
        is opened for it even when nothing is queued), and the monitor state it
        returns (if any) is saved there: a monitor run's state is committed with its
        last posts or not at all. It is called again if the transaction is redone.
        """
        if not self._pending and then is None:
            return RecordStats()
        batch = self._pending

        def write(session: Session) -> tuple[RecordStats, Known]:
            if batch:
                stats, learnt = record_batch(
                    session,
                    batch,
                    now=self.now,
                    actor=self.actor,
                    known=self._known,
                    on_changes=self.on_changes,
                )
            else:
                stats, learnt = RecordStats(), Known()
            if then is not None:
                total = replace(self.stats)
                total.add(stats)
                save = then(session, total)
                if save is not None:
                    save_monitor_runs_in(session, [save], now=self.now)
            return stats, learnt

        stats, learnt = write_with_retries(self.store, write)
        self._pending = []
        self._known.update(learnt)
        self.stats.add(stats)
        return stats

    def close(self, then: Finish | None = None) -> RecordStats:
        """Write what is left and return the counts of every batch this recorder wrote
        (a monitor run uses one recorder per run, so these are the run's counts);
        ``then`` as for :meth:`flush`."""
        self.flush(then)
        return self.stats

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.close()


def write_with_retries(store: Store, write: Callable[[Session], T]) -> T:
    """``write(session)`` in a write transaction, redone (from scratch, in a new one)
    when another writer got in the way: a lost race (:class:`Conflict`) or a
    PostgreSQL deadlock or serialisation failure."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with store.write() as session:
                return write(session)
        except Conflict:
            if attempt == ATTEMPTS:
                raise StoreError(
                    f"database {store.display}: gave up after {ATTEMPTS} attempts "
                    "(other writers kept changing the same violations)"
                ) from None
        except StoreError as exc:
            if attempt == ATTEMPTS or not _retryable(exc.__cause__):
                raise
    raise AssertionError("unreachable: the last attempt returns or raises")


def _retryable(exc: BaseException | None) -> bool:
    """A PostgreSQL deadlock or serialisation failure: nothing was written, try again."""
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "pgcode", None) in _RETRY_PGCODES
