"""The scale-out for real: Celery workers as processes, RabbitMQ and Redis on the machine,
PostgreSQL (and SQLite for the lock), the platform fakes on loopback.

* a cycle enqueued by `compliance daemon --executor celery --once` and run by a
  `compliance worker` records every post once; a worker killed with ``kill -9``
  in the middle of a run has its task redelivered to the next worker, and the
  redelivery (and a duplicate delivery on purpose) records nothing twice;
* two daemons: only the holder of the scheduler lock enqueues; when it is
  killed with ``kill -9`` the other takes over;
* the request budget in Redis: four processes together take slots no closer
  than the budget's interval (the slots Redis handed out are the record).

When RabbitMQ or Redis is not running the tests are skipped with the reason,
except under CI=true, where they fail (.ci/run starts both).
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import in_ci
from fakes import bluesky, mastodon, tiktok
from fakes.server import FakeServer, Fault, Request, Response
from fakes.world import World
from sqlalchemy import func, select

from compliance.store.db import open_store
from compliance.store.models import CaptionVersion, PostRow
from compliance.store.monitors import list_monitor_states

ROOT = Path(__file__).resolve().parents[1]
AMQP = "amqp://guest:guest@127.0.0.1:5672//"
REDIS = "redis://127.0.0.1:6379/0"


def _service(host: str, port: int, name: str) -> None:
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        reason = f"{name} is not running on {host}:{port} ({exc})"
        if in_ci():
            pytest.fail(f"{reason} (CI=true: {name} is required; .ci/run starts it)")
        pytest.skip(f"{reason}; start it to run the scale-out tests (under CI=true this fails)")


@pytest.fixture
def rabbitmq() -> str:
    _service("127.0.0.1", 5672, "RabbitMQ")
    return AMQP


@pytest.fixture
def redis_url() -> str:
    _service("127.0.0.1", 6379, "Redis")
    return REDIS


def _queue(broker: str) -> Iterator[str]:
    """A queue of the test's own on the shared broker, deleted afterwards."""
    from kombu import Connection

    name = f"compliance.test.{uuid.uuid4().hex[:10]}"
    yield name
    with Connection(broker) as conn:
        conn.default_channel.queue_delete(name)


@pytest.fixture
def queue(rabbitmq: str) -> Iterator[str]:
    yield from _queue(rabbitmq)


@pytest.fixture(scope="module")
def fakes() -> Iterator[tuple[World, dict[str, FakeServer]]]:
    world = World()
    servers = {name: FakeServer() for name in ("tiktok", "bluesky", "mastodon")}
    tiktok.install(servers["tiktok"], world)
    bluesky.install(servers["bluesky"], world)
    mastodon.install(servers["mastodon"], world)
    for server in servers.values():
        server.start()
    yield world, servers
    for server in servers.values():
        server.stop()


@pytest.fixture
def world(fakes) -> World:
    world, servers = fakes
    world.__init__()  # type: ignore[misc]
    for server in servers.values():
        server.log.clear()
        server.faults.clear()
    world.post("tiktok", "glowwithmara", "Loving @glowlab serum, code MAYA15", age=600)
    world.post("tiktok", "glowwithmara", "#ad my @glowlab routine, code MAYA15", age=7200)
    world.post("bluesky", "mara.bsky.social", "new @glowlab serum! code MAYA15", age=900)
    world.post("bluesky", "mara.bsky.social", "a walk by the sea", age=1900)
    world.post("mastodon", "mara", "Sponsored by @glowlab: the serum I use daily #ad", age=1200)
    world.post("bluesky", "kai.bsky.social", "thanks @glowlab for the serum, code MAYA15", age=300)
    return world


def config_file(tmp_path: Path, servers: dict[str, FakeServer], db: str, every: str) -> Path:
    path = tmp_path / "compliance.yaml"
    path.write_text(
        f"""\
database: "{db}"
jurisdiction: US
platforms:
  tiktok: {{web_url: "{servers["tiktok"].url}", api_url: "{servers["tiktok"].url}"}}
  bluesky: {{api_url: "{servers["bluesky"].url}"}}
  mastodon: {{instances: {{"mastodon.social": "{servers["mastodon"].url}"}}}}
campaigns:
  glowlab:
    brand: GlowLab
    handles: ["@glowlab"]
    promo_codes: [MAYA15]
    relationship: paid
creators:
  mara:
    accounts: ["tiktok:@glowwithmara", "bluesky:mara.bsky.social", "mastodon:@mara@mastodon.social"]
    campaigns: [glowlab]
  kai:
    accounts: ["bluesky:kai.bsky.social"]
    campaigns: [glowlab]
schedule: {{every: {every}, jitter: 0s}}
""",
        encoding="utf-8",
    )
    return path


class Proc:
    """A CLI process in its own session (so that ``kill -9`` takes its pool with it)."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "compliance.cli", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
        self._reader = threading.Thread(
            target=lambda: self.lines.extend(iter(self.proc.stdout.readline, "")),  # type: ignore[union-attr]
            daemon=True,
        )
        self._reader.start()

    def count(self, text: str) -> int:
        return sum(text in line for line in list(self.lines))

    def wait_for(self, text: str, limit: float = 30.0) -> None:
        _until(lambda: self.count(text) > 0, f"{text!r} in output:\n" + "".join(self.lines), limit)

    def kill9(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                return self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill9()
        return self.proc.returncode


class KaiHangs(Fault):
    """kai's listing (and only kai's) answers after a long wait, once."""

    def matches(self, request: Request) -> bool:
        return super().matches(request) and "kai" in (request.arg("actor") or "")


def _until(predicate, what: str, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached: {what}")
        time.sleep(0.05)


def _env(queue: str, **extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COMPLIANCE_CELERY_QUEUE": queue, **extra}
    env.pop("COMPLIANCE_DATABASE_URL", None)
    return env


def _record(db: str) -> tuple[int, int, dict[str, tuple[str | None, int]]]:
    store = open_store(db)
    with store.read() as session:
        posts = session.scalar(select(func.count()).select_from(PostRow))
        versions = session.scalar(select(func.count()).select_from(CaptionVersion))
    states = {s.key: (s.last_outcome, s.posts_total) for s in list_monitor_states(store)}
    store.close()
    return posts or 0, versions or 0, states


def _violations(db: str) -> list[tuple[str, str]]:
    from compliance.store.queries import ViolationFilter, list_violations

    store = open_store(db)
    with store.read() as session:
        rows = sorted((r["post"], r["rule"]) for r in list_violations(session, ViolationFilter()))
    store.close()
    return rows


@pytest.fixture
def pg_url(postgres_database) -> Iterator[str]:
    """A fresh PostgreSQL schema (the scale-out's database of record)."""
    yield from _pg_schema(postgres_database)


def _pg_schema(base) -> Iterator[str]:
    from sqlalchemy import create_engine, text

    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = base.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


def test_a_worker_killed_mid_run_has_its_task_redelivered_and_nothing_is_recorded_twice(
    world, fakes, tmp_path, pg_url, rabbitmq, queue
):
    _, servers = fakes
    # RabbitMQ redelivers an unacknowledged message as soon as the worker's connection drops.
    url = rabbitmq
    cfg = config_file(tmp_path, servers, pg_url, "6h")
    env = _env(queue, COMPLIANCE_BROKER_URL=url)
    # kai's listing hangs: the worker is killed while it waits for it (mid-run).
    servers["bluesky"].faults.append(KaiHangs("getAuthorFeed", Response(503, delay=20.0)))
    daemon = Proc(["daemon", "--config", str(cfg), "--executor", "celery", "--once"], env)
    assert daemon.proc.wait(60) == 0, "".join(daemon.lines)
    assert daemon.count("outcome=queued") == 4

    first = Proc(["worker", "--config", str(cfg), "--concurrency", "1"], env)
    try:
        _until(
            lambda: any("kai" in (r.arg("actor") or "") for r in servers["bluesky"].requests()),
            "the worker fetching kai's listing",
        )
    finally:
        first.kill9()  # mid-run: kai's request is in flight, its task unacknowledged

    second = Proc(["worker", "--config", str(cfg), "--concurrency", "1"], env)
    try:
        _until(
            lambda: (
                len(_record(pg_url)[2]) == 4
                and all(outcome == "ok" for outcome, _ in _record(pg_url)[2].values())
            ),
            "every monitor run once by the second worker",
            45,
        )
        posts, versions, states = _record(pg_url)
        assert (posts, versions) == (6, 6)
        assert states["creator:kai:bluesky:kai.bsky.social"] == ("ok", 1)
        violations = _violations(pg_url)
        assert len(violations) == len(set(violations)) > 0

        # The same runs delivered again (a duplicate on purpose): nothing new anywhere.
        from monitors import tasks

        tasks.configure(tasks.app, broker=url)
        before = second.count("outcome=ok")
        for key in states:
            tasks.run_monitor.apply_async(args=[key, None], queue=queue)
        _until(
            lambda: second.count("outcome=ok") >= before + len(states),
            "the duplicates run:\n" + "".join(second.lines),
            30,
        )
        assert _record(pg_url)[:2] == (6, 6)
        assert _violations(pg_url) == violations
    finally:
        second.stop()
    assert "Traceback" not in "".join(second.lines)


def test_a_cycle_through_a_redis_broker(world, fakes, tmp_path, pg_url, redis_url):
    _, servers = fakes
    queues = _queue(redis_url)
    queue = next(queues)
    cfg = config_file(tmp_path, servers, pg_url, "6h")
    env = _env(queue, COMPLIANCE_BROKER_URL=redis_url)
    daemon = Proc(["daemon", "--config", str(cfg), "--executor", "celery", "--once"], env)
    assert daemon.proc.wait(60) == 0, "".join(daemon.lines)
    worker = Proc(["worker", "--config", str(cfg), "--concurrency", "2"], env)
    try:
        _until(
            lambda: [o for o, _ in _record(pg_url)[2].values()] == ["ok"] * 4,
            "a cycle run by the worker:\n" + "".join(worker.lines),
        )
        assert _record(pg_url)[:2] == (6, 6)
    finally:
        worker.stop()
        next(queues, None)


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_two_daemons_never_schedule_at_once_and_a_standby_takes_over_a_killed_one(
    backend, world, fakes, tmp_path, rabbitmq, queue, request
):
    _, servers = fakes
    if backend == "postgresql":
        gen = _pg_schema(request.getfixturevalue("postgres_database"))
        db = next(gen)
        request.addfinalizer(lambda: next(gen, None))
    else:
        db = f"sqlite:///{tmp_path / 'record.db'}"
    cfg = config_file(tmp_path, servers, db, "1s")
    env = _env(queue, COMPLIANCE_BROKER_URL=rabbitmq)
    args = ["daemon", "--config", str(cfg), "--executor", "celery", "--no-alerts"]
    holder = Proc(args, env)
    standby: Proc | None = None
    try:
        holder.wait_for("scheduler lock taken")
        standby = Proc(args, env)
        standby.wait_for("waiting for the scheduler lock")
        _until(
            lambda: holder.count("outcome=queued") >= 8,
            "the holder enqueuing two cycles:\n" + "".join(holder.lines),
        )
        assert standby.count("outcome=queued") == 0 and standby.count("lock taken") == 0
        holder.kill9()
        standby.wait_for("scheduler lock taken", 30)
        _until(lambda: standby.count("outcome=queued") >= 4, "the standby enqueuing")
        assert standby.stop() == 0
        assert "Traceback" not in "".join(standby.lines + holder.lines)
    finally:
        holder.kill9()
        if standby is not None:
            standby.kill9()


def test_workers_together_stay_within_the_shared_request_budget(redis_url):
    import redis

    platform = f"test-{uuid.uuid4().hex[:8]}"
    per_minute = 1200.0  # one request every 50 ms
    script = (
        "import json, sys, redis\n"
        "from monitors.budget import RedisBudget\n"
        "waits = []\n"
        f"b = RedisBudget(redis.Redis.from_url({redis_url!r}), {platform!r}, {per_minute},"
        " sleep=waits.append)\n"
        "print(json.dumps([b.reserve() for _ in range(25)]))\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        for _ in range(4)
    ]
    slots = sorted(slot for p in procs for slot, _ in json.loads(p.communicate(timeout=60)[0]))
    redis.Redis.from_url(redis_url).delete(f"compliance:budget:{platform}")
    assert len(slots) == 100
    interval = 60.0 / per_minute
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert min(gaps) >= interval - 1e-5, min(gaps)
    # Any 60-second window of the slots holds at most the budget.
    assert max(sum(1 for s in slots if t <= s < t + 60) for t in slots) <= per_minute


def test_the_http_clients_use_the_redis_budget_when_a_redis_url_is_configured(
    redis_url, monkeypatch
):
    from monitors.budget import RedisBudget
    from monitors.http import RequestBudget, platform_budget

    monkeypatch.delenv("COMPLIANCE_REDIS_URL", raising=False)
    assert isinstance(platform_budget("tiktok", 60), RequestBudget)
    monkeypatch.setenv("COMPLIANCE_REDIS_URL", redis_url)
    budget = platform_budget("tiktok", 60)
    assert isinstance(budget, RedisBudget) and budget.interval == 1.0


def test_the_task_runs_a_configured_monitor_by_key_and_twice_changes_nothing(
    world, fakes, tmp_path
):
    """The task's body in process (no broker): the job comes from the worker's own
    config by key; a second delivery records nothing; an unknown key is dropped."""
    from compliance.cli.monitor import job_for, make_runtime
    from compliance.config import load_config
    from monitors import tasks

    _, servers = fakes
    db = f"sqlite:///{tmp_path / 'record.db'}"
    config = load_config(config_file(tmp_path, servers, db, "6h"))
    built: list[int] = []

    def build() -> tasks.WorkerContext:
        built.append(os.getpid())
        runtime = make_runtime(config, open_store(db), config.packs())
        return tasks.WorkerContext(runtime, {m.key: job_for(m) for m in config.monitors()})

    tasks.install(build)
    try:
        key = "creator:mara:bluesky:mara.bsky.social"
        first = tasks.run_by_key(key)
        again = tasks.run_by_key(key, "2030-01-01T00:00:00+00:00")
        assert (first["outcome"], first["new"]) == ("ok", 2)
        assert (again["outcome"], again["new"], again["edited"]) == ("ok", 0, 0)
        assert _record(db)[:2] == (2, 2)
        assert tasks.run_by_key("creator:nobody:bluesky:x") == {
            "monitor": "creator:nobody:bluesky:x",
            "outcome": "unknown",
        }
        assert built == [os.getpid()]  # one context per process, built on first use
    finally:
        tasks.context().runtime.close()
        tasks.install(None)


def test_worker_with_a_broken_config_is_one_line_and_exit_2(tmp_path):
    from click.testing import CliRunner

    from compliance.cli import main

    cfg = tmp_path / "compliance.yaml"
    cfg.write_text("creators: [broken\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["worker", "--config", str(cfg)])
    assert result.exit_code == 2
    assert "compliance.yaml" in result.output and "Traceback" not in result.output
