"""One full monitor cycle at scale: fetch, check and record N creators' posts from a loopback fake.

A fake TikTok (tests/fakes/tiktok.py: the public profile page, then the web item
list, in the fixtures' shapes) runs in a child process over a world of N creators
with 20 posts each, every caption a distinct one from bench/corpus.py. The monitors run as the daemon runs them: one run per creator
on a bounded thread pool (``Runtime.run_all``), a real SQLite database (or
``--db``). For each size it prints:

* **cycle 1**: every post is new: fetched, checked, recorded (posts/s, seconds);
* **cycle 2**: nothing changed: every listing is read again and compared with
  the record, nothing is checked or recorded;
* the CPU seconds of this process in each cycle (all its threads; steadier than
  the wall clock on a shared machine, and the fake's CPU is in the child);
* the peak RSS of this process (the fake's memory is in the child).

    python bench/bench_monitors.py                       # 1,000, 5,000 and 10,000 creators
    python bench/bench_monitors.py --sizes 2000 --workers 8
    python bench/bench_monitors.py --db postgresql+psycopg2://postgres@127.0.0.1/bench

Targets (issue 7): one full cycle of 10,000 creators x 20 posts under 2 minutes on
the 2-core machine, memory under 400 MB, time growing linearly with the creators,
and a second cycle with nothing new a fraction of the first.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from _common import FakeTikTok, machine, peak_rss_mb, tiktok_jobs, tiktok_runtime

POSTS_EACH = 20


def cycle(creators: int, db_url: str, workers: int) -> dict[str, float]:
    from compliance.store.db import open_store

    fake = FakeTikTok(creators, POSTS_EACH)
    store = open_store(db_url)
    now = datetime.fromtimestamp(fake.now + 60, timezone.utc)
    runtime = tiktok_runtime(store, fake.url, lambda: now)
    jobs = tiktok_jobs(creators)
    figures: dict[str, float] = {}
    for name in ("cycle 1", "cycle 2"):
        gc.collect()
        started, cpu = time.perf_counter(), time.process_time()
        results = runtime.run_all(jobs, workers=workers)
        elapsed = time.perf_counter() - started
        figures[f"{name} cpu"] = time.process_time() - cpu
        failed = [r for r in results if r.outcome != "ok"]
        if failed:
            raise SystemExit(f"{len(failed)} runs failed, e.g. {failed[0].key}: {failed[0].errors}")
        figures[f"{name} s"] = elapsed
        figures[f"{name} fetched"] = sum(r.fetched for r in results)
        figures[f"{name} new"] = sum(r.new for r in results)
        figures[f"{name} checked"] = sum(r.new + r.edited for r in results)
    runtime.close()
    store.close()
    figures["requests"] = fake.stop()
    figures["peak rss MB"] = peak_rss_mb()
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--workers", type=int, default=8, help="monitor runs at once")
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file per size)")
    args = parser.parse_args(argv)
    print(machine())
    print(
        f"{'creators':>9} {'posts':>8} {'cycle 1 s':>10} {'posts/s':>8} {'cycle 2 s':>10} "
        f"{'c2/c1':>6} {'cpu 1 s':>8} {'cpu 2 s':>8} {'requests':>9} {'peak MB':>8}"
    )
    rows = []
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            db = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
            f = cycle(size, db, args.workers)
        assert f["cycle 1 new"] == size * POSTS_EACH, f
        rows.append((size, f))
        print(
            f"{size:>9} {size * POSTS_EACH:>8} {f['cycle 1 s']:>10.1f} "
            f"{size * POSTS_EACH / f['cycle 1 s']:>8.0f} {f['cycle 2 s']:>10.1f} "
            f"{f['cycle 2 s'] / f['cycle 1 s']:>6.2f} {f['cycle 1 cpu']:>8.1f} "
            f"{f['cycle 2 cpu']:>8.1f} {f['requests']:>9.0f} {f['peak rss MB']:>8.0f}",
            flush=True,
        )
    if len(rows) > 1:
        base_size, base = rows[0]
        for size, f in rows[1:]:
            scale = (f["cycle 1 s"] / base["cycle 1 s"]) / (size / base_size)
            print(f"linearity {base_size}->{size}: time grew {scale:.2f}x what linear predicts")


if __name__ == "__main__":
    main()
