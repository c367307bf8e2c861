"""The window query on SQLite and PostgreSQL: what the record holds for a monitor to compare."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event
from store_helpers import AMBIGUOUS, COMPLIANT, MISSING, NOT_SPONSORED, record, verdict

from compliance.store.db import open_store
from compliance.store.gone import mark_gone
from compliance.store.monitors import RunCounts, load_monitor_state, save_monitor_run
from compliance.store.observed import sha256_text
from compliance.store.record import Recorder
from compliance.store.window import (
    RecentPost,
    known_posts,
    load_run_start,
    lookup_posts,
    monitor_recent_posts,
    recent_posts,
)

DAY = timedelta(days=1)


def posted(days_ago: int, clock) -> str:
    return (clock.now - days_ago * DAY).isoformat()


def seeded(db_url, clock):
    store = open_store(db_url)
    record(
        store,
        [
            verdict(AMBIGUOUS, id="tt-1", author="@Maya", posted_at=posted(1, clock)),
            verdict(COMPLIANT, id="tt-2", author="maya", posted_at=posted(5, clock)),
            verdict(MISSING, id="tt-3", author="@maya", posted_at=posted(40, clock)),
            # No post time: first seen now, so in the window.
            verdict(NOT_SPONSORED, id="tt-4", author="@maya", posted_at=None),
            # Another creator, and the same handle on another platform.
            verdict(MISSING, id="tt-9", author="@other", posted_at=posted(1, clock)),
            verdict(
                MISSING, id="yt-1", platform="youtube", author="@maya", posted_at=posted(1, clock)
            ),
        ],
        clock,
    )
    return store


def test_an_accounts_window_holds_its_recent_posts_newest_first(db_url, clock):
    store = seeded(db_url, clock)
    window = recent_posts(store, "tiktok", "@MAYA", clock.now - 30 * DAY)
    assert [p.post_key for p in window] == ["tt-4", "tt-1", "tt-2"]
    first = window[1]
    assert first == RecentPost("tt-1", "tt-1", sha256_text(AMBIGUOUS), clock.now - DAY, None)
    assert [p.post_key for p in recent_posts(store, "tiktok", "maya", clock.now - 60 * DAY, 2)] == [
        "tt-4",
        "tt-1",
    ]
    assert [p.post_key for p in recent_posts(store, "youtube", "@maya", clock.now - 30 * DAY)] == [
        "yt-1"
    ]
    assert recent_posts(store, "tiktok", "@nobody", clock.now - 30 * DAY) == []
    with pytest.raises(ValueError, match="at least 1 post"):
        recent_posts(store, "tiktok", "@maya", clock.now, 0)


def test_the_window_shows_edits_and_gone_posts(db_url, clock):
    store = seeded(db_url, clock)
    clock.advance(hours=1)
    record(store, [verdict(COMPLIANT, id="tt-1", author="@maya")], clock)  # an edit
    mark_gone(store, [("tiktok", "tt-2")], now=clock, reason="deleted")
    window = {p.post_key: p for p in recent_posts(store, "tiktok", "@maya", clock.now - 30 * DAY)}
    assert window["tt-1"].current_sha256 == sha256_text(COMPLIANT)
    assert window["tt-2"].gone_at == clock.now and window["tt-1"].gone_at is None


def test_a_monitors_window_holds_the_posts_it_fetched_whoever_posted_them(db_url, clock):
    store = seeded(db_url, clock)
    key = "hashtag:guacdance:tiktok"
    recorder = Recorder(store, now=clock)
    for i, days in enumerate((2, 3, 45)):
        recorder.add(
            verdict(MISSING, id=f"tt-g{i}", author=f"@fan{i}", posted_at=posted(days, clock)),
            fetched_at=clock.now,
            monitor_key=key,
        )
    # A creator's post that the hashtag monitor also saw.
    recorder.add(verdict(AMBIGUOUS, id="tt-1", author="@maya"), monitor_key=key)
    recorder.close()
    window = monitor_recent_posts(store, key, clock.now - 30 * DAY)
    assert [p.post_key for p in window] == ["tt-1", "tt-g0", "tt-g1"]
    assert monitor_recent_posts(store, "hashtag:other:tiktok", clock.now - 30 * DAY) == []


def test_posts_are_looked_up_by_key_whatever_their_age(db_url, clock):
    store = seeded(db_url, clock)
    found = lookup_posts(store, "tiktok", ["tt-3", "tt-1", "tt-404", "yt-1"])
    assert sorted(found) == ["tt-1", "tt-3"]
    assert found["tt-3"].posted_at == datetime.fromisoformat(posted(40, clock)).astimezone(
        timezone.utc
    )
    assert lookup_posts(store, "tiktok", []) == {}


def test_compare_tells_new_edited_unchanged_missing_and_back(clock):
    from compliance.store.window import WindowDiff, compare

    day = clock.now - DAY
    window = [
        RecentPost("a", "a", "h-a", day, None),
        RecentPost("b", "b", "h-b", day - DAY, None),
        RecentPost("c", "c", "h-c", day - 3 * DAY, None),  # older than the fetch covered
        RecentPost("d", "d", "h-d", day, clock.now),  # gone already
        RecentPost("e", "e", "h-e", None, None),  # no post time: never called missing
    ]
    known = {p.post_key: p for p in window if p.post_key in ("a", "d")}
    known["old"] = RecentPost("old", "old", "h-old", day - 90 * DAY, None)
    fetched = {"a": "h-a2", "d": "h-d", "old": "h-old", "n": "h-n"}
    diff = compare(window, known, fetched, complete_since=day - 2 * DAY)
    assert diff == WindowDiff(
        new=("n",), edited=("a",), unchanged=("d", "old"), missing=("b",), back=("d",)
    )
    # A fetch that cannot say what it covered calls nothing missing.
    assert compare(window, known, fetched, complete_since=None).missing == ()


def test_two_monitor_runs_on_the_store_new_edited_gone_and_back(db_url, clock):
    """The store side of a monitor run, as monitors/run.py drives it."""
    from compliance.store.gone import mark_gone
    from compliance.store.window import compare

    store = open_store(db_url)
    key = "creator:maya:tiktok:@maya"

    def one_run(posts: dict[str, str]) -> tuple[object, object]:
        since = clock.now - 30 * DAY
        started = clock.now
        fetched = {k: sha256_text(c) for k, c in posts.items()}
        window = monitor_recent_posts(store, key, since)
        diff = compare(
            window, lookup_posts(store, "tiktok", fetched), fetched, complete_since=since
        )
        recorder = Recorder(store, now=clock)
        for k, caption in posts.items():
            recorder.add(
                verdict(caption, id=k, posted_at=posted(2, clock)),
                source=f"https://open.tiktokapis.com/v2/video/list/#{k}",
                raw_response=f'{{"id": "{k}"}}',
                fetched_at=clock.now,
                monitor_key=key,
            )
        stats = recorder.close()
        gone = mark_gone(store, [("tiktok", k) for k in diff.missing], now=clock, reason="404")
        clock.advance(minutes=1)
        counts = RunCounts.of(
            stats,
            fetched=len(posts),
            new=len(diff.new),
            edited=len(diff.edited),
            gone=len(gone),
        )
        state = save_monitor_run(
            store,
            key,
            kind="creator",
            platform="tiktok",
            target="@maya",
            started_at=started,
            outcome="ok",
            counts=counts,
            now=clock,
        )
        clock.advance(hours=6)
        return diff, state

    diff, state = one_run({"tt-1": AMBIGUOUS, "tt-2": MISSING, "tt-3": COMPLIANT})
    assert diff.new == ("tt-1", "tt-2", "tt-3")
    assert state.last_counts == RunCounts(3, 3, 0, 0, 2, 0, 0) and state.posts_total == 3

    diff, state = one_run({"tt-1": COMPLIANT, "tt-3": COMPLIANT, "tt-4": NOT_SPONSORED})
    assert (diff.new, diff.edited, diff.unchanged, diff.missing) == (
        ("tt-4",),
        ("tt-1",),
        ("tt-3",),
        ("tt-2",),
    )
    assert state.last_counts == RunCounts(3, 1, 1, 1, 0, 1, 0) and state.posts_total == 4
    assert {
        p.post_key: p.gone_at is not None
        for p in recent_posts(store, "tiktok", "@maya", clock.now - 30 * DAY)
    } == {"tt-1": False, "tt-2": True, "tt-3": False, "tt-4": False}

    diff, state = one_run(
        {"tt-1": COMPLIANT, "tt-2": MISSING, "tt-3": COMPLIANT, "tt-4": NOT_SPONSORED}
    )
    assert diff.back == ("tt-2",) and diff.missing == () and diff.new == ()
    assert load_monitor_state(store, key).runs_total == 3
    assert all(p.gone_at is None for p in monitor_recent_posts(store, key, clock.now - 30 * DAY))


def test_a_run_start_reads_the_state_and_either_window_at_once(db_url, clock):
    store = seeded(db_url, clock)
    since = clock.now - 30 * DAY
    key = "creator:maya:tiktok:@maya"
    save_monitor_run(
        store,
        key,
        kind="account",
        platform="tiktok",
        target="@maya",
        started_at=clock.now,
        outcome="ok",
        cursor={"newest": "x"},
        now=clock,
    )
    start = load_run_start(
        store, platform="tiktok", since=since, account="@maya", monitor_key=key, state_key=key
    )
    assert start.state is not None and start.state.cursor == {"newest": "x"}
    assert start.window == recent_posts(store, "tiktok", "@maya", since)
    assert sorted(known_posts(store, start, ["tt-3", "tt-404"])) == ["tt-3"]
    assert load_run_start(store, platform="tiktok", since=since, account="@maya").state is None
    recorder = Recorder(store, now=clock)
    recorder.add(verdict(MISSING, id="tt-g1", author="@fan"), monitor_key="hashtag:g:tiktok")
    recorder.close()
    by_monitor = load_run_start(
        store, platform="tiktok", since=since, monitor_key="hashtag:g:tiktok"
    )
    assert [p.post_key for p in by_monitor.window] == ["tt-g1"]
    assert sorted(known_posts(store, by_monitor, ["tt-g1", "tt-1"])) == ["tt-1", "tt-g1"]
    with pytest.raises(ValueError, match="account or a monitor key"):
        load_run_start(store, platform="tiktok", since=since)


def test_a_run_looks_up_only_what_its_window_does_not_hold(db_url, clock):
    store = seeded(db_url, clock)
    since = clock.now - 30 * DAY
    statements: list[str] = []

    def count(conn, cursor, statement, *rest) -> None:
        statements.append(statement)

    start = load_run_start(store, platform="tiktok", since=since, account="@maya")
    event.listen(store.engine, "before_cursor_execute", count)
    try:
        # tt-1 and tt-2 are in @maya's window: nothing read (a run with nothing new).
        known = known_posts(store, start, ["tt-1", "tt-2"])
        assert sorted(known) == ["tt-1", "tt-2"] and statements == []
        # tt-3 is older than the window, tt-9 another creator's: both looked up, as
        # every key is for a hashtag monitor, whose window is its own posts.
        known = known_posts(store, start, ["tt-1", "tt-3", "tt-9", "tt-404"])
        assert len([s for s in statements if not s.startswith("BEGIN")]) == 1
        assert sorted(known) == ["tt-1", "tt-3", "tt-9"]
        assert known["tt-3"] == lookup_posts(store, "tiktok", ["tt-3"])["tt-3"]
        assert known["tt-1"] == lookup_posts(store, "tiktok", ["tt-1"])["tt-1"]
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    store.close()


def test_what_runs_after_the_last_batch_commits_or_rolls_back_with_it(db_url, clock):
    store = open_store(db_url)
    recorder = Recorder(store, now=clock, batch_size=2)
    for i in range(3):  # a full batch written at once, one left for close()
        recorder.add(verdict(MISSING, id=f"tt-{i}", author="@maya"))
    seen = []

    def failing(session, total):
        seen.append(total.posts)
        raise RuntimeError("the state could not be saved")

    with pytest.raises(RuntimeError):
        recorder.close(failing)
    assert seen == [3]  # the counts of every batch, the last one included
    assert sorted(lookup_posts(store, "tiktok", ["tt-0", "tt-1", "tt-2"])) == ["tt-0", "tt-1"]
    assert recorder.close(lambda session, total: seen.append(total.posts)).posts == 3
    assert seen == [3, 3]
    assert sorted(lookup_posts(store, "tiktok", ["tt-2"])) == ["tt-2"]
    store.close()
