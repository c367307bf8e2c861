"""Two processes recording the same posts at the same time create nothing twice.

Real processes (multiprocessing, fork) on a real SQLite file and a real
PostgreSQL database. They start together on a barrier, on a database neither
has created yet, and record in small batches so that their transactions
interleave many times.
"""

from __future__ import annotations

import multiprocessing

import pytest
from sqlalchemy import func, select
from store_helpers import (
    AMBIGUOUS,
    COMPLIANT,
    MISSING,
    counts,
    record,
    run_in_two_processes,
    verdict,
)

from compliance.store.db import open_store
from compliance.store.models import ViolationEvent

pytestmark = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="needs fork"
)

N = 240


def posts(caption_for) -> list:
    return [verdict(caption_for(i), id=f"tt-{i}", author=f"@creator{i % 17}") for i in range(N)]


def _worker(url: str, verdicts: list) -> None:
    from conftest import Clock

    store = open_store(url)  # both create the fresh database at once
    record(store, verdicts, Clock(), batch_size=20)


def run_two(url: str, verdicts: list) -> None:
    run_in_two_processes(_worker, url, verdicts)


def opened_and_fixed(store) -> tuple[int, int, int]:
    """(opened events, fixed events, all events), after checking that no violation has
    the same action logged twice."""
    with store.read() as s:
        rows = dict(
            s.execute(
                select(ViolationEvent.action, func.count()).group_by(ViolationEvent.action)
            ).all()
        )
        doubled = s.execute(
            select(ViolationEvent.violation_id, ViolationEvent.action)
            .group_by(ViolationEvent.violation_id, ViolationEvent.action)
            .having(func.count() > 1)
        ).all()
    assert doubled == []
    return rows.get("opened", 0), rows.get("fixed", 0), sum(rows.values())


def test_two_processes_recording_the_same_posts_create_no_duplicates(db_url, clock):
    mix = [AMBIGUOUS, COMPLIANT, MISSING]
    verdicts = posts(lambda i: mix[i % 3])
    run_two(db_url, verdicts)

    store = open_store(db_url)
    both = counts(store)
    # The same file recorded once, alone, into a fresh database gives the same rows.
    assert both["posts"] == N and both["caption_versions"] == N and both["checks"] == N
    assert both["creators"] == 17 and both["accounts"] == 17
    assert both["violations"] == 2 * N // 3
    # Each violation was opened exactly once: one event each.
    assert opened_and_fixed(store) == (2 * N // 3, 0, 2 * N // 3)


def test_two_processes_fixing_the_same_violations_log_each_fix_once(db_url, clock):
    store = open_store(db_url)
    record(store, posts(lambda i: AMBIGUOUS), clock)
    assert counts(store)["violations"] == N
    run_two(db_url, posts(lambda i: COMPLIANT))
    after = counts(store)
    assert after["caption_versions"] == 2 * N and after["violations"] == N
    assert opened_and_fixed(store) == (N, N, 2 * N)
