"""Group commit (compliance.store.group): many runs in one transaction, each with its own
counts, and a failing run failing alone (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event
from store_helpers import MISSING, NOT_SPONSORED, verdict

from compliance.store.db import open_store
from compliance.store.group import GroupWriter
from compliance.store.monitors import RunSave, load_monitor_state
from compliance.store.record import Observation
from compliance.store.window import lookup_posts


def observations(run: str, captions: list[str]) -> list[Observation]:
    return [
        Observation(verdict(caption, id=f"{run}-{n}", author=f"@{run}"), monitor_key=f"m:{run}")
        for n, caption in enumerate(captions)
    ]


def saving(run: str, clock, fail: bool = False, outcome: str = "ok"):
    """A run's ``then``: the save of its state (or fail, as a broken run would)."""

    def then(session, stats) -> RunSave:
        if fail:
            raise RuntimeError(f"run {run} cannot save its state")
        return RunSave(
            f"m:{run}",
            kind="account",
            platform="tiktok",
            target=f"@{run}",
            started_at=clock.now,
            outcome=outcome,
            cursor={"newest": run},
        )

    return then


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.005)


def test_runs_grouped_in_one_transaction_keep_their_own_counts_and_a_failing_one_fails_alone(
    db_url, clock
):
    store = open_store(db_url)
    writer = GroupWriter(store, now=clock)
    gate, entered = threading.Event(), threading.Event()
    release = saving("a", clock)

    def first_then(session, stats) -> RunSave:
        entered.set()
        gate.wait(10)  # hold the writer until b, c and d wait together behind a
        return release(session, stats)

    runs = {
        "a": (observations("a", [MISSING]), first_then),
        "b": (observations("b", [MISSING, MISSING]), saving("b", clock)),
        "c": (observations("c", [NOT_SPONSORED]), saving("c", clock, fail=True)),
        "d": (observations("d", [MISSING, NOT_SPONSORED]), saving("d", clock)),
    }
    with ThreadPoolExecutor(4) as pool:
        futures = {
            name: pool.submit(writer.commit, obs, then, actor=f"monitor:m:{name}")
            for name, (obs, then) in runs.items()
            if name == "a"
        }
        assert entered.wait(10)  # a is being written
        for name in ("b", "c", "d"):
            obs, then = runs[name]
            futures[name] = pool.submit(writer.commit, obs, then, actor=f"monitor:m:{name}")
        wait_for(lambda: writer._queue.qsize() == 3)
        gate.set()
        assert futures["a"].result().opened == 1
        assert (futures["b"].result().posts, futures["b"].result().opened) == (2, 2)
        assert (futures["d"].result().posts, futures["d"].result().opened) == (2, 1)
        with pytest.raises(RuntimeError, match="run c cannot save"):
            futures["c"].result()
    writer.close()

    for name in ("a", "b", "d"):
        state = load_monitor_state(store, f"m:{name}")
        assert state is not None and state.cursor == {"newest": name}
        assert state.posts_total == len(runs[name][0])
    assert load_monitor_state(store, "m:c") is None
    assert lookup_posts(store, "tiktok", ["c-0"]) == {}
    assert sorted(lookup_posts(store, "tiktok", ["b-0", "b-1", "d-0", "d-1"])) == [
        "b-0",
        "b-1",
        "d-0",
        "d-1",
    ]
    with pytest.raises(RuntimeError, match="closed"):
        writer.commit([], actor="monitor:late")
    store.close()


def test_the_runs_of_a_group_save_their_states_together_and_a_bad_save_fails_alone(db_url, clock):
    """The states are saved in the group's transaction: an invalid one fails the
    group, which is redone run by run, so that only the bad run fails."""
    store = open_store(db_url)
    writer = GroupWriter(store, now=clock)
    gate, entered = threading.Event(), threading.Event()

    def first_then(session, stats) -> RunSave:
        entered.set()
        gate.wait(10)  # the others queue up behind this run and go in one group
        return saving("g0", clock)(session, stats)

    names = ["g1", "g2", "bad", "g3", "g4"]
    with ThreadPoolExecutor(6) as pool:
        first = pool.submit(writer.commit, observations("g0", [MISSING]), first_then, actor="m")
        assert entered.wait(10)
        futures = {
            name: pool.submit(
                writer.commit,
                observations(name, [MISSING]),
                saving(name, clock, outcome="bogus" if name == "bad" else "ok"),
                actor=f"monitor:m:{name}",
            )
            for name in names
        }
        wait_for(lambda: writer._queue.qsize() == len(names))
        gate.set()
        first.result()
        with pytest.raises(ValueError, match="unknown run outcome 'bogus'"):
            futures["bad"].result()
        assert all(futures[name].result().opened == 1 for name in names if name != "bad")
    writer.close()
    for name in ("g0", *(n for n in names if n != "bad")):
        state = load_monitor_state(store, f"m:{name}")
        assert state is not None and state.cursor == {"newest": name}
        assert (state.posts_total, state.runs_total, state.last_outcome) == (1, 1, "ok")
    assert load_monitor_state(store, "m:bad") is None
    assert lookup_posts(store, "tiktok", ["bad-0"]) == {}
    store.close()


def test_a_group_of_good_runs_saves_its_states_in_one_update(db_url, clock):
    store = open_store(db_url)
    updates: list[bool] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("UPDATE MONITOR_STATES"):
            updates.append(executemany)

    writer = GroupWriter(store, now=clock)
    gate, entered = threading.Event(), threading.Event()

    def first_then(session, stats) -> RunSave:
        entered.set()
        gate.wait(10)
        return saving("k0", clock)(session, stats)

    names = [f"k{n}" for n in range(1, 6)]
    with ThreadPoolExecutor(6) as pool:
        first = pool.submit(writer.commit, observations("k0", [MISSING]), first_then, actor="m")
        assert entered.wait(10)
        futures = [
            pool.submit(
                writer.commit, observations(name, [MISSING]), saving(name, clock), actor="m"
            )
            for name in names
        ]
        wait_for(lambda: writer._queue.qsize() == len(names))
        event.listen(store.engine, "before_cursor_execute", count)
        gate.set()
        first.result()
        assert [f.result().posts for f in futures] == [1] * len(names)
    writer.close()
    event.remove(store.engine, "before_cursor_execute", count)
    # The first run alone, then one executemany for the five runs that waited behind it.
    assert updates == [False, True]
    for name in names:
        assert load_monitor_state(store, f"m:{name}").runs_total == 1
    store.close()


def test_a_run_with_nothing_new_only_saves_its_state(db_url, clock):
    store = open_store(db_url)
    with GroupWriter(store, now=clock) as writer:
        stats = writer.commit([], saving("e", clock), actor="monitor:m:e")
    assert (stats.posts, stats.opened) == (0, 0)
    assert load_monitor_state(store, "m:e").cursor == {"newest": "e"}
    store.close()


class Hold:
    """A hold that records whether the writer's transaction ran inside it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entered = 0

    def __enter__(self) -> None:
        self.lock.acquire()
        self.entered += 1

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


def test_the_hold_is_kept_through_the_transaction_work(db_url, clock):
    store = open_store(db_url)
    hold = Hold()
    inside: list[bool] = []

    def then(session, stats) -> RunSave:
        inside.append(hold.lock.locked())
        return saving("h", clock)(session, stats)

    with GroupWriter(store, now=clock, hold=hold) as writer:
        writer.commit(observations("h", [MISSING]), then, actor="monitor:m:h")
    assert inside == [True] and hold.entered == 1 and not hold.lock.locked()
    store.close()


def test_the_hold_is_not_taken_while_the_writer_waits_for_sqlite_s_write_lock(tmp_path, clock):
    """The runtime's hold is its check lock: checks must go on while another process
    has the database, and pause only while this process's transaction works."""
    store = open_store(f"sqlite:///{tmp_path / 'held.db'}?timeout=30")
    other = open_store(f"sqlite:///{tmp_path / 'held.db'}?timeout=30")
    hold = Hold()
    with GroupWriter(store, now=clock, hold=hold) as writer, ThreadPoolExecutor(1) as pool:
        with other.write() as session:
            session.connection()  # BEGIN IMMEDIATE: this connection has the write lock
            done = pool.submit(
                writer.commit, observations("w", [MISSING]), saving("w", clock), actor="m"
            )
            time.sleep(0.3)  # the writer is now waiting for the lock
            assert not done.done()
            assert hold.lock.acquire(timeout=5), "the hold was taken while waiting"
            hold.lock.release()
        assert done.result(timeout=30).posts == 1
    assert hold.entered == 1
    assert load_monitor_state(store, "m:w").cursor == {"newest": "w"}
    other.close()
    store.close()
