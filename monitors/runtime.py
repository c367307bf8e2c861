"""What a process needs to run monitors: one HTTP client and source per platform, the engine, the store.

Built once per process (the daemon, a one-off check, a Celery worker) from the
platform settings of compliance.yaml. Clients and request budgets are shared by
every monitor of a platform, so the platform's rate limit holds however many
monitors run at once. Checks run one at a time under a lock: the engine keeps
per-process memos that are not meant for concurrent writers, and it holds the GIL
anyway.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import httpx

from compliance.model import Post, Verdict
from compliance.store.changes import OnChanges
from compliance.store.db import Store
from compliance.store.group import GroupWriter
from monitors.http import HostPolicy, HttpSettings, PlatformClient, make_client, platform_budget
from monitors.run import Job, RunResult, run_monitor
from monitors.sources import source_class
from monitors.sources.base import Source, SourceSettings


def utcnow() -> datetime:
    """The wall clock, in UTC (the one place the monitors read it)."""
    return datetime.now(timezone.utc)


@dataclass
class Runtime:
    """Sources, engine and store for running monitors in this process."""

    store: Store
    packs: Any
    settings: Mapping[str, SourceSettings] = field(default_factory=dict)
    http: Mapping[str, HttpSettings] = field(default_factory=dict)
    transport: httpx.BaseTransport | None = None
    now: Callable[[], datetime] = utcnow
    # The recorder's hook for the alerts' outbox (None: no alerts).
    on_changes: OnChanges | None = None
    # The daemon's runs, started one by one by the scheduler, share one group writer
    # (many runs per write transaction; see compliance.store.group), as a cycle does.
    group_commit: bool = False
    _writer: GroupWriter | None = field(default=None, init=False)
    _sources: dict[str, Source] = field(default_factory=dict, init=False)
    _clients: dict[str, PlatformClient] = field(default_factory=dict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _check_lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def source(self, platform: str) -> Source:
        """The (shared) source of ``platform``, built on first use."""
        with self._lock:
            found = self._sources.get(platform)
            if found is None:
                settings = self.settings.get(platform, SourceSettings())
                http = self.http.get(platform, HttpSettings())
                budget = (
                    platform_budget(platform, http.requests_per_minute)
                    if http.requests_per_minute
                    else None
                )
                client = make_client(
                    platform,
                    http,
                    budget=budget,
                    secrets=settings.secrets,
                    transport=self.transport,
                    hosts=HostPolicy.build(
                        platform,
                        trusted_urls=settings.base_urls,
                        allow_hosts=settings.allow_hosts,
                    ),
                )
                self._clients[platform] = client
                found = source_class(platform)(client, settings)  # type: ignore[call-arg]
                self._sources[platform] = found
            return found

    def check(self, post: Post) -> Verdict:
        """The engine's verdict on ``post`` (one check at a time in this process)."""
        from compliance.engine import check

        with self._check_lock:
            return check(post, self.packs)

    def run(
        self,
        job: Job,
        next_run_at: datetime | None = None,
        *,
        keep_verdicts: bool = False,
        save_state: bool = True,
        writer: GroupWriter | None = None,
    ) -> RunResult:
        """Run ``job`` once (see :func:`monitors.run.run_monitor`)."""
        if writer is None and self.group_commit and save_state:
            writer = self._group_writer()
        return run_monitor(
            job,
            self.source(job.platform),
            self.store,
            self.check,
            now=self.now,
            keep_verdicts=keep_verdicts,
            next_run_at=next_run_at,
            save_state=save_state,
            on_changes=self.on_changes,
            writer=writer,
        )

    def _group_writer(self) -> GroupWriter:
        with self._lock:
            if self._writer is None:
                self._writer = self._new_writer()
            return self._writer

    def _new_writer(self) -> GroupWriter:
        # On SQLite the writer pauses this process's checks while it holds the
        # database's one write lock (see GroupWriter): the checks are what competes
        # with it for the GIL, and every other writer waits for that lock. PostgreSQL
        # has no such lock; there a pause would only idle the core during round trips.
        hold = self._check_lock if self.store.dialect == "sqlite" else None
        return GroupWriter(self.store, now=self.now, on_changes=self.on_changes, hold=hold)

    def run_all(
        self,
        jobs: Sequence[Job],
        *,
        workers: int = 4,
        keep_verdicts: bool = False,
        save_state: bool = True,
        on_result: Callable[[RunResult], None] | None = None,
    ) -> list[RunResult]:
        """Run every job once, ``workers`` at a time (one cycle); results in job order.

        ``on_result`` is called as each run ends (in the caller's thread), e.g. to
        advance a progress bar or write the verdicts out as they come. The runs'
        posts and states are recorded by one writer thread, many runs per
        transaction (:class:`~compliance.store.group.GroupWriter`).
        """
        results: dict[int, RunResult] = {}
        with (
            self._new_writer() as writer,
            ThreadPoolExecutor(max_workers=max(1, workers)) as pool,
        ):
            futures = {
                pool.submit(
                    self.run,
                    job,
                    keep_verdicts=keep_verdicts,
                    save_state=save_state,
                    writer=writer,
                ): n
                for n, job in enumerate(jobs)
            }
            for future in as_completed(futures):
                result = future.result()
                results[futures[future]] = result
                if on_result is not None:
                    on_result(result)
        return [results[n] for n in range(len(jobs))]

    def close(self) -> None:
        """Finish the waiting runs' writes; close the HTTP clients."""
        with self._lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
        for client in self._clients.values():
            client.close()
        self._clients.clear()
        self._sources.clear()
