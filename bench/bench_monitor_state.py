"""Speed of the monitors' state in the database: saving runs, listing every monitor.

Steps, on a fresh database (SQLite file by default; ``--db URL`` for PostgreSQL):

1. **save, first run**: :func:`compliance.store.monitors.save_monitor_run` for
   10,000 monitors, one run each (the row is created by the save): one transaction
   each, as the daemon does at the end of every run. Every tenth run fails, so the
   failure counting is exercised; a cursor of a few fields is stored.
2. **save, second run**: the same monitors again (rows exist: the daemon's steady
   state), with the run log being appended and pruned.
3. **list**: :func:`compliance.store.monitors.list_monitor_states` over the 10,000
   monitors (what ``compliance status`` reads): first call and best of 5.

    python bench/bench_monitor_state.py                 # 10,000 monitors on SQLite
    python bench/bench_monitor_state.py --monitors 2000 # fewer
    python bench/bench_monitor_state.py --db postgresql+psycopg2://postgres@127.0.0.1/bench

The database given with ``--db`` must be empty (its tables are created here).
Figures only, no targets: the issue asks for them to be printed.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import _common
from _common import machine

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)


def save_all(store: Any, n: int, run: int) -> float:
    """Seconds to save one run of each of ``n`` monitors."""
    from compliance.store.monitors import RunCounts, save_monitor_run

    at = NOW + timedelta(hours=6 * run)
    counts = RunCounts(fetched=20, new=2, edited=1, gone=0, opened=1, fixed=0, regressed=0)
    t0 = time.perf_counter()
    for i in range(n):
        failed = i % 10 == 0
        save_monitor_run(
            store,
            f"creator:c{i}:tiktok:@creator{i}",
            kind="creator",
            platform="tiktok",
            target=f"@creator{i}",
            started_at=at - timedelta(seconds=3),
            outcome="failed" if failed else "ok",
            counts=RunCounts() if failed else counts,
            cursor=None if failed else {"max_cursor": 1733313600000 + i, "etag": f'W/"{i:x}"'},
            error="HTTP 503 from open.tiktokapis.com" if failed else None,
            error_kind="unavailable" if failed else None,
            next_run_at=at + timedelta(hours=6),
            now=lambda: at,
        )
    return time.perf_counter() - t0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--monitors", type=int, default=10_000)
    parser.add_argument("--db", help="an empty database (default: a new SQLite file)")
    args = parser.parse_args(argv)

    from compliance.store.db import open_store
    from compliance.store.monitors import list_monitor_states

    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'monitors.db'}"
        store = open_store(url)
        print(f"database: {store.display}")
        n = args.monitors
        for run, label in ((0, "first run (rows created)"), (1, "second run (rows exist)")):
            seconds = save_all(store, n, run)
            print(
                f"save_monitor_run, {label}: {n:,} monitors in {seconds:.2f} s = "
                f"{_common.rate(n, seconds)} ({1000 * seconds / n:.2f} ms each)"
            )
        t0 = time.perf_counter()
        states = list_monitor_states(store)
        first = time.perf_counter() - t0
        assert len(states) == n, len(states)
        assert sum(s.consecutive_failures for s in states) == 2 * ((n + 9) // 10)
        best = _common.best_of(lambda: list_monitor_states(store), 5)
        print(
            f"list_monitor_states on {n:,} monitors: first {1000 * first:.0f} ms, "
            f"best of 5 {1000 * best:.0f} ms"
        )
        print(f"peak RSS: {_common.peak_rss_mb():.0f} MB")
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
