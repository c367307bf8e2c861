"""One monitor run against the record (SQLite and PostgreSQL): new, edited, unchanged, gone, failures.

The platform side here is an in-memory :class:`Source` so that each rule of the run
(window, high-water mark, partial failures) can be driven exactly; the same runs
over real loopback HTTP against the platform fakes are in test_monitor_daemon.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, MutableMapping
from dataclasses import replace
from datetime import date, timedelta
from typing import Any, ClassVar

import pytest

from compliance.engine import check
from compliance.model import Campaign, Post
from compliance.packs import load_packs
from compliance.store.db import open_store
from compliance.store.monitors import load_monitor_state
from compliance.store.queries import ViolationFilter, list_violations
from compliance.store.window import lookup_posts
from monitors.errors import RateLimited
from monitors.run import Job, campaign_for, run_monitor
from monitors.sources.base import ACCOUNT, Fetched, NotModified

PACKS = load_packs()
DAY = timedelta(days=1)
GLOW = Campaign(
    brand="GlowLab", handles=("@glowlab",), promo_codes=("MAYA15",), relationship="paid"
)


class ListSource:
    """An account listing held in memory, newest first, served in pages of ``page`` posts."""

    platform: ClassVar[str] = "tiktok"
    capabilities: ClassVar[frozenset[str]] = frozenset({ACCOUNT})

    def __init__(self, clock, page: int = 5) -> None:
        self.clock = clock
        self.posts: list[dict[str, Any]] = []
        self.page = page
        self.pages_served = 0
        self.fail_after: int | None = None  # raise after this many posts
        self.not_modified = False

    def add(self, pid: str, caption: str, days_ago: float) -> None:
        self.posts.append({"id": pid, "caption": caption, "at": self.clock.now - days_ago * DAY})
        self.posts.sort(key=lambda p: p["at"], reverse=True)

    def account_posts(self, account: str, state: MutableMapping[str, Any]) -> Iterator[Fetched]:
        if self.not_modified:
            raise NotModified()
        for n, p in enumerate(self.posts):
            if n % self.page == 0:
                self.pages_served += 1
            if self.fail_after is not None and n >= self.fail_after:
                raise RateLimited("429 Too Many Requests", platform="tiktok", retry_after=60)
            yield Fetched(
                Post(
                    p["caption"],
                    id=p["id"],
                    platform="tiktok",
                    author="@" + account.lstrip("@"),
                    url=f"https://www.tiktok.com/@{account.lstrip('@')}/video/{p['id']}",
                    posted_at=p["at"].isoformat(),
                    is_video=True,
                ),
                raw_value=json.dumps({"id": p["id"]}),
            )


@pytest.fixture
def setup(db_url, clock):
    store = open_store(db_url)
    source = ListSource(clock)
    checks: list[str] = []

    def counting_check(post: Post):
        checks.append(post.id or "")
        return check(post, PACKS)

    job = Job(
        key="creator:maya:tiktok:@maya",
        kind="account",
        platform="tiktok",
        target="@maya",
        campaigns=(GLOW,),
        window=timedelta(days=30),
        window_posts=100,
        max_failures=2,
    )
    yield store, source, checks, counting_check, job
    store.close()


def run(setup, clock, **kw):
    store, source, _, counting_check, job = setup
    return run_monitor(job, source, store, counting_check, now=clock, **kw)


def open_violations(store) -> list[dict[str, Any]]:
    with store.read() as session:
        return list_violations(session, ViolationFilter(statuses=("open", "regressed")))


def test_first_run_reads_the_window_only_and_records_new_posts(setup, clock):
    store, source, checks, _, _ = setup
    source.add("1", "Loving @glowlab serum, code MAYA15", 1)
    source.add("2", "#ad @glowlab serum, code MAYA15", 2)
    source.add("3", "a walk in the park", 10)
    source.add("4", "old @glowlab post, code MAYA15", 45)  # outside the 30-day window
    result = run(setup, clock)
    assert result.outcome == "ok"
    assert (result.fetched, result.new, result.edited, result.gone) == (3, 3, 0, 0)
    assert sorted(checks) == ["1", "2", "3"]
    assert result.opened == 1
    state = load_monitor_state(store, "creator:maya:tiktok:@maya")
    assert state is not None and state.cursor["newest"].startswith(
        (clock.now - DAY).date().isoformat()
    )
    assert [v["rule"].split(".")[0] for v in open_violations(store)] == ["FTC"]


def test_an_unchanged_second_run_checks_nothing_and_an_edit_fixes_the_violation(setup, clock):
    store, source, checks, _, _ = setup
    source.add("1", "Loving @glowlab serum, code MAYA15", 1)
    source.add("2", "a walk in the park", 3)
    run(setup, clock)
    checks.clear()
    clock.advance(hours=6)
    again = run(setup, clock)
    assert (again.fetched, again.new, again.edited, again.unchanged) == (2, 0, 0, 2)
    assert checks == []

    source.posts[0]["caption"] = "#ad Loving @glowlab serum, code MAYA15"
    clock.advance(hours=6)
    edited = run(setup, clock)
    assert (edited.new, edited.edited, edited.fixed) == (0, 1, 1)
    assert checks == ["1"]
    assert open_violations(store) == []

    source.posts[0]["caption"] = "Loving @glowlab serum, code MAYA15 (edited)"
    clock.advance(hours=6)
    regressed = run(setup, clock)
    assert regressed.regressed == 1


def test_a_deleted_post_is_marked_gone_and_its_violation_kept(setup, clock):
    store, source, _, _, _ = setup
    source.add("1", "Loving @glowlab serum, code MAYA15", 1)
    source.add("2", "a walk in the park", 3)
    run(setup, clock)
    del source.posts[0]
    clock.advance(hours=6)
    result = run(setup, clock)
    assert result.gone == 1
    rows = open_violations(store)
    assert len(rows) == 1 and rows[0]["gone_at"] is not None
    clock.advance(hours=6)
    assert run(setup, clock).gone == 0  # once


def test_a_failure_half_way_marks_nothing_gone_and_keeps_the_high_water_mark(setup, clock):
    store, source, _, _, job = setup
    for n in range(8):
        source.add(str(n), f"post {n} about the park", n + 1)
    run(setup, clock)
    mark = load_monitor_state(store, job.key).cursor["newest"]
    source.add("new", "a brand new post", 0.1)
    source.fail_after = 3
    clock.advance(hours=6)
    result = run(setup, clock)
    assert result.outcome == "partial" and result.error_kind == "rate_limited"
    assert result.gone == 0 and result.new == 1
    state = load_monitor_state(store, job.key)
    assert state.cursor["newest"] == mark
    assert state.consecutive_failures == 1 and not state.failing
    clock.advance(hours=6)
    second = run(setup, clock)
    assert second.flipped == "failing" and second.failing
    source.fail_after = None
    clock.advance(hours=6)
    recovered = run(setup, clock)
    assert recovered.outcome == "ok" and recovered.flipped == "recovered"
    assert load_monitor_state(store, job.key).cursor["newest"] > mark


def test_not_modified_is_a_success_that_changes_nothing(setup, clock):
    store, source, _, _, job = setup
    source.add("1", "a walk in the park", 1)
    run(setup, clock)
    source.not_modified = True
    del source.posts[0]
    clock.advance(hours=6)
    result = run(setup, clock)
    assert result.outcome == "not_modified" and result.gone == 0
    assert load_monitor_state(store, job.key).consecutive_failures == 0


def test_the_window_caps_what_a_first_run_reads_and_pages_stay_lazy(setup, clock):
    store, source, _, counting_check, job = setup
    for n in range(40):
        source.add(str(n), f"post {n}", n * 0.1)
    small = Job(**{**job.__dict__, "window_posts": 7})
    result = run_monitor(small, source, store, counting_check, now=clock)
    assert result.fetched == 7
    assert source.pages_served == 2  # 5 posts a page: the third page was never asked for


def test_one_off_runs_keep_verdicts_respect_the_limit_and_leave_no_state(setup, clock):
    store, source, _, counting_check, job = setup
    for n in range(10):
        source.add(str(n), f"#ad post {n} @glowlab", n + 1)
    one_off = Job(**{**job.__dict__, "limit": 4})
    result = run_monitor(
        one_off, source, store, counting_check, now=clock, keep_verdicts=True, save_state=False
    )
    assert [v.post.id for v, _ in result.verdicts] == ["0", "1", "2", "3"]
    assert all(v.post.campaign == GLOW for v, _ in result.verdicts)
    assert load_monitor_state(store, job.key) is None


def test_campaign_for_takes_the_running_campaign_the_caption_names():
    spring = Campaign(brand="GlowLab", handles=("@glowlab",), relationship="paid").__class__
    a = spring(
        brand="GlowLab", handles=("@glowlab",), starts=date(2026, 3, 1), ends=date(2026, 6, 30)
    )
    b = spring(brand="Keyforge", handles=("@keyforge",))
    post = Post("new keyboard from @keyforge")
    from datetime import datetime, timezone

    may = datetime(2026, 5, 1, tzinfo=timezone.utc)
    july = datetime(2026, 7, 1, tzinfo=timezone.utc)
    assert campaign_for(post, (a, b), may) is b
    assert campaign_for(Post("walk"), (a, b), may) is a
    assert campaign_for(Post("@glowlab serum"), (a,), july) is None


def test_a_run_whose_state_cannot_be_saved_records_none_of_its_posts(setup, clock):
    """The state is saved in the transaction of the run's last posts: when that save
    fails, the posts are rolled back with it, and the next run finds them all new."""
    store, source, checks, counting_check, job = setup
    source.add("1", "Loving @glowlab serum, code MAYA15", 1)
    source.add("2", "a walk in the park", 3)
    broken = replace(job, max_failures=0)  # refused by save_monitor_run_in, after recording
    with pytest.raises(ValueError, match="failure threshold"):
        run_monitor(broken, source, store, counting_check, now=clock)
    assert load_monitor_state(store, job.key) is None
    assert lookup_posts(store, "tiktok", ["1", "2"]) == {}
    assert open_violations(store) == []

    checks.clear()
    again = run(setup, clock)
    assert (again.outcome, again.new, again.opened) == ("ok", 2, 1)
    assert sorted(checks) == ["1", "2"]
    state = load_monitor_state(store, job.key)
    assert state is not None and state.last_counts.new == 2 and state.posts_total == 2
