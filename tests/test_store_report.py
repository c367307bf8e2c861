"""The report: numbers, charts, a page that loads nothing, and captions that cannot inject."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

from store_helpers import (
    AMBIGUOUS,
    COMPLIANT,
    FALL,
    MISSING,
    NOT_SPONSORED,
    SPRING,
    record,
    verdict,
)

from compliance import Campaign
from compliance.store.db import open_store
from compliance.store.report import campaign_label, collect, excerpt, md_escape, render

EVIL_CAPTION = (
    "Loving my new serum from @glowlab! Use code MAYA15 <script>alert('caption')</script> #sp"
)
EVIL_AUTHOR = "<img src=x onerror=alert(1)>"
EVIL_BRAND = "</title><script>alert('brand')</script>"


def seeded(db_url, clock):
    store = open_store(db_url)
    campaign = Campaign(brand=EVIL_BRAND, handles=("@glowlab",), relationship="paid")
    record(
        store,
        [
            verdict(EVIL_CAPTION, id="tt-1", author=EVIL_AUTHOR, campaign=campaign),
            verdict(COMPLIANT, id="tt-2", posted_at="2026-11-01T10:00:00Z"),
            verdict(MISSING, id="ig-1", platform="instagram", posted_at="2026-10-29T10:00:00Z"),
            verdict(NOT_SPONSORED, id="tt-3", posted_at="2026-10-01T10:00:00Z"),
        ],
        clock,
    )
    clock.advance(hours=1)
    record(store, [verdict(COMPLIANT, id="ig-1", platform="instagram")], clock)  # a fix
    return store


def html_of(store, clock, since=None) -> str:
    with store.read() as s:
        return render(collect(s, since=since, now=clock, database=store.display), "html")


def test_numbers_per_period_creator_platform_and_campaign(db_url, clock):
    store = seeded(db_url, clock)
    with store.read() as s:
        data = collect(s, since=None, now=clock, database="db")
    # Sponsored: tt-1 (violation), tt-2 (compliant), ig-1 (compliant since its fix).
    assert (data.total.compliant, data.total.violation, data.total.other) == (2, 1, 1)
    assert data.total.percent == "67%"
    assert {g.label: (g.compliant, g.violation) for g in data.by_platform} == {
        "tiktok": (1, 1),
        "instagram": (1, 0),
    }
    assert [g.label for g in data.by_campaign] == [EVIL_BRAND]
    assert data.by_creator[0].label == creator_of(EVIL_AUTHOR)
    # Every day from the first post to the last, empty days included.
    assert data.granularity == "day"
    assert data.over_time[0].label == "2026-10-01" and data.over_time[-1].label == "2026-11-02"
    assert len(data.over_time) == 33
    assert [(p[0], p[2]) for p in data.problems] == [("FTC.C201", 1), ("FTC.D101", 1)]
    assert [v["post"] for v in data.unresolved] == ["tt-1"] and data.unresolved_total == 1
    assert [f["post"] for f in data.fixes] == ["ig-1"] and data.regressions == []


def creator_of(author: str) -> str:
    from compliance.store.observed import creator_handle

    return creator_handle(author)


def test_since_limits_the_posts_counted(db_url, clock):
    store = seeded(db_url, clock)
    since = datetime(2026, 10, 30, tzinfo=timezone.utc)
    with store.read() as s:
        data = collect(s, since=since, now=clock, database="db")
    assert (data.total.compliant, data.total.violation, data.total.other) == (1, 1, 0)
    assert data.over_time[0].label == "2026-11-01"


def test_html_is_self_contained_with_charts_and_escapes_attacker_text(db_url, clock):
    store = seeded(db_url, clock)
    page = html_of(store, clock)
    assert "<script" not in page  # not one: no scripts of ours, none of theirs
    assert "&lt;script&gt;alert(&#39;caption&#39;)&lt;/script&gt;" in page
    assert "&lt;/title&gt;&lt;script&gt;alert(&#39;brand&#39;)" in page
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    # Nothing is loaded from anywhere: no src/href attributes, a CSP that forbids it.
    tags = parse_tags(page)
    assert {name for name, _ in tags} <= ALLOWED_TAGS
    assert [a for _, attrs in tags for a in attrs if a[0] in ("src", "href", "action")] == []
    assert any(
        a == ("content", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
        for _, attrs in tags
        for a in attrs
    )
    # The charts: well-formed inline SVG, one per section.
    svgs = re.findall(r"<svg\b.*?</svg>", page, re.S)
    labels = [ET.fromstring(svg).get("aria-label") for svg in svgs]
    assert labels == [
        "Compliance rate per day",
        "Posts per creator",
        "Posts per platform",
        "Posts per campaign",
        "Violations per rule",
    ]
    # The offending span is marked in the excerpt of the open violation.
    assert "<mark>#sp</mark>" in page


ALLOWED_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "h1",
    "h2",
    "p",
    "div",
    "b",
    "span",
    "svg",
    "g",
    "text",
    "rect",
    "line",
    "polyline",
    "circle",
    "table",
    "tr",
    "th",
    "td",
    "br",
    "mark",
}


def parse_tags(page: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Every start tag of the page with its attributes, as a browser's tokenizer sees them."""
    from html.parser import HTMLParser

    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

        handle_startendtag = handle_starttag

    Collector().feed(page)
    return found


def test_empty_record_still_renders(db_url, clock):
    store = open_store(db_url)
    page = html_of(store, clock)
    assert "No posts in this period." in page and "Nothing unresolved." in page
    with store.read() as s:
        md = render(collect(s, since=None, now=clock, database="db"), "md")
    assert "Nothing unresolved." in md


def test_markdown_escapes_captions_and_keeps_tables_intact(db_url, clock):
    store = open_store(db_url)
    # The markup sits right before the span, inside the excerpt the report shows.
    caption = AMBIGUOUS[:-3] + "|x| **bold** [link](http://evil) <b>hi</b>\nnew line #sp"
    record(store, [verdict(caption, author="@a|b")], clock)
    with store.read() as s:
        md = render(collect(s, since=None, now=clock, database="db"), "md")
    row = next(line for line in md.splitlines() if "FTC.C201" in line and "bold" in line)
    unescaped_pipes = len(re.findall(r"(?<!\\)\|", row))
    assert unescaped_pipes == 6  # 5 cells, all from the template
    assert "\\*\\*bold\\*\\*" in row and "\\[link\\]" in row and "&lt;b&gt;" in row
    assert "**\\#sp**" in row  # the span, in bold
    assert "new line" in row  # the line break did not end the row


def test_md_escape_and_excerpt():
    assert md_escape("a|b*c_d`e") == "a\\|b\\*c\\_d\\`e"
    assert md_escape(None) == "" and md_escape(3) == "3"
    caption = "x" * 100 + "#sp" + "y" * 100
    e = excerpt(caption, [100, 103])
    assert e.marked == "#sp" and e.before.startswith("…") and e.after.endswith("…")
    assert excerpt("short", None).before == "short"


def test_weekly_buckets_for_longer_periods(db_url, clock):
    store = open_store(db_url)
    start = datetime(2026, 1, 5, tzinfo=timezone.utc)  # a Monday
    record(
        store,
        [
            verdict(AMBIGUOUS, id=f"p{i}", posted_at=(start + timedelta(days=10 * i)).isoformat())
            for i in range(10)
        ],
        clock,
    )
    with store.read() as s:
        data = collect(s, since=None, now=clock, database="db")
    assert data.granularity == "week"
    assert data.over_time[0].label == "2026-01-05"
    assert all(
        (datetime.fromisoformat(b.label) - datetime.fromisoformat(a.label)).days == 7
        for a, b in zip(data.over_time, data.over_time[1:], strict=False)
    )
    assert sum(g.violation for g in data.over_time) == 10


def test_campaigns_are_grouped_by_name_and_unnamed_ones_by_brand(db_url, clock):
    """GlowLab spring and GlowLab fall are two campaigns; two inline GlowLab campaigns
    (different content, no name) stay one group, as before names were kept."""
    store = open_store(db_url)
    inline = Campaign(brand="GlowLab", handles=("@glowlab",), relationship="paid")
    record(
        store,
        [
            verdict(AMBIGUOUS, id="tt-1", campaign=SPRING),
            verdict(COMPLIANT, id="tt-2", campaign=SPRING),
            verdict(AMBIGUOUS, id="tt-3", campaign=FALL),
            verdict(COMPLIANT, id="tt-4", campaign=inline),
            verdict(COMPLIANT, id="tt-5", campaign=Campaign(brand="GlowLab", relationship="paid")),
            verdict(COMPLIANT, id="tt-6"),  # no campaign: not a campaign group
        ],
        clock,
    )
    with store.read() as s:
        data = collect(s, since=None, now=clock, database="db")
    assert {g.label: (g.compliant, g.violation) for g in data.by_campaign} == {
        "glowlab-spring (GlowLab)": (1, 1),
        "glowlab-fall (GlowLab)": (0, 1),
        "GlowLab": (2, 0),
    }
    assert data.totals["by_campaign"] == 3
    page = render(data, "html")
    campaigns = page.split('id="campaigns"', 1)[1].split("<h2", 1)[0]
    for label, rate in (
        ("glowlab-spring (GlowLab)", "50%"),
        ("glowlab-fall (GlowLab)", "0%"),
        ("GlowLab", "100%"),
    ):
        assert f">{label}</text>" in campaigns and f"<title>{label}: " in campaigns
        assert rate in campaigns
    md = render(data, "md")
    table = md.split("### Per campaign", 1)[1].split("###", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "rate" not in line]
    assert rows == [
        "| glowlab-spring (GlowLab) | 50% | 1 | 1 | 0 |",
        "| glowlab-fall (GlowLab) | 0% | 0 | 1 | 0 |",
        "| GlowLab | 100% | 2 | 0 | 0 |",
    ]


def test_a_report_limited_to_one_campaign_counts_and_lists_only_its_posts(db_url, clock):
    store = open_store(db_url)
    record(
        store,
        [
            verdict(AMBIGUOUS, id="tt-1", campaign=SPRING),
            verdict(COMPLIANT, id="tt-2", campaign=SPRING),
            verdict(AMBIGUOUS, id="tt-3", campaign=FALL),
            verdict(MISSING, id="tt-4"),  # no campaign
        ],
        clock,
    )
    with store.read() as s:
        spring = collect(s, since=None, now=clock, database="db", campaign="glowlab-spring")
        brand = collect(s, since=None, now=clock, database="db", campaign="glowlab")
        everything = collect(s, since=None, now=clock, database="db")
    assert (spring.total.compliant, spring.total.violation) == (1, 1)
    assert [v["post"] for v in spring.unresolved] == ["tt-1"] and spring.unresolved_total == 1
    assert sum(n for _, _, n in spring.problems) == 1
    assert [g.label for g in spring.by_campaign] == ["glowlab-spring (GlowLab)"]
    assert (brand.total.compliant, brand.total.violation) == (1, 2)
    assert sorted(v["post"] for v in brand.unresolved) == ["tt-1", "tt-3"]
    assert everything.unresolved_total == 3 and everything.campaign is None
    assert "campaign glowlab-spring only" in render(spring, "md")
    assert "campaign glowlab-spring only" in render(spring, "html")


def test_campaign_label():
    assert campaign_label("glowlab-spring", "GlowLab") == "glowlab-spring (GlowLab)"
    assert campaign_label("glowlab", "glowlab") == "glowlab"
    assert campaign_label("hashtag-push", None) == "hashtag-push"
    assert campaign_label(None, "GlowLab") == "GlowLab"
    assert campaign_label(None, None) is None
