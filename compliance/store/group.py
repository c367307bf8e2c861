"""Group commit: many monitor runs' posts and states recorded in one write transaction.

A monitor cycle runs thousands of short runs (20 posts each) on a thread pool. One
write transaction per run pays the fixed statements of a batch (waiver expiry,
creators, accounts, versions, checks, violations...) thousands of times; here one
writer thread takes every run that is waiting and records them together.

Each run still gets its own counts (violations opened, fixed, regressed: every
change is counted for the run whose post caused it, and made by that run's actor)
and its own ``then(session, counts)`` (a monitor run marks its gone posts there and
returns its state's save), in the same transaction as its posts; the states the
runs return are saved together, with a fixed number of statements
(:func:`~compliance.store.monitors.save_monitor_runs_in`). A run's state is never
committed without its posts. If a group's transaction fails, each of its runs is
redone alone in a transaction of its own, so one failing run fails alone: the
others' posts and states are committed, its own are not.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from compliance.store.changes import OnChanges
from compliance.store.db import Store
from compliance.store.monitors import RunSave, save_monitor_runs_in
from compliance.store.observed import Observation, Prepared, prepare
from compliance.store.record import (
    BATCH_SIZE,
    Clock,
    Finish,
    record_batch,
    write_with_retries,
)
from compliance.store.rows import Known
from compliance.store.transitions import RecordStats

__all__ = ["GroupWriter"]


@dataclass
class _Run:
    observations: Sequence[Prepared]
    then: Finish | None
    actor: str
    done: Future[RecordStats] = field(default_factory=Future)


class GroupWriter:
    """A writer thread recording waiting runs together (see the module's doc).

    ``commit`` blocks its caller until the run is committed (or has failed), so a
    run's result is known when it returns; ``close`` stops the thread. At most
    ``max_posts`` posts go in one transaction (a run is never split).

    ``hold`` is taken once the transaction has the database's write lock and kept
    until its work is done: the runtime passes the lock its engine checks run
    under. A transaction's statements are mostly Python (building parameters,
    reading rows back), so they compete for the GIL with the checks of this
    process; meanwhile another process's writer waits for the write lock, and
    that process's runs wait for their writer. Pausing this process's checks while
    it writes keeps the lock's hold short; the checks run while the writer waits
    for the lock instead (2,000 creators with 2 processes: cycle 1 76 -> 51 s).
    """

    def __init__(
        self,
        store: Store,
        *,
        now: Clock,
        max_posts: int = BATCH_SIZE,
        on_changes: OnChanges | None = None,
        hold: AbstractContextManager[object] | None = None,
    ) -> None:
        self.store = store
        self._hold = hold if hold is not None else nullcontext()
        # The alerts' outbox rows are written in the group's transaction (see record_batch).
        self.on_changes = on_changes
        self.now = now
        self.max_posts = max_posts
        self._known = Known()
        self._queue: queue.Queue[_Run | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="group-writer", daemon=True)
        self._thread.start()

    def commit(
        self, observations: Sequence[Observation], then: Finish | None = None, *, actor: str
    ) -> RecordStats:
        """Record ``observations``, run ``then(session, counts)`` and save the monitor
        state it returns (if any) in the same transaction; return the run's counts.
        Raises what the run's own transaction raised."""
        if not self._thread.is_alive():
            raise RuntimeError("the group writer is closed")
        # Hashes and JSON are worked out here, in the run's own thread: the writer
        # thread holds the database's write lock, and should hold it for SQL alone.
        run = _Run([prepare(obs) for obs in observations], then, actor)
        self._queue.put(run)
        return run.done.result()

    def close(self) -> None:
        """Finish the waiting runs and stop the writer thread."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def __enter__(self) -> GroupWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _loop(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                return
            group, posts = [first], len(first.observations)
            while posts < self.max_posts:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                group.append(more)
                posts += len(more.observations)
            self._write(group)

    def _write(self, group: list[_Run]) -> None:
        try:
            counts = self._record(group)
        except Exception as exc:  # handed to the waiting run, never lost in this thread
            if len(group) == 1:
                group[0].done.set_exception(exc)
            else:  # which run failed? Each is redone alone, and fails alone.
                for run in group:
                    self._write([run])
            return
        for run, stats in zip(group, counts, strict=True):
            run.done.set_result(stats)

    def _record(self, group: list[_Run]) -> list[RecordStats]:
        """One transaction for the group (redone on a lost race): every run's posts,
        then every run's ``then``; the runs' counts, in order."""

        def write(session: Session) -> tuple[list[RecordStats], Known]:
            session.connection()  # the transaction begins: SQLite's BEGIN IMMEDIATE waits here
            with self._hold:
                return work(session)

        def work(session: Session) -> tuple[list[RecordStats], Known]:
            counts = [RecordStats(posts=len(run.observations)) for run in group]
            owner = {
                id(item.obs): (stats, run.actor)
                for run, stats in zip(group, counts, strict=True)
                for item in run.observations
            }
            batch = [item for run in group for item in run.observations]
            learnt = Known()
            if batch:
                _, learnt = record_batch(
                    session,
                    batch,
                    now=self.now,
                    known=self._known,
                    on_changes=self.on_changes,
                    runs=lambda obs: owner[id(obs)],
                )
            saves: list[RunSave] = []
            for run, stats in zip(group, counts, strict=True):
                if run.then is not None:
                    save = run.then(session, stats)
                    if save is not None:
                        saves.append(save)
            save_monitor_runs_in(session, saves, now=self.now)
            return counts, learnt

        counts, learnt = write_with_retries(self.store, write)
        self._known.update(learnt)
        return counts
