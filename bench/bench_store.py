"""Speed of the database of record (SQLite): recording verdicts, listing open violations.

Steps, all in one run:

1. **record**: generate 40,000 posts (``bench/corpus.py``, seed 0) and check them
   with the engine (worker processes; not timed, it is the engine's own benchmark),
   then time :class:`compliance.store.record.Recorder` writing them into a fresh
   SQLite file on one core, end to end: verdict serialisation and hashing, creators,
   accounts, campaigns, posts, caption versions, checks, violations and their
   events, in batches of 500, one transaction (and commit) each. Best of 3, a fresh
   file each time. Then the same posts again into the filled file: the idempotent
   pass (nothing new is written, only ``last_seen`` moves).
2. **list**: build a 1,000,000-post database with bulk inserts (synthetic rows
   shaped like the record: ~35% sponsored, ~27% of posts with a violation, a mix
   of statuses, a year of dates, 20,000 creators), then time what
   ``compliance violations list`` does: reopen expired waivers, fetch the newest
   100 unresolved violations (joined with their post and creator) and count them
   all. First run (cold page cache of this connection) and best of 5, for the
   default listing and for ``--status open``, ``--rule`` and ``--creator``.

Targets (issue): recording at least 5,000 posts/s; listing under 200 ms. The
final line says PASS or FAIL; the exit status is 0 either way.

    python bench/bench_store.py            # 40,000 posts, 1,000,000-post database (~3 min)
    python bench/bench_store.py --quick    # 10,000 posts, 100,000-post database (~30 s)
    python bench/bench_store.py --keep DIR # keep (and reuse) the big database in DIR
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import _common
import corpus
from _common import machine

RECORD_TARGET = 5_000.0  # posts/s
LIST_TARGET = 0.200  # seconds
NOW = datetime(2026, 11, 5, 12, 0, tzinfo=timezone.utc)


def clock(at: datetime = NOW) -> Any:
    return lambda: at


def checked_verdicts(n: int, seed: int) -> list[Any]:
    """The engine's verdicts on ``n`` generated posts (checked in worker processes)."""
    from compliance.batch import check_records, default_jobs
    from compliance.inputs import post_from_record
    from compliance.packs import load_packs
    from compliance.report import Renderer

    records = corpus.generate(n, seed)
    items = [(f"bench#{i}", post_from_record(r, where=f"bench#{i}")) for i, r in enumerate(records)]
    renderer = Renderer("jsonl", keep_verdicts=True)
    out = []
    for _where, outcome in check_records(items, load_packs(), renderer, default_jobs()):
        assert not isinstance(outcome, str), outcome
        out.append(outcome.result)
    return out


def fresh_sqlite(directory: Path, name: str) -> str:
    for suffix in ("", "-wal", "-shm"):
        (directory / f"{name}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{directory / name}"


def record_pass(url: str, verdicts: Sequence[Any], at: datetime) -> tuple[float, Any]:
    """Seconds to record every verdict (store opened before the clock starts)."""
    from compliance.store.db import open_store
    from compliance.store.record import Recorder

    store = open_store(url)
    t0 = time.perf_counter()
    recorder = Recorder(store, now=clock(at))
    for i, v in enumerate(verdicts):
        recorder.add(v, source=f"bench#{i}")
    stats = recorder.close()
    seconds = time.perf_counter() - t0
    store.close()
    return seconds, stats


def row_counts(url: str) -> dict[str, int]:
    from sqlalchemy import func, select

    from compliance.store.db import open_store
    from compliance.store.models import metadata

    store = open_store(url)
    with store.read() as s:
        counts = {
            name: s.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in metadata.tables.items()
        }
    store.close()
    return counts


# --- The big database ---------------------------------------------------------------------------

STATUS_MIX = (
    ("open", 0.60),
    ("notified", 0.05),
    ("fixed", 0.25),
    ("regressed", 0.03),
    ("waived", 0.07),
)
RULES = (
    ("FTC.D101", "missing_disclosure"),
    ("FTC.C201", "ambiguous_disclosure"),
    ("FTC.P301", "below_fold"),
    ("FTC.P302", "buried_in_hashtags"),
    ("ASA.D101", "missing_disclosure"),
)
# The events that lead to each status.
HISTORY = {
    "open": [("opened", None, "open")],
    "notified": [("opened", None, "open"), ("notified", "open", "notified")],
    "fixed": [("opened", None, "open"), ("fixed", "open", "fixed")],
    "regressed": [
        ("opened", None, "open"),
        ("fixed", "open", "fixed"),
        ("regressed", "fixed", "regressed"),
    ],
    "waived": [("opened", None, "open"), ("waived", "open", "waived")],
}
PLATFORMS = ("tiktok", "instagram", "youtube", "twitter", "facebook")
CREATORS = 20_000


def build_big(url: str, n_posts: int, seed: int = 0) -> dict[str, int]:
    """Fill an empty database with ``n_posts`` synthetic posts, versions, checks,
    violations and events, with bulk (executemany) inserts."""
    from compliance.store.db import open_store
    from compliance.store.models import (
        Account,
        CaptionVersion,
        Check,
        Creator,
        PostRow,
        Violation,
        ViolationEvent,
    )

    rng = random.Random(seed)
    store = open_store(url)
    start = NOW - timedelta(days=365)
    chunk = 50_000

    def insert(model: Any, rows: list[dict[str, Any]]) -> None:
        with store.write() as s:
            s.execute(model.__table__.insert(), rows)

    insert(
        Creator,
        [
            {"id": i, "handle": f"@creator{i}", "name": None, "created_at": start}
            for i in range(1, CREATORS + 1)
        ],
    )
    insert(
        Account,
        [
            {
                "id": i,
                "creator_id": i,
                "platform": PLATFORMS[i % len(PLATFORMS)],
                "handle": f"@creator{i}",
                "created_at": start,
            }
            for i in range(1, CREATORS + 1)
        ],
    )
    statuses = [s for s, _ in STATUS_MIX]
    weights = [w for _, w in STATUS_MIX]
    violation_id = event_id = 0
    n_violations = 0
    for lo in range(1, n_posts + 1, chunk):
        hi = min(n_posts, lo + chunk - 1)
        posts, versions, checks, violations, events = [], [], [], [], []
        for pid in range(lo, hi + 1):
            account = rng.randint(1, CREATORS)
            seen = start + timedelta(seconds=rng.randint(0, 365 * 86400))
            sponsored = rng.random() < 0.35
            violating = sponsored and rng.random() < 0.77
            verdict = "violation" if violating else ("compliant" if sponsored else "not_sponsored")
            sha = f"{pid:064x}"
            posts.append(
                {
                    "id": pid,
                    "platform": PLATFORMS[account % len(PLATFORMS)],
                    "post_key": f"p{pid}",
                    "platform_post_id": f"p{pid}",
                    "url": None,
                    "author": f"@creator{account}",
                    "account_id": account,
                    "campaign_id": None,
                    "posted_at": seen,
                    "jurisdiction": None,
                    "first_seen": seen,
                    "last_seen": seen,
                    "current_sha256": sha,
                    "verdict": verdict,
                    "pack": "FTC",
                    "language": "en",
                }
            )
            versions.append(
                {
                    "id": pid,
                    "post_id": pid,
                    "sha256": sha,
                    "caption": f"caption of post {pid} #sp",
                    "transcript": None,
                    "source": None,
                    "raw_response": None,
                    "fetched_at": seen,
                    "first_seen": seen,
                    "last_seen": seen,
                }
            )
            checks.append(
                {
                    "id": pid,
                    "version_id": pid,
                    "verdict_sha256": sha,
                    "verdict": verdict,
                    "pack": "FTC",
                    "language": "en",
                    "sponsored": sponsored,
                    "result": "{}",
                    "first_checked": seen,
                    "last_checked": seen,
                }
            )
            if not violating:
                continue
            for rule, code in rng.sample(RULES, 2 if rng.random() < 0.3 else 1):
                violation_id += 1
                status = rng.choices(statuses, weights)[0]
                violations.append(
                    {
                        "id": violation_id,
                        "post_id": pid,
                        "rule": rule,
                        "code": code,
                        "status": status,
                        "opened_at": seen,
                        "status_at": seen,
                        "version_id": pid,
                        "check_id": pid,
                        "fixed_version_id": pid if status == "fixed" else None,
                        "finding": {
                            "rule": rule,
                            "code": code,
                            "span": [20, 23],
                            "text": "#sp",
                            "message": "m",
                        },
                        "notified_at": None,
                        "acked_at": None,
                        "acked_by": None,
                        "waived_by": "legal@brand.com" if status == "waived" else None,
                        "waived_reason": "ok" if status == "waived" else None,
                        # Waivers all run into the future: nothing expires during the benchmark.
                        "waived_until": NOW + timedelta(days=365) if status == "waived" else None,
                    }
                )
                status_at = seen
                for action, from_status, to_status in HISTORY[status]:
                    event_id += 1
                    events.append(
                        {
                            "id": event_id,
                            "violation_id": violation_id,
                            "at": status_at,
                            "actor": "check",
                            "action": action,
                            "from_status": from_status,
                            "to_status": to_status,
                            "version_id": pid,
                            "note": None,
                            "until": None,
                        }
                    )
        insert(PostRow, posts)
        insert(CaptionVersion, versions)
        insert(Check, checks)
        insert(Violation, violations)
        insert(ViolationEvent, events)
        n_violations += len(violations)
        print(f"  built {hi:,} posts, {n_violations:,} violations", file=sys.stderr, flush=True)
    with store.write() as s:  # fresh statistics for the query planner, as a DBA would keep them
        s.connection().exec_driver_sql("ANALYZE")
    store.close()
    return {"posts": n_posts, "violations": n_violations}


def time_listing(url: str, f: Any, repeats: int = 5) -> tuple[float, float, int, int]:
    """(first, best) seconds of the CLI's listing work; rows shown, total."""
    from compliance.cli.database import expire
    from compliance.store.db import open_store
    from compliance.store.queries import count_violations, list_violations

    store = open_store(url)
    times = []
    rows: list[Any] = []
    total = 0
    for _ in range(repeats + 1):
        t0 = time.perf_counter()
        expire(store, NOW)
        with store.read() as s:
            rows = list_violations(s, f, limit=100)
            total = count_violations(s, f)
        times.append(time.perf_counter() - t0)
    store.close()
    return times[0], min(times[1:]), len(rows), total


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 posts, 100,000-post database")
    parser.add_argument("-n", type=int, help="posts to record (default 40,000)")
    parser.add_argument("--big", type=int, help="posts in the listing database (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--keep", type=Path, help="directory to keep (and reuse) the big database in"
    )
    args = parser.parse_args(argv)
    n = args.n or (10_000 if args.quick else 40_000)
    big = args.big or (100_000 if args.quick else 1_000_000)

    from sqlalchemy import __version__ as sqlalchemy_version

    print(
        machine()
        + f", SQLAlchemy {sqlalchemy_version}, SQLite {__import__('sqlite3').sqlite_version}"
    )
    workdir = Path(tempfile.mkdtemp(prefix="bench_store_"))
    ok = True

    # 1. Recording.
    t0 = time.perf_counter()
    verdicts = checked_verdicts(n, args.seed)
    print(
        f"checked {n:,} generated posts in {time.perf_counter() - t0:.1f} s (engine, not timed below)"
    )
    best = float("inf")
    stats = None
    for attempt in range(3):
        url = fresh_sqlite(workdir, "record.db")
        seconds, stats = record_pass(url, verdicts, NOW)
        best = min(best, seconds)
        print(f"  record pass {attempt + 1}: {seconds:.2f} s ({_common.rate(n, seconds)})")
    counts = row_counts(url)
    size = sum(p.stat().st_size for p in workdir.glob("record.db*")) / 1e6
    print(
        f"record {n:,} posts into SQLite: best {best:.2f} s = {n / best:,.0f} posts/s on one core "
        f"(target >= {RECORD_TARGET:,.0f}); {stats.summary() if stats else ''}"
    )
    print(
        "  rows: "
        + ", ".join(f"{k} {v:,}" for k, v in counts.items() if k != "alembic_version")
        + f"; {size:.0f} MB"
    )
    ok &= n / best >= RECORD_TARGET
    seconds, stats = record_pass(url, verdicts, NOW + timedelta(hours=1))
    again = row_counts(url)
    same = {k: v for k, v in again.items()} == counts
    print(
        f"record the same {n:,} posts again: {seconds:.2f} s = {n / seconds:,.0f} posts/s; "
        f"rows unchanged: {'yes' if same else 'NO'}"
    )
    ok &= same

    # 2. Listing.
    keep = args.keep
    big_dir = keep or workdir
    big_dir.mkdir(parents=True, exist_ok=True)
    big_path = big_dir / f"big-{big}.db"
    big_url = f"sqlite:///{big_path}"
    if not big_path.exists():
        t0 = time.perf_counter()
        built = build_big(big_url, big)
        print(
            f"built a {built['posts']:,}-post database ({built['violations']:,} violations) "
            f"in {time.perf_counter() - t0:.0f} s with bulk inserts"
        )
    size = sum(p.stat().st_size for p in big_dir.glob(f"big-{big}.db*")) / 1e6
    print(f"listing, {big:,}-post database ({size:,.0f} MB):")

    from compliance.store.queries import ViolationFilter

    cases = [
        ("violations list (unresolved)", ViolationFilter(), True),
        ("violations list --status open", ViolationFilter(statuses=("open",)), False),
        ("violations list --rule FTC.C201", ViolationFilter(rule="FTC.C201"), False),
        ("violations list --creator @creator42", ViolationFilter(creator="@creator42"), False),
        (
            "violations list --status all --platform tiktok",
            ViolationFilter(statuses=(), platform="tiktok"),
            False,
        ),
    ]
    for label, f, gated in cases:
        first, best_list, shown, total = time_listing(big_url, f)
        print(
            f"  {label:<48} first {first * 1000:6.1f} ms, best {best_list * 1000:6.1f} ms "
            f"({shown} shown of {total:,})"
            + (f"  target < {LIST_TARGET * 1000:.0f} ms" if gated else "")
        )
        if gated:
            ok &= best_list < LIST_TARGET
    if keep is None:
        for p in workdir.iterdir():
            p.unlink()
        workdir.rmdir()
    print("PASS" if ok else "FAIL")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
