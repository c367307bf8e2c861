"""Helpers for the storage tests: verdicts from real checks, row counts, a recorder shortcut."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import func, select

from compliance import Campaign, Post, Verdict, check, load_packs
from compliance.store.db import Store
from compliance.store.models import (
    Account,
    CampaignRow,
    CaptionVersion,
    Check,
    Creator,
    PostRow,
    Violation,
    ViolationEvent,
)
from compliance.store.record import Recorder, RecordStats

# FTC.C201 (ambiguous '#sp', with a span), compliant ('#ad' first), FTC.D101 (no disclosure).
AMBIGUOUS = "Loving my new serum from @glowlab! Use code MAYA15 #skincare #sp"
COMPLIANT = "#ad Loving my new serum from @glowlab! Use code MAYA15"
MISSING = "Loving my new serum from @glowlab! Use code MAYA15"
NOT_SPONSORED = "Sunset walk, no filter"

# Two configured campaigns of one brand, as compliance.yaml builds them (name = their key).
SPRING = Campaign(
    brand="GlowLab",
    handles=("@glowlab",),
    relationship="paid",
    starts=date(2026, 3, 1),
    ends=date(2026, 6, 30),
    jurisdictions=("US", "GB", "DE"),
    name="glowlab-spring",
)
FALL = replace(
    SPRING,
    starts=date(2026, 9, 1),
    ends=date(2026, 11, 30),
    jurisdictions=("US",),
    name="glowlab-fall",
)

TABLES = {
    "creators": Creator,
    "accounts": Account,
    "campaigns": CampaignRow,
    "posts": PostRow,
    "caption_versions": CaptionVersion,
    "checks": Check,
    "violations": Violation,
    "violation_events": ViolationEvent,
}


@cache
def packs() -> Any:
    """The shipped rule packs, loaded once."""
    return load_packs()


def verdict(
    caption: str,
    *,
    id: str | None = "tt-1",
    platform: str = "tiktok",
    author: str | None = "@maya",
    url: str | None = None,
    posted_at: str | None = "2026-11-02T18:04:00+00:00",
    campaign: Campaign | None = None,
) -> Verdict:
    """The engine's real verdict on a post."""
    post = Post(
        caption,
        id=id,
        platform=platform,
        author=author,
        url=url,
        posted_at=posted_at,
        campaign=campaign,
    )
    return check(post, packs())


def counts(store: Store) -> dict[str, int]:
    """Rows per table."""
    with store.read() as session:
        return {
            name: session.execute(select(func.count()).select_from(model)).scalar_one()
            for name, model in TABLES.items()
        }


def record(store: Store, verdicts: Iterable[Verdict], clock: Any, **kw: Any) -> RecordStats:
    """Record verdicts with the test clock."""
    recorder = Recorder(store, now=clock, **kw)
    for v in verdicts:
        recorder.add(v, source="test")
    return recorder.close()


def violation(store: Store, rule: str, post_key: str = "tt-1") -> Violation:
    """The violation of ``rule`` on the post with this key."""
    with store.read() as session:
        return session.execute(
            select(Violation)
            .join(PostRow, PostRow.id == Violation.post_id)
            .where(PostRow.post_key == post_key, Violation.rule == rule)
        ).scalar_one()


def events(store: Store, violation_id: int) -> list[tuple[str, str | None, str | None, str]]:
    """(action, from, to, actor) of a violation's history, oldest first."""
    with store.read() as session:
        return [
            (e.action, e.from_status, e.to_status, e.actor)
            for e in session.scalars(
                select(ViolationEvent)
                .where(ViolationEvent.violation_id == violation_id)
                .order_by(ViolationEvent.id)
            )
        ]


def _guarded(target: Callable[..., None], args: tuple[Any, ...], barrier: Any, errors: Any) -> None:
    """In a worker: start with the other one, report a failure's traceback to the parent."""
    import traceback

    try:
        barrier.wait(timeout=30)
        target(*args)
    except BaseException:
        errors.put(traceback.format_exc())
        raise


def run_in_two_processes(target: Callable[..., None], *args: Any) -> None:
    """Run ``target(*args)`` in two forked processes that start at the same moment.

    Fails the test if either raised or exited non-zero.
    """
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(2)
    errors = ctx.Queue()
    procs = [ctx.Process(target=_guarded, args=(target, args, barrier, errors)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    problems = []
    while not errors.empty():
        problems.append(errors.get())
    assert not problems, "\n".join(problems)
    assert [p.exitcode for p in procs] == [0, 0]
