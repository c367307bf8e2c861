"""Many monitor cycles of N creators: is the daemon's memory bounded?

The daemon's cycle code (``Runtime.run_all``: one run per creator on a thread
pool, the group writer, the alerts' outbox hook) runs ``--cycles`` times over a
fake TikTok of ``--creators`` creators x 20 posts, served from a child process
(bench/_common.FakeTikTok). Between cycles the world changes a little: a few
captions edited, a few new posts. One Runtime lives through every cycle, as in
the daemon. Per cycle it prints: the duration, posts fetched / new / edited,
this process's RSS now and its peak, the Python heap (``--tracemalloc``: traced
memory now and at peak, slower) and the database's size; at the end, how much
RSS grew from cycle 2 to the last (cycle 1 fills the caches, the record and the
allocator's arenas; after it the figure must be about flat).

    python bench/bench_load.py                                  # 10,000 creators x 10 cycles
    python bench/bench_load.py --creators 2000 --cycles 10
    python bench/bench_load.py --db postgresql+psycopg2://postgres@127.0.0.1/bench --tracemalloc
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

from _common import FakeTikTok, current_rss_mb, machine, peak_rss_mb, tiktok_jobs, tiktok_runtime

POSTS_EACH = 20
ALERTS = """\
alerts:
  receivers:
    hook: {webhook: {url_env: BENCH_HOOK_URL}}
  route: {receiver: hook, group_by: [creator]}
"""


def db_size_mb(url: str) -> float:
    """The database's size on disk (SQLite: the file and its WAL; PostgreSQL: the database)."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists()) / 2**20
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        size = conn.scalar(text("SELECT pg_database_size(current_database())"))
    engine.dispose()
    return float(size or 0) / 2**20


def alerts_hook(tmp: Path) -> object:
    """The recorder's outbox hook of a one-receiver alerts section (rows are written, never
    sent: the outbox's write path is part of the cycle)."""
    from compliance.alerts import outbox
    from compliance.alerts.config import parse_alerts
    from compliance.packs import load_yaml

    path = tmp / "alerts.yaml"
    path.write_text(ALERTS, encoding="utf-8")
    return outbox.on_changes(parse_alerts(load_yaml(path), "alerts"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--creators", type=int, default=10_000)
    parser.add_argument("--cycles", type=int, default=10)
    parser.add_argument("--workers", type=int, default=8, help="monitor runs at once")
    parser.add_argument("--edits", type=int, default=50, help="captions edited between cycles")
    parser.add_argument("--new", type=int, default=50, help="posts added between cycles")
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also trace the Python heap (slower)"
    )
    args = parser.parse_args(argv)
    if args.cycles < 3:
        parser.error("--cycles must be at least 3 (growth is measured from cycle 2)")

    from compliance.store.db import open_store

    print(machine())
    print(
        f"creators {args.creators} x {POSTS_EACH} posts, {args.cycles} cycles, "
        f"{args.edits} edits + {args.new} new posts between cycles, workers {args.workers}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or f"sqlite:///{Path(tmp) / 'load.db'}"
        fake = FakeTikTok(args.creators, POSTS_EACH)
        clock = [datetime.fromtimestamp(fake.now + 60, timezone.utc)]
        os.environ.setdefault("BENCH_HOOK_URL", "http://127.0.0.1:9/never-sent")
        store = open_store(db)
        runtime = tiktok_runtime(
            store, fake.url, lambda: clock[0], on_changes=alerts_hook(Path(tmp))
        )
        jobs = tiktok_jobs(args.creators)
        if args.tracemalloc:
            tracemalloc.start()
        print(
            f"{'cycle':>5} {'s':>7} {'fetched':>8} {'new':>6} {'edited':>6} {'rss MB':>7} "
            f"{'peak MB':>8}"
            + (f" {'heap MB':>8} {'heap pk':>8}" if args.tracemalloc else "")
            + f" {'db MB':>7}",
            flush=True,
        )
        rss: list[float] = []
        for n in range(1, args.cycles + 1):
            if n > 1:
                world_now = fake.change(args.edits, args.new)
                clock[0] = datetime.fromtimestamp(world_now + 60, timezone.utc)
            if args.tracemalloc:
                tracemalloc.reset_peak()
            started = time.perf_counter()
            results = runtime.run_all(jobs, workers=args.workers)
            elapsed = time.perf_counter() - started
            failed = [r for r in results if r.outcome != "ok"]
            if failed:
                raise SystemExit(
                    f"{len(failed)} runs failed, e.g. {failed[0].key}: {failed[0].errors}"
                )
            fetched, new = sum(r.fetched for r in results), sum(r.new for r in results)
            edited = sum(r.edited for r in results)
            del results
            gc.collect()  # what is left is what a cycle keeps, not its garbage
            rss.append(current_rss_mb())
            heap = ""
            if args.tracemalloc:
                now_b, peak_b = tracemalloc.get_traced_memory()
                heap = f" {now_b / 2**20:>8.1f} {peak_b / 2**20:>8.1f}"
            print(
                f"{n:>5} {elapsed:>7.1f} {fetched:>8} {new:>6} {edited:>6} {rss[-1]:>7.1f} "
                f"{peak_rss_mb():>8.1f}{heap} {db_size_mb(db):>7.1f}",
                flush=True,
            )
            clock[0] += timedelta(seconds=1)
        runtime.close()
        store.close()
        fake.stop()
    growth = rss[-1] - rss[1]
    per_cycle = growth / (len(rss) - 2)
    print(
        f"RSS from cycle 2 to cycle {len(rss)}: {rss[1]:.1f} -> {rss[-1]:.1f} MB "
        f"({growth:+.1f} MB, {per_cycle:+.2f} MB a cycle)"
    )


if __name__ == "__main__":
    main()
