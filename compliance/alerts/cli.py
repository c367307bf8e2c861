"""``compliance alerts``: test a receiver, test the routes, look at and retry the outbox,
send what is due, manage silences.

The seam for the wiring: register with ``main.add_command(alerts)``. The commands get
their config and store from a loader, ``load(config_path) -> (AlertsConfig, Store)``:
by default :func:`load` (the ``alerts:`` section of the YAML file, the database from
``$COMPLIANCE_DATABASE_URL`` or the default); the main command may put its own in
``ctx.meta[LOAD]`` (and a clock in ``ctx.meta[NOW]``, for tests). Errors are one line
on stderr with exit status 2.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import NoReturn

import click

from compliance.alerts import outbox, routing, silences
from compliance.alerts.config import AlertsConfig, SecretMissing, parse_alerts
from compliance.alerts.grouping import group_key
from compliance.alerts.matchers import LABELS, Matcher, MatcherError
from compliance.alerts.receivers import Factories, transport_for
from compliance.alerts.render import Group, Item, clean, header_safe, render
from compliance.durations import parse_until
from compliance.store.db import Store, StoreError, open_store

LOAD = "compliance.alerts.load"
NOW = "compliance.alerts.now"
CONFIG_PATH = "compliance.alerts.config_path"
DEFAULT_CONFIG = "compliance.yaml"
EXIT_ERROR = 2

Loader = Callable[[str | None], tuple[AlertsConfig, Store]]


def load(config_path: str | None) -> tuple[AlertsConfig, Store]:
    """The default loader: compliance.yaml's ``alerts:`` section, and the database it names
    (``$COMPLIANCE_DATABASE_URL`` still wins, as for every command)."""
    from compliance.config import load_config

    config = load_config(Path(config_path or DEFAULT_CONFIG))
    if not config.alerts:
        raise AlertsConfigMissing(f"{config.path}: no alerts: section (see docs/config.md)")
    alerts_config = parse_alerts(config.alerts_document(), "alerts")
    return alerts_config, open_store(config.database_url(None))


class AlertsConfigMissing(ValueError):
    """The configuration file has no ``alerts:`` section."""


def _fail(message: str) -> NoReturn:
    click.echo(f"compliance: error: {header_safe(message, 1000)}", err=True)
    sys.exit(EXIT_ERROR)


@contextmanager
def _errors() -> Iterator[None]:
    """User errors (config, database, bad matcher, unknown id) as one line, exit 2."""
    from compliance.yamlfile import YamlError as PackError

    try:
        yield
    except (
        PackError,
        AlertsConfigMissing,
        StoreError,
        SecretMissing,
        MatcherError,
        outbox.OutboxError,
        silences.SilenceError,
    ) as exc:
        _fail(str(exc))


def _context(ctx: click.Context) -> tuple[AlertsConfig, Store, datetime]:
    loader: Loader = ctx.meta.get(LOAD, load)
    now: Callable[[], datetime] = ctx.meta.get(NOW, lambda: datetime.now(timezone.utc))
    with _errors():
        config, store = loader(ctx.meta.get(CONFIG_PATH))
    return config, store, now()


@click.group("alerts")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help=f"the file with the alerts: section (default: ./{DEFAULT_CONFIG})",
)
@click.pass_context
def alerts(ctx: click.Context, config_path: str | None) -> None:
    """Alerts: receivers, routes, the outbox and silences."""
    if config_path is not None or CONFIG_PATH not in ctx.meta:
        ctx.meta[CONFIG_PATH] = config_path


@alerts.command("test")
@click.option("--receiver", "name", required=True, help="the receiver to send a sample alert to")
@click.pass_context
def test_receiver(ctx: click.Context, name: str) -> None:
    """Send a sample alert to a receiver now (not through the outbox)."""
    config, _store, now = _context(ctx)
    if name not in config.receivers:
        _fail(f"no receiver named {name!r} (configured: {', '.join(sorted(config.receivers))})")
    sample = {
        "kind": "violation",
        "violation_id": 0,
        "event": "opened",
        "at": now.isoformat(),
        "rule": "FTC.C201",
        "name": "ambiguous-disclosure (test alert)",
        "code": "ambiguous_disclosure",
        "message": "This is a test alert from 'compliance alerts test'.",
        "fix": "Nothing to fix: this receiver works.",
        "source": "compliance",
        "span": [45, 48],
        "caption": "Loving my new serum from @glowlab! #skincare #sp",
        "url": None,
        "creator": "@test",
        "platform": "tiktok",
    }
    group = Group(
        name, "test", {}, (Item(sample, {"creator": "@test"}),), f"test-{now.timestamp():.0f}"
    )
    transport = transport_for(config.receivers[name], os.environ, Factories())
    [outcome] = transport.send([render(group, digest_limit=config.delivery.digest_limit)])
    if not outcome.ok:
        _fail(f"receiver {name}: {outcome.error}")
    click.echo(f"sent a test alert to {name}")


@alerts.group("routes")
def routes() -> None:
    """Debug the routing tree."""


@routes.command("test")
@click.argument("labels", nargs=-1, required=True)
@click.pass_context
def routes_test(ctx: click.Context, labels: tuple[str, ...]) -> None:
    """Which receivers would get an alert with these labels (name=value ...), and why."""
    given: dict[str, str] = {}
    for text in labels:
        name, sep, value = text.partition("=")
        if not sep or name not in LABELS:
            _fail(f"not a label: {text!r} (write name=value with a name from {', '.join(LABELS)})")
        given[name] = value
    given.setdefault("event", "opened")
    given.setdefault("level", "violation")
    config, _store, _now = _context(ctx)
    for step in routing.trace(config.route, given):
        r = step.route
        mark = "*" if step.took else ("+" if step.matched else "-")
        matchers = " ".join(str(m) for m in r.matchers) or "(everything)"
        click.echo(
            f"{'  ' * step.depth}{mark} route {r.id} [{r.where}] {clean(matchers)} -> {r.receiver}"
        )
    click.echo("")
    for leaf in routing.receivers(config.route, given):
        click.echo(
            f"{leaf.receiver}: route {leaf.id}, group {clean(group_key(leaf, given))}, "
            f"group_wait {leaf.group_wait}, group_interval {leaf.group_interval}, "
            f"repeat_interval {leaf.repeat_interval}"
        )


@alerts.command("pending")
@click.option("--limit", type=click.IntRange(min=0), default=100, show_default=True, help="0: all")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_context
def pending(ctx: click.Context, limit: int, fmt: str) -> None:
    """The outbox: queued, sending, retrying and dead alerts (and why)."""
    _config, store, _now = _context(ctx)
    with _errors(), store.read() as session:
        rows = outbox.pending(session, limit=limit)
        counts = outbox.counts(session)
    if fmt == "json":
        for row in rows:
            click.echo(
                json.dumps(
                    {
                        "id": row.id,
                        "status": row.status,
                        "receiver": row.receiver,
                        "event": row.event,
                        "subject": row.subject,
                        "tries": row.tries,
                        "due_at": row.due_at.isoformat(),
                        "reason": row.reason,
                        "labels": row.summary,
                    },
                    ensure_ascii=False,
                )
            )
        return
    if not rows:
        click.echo("the outbox is empty")
        return
    for row in rows:
        reason = f"  ({header_safe(row.reason, 300)})" if row.reason else ""
        click.echo(
            f"{row.id:>8}  {row.status:<8}  {clean(row.receiver)}  {row.event}  {row.subject}  "
            f"{header_safe(row.summary, 200)}  tries {row.tries}  due {row.due_at:%Y-%m-%d %H:%M:%S}Z{reason}"
        )
    click.echo(", ".join(f"{n} {status}" for status, n in sorted(counts.items())))


@alerts.command("retry")
@click.argument("outbox_id", type=int)
@click.pass_context
def retry(ctx: click.Context, outbox_id: int) -> None:
    """Send a dead (or retrying) alert again at the next send."""
    _config, store, now = _context(ctx)
    with _errors(), store.write() as session:
        outbox.retry(session, outbox_id, now=now)
    click.echo(f"alert {outbox_id} will be sent again ('compliance alerts send', or the daemon)")


@alerts.command("send")
@click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="wait for Retry-After (delivery.max_wait)",
)
@click.pass_context
def send(ctx: click.Context, wait: bool) -> None:
    """Send everything queued now, without waiting out group_wait."""
    from compliance.alerts.dispatch import deliver

    config, store, _now = _context(ctx)
    clock: Callable[[], datetime] = ctx.meta.get(NOW, lambda: datetime.now(timezone.utc))
    with _errors():
        report = deliver(store, config, now=clock, flush=True, wait=wait)
    click.echo(report.summary(), err=True)


@alerts.group("silence")
def silence() -> None:
    """Silences: alerts matching them are not sent until they expire."""


def _silence_line(s: silences.Silence, now: datetime) -> str:
    state = "active" if s.active(now) else ("expired" if s.expires_at <= now else "pending")
    matchers = " ".join(str(m) for m in s.matchers)
    by = f" (expired by {clean(s.expired_by)})" if s.expired_by else ""
    return (
        f"{s.id:>5}  {state:<7}  {header_safe(matchers, 300)}  until {s.expires_at:%Y-%m-%d %H:%M}Z  "
        f"by {header_safe(s.author, 100)}: {header_safe(s.comment, 300)}{by}"
    )


@silence.command("add")
@click.argument("matchers", nargs=-1, required=True)
@click.option("--author", required=True, help="who is adding it")
@click.option("--comment", required=True, help="why")
@click.option("--until", "until", default=None, help="when it ends: 7d, 12h or a date (inclusive)")
@click.option("--duration", default=None, help="alias of --until for durations, e.g. 2h")
@click.pass_context
def silence_add(
    ctx: click.Context,
    matchers: tuple[str, ...],
    author: str,
    comment: str,
    until: str | None,
    duration: str | None,
) -> None:
    """Silence alerts matching every MATCHER (name=value, name!=value, name=~regex, name!~regex)."""
    if (until is None) == (duration is None):
        _fail("say how long: --until 2026-12-31 or --duration 7d")
    _config, store, now = _context(ctx)
    with _errors():
        parsed = [Matcher.parse(m) for m in matchers]
        try:
            expires = parse_until(until or duration or "", now)
        except ValueError as exc:
            _fail(f"--until: {exc}")
        with store.write() as session:
            added = silences.add(
                session,
                parsed,
                author=author,
                comment=comment,
                starts_at=now,
                expires_at=expires,
                now=now,
            )
    click.echo(_silence_line(added, now))


@silence.command("list")
@click.option("--expired", is_flag=True, help="include expired silences")
@click.pass_context
def silence_list(ctx: click.Context, expired: bool) -> None:
    """Active (and future) silences."""
    _config, store, now = _context(ctx)
    with _errors(), store.read() as session:
        found = silences.listing(session, now, include_expired=expired)
    if not found:
        click.echo("no silences")
    for s in found:
        click.echo(_silence_line(s, now))


@silence.command("expire")
@click.argument("silence_id", type=int)
@click.option("--by", "by", required=True, help="who is ending it")
@click.pass_context
def silence_expire(ctx: click.Context, silence_id: int, by: str) -> None:
    """End a silence now (it stays on record)."""
    _config, store, now = _context(ctx)
    with _errors(), store.write() as session:
        ended = silences.expire(session, silence_id, by=by, now=now)
    click.echo(_silence_line(ended, now))
