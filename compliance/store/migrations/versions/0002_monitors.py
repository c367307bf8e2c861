"""Monitors: their state, runs and failing/recovered flips; the posts each saw; gone posts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04

Adds ``monitor_states`` (cursor, last run, consecutive failures, next run),
``monitor_runs`` (the last runs of each monitor), ``monitor_events`` (a monitor
started failing or recovered; read once by the alerts), ``monitor_posts`` (which
monitor saw which post), ``post_events`` (a post went missing or came back) and
the nullable ``posts.gone_at``. Nothing existing changes, so an upgrade keeps every row.
Types are written out, as in 0001.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the monitors' tables and the posts' gone time."""
    op.create_table(
        "monitor_states",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=300), nullable=False),
        sa.Column("cursor", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_outcome", sa.String(length=12), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_kind", sa.String(length=20), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("failure_threshold", sa.Integer(), nullable=False),
        sa.Column("failing", sa.Boolean(), nullable=False),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_fetched", sa.Integer(), nullable=False),
        sa.Column("last_new", sa.Integer(), nullable=False),
        sa.Column("last_edited", sa.Integer(), nullable=False),
        sa.Column("last_gone", sa.Integer(), nullable=False),
        sa.Column("last_opened", sa.Integer(), nullable=False),
        sa.Column("last_fixed", sa.Integer(), nullable=False),
        sa.Column("last_regressed", sa.Integer(), nullable=False),
        sa.Column("posts_total", sa.Integer(), nullable=False),
        sa.Column("runs_total", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('creator', 'hashtag', 'account', 'post')", name=op.f("ck_monitor_states_kind")
        ),
        sa.CheckConstraint(
            "last_error_kind IN ('rate_limited', 'auth', 'not_found', 'private', 'bot_wall', 'malformed', 'unavailable', 'quota', 'config')",
            name=op.f("ck_monitor_states_last_error_kind"),
        ),
        sa.CheckConstraint(
            "last_outcome IN ('ok', 'failed', 'partial', 'not_modified')",
            name=op.f("ck_monitor_states_last_outcome"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_states")),
        sa.UniqueConstraint("key", name=op.f("uq_monitor_states_key")),
    )
    with op.batch_alter_table("monitor_states", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_monitor_states_next_run_at"), ["next_run_at"], unique=False
        )

    op.create_table(
        "monitor_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("error_kind", sa.String(length=20), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "action IN ('failing', 'recovered')", name=op.f("ck_monitor_events_action")
        ),
        sa.ForeignKeyConstraint(
            ["monitor_id"],
            ["monitor_states.id"],
            name=op.f("fk_monitor_events_monitor_id_monitor_states"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_events")),
    )
    with op.batch_alter_table("monitor_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_monitor_events_monitor_id_id"), ["monitor_id", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_monitor_events_notified_at_id"), ["notified_at", "id"], unique=False
        )

    op.create_table(
        "monitor_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("fetched", sa.Integer(), nullable=False),
        sa.Column("new", sa.Integer(), nullable=False),
        sa.Column("edited", sa.Integer(), nullable=False),
        sa.Column("gone", sa.Integer(), nullable=False),
        sa.Column("opened", sa.Integer(), nullable=False),
        sa.Column("fixed", sa.Integer(), nullable=False),
        sa.Column("regressed", sa.Integer(), nullable=False),
        sa.Column("error_kind", sa.String(length=20), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "error_kind IN ('rate_limited', 'auth', 'not_found', 'private', 'bot_wall', 'malformed', 'unavailable', 'quota', 'config')",
            name=op.f("ck_monitor_runs_error_kind"),
        ),
        sa.CheckConstraint(
            "outcome IN ('ok', 'failed', 'partial', 'not_modified')",
            name=op.f("ck_monitor_runs_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["monitor_id"],
            ["monitor_states.id"],
            name=op.f("fk_monitor_runs_monitor_id_monitor_states"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_runs")),
    )
    with op.batch_alter_table("monitor_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_monitor_runs_monitor_id_id"), ["monitor_id", "id"], unique=False
        )

    op.create_table(
        "monitor_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("monitor_key", sa.String(length=300), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_monitor_posts_post_id_posts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_posts")),
        sa.UniqueConstraint(
            "monitor_key", "post_id", name=op.f("uq_monitor_posts_monitor_key_post_id")
        ),
    )
    with op.batch_alter_table("monitor_posts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_monitor_posts_post_id"), ["post_id"], unique=False)

    op.create_table(
        "post_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint("action IN ('gone', 'reappeared')", name=op.f("ck_post_events_action")),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_post_events_post_id_posts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_events")),
    )
    with op.batch_alter_table("post_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_post_events_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_post_events_post_id_id"), ["post_id", "id"], unique=False
        )

    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("gone_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop them again (the record of posts, versions and violations is untouched)."""
    # Not in batch mode: SQLite (3.35+) drops a column in place, whereas rebuilding
    # the table would trip over the foreign keys that point at posts.
    op.drop_column("posts", "gone_at")

    with op.batch_alter_table("post_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_post_events_post_id_id"))
        batch_op.drop_index(batch_op.f("ix_post_events_at"))

    op.drop_table("post_events")
    with op.batch_alter_table("monitor_posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monitor_posts_post_id"))

    op.drop_table("monitor_posts")
    with op.batch_alter_table("monitor_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monitor_runs_monitor_id_id"))

    op.drop_table("monitor_runs")
    with op.batch_alter_table("monitor_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monitor_events_notified_at_id"))
        batch_op.drop_index(batch_op.f("ix_monitor_events_monitor_id_id"))

    op.drop_table("monitor_events")
    with op.batch_alter_table("monitor_states", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monitor_states_next_run_at"))

    op.drop_table("monitor_states")
