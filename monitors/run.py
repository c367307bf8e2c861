"""One monitor run: fetch -> caption versions -> check -> record, and the monitor's state.

A run reads the account's (or hashtag's) listing newest first and stops as soon
as it has read everything newer than the stored high-water mark plus the re-read
window (default: the last 30 days, at most 100 posts). Within that window it
tells each post apart:

* **new**: never recorded; checked and recorded;
* **edited**: recorded, but the caption's hash changed; checked again and
  recorded as a new caption version, so the store's lifecycle marks fixes and
  regressions;
* **unchanged**: nothing to do (no re-check: the verdict would be the same);
* **gone**: recorded within the window but missing from a listing that was
  read completely; marked gone with the time, its evidence kept. A listing cut
  short by an error, a limit or a conditional 304 never marks anything gone,
  and neither does an answer that cannot tell deleted from blocked.

Failures never raise out of :func:`run_monitor`: they become the run's outcome
and the monitor's consecutive-failure count (the store flips it to failing after
``max_failures``, where the alerts read it). What was checked before a failure is
recorded all the same.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from compliance.model import Campaign, Post, Verdict
from compliance.store.db import Store, StoreError
from compliance.store.observed import parse_posted_at, sha256_text
from compliance.store.record import Recorder
from monitors.errors import FetchError, Malformed
from monitors.sources.base import Fetched, NotModified, Source

log = logging.getLogger("compliance.monitor")

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Job:
    """What one monitor run is asked to do (built from compliance.yaml or the CLI).

    ``kind`` is ``account`` (a creator's account) or ``hashtag``. ``limit`` and
    ``since`` bound one-off runs (``compliance check tiktok:@x --limit 50``);
    monitors use the window instead.
    """

    key: str
    kind: str
    platform: str
    target: str
    campaigns: tuple[Campaign, ...] = ()
    jurisdiction: str | None = None
    creator: str | None = None
    window: timedelta = timedelta(days=30)
    window_posts: int = 100
    max_failures: int = 3
    limit: int | None = None
    since: datetime | None = None


@dataclass
class RunResult:
    """What one run did: the counts of the run's log line and of ``compliance status``."""

    key: str
    outcome: str = "ok"  # ok | not_modified | partial | failed
    fetched: int = 0
    new: int = 0
    edited: int = 0
    unchanged: int = 0
    gone: int = 0
    opened: int = 0
    fixed: int = 0
    regressed: int = 0
    errors: list[str] = field(default_factory=list)
    error_kind: str | None = None
    retry_after: float | None = None
    duration: float = 0.0
    verdicts: list[tuple[Verdict, Fetched]] = field(default_factory=list)
    failing: bool = False
    flipped: str | None = None  # "failing" | "recovered" when this run changed that

    def log_fields(self) -> dict[str, Any]:
        """The structured fields of the run's one log line."""
        return {
            "monitor": self.key,
            "outcome": self.outcome,
            "fetched": self.fetched,
            "new": self.new,
            "edited": self.edited,
            "gone": self.gone,
            "opened": self.opened,
            "fixed": self.fixed,
            "regressed": self.regressed,
            "errors": len(self.errors),
            "error_kind": self.error_kind,
            "duration": round(self.duration, 3),
        }


def campaign_for(
    post: Post, campaigns: Sequence[Campaign], posted: datetime | None
) -> Campaign | None:
    """The campaign whose context applies to ``post``.

    Only campaigns running when the post was made count (a post from before a
    deal is not part of it). Among those, the first one the caption names (brand,
    handle, hashtag, code, domain) wins; otherwise the first running one is given
    anyway: the engine only treats a post as sponsored by a campaign it mentions.
    """
    day = posted.date() if posted else None
    running = [
        c
        for c in campaigns
        if day is None
        or (
            (getattr(c, "starts", None) is None or c.starts <= day)  # type: ignore[attr-defined]
            and (getattr(c, "ends", None) is None or day <= c.ends)  # type: ignore[attr-defined]
        )
    ]
    if not running:
        return None
    text = f"{post.caption}\n{post.transcript or ''}".lower()
    for campaign in running:
        names = (
            *campaign.brand_names,
            *campaign.handles,
            *campaign.hashtags,
            *campaign.promo_codes,
            *campaign.domains,
        )
        if any(n and n.lower() in text for n in names):
            return campaign
    return running[0]


def _listing(job: Job, source: Source, state: dict[str, Any]) -> Iterable[Fetched]:
    if job.kind == "hashtag":
        return source.hashtag_posts(job.target.lstrip("#"), state)
    return source.account_posts(job.target, state)


def _prepare(job: Job, item: Fetched, posted: datetime | None) -> Post:
    """The post to check: the job's campaign context and jurisdiction, the transcript loaded."""
    post = item.post
    transcript = post.transcript
    if transcript is None and item.transcript is not None:
        try:
            transcript = item.transcript()
        except FetchError as exc:  # a missing subtitle track is no reason to skip the post
            log.info("transcript unavailable for %s: %s", post.url or post.id, exc)
    return replace(
        post,
        transcript=transcript,
        jurisdiction=post.jurisdiction or job.jurisdiction,
        campaign=post.campaign or campaign_for(post, job.campaigns, posted),
    )


def run_monitor(
    job: Job,
    source: Source,
    store: Store,
    check: Callable[[Post], Verdict],
    *,
    now: Clock,
    keep_verdicts: bool = False,
    next_run_at: datetime | None = None,
    save_state: bool = True,
) -> RunResult:
    """Run ``job`` once with ``source``; record what is new or edited; save the monitor's state.

    ``check`` is the engine bound to its packs (``lambda post: engine.check(post, packs)``).
    Never raises for a platform failure; a database failure (StoreError) propagates,
    since nothing can be recorded then and the caller must retry the whole run.
    ``keep_verdicts`` checks every post read (not only new and edited ones) and keeps
    the verdicts for a report; ``save_state=False`` (one-off checks) records posts
    but leaves the monitor state alone and marks nothing gone.
    """
    from compliance.store.monitors import (
        load_monitor_state,
        mark_gone,
        recent_posts,
        save_monitor_run,
    )

    started = time.monotonic()
    at = now()
    result = RunResult(job.key)
    previous = load_monitor_state(store, job.key) if save_state else None
    state: dict[str, Any] = dict(previous.cursor) if previous and previous.cursor else {}
    watermark = parse_posted_at(state.get("newest"))
    horizon = at - job.window
    if job.since is not None:
        horizon = job.since
    account = job.target if job.kind != "hashtag" else None
    known = {
        row.post_key: row
        for row in recent_posts(
            store,
            platform=job.platform,
            account=account,
            monitor_key=job.key,
            since=min(horizon, watermark) if watermark else horizon,
            limit=max(job.window_posts, job.limit or 0) * 2,
        )
    }
    seen: set[str] = set()
    complete = False
    newest = watermark
    recorder = Recorder(store, now=now, actor=f"monitor:{job.key}")
    try:
        count = 0
        for item in _listing(job, source, state):
            post = item.post
            if not post.id:
                raise Malformed("a post without an id", platform=job.platform, target=job.target)
            posted = parse_posted_at(post.posted_at)
            in_window = posted is None or posted >= horizon
            is_newer = watermark is None or posted is None or posted > watermark
            if job.limit is not None and count >= job.limit:
                break
            if job.limit is None and not is_newer and (not in_window or count >= job.window_posts):
                complete = True
                break
            if job.limit is not None and not in_window:
                complete = True
                break
            count += 1
            result.fetched += 1
            seen.add(post.id)
            if posted is not None and (newest is None or posted > newest):
                newest = posted
            row = known.get(post.id)
            caption_sha = sha256_text(post.caption)
            if row is not None and row.current_sha256 == caption_sha and not keep_verdicts:
                result.unchanged += 1
                continue
            if row is None:
                result.new += 1
            elif row.current_sha256 != caption_sha:
                result.edited += 1
            else:
                result.unchanged += 1
            checked = check(_prepare(job, item, posted))
            if keep_verdicts:
                result.verdicts.append((checked, item))
            recorder.add(
                checked,
                source=post.url or f"{job.platform}:{post.id}",
                raw_response=item.raw,
                fetched_at=at,
            )
        else:
            complete = True
    except NotModified:
        result.outcome = "not_modified"
    except FetchError as exc:
        result.errors.append(str(exc))
        result.error_kind = exc.kind
        result.retry_after = getattr(exc, "retry_after", None)
        result.outcome = "partial" if result.fetched else "failed"
    stats = recorder.close()
    result.opened, result.fixed, result.regressed = (
        stats.opened,
        stats.fixed,
        stats.regressed + stats.reopened,
    )

    if save_state and complete and result.outcome == "ok" and job.limit is None:
        missing = [
            key
            for key, row in known.items()
            if key not in seen
            and row.gone_at is None
            and (row.posted_at is None or row.posted_at >= horizon)
        ]
        if missing:
            result.gone = mark_gone(
                store, job.platform, missing, now=at, reason=f"missing from {job.key}"
            )
    # Only a run that read its whole listing moves the high-water mark and keeps
    # what the source learnt (ETags, cursors): after a failure half-way, the posts
    # not yet read are newer than the old mark, and a kept ETag would hide them.
    succeeded = result.outcome in ("ok", "not_modified")
    if succeeded and newest is not None:
        state["newest"] = newest.isoformat().replace("+00:00", "Z")
    result.duration = time.monotonic() - started
    if not save_state:
        return result
    saved = save_monitor_run(
        store,
        job.key,
        kind=job.kind,
        platform=job.platform,
        target=job.target,
        outcome=result.outcome,
        counts={
            "fetched": result.fetched,
            "new": result.new,
            "edited": result.edited,
            "gone": result.gone,
            "opened": result.opened,
            "fixed": result.fixed,
            "regressed": result.regressed,
        },
        cursor=state if succeeded else (dict(previous.cursor) if previous else {}),
        error=result.errors[-1] if result.errors else None,
        error_kind=result.error_kind,
        threshold=job.max_failures,
        next_run_at=next_run_at,
        now=at,
    )
    result.failing = saved.failing
    result.flipped = getattr(saved, "flipped", None)
    return result


__all__ = ["Job", "RunResult", "StoreError", "campaign_for", "run_monitor"]
