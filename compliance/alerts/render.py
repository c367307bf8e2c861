"""Messages from a group of alerts: subject, plain text, HTML, Slack Block Kit, webhook JSON.

Pure: values in, values out; no clock, network or environment. Captions, creator
and brand names are attacker-controlled and are escaped for where they go:

* HTML: Jinja2 autoescaping (``templates/email.html.j2``);
* Slack ``mrkdwn``: ``&``, ``<`` and ``>`` become ``&amp;``, ``&lt;``, ``&gt;``, as
  Slack documents, so ``<!channel>``, ``<@U123>`` or ``<http://x|y>`` in a caption
  neither ping nor link; the header is ``plain_text`` (shown as written);
* email headers and plain text: control characters (newlines included, in a
  subject) are removed, so nothing can start a header of its own;
* Slack's limits (50 blocks a message, 3000 characters a section, 150 a header)
  are kept by splitting a digest over several messages and listing at most
  ``digest_limit`` alerts, with a line saying how many more there are.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from types import SimpleNamespace
from typing import Any

import jinja2

SLACK_MAX_BLOCKS = 50
SLACK_MAX_SECTION = 3000
SLACK_MAX_HEADER = 150
SLACK_MAX_CONTEXT = 2000
# Caption shown around the offending span (characters either side).
EXCERPT_CONTEXT = 120
# Controls (newline and tab kept) and the bidi overrides and isolates that can make a
# caption read differently from its characters in a mail client or in Slack.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_HEADER_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")
_HTTP_URL = re.compile(r"^https?://[^\s<>|\"'\\]+$", re.IGNORECASE)
_TITLES = {
    "opened": "New violation",
    "regressed": "Violation is back",
    "fixed": "Fixed",
    "monitor_failing": "Monitor failing",
    "monitor_recovered": "Monitor recovered",
}
# A digest subject's counts: (one, many).
_TALLY = {
    "opened": ("new violation", "new violations"),
    "regressed": ("violation back", "violations back"),
    "fixed": ("fixed", "fixed"),
    "monitor_failing": ("monitor failing", "monitors failing"),
    "monitor_recovered": ("monitor recovered", "monitors recovered"),
}


@dataclass(frozen=True)
class Item:
    """One alert inside a message: its payload and labels, and why it is sent (first,
    changed, repeat)."""

    payload: Mapping[str, Any]
    labels: Mapping[str, str]
    reason: str = "first"
    key: str = ""  # per-alert dedup key for webhook receivers


@dataclass(frozen=True)
class Group:
    """What goes into one message: a receiver's group of alerts."""

    receiver: str
    group_key: str
    group_labels: Mapping[str, str]
    items: tuple[Item, ...]
    idempotency_key: str


@dataclass(frozen=True)
class Message:
    """A group, rendered for any transport. Each form (text, HTML, Slack) is rendered
    when a transport first asks for it: a webhook needs none of them."""

    group: Group
    digest_limit: int = 50

    @cached_property
    def subject(self) -> str:
        return subject(self.group)

    @cached_property
    def _views(self) -> list[dict[str, Any]]:
        return [_view(it) for it in self.group.items[: self.digest_limit]]

    @property
    def more(self) -> int:
        """Alerts in the group beyond ``digest_limit`` (counted, not listed)."""
        return max(0, len(self.group.items) - self.digest_limit)

    @cached_property
    def _context(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            # Attributes, not keys: Jinja tries getattr first, and a failed one is costly.
            "items": [SimpleNamespace(**v) for v in self._views],
            "more": self.more,
            "count": len(self.group.items),
            "group_labels": {k: clean(v) for k, v in self.group.group_labels.items() if v},
        }

    @cached_property
    def text(self) -> str:
        return _env().get_template("email.txt.j2").render(self._context)

    @cached_property
    def html(self) -> str:
        return _env().get_template("email.html.j2").render(self._context)

    @cached_property
    def slack(self) -> tuple[dict[str, Any], ...]:
        """One dict (``text`` fallback + ``blocks``) per Slack post."""
        return slack_messages(self.subject, self._views, self.more)

    @property
    def idempotency_key(self) -> str:
        return self.group.idempotency_key

    def webhook_body(self) -> dict[str, Any]:
        """The webhook's JSON: data, not markup (the receiver escapes for its own use)."""
        return {
            "version": 1,
            "receiver": self.group.receiver,
            "group_key": self.group.group_key,
            "group_labels": dict(self.group.group_labels),
            "idempotency_key": self.group.idempotency_key,
            "subject": self.subject,
            "alerts": [
                {"key": it.key, "reason": it.reason, "labels": dict(it.labels), **dict(it.payload)}
                for it in self.group.items
            ],
        }


def idempotency_key(receiver: str, change_keys: Sequence[tuple[str, str]]) -> str:
    """The same alerts to the same receiver always get the same key (a resend after a
    crash carries the key of the first attempt)."""
    text = json.dumps([receiver, sorted(change_keys)], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def alert_key(receiver: str, subject: str, change_key: str) -> str:
    """One alert's key for one receiver (stable across resends)."""
    return hashlib.sha256(f"{receiver}\n{subject}\n{change_key}".encode()).hexdigest()[:32]


# --- text helpers -----------------------------------------------------------------------


def clean(text: Any) -> str:
    """Text without control characters (newlines and tabs kept)."""
    return _CONTROL.sub("", "" if text is None else str(text))


def header_safe(text: Any, limit: int = 200) -> str:
    """One line for an email header or a title: control characters (CR/LF too) become
    spaces, runs of space collapse, long text is cut with an ellipsis."""
    one = re.sub(r"\s+", " ", _HEADER_CONTROL.sub(" ", "" if text is None else str(text))).strip()
    return one if len(one) <= limit else one[: limit - 1].rstrip() + "…"


def slack_escape(text: Any) -> str:
    """Text for Slack ``mrkdwn``: the three characters Slack says to escape."""
    return clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit(text: str, limit: int) -> str:
    """Cut escaped text to ``limit`` characters without leaving half an entity behind."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    cut = re.sub(r"&[a-z]{0,4}$", "", cut)
    return cut + "…"


@dataclass(frozen=True)
class Excerpt:
    """The caption around the offending span: before, the span itself, after."""

    before: str
    marked: str
    after: str


def excerpt(caption: str, span: Sequence[int] | None, context: int = EXCERPT_CONTEXT) -> Excerpt:
    """The part of the caption worth showing, with the offending span separated out."""
    caption = clean(caption)
    if not span or len(span) != 2 or not 0 <= span[0] <= span[1] <= len(caption):
        whole = caption if len(caption) <= 2 * context else caption[: 2 * context] + "…"
        return Excerpt(whole, "", "")
    start, end = span
    before = caption[max(0, start - context) : start]
    after = caption[end : end + context]
    if start - context > 0:
        before = "…" + before
    if end + context < len(caption):
        after += "…"
    return Excerpt(before, caption[start:end], after)


# --- the view model -----------------------------------------------------------------------


def _who(p: Mapping[str, Any]) -> str:
    return str(p.get("creator") or p.get("monitor") or "someone")


def what(item: Item) -> str:
    """Who and what: ``@maya on tiktok: ambiguous-disclosure (FTC.C201)``."""
    p = item.payload
    if p.get("kind") == "monitor":
        where = f" ({p.get('platform')})" if p.get("platform") else ""
        return f"{p.get('monitor')}{where}"
    problem = p.get("name") or p.get("code") or p.get("rule")
    return f"{_who(p)} on {p.get('platform')}: {problem} ({p.get('rule')})"


def headline(item: Item) -> str:
    """One line: what happened, to whom, which problem (``New violation: @maya on ...``)."""
    return f"{_TITLES.get(item.payload.get('event', ''), 'Alert')}: {what(item)}"


def _view(item: Item) -> dict[str, Any]:
    p = item.payload
    view: dict[str, Any] = {
        "headline": clean(headline(item)),
        "what": clean(what(item)),
        "event": p.get("event"),
        "title": _TITLES.get(p.get("event", ""), "Alert"),
        "reason": item.reason,
        "monitor": p.get("kind") == "monitor",
    }
    if view["monitor"]:
        view.update(
            failures=p.get("failures"),
            error=clean(p.get("error") or ""),
            name=clean(p.get("monitor")),
        )
        return view
    vid = p.get("violation_id")
    url = p.get("url") or ""
    view.update(
        violation_id=vid,
        rule=clean(p.get("rule")),
        name=clean(p.get("name") or p.get("code")),
        creator=clean(p.get("creator") or ""),
        brand=clean(p.get("brand") or ""),
        platform=clean(p.get("platform")),
        message=clean(p.get("message") or ""),
        fix=clean(p.get("fix") or ""),
        source=clean(p.get("source") or ""),
        url=url if _HTTP_URL.match(url) else "",
        url_text=clean(url),
        excerpt=excerpt(p.get("caption") or "", p.get("span")),
        commands=(
            [
                f"compliance violations show {vid}",
                f'compliance violations ack {vid} --by YOU --note "creator contacted"',
                f'compliance violations waive {vid} --by YOU --reason "..." --until YYYY-MM-DD',
            ]
            if p.get("event") in ("opened", "regressed")
            else [f"compliance violations show {vid}"]
        ),
    )
    view["commands_text"] = "\n".join("$ " + c for c in view["commands"])
    return view


def subject(group: Group) -> str:
    """The email subject / Slack header: the creator and the problem, or a digest's count."""
    items = group.items
    if len(items) == 1:
        return header_safe("[compliance] " + headline(items[0]))
    events: dict[str, int] = {}
    for it in items:
        events[it.payload.get("event", "")] = events.get(it.payload.get("event", ""), 0) + 1
    tally = ", ".join(f"{n} {_TALLY.get(e, (e, e))[n != 1]}" for e, n in sorted(events.items()))
    whom = ", ".join(v for v in group.group_labels.values() if v)
    return header_safe(f"[compliance] {len(items)} alerts{' for ' + whom if whom else ''}: {tally}")


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("compliance.alerts", "templates"),
        autoescape=jinja2.select_autoescape(["html", "html.j2"], default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def render(group: Group, *, digest_limit: int = 50) -> Message:
    """The message for one group (its forms are rendered on first use)."""
    return Message(group, digest_limit)


# --- Slack Block Kit ---------------------------------------------------------------------


def _slack_item(view: dict[str, Any]) -> list[dict[str, Any]]:
    lines = [f"*{slack_escape(view['headline'])}*"]
    if view["monitor"]:
        lines.append(
            f"{view['failures']} fetches in a row failed"
            if view["event"] == "monitor_failing"
            else "fetching works again"
        )
        if view.get("error"):
            lines.append(f"last error: {slack_escape(view['error'])}")
        context = [f"monitor {slack_escape(view['name'])}"]
    else:
        ex: Excerpt = view["excerpt"]
        quoted = (
            slack_escape(ex.before)
            + (f"*{slack_escape(ex.marked)}*" if ex.marked else "")
            + slack_escape(ex.after)
        )
        lines.append("> " + fit(quoted, 1200).replace("\n", "\n> "))
        for label, key in (("", "message"), ("Fix: ", "fix")):
            if view.get(key):
                lines.append(fit(label + slack_escape(view[key]), 600))
        if view.get("url"):
            lines.append(f"<{slack_escape(view['url'])}|open the post>")
        context = [
            f"{slack_escape(view['rule'])} · violation {view['violation_id']}",
            fit(slack_escape(view["source"]), 600) if view.get("source") else "",
            "`" + slack_escape(view["commands"][-1 if len(view["commands"]) == 1 else 1]) + "`",
        ]
    return [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": fit("\n".join(lines), SLACK_MAX_SECTION)},
        },
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": fit(c, SLACK_MAX_CONTEXT)} for c in context if c
            ][:10],
        },
    ]


def slack_messages(
    title: str, views: Sequence[dict[str, Any]], more: int
) -> tuple[dict[str, Any], ...]:
    """One or more Slack posts (``text`` fallback + ``blocks``), each within Slack's limits."""
    header = {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": header_safe(title, SLACK_MAX_HEADER),
            "emoji": False,
        },
    }
    posts: list[list[dict[str, Any]]] = [[header]]
    for view in views:
        blocks = _slack_item(view)
        if len(posts[-1]) + len(blocks) + 1 > SLACK_MAX_BLOCKS:
            posts.append([])
        if len(posts[-1]) > 1:
            posts[-1].append({"type": "divider"})
        posts[-1].extend(blocks)
    if more:
        note = {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"…and {more} more: `compliance violations list --status open`",
            },
        }
        if len(posts[-1]) + 1 > SLACK_MAX_BLOCKS:
            posts.append([])
        posts[-1].append(note)
    total = len(posts)
    return tuple(
        {
            "text": fit(slack_escape(title) + (f" ({i + 1}/{total})" if total > 1 else ""), 3000),
            "blocks": blocks,
        }
        for i, blocks in enumerate(posts)
    )
