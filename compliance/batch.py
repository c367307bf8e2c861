"""Check many posts, in worker processes when there are cores to spare.

The engine is pure and posts are independent, so a file of posts splits into
chunks checked side by side. Workers are forked after the packs are loaded (they
share them copy-on-write) and send back rendered text, not verdict objects, so
what crosses the process boundary is small. Order is kept: results come back in
the order the records were read.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator
from itertools import islice

from compliance.engine import check
from compliance.model import Post
from compliance.packs import Packs
from compliance.report import Rendered, Renderer

# A record is (where, Post) or (where, error message) for a record that failed to parse.
Record = tuple[str, Post | str]
# An outcome is (where, rendered verdict) or (where, error message).
Outcome = tuple[str, Rendered | str]

CHUNK = 200

_state: tuple[Packs, Renderer] | None = None


def default_jobs() -> int:
    """Worker processes to use by default: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _check_one(where: str, item: Post | str, packs: Packs, renderer: Renderer) -> Outcome:
    if isinstance(item, str):
        return where, item
    try:
        return where, renderer.render(check(item, packs), where)
    except KeyError as exc:  # a jurisdiction without a pack
        return where, f"{where}: {exc.args[0]}"


def _init(packs: Packs, renderer: Renderer) -> None:
    global _state
    _state = (packs, renderer)


def _check_chunk(chunk: list[Record]) -> list[Outcome]:
    assert _state is not None, "worker not initialised"
    packs, renderer = _state
    return [_check_one(where, item, packs, renderer) for where, item in chunk]


def _chunks(records: Iterable[Record]) -> Iterator[list[Record]]:
    it = iter(records)
    while chunk := list(islice(it, CHUNK)):
        yield chunk


def check_records(
    records: Iterable[Record], packs: Packs, renderer: Renderer, jobs: int = 1
) -> Iterator[Outcome]:
    """Check every record in order, with ``jobs`` worker processes (1: in this process)."""
    if jobs <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        for where, item in records:
            yield _check_one(where, item, packs, renderer)
        return
    # Fork, not spawn: workers inherit the loaded packs instead of loading them again.
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(jobs, initializer=_init, initargs=(packs, renderer)) as pool:
        for outcomes in pool.imap(_check_chunk, _chunks(records), chunksize=1):
            yield from outcomes
