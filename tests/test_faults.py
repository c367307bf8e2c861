"""Faults: the daemon keeps running, reports the fault in one line, and catches up.

Real parts throughout (processes, servers, sockets); nothing here waits on the
wall clock for what it asserts, only for things to happen.

* **Malformed platform answers**: every source (TikTok web, API and oEmbed,
  Instagram, YouTube API and RSS, Bluesky, Mastodon, X) against every shape of
  bad answer the fakes can give (tests/faults_matrix.py): a typed failure
  (monitors/errors.py) or a clean read, never a crash, never a post called
  gone, nothing stored lost, one line recorded in the monitor's state.
* **PostgreSQL restarted mid-cycle** (a private cluster, stopped in immediate
  mode): the daemon logs one line per failed run, keeps running, and once the
  server is back records everything the world served meanwhile.
* **A full disk under SQLite** (SQLite's own "database or disk is full"): the
  same, and nothing committed before is lost.
* **Slack answering 500 for an hour, SMTP refusing** (fake clock): the outbox
  retries on its documented backoff, ``alerts pending`` shows why, and each group
  is delivered once when the receiver is back.
* **The Redis broker killed and restarted** under ``daemon --executor celery`` and
  a worker: both keep running, and the runs resume.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fakes.server import FakeServer
from fakes.world import World
from fault_servers import PrivatePostgres
from faults_matrix import CASES, OK, SOURCES, TIMEOUT, Shape, Source, populate, servers
from source_helpers import loopback
from sqlalchemy import func, select

# The fixture `fakes`: TikTok, Bluesky and Mastodon over one world, as test_celery's config has them.
from test_celery import (
    Proc,
    config_file,
    fakes,  # noqa: F401
)

from compliance.packs import load_packs
from compliance.store.db import Store, StoreError, open_store
from compliance.store.models import CaptionVersion, PostRow
from compliance.store.monitors import load_monitor_state
from monitors.errors import KINDS, FetchError, NotFound, Private
from monitors.http import HttpSettings, make_client
from monitors.run import Job, RunResult, run_monitor
from monitors.sources import source_class

# --- malformed platform answers -------------------------------------------------------


@pytest.fixture(scope="module")
def platforms() -> Iterator[tuple[World, dict[str, FakeServer]]]:
    """One fake per platform over one world: the same creator's two posts on each."""
    world = World()
    populate(world)
    started = servers(world)
    yield world, started
    # Each stop waits out serve_forever's half-second poll: stop them together.
    stops = [threading.Thread(target=s.stop) for s in started.values()]
    for t in stops:
        t.start()
    for t in stops:
        t.join()


@dataclass
class Monitored:
    """A source's monitor with a store holding its first, complete run."""

    source: Source
    server: FakeServer
    store: Store
    run: Callable[[], RunResult]
    secrets: tuple[str, ...]


@pytest.fixture(scope="module")
def monitored(
    platforms: tuple[World, dict[str, FakeServer]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[Source], Monitored]]:
    """The monitor of a source, made (and run once, cleanly) on first use."""
    from compliance.engine import check

    world, started = platforms
    packs = load_packs()
    made: dict[str, Monitored] = {}
    root = tmp_path_factory.mktemp("matrix")

    def get(source: Source) -> Monitored:
        if source.name in made:
            return made[source.name]
        server = started[source.platform]
        settings = source.settings(server.url)
        http = HttpSettings(retries=1, backoff=0.001, timeout=TIMEOUT, connect_timeout=TIMEOUT)
        # Backoff waits are recorded, not slept: the matrix is about answers, not patience.
        client = make_client(
            source.platform, http, sleep=lambda _s: None, hosts=loopback(source.platform)
        )
        fetcher = source_class(source.platform)(client, settings)  # type: ignore[call-arg]
        store = open_store(f"sqlite:///{root / source.name}.db")
        job = Job(
            key=f"creator:mara:{source.name}",
            kind="account",
            platform=source.platform,
            target=source.target,
        )

        def run() -> RunResult:
            return run_monitor(
                job,
                fetcher,
                store,
                lambda post: check(post, packs),
                now=lambda: datetime.fromtimestamp(world.now, timezone.utc),
            )

        first = run()
        assert (first.outcome, first.new) == ("ok", 2), first.errors
        made[source.name] = Monitored(source, server, store, run, settings.secrets)
        return made[source.name]

    yield get
    for m in made.values():
        m.store.close()


def _record(store: Store) -> dict[str, Any]:
    """What the record holds: posts (and which are gone), caption versions."""
    with store.read() as session:
        posts = dict(session.execute(select(PostRow.platform_post_id, PostRow.gone_at)).all())
        versions = session.scalar(select(func.count()).select_from(CaptionVersion))
    return {"posts": posts, "versions": versions}


@pytest.mark.parametrize(
    ("source", "shape"), CASES, ids=[f"{src.name}-{shape.name}" for src, shape in CASES]
)
def test_a_bad_answer_is_one_typed_line_and_loses_nothing(
    source: Source, shape: Shape, monitored: Callable[[Source], Monitored]
) -> None:
    m = monitored(source)
    before = _record(m.store)
    m.server.faults.append(shape.fault(source))
    try:
        result = m.run()  # never raises: a crash here is the bug this test is for
    finally:
        m.server.faults.clear()
    kind = OK if result.outcome == "ok" else result.error_kind
    assert kind in shape.expect, (result.outcome, result.errors)
    assert result.gone == 0
    after = _record(m.store)
    assert all(gone is None for gone in after["posts"].values()), after
    assert set(before["posts"]) <= set(after["posts"]) and after["versions"] >= before["versions"]
    state = load_monitor_state(m.store, f"creator:mara:{source.name}")
    assert state is not None
    if kind == OK:
        assert result.new == 0 and state.last_outcome == "ok"
    else:
        assert kind in KINDS and result.outcome == "failed"
        assert after == before  # a failed run records nothing
        error = state.last_error or ""
        assert (state.last_outcome, state.last_error_kind) == ("failed", kind)
        assert error == result.errors[-1] and error.startswith(f"{source.platform}: ")
        assert "\n" not in error and "Traceback" not in error and len(error) < 400
        assert not any(secret in error for secret in m.secrets)
        if shape.name.endswith("retry-after"):
            assert result.retry_after == pytest.approx(3600)
    # And the next run, with the platform itself again, reads on as before.
    again = m.run()
    assert again.outcome in ("ok", "not_modified") and again.new == 0, again.errors
    assert all(gone is None for gone in _record(m.store)["posts"].values())


TIKTOK_WEB = SOURCES[0]


@pytest.mark.parametrize("shape", [s for s in CASES if s[0] is TIKTOK_WEB], ids=lambda c: c[1].name)
def test_a_bad_oembed_answer_never_calls_an_existing_post_gone(
    shape: tuple[Source, Shape], platforms: tuple[World, dict[str, FakeServer]]
) -> None:
    """A post by URL (``compliance check <url>``): oEmbed first, then the video page. The
    post exists, so whatever oEmbed answers, the outcome is the post or a typed failure,
    never "deleted" or "private" (which would mark it gone or hide it)."""
    world, started = platforms
    server = started["tiktok"]
    post = next(p for p in world.accounts[("tiktok", "mara")].posts)
    http = HttpSettings(retries=1, backoff=0.001, timeout=TIMEOUT, connect_timeout=TIMEOUT)
    client = make_client("tiktok", http, sleep=lambda _s: None, hosts=loopback("tiktok"))
    fetcher = source_class("tiktok")(client, TIKTOK_WEB.settings(server.url))  # type: ignore[call-arg]
    oembed = Source("oembed", "tiktok", "", r"/oembed", TIKTOK_WEB.settings)
    server.faults.append(shape[1].fault(oembed))
    try:
        fetched = fetcher.post(f"https://www.tiktok.com/@mara/video/{post.id}")
    except FetchError as exc:
        assert not isinstance(exc, NotFound | Private), exc
        assert exc.kind in KINDS and "\n" not in str(exc)
    else:
        assert (fetched.post.id, fetched.post.caption) == (post.id, post.caption)
    finally:
        server.faults.clear()
        client.close()


# --- the daemon as a process, against servers that go away ------------------------------


def _world(world: World) -> World:
    world.__init__(now=int(time.time()))  # type: ignore[misc]
    world.post("tiktok", "glowwithmara", "Loving @glowlab serum, code MAYA15", age=600)
    world.post("bluesky", "mara.bsky.social", "new @glowlab serum! code MAYA15", age=900)
    world.post("mastodon", "mara", "Sponsored by @glowlab: the serum I use daily #ad", age=1200)
    world.post("bluesky", "kai.bsky.social", "thanks @glowlab for the serum, code MAYA15", age=300)
    return world


def _served(world: World) -> set[tuple[str, str]]:
    """Every (platform, post id) the world shows now, as the record names platforms."""
    with world.lock:
        return {
            (p.platform, p.id) for account in world.accounts.values() for p in account.visible()
        }


def _recorded(url: str) -> set[tuple[str, str]]:
    store = open_store(url)
    try:
        with store.read() as session:
            return set(session.execute(select(PostRow.platform, PostRow.platform_post_id)).all())
    finally:
        store.close()


def _until(predicate: Callable[[], bool], what: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while True:
        try:
            if predicate():
                return
        except StoreError:
            pass  # the database is still coming back
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached: {what}")
        time.sleep(0.1)


def _one_line_faults(lines: list[str]) -> list[str]:
    """The daemon's error lines; fails if anything multi-line (a traceback) was logged."""
    text = "".join(lines)
    assert "Traceback" not in text and "\n  File " not in text, text[-3000:]
    return [line for line in lines if " ERROR " in line]


def test_postgresql_restarted_mid_cycle_the_daemon_reports_and_catches_up(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    world, platform_fakes = request.getfixturevalue("fakes")
    _world(world)
    pg = PrivatePostgres()
    request.addfinalizer(pg.close)
    pg.start()
    cfg = config_file(tmp_path, platform_fakes, pg.url, "1s")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("COMPLIANCE_DATABASE_URL", None)
    daemon = Proc(["daemon", "--config", str(cfg), "--no-alerts"], env)
    try:
        _until(lambda: _recorded(pg.url) == _served(world), "a first cycle recorded")
        pg.stop("immediate")  # a crash: no goodbye to the daemon's pooled connections
        # The world moves on while the database is down.
        world.post("bluesky", "mara.bsky.social", "posted while the database was down", age=5)
        world.post("mastodon", "mara", "also while it was down #ad @glowlab", age=5)
        _until(lambda: len(_one_line_faults(daemon.lines)) >= 4, "faults reported", 30)
        time.sleep(2)  # some more cycles against a dead database
        assert daemon.proc.poll() is None, "".join(daemon.lines)
        pg.start()
        _until(lambda: _recorded(pg.url) == _served(world), "the cycles after the restart")
        assert daemon.proc.poll() is None
    finally:
        code = daemon.stop()
    assert code == 0, "".join(daemon.lines)
    faults = _one_line_faults(daemon.lines)
    assert faults and all("outcome=error error=database " in line for line in faults), faults
    print(f"{len(faults)} one-line faults while PostgreSQL was down, e.g.: {faults[0].strip()}")


# --- a full disk under SQLite --------------------------------------------------------------


def test_sqlite_disk_full_mid_cycle_is_reported_and_caught_up(
    request: pytest.FixtureRequest, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """SQLite's own "database or disk is full" (PRAGMA max_page_count, set on every
    connection the pool hands out, stands in for the disk): runs fail with it, in one
    line each; the daemon keeps going; nothing committed is lost; once there is room
    again the next cycles record what came meanwhile."""
    from sqlalchemy import event, text

    from compliance.cli.monitor import job_for, make_runtime
    from compliance.config import load_config
    from monitors.scheduler import Daemon, Scheduled

    world, platform_fakes = request.getfixturevalue("fakes")
    _world(world)
    url = f"sqlite:///{tmp_path / 'record.db'}"
    store = open_store(url)
    room: list[int | None] = [None]  # pages the file may have; None: as many as it likes

    @event.listens_for(store.engine, "checkout")
    def _limit(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA max_page_count={room[0] or 1073741823}")
        cursor.close()

    config = load_config(config_file(tmp_path, platform_fakes, url, "1s"))
    runtime = make_runtime(config, store, config.packs())
    plan = [Scheduled(job_for(m), every=timedelta(seconds=0.3)) for m in config.monitors()]
    caplog.set_level("INFO", logger="compliance")
    daemon = Daemon(lambda: plan, runtime.run, workers=2)
    daemon.start()
    try:
        _until(lambda: _recorded(url) == _served(world), "a first cycle recorded")
        first = _recorded(url)
        with store.read() as session:
            room[0] = int(session.execute(text("PRAGMA page_count")).scalar_one())
        for n in range(40):  # enough new captions to need new pages
            world.post("bluesky", "mara.bsky.social", f"day {n}: " + "serum talk " * 60, age=5 + n)
        _until(
            lambda: sum("disk is full" in r.getMessage() for r in caplog.records) >= 3,
            "runs failing on the full disk",
            30,
        )
        assert daemon.scheduler.running and first <= _recorded(url)
        room[0] = None  # space is back
        _until(lambda: _recorded(url) == _served(world), "the cycles after space came back")
    finally:
        daemon.stop()
        runtime.close()
        store.close()
    full = [r.getMessage() for r in caplog.records if "disk is full" in r.getMessage()]
    assert all("\n" not in line and "outcome=error" in line for line in full), full
    assert not any(r.exc_info for r in caplog.records)
    print(f"{len(full)} runs failed on the full disk, e.g.: {full[0]}")


# --- receivers refusing: the outbox retries, reports, and delivers once -----------------

ALERTS = """
database: "{db}"
alerts:
  receivers:
    {name}:
      {spec}
  route:
    receiver: {name}
    group_by: [creator]
    group_wait: 0s
    group_interval: 1m
    repeat_interval: 30d
  delivery: {{max_tries: 10, backoff: 30s, max_backoff: 1h}}
"""


def _alerts(tmp_path: Path, db: str, name: str, spec: str) -> tuple[Any, Path]:
    from alerts_helpers import config_from

    text = ALERTS.format(db=db, name=name, spec=spec)
    return config_from(tmp_path, text), tmp_path / "compliance.yaml"


def _violations(store: Store, clock: Any, config: Any) -> None:
    """Two creators' violations recorded, with their outbox rows (two groups)."""
    from store_helpers import AMBIGUOUS, verdict
    from test_alerts_pipeline import CAMPAIGN

    from compliance.alerts.outbox import on_changes
    from compliance.store.record import Recorder

    with Recorder(store, now=clock, on_changes=on_changes(config)) as rec:
        rec.add(verdict(AMBIGUOUS, id="p1", author="@maya", campaign=CAMPAIGN))
        rec.add(verdict(AMBIGUOUS, id="p2", author="@kai", campaign=CAMPAIGN))


def _pending(config_path: Path) -> str:
    from click.testing import CliRunner

    from compliance.alerts.cli import alerts

    shown = CliRunner().invoke(alerts, ["--config", str(config_path), "pending"])
    assert shown.exit_code == 0, shown.output
    return shown.output


def _outbox(store: Store) -> list[tuple[str, int]]:
    from compliance.store.models import OutboxRow

    with store.read() as session:
        return list(session.execute(select(OutboxRow.status, OutboxRow.tries)).all())


def _logged(store: Store) -> list[int]:
    from compliance.store.models import NotificationLog

    with store.read() as session:
        return sorted(session.scalars(select(NotificationLog.count)).all())


def test_slack_answering_500_for_an_hour_is_retried_on_a_bounded_schedule_then_sent_once(
    tmp_path: Path, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alerts_helpers import HTTPRecorder, Reply

    from compliance.alerts.dispatch import deliver
    from compliance.alerts.outbox import backoff

    db = f"sqlite:///{tmp_path / 'record.db'}"
    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", db)
    config, path = _alerts(tmp_path, db, "legal", "slack: {webhook_url_env: SLACK_URL}")
    store = open_store(db)
    _violations(store, clock, config)
    start = clock.now
    with HTTPRecorder() as slack:
        environ = {"SLACK_URL": slack.url + "/services/T0/B0/secret-part"}
        slack.script = [Reply(500, body=b"internal_error")] * 10_000
        attempts: list[float] = []  # minutes after the start at which Slack was asked
        while clock.now < start + timedelta(hours=1):
            before = len(slack.requests)
            deliver(store, config, now=clock, environ=environ)
            attempts += [(clock.now - start).total_seconds() / 60] * (
                (len(slack.requests) - before) // 2  # two groups: one request each
            )
            clock.advance(seconds=15)
        shown = _pending(path)
        assert {status for status, _ in _outbox(store)} == {"retrying"}
        assert shown.count("  retrying  legal  ") == 2 and "2 retrying" in shown
        assert shown.count("tries 7") == 2 and "(Slack answered HTTP 500: internal_error)" in shown
        assert "secret-part" not in shown
        # The documented schedule: backoff doubling from 30 s, each wait counted from the
        # failed attempt (a 15-second tick here rounds up): 7 attempts in the hour.
        expected, at = [0.0], 0.0
        while True:
            at += backoff(config.delivery, len(expected)).total_seconds()
            due = -(-at // 15) * 15  # the first tick at or after it
            if due >= 3600:
                break
            expected.append(due / 60)
            at = due
        assert attempts == expected, (attempts, expected)
        print(f"Slack 500 for an hour: attempts at minutes {attempts}")

        slack.script = []  # Slack is back
        clock.advance(hours=2)
        assert deliver(store, config, now=clock, environ=environ).messages == 2
        sent = len(slack.requests)
        for _ in range(5):  # later sends find nothing to do
            clock.advance(hours=6)
            deliver(store, config, now=clock, environ=environ)
        assert len(slack.requests) == sent
    assert _outbox(store) == [("sent", len(expected) + 1)] * 2
    assert _logged(store) == [1, 1]
    assert "retrying" not in _pending(path)
    store.close()


def test_smtp_refusing_then_accepting_delivers_each_group_once(
    tmp_path: Path, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Connection refused, then 421, 451 and 550 at DATA, then 250: each a retry on the
    documented backoff (every failure counts towards max_tries, none drops an alert), each
    shown by ``alerts pending`` with the server's words; then one email per group."""
    from aiosmtpd.controller import Controller
    from fault_servers import free_port

    from compliance.alerts.dispatch import deliver

    db = f"sqlite:///{tmp_path / 'record.db'}"
    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", db)
    port = free_port()
    spec = (
        f"email: {{smtp_host: 127.0.0.1, smtp_port: {port}, from: c@example.com, "
        "to: [legal@example.com]}"
    )
    config, path = _alerts(tmp_path, db, "mail", spec)
    store = open_store(db)
    _violations(store, clock, config)
    answers = ["421 4.3.2 Service shutting down", "451 4.3.0 Try later", "550 5.7.1 Refused"]
    received: list[Any] = []

    class Refusing:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            if answers:
                return answers[0]
            received.append(envelope)
            return "250 OK"

    def attempt(expect: str) -> None:
        clock.advance(hours=1)  # past any backoff so far
        report = deliver(store, config, now=clock, environ={})
        assert (report.messages, report.failed, report.dead) == (0, 2, 0), report
        shown = _pending(path)
        assert shown.count("  retrying  mail  ") == 2 and expect in shown, shown

    deliver(store, config, now=clock, environ={})  # nobody listens on the port yet
    assert "cannot connect to 127.0.0.1" in _pending(path)
    controller = Controller(Refusing(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        while answers:
            attempt(f"SMTP {answers[0][:3]}: {answers[0][4:]}")
            answers.pop(0)
        clock.advance(hours=1)
        assert deliver(store, config, now=clock, environ={}).messages == 2
        clock.advance(days=1)
        assert deliver(store, config, now=clock, environ={}).messages == 0
    finally:
        controller.stop()
    assert len(received) == 2 and sorted(_outbox(store)) == [("sent", 5), ("sent", 5)]
    assert _logged(store) == [1, 1]
    store.close()


# --- the broker going away and coming back -----------------------------------------------


def test_the_redis_broker_killed_and_restarted_scheduler_and_worker_keep_running(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A private redis-server as the Celery broker of ``daemon --executor celery`` and a
    ``compliance worker``; killed with SIGKILL mid-cycle, started again on its port (its
    append-only file kept): both processes keep running, say so in one line, and the
    runs resume until the record holds everything the world served."""
    from fault_servers import PrivateRedis

    world, platform_fakes = request.getfixturevalue("fakes")
    _world(world)
    broker = PrivateRedis(tmp_path)
    broker.start()
    request.addfinalizer(broker.kill)
    db = f"sqlite:///{tmp_path / 'record.db'}"
    cfg = config_file(tmp_path, platform_fakes, db, "1s")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COMPLIANCE_BROKER_URL": broker.url}
    env.pop("COMPLIANCE_DATABASE_URL", None)
    args = ["--config", str(cfg), "--no-alerts"]
    daemon = Proc(["daemon", *args, "--executor", "celery"], env)
    worker = Proc(["worker", *args, "--pool", "solo"], env)
    try:
        _until(lambda: _recorded(db) == _served(world), "a first cycle through the broker")
        broker.kill()
        world.post("bluesky", "mara.bsky.social", "posted while the broker was down", age=5)
        _until(lambda: daemon.count("outcome=error") >= 2, "the scheduler reporting", 30)
        assert daemon.proc.poll() is None and worker.proc.poll() is None
        broker.start()
        _until(lambda: _recorded(db) == _served(world), "the runs after the broker came back")
        assert daemon.proc.poll() is None and worker.proc.poll() is None
    finally:
        codes = (daemon.stop(), worker.stop())
    assert codes[0] == 0, "".join(daemon.lines)
    faults = _one_line_faults(daemon.lines)
    assert faults and all("the broker did not answer" in line for line in faults), faults
    # The worker's own lines: Celery's consumer logs the lost connection itself (with a
    # traceback from redis-py when the kill lands mid-read); what counts is that it
    # stayed up and caught up, asserted above. Our task code never logs a traceback.
    assert "compliance.run_monitor" not in "".join(
        line for line in worker.lines if "Traceback" in line or "Error" in line
    )
    print(f"scheduler: {faults[0].strip()}")
    print(f"worker: {[ln.strip() for ln in worker.lines if 'redis' in ln.lower()][:2]}")
