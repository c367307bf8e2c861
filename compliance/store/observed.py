"""What recording knows about one checked post before it touches the database.

A checked post's identity (platform and post key), its creator's handle, its
campaign's fingerprint, the hash of its caption and the JSON of its verdict (with
that JSON's hash) are all computed here, from values, with no session. The rest
of recording (:mod:`.rows`, :mod:`.transitions`) works from these.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from compliance.model import Campaign, Level, Verdict
from compliance.serialize import verdict_dict
from compliance.timeparse import timestamp_or_none


def sha256_text(text: str) -> str:
    """Hex SHA-256 of text encoded as UTF-8: how captions and verdicts are hashed."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def creator_handle(author: str) -> str:
    """The handle a creator is filed under: trimmed, lower-case, with a leading ``@``
    unless it is a display name with spaces (e.g. a YouTube channel title)."""
    handle = author.strip().lower()
    if handle and not handle.startswith("@") and " " not in handle:
        handle = "@" + handle
    return handle


# The record's column sizes for text that comes from platforms and input files.
# PostgreSQL refuses a longer value (and with it the whole batch), so such text is cut
# to size, or, for a key, replaced by its hash (two long ids must stay two posts).
KEY_SIZE = 500  # posts.post_key
ID_SIZE = 300  # posts.platform_post_id
NAME_SIZE = 200  # creators.handle, posts.author, campaigns.brand, events' actor
LANGUAGE_SIZE = 16  # posts.language, checks.language


def fit(text: str | None, size: int) -> str | None:
    """``text`` cut to ``size`` characters (None stays None)."""
    return text if text is None or len(text) <= size else text[:size]


def post_key(post_id: str | None, url: str | None, author: str | None, caption_sha: str) -> str:
    """A post's identity within its platform: its id, else its URL, else author and caption
    (an id or URL too long for the record: its hash)."""
    if post_id:
        return post_id if len(post_id) <= KEY_SIZE else "id-sha256:" + sha256_text(post_id)
    if url:
        key = "url:" + url
        return key if len(key) <= KEY_SIZE else "url-sha256:" + sha256_text(url)
    return "sha256:" + sha256_text(f"{author or ''}\n{caption_sha}")


# Campaign fields added after the first release: left out of the fingerprint while
# unset, so that campaigns recorded before they existed keep their rows.
_LATER_CAMPAIGN_FIELDS = ("starts", "ends", "jurisdictions", "name")


# Campaigns are frozen values and a monitor cycle records every post of a creator with
# the same one: its fingerprint is worked out once.
@lru_cache(maxsize=1024)
def campaign_fingerprint(campaign: Campaign) -> str:
    """SHA-256 of the campaign's content: equal campaigns share one row."""
    content = asdict(campaign)
    for key in _LATER_CAMPAIGN_FIELDS:
        if not content[key]:
            del content[key]
    return sha256_text(json.dumps(content, sort_keys=True, ensure_ascii=False, default=str))


def parse_posted_at(value: str | None) -> datetime | None:
    """The post's ISO-8601 time as an aware UTC datetime (naive times are taken as UTC)."""
    return timestamp_or_none(value)


@dataclass(frozen=True)
class Observation:
    """One verdict to record, with where its caption was read and, if known, when and how.

    ``source``: the URL fetched (monitors) or ``file:record`` (``check --input``).
    ``raw_response``: the platform's response, verbatim. ``fetched_at``: when it was
    fetched from the platform (default: when the batch is recorded); only an
    observation with it can bring a gone post back. ``monitor_key``: the monitor
    that fetched it (kept in ``monitor_posts``, for that monitor's window).
    """

    verdict: Verdict
    source: str | None = None
    raw_response: str | None = None
    fetched_at: datetime | None = None
    monitor_key: str | None = None


@dataclass
class Prepared:
    """An observation with everything computed that does not need the database."""

    obs: Observation
    platform: str
    key: str
    caption_sha: str
    handle: str | None
    fingerprint: str | None
    result: str
    result_sha: str
    findings: dict[str, dict[str, Any]]  # rule -> finding (violation level only)
    posted_at: datetime | None
    post_id: int = 0
    version_id: int = 0
    check_id: int = 0


def prepare(obs: Observation) -> Prepared:
    verdict = obs.verdict
    post = verdict.post
    caption_sha = sha256_text(post.caption)
    as_dict = verdict_dict(verdict)
    result = json.dumps(as_dict, ensure_ascii=False)
    findings: dict[str, dict[str, Any]] = {}
    for finding, shown in zip(verdict.findings, as_dict["violations"], strict=True):
        if finding.level is Level.VIOLATION:
            findings.setdefault(finding.rule, shown)  # the first span of a rule is its evidence
    campaign = post.campaign
    return Prepared(
        obs=obs,
        platform=post.platform,
        key=post_key(post.id, post.url, post.author, caption_sha),
        caption_sha=caption_sha,
        handle=(
            fit(creator_handle(post.author), NAME_SIZE)
            if post.author and post.author.strip()
            else None
        ),
        fingerprint=campaign_fingerprint(campaign) if campaign and not campaign.is_empty else None,
        result=result,
        result_sha=sha256_text(result),
        findings=findings,
        posted_at=parse_posted_at(post.posted_at),
    )
