"""Monitor state on SQLite and PostgreSQL: save and load, failure counting, flips, run log."""

from __future__ import annotations

import multiprocessing
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from store_helpers import MISSING, run_in_two_processes, verdict

from compliance.store.db import open_store
from compliance.store.models import MonitorEventRow, MonitorRunRow
from compliance.store.monitors import (
    DEFAULT_THRESHOLD,
    ERROR_CHARS,
    MonitorSpec,
    RunCounts,
    RunSave,
    ensure_monitor,
    ensure_monitors,
    list_monitor_states,
    load_monitor_state,
    mark_monitor_events_notified,
    monitor_runs,
    one_line,
    save_monitor_run,
    save_monitor_runs_in,
    set_next_run,
    unnotified_monitor_events,
)
from compliance.store.record import Recorder
from compliance.store.transitions import RecordStats

KEY = "creator:mara:tiktok:@glowwithmara"
WHERE = {"kind": "creator", "platform": "tiktok", "target": "@glowwithmara"}


def run(store: Any, clock: Any, outcome: str, **kw: Any) -> Any:
    """One run of KEY that took a minute, ending now."""
    if outcome in ("failed", "partial"):
        kw.setdefault("error_kind", "unavailable")
        kw.setdefault("error", "HTTP 503 from open.tiktokapis.com")
    started = clock.now
    clock.advance(minutes=1)
    return save_monitor_run(
        store, KEY, **WHERE, started_at=started, outcome=outcome, now=clock, **kw
    )


def test_a_saved_run_loads_back_with_everything_it_said(db_url, clock):
    store = open_store(db_url)
    assert load_monitor_state(store, KEY) is None
    counts = RunCounts(fetched=20, new=3, edited=1, gone=1, opened=2, fixed=1, regressed=0)
    nxt = clock.now + timedelta(hours=6)
    saved = run(
        store,
        clock,
        "ok",
        counts=counts,
        cursor={"max_cursor": "1731000000", "etag": 'W/"abc"', "ids": [1, 2]},
        next_run_at=nxt,
    )
    loaded = load_monitor_state(store, KEY)
    assert loaded == saved
    assert loaded.kind == "creator" and loaded.platform == "tiktok"
    assert loaded.target == "@glowwithmara"
    assert loaded.cursor == {"max_cursor": "1731000000", "etag": 'W/"abc"', "ids": [1, 2]}
    assert loaded.last_counts == counts
    assert loaded.last_outcome == "ok" and loaded.last_error is None
    assert loaded.last_run_at == loaded.last_success_at == clock.now
    assert loaded.next_run_at == nxt
    assert loaded.consecutive_failures == 0 and not loaded.failing and loaded.flipped is None
    assert loaded.runs_total == 1
    assert loaded.as_dict()["last_counts"]["new"] == 3


def test_a_failed_run_keeps_the_cursor_and_next_run_unless_given(db_url, clock):
    store = open_store(db_url)
    nxt = clock.now + timedelta(hours=6)
    run(store, clock, "ok", cursor={"since": "a"}, next_run_at=nxt)
    state = run(store, clock, "failed", error_kind="rate_limited", error="429 Retry-After: 60")
    assert state.cursor == {"since": "a"} and state.next_run_at == nxt
    assert state.last_error_kind == "rate_limited" and state.last_error == "429 Retry-After: 60"
    assert state.last_success_at < state.last_run_at
    # A partial run may still move the cursor on.
    state = run(store, clock, "partial", cursor={"since": "b"})
    assert state.cursor == {"since": "b"} and state.consecutive_failures == 2


def test_failing_flips_once_at_the_threshold_and_recovers_once(db_url, clock):
    store = open_store(db_url)
    flips = [run(store, clock, "failed", threshold=3).flipped for _ in range(5)]
    assert flips == [None, None, "failing", None, None]
    state = load_monitor_state(store, KEY)
    assert state.failing and state.consecutive_failures == 5
    assert state.failing_since is not None
    ok = [run(store, clock, outcome, threshold=3).flipped for outcome in ("ok", "not_modified")]
    assert ok == ["recovered", None]
    state = load_monitor_state(store, KEY)
    assert not state.failing and state.failing_since is None and state.consecutive_failures == 0
    assert state.last_error is None and state.last_error_kind is None

    with store.read() as session:
        events = unnotified_monitor_events(session)
    assert [(e.action, e.consecutive_failures, e.key) for e in events] == [
        ("failing", 3, KEY),
        ("recovered", 0, KEY),
    ]
    assert events[0].error_kind == "unavailable" and events[1].error_kind is None


def test_a_success_between_failures_starts_the_count_again(db_url, clock):
    store = open_store(db_url)
    outcomes = ["failed", "failed", "ok", "failed", "partial", "failed"]
    flips = [run(store, clock, o, threshold=3).flipped for o in outcomes]
    assert flips == [None, None, None, None, None, "failing"]


def test_raising_the_threshold_does_not_end_a_failing_spell(db_url, clock):
    store = open_store(db_url)
    for _ in range(2):
        run(store, clock, "failed", threshold=2)
    state = run(store, clock, "failed", threshold=10)
    assert state.failing and state.flipped is None and state.failure_threshold == 10


def test_each_flip_is_claimed_by_one_sender(db_url, clock):
    store = open_store(db_url)
    run(store, clock, "failed", threshold=1)
    with store.write() as session:
        ids = [e.id for e in unnotified_monitor_events(session)]
        assert mark_monitor_events_notified(session, ids, now=clock) == ids
    with store.write() as session:
        assert mark_monitor_events_notified(session, ids, now=clock) == []
        assert unnotified_monitor_events(session) == []


def test_run_log_is_pruned_to_the_newest_runs_of_each_monitor(db_url, clock):
    store = open_store(db_url)
    for i in range(7):
        run(store, clock, "ok", counts=RunCounts(fetched=i), keep_runs=3)
    save_monitor_run(
        store,
        "hashtag:guacdance:bluesky",
        kind="hashtag",
        platform="bluesky",
        target="#guacdance",
        started_at=clock.now,
        outcome="ok",
        now=clock,
        keep_runs=3,
    )
    runs = monitor_runs(store, KEY)
    assert [r.counts.fetched for r in runs] == [6, 5, 4]
    assert runs[0].finished_at > runs[0].started_at
    assert len(monitor_runs(store, "hashtag:guacdance:bluesky")) == 1
    with store.read() as session:
        assert session.execute(select(func.count()).select_from(MonitorRunRow)).scalar_one() == 4
    assert load_monitor_state(store, KEY).runs_total == 7


def test_many_saves_in_one_call_are_each_what_a_save_alone_would_be(db_url, clock):
    """save_monitor_runs_in (the group writer's): new and existing monitors, two saves
    of one monitor applied in order, flips, post counts, pruning, on_saved."""
    store = open_store(db_url)
    for i in range(3):
        run(store, clock, "failed", counts=RunCounts(fetched=i), threshold=5)
    with Recorder(store, now=clock) as recorder:
        for n in range(2):
            recorder.add(verdict(MISSING, id=f"b-{n}", author="@b"), monitor_key="m:b")
    seen: list[tuple[str, str | None]] = []

    def save(key: str, outcome: str, **kw: Any) -> RunSave:
        if outcome == "failed":
            kw.setdefault("error_kind", "unavailable")
        return RunSave(
            key,
            "account",
            "tiktok",
            key,
            started_at=clock.now,
            outcome=outcome,
            on_saved=lambda state: seen.append((state.key, state.flipped)),
            **kw,
        )

    saves = [
        save(KEY, "failed", threshold=4, error="first\nline"),  # the 4th failure: failing
        save("m:b", "ok", cursor={"newest": "b"}, counts=RunCounts(fetched=2, new=2)),
        save(KEY, "ok", counts=RunCounts(fetched=9)),  # then a success: recovered
        save("m:c", "failed", threshold=1),
    ]
    with store.write() as session:
        states = save_monitor_runs_in(session, saves, now=clock, keep_runs=3)
    assert [(s.key, s.flipped) for s in states] == [
        (KEY, "failing"),
        ("m:b", None),
        (KEY, "recovered"),
        ("m:c", "failing"),
    ]
    assert seen == [(s.key, s.flipped) for s in states]
    mara = load_monitor_state(store, KEY)
    assert (mara.runs_total, mara.consecutive_failures, mara.failing) == (5, 0, False)
    assert mara.last_counts.fetched == 9 and mara.failure_threshold == DEFAULT_THRESHOLD
    assert [r.counts.fetched for r in monitor_runs(store, KEY)] == [9, 0, 2]
    assert monitor_runs(store, KEY)[1].error == "first line"
    b = load_monitor_state(store, "m:b")
    assert (b.posts_total, b.cursor, b.last_counts.new, b.runs_total) == (2, {"newest": "b"}, 2, 1)
    assert load_monitor_state(store, "m:c").failing
    with store.read() as session:
        events = unnotified_monitor_events(session)
    assert [(e.key, e.action) for e in events] == [
        (KEY, "failing"),
        (KEY, "recovered"),
        ("m:c", "failing"),
    ]
    with store.write() as session:
        assert save_monitor_runs_in(session, [], now=clock) == []
        with pytest.raises(ValueError, match="needs an error kind"):
            save_monitor_runs_in(session, [save("m:d", "partial")], now=clock)
    assert load_monitor_state(store, "m:d") is None


def test_errors_are_stored_as_one_printable_line_cut_to_length(db_url, clock):
    store = open_store(db_url)
    nasty = "bot wall\n<html>\x1b[31mred\u202egnp.exe\t" + "x" * 2000
    state = run(store, clock, "failed", error_kind="bot_wall", error=nasty)
    assert "\n" not in state.last_error and "\x1b" not in state.last_error
    assert "\u202e" not in state.last_error
    assert len(state.last_error) == ERROR_CHARS and state.last_error.endswith("…")
    assert monitor_runs(store, KEY)[0].error == state.last_error
    assert one_line("a\r\n  b") == "a b" and one_line(None) is None


def test_bad_values_are_refused_before_anything_is_written(db_url, clock):
    store = open_store(db_url)
    with pytest.raises(ValueError, match="unknown run outcome 'weird'"):
        run(store, clock, "weird")
    with pytest.raises(ValueError, match="needs an error kind"):
        run(store, clock, "failed", error_kind=None)
    with pytest.raises(ValueError, match="unknown error kind 'oops'"):
        run(store, clock, "failed", error_kind="oops")
    with pytest.raises(ValueError, match="unknown monitor kind"):
        save_monitor_run(
            store,
            KEY,
            kind="blog",
            platform="x",
            target="y",
            started_at=clock.now,
            outcome="ok",
            now=clock,
        )
    with pytest.raises(ValueError, match="at least 1"):
        run(store, clock, "ok", threshold=0)
    assert load_monitor_state(store, KEY) is None


def test_monitors_are_listed_by_key_and_scheduled(db_url, clock):
    store = open_store(db_url)
    first = ensure_monitor(
        store, "b:two", kind="hashtag", platform="mastodon", target="#x", now=clock
    )
    assert first.last_run_at is None and first.runs_total == 0 and not first.failing
    assert (
        ensure_monitor(store, "b:two", kind="hashtag", platform="mastodon", target="#x", now=clock)
        == first
    )
    run(store, clock, "ok")
    assert [s.key for s in list_monitor_states(store)] == ["b:two", KEY]
    when = clock.now + timedelta(minutes=30)
    assert set_next_run(store, "b:two", when) is True
    assert load_monitor_state(store, "b:two").next_run_at == when
    assert set_next_run(store, "nope", when) is False


def test_run_counts_take_the_violation_counts_from_recording():
    stats = RecordStats(posts=9, opened=2, fixed=1, regressed=1, reopened=4)
    assert RunCounts.of(stats, fetched=9, new=3, edited=2, gone=1) == RunCounts(9, 3, 2, 1, 2, 1, 1)


# --- Two processes saving the same monitor -----------------------------------------------------

SAVES = 40


def _saver(url: str, outcome: str) -> None:
    from conftest import Clock

    store = open_store(url)
    clock = Clock()
    for _ in range(SAVES):
        save_monitor_run(
            store,
            KEY,
            **WHERE,
            started_at=clock.now,
            outcome=outcome,
            error_kind="unavailable",
            threshold=10,
            now=clock,
        )


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_two_processes_saving_one_monitor_lose_no_failure(db_url, clock):
    store = open_store(db_url)
    run_in_two_processes(_saver, db_url, "failed")
    state = load_monitor_state(store, KEY)
    # Every failure counted (a lost update would leave fewer), and the flip written once.
    assert state.consecutive_failures == state.runs_total == 2 * SAVES
    with store.read() as session:
        assert session.execute(select(func.count()).select_from(MonitorEventRow)).scalar_one() == 1


# --- The status view -----------------------------------------------------------------------------


def test_status_text_shows_each_monitor_and_its_trouble(db_url, clock):
    from compliance.store.monitor_view import runs_text, status_text

    store = open_store(db_url)
    assert status_text([], now=clock.now) == "no monitors have run yet\n"
    ensure_monitor(store, "a:never", kind="post", platform="x", target="123", now=clock)
    run(store, clock, "ok", cursor={"etag": "é\x1b[2J"}, next_run_at=clock.now + timedelta(hours=1))
    for _ in range(3):
        run(store, clock, "failed", error="bad\x1b[31m\nthing", threshold=3)
    clock.advance(hours=2)
    text = status_text(list_monitor_states(store), now=clock.now)
    lines = text.splitlines()
    assert lines[0].split() == [
        "MONITOR",
        "PLATFORM",
        "LAST",
        "RUN",
        "(UTC)",
        "OUTCOME",
        "POSTS",
        "NEXT",
        "RUN",
        "(UTC)",
        "FAILS",
    ]
    assert lines[1].startswith("a:never") and "never run" in lines[1] and "0/3" in lines[1]
    assert lines[2].startswith(KEY) and "failed (unavailable)" in lines[2]
    assert "overdue" in lines[2] and "3/3" in lines[2]
    assert "FAILING since" in lines[3]
    assert lines[4] == "  last error: bad [31m thing"
    assert lines[5] == '  cursor: {"etag": "\\u00e9\\u001b[2J"}'
    assert lines[-1] == "2 monitors, 1 failing"
    assert "\x1b" not in text

    log = runs_text(monitor_runs(store, KEY)).splitlines()
    assert len(log) == 4 and "[unavailable] bad [31m thing" in log[0]
    assert "60.0 s" in log[0] and log[-1].split()[2] == "ok"
    assert runs_text([]) == "no runs logged\n"


def test_a_whole_configuration_is_registered_in_bulk_and_existing_states_are_kept(db_url, clock):
    store = open_store(db_url)
    run(store, clock, "ok")  # KEY has run once: its state must survive registration
    before = load_monitor_state(store, KEY)
    specs = [
        MonitorSpec(f"creator:c{i}:tiktok:@c{i}", "account", "tiktok", f"@c{i}", 3)
        for i in range(2500)  # more than one chunk
    ]
    specs.append(MonitorSpec(KEY, before.kind, before.platform, before.target))
    assert ensure_monitors(store, specs, now=clock) == 2500
    assert ensure_monitors(store, specs, now=clock) == 0  # idempotent
    states = {s.key: s for s in list_monitor_states(store)}
    assert len(states) == 2501
    assert states[KEY] == before
    fresh = states["creator:c7:tiktok:@c7"]
    assert (fresh.runs_total, fresh.failing, fresh.last_run_at, fresh.failure_threshold) == (
        0,
        False,
        None,
        3,
    )
    with pytest.raises(ValueError):
        ensure_monitors(store, [MonitorSpec("k", "nonsense", "tiktok", "@x")], now=clock)
