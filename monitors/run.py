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
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy.orm import Session

from compliance.model import Campaign, Post, Verdict
from compliance.safe import scrub_surrogates
from compliance.store.changes import OnChanges
from compliance.store.db import Store, StoreError
from compliance.store.gone import mark_gone_in
from compliance.store.group import GroupWriter
from compliance.store.monitors import MonitorState, RunCounts, RunSave
from compliance.store.observed import parse_posted_at, sha256_text
from compliance.store.record import Observation, Recorder
from compliance.store.transitions import RecordStats
from compliance.store.window import compare, known_posts, load_run_start
from monitors.errors import FetchError, Malformed
from monitors.sources.base import Fetched, NotModified, Source

log = logging.getLogger("compliance.monitor")

# A run reads every post newer than the high-water mark, but never more than this
# many windows' worth: a creator who posted thousands since the last run (or a
# platform that reorders its listing) must not turn one run into a crawl.
NEW_POSTS_FACTOR = 10

# The platform name posts are recorded under, where a source's differs from the
# monitor's: X posts are "twitter" posts to the packs (their folds) and the store.
RECORDED_AS = {"x": "twitter"}

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


def check_listing(job: Job, source: Source, check: Callable[[Post], Verdict]) -> RunResult:
    """A read-only one-off run (``compliance check tiktok:@x --no-record``): read the
    listing within ``job.limit`` / ``job.since`` and check every post; nothing is recorded."""
    started = time.monotonic()
    result = RunResult(job.key)
    horizon = job.since if job.since is not None else datetime.min.replace(tzinfo=timezone.utc)
    items, _ = _read_listing(job, source, {}, result, None, horizon)
    result.fetched = result.new = len(items)
    for item in items:
        posted = parse_posted_at(item.post.posted_at)
        result.verdicts.append((check(prepare_post(job, item, posted)), item))
    result.duration = time.monotonic() - started
    return result


def _listing(job: Job, source: Source, state: dict[str, Any]) -> Iterable[Fetched]:
    if job.kind == "hashtag":
        return source.hashtag_posts(job.target.lstrip("#"), state)
    return source.account_posts(job.target, state)


def prepare_post(job: Job, item: Fetched, posted: datetime | None) -> Post:
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
        # Platforms do send lone surrogates (JSON "\\ud800"): they cannot be hashed or
        # stored as UTF-8, so they become U+FFFD here rather than failing the whole run.
        caption=scrub_surrogates(post.caption),
        author=scrub_surrogates(post.author) if post.author else post.author,
        transcript=scrub_surrogates(transcript) if transcript else transcript,
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
    writer: GroupWriter | None = None,
    on_changes: OnChanges | None = None,
) -> RunResult:
    """Run ``job`` once with ``source``; record what is new or edited; save the monitor's state.

    ``check`` is the engine bound to its packs (``lambda post: engine.check(post, packs)``).
    Never raises for a platform failure; a database failure (StoreError) propagates,
    since nothing can be recorded then and the caller must retry the whole run.
    ``keep_verdicts`` checks every post read (not only new and edited ones) and keeps
    the verdicts for a report; ``save_state=False`` (one-off checks) records posts
    but leaves the monitor state alone and marks nothing gone. ``writer`` (a cycle's
    :class:`~compliance.store.group.GroupWriter`) records the run's posts and state
    together with other runs' in one transaction (used when ``save_state``; it carries
    its own ``on_changes``). ``on_changes`` is the recorder's hook for the alerts'
    outbox (rows written in the recording transaction).
    """
    started = time.monotonic()
    at = now()
    result = RunResult(job.key)
    # Before the fetch, one read transaction: the state (its cursor and high-water
    # mark say what to fetch) and the window the fetch is compared with. After it,
    # only fetched posts the window does not hold are looked up: none on a run
    # with nothing new.
    platform = RECORDED_AS.get(job.platform, job.platform)
    horizon = job.since if job.since is not None else at - job.window
    start = load_run_start(
        store,
        platform=platform,
        since=horizon,
        limit=max(job.window_posts * 2, 1),
        account=job.target if job.kind != "hashtag" else None,
        monitor_key=job.key,
        state_key=job.key if save_state else None,
    )
    previous = start.state
    state: dict[str, Any] = dict(previous.cursor) if previous and previous.cursor else {}
    watermark = parse_posted_at(state.get("newest"))

    items, complete_since = _read_listing(job, source, state, result, watermark, horizon)
    result.fetched = len(items)
    shas = {item.post.id: sha256_text(item.post.caption) for item in items if item.post.id}
    known = known_posts(store, start, shas)
    # Only an account's own listing is a complete list of what exists: a hashtag
    # listing is a search over a time window (Instagram: 24 hours, X: 7 days) and a
    # post leaves it when its tag is edited away, so nothing is called gone from one.
    can_tell_gone = save_state and job.kind != "hashtag"
    diff = compare(
        start.window, known, shas, complete_since=complete_since if can_tell_gone else None
    )
    result.new, result.edited = len(diff.new), len(diff.edited)
    result.unchanged = len(diff.unchanged)
    to_check = set(diff.new) | set(diff.edited) | set(diff.back)

    actor = f"monitor:{job.key}"
    observations: list[Observation] = []
    for item in items:
        post = item.post
        if post.id not in to_check and not keep_verdicts:
            continue
        checked = check(prepare_post(job, item, parse_posted_at(post.posted_at)))
        if keep_verdicts:
            result.verdicts.append((checked, item))
        observations.append(
            Observation(
                checked,
                source=post.url or f"{job.platform}:{post.id}",
                raw_response=scrub_surrogates(item.raw) if item.raw else None,
                fetched_at=at,
                monitor_key=job.key if save_state else None,
            )
        )

    # Only a run that read its whole listing moves the high-water mark and keeps
    # what the source learnt (ETags, cursors): after a failure half-way, the posts
    # not yet read are newer than the old mark, and a kept ETag would hide them.
    succeeded = result.outcome in ("ok", "not_modified")
    newest = max(
        (t for t in (parse_posted_at(i.post.posted_at) for i in items) if t is not None),
        default=None,
    )
    if succeeded and newest is not None and (watermark is None or newest > watermark):
        state["newest"] = newest.isoformat().replace("+00:00", "Z")

    def saved(state: MonitorState) -> None:
        result.failing = state.failing
        result.flipped = state.flipped

    def finish(session: Session, stats: RecordStats) -> RunSave:
        """In the transaction of the run's last posts: mark what is gone; the state to save."""
        if diff.missing and result.outcome == "ok":
            gone = mark_gone_in(
                session,
                [(platform, key) for key in diff.missing],
                at=now(),
                reason=f"missing from a complete listing of {job.platform}:{job.target} "
                f"(monitor {job.key})",
            )
            result.gone = len(gone)
        result.duration = time.monotonic() - started
        return RunSave(
            job.key,
            kind=job.kind,
            platform=job.platform,
            target=job.target,
            started_at=at,
            outcome=result.outcome,
            counts=RunCounts.of(
                stats,
                fetched=result.fetched,
                new=result.new,
                edited=result.edited,
                gone=result.gone,
            ),
            cursor=state if succeeded else None,
            error=result.errors[-1] if result.errors else None,
            error_kind=result.error_kind,
            threshold=job.max_failures,
            next_run_at=next_run_at,
            on_saved=saved,
        )

    # The state is saved in the transaction that records the run's last posts: a
    # crash before that commit loses the state with the posts, never one without the other.
    if writer is not None and save_state:
        stats = writer.commit(observations, finish, actor=actor)
    else:
        recorder = Recorder(store, now=now, actor=actor, on_changes=on_changes)
        for observation in observations:
            recorder.add_observation(observation)
        stats = recorder.close(finish if save_state else None)
    result.opened, result.fixed = stats.opened, stats.fixed
    result.regressed = stats.regressed
    if not save_state:
        result.duration = time.monotonic() - started
    return result


def _read_listing(
    job: Job,
    source: Source,
    state: dict[str, Any],
    result: RunResult,
    watermark: datetime | None,
    horizon: datetime,
) -> tuple[list[Fetched], datetime | None]:
    """Read the listing newest first until what is new and the re-read window are read.

    Returns the posts read and the time from which the listing was read completely
    (None when it cannot say: a failure, a conditional 304, or a one-off limit), which
    decides what may be called gone. Failures are put on ``result``.
    """
    items: list[Fetched] = []
    complete_since: datetime | None = None
    try:
        for item in _listing(job, source, state):
            if not item.post.id:
                raise Malformed("a post without an id", platform=job.platform, target=job.target)
            posted = parse_posted_at(item.post.posted_at)
            in_window = posted is None or posted >= horizon
            # On a first run nothing is "new": the window alone bounds what is read.
            is_newer = watermark is not None and (posted is None or posted > watermark)
            if job.limit is not None and (len(items) >= job.limit or not in_window):
                return items, None
            if not is_newer and not in_window:
                return items, horizon
            if len(items) >= job.window_posts * NEW_POSTS_FACTOR or (
                not is_newer and len(items) >= job.window_posts
            ):
                # The window is full: complete from the oldest post read.
                return items, parse_posted_at(items[-1].post.posted_at)
            items.append(item)
        complete_since = horizon if job.limit is None else None
    except NotModified:
        result.outcome = "not_modified"
    except (AttributeError, TypeError, KeyError, ValueError, IndexError) as exc:
        # A shape the source's reading did not foresee (a list where an object was, a
        # string for a number): the answer is malformed, and the daemon goes on. The
        # traceback is for developers (--log-level debug), not for every run's log.
        log.debug("unreadable answer for %s", job.key, exc_info=True)
        problem = Malformed(
            f"unreadable answer ({type(exc).__name__}: {exc})",
            platform=job.platform,
            target=job.target,
        )
        _failed(result, problem, items)
    except FetchError as exc:
        _failed(result, exc, items)
    return items, complete_since


def _failed(result: RunResult, exc: FetchError, items: Sequence[Fetched]) -> None:
    """Put a failed listing on the run's result (what was read before it is kept)."""
    result.errors.append(str(exc))
    result.error_kind = exc.kind
    result.retry_after = getattr(exc, "retry_after", None)
    result.outcome = "partial" if items else "failed"


__all__ = ["Job", "RunResult", "StoreError", "campaign_for", "run_monitor"]
