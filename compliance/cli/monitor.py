"""The monitors from the command line: one-off creator, hashtag and URL checks, the daemon, status.

The only CLI module that imports :mod:`monitors` (ARCHITECTURE.md: the CLI is
the wiring; ``compliance`` never reaches into the monitors otherwise).

* ``compliance check tiktok:@x | URL | --creator NAME | --hashtag WATCH``:
  :func:`check_targets`, called by ``compliance.cli.check``;
* ``compliance daemon --config FILE``: the monitors on a schedule, the alerts'
  outbox drained beside them;
* ``compliance status``: every monitor's last run, outcome, posts, next run,
  failures and cursor.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from compliance.cli.database import open_db, utcnow
from compliance.cli.errors import UsageError, handled
from compliance.cli.options import Database, db_option, load_config_file
from compliance.model import Campaign, Verdict
from compliance.safe import terminal_safe

# The monitors (and through them SQLAlchemy and httpx) are imported inside the
# functions: `compliance check --text` must start as fast as it did before them.
if TYPE_CHECKING:
    from compliance.alerts.config import AlertsConfig
    from compliance.config import Config, Monitor
    from compliance.report import Writer
    from compliance.store.db import Store
    from compliance.store.transitions import RecordStats
    from monitors.http import HttpSettings
    from monitors.run import Job, RunResult
    from monitors.runtime import Runtime
    from monitors.scheduler import Scheduled
    from monitors.sources.base import Fetched, SourceSettings

log = logging.getLogger("compliance.daemon")

# Where the credentials are looked for when no compliance.yaml names them: the
# variable names of the documented sample file, so that a one-off
# `compliance check youtube:@x` works with just YOUTUBE_API_KEY exported.
DEFAULT_ENV: dict[str, dict[str, str]] = {
    "tiktok": {"token": "TIKTOK_TOKEN"},
    "instagram": {"token": "IG_TOKEN", "user_id": "IG_USER_ID"},
    "youtube": {"key": "YOUTUBE_API_KEY"},
    "x": {"token": "X_BEARER_TOKEN"},
}
# The platforms a user names (config and targets); X is registered under both names.
PLATFORMS = ("tiktok", "instagram", "youtube", "bluesky", "mastodon", "x")
DEFAULT_LIMIT = 50


# --- the runtime: sources built from compliance.yaml or the environment ------------------------


def source_settings(
    config: Config | None, platform: str, environ: Mapping[str, str] = os.environ
) -> SourceSettings:
    """``platform``'s source settings: compliance.yaml's section, else the default variables."""
    from dataclasses import replace

    from monitors.sources.base import SourceSettings

    if config is not None and platform in config.platforms:
        settings = SourceSettings(**config.source_settings(platform, environ))
    else:
        names = DEFAULT_ENV.get(platform, {})
        settings = SourceSettings(**{k: environ.get(v) or None for k, v in names.items()})
    if config is not None and platform == "mastodon":
        # The instances of the accounts written in compliance.yaml are the operator's choice:
        # allowed (and, like every allowed host, checked to resolve to public addresses).
        hosts = sorted(
            {
                a.handle.rsplit("@", 1)[-1].lower()
                for c in config.creators.values()
                for a in c.accounts
                if a.platform == "mastodon"
            }
        )
        settings = replace(settings, allow_hosts=settings.allow_hosts + tuple(hosts))
    return settings


def http_settings(config: Config | None, platform: str) -> HttpSettings:
    """``platform``'s HTTP client settings: compliance.yaml's knobs over the defaults."""
    from monitors.http import HttpSettings

    return HttpSettings(**(config.http_settings(platform) if config is not None else {}))


def make_runtime(
    config: Config | None,
    store: Store | None,
    packs: Any,
    *,
    on_changes: Any = None,
    environ: Mapping[str, str] = os.environ,
    group_commit: bool = False,
) -> Runtime:
    """Sources, engine and store for running monitors in this process."""
    from monitors.runtime import Runtime

    return Runtime(
        store,  # type: ignore[arg-type]  # None for read-only checks (check_listing)
        packs,
        settings={p: source_settings(config, p, environ) for p in PLATFORMS},
        http={p: http_settings(config, p) for p in PLATFORMS},
        now=utcnow,
        on_changes=on_changes,
        group_commit=group_commit,
    )


def job_for(
    monitor: Monitor,
    *,
    limit: int | None = None,
    since: datetime | None = None,
    extra: tuple[Campaign, ...] = (),
) -> Job:
    """The run of a configured monitor (``limit``/``since`` for one-off checks)."""
    from monitors.run import Job

    return Job(
        key=monitor.key,
        kind=monitor.kind,
        platform=monitor.platform,
        target=monitor.target,
        campaigns=extra + tuple(monitor.campaigns),
        jurisdiction=monitor.jurisdiction,
        creator=monitor.creator,
        window=monitor.schedule.window,
        window_posts=monitor.schedule.window_posts,
        max_failures=monitor.schedule.max_failures,
        limit=limit,
        since=since,
    )


def scheduled_for(monitor: Monitor) -> Scheduled:
    """A configured monitor and its schedule, for the daemon."""
    from monitors.scheduler import Scheduled

    s = monitor.schedule
    return Scheduled(job_for(monitor), every=s.every, cron=s.cron, jitter=s.jitter)


def post_platform(url: str) -> str | None:
    """The platform whose post URL ``url`` is (no network), else None. A TikTok short link
    counts: the source resolves it to its video when it reads the post."""
    from monitors.sources import SOURCES, source_class
    from monitors.sources.tiktok import TikTokSource

    if TikTokSource.short_link(url):
        return "tiktok"
    for platform in PLATFORMS:
        if platform in SOURCES and source_class(platform).post_ref(url):
            return platform
    return None


def alerts_config(config: Config | None, enabled: bool) -> AlertsConfig | None:
    """The parsed ``alerts:`` section when there is one and alerts are on for this run."""
    if config is None or not enabled or not config.alerts:
        return None
    from compliance.alerts.config import parse_alerts

    with handled():
        return parse_alerts(config.alerts_document(), "alerts")


def on_changes_for(alerts: AlertsConfig | None) -> Any:
    """The recorder hook that writes outbox rows in the recording transaction (or None)."""
    if alerts is None:
        return None
    from compliance.alerts import outbox

    return outbox.on_changes(alerts)


def deliver_alerts(store: Store, alerts: AlertsConfig | None) -> None:
    """A one-off run's end: send its groups now (waiting out Retry-After within the bounded
    budget); what is still undelivered stays in the outbox for the next run or the daemon."""
    if alerts is None:
        return
    from compliance.alerts import dispatch

    with handled():
        report = dispatch.deliver(store, alerts, now=utcnow, flush=True, wait=True)
    click.echo(f"compliance: {report.summary()}", err=True)


# --- compliance check TARGET / --creator / --hashtag --------------------------------------------


@dataclass
class Targets:
    """What a one-off check was asked to read: account listings and single posts."""

    jobs: list[Job]
    posts: list[tuple[Job, str]]  # (the job's campaigns and jurisdiction, the post's URL)


def plan_targets(
    targets: Sequence[str],
    creators: Sequence[str],
    watches: Sequence[str],
    *,
    config: Config | None,
    campaign: Campaign | None,
    jurisdiction: str | None,
    limit: int,
    since: datetime | None,
) -> Targets:
    """Turn the command line into jobs and post URLs; a usage error for anything unknown."""
    from compliance.config import parse_account
    from monitors.run import Job

    extra = (campaign,) if campaign is not None else ()
    jobs: list[Job] = []
    posts: list[tuple[Job, str]] = []
    for target in targets:
        if "://" in target or target.startswith("www."):
            url = target if "://" in target else "https://" + target
            platform = post_platform(url)
            if platform is None:
                raise UsageError(
                    f"{target!r} is not a post URL of a supported platform "
                    f"({', '.join(PLATFORMS)}); for an account write platform:account"
                )
            job = Job(f"check:{url}", "post", platform, url, extra, jurisdiction)
            posts.append((job, url))
            continue
        try:
            account = parse_account(target)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        jobs.append(
            Job(
                key=f"check:{account}",
                kind="account",
                platform=account.platform,
                target=account.handle,
                campaigns=extra,
                jurisdiction=jurisdiction,
                limit=limit,
                since=since,
            )
        )
    monitors = config.monitors() if config is not None else []
    for name in creators:
        if config is None:
            raise UsageError("--creator needs --config (the creators are in compliance.yaml)")
        if name not in config.creators:
            known = ", ".join(sorted(config.creators)) or "none"
            raise UsageError(
                f"--creator {name!r}: no such creator in {config.path} (have: {known})"
            )
        jobs.extend(
            job_for(m, limit=limit, since=since, extra=extra)
            for m in monitors
            if m.kind == "account" and m.creator == name
        )
    for watch in watches:
        jobs.extend(
            job_for(m, limit=limit, since=since, extra=extra)
            for m in monitors
            if m.kind == "hashtag" and m.key.split(":")[1] == watch
        )
    if jurisdiction is not None:
        jobs = [j if j.jurisdiction == jurisdiction else _with(j, jurisdiction) for j in jobs]
    return Targets(jobs, posts)


def _with(job: Job, jurisdiction: str) -> Job:
    from dataclasses import replace

    return replace(job, jurisdiction=jurisdiction)


def hashtag_watches(config: Config | None, hashtags: Sequence[str]) -> tuple[list[str], list[str]]:
    """Split ``--hashtag`` values into configured hashtag monitors (by name or tag) and plain
    campaign hashtags: with --config, ``--hashtag guacdance`` means the watch of that name."""
    if config is None:
        return [], list(hashtags)
    by_tag = {w.tag.lower().lstrip("#"): key for key, w in config.hashtags.items()}
    watches, plain = [], []
    for value in hashtags:
        bare = value.lower().lstrip("#")
        key = value if value in config.hashtags else by_tag.get(bare)
        (watches if key else plain).append(key or value)
    return watches, plain


def check_targets(
    plan: Targets,
    *,
    config: Config | None,
    packs: Any,
    writer: Writer,
    database: Database,
    record: bool,
    alerts_enabled: bool,
    progress: bool,
) -> None:
    """Fetch, check, (record) and report every job and post of ``plan``; fetch failures are
    one line each on stderr and count as errors (exit 2), the rest is still checked."""
    store = open_db(database) if record else None
    alerts = alerts_config(config, alerts_enabled) if store is not None else None
    runtime = make_runtime(config, store, packs, on_changes=on_changes_for(alerts))
    try:
        results = _run_jobs(runtime, plan.jobs, record=store is not None, progress=progress)
        for result in results:
            for verdict, item in result.verdicts:
                writer.write(verdict, _where(verdict, item))
            for error in result.errors:
                _fetch_error(writer, f"{result.key}: {error}")
        singles = [_check_post(runtime, job, url, writer, store) for job, url in plan.posts]
    finally:
        runtime.close()
    if store is not None:
        posts = sum(len(r.verdicts) for r in results) + sum(1 for s in singles if s is not None)
        opened = sum(r.opened for r in results) + sum(s.opened for s in singles if s is not None)
        fixed = sum(r.fixed for r in results) + sum(s.fixed for s in singles if s is not None)
        click.echo(
            f"compliance: recorded {posts} post{'s' if posts != 1 else ''}: "
            f"violations {opened} opened, {fixed} fixed in {store.display}",
            err=True,
        )
        deliver_alerts(store, alerts)


def _run_jobs(
    runtime: Runtime, jobs: list[Job], *, record: bool, progress: bool
) -> list[RunResult]:
    from monitors.run import check_listing

    if not jobs:
        return []
    bar = (
        click.progressbar(length=len(jobs), label="checking", file=sys.stderr) if progress else None
    )
    try:
        if bar is not None:
            bar.__enter__()
        if record:
            return runtime.run_all(
                jobs,
                keep_verdicts=True,
                save_state=False,
                on_result=(lambda _r: bar.update(1)) if bar is not None else None,
            )
        results = []
        for job in jobs:
            try:
                results.append(check_listing(job, runtime.source(job.platform), runtime.check))
            except KeyError as exc:
                raise UsageError(str(exc.args[0])) from None
            if bar is not None:
                bar.update(1)
        return results
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


def _where(verdict: Verdict, item: Fetched) -> str:
    post = verdict.post
    return post.url or f"{post.platform}:{post.id}"


def _fetch_error(writer: Writer, message: str) -> None:
    writer.error()
    click.echo(f"compliance: {terminal_safe(message)}", err=True)


def _check_post(
    runtime: Runtime, job: Job, url: str, writer: Writer, store: Store | None
) -> RecordStats | None:
    """One post by URL: fetched, checked with the job's campaign context, recorded (the
    recording's counts are returned; None when nothing was recorded)."""
    from compliance.safe import scrub_surrogates
    from compliance.store.observed import parse_posted_at
    from monitors.errors import FetchError, NotFound
    from monitors.run import prepare_post

    source = runtime.source(job.platform)
    try:
        fetched = source.post(url)
    except NotFound as exc:
        _fetch_error(writer, f"{url}: {exc}")
        if store is not None:
            # A short link's post is named by the error's target: the video it led to.
            _mark_gone_if_recorded(store, job.platform, url, source, exc.target)
        return None
    except FetchError as exc:
        _fetch_error(writer, f"{url}: {exc}")
        return None
    posted = parse_posted_at(fetched.post.posted_at)
    verdict = runtime.check(prepare_post(job, fetched, posted))
    writer.write(verdict, _where(verdict, fetched))
    if store is None:
        return None
    from compliance.store.record import Recorder

    with handled():
        recorder = Recorder(store, now=utcnow, on_changes=runtime.on_changes)
        raw = scrub_surrogates(fetched.raw) if fetched.raw else None
        recorder.add(verdict, source=url, raw_response=raw, fetched_at=utcnow())
        return recorder.close()


def _mark_gone_if_recorded(
    store: Store, platform: str, url: str, source: Any, resolved: str | None = None
) -> None:
    """A post we have on record that its platform now says is deleted: marked gone, kept.
    ``resolved`` is the post URL that ``url`` (a short link) led to, when it is not one."""
    from compliance.store.gone import mark_gone

    ref = source.post_ref(url) or (source.post_ref(resolved) if resolved else None)
    if not ref:
        return
    recorded_as = {"x": "twitter"}.get(platform, platform)
    with handled():
        gone = mark_gone(store, [(recorded_as, ref)], now=utcnow, reason=f"{url}: not found")
    if gone:
        click.echo(
            f"compliance: {terminal_safe(url)}: marked gone (its evidence is kept)", err=True
        )


# --- compliance daemon ------------------------------------------------------------------------


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        try:
            body = json.loads(message)
            if not isinstance(body, dict):
                raise ValueError
        except ValueError:
            body = {"message": message}
        return json.dumps(
            {
                "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
                "level": record.levelname.lower(),
                "pid": record.process,  # which process, with --processes
                **body,
            },
            ensure_ascii=False,
        )


def _setup_logging(fmt: str, level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s")
        )
    root = logging.getLogger("compliance")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    # Libraries log request URLs (with query strings that may carry keys) at INFO.
    for noisy in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _monitor_flips(store: Store, alerts: AlertsConfig) -> int:
    """Turn the monitors' failing/recovered flips into alerts, each exactly once: the
    outbox rows and the "notified" mark are written in one transaction."""
    from compliance.alerts import outbox
    from compliance.alerts.alert import monitor_alert
    from compliance.store.monitors import mark_monitor_events_notified, unnotified_monitor_events

    with store.write() as session:
        events = unnotified_monitor_events(session, limit=500)
        if not events:
            return 0
        claimed = set(mark_monitor_events_notified(session, [e.id for e in events], now=utcnow))
        mine = [e for e in events if e.id in claimed]
        outbox.enqueue_alerts(
            session,
            [
                monitor_alert(
                    e.key,
                    failing=e.action == "failing",
                    name=e.key,
                    platform=e.platform,
                    creator=e.key.split(":")[1] if e.key.startswith("creator:") else None,
                    failures=e.consecutive_failures,
                    error=e.error,
                    at=e.at,
                )
                for e in mine
            ],
            alerts,
            now=utcnow(),
        )
        return len(mine)


@click.command()
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="compliance.yaml: the creators, hashtags, schedules, platforms and alerts.",
)
@click.option("--db", metavar="URL", help="Database URL (overrides the config's database:).")
@click.option(
    "--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--log-level", type=click.Choice(["debug", "info", "warning"]), default="info")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Monitor runs at once (fetching overlaps; checking is one at a time).",
)
@click.option(
    "--alerts-every",
    default="15s",
    show_default=True,
    help="How often the alerts' outbox is drained.",
)
@click.option("--no-alerts", is_flag=True, help="Record, but send no alerts.")
@click.option(
    "--once",
    is_flag=True,
    help="Run every monitor once, drain the outbox and exit (for cron or a first look).",
)
@click.option(
    "--executor",
    type=click.Choice(["embedded", "celery"]),
    default="embedded",
    show_default=True,
    help="embedded: run the monitors here; celery: only enqueue them for `compliance worker`s.",
)
@click.option(
    "--broker",
    metavar="URL",
    help="Celery broker (amqp://... or redis://...; default $COMPLIANCE_BROKER_URL).",
)
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Processes running monitors on this machine (embedded executor): each runs its "
    "share of the monitors, --workers at a time. One per core.",
)
# The share of one of those processes (set by the parent, not by users).
@click.option("--shard", hidden=True, metavar="I/N")
def daemon(
    config_path: str,
    db: str | None,
    log_format: str,
    log_level: str,
    workers: int,
    alerts_every: str,
    no_alerts: bool,
    once: bool,
    executor: str,
    broker: str | None,
    processes: int,
    shard: str | None,
) -> None:
    """Run the monitors of compliance.yaml until stopped (SIGTERM/SIGINT; SIGHUP re-reads the
    file, keeping the running configuration if the new one is broken).

    One log line per run per monitor (monitor, fetched, new, edited, gone, violations
    opened/fixed/regressed, errors, duration). Exit status 2 when the configuration or
    the database cannot be read at start.

    With --processes N the monitors are split over N processes (a stable share per
    monitor), supervised by this one: a dead one is restarted; signals are passed on.
    """
    from compliance.durations import parse_duration
    from monitors.processes import parse_shard, shard_of
    from monitors.scheduler import Daemon, log_run

    config = load_config_file(config_path)
    assert config is not None
    _setup_logging(log_format, log_level)
    try:
        tick_every = parse_duration(alerts_every)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--alerts-every'") from None
    if processes > 1 and executor == "celery":
        raise click.BadParameter(
            "applies to the embedded executor; with celery, start more `compliance worker`s",
            param_hint="'--processes'",
        )
    try:
        index, shares = parse_shard(shard) if shard else (0, 1)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--shard'") from None
    store = open_db(Database(db, config.database))
    alerts = alerts_config(config, not no_alerts)
    if processes > 1 and shard is None:
        # The parent loads no rule packs (the engine's memory is in each child); a child
        # that cannot read them exits 2 at start, and so does the parent then.
        _register(store, config)
        argv = [sys.executable, "-m", "compliance.cli", "daemon", "--config", config_path]
        argv += ["--db", db] if db else []
        argv += ["--log-format", log_format, "--log-level", log_level]
        argv += ["--workers", str(workers), "--alerts-every", alerts_every]
        argv += ["--no-alerts"] if no_alerts else []
        argv += ["--once"] if once else []
        _supervise(
            [[*argv, "--shard", f"{i}/{processes}"] for i in range(processes)],
            once=once,
            flush=lambda: _alerts_tick(store, alerts, flush=True),
        )
        return
    with handled():
        packs = config.packs()
    runtime = make_runtime(
        config, store, packs, on_changes=on_changes_for(alerts), group_commit=True
    )
    if shard is None:
        _register(store, config)

    current = {"config": config}

    def load_plan() -> list[Scheduled]:
        fresh = current["config"] if not current.get("loaded") else _reload(config_path, current)
        current["loaded"] = True
        return [
            scheduled_for(m)
            for m in fresh.monitors()
            if shares == 1 or shard_of(m.key, shares) == index
        ]

    def stored_next_run(key: str) -> datetime | None:
        from compliance.store.monitors import load_monitor_state

        state = load_monitor_state(store, key)
        return state.next_run_at if state is not None else None

    def alerts_tick(flush: bool = False) -> None:
        _alerts_tick(store, alerts, flush=flush)

    # One process drains the outbox; with --processes, the first share does.
    ticks = [("alerts", tick_every, alerts_tick)] if alerts is not None and index == 0 else []
    if executor == "celery":
        runtime.close()
        _serve_celery(
            store,
            load_plan,
            stored_next_run,
            ticks,
            broker=broker,
            once=once,
            log_format=log_format,
        )
        return
    if once:
        results = runtime.run_all([s.job for s in load_plan()], workers=workers)
        for result in results:
            log_run(result, log_format)
        runtime.close()
        if shard is None:  # with --processes, the parent sends once every share is done
            with handled():
                alerts_tick(flush=True)
        sys.exit(0 if all(r.outcome in ("ok", "not_modified") for r in results) else 1)
    scheduler = Daemon(
        load_plan,
        runtime.run,
        stored_next_run=stored_next_run,
        workers=workers,
        log_format=log_format,
        now=utcnow,
        ticks=ticks,
    )
    with handled():
        scheduler.serve()
    runtime.close()


def _alerts_tick(store: Store, alerts: AlertsConfig | None, *, flush: bool = False) -> None:
    """Drain the alerts' outbox once (and turn the monitors' flips into alerts)."""
    if alerts is None:
        return
    from compliance.alerts import dispatch, outbox

    _monitor_flips(store, alerts)
    if flush:  # --once: send the groups now instead of waiting out their intervals
        with store.write() as session:
            outbox.enqueue_repeats(session, alerts, now=utcnow())
        report = dispatch.deliver(store, alerts, now=utcnow, flush=True, wait=True)
    else:
        report = dispatch.cycle(store, alerts, now=utcnow)
    if report.messages or report.failed or report.dead:
        log.info(report.summary())


def _supervise(commands: list[list[str]], *, once: bool, flush: Callable[[], None]) -> None:
    """Run the daemon's shares as child processes (``--processes``); see monitors.processes.

    ``--once``: wait for every share, then send the alerts (``flush``) and exit with
    the worst status (2 when one could not start, 1 when a monitor failed or a share
    died). Otherwise keep them running until SIGTERM/SIGINT.
    """
    from monitors.processes import Supervisor

    supervisor = Supervisor(commands)
    if not once:
        sys.exit(supervisor.serve())
    codes = supervisor.run_once()
    with handled():
        flush()
    for i, code in enumerate(codes):
        if code not in (0, 1, 2):
            log.error("daemon process %d/%d exited with status %d", i, len(codes), code)
    sys.exit(2 if 2 in codes else 1 if any(codes) else 0)


# How often the scheduler checks that it still holds its lock, and a standby tries to take it.
LOCK_POLL_SECONDS = 2.0


def _serve_celery(
    store: Store,
    load_plan: Any,
    stored_next_run: Any,
    ticks: list[Any],
    *,
    broker: str | None,
    once: bool,
    log_format: str,
) -> None:
    """The scheduler of a scale-out: under the scheduler lock, enqueue the monitor runs
    (APScheduler still decides when) and drain the alerts' outbox; the workers run them."""
    import time

    from monitors import tasks
    from monitors.lease import scheduler_lock
    from monitors.run import RunResult
    from monitors.scheduler import Daemon

    tasks.configure(tasks.app, broker=broker)
    with handled():
        lock = scheduler_lock(store.url, tasks.queue_name())
    log.info("waiting for the scheduler lock (queue %s)", tasks.queue_name())
    try:
        while not lock.try_acquire():
            time.sleep(LOCK_POLL_SECONDS)
        log.info("scheduler lock taken (queue %s): enqueuing", tasks.queue_name())

        def enqueue(job: Job, next_run: datetime | None) -> RunResult:
            try:
                task_id = tasks.enqueue(job.key, next_run, utcnow())
            except Exception as exc:  # the broker is down: one line; the next run tries again
                raise RuntimeError(f"cannot enqueue, the broker did not answer: {exc}") from None
            log.info("monitor=%s outcome=queued task=%s", job.key, task_id)
            return RunResult(job.key, outcome="queued")

        if once:
            for scheduled in load_plan():
                enqueue(scheduled.job, None)
            for _, _, tick in ticks:
                tick()
            return
        checked = [time.monotonic()]

        def lost() -> bool:
            # Checked every LOCK_POLL_SECONDS, not every 0.2 s poll of the serve loop.
            if time.monotonic() - checked[0] < LOCK_POLL_SECONDS:
                return False
            checked[0] = time.monotonic()
            if lock.held():
                return False
            log.error("scheduler lock lost (database connection gone): stopping")
            return True

        class Enqueuer(Daemon):
            def _log_run(self, result: RunResult) -> None:
                pass  # the enqueue logged its line; the worker logs the run's

        scheduler = Enqueuer(
            load_plan,
            enqueue,
            stored_next_run=stored_next_run,
            workers=2,
            log_format=log_format,
            now=utcnow,
            ticks=ticks,
        )
        with handled():
            scheduler.serve(until=lost)
        if not lock.held():
            sys.exit(1)  # a supervisor restarts it; it waits for the lock like any standby
    finally:
        lock.release()


# --- compliance worker ----------------------------------------------------------------------------


@click.command()
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="compliance.yaml: the same monitors as the daemon's (secrets from this machine's env).",
)
@click.option("--db", metavar="URL", help="Database URL (overrides the config's database:).")
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (default: the number of CPUs).",
)
@click.option(
    "--pool",
    type=click.Choice(["prefork", "threads", "solo"]),
    default="prefork",
    show_default=True,
    help="prefork: one process per run, checks use every core (the engine holds the GIL).",
)
@click.option("--broker", metavar="URL", help="Celery broker (default $COMPLIANCE_BROKER_URL).")
@click.option(
    "--redis",
    "redis_url",
    metavar="URL",
    help="Redis for the request budgets shared by all workers (default $COMPLIANCE_REDIS_URL).",
)
@click.option(
    "--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--log-level", type=click.Choice(["debug", "info", "warning"]), default="info")
@click.option("--no-alerts", is_flag=True, help="Record, but write no alerts to the outbox.")
def worker(
    config_path: str,
    db: str | None,
    concurrency: int | None,
    pool: str,
    broker: str | None,
    redis_url: str | None,
    log_format: str,
    log_level: str,
    no_alerts: bool,
) -> None:
    """Run monitor runs enqueued by `compliance daemon --executor celery` (any number of
    workers, on any machines, against one PostgreSQL database).

    A worker records and writes the alerts' outbox; the daemon holding the scheduler
    lock sends the alerts. Exit status 2 when the configuration cannot be read.
    """
    from monitors import tasks
    from monitors.budget import REDIS_ENV

    config = load_config_file(config_path)
    assert config is not None
    _setup_logging(log_format, log_level)
    with handled():
        packs = config.packs()  # loaded once, shared with the pool's children by fork
    database = Database(db, config.database)
    open_db(database).close()  # a bad URL or an unreachable database: one line, exit 2
    alerts = alerts_config(config, not no_alerts)
    jobs_by_key = {m.key: job_for(m) for m in config.monitors()}
    if redis_url:
        os.environ[REDIS_ENV] = redis_url  # read by monitors.http in every child

    def build() -> Any:
        store = open_db(database)
        runtime = make_runtime(config, store, packs, on_changes=on_changes_for(alerts))
        return tasks.WorkerContext(runtime, jobs_by_key)

    tasks.install(build)
    tasks.configure(tasks.app, broker=broker)
    argv = ["worker", f"--pool={pool}", f"--queues={tasks.queue_name()}"]
    argv += [f"--loglevel={log_level.upper()}", "--without-gossip", "--without-mingle"]
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    tasks.app.worker_main(argv)


def _reload(path: str, current: dict[str, Any]) -> Config:
    """Read compliance.yaml again (SIGHUP); raises on a broken file so the daemon keeps the old."""
    from compliance.config import load_config

    fresh = load_config(path)
    current["config"] = fresh
    return fresh


def _register(store: Store, config: Config) -> None:
    """Every configured monitor gets a state row, so `status` lists those that have not run."""
    from compliance.store.monitors import MonitorSpec, ensure_monitors

    specs = [
        MonitorSpec(m.key, m.kind, m.platform, m.target, m.schedule.max_failures)
        for m in config.monitors()
    ]
    with handled():
        ensure_monitors(store, specs, now=utcnow)


# --- compliance status ----------------------------------------------------------------------------


@click.command()
@click.argument("monitor", required=False)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@db_option
def status(monitor: str | None, fmt: str, db: Database) -> None:
    """Every monitor: last run, outcome, posts, next run, consecutive failures and cursor;
    with MONITOR (a key), that monitor's recent runs. Never shows a secret."""
    from compliance.store.monitor_view import runs_text, status_text
    from compliance.store.monitors import list_monitor_states, monitor_runs

    store = open_db(db)
    with handled():
        if monitor is not None:
            runs = monitor_runs(store, monitor)
            if fmt == "json":
                click.echo(json.dumps([_run_dict(r) for r in runs], indent=2, ensure_ascii=True))
            else:
                click.echo(runs_text(runs), nl=False)
            return
        states = list_monitor_states(store)
    if fmt == "json":
        click.echo(json.dumps([s.as_dict() for s in states], indent=2, ensure_ascii=True))
    else:
        click.echo(status_text(states, now=utcnow()), nl=False)


def _run_dict(run: Any) -> dict[str, Any]:
    return {
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat(),
        "outcome": run.outcome,
        "counts": run.counts.as_dict(),
        "error_kind": run.error_kind,
        "error": run.error,
    }


COMMANDS: list[click.Command] = [daemon, status]

__all__ = [
    "COMMANDS",
    "Targets",
    "check_targets",
    "hashtag_watches",
    "plan_targets",
]
