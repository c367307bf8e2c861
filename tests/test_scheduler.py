"""The daemon's scheduling: one job per monitor, no overlap, reload, stop (APScheduler for real)."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from monitors.run import Job, RunResult
from monitors.scheduler import Daemon, Scheduled


def _job(key: str) -> Job:
    return Job(key=key, kind="account", platform="bluesky", target=key)


class Recorder:
    """A runner that counts runs per monitor and how many run at once."""

    def __init__(self, hold: float = 0.0) -> None:
        self.calls: list[str] = []
        self.active: dict[str, int] = {}
        self.max_active: dict[str, int] = {}
        self.hold = hold
        self.lock = threading.Lock()

    def __call__(self, job: Job, next_run: datetime | None) -> RunResult:
        with self.lock:
            self.calls.append(job.key)
            self.active[job.key] = self.active.get(job.key, 0) + 1
            self.max_active[job.key] = max(self.max_active.get(job.key, 0), self.active[job.key])
        time.sleep(self.hold)
        with self.lock:
            self.active[job.key] -= 1
        return RunResult(job.key, fetched=1)

    def count(self, key: str) -> int:
        with self.lock:
            return self.calls.count(key)


def _wait(predicate, limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.02)


def test_each_monitor_runs_repeatedly_on_its_own_schedule():
    runner = Recorder()
    plan = [
        Scheduled(_job("a"), every=timedelta(seconds=0.1)),
        Scheduled(_job("b"), every=timedelta(seconds=0.1)),
    ]
    daemon = Daemon(lambda: plan, runner)
    daemon.start()
    try:
        _wait(lambda: runner.count("a") >= 3 and runner.count("b") >= 3)
    finally:
        daemon.stop()
    assert daemon.monitors == ["a", "b"]


def test_a_slow_run_is_never_overlapped_by_the_next():
    runner = Recorder(hold=0.3)
    daemon = Daemon(lambda: [Scheduled(_job("slow"), every=timedelta(seconds=0.05))], runner)
    daemon.start()
    try:
        _wait(lambda: runner.count("slow") >= 3)
    finally:
        daemon.stop()
    assert runner.max_active["slow"] == 1


def test_stop_waits_for_runs_in_flight():
    started = threading.Event()
    finished = threading.Event()

    def runner(job: Job, next_run: datetime | None) -> RunResult:
        started.set()
        time.sleep(0.3)
        finished.set()
        return RunResult(job.key)

    daemon = Daemon(lambda: [Scheduled(_job("x"), every=timedelta(hours=1))], runner)
    daemon.start()
    assert started.wait(10)
    daemon.stop()
    assert finished.is_set()


def test_first_run_comes_from_the_stored_next_run_time():
    runner = Recorder()
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    daemon = Daemon(
        lambda: [
            Scheduled(_job("due"), every=timedelta(hours=6)),
            Scheduled(_job("later"), every=timedelta(hours=6)),
        ],
        runner,
        stored_next_run=lambda key: later if key == "later" else None,
    )
    daemon.start()
    try:
        _wait(lambda: runner.count("due") == 1)
        job = daemon.scheduler.get_job("later")
        assert job.next_run_time == later
        assert runner.count("later") == 0
    finally:
        daemon.stop()


def test_reload_adds_removes_and_keeps_the_plan_when_the_config_breaks():
    runner = Recorder()
    plans = [[Scheduled(_job("a"), every=timedelta(hours=1))]]

    def load():
        plan = plans[-1]
        if plan is None:
            raise ValueError("compliance.yaml:3: campaigns: expected a mapping")
        return plan

    daemon = Daemon(load, runner)
    daemon.start()
    try:
        assert daemon.monitors == ["a"]
        plans.append([Scheduled(_job("b"), every=timedelta(hours=1))])
        assert daemon.reload()
        assert daemon.monitors == ["b"]
        assert daemon.scheduler.get_job("a") is None
        plans.append(None)
        assert not daemon.reload()
        assert daemon.monitors == ["b"]
    finally:
        daemon.stop()


def test_a_runner_exception_does_not_stop_the_daemon(caplog):
    calls = []

    def runner(job: Job, next_run: datetime | None) -> RunResult:
        calls.append(job.key)
        raise RuntimeError("database went away")

    daemon = Daemon(lambda: [Scheduled(_job("x"), every=timedelta(seconds=0.05))], runner)
    with caplog.at_level("ERROR", logger="compliance.daemon"):
        daemon.start()
        try:
            _wait(lambda: len(calls) >= 2)
        finally:
            daemon.stop()
    assert "database went away" in caplog.text


def test_cron_schedules_with_jitter_build_triggers():
    trigger = Scheduled(_job("c"), cron="0 */6 * * *", jitter=timedelta(minutes=10)).trigger()
    assert trigger.jitter == 600
    start = datetime(2026, 12, 4, 1, 0, tzinfo=timezone.utc)
    fire = trigger.get_next_fire_time(None, start)
    assert fire is not None and fire >= datetime(2026, 12, 4, 6, 0, tzinfo=timezone.utc)


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")
def test_serve_reloads_on_sighup_and_stops_on_sigterm():
    runner = Recorder()
    loads = []

    def load():
        loads.append(1)
        return [Scheduled(_job(f"m{len(loads)}"), every=timedelta(hours=1))]

    daemon = Daemon(load, runner)
    thread_result: list[BaseException] = []

    def send_signals() -> None:
        try:
            _wait(lambda: runner.count("m1") == 1)
            os.kill(os.getpid(), signal.SIGHUP)
            _wait(lambda: runner.count("m2") == 1)
            os.kill(os.getpid(), signal.SIGTERM)
        except BaseException as exc:  # surfaced below
            thread_result.append(exc)

    old = {s: signal.getsignal(s) for s in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT)}
    sender = threading.Thread(target=send_signals)
    sender.start()
    try:
        daemon.serve()
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        sender.join()
    assert not thread_result
    assert daemon.monitors == ["m2"]
    assert not daemon.scheduler.running


def test_ticks_run_beside_the_monitors_and_survive_errors(caplog):
    runner = Recorder()
    ticks: list[int] = []

    def tick() -> None:
        ticks.append(1)
        if len(ticks) == 1:
            raise RuntimeError("smtp refused")

    daemon = Daemon(
        lambda: [Scheduled(_job("a"), every=timedelta(hours=1))],
        runner,
        ticks=[("alerts", timedelta(seconds=0.05), tick)],
    )
    with caplog.at_level("ERROR", logger="compliance.daemon"):
        daemon.start()
        try:
            _wait(lambda: len(ticks) >= 3 and runner.count("a") == 1)
        finally:
            daemon.stop()
    assert "alerts failed: smtp refused" in caplog.text
