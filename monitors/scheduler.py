"""The daemon's APScheduler 3 wiring: one job per monitor, graceful stop, reload on SIGHUP.

Only wiring lives here; what a run does is :func:`monitors.run.run_monitor`.

* One APScheduler job per monitor (interval or cron trigger with jitter),
  ``max_instances=1`` (a slow run is never overlapped by the next), coalescing
  (missed runs collapse into one) and a misfire grace time.
* Runs execute in a bounded thread pool: fetching is I/O and overlaps across
  monitors. The engine is pure Python and holds the GIL while it checks, so
  checks take a lock of their own (the engine's window memos are per process,
  not per thread) and are short (about a millisecond a caption): fetchers keep
  their sockets busy while one thread checks.
* The first run time of each monitor comes from its stored ``next_run_at``, so
  a restart neither re-fetches at once what was just done nor forgets a run
  that came due while the daemon was down (it runs now, once, coalesced).
* SIGTERM / SIGINT: stop scheduling, let in-flight runs finish, exit.
  SIGHUP: build the plan again from the config file; a broken config is
  reported and the running plan kept.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitors.run import Job, RunResult

log = logging.getLogger("compliance.daemon")


@dataclass(frozen=True)
class Scheduled:
    """A monitor and when it runs: ``every`` (interval) or ``cron`` (crontab), with jitter."""

    job: Job
    every: timedelta | None = None
    cron: str | None = None
    jitter: timedelta = timedelta(0)

    def trigger(self) -> BaseTrigger:
        """The APScheduler trigger for this schedule (UTC)."""
        jitter = int(self.jitter.total_seconds()) or None
        if self.cron:
            trigger = CronTrigger.from_crontab(self.cron, timezone=timezone.utc)
            trigger.jitter = jitter  # from_crontab takes no jitter argument
            return trigger
        assert self.every is not None, "a schedule needs every or cron"
        return IntervalTrigger(
            seconds=max(self.every.total_seconds(), 0.001), jitter=jitter, timezone=timezone.utc
        )

    def signature(self) -> tuple[Any, ...]:
        """What, if changed by a reload, needs the job rescheduled."""
        return (self.every, self.cron, self.jitter)


# A plan is what the config says to run; the runner runs one monitor once.
Plan = Sequence[Scheduled]
Runner = Callable[[Job, "datetime | None"], RunResult]


class Daemon:
    """Runs a plan of monitors on APScheduler until stopped.

    ``load_plan`` builds the plan (from compliance.yaml); it is called at start and
    on every reload. ``runner(job, next_run_at)`` runs one monitor once and returns
    its result (it records the monitor's state itself). ``stored_next_run(key)``
    gives a monitor's stored next run time, if any.
    """

    def __init__(
        self,
        load_plan: Callable[[], Plan],
        runner: Runner,
        *,
        stored_next_run: Callable[[str], datetime | None] = lambda key: None,
        workers: int = 4,
        misfire_grace: timedelta = timedelta(minutes=30),
        log_format: str = "text",
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        ticks: Sequence[tuple[str, timedelta, Callable[[], None]]] = (),
    ) -> None:
        self._load_plan = load_plan
        self._runner = runner
        self._stored_next_run = stored_next_run
        self._log_format = log_format
        self._now = now
        self._misfire_grace = int(misfire_grace.total_seconds())
        self._plan: dict[str, Scheduled] = {}
        self._ticks = tuple(ticks)
        self._stop = threading.Event()
        self._reload = threading.Event()
        self.runs = 0
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=workers)},
            job_defaults={
                "max_instances": 1,
                "coalesce": True,
                "misfire_grace_time": self._misfire_grace,
            },
            timezone=timezone.utc,
        )

    # --- plan ------------------------------------------------------------------
    def _apply(self, plan: Plan) -> None:
        wanted = {s.job.key: s for s in plan}
        for key in list(self._plan):
            if key not in wanted:
                self.scheduler.remove_job(key)
                del self._plan[key]
                log.info("monitor removed: %s", key)
        for key, scheduled in wanted.items():
            old = self._plan.get(key)
            if old is None:
                first = self._stored_next_run(key) or self._now()
                self.scheduler.add_job(
                    self._run,
                    scheduled.trigger(),
                    args=[key],
                    id=key,
                    name=key,
                    next_run_time=max(first, self._now()),
                    replace_existing=True,
                )
            elif old.signature() != scheduled.signature():
                self.scheduler.reschedule_job(key, trigger=scheduled.trigger())
            self._plan[key] = scheduled

    def _run(self, key: str) -> None:
        scheduled = self._plan.get(key)
        if scheduled is None or self._stop.is_set():
            return
        # Not scheduler.get_job(): it takes the job-store lock, which shutdown() holds
        # while it waits for this very run to finish. The trigger says the same.
        now = self._now()
        next_run = scheduled.trigger().get_next_fire_time(None, now)
        try:
            result = self._runner(scheduled.job, next_run)
        except Exception as exc:  # a database outage or a bug: keep the daemon alive, say so
            log.error("monitor=%s outcome=error error=%s", key, " ".join(str(exc).split()))
            return
        finally:
            self.runs += 1
        self._log_run(result)

    def _log_run(self, result: RunResult) -> None:
        log_run(result, self._log_format)

    # --- life cycle --------------------------------------------------------------
    def _tick(self, name: str, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception as exc:  # e.g. the database went away: say so, try at the next tick
            log.error("%s failed: %s", name, " ".join(str(exc).split()))

    def start(self) -> None:
        """Build the plan and start scheduling (returns at once)."""
        self._apply(self._load_plan())
        for name, every, fn in self._ticks:
            # Periodic work beside the monitors (the alerts' outbox): never overlapping itself.
            self.scheduler.add_job(
                self._tick,
                IntervalTrigger(seconds=max(every.total_seconds(), 0.001), timezone=timezone.utc),
                args=[name, fn],
                id=f"tick:{name}",
                name=name,
                next_run_time=self._now(),
            )
        self.scheduler.start()
        log.info("daemon started: %d monitor(s)", len(self._plan))

    def reload(self) -> bool:
        """Build the plan again; on any error keep the running plan and say why."""
        try:
            plan = self._load_plan()
        except Exception as exc:  # the config is broken: say so, keep going
            log.error("reload failed, keeping the running configuration: %s", exc)
            return False
        self._apply(plan)
        log.info("configuration reloaded: %d monitor(s)", len(self._plan))
        return True

    def stop(self) -> None:
        """Stop scheduling; wait for in-flight runs to finish."""
        self._stop.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        log.info("daemon stopped")

    def serve(
        self, *, install_signals: bool = True, until: Callable[[], bool] | None = None
    ) -> None:
        """Start, then block until SIGTERM/SIGINT (or ``until()`` is true); SIGHUP reloads."""
        if install_signals:
            signal.signal(signal.SIGTERM, lambda *_: self._stop.set())
            signal.signal(signal.SIGINT, lambda *_: self._stop.set())
            if hasattr(signal, "SIGHUP"):
                signal.signal(signal.SIGHUP, lambda *_: self._reload.set())
        self.start()
        try:
            while not self._stop.is_set():
                if until is not None and until():
                    break
                if self._reload.wait(0.2):
                    self._reload.clear()
                    self.reload()
        finally:
            self.stop()

    @property
    def monitors(self) -> list[str]:
        """The keys of the monitors in the running plan."""
        return sorted(self._plan)


def log_run(result: RunResult, log_format: str = "text") -> None:
    """The one structured log line of a monitor run (logfmt text, or JSON)."""
    fields = result.log_fields()
    if result.errors:
        fields["error"] = result.errors[-1]
    if log_format == "json":
        log.info(json.dumps({"event": "monitor_run", **fields}, ensure_ascii=False))
    else:
        log.info(" ".join(f"{k}={_logfmt(v)}" for k, v in fields.items() if v is not None))


def _logfmt(value: object) -> str:
    text = str(value)
    return (
        json.dumps(text, ensure_ascii=False) if (" " in text or '"' in text or not text) else text
    )
