"""The scale-out: one monitor cycle of N creators run by Celery workers with 1, 2 and 4 processes.

A fake TikTok (tests/fakes/tiktok.py) runs in a child process over a world of N
creators with a few posts each. The bench enqueues one ``compliance.run_monitor``
task per creator on the broker (RabbitMQ by default) and starts one Celery worker
(prefork pool, ``--concurrency`` 1, 2 or 4) built like ``compliance worker``:
each pool process builds its runtime (sources, engine, store) on its first task.
The database of record is PostgreSQL (a fresh schema per run). For each size and
process count it prints the cycle's time (first enqueue to the last run saved),
runs per second, and the scaling efficiency ``t(1) / (k * t(k))``.

    python bench/bench_celery.py                          # 10,000 and 50,000 creators; 1, 2, 4
    python bench/bench_celery.py --sizes 2000 --procs 1 2 --posts 5
    python bench/bench_celery.py --broker redis://127.0.0.1:6379/0

The fake platform, PostgreSQL, the broker and the workers share the machine's
cores, so the efficiency measured here is a floor: on several machines the
workers do not compete with the fake or the database.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import sys
import time
import uuid
from datetime import datetime, timezone

from _common import REPO, FakeTikTok, machine, tiktok_jobs, tiktok_key

sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

PG = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
AMQP = "amqp://guest:guest@127.0.0.1:5672//"


def _worker(url: str, world_now: float, db: str, creators: int, procs: int) -> None:
    """Child process: a Celery worker with ``procs`` pool processes (like `compliance worker`)."""
    from compliance.packs import load_packs
    from compliance.store.db import open_store
    from monitors import tasks
    from monitors.http import HttpSettings
    from monitors.runtime import Runtime
    from monitors.sources.base import SourceSettings

    packs = load_packs()  # before the fork: shared by the pool's processes
    now = datetime.fromtimestamp(world_now + 60, timezone.utc)
    jobs = {job.key: job for job in tiktok_jobs(creators)}

    def build() -> tasks.WorkerContext:
        runtime = Runtime(
            open_store(db),
            packs,
            settings={"tiktok": SourceSettings(api_url=url, web_url=url)},
            http={"tiktok": HttpSettings(retries=2, backoff=0.05, timeout=60)},
            now=lambda: now,
        )
        return tasks.WorkerContext(runtime, jobs)

    tasks.install(build)
    tasks.configure(tasks.app)
    tasks.app.worker_main(
        [
            "worker",
            "--pool=prefork",
            f"--concurrency={procs}",
            f"--queues={tasks.queue_name()}",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
        ]
    )


def _saved(db: str) -> int:
    from sqlalchemy import func, select

    from compliance.store.db import open_store
    from compliance.store.models import MonitorStateRow

    store = open_store(db)
    try:
        with store.read() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(MonitorStateRow)
                    .where(MonitorStateRow.runs_total >= 1)
                )
                or 0
            )
    finally:
        store.close()


def cycle(creators: int, posts: int, procs: int, broker: str, server: str) -> float:
    """Seconds for one cycle of ``creators`` monitors on a worker of ``procs`` processes."""
    from kombu import Connection
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from compliance.store.db import open_store
    from monitors import tasks

    queue = f"compliance.bench.{uuid.uuid4().hex[:8]}"
    os.environ[tasks.QUEUE_ENV] = queue
    os.environ[tasks.BROKER_ENV] = broker
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    db = make_url(server).update_query_dict({"options": f"-csearch_path={schema}"})
    db_url = db.render_as_string(hide_password=False)
    open_store(db_url).close()  # the schema, before the workers race to create it

    fake = FakeTikTok(creators, posts)
    url, world_now = fake.url, fake.now
    worker = multiprocessing.Process(
        target=_worker, args=(url, world_now, db_url, creators, procs), daemon=False
    )
    try:
        tasks.configure(tasks.app, broker=broker)
        started = time.perf_counter()
        now = datetime.now(timezone.utc)
        for i in range(creators):
            tasks.enqueue(tiktok_key(i), None, now)
        worker.start()
        while _saved(db_url) < creators:
            if not worker.is_alive():
                raise SystemExit("the worker died")
            time.sleep(0.5)
        return time.perf_counter() - started
    finally:
        if worker.pid is not None and worker.is_alive():
            os.kill(worker.pid, signal.SIGTERM)
            worker.join(60)
        fake.stop()
        with Connection(broker) as conn:
            conn.default_channel.queue_delete(queue)
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 50000])
    parser.add_argument("--procs", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--posts", type=int, default=5, help="posts per creator")
    parser.add_argument("--broker", default=os.environ.get("COMPLIANCE_BROKER_URL", AMQP))
    parser.add_argument("--db", default=PG, help="PostgreSQL server URL (a schema per run)")
    args = parser.parse_args(argv)
    print(machine())
    print(f"broker {args.broker.split('@')[-1]}, {args.posts} posts per creator")
    print(f"{'creators':>9} {'procs':>5} {'cycle s':>8} {'runs/s':>7} {'efficiency':>10}")
    for size in args.sizes:
        base: float | None = None
        for procs in args.procs:
            seconds = cycle(size, args.posts, procs, args.broker, args.db)
            base = base if base is not None else seconds * args.procs[0]
            efficiency = base / (procs * seconds)
            print(
                f"{size:>9} {procs:>5} {seconds:>8.1f} {size / seconds:>7.0f} {efficiency:>10.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
