"""Messages: what they say, and that attacker-controlled text is escaped for each medium."""

from __future__ import annotations

import re

from compliance.alerts.render import (
    SLACK_MAX_BLOCKS,
    SLACK_MAX_HEADER,
    SLACK_MAX_SECTION,
    Group,
    Item,
    excerpt,
    fit,
    header_safe,
    render,
    slack_escape,
)

EVIL_CAPTION = (
    "Hey <!channel> and <!here> <@U123ABC> see <#C0001> <http://evil.example|click me> "
    "& <script>alert(1)</script> love @glowlab #sp"
)


def payload(caption=EVIL_CAPTION, creator="@maya", event="opened", vid=17, **extra):
    span = [caption.index("#sp"), caption.index("#sp") + 3] if "#sp" in caption else None
    return {
        "kind": "violation",
        "violation_id": vid,
        "event": event,
        "rule": "FTC.C201",
        "name": "ambiguous-disclosure",
        "code": "ambiguous_disclosure",
        "message": "'#sp' is not a clear disclosure <b>",
        "fix": "Replace '#sp' with '#ad'",
        "source": "FTC, Disclosures 101 (2019)",
        "span": span,
        "caption": caption,
        "url": "https://www.tiktok.com/@maya/video/1",
        "creator": creator,
        "brand": "GlowLab",
        "platform": "tiktok",
        **extra,
    }


def group(*payloads, labels=None):
    return Group(
        receiver="r",
        group_key="0:{}",
        group_labels=labels or {"creator": "@maya"},
        items=tuple(Item(p, {"creator": p.get("creator") or ""}) for p in payloads),
        idempotency_key="k",
    )


def slack_texts(message):
    for post in message.slack:
        for block in post["blocks"]:
            if "text" in block and block["text"]["type"] == "mrkdwn":
                yield block["text"]["text"]
            for element in block.get("elements", []):
                yield element["text"]


def test_single_alert_names_creator_and_problem_and_shows_the_span():
    message = render(group(payload()))
    assert (
        message.subject
        == "[compliance] New violation: @maya on tiktok: ambiguous-disclosure (FTC.C201)"
    )
    assert "»#sp«" in message.text
    assert "Fix: Replace '#sp' with '#ad'" in message.text
    assert "compliance violations ack 17 --by YOU" in message.text
    assert '<mark style="' in message.html and ">#sp</mark>" in message.html
    assert 'href="https://www.tiktok.com/@maya/video/1"' in message.html


def test_html_escapes_captions_creators_and_messages():
    message = render(group(payload(creator='@x"><img src=x onerror=alert(1)>')))
    assert (
        "<script>" not in message.html and "&lt;script&gt;alert(1)&lt;/script&gt;" in message.html
    )
    assert "<img" not in message.html and "<b>" not in message.html


def test_a_javascript_url_is_not_linked():
    message = render(group(payload(url="javascript:alert(1)")))
    assert 'href="javascript' not in message.html
    assert not any("javascript" in t and "|open the post>" in t for t in slack_texts(message))


def test_slack_mrkdwn_neither_pings_nor_links():
    message = render(group(payload(creator="<!everyone>")))
    for text in slack_texts(message):
        assert not re.search(r"<[!@#]", text), text
        assert "<http://evil" not in text
    joined = "\n".join(slack_texts(message))
    assert "&lt;!channel&gt;" in joined and "&lt;@U123ABC&gt;" in joined and "&amp;" in joined
    assert "<https://www.tiktok.com/@maya/video/1|open the post>" in joined
    header = message.slack[0]["blocks"][0]
    assert header["type"] == "header" and header["text"]["type"] == "plain_text"


def test_slack_limits_hold_for_huge_digests_and_captions():
    items = [payload(caption="&<>" * 3000 + " #sp", vid=i) for i in range(200)]
    message = render(group(*items), digest_limit=120)
    assert len(message.slack) > 1
    for post in message.slack:
        assert len(post["blocks"]) <= SLACK_MAX_BLOCKS
        for block in post["blocks"]:
            if block["type"] == "header":
                assert len(block["text"]["text"]) <= SLACK_MAX_HEADER
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= SLACK_MAX_SECTION
                assert not re.search(r"&[a-z]{0,3}…", block["text"]["text"])  # no half entity
    assert "…and 80 more" in message.slack[-1]["blocks"][-1]["text"]["text"]
    assert "…and 80 more" in message.text


def test_headers_have_no_control_characters():
    assert header_safe("a\r\nBcc: evil@example.com\x00") == "a Bcc: evil@example.com"
    assert len(header_safe("x" * 500)) == 200
    message = render(group(payload(creator="@maya\r\nBcc: evil@example.com")))
    assert "\n" not in message.subject and "\r" not in message.subject


def test_excerpt_and_fit():
    ex = excerpt("a" * 300 + "#sp" + "b" * 300, [300, 303], context=10)
    assert (ex.before, ex.marked, ex.after) == ("…" + "a" * 10, "#sp", "b" * 10 + "…")
    assert excerpt("short", None).before == "short"
    assert fit(slack_escape("&" * 10), 12) == "&amp;&amp;…"


def test_fixed_and_monitor_notices():
    fixed = render(group(payload(event="fixed", span=None, message=None, fix=None)))
    assert fixed.subject.startswith("[compliance] Fixed: @maya")
    assert "ack" not in fixed.text
    monitor = {
        "kind": "monitor",
        "event": "monitor_failing",
        "monitor": "maya-tiktok",
        "platform": "tiktok",
        "failures": 5,
        "error": "rate limited <!here>",
    }
    message = render(group(monitor))
    assert message.subject == "[compliance] Monitor failing: maya-tiktok (tiktok)"
    assert "5 fetches in a row failed" in message.text
    assert "&lt;!here&gt;" in "\n".join(slack_texts(message))


def test_digest_subject_counts_events():
    message = render(group(payload(vid=1), payload(vid=2), payload(vid=3, event="fixed")))
    assert message.subject == "[compliance] 3 alerts for @maya: 1 fixed, 2 new violations"
