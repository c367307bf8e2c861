"""The scale-out: the Celery app and its one task, a monitor run by key.

``compliance daemon --executor celery`` enqueues ``compliance.run_monitor(key,
next_run_at)``; ``compliance worker`` runs it. Only the monitor's key travels
through the broker: the worker rebuilds the job from its own compliance.yaml, so
tokens and keys (read from the worker's environment) never sit in a queue.

Delivery is at least once, and that is safe:

* ``acks_late``: a message is acknowledged when the run has finished, so a
  worker that dies mid-run (``kill -9``, a lost machine) leaves it unacked and
  the broker hands it to another worker (RabbitMQ: when the connection drops;
  Redis: after the visibility timeout). ``task_reject_on_worker_lost`` does the
  same when only a prefork child dies.
* prefetch 1: a worker holds one message per process beyond what it runs, so a
  dead worker takes little with it and a slow one does not hoard.
* A run is idempotent: posts, caption versions and violations are keyed by the
  store's unique keys and written with upserts, the outbox rows in the same
  transaction as the record they announce; a redelivered run finds the posts
  recorded and unchanged and records nothing again.
* ``expires``: a queued run that no worker started before the monitor's next
  run was due is dropped (the next one does the same work), so a backlog never
  piles up runs of one monitor.

Configuration, from the environment (``compliance worker`` and ``daemon`` set
them from their options): ``COMPLIANCE_BROKER_URL`` (``amqp://...`` or
``redis://...``), ``COMPLIANCE_RESULT_BACKEND`` (optional; results are not
needed), ``COMPLIANCE_CELERY_QUEUE`` (default ``compliance.monitors``),
``COMPLIANCE_VISIBILITY_TIMEOUT`` (seconds, Redis brokers; default 3600: longer
than the longest run).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery import Celery

from monitors.run import Job
from monitors.runtime import Runtime
from monitors.scheduler import log_run

log = logging.getLogger("compliance.worker")

BROKER_ENV = "COMPLIANCE_BROKER_URL"
BACKEND_ENV = "COMPLIANCE_RESULT_BACKEND"
QUEUE_ENV = "COMPLIANCE_CELERY_QUEUE"
VISIBILITY_ENV = "COMPLIANCE_VISIBILITY_TIMEOUT"
DEFAULT_BROKER = "amqp://guest:guest@127.0.0.1:5672//"
DEFAULT_QUEUE = "compliance.monitors"
TASK = "compliance.run_monitor"


def queue_name() -> str:
    """The queue the monitor runs go through (one per deployment)."""
    return os.environ.get(QUEUE_ENV) or DEFAULT_QUEUE


def configure(app: Celery, broker: str | None = None, backend: str | None = None) -> Celery:
    """Point ``app`` at the broker and queue of the environment (or those given)."""
    queue = queue_name()
    app.conf.update(
        broker_url=broker or os.environ.get(BROKER_ENV) or DEFAULT_BROKER,
        result_backend=backend or os.environ.get(BACKEND_ENV) or None,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options={
            "visibility_timeout": int(os.environ.get(VISIBILITY_ENV) or 3600)
        },
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        accept_content=["json"],
        task_default_queue=queue,
        task_routes={TASK: {"queue": queue}},
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
    )
    return app


app = configure(Celery("compliance"))


@dataclass
class WorkerContext:
    """What a worker process runs monitors with: its runtime and the jobs of its config."""

    runtime: Runtime
    jobs: dict[str, Job]


# The CLI (``compliance worker``) installs the builder before the pool forks; each
# process builds its own context on its first task (connections never cross a fork).
_builder: Callable[[], WorkerContext] | None = None
_context: WorkerContext | None = None
_context_pid: int | None = None
_context_lock = threading.Lock()


def install(builder: Callable[[], WorkerContext] | None) -> None:
    """Set how a worker process builds its context (from its compliance.yaml); None: unset."""
    global _builder, _context, _context_pid
    with _context_lock:
        _builder, _context, _context_pid = builder, None, None


def context() -> WorkerContext:
    """This process's context, built on first use."""
    global _context, _context_pid
    with _context_lock:
        if _context is None or _context_pid != os.getpid():
            if _builder is None:
                raise RuntimeError("no worker configuration: start workers with compliance worker")
            _context, _context_pid = _builder(), os.getpid()
        return _context


def run_by_key(key: str, next_run_at: str | None = None) -> dict[str, Any]:
    """Run the configured monitor ``key`` once; its log fields (what the task returns)."""
    ctx = context()
    job = ctx.jobs.get(key)
    if job is None:
        # The daemon's config names a monitor this worker's does not: say so, drop it
        # (retrying cannot help; the configs must be deployed alike).
        log.warning("monitor=%s outcome=unknown: not in this worker's configuration", key)
        return {"monitor": key, "outcome": "unknown"}
    when = datetime.fromisoformat(next_run_at) if next_run_at else None
    result = ctx.runtime.run(job, when)
    log_run(result)
    return result.log_fields()


@app.task(name=TASK, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_monitor(key: str, next_run_at: str | None = None) -> dict[str, Any]:
    """One monitor run (fetch, check, record, outbox), by the monitor's key."""
    return run_by_key(key, next_run_at)


def enqueue(key: str, next_run_at: datetime | None, now: datetime) -> str:
    """Send a run of ``key`` to the workers; it expires when the next run is due."""
    expires = (next_run_at - now) if next_run_at is not None else timedelta(hours=1)
    result = run_monitor.apply_async(
        args=[key, next_run_at.isoformat() if next_run_at else None],
        queue=queue_name(),
        expires=max(expires, timedelta(seconds=1)).total_seconds(),
    )
    return str(result.id)
