"""``compliance violations list|show|ack|waive|export``: the recorded violations.

Thin click commands over :mod:`compliance.store`. Exit status: 0 done, 2 usage or
database error (one line on stderr, never a traceback, never a password).
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from compliance.cli.database import expire, open_db, since_option_value, utcnow
from compliance.cli.errors import fail, handled
from compliance.cli.options import Database, db_option, open_output, output_option
from compliance.report import excerpt
from compliance.safe import csv_safe, terminal_safe

ALL = "all"


def _statuses(given: tuple[str, ...], default: tuple[str, ...]) -> tuple[str, ...]:
    if not given:
        return default
    return () if ALL in given else tuple(dict.fromkeys(given))


def _filter_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    from compliance.model import PLATFORMS
    from compliance.store.status import STATUSES

    for option in reversed(
        [
            click.option(
                "--status",
                "statuses",
                multiple=True,
                type=click.Choice([*STATUSES, ALL]),
                help="Only violations with this status (repeatable; 'all' for every status).",
            ),
            click.option("--creator", help="Only this creator's posts (handle, e.g. @maya)."),
            click.option("--platform", type=click.Choice(PLATFORMS), help="Only this platform."),
            click.option("--rule", help="Only this rule, e.g. FTC.C201."),
            click.option(
                "--campaign",
                help="Only posts of this campaign: its name in compliance.yaml "
                "(e.g. glowlab-spring), or a brand for all its campaigns.",
            ),
            click.option(
                "--since",
                help="Only violations first found since then: 7d, 12h, 2w, or a date (UTC).",
            ),
        ]
    ):
        fn = option(fn)
    return fn


def _make_filter(
    statuses: tuple[str, ...],
    creator: str | None,
    platform: str | None,
    rule: str | None,
    campaign: str | None,
    since: str | None,
    *,
    default: tuple[str, ...],
    now: datetime,
) -> Any:
    from compliance.store.queries import ViolationFilter

    return ViolationFilter(
        statuses=_statuses(statuses, default),
        creator=creator,
        platform=platform,
        rule=rule,
        since=since_option_value(since, now),
        campaign=campaign,
    )


# --- violations ------------------------------------------------------------------------------


@click.group()
def violations() -> None:
    """List, inspect, acknowledge, waive and export recorded violations.

    Statuses: open, notified, fixed, regressed, waived. Acknowledging ('ack') is
    not a status: it records who has seen a violation, on top of its status.
    """


@violations.command("list")
@_filter_options
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=100,
    show_default=True,
    help="Show at most this many, newest first (0: all).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text", show_default=True
)
@db_option
def violations_list(
    statuses: tuple[str, ...],
    creator: str | None,
    platform: str | None,
    rule: str | None,
    campaign: str | None,
    since: str | None,
    limit: int,
    fmt: str,
    db: Database,
) -> None:
    """Violations, newest first; by default the unresolved ones (open, notified, regressed)."""
    from compliance.store.queries import LIST_COLUMNS, count_violations, list_violations
    from compliance.store.status import UNRESOLVED

    now = utcnow()
    f = _make_filter(
        statuses, creator, platform, rule, campaign, since, default=UNRESOLVED, now=now
    )
    store = open_db(db)
    with handled():
        expire(store, now)
        with store.read() as session:
            rows = list_violations(session, f, limit=limit or None)
            total = len(rows) if not limit or len(rows) < limit else count_violations(session, f)
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif fmt == "csv":
        _write_csv(sys.stdout, LIST_COLUMNS, rows)
    else:
        click.echo(_list_text(rows, total), nl=False)


def _short_time(value: str | None) -> str:
    """'2026-11-05T14:03:07.123Z' → '2026-11-05 14:03'."""
    return (value or "")[:16].replace("T", " ")


def _list_text(rows: list[dict[str, Any]], total: int) -> str:
    if not rows:
        return "no violations\n"
    table = [
        [
            str(r["id"]),
            r["status"] + ("*" if r["acked_by"] else "") + (" gone" if r.get("gone_at") else ""),
            r["rule"],
            r["platform"],
            terminal_safe(r["creator"] or "-"),
            terminal_safe(r["post"] or "-"),
            _short_time(r["opened_at"]),
            terminal_safe(repr(r["text"])) if r["text"] else "",
        ]
        for r in rows
    ]
    head = ["ID", "STATUS", "RULE", "PLATFORM", "CREATOR", "POST", "OPENED (UTC)", "TEXT"]
    widths = [max(len(row[i]) for row in [head, *table]) for i in range(len(head) - 1)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1]
        for row in [head, *table]
    ]
    lines = [line.rstrip() for line in lines]
    foot = f"{len(rows)} violation{'s' if len(rows) != 1 else ''}"
    if total > len(rows):
        foot = f"{len(rows)} of {total} violations shown (--limit 0 for all)"
    if any(r["acked_by"] for r in rows):
        foot += "; * acknowledged"
    return "\n".join([*lines, foot]) + "\n"


def _write_csv(out: Any, columns: Iterable[str], rows: Iterable[dict[str, Any]]) -> None:
    """CSV with every cell protected against formula injection (compliance.safe.csv_safe)."""
    columns = list(columns)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_safe("" if row[c] is None else row[c]) for c in columns])


@violations.command("show")
@click.argument("violation_id", type=int)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--evidence",
    "evidence_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write an evidence bundle (JSON, caption files, SHA256SUMS) into this new directory.",
)
@db_option
def violations_show(violation_id: int, fmt: str, evidence_dir: Path | None, db: Database) -> None:
    """One violation: the post, its caption versions, the finding, the evidence and the history."""
    from importlib.metadata import version

    from compliance.store.evidence import write_bundle
    from compliance.store.queries import violation_detail

    now = utcnow()
    store = open_db(db)
    with handled():
        expire(store, now)
        with store.read() as session:
            detail = violation_detail(session, violation_id)
            if detail is None:
                fail(f"no violation {violation_id}")
            written = None
            if evidence_dir is not None:
                written = write_bundle(
                    session,
                    violation_id,
                    evidence_dir,
                    now=lambda: now,
                    database=store.display,
                    tool_version=version("compliance"),
                )
    if fmt == "json":
        click.echo(json.dumps(detail, ensure_ascii=False, indent=2))
    else:
        click.echo(_show_text(detail), nl=False)
    if written is not None:
        click.echo(
            f"evidence: {len(written)} files written to {terminal_safe(str(evidence_dir))} "
            "(verify: sha256sum -c SHA256SUMS)",
            err=True,
        )


def _show_text(d: dict[str, Any]) -> str:
    post = d["post"]
    finding = d["finding"] or {}
    status = d["status"]
    if d["waiver"]:
        w = d["waiver"]
        status += f" by {w['by']} until {w['until'] or 'further notice'}: {w['reason']}"
    if d["acked"]:
        status += f" (acknowledged by {d['acked']['by']} at {_short_time(d['acked']['at'])})"
    lines = [
        f"violation {d['id']}: {status}",
        f"rule: {d['rule']} {finding.get('name', '')} ({d['code']})",
        f"post: {post['platform']} {post['platform_id'] or post['key']}"
        + (f" by {post['author']}" if post["author"] else "")
        + (f", posted {_short_time(post['posted_at'])} UTC" if post["posted_at"] else ""),
    ]
    if post["url"]:
        lines.append(f"  url: {post['url']}")
    if post.get("gone_at"):
        lines.append(f"  gone since {_short_time(post['gone_at'])} UTC (evidence kept)")
    if d["campaign"]:
        lines += _campaign_lines(d["campaign"])
    lines.append(f"  verdict now: {post['verdict']} [{post['pack']}]")
    violating = next((v for v in d["versions"] if v["id"] == d["version_id"]), None)
    lines.append(f"finding: {finding.get('message', '')}")
    if violating and finding.get("span"):
        text, marker = excerpt(violating["caption"], tuple(finding["span"]))
        lines += [f"    | {text}", f"    | {marker}"]
    if finding.get("fix"):
        lines.append(f"  fix: {finding['fix']}")
    if finding.get("source"):
        lines.append(f"  source: {finding['source']}")
    lines.append("caption versions:")
    for v in d["versions"]:
        marks = [
            m
            for m, on in (
                ("current", v["current"]),
                ("violated", v["violated"]),
                ("fixed it", v["fixed"]),
            )
            if on
        ]
        verdicts = ", ".join(
            c["verdict"] + (" (breaks the rule)" if c["breaks_rule"] else "") for c in v["checks"]
        )
        lines.append(
            f"  v{v['id']} sha256:{v['sha256'][:16]}  seen {_short_time(v['first_seen'])}"
            f" .. {_short_time(v['last_seen'])}  {verdicts}"
            + (f"  [{', '.join(marks)}]" if marks else "")
        )
        caption = v["caption"] if len(v["caption"]) <= 160 else v["caption"][:159] + "…"
        lines.append(f"      {caption!r}")
        if v["source"]:
            lines.append(f"      source: {v['source']}")
    lines.append("history:")
    for e in d["history"]:
        change = (
            f"{e['from_status'] or '-'} -> {e['to_status']}"
            if e["from_status"] != e["to_status"]
            else ""
        )
        extra = [
            f"version v{e['version_id']}" if e["version_id"] else "",
            f"until {e['until']}" if e["until"] else "",
            repr(e["note"]) if e["note"] else "",
        ]
        lines.append(
            f"  {_short_time(e['at'])}  {e['actor']}  {e['action']}  {change}  "
            + "  ".join(x for x in extra if x)
        )
    return "\n".join(terminal_safe(line.rstrip()) for line in lines) + "\n"


def _campaign_lines(c: dict[str, Any]) -> list[str]:
    """``campaign: glowlab-spring: GlowLab (paid)``, then its dates and jurisdictions
    when compliance.yaml gave them (an inline campaign has only brand and relationship)."""
    named = f"{c['name']}: " if c.get("name") else ""
    lines = [
        f"  campaign: {named}{c['brand'] or '-'} ({c['relationship'] or 'relationship unknown'})"
    ]
    starts, ends = c.get("starts"), c.get("ends")
    if starts or ends:
        runs = (
            f"{starts} to {ends}"
            if starts and ends
            else f"from {starts}"
            if starts
            else f"until {ends}"
        )
        lines.append(f"    runs {runs}")
    if c.get("jurisdictions"):
        lines.append(f"    jurisdictions: {', '.join(c['jurisdictions'])}")
    return lines


@violations.command("ack")
@click.argument("violation_id", type=int)
@click.option("--by", required=True, help="Who acknowledges it, e.g. ana@brand.com.")
@click.option("--note", help="What is being done about it.")
@db_option
def violations_ack(violation_id: int, by: str, note: str | None, db: Database) -> None:
    """Record that a person has seen a violation (its status does not change)."""
    from compliance.store.lifecycle import acknowledge

    store = open_db(db)
    with handled(), store.write() as session:
        v = acknowledge(session, violation_id, by=by, note=note, now=utcnow)
        status = v.status
    click.echo(f"violation {violation_id} acknowledged by {terminal_safe(by)} (status: {status})")


@violations.command("waive")
@click.argument("violation_id", type=int)
@click.option("--by", required=True, help="Who accepts it, e.g. legal@brand.com.")
@click.option("--reason", required=True, help="Why it is acceptable.")
@click.option(
    "--until",
    help="Until when: a date (through the end of that day, UTC), a date-time, or 30d; "
    "default: no expiry.",
)
@db_option
def violations_waive(
    violation_id: int, by: str, reason: str, until: str | None, db: Database
) -> None:
    """Accept a violation, with who, why and until when; an expired waiver reopens it."""
    from compliance.durations import parse_until
    from compliance.store.lifecycle import waive

    now = utcnow()
    expires = None
    if until is not None:
        try:
            expires = parse_until(until, now)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="'--until'") from None
    store = open_db(db)
    with handled(), store.write() as session:
        waive(session, violation_id, by=by, reason=reason, until=expires, now=lambda: now)
    shown = f"until {expires.isoformat().replace('+00:00', 'Z')}" if expires else "with no expiry"
    click.echo(f"violation {violation_id} waived by {terminal_safe(by)} {shown}")


@violations.command("export")
@_filter_options
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json", "jsonl"]), default="csv", show_default=True
)
@output_option
@db_option
def violations_export(
    statuses: tuple[str, ...],
    creator: str | None,
    platform: str | None,
    rule: str | None,
    campaign: str | None,
    since: str | None,
    fmt: str,
    output: str,
    db: Database,
) -> None:
    """Every violation (every status unless --status) with its caption and finding, oldest first.

    CSV cells are protected against formula injection, so the file is safe to open
    in a spreadsheet.
    """
    from compliance.store.queries import EXPORT_COLUMNS, export_violations

    now = utcnow()
    f = _make_filter(statuses, creator, platform, rule, campaign, since, default=(), now=now)
    store = open_db(db)
    with handled():
        expire(store, now)
        with store.read() as session, open_output(output) as out:
            rows = export_violations(session, f)
            if fmt == "csv":
                _write_csv(out, EXPORT_COLUMNS, rows)
            elif fmt == "jsonl":
                for row in rows:
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
            else:
                out.write("[")
                for n, row in enumerate(rows):
                    out.write(("\n" if n == 0 else ",\n") + json.dumps(row, ensure_ascii=False))
                out.write("\n]\n")
