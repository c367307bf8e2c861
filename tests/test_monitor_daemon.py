"""The daemon end to end: APScheduler, real sources over loopback HTTP, a real database.

Several cycles at sub-second intervals against the TikTok, Bluesky and Mastodon
fakes (tests/fakes/), on SQLite and PostgreSQL: the first cycle records every
post; between cycles a post is added, one edited and one deleted, and the later
cycles record exactly that, without re-fetching what is done (the TikTok profile
page, the Mastodon account lookup) or re-recording what did not change.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from fakes import bluesky, mastodon, tiktok
from fakes.server import FakeServer
from fakes.world import World
from sqlalchemy import func, select

from compliance.model import Campaign
from compliance.packs import load_packs
from compliance.store.db import open_store
from compliance.store.models import CaptionVersion, PostRow
from compliance.store.monitors import list_monitor_states
from compliance.store.queries import ViolationFilter, list_violations
from monitors.http import HttpSettings
from monitors.run import Job, RunResult
from monitors.runtime import Runtime
from monitors.scheduler import Daemon, Scheduled
from monitors.sources.base import SourceSettings

GLOW = Campaign(
    brand="GlowLab", handles=("@glowlab",), promo_codes=("MAYA15",), relationship="paid"
)


@pytest.fixture(scope="module")
def platforms() -> Iterator[tuple[World, dict[str, FakeServer]]]:
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


def _wait(predicate, what: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached: {what}")
        time.sleep(0.02)


def test_daemon_cycles_record_new_edited_and_gone_posts_once(platforms, db_url):
    world, servers = platforms
    world.__init__()  # type: ignore[misc]
    for server in servers.values():
        server.log.clear()
    keep = world.post("tiktok", "glowwithmara", "Loving @glowlab serum, code MAYA15", age=7200)
    world.post("tiktok", "glowwithmara", "#ad my @glowlab routine, code MAYA15", age=9000)
    doomed = world.post("bluesky", "mara.bsky.social", "new @glowlab serum! code MAYA15", age=3000)
    world.post("bluesky", "mara.bsky.social", "a walk by the sea", age=5000)
    world.post("mastodon", "mara", "Sponsored by @glowlab: the serum I use daily #ad", age=4000)

    store = open_store(db_url)
    start = datetime.fromtimestamp(world.now, timezone.utc)
    clock_lock = threading.Lock()
    clock = [start]

    def now() -> datetime:
        with clock_lock:
            return clock[0]

    runtime = Runtime(
        store,
        load_packs(),
        settings={
            "tiktok": SourceSettings(api_url=servers["tiktok"].url, web_url=servers["tiktok"].url),
            "bluesky": SourceSettings(api_url=servers["bluesky"].url),
            "mastodon": SourceSettings(instances={"mastodon.social": servers["mastodon"].url}),
        },
        http={p: HttpSettings(retries=1, backoff=0.01, timeout=10) for p in servers},
        now=now,
        group_commit=True,  # as `compliance daemon` runs them
    )
    accounts = [
        ("tiktok", "@glowwithmara"),
        ("bluesky", "mara.bsky.social"),
        ("mastodon", "@mara@mastodon.social"),
    ]
    plan = [
        Scheduled(
            Job(
                key=f"creator:mara:{platform}:{account}",
                kind="account",
                platform=platform,
                target=account,
                campaigns=(GLOW,),
                creator="mara",
            ),
            every=timedelta(seconds=0.3),
        )
        for platform, account in accounts
    ]
    results: list[RunResult] = []
    lock = threading.Lock()

    def runner(job: Job, next_run: datetime | None) -> RunResult:
        with lock:  # the world changes only between runs, never during one
            result = runtime.run(job, next_run)
            results.append(result)
            return result

    def runs_of(platform: str) -> list[RunResult]:
        with lock:
            return [r for r in results if f":{platform}:" in r.key]

    daemon = Daemon(lambda: plan, runner, workers=3)
    daemon.start()
    try:
        _wait(lambda: all(runs_of(p) for p, _ in accounts), "a first cycle")
        first = {p: runs_of(p)[0] for p, _ in accounts}
        assert {p: (r.outcome, r.new) for p, r in first.items()} == {
            "tiktok": ("ok", 2),
            "bluesky": ("ok", 2),
            "mastodon": ("ok", 1),
        }, {p: (r.outcome, r.errors) for p, r in first.items()}

        with lock:
            world.edit(keep, "#ad Loving @glowlab serum, code MAYA15")
            world.delete(doomed)
            fresh = world.post("mastodon", "mara", "gifted @glowlab serum, code MAYA15", age=10)
            clock[0] = start + timedelta(minutes=5)
            mark = len(results)

        def after(platform: str) -> list[RunResult]:
            with lock:
                return [r for r in results[mark:] if f":{platform}:" in r.key]

        _wait(lambda: all(len(after(p)) >= 2 for p, _ in accounts), "two more cycles")
    finally:
        daemon.stop()
        runtime.close()

    tiktok_runs, bluesky_runs, mastodon_runs = after("tiktok"), after("bluesky"), after("mastodon")
    assert sum(r.edited for r in tiktok_runs) == 1 and sum(r.fixed for r in tiktok_runs) == 1
    assert sum(r.gone for r in bluesky_runs) == 1
    assert sum(r.new for r in mastodon_runs) == 1
    every_later = tiktok_runs + bluesky_runs + mastodon_runs
    assert all(r.outcome == "ok" for r in every_later), [(r.key, r.errors) for r in every_later]
    # Each change was recorded once: later cycles saw nothing new.
    assert [r.new + r.edited + r.gone for r in tiktok_runs[1:] + bluesky_runs[1:]] == [0] * (
        len(tiktok_runs) + len(bluesky_runs) - 2
    )

    # Nothing done is fetched again: one profile page (secUid kept in the monitor state),
    # one account lookup, however many cycles ran.
    assert len(servers["tiktok"].requests(r"^/@glowwithmara$")) == 1
    assert len(servers["mastodon"].requests(r"/api/v1/accounts/lookup")) == 1

    with store.read() as session:
        versions = session.scalar(select(func.count()).select_from(CaptionVersion))
        posts = session.scalar(select(func.count()).select_from(PostRow))
        gone = session.scalars(
            select(PostRow.platform_post_id).where(PostRow.gone_at.is_not(None))
        ).all()
        open_rows = list_violations(session, ViolationFilter())
    assert (posts, versions) == (6, 7)  # 5 posts + the new one; the edit is a 7th version
    assert gone == [doomed.id]
    # The deleted post keeps its open violation (marked gone); the new post has its own;
    # the edited TikTok post's violation was fixed.
    assert {r["post"]: (r["rule"], r["gone_at"] is not None) for r in open_rows} == {
        doomed.id: ("FTC.D101", True),
        fresh.id: ("FTC.C203", False),
    }
    states = {s.key: s for s in list_monitor_states(store)}
    assert len(states) == 3
    assert all(s.consecutive_failures == 0 and not s.failing for s in states.values())
    store.close()


def test_the_writer_pauses_checks_only_where_one_lock_serialises_every_writer(db_url):
    """On SQLite the group writer holds the runtime's check lock while it writes (the
    database has one write lock for every process); on PostgreSQL it holds nothing."""
    store = open_store(db_url)
    runtime = Runtime(store=store, packs=None)
    writer = runtime._new_writer()
    try:
        if store.dialect == "sqlite":
            assert writer._hold is runtime._check_lock
        else:
            assert writer._hold is not runtime._check_lock
            with writer._hold:  # a no-op
                assert not runtime._check_lock.locked()
    finally:
        writer.close()
        store.close()
