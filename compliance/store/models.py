"""The tables of the record: who posted what, when we saw it, what was wrong, what happened next.

Shape, in the order a checked post fills it::

    creators ─< accounts ─< posts >─ campaigns
                             │
                             ├─< caption_versions ─< checks      (what we saw, what the rules said)
                             │
                             ├─< violations ─< violation_events  (what is wrong, its audit trail)
                             │
                             ├─< post_events                     (gone from the platform, back again)
                             │
    monitor_states ─ ─ ─ ─ ─< monitor_posts                      (which monitor saw which post)
         ├─< monitor_runs                                         (the last runs, for status)
         └─< monitor_events                                       (failing / recovered flips)

* A **caption version** is one distinct caption seen for a post (keyed by its
  SHA-256). Seeing it again only moves ``last_seen``.
* A **check** is one distinct verdict on a version (keyed by the SHA-256 of the
  verdict's JSON): the rules' answer kept as evidence. The same rules on the same
  caption give the same verdict, so a re-check writes nothing; a rule change that
  alters the verdict adds a row instead of overwriting the old evidence.
* A **violation** is keyed by (post, rule) and carries a status (see
  :mod:`compliance.store.lifecycle`); every change of it is a
  :class:`ViolationEvent` row.
* A post that disappears from its platform gets ``gone_at`` and a
  :class:`PostEvent`; nothing of it is deleted (see :mod:`compliance.store.gone`).
* A **monitor** (:class:`MonitorState`, keyed by the configuration's monitor key)
  keeps its cursor and failure count between runs (see :mod:`compliance.store.monitors`).
  ``monitor_posts`` is keyed by the monitor key as text, not by a foreign key: a
  run records its posts before it saves its state, and the first run has no state row yet.

Times are stored in UTC. SQLite has no time-zone type, so :class:`UTCDateTime`
stores naive UTC and hands back aware datetimes on every dialect.

Status and action values are plain strings guarded by CHECK constraints rather
than database enum types: adding a value then needs no ALTER TYPE dance on
PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from compliance.store.status import (
    ACTIONS,
    ERROR_KINDS,
    MONITOR_ACTIONS,
    MONITOR_KINDS,
    OUTCOMES,
    POST_ACTIONS,
    STATUSES,
    UNRESOLVED,
)

__all__ = ["ACTIONS", "STATUSES", "UNRESOLVED"]

# Constraint names are fixed so that migrations can refer to them on every dialect.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always returned time-zone aware (UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware datetime (the clock's, in UTC)")
        value = value.astimezone(timezone.utc)
        # SQLite stores text; without the offset every stored value sorts as text correctly.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        # Recording stamps every row of a batch with the same instant: format it once.
        # SQLAlchemy's own SQLite format, so stored values parse and compare as before.
        last: list[tuple[object, str]] = [(None, "")]

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            seen, text = last[0]
            if value is seen:
                return text
            if value.tzinfo is None:
                raise ValueError("naive datetime: pass an aware datetime (the clock's, in UTC)")
            u = value.astimezone(timezone.utc)
            text = (
                f"{u.year:04d}-{u.month:02d}-{u.day:02d} "
                f"{u.hour:02d}:{u.minute:02d}:{u.second:02d}.{u.microsecond:06d}"
            )
            last[0] = (value, text)  # one assignment: safe when threads share the processor
            return text

        return process

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    """Declarative base carrying the shared metadata (with its naming convention)."""

    metadata = MetaData(naming_convention=NAMING)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Creator(Base):
    """A person who posts. Created from a post's author handle the first time we see it;
    accounts on several platforms with the same handle belong to the same creator."""

    __tablename__ = "creators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handle: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Account(Base):
    """One creator's handle on one platform."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("platform", "handle"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"), index=True)
    platform: Mapped[str] = mapped_column(String(20))
    handle: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CampaignRow(Base):
    """What the brand told us about a campaign. Posts carry campaigns inline, so a
    campaign is identified by the SHA-256 of its content (``fingerprint``)."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    brand: Mapped[str | None] = mapped_column(String(200))
    aliases: Mapped[list[str]] = mapped_column(JSON)
    handles: Mapped[list[str]] = mapped_column(JSON)
    hashtags: Mapped[list[str]] = mapped_column(JSON)
    promo_codes: Mapped[list[str]] = mapped_column(JSON)
    domains: Mapped[list[str]] = mapped_column(JSON)
    relationship: Mapped[str | None] = mapped_column(String(20))
    # Filled by configured campaigns (compliance.yaml), seldom by inline ones; NULL when
    # not given (and in rows recorded before schema 0004). ``name`` is the campaign's
    # key in compliance.yaml: what tells two campaigns of one brand apart.
    name: Mapped[str | None] = mapped_column(String(100))
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    # ISO 3166 codes, e.g. ["US", "GB"]; SQL NULL (not JSON null) when there are none.
    jurisdictions: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    # Schema 0001's single code: set only when the campaign has exactly one
    # jurisdiction (it cannot hold "US,GB"); read ``jurisdictions`` instead.
    jurisdiction: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PostRow(Base):
    """One piece of content on a platform, whatever its caption says today.

    ``post_key`` identifies it within its platform: the platform's id, else
    ``url:<url>``, else ``sha256:<author>|<caption hash>`` (a post without id or
    url cannot be told apart from a new post when its caption changes).
    ``current_sha256`` / ``verdict`` describe the caption version seen last.
    """

    __tablename__ = "posts"
    __table_args__ = (UniqueConstraint("platform", "post_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    post_key: Mapped[str] = mapped_column(String(500))
    platform_post_id: Mapped[str | None] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(200))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    jurisdiction: Mapped[str | None] = mapped_column(String(8))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    current_sha256: Mapped[str] = mapped_column(String(64))
    verdict: Mapped[str] = mapped_column(String(20))
    pack: Mapped[str] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(16))
    # When a monitor found the post missing from its platform; NULL while it is there.
    gone_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PostEvent(Base):
    """Something that happened to a post itself: it went missing, or came back."""

    __tablename__ = "post_events"
    __table_args__ = (
        CheckConstraint(_in("action", POST_ACTIONS), name="action"),
        Index(None, "post_id", "id"),
        Index(None, "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)


class CaptionVersion(Base):
    """One distinct caption seen for a post: the exact text, its hash and when we saw it."""

    __tablename__ = "caption_versions"
    __table_args__ = (UniqueConstraint("post_id", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    caption: Mapped[str] = mapped_column(Text)
    transcript: Mapped[str | None] = mapped_column(Text)
    # Where the caption was read: the fetched URL for monitors, file:record for files.
    source: Mapped[str | None] = mapped_column(Text)
    # The platform's response the caption came from, verbatim, when there was one.
    raw_response: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime())
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())


class Check(Base):
    """One distinct verdict on a caption version: the JSON verdict, byte for byte, and its hash."""

    __tablename__ = "checks"
    __table_args__ = (UniqueConstraint("version_id", "verdict_sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("caption_versions.id"))
    verdict_sha256: Mapped[str] = mapped_column(String(64))
    verdict: Mapped[str] = mapped_column(String(20))
    pack: Mapped[str] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(16))
    sponsored: Mapped[bool | None] = mapped_column(Boolean)
    # compliance.serialize.verdict_dict as JSON text: kept as text so its hash stays checkable.
    result: Mapped[str] = mapped_column(Text)
    first_checked: Mapped[datetime] = mapped_column(UTCDateTime())
    last_checked: Mapped[datetime] = mapped_column(UTCDateTime())


class Violation(Base):
    """A rule that a post broke, with its lifecycle status.

    ``version_id`` / ``check_id`` point at the version and verdict that (last)
    opened or regressed it; ``fixed_version_id`` at the version that fixed it.
    ``finding`` is the finding as the JSON verdict has it (rule, span, text,
    message, fix, source). Acknowledgement is not a status: ``acked_by`` /
    ``acked_at`` record the latest one, on top of whatever the status is.
    """

    __tablename__ = "violations"
    __table_args__ = (
        UniqueConstraint("post_id", "rule"),
        CheckConstraint(_in("status", STATUSES), name="status"),
        # Listings page through one status at a time, newest first.
        Index(None, "status", "opened_at"),
        Index(None, "rule", "status"),
        # Finding expired waivers without reading every waived violation.
        Index(None, "status", "waived_until"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    rule: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version_id: Mapped[int] = mapped_column(ForeignKey("caption_versions.id"))
    check_id: Mapped[int] = mapped_column(ForeignKey("checks.id"))
    fixed_version_id: Mapped[int | None] = mapped_column(ForeignKey("caption_versions.id"))
    finding: Mapped[dict[str, Any]] = mapped_column(JSON)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acked_by: Mapped[str | None] = mapped_column(String(200))
    waived_by: Mapped[str | None] = mapped_column(String(200))
    waived_reason: Mapped[str | None] = mapped_column(Text)
    # Exclusive: the waiver holds while now < waived_until; NULL means no expiry.
    waived_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ViolationEvent(Base):
    """One entry of a violation's audit trail: what happened, when, who did it."""

    __tablename__ = "violation_events"
    __table_args__ = (
        CheckConstraint(_in("action", ACTIONS), name="action"),
        Index(None, "violation_id", "id"),
        Index(None, "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    violation_id: Mapped[int] = mapped_column(ForeignKey("violations.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str | None] = mapped_column(String(12))
    version_id: Mapped[int | None] = mapped_column(ForeignKey("caption_versions.id"))
    note: Mapped[str | None] = mapped_column(Text)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MonitorStateRow(Base):
    """One monitor: what it watches, where its last run left off, and how it is doing.

    ``cursor`` is the source's own state, opaque here (high-water mark, newest id,
    ETag, resolved user ids). ``failing`` is ``consecutive_failures >=
    failure_threshold``; each flip of it is a :class:`MonitorEventRow`. The ``last_*``
    counts are those of the last run (its row in ``monitor_runs`` may be pruned).
    """

    __tablename__ = "monitor_states"
    __table_args__ = (
        CheckConstraint(_in("kind", MONITOR_KINDS), name="kind"),
        CheckConstraint(_in("last_outcome", OUTCOMES), name="last_outcome"),
        CheckConstraint(_in("last_error_kind", ERROR_KINDS), name="last_error_kind"),
        # The scheduler asks which monitors are due.
        Index(None, "next_run_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(12))
    platform: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(300))
    cursor: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_outcome: Mapped[str | None] = mapped_column(String(12))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_kind: Mapped[str | None] = mapped_column(String(20))
    consecutive_failures: Mapped[int] = mapped_column(Integer)
    failure_threshold: Mapped[int] = mapped_column(Integer)
    failing: Mapped[bool] = mapped_column(Boolean)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_fetched: Mapped[int] = mapped_column(Integer)
    last_new: Mapped[int] = mapped_column(Integer)
    last_edited: Mapped[int] = mapped_column(Integer)
    last_gone: Mapped[int] = mapped_column(Integer)
    last_opened: Mapped[int] = mapped_column(Integer)
    last_fixed: Mapped[int] = mapped_column(Integer)
    last_regressed: Mapped[int] = mapped_column(Integer)
    posts_total: Mapped[int] = mapped_column(Integer)
    runs_total: Mapped[int] = mapped_column(Integer)


class MonitorRunRow(Base):
    """One run of a monitor, as ``compliance status`` lists it (the last few per monitor)."""

    __tablename__ = "monitor_runs"
    __table_args__ = (
        CheckConstraint(_in("outcome", OUTCOMES), name="outcome"),
        CheckConstraint(_in("error_kind", ERROR_KINDS), name="error_kind"),
        Index(None, "monitor_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    monitor_id: Mapped[int] = mapped_column(ForeignKey("monitor_states.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(12))
    fetched: Mapped[int] = mapped_column(Integer)
    new: Mapped[int] = mapped_column(Integer)
    edited: Mapped[int] = mapped_column(Integer)
    gone: Mapped[int] = mapped_column(Integer)
    opened: Mapped[int] = mapped_column(Integer)
    fixed: Mapped[int] = mapped_column(Integer)
    regressed: Mapped[int] = mapped_column(Integer)
    error_kind: Mapped[str | None] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text)


class MonitorEventRow(Base):
    """A monitor started failing or recovered. ``notified_at`` is set by the alerts when
    they have sent it, so that each flip is sent once."""

    __tablename__ = "monitor_events"
    __table_args__ = (
        CheckConstraint(_in("action", MONITOR_ACTIONS), name="action"),
        Index(None, "monitor_id", "id"),
        Index(None, "notified_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    monitor_id: Mapped[int] = mapped_column(ForeignKey("monitor_states.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    action: Mapped[str] = mapped_column(String(12))
    consecutive_failures: Mapped[int] = mapped_column(Integer)
    error_kind: Mapped[str | None] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MonitorPost(Base):
    """A monitor saw a post: how a hashtag monitor finds its posts again (they have many
    authors), and how a creator monitor's window is read."""

    __tablename__ = "monitor_posts"
    __table_args__ = (UniqueConstraint("monitor_key", "post_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    monitor_key: Mapped[str] = mapped_column(String(300))
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())


metadata = Base.metadata


# --- Alerts (compliance.alerts): outbox, notification log, groups, silences ------------

# An outbox row's life: pending (waiting out its group's wait) -> sending (claimed by a
# sender, with a lease) -> sent | retrying (failed, due again later) -> dead (gave up);
# dropped: never sent on purpose (silenced, inhibited, already announced), with the reason.
OUTBOX_STATUSES = ("pending", "sending", "retrying", "sent", "dead", "dropped")


class OutboxRow(Base):
    """One alert on its way to one receiver, written in the transaction of the change that
    caused it. ``due_at`` is when a sender may take it: the end of its group's wait while
    pending, the next attempt while retrying, the end of a sender's lease while sending."""

    __tablename__ = "alert_outbox"
    __table_args__ = (
        CheckConstraint(_in("status", OUTBOX_STATUSES), name="status"),
        # The sender's scan and the pending view: unfinished rows by due time.
        Index(None, "status", "due_at"),
        Index(None, "receiver", "group_key", "status"),
        # Inhibition looks up the alerts of a post's violations.
        Index(None, "violation_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    receiver: Mapped[str] = mapped_column(String(100))
    route: Mapped[str] = mapped_column(String(100))
    group_key: Mapped[str] = mapped_column(String(500))
    # What the alert is about: "violation:17", "monitor:3".
    subject: Mapped[str] = mapped_column(String(100))
    violation_id: Mapped[int | None] = mapped_column(ForeignKey("violations.id"))
    event: Mapped[str] = mapped_column(String(20))
    # Names the state change (one per change): the notification log and idempotency use it.
    change_key: Mapped[str] = mapped_column(String(200))
    labels: Mapped[dict[str, Any]] = mapped_column(JSON)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    group_interval: Mapped[int] = mapped_column(Integer)  # seconds
    repeat_interval: Mapped[int] = mapped_column(Integer)  # seconds
    status: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    tries: Mapped[int] = mapped_column(Integer)
    # Why it is retrying, dead or dropped (the error, secrets removed; or the drop reason).
    reason: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AlertGroup(Base):
    """When a receiver's group was last flushed: later alerts wait out ``group_interval``."""

    __tablename__ = "alert_groups"
    __table_args__ = (UniqueConstraint("receiver", "group_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    receiver: Mapped[str] = mapped_column(String(100))
    group_key: Mapped[str] = mapped_column(String(500))
    flushed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class NotificationLog(Base):
    """Who was told what: one row per (subject, state, receiver), kept across restarts.

    It is the dedup memory (a change already announced to a receiver is not announced
    again; a still-open violation is announced again after ``repeat_interval``) and the
    per-receiver record of a violation's notifications (``violation_id`` set).
    """

    __tablename__ = "notification_log"
    __table_args__ = (
        UniqueConstraint("subject", "state", "receiver"),
        Index(None, "violation_id"),
        # The repeat sweep reads only entries older than the shortest repeat_interval.
        Index(None, "sent_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(100))
    violation_id: Mapped[int | None] = mapped_column(ForeignKey("violations.id"))
    state: Mapped[str] = mapped_column(String(20))
    receiver: Mapped[str] = mapped_column(String(100))
    change_key: Mapped[str] = mapped_column(String(200))
    outbox_id: Mapped[int | None] = mapped_column(Integer)
    first_sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    count: Mapped[int] = mapped_column(Integer)


class SilenceRow(Base):
    """A silence: alerts matching every matcher are not sent between ``starts_at`` and
    ``expires_at`` (exclusive). ``matchers`` is a list of ``[name, op, value]``."""

    __tablename__ = "silences"
    __table_args__ = (Index(None, "expires_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    matchers: Mapped[list[Any]] = mapped_column(JSON)
    author: Mapped[str] = mapped_column(String(200))
    comment: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expired_by: Mapped[str | None] = mapped_column(String(200))
