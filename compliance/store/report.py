"""``compliance report``: the record as one self-contained HTML page, or Markdown for tickets.

What it shows, for posts posted (or, without a post time, first seen) in the period:
the compliance rate (compliant / sponsored: posts whose verdict is ``compliant``
or ``violation``) over time and per creator, platform and campaign; the most
frequent problems (violations found in the period, by rule); then every
unresolved violation with the caption excerpt and the offending span marked; and
the fixes and regressions of the period.

The HTML has no scripts and loads nothing: charts are inline SVG drawn by the
template from the geometry computed here. Captions, handles and brand names are
attacker-controlled, so the HTML template runs with autoescaping and the Markdown
one with a finaliser that escapes every interpolated value.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from compliance.excerpt import Excerpt
from compliance.excerpt import excerpt as cut_excerpt
from compliance.safe import defuse_references, document_safe, terminal_safe
from compliance.store.models import (
    UNRESOLVED,
    Account,
    CampaignRow,
    CaptionVersion,
    PostRow,
    Violation,
    ViolationEvent,
)
from compliance.store.queries import campaign_ids, iso
from compliance.timeparse import timestamp_or_none

FORMATS = ("html", "md")
RATED = ("compliant", "violation")
TOP = 12  # rows per breakdown chart
EXCERPT = 60  # characters of context each side of a marked span


@dataclass(frozen=True)
class Group:
    """Counts for one creator, platform, campaign or period."""

    label: str
    compliant: int = 0
    violation: int = 0
    other: int = 0  # needs_review and not_sponsored posts

    @property
    def sponsored(self) -> int:
        return self.compliant + self.violation

    @property
    def rate(self) -> float | None:
        """Compliant share of sponsored posts, or None when there were none."""
        return self.compliant / self.sponsored if self.sponsored else None

    @property
    def percent(self) -> str:
        """The rate as shown: ``85%``, or ``–`` without sponsored posts."""
        rate = self.rate
        return "–" if rate is None else f"{round(100 * rate)}%"


@dataclass
class ReportData:
    """Everything the templates show."""

    generated_at: str
    since: str | None
    database: str
    total: Group
    granularity: str
    over_time: list[Group]
    by_creator: list[Group]
    by_platform: list[Group]
    by_campaign: list[Group]
    problems: list[tuple[str, str, int]]
    unresolved: list[dict[str, Any]]
    unresolved_total: int
    fixes: list[dict[str, Any]]
    regressions: list[dict[str, Any]]
    charts: dict[str, Any] = field(default_factory=dict)
    # How many creators, platforms and campaigns there were before the top TOP were kept.
    totals: dict[str, int] = field(default_factory=dict)
    # The campaign the report is limited to (``report --campaign``), as asked.
    campaign: str | None = None


# --- Collecting ------------------------------------------------------------------------------


def _day(session: Session, column: Any) -> ColumnElement[Any]:
    """The UTC calendar day of a timestamp column, as 'YYYY-MM-DD' text."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.date(column)  # SQLite stores UTC text, 'YYYY-MM-DD HH:MM:SS...'


def _bucket(day: date, granularity: str) -> date:
    if granularity == "week":
        return day - timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    return day


def _periods(first: date, last: date, granularity: str) -> list[date]:
    """Every period from ``first`` to ``last``: empty ones too, so that time runs evenly."""
    out = [first]
    while out[-1] < last:
        d = out[-1]
        if granularity == "month":
            out.append(date(d.year + d.month // 12, d.month % 12 + 1, 1))
        else:
            out.append(d + timedelta(days=7 if granularity == "week" else 1))
    return out


def _grouped(counts: dict[str, Counter[str]], *, top: int | None = TOP) -> list[Group]:
    groups = [
        Group(
            label,
            c["compliant"],
            c["violation"],
            sum(n for k, n in c.items() if k not in RATED),
        )
        for label, c in counts.items()
    ]
    # Worst first: the most violations, then the most posts.
    groups.sort(key=lambda g: (-g.violation, -(g.sponsored + g.other), g.label))
    return groups[:top] if top else groups


def campaign_label(name: str | None, brand: str | None) -> str | None:
    """How the report names a campaign: ``glowlab-spring (GlowLab)``, just the name or
    the brand when it has only one of them, None when it has neither."""
    if name and brand and name != brand:
        return f"{name} ({brand})"
    return name or brand or None


def excerpt(caption: str, span: list[int] | None) -> Excerpt:
    """The caption around ``span`` (or its start when there is no span)."""
    return cut_excerpt(caption, span, EXCERPT)


def collect(
    session: Session,
    *,
    since: datetime | None,
    now: Callable[[], datetime],
    database: str,
    limit: int = 200,
    campaign: str | None = None,
) -> ReportData:
    """Gather the report's numbers and lists from the record.

    ``campaign``: only the posts of that campaign (its name in compliance.yaml, or a
    brand for every campaign of the brand, as ``violations list --campaign``)."""
    at = now()
    when = func.coalesce(PostRow.posted_at, PostRow.first_seen)
    of_campaign = [PostRow.campaign_id.in_(campaign_ids(campaign))] if campaign else []
    in_period = [when >= since, *of_campaign] if since is not None else of_campaign

    # Per day x verdict, then per creator / platform / campaign x verdict: all in SQL.
    day = _day(session, when).label("day")
    per_day: dict[str, Counter[str]] = defaultdict(Counter)
    for row in session.execute(
        select(day, PostRow.verdict, func.count()).where(*in_period).group_by(day, PostRow.verdict)
    ):
        per_day[row[0]][row[1]] += row[2]

    def by(column: Any, *joins: Any) -> dict[str, Counter[str]]:
        stmt = select(column, PostRow.verdict, func.count()).select_from(PostRow)
        for target, on in joins:
            stmt = stmt.outerjoin(target, on)
        out: dict[str, Counter[str]] = defaultdict(Counter)
        for label, verdict, n in session.execute(
            stmt.where(*in_period).group_by(column, PostRow.verdict)
        ):
            out[label if label is not None else "(unknown)"][verdict] += n
        return out

    by_creator = by(
        func.coalesce(Account.handle, PostRow.author), (Account, Account.id == PostRow.account_id)
    )
    by_platform = by(PostRow.platform)
    # Per campaign: by its name where it has one (two campaigns of one brand are two
    # groups), else by its brand (inline campaigns of one brand are one). Posts without
    # a campaign, and campaigns with neither name nor brand, are not counted.
    by_campaign: dict[str, Counter[str]] = defaultdict(Counter)
    for name, brand, verdict, n in session.execute(
        select(CampaignRow.name, CampaignRow.brand, PostRow.verdict, func.count())
        .select_from(PostRow)
        .join(CampaignRow, CampaignRow.id == PostRow.campaign_id)
        .where(*in_period)
        .group_by(CampaignRow.name, CampaignRow.brand, PostRow.verdict)
    ):
        label = campaign_label(name, brand)
        if label is not None:
            by_campaign[label][verdict] += n

    total_counts: Counter[str] = Counter()
    for counts in per_day.values():
        total_counts.update(counts)
    total = _grouped({"all": total_counts}, top=None)[0] if total_counts else Group("all")

    days = sorted(date.fromisoformat(d) for d in per_day if d)
    span = (days[-1] - days[0]).days if days else 0
    granularity = "day" if span <= 45 else "week" if span <= 400 else "month"
    buckets: dict[date, Counter[str]] = defaultdict(Counter)
    for d, counts in per_day.items():
        if d:
            buckets[_bucket(date.fromisoformat(d), granularity)].update(counts)
    periods = _periods(min(buckets), max(buckets), granularity) if buckets else []
    over_time = [
        Group(
            b.isoformat(),
            buckets[b]["compliant"],
            buckets[b]["violation"],
            sum(buckets[b].values()) - buckets[b]["compliant"] - buckets[b]["violation"],
        )
        for b in periods
    ]

    problems_stmt = (
        select(Violation.rule, Violation.code, func.count())
        .join(PostRow, PostRow.id == Violation.post_id)
        .where(*of_campaign)
        .group_by(Violation.rule, Violation.code)
        .order_by(func.count().desc(), Violation.rule)
        .limit(TOP)
    )
    if since is not None:
        problems_stmt = problems_stmt.where(Violation.opened_at >= since)
    problems = [(r, c, n) for r, c, n in session.execute(problems_stmt)]

    unresolved_where = Violation.status.in_(UNRESOLVED)
    unresolved_total = session.execute(
        select(func.count())
        .select_from(Violation)
        .join(PostRow, PostRow.id == Violation.post_id)
        .where(unresolved_where, *of_campaign)
    ).scalar_one()
    unresolved = []
    for row in session.execute(
        select(
            Violation.id,
            Violation.status,
            Violation.rule,
            Violation.code,
            Violation.opened_at,
            Violation.acked_by,
            Violation.finding,
            PostRow.platform,
            func.coalesce(PostRow.platform_post_id, PostRow.post_key).label("post"),
            func.coalesce(Account.handle, PostRow.author).label("creator"),
            PostRow.url,
            PostRow.gone_at,
            CaptionVersion.caption,
        )
        .join(PostRow, PostRow.id == Violation.post_id)
        .outerjoin(Account, Account.id == PostRow.account_id)
        .join(CaptionVersion, CaptionVersion.id == Violation.version_id)
        .where(unresolved_where, *of_campaign)
        .order_by(Violation.opened_at.desc(), Violation.id.desc())
        .limit(limit)
    ):
        finding = row.finding or {}
        unresolved.append(
            {
                "id": row.id,
                "status": row.status,
                "rule": row.rule,
                "code": row.code,
                "opened_at": iso(row.opened_at),
                "acked_by": row.acked_by,
                "platform": row.platform,
                "post": row.post,
                "creator": row.creator,
                "url": row.url,
                "gone_at": iso(row.gone_at),
                "message": finding.get("message", ""),
                "excerpt": excerpt(row.caption, finding.get("span")),
            }
        )

    def events(action: str) -> list[dict[str, Any]]:
        stmt = (
            select(
                ViolationEvent.violation_id,
                ViolationEvent.at,
                ViolationEvent.version_id,
                Violation.rule,
                PostRow.platform,
                func.coalesce(PostRow.platform_post_id, PostRow.post_key).label("post"),
                func.coalesce(Account.handle, PostRow.author).label("creator"),
            )
            .join(Violation, Violation.id == ViolationEvent.violation_id)
            .join(PostRow, PostRow.id == Violation.post_id)
            .outerjoin(Account, Account.id == PostRow.account_id)
            .where(
                and_(
                    ViolationEvent.action == action,
                    *([ViolationEvent.at >= since] if since is not None else []),
                    *of_campaign,
                )
            )
            .order_by(ViolationEvent.at.desc(), ViolationEvent.id.desc())
            .limit(limit)
        )
        return [
            {
                "violation": r.violation_id,
                "at": iso(r.at),
                "version": r.version_id,
                "rule": r.rule,
                "platform": r.platform,
                "post": r.post,
                "creator": r.creator,
            }
            for r in session.execute(stmt)
        ]

    data = ReportData(
        generated_at=iso(at) or "",
        since=iso(since),
        campaign=campaign,
        database=database,
        total=total,
        granularity=granularity,
        over_time=over_time,
        by_creator=_grouped(by_creator),
        by_platform=_grouped(by_platform),
        by_campaign=_grouped(by_campaign),
        problems=problems,
        unresolved=unresolved,
        unresolved_total=int(unresolved_total),
        fixes=events("fixed"),
        regressions=events("regressed"),
        totals={
            "by_creator": len(by_creator),
            "by_platform": len(by_platform),
            "by_campaign": len(by_campaign),
        },
    )
    data.charts = {
        "over_time": line_chart(data.over_time),
        "by_creator": bar_chart(data.by_creator),
        "by_platform": bar_chart(data.by_platform),
        "by_campaign": bar_chart(data.by_campaign),
        "problems": count_chart([(f"{r} {c}", n) for r, c, n in data.problems]),
    }
    return data


# --- Chart geometry (the template draws it) ---------------------------------------------------

WIDTH = 720
ROW = 22
LABEL_W = 250


def line_chart(groups: list[Group], height: int = 220) -> dict[str, Any]:
    """Compliance rate per period as points (periods without sponsored posts are gaps),
    with the number of sponsored posts as bars behind it."""
    left, right, top, bottom = 48, 16, 12, 36
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    n = len(groups)
    step = plot_w / max(n, 1)
    peak = max((g.sponsored for g in groups), default=0) or 1
    points, bars = [], []
    for i, g in enumerate(groups):
        x = left + step * (i + 0.5)
        bar_h = plot_h * g.sponsored / peak
        bars.append(
            {
                "x": round(x - step * 0.35, 1),
                "y": round(top + plot_h - bar_h, 1),
                "w": round(max(step * 0.7, 1), 1),
                "h": round(bar_h, 1),
                "label": g.label,
                "n": g.sponsored,
            }
        )
        if g.rate is not None:
            points.append(
                {
                    "x": round(x, 1),
                    "y": round(top + plot_h * (1 - g.rate), 1),
                    "label": g.label,
                    "rate": round(100 * g.rate),
                    "n": g.sponsored,
                }
            )
    path = " ".join(f"{p['x']},{p['y']}" for p in points)
    ticks = [{"y": round(top + plot_h * (1 - v / 100), 1), "label": f"{v}%"} for v in (0, 50, 100)]
    # Label every k-th day or week so that labels (~7 px a character) never overlap.
    longest = max((len(g.label) for g in groups), default=1)
    every = max(1, math.ceil((7 * longest + 12) / max(step, 1)))
    xlabels = [
        {"x": round(left + step * (i + 0.5), 1), "label": g.label}
        for i, g in enumerate(groups)
        if i % every == 0
    ]
    return {
        "width": WIDTH,
        "height": height,
        "left": left,
        "right": WIDTH - right,
        "top": top,
        "bottom": top + plot_h,
        "points": points,
        "path": path,
        "bars": bars,
        "ticks": ticks,
        "xlabels": xlabels,
        "peak": peak,
    }


def bar_chart(groups: list[Group]) -> dict[str, Any]:
    """One stacked bar per group, compliant then violating posts, scaled to the largest;
    posts that are not sponsored are only counted in the tooltip (they would dwarf the rest)."""
    plot_w = WIDTH - LABEL_W - 70
    peak = max((g.sponsored for g in groups), default=0) or 1
    rows = []
    for i, g in enumerate(groups):
        y = i * ROW
        ok, bad = plot_w * g.compliant / peak, plot_w * g.violation / peak
        rows.append(
            {
                "y": y,
                "label": g.label,
                "rate": None if g.rate is None else round(100 * g.rate),
                "compliant": g.compliant,
                "violation": g.violation,
                "other": g.other,
                "x1": LABEL_W,
                "w1": round(ok, 1),
                "x2": round(LABEL_W + ok, 1),
                "w2": round(bad, 1),
                "end": round(LABEL_W + ok + bad + 6, 1),
            }
        )
    return {"width": WIDTH, "height": max(ROW * len(rows), ROW), "rows": rows, "label_w": LABEL_W}


def count_chart(items: list[tuple[str, int]]) -> dict[str, Any]:
    """One bar per item, scaled to the largest count."""
    plot_w = WIDTH - LABEL_W - 70
    peak = max((n for _, n in items), default=0) or 1
    rows = [
        {
            "y": i * ROW,
            "label": label,
            "n": n,
            "x": LABEL_W,
            "w": round(plot_w * n / peak, 1),
            "end": round(LABEL_W + plot_w * n / peak + 6, 1),
        }
        for i, (label, n) in enumerate(items)
    ]
    return {"width": WIDTH, "height": max(ROW * len(rows), ROW), "rows": rows, "label_w": LABEL_W}


# --- Rendering ---------------------------------------------------------------------------------

# Inline markup characters; block markup (lists, headings) cannot start mid-line.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~!#])")


def md_escape(value: object) -> str:
    """A value safe inside Markdown text and table cells: no markup, no HTML, one line, and
    no mention or issue reference that would ping or link when pasted into a tracker."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    text = defuse_references(str(value))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = re.sub(r"[\r\n\t\u2028\u2029]+", " ", text)
    # Escape sequences (ESC ] 0; ... BEL, ESC [2J) must not reach a terminal that shows
    # the file, and bidi overrides must not reorder it.
    text = terminal_safe(text)
    return _MD_SPECIAL.sub(r"\\\1", text)


def _html_finalize(value: object) -> object:
    """Every {{ value }} of the HTML report: plain strings made document-safe (autoescape
    then escapes them for HTML); markup the templates built themselves is left alone."""
    import markupsafe

    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return document_safe(value)
    return value


def when(value: str | None) -> str:
    """An ISO timestamp as people read it in a report: '2026-11-05 14:00 UTC'."""
    if not value:
        return ""
    parsed = timestamp_or_none(value)
    return parsed.strftime("%Y-%m-%d %H:%M UTC") if parsed is not None else str(value)


def _environment(fmt: str) -> Any:
    import jinja2

    if fmt == "html":
        env = jinja2.Environment(
            loader=jinja2.PackageLoader("compliance.store", "templates"),
            autoescape=True,
            # Captions carry control characters and bidi overrides: HTML escaping leaves
            # them raw (invalid HTML, and an escape sequence for whoever cats the file).
            finalize=_html_finalize,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
    else:
        # Markdown: every {{ value }} passes through md_escape; |safe-like opt-outs do not exist.
        env = jinja2.Environment(
            loader=jinja2.PackageLoader("compliance.store", "templates"),
            autoescape=False,
            finalize=md_escape,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
    env.filters["when"] = when
    return env


def render(data: ReportData, fmt: str = "html") -> str:
    """The report as HTML (one self-contained page) or Markdown."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r} (choose from {', '.join(FORMATS)})")
    template = _environment(fmt).get_template(f"report.{fmt}.j2")
    return template.render(r=data)
