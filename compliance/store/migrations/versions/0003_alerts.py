"""Alerts: the outbox, the notification log, group flush times and silences.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04

Types are written out here rather than imported from compliance.store.models:
a migration describes the schema as it was at its revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Create the alerting tables."""
    op.create_table(
        "alert_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receiver", sa.String(length=100), nullable=False),
        sa.Column("group_key", sa.String(length=500), nullable=False),
        _at("flushed_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_groups")),
        sa.UniqueConstraint(
            "receiver", "group_key", name=op.f("uq_alert_groups_receiver_group_key")
        ),
    )
    op.create_table(
        "silences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("matchers", sa.JSON(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        _at("created_at"),
        _at("starts_at"),
        _at("expires_at"),
        sa.Column("expired_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_silences")),
    )
    op.create_index(op.f("ix_silences_expires_at"), "silences", ["expires_at"], unique=False)
    op.create_table(
        "alert_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receiver", sa.String(length=100), nullable=False),
        sa.Column("route", sa.String(length=100), nullable=False),
        sa.Column("group_key", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("violation_id", sa.Integer(), nullable=True),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("change_key", sa.String(length=200), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("group_interval", sa.Integer(), nullable=False),
        sa.Column("repeat_interval", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        _at("created_at"),
        _at("due_at"),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        _at("sent_at", nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'retrying', 'sent', 'dead', 'dropped')",
            name=op.f("ck_alert_outbox_status"),
        ),
        sa.ForeignKeyConstraint(
            ["violation_id"],
            ["violations.id"],
            name=op.f("fk_alert_outbox_violation_id_violations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_outbox")),
    )
    op.create_index(
        op.f("ix_alert_outbox_receiver_group_key_status"),
        "alert_outbox",
        ["receiver", "group_key", "status"],
        unique=False,
    )
    op.create_index(
        op.f("ix_alert_outbox_status_due_at"), "alert_outbox", ["status", "due_at"], unique=False
    )
    op.create_index(
        op.f("ix_alert_outbox_violation_id"), "alert_outbox", ["violation_id"], unique=False
    )
    op.create_table(
        "notification_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("violation_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("receiver", sa.String(length=100), nullable=False),
        sa.Column("change_key", sa.String(length=200), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        _at("first_sent_at"),
        _at("sent_at"),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["violation_id"],
            ["violations.id"],
            name=op.f("fk_notification_log_violation_id_violations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_log")),
        sa.UniqueConstraint(
            "subject",
            "state",
            "receiver",
            name=op.f("uq_notification_log_subject_state_receiver"),
        ),
    )
    op.create_index(
        op.f("ix_notification_log_violation_id"),
        "notification_log",
        ["violation_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_notification_log_sent_at"), "notification_log", ["sent_at"], unique=False
    )


def downgrade() -> None:
    """Drop the alerting tables."""
    op.drop_index(op.f("ix_notification_log_sent_at"), table_name="notification_log")
    op.drop_index(op.f("ix_notification_log_violation_id"), table_name="notification_log")
    op.drop_table("notification_log")
    op.drop_index(op.f("ix_alert_outbox_violation_id"), table_name="alert_outbox")
    op.drop_index(op.f("ix_alert_outbox_status_due_at"), table_name="alert_outbox")
    op.drop_index(op.f("ix_alert_outbox_receiver_group_key_status"), table_name="alert_outbox")
    op.drop_table("alert_outbox")
    op.drop_index(op.f("ix_silences_expires_at"), table_name="silences")
    op.drop_table("silences")
    op.drop_table("alert_groups")
