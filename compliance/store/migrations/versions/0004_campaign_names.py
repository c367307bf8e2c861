"""Campaigns: keep a configured campaign's name and its jurisdictions.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04

Adds two nullable columns to ``campaigns``: ``name`` (the campaign's key in
compliance.yaml, e.g. ``glowlab-spring``: two campaigns of one brand are told
apart by it) and ``jurisdictions`` (a JSON list of ISO 3166 codes, e.g.
``["US", "GB", "DE"]``). The old ``jurisdiction`` String(8) column stays: it
cannot hold several codes, so new rows fill it only when the campaign has exactly
one jurisdiction, and leave it NULL otherwise (``jurisdictions`` is the one to read).

Existing rows keep every value and get NULL in both new columns: a campaign's row
is keyed by the SHA-256 of its content, from which its name cannot be recovered.
Types are written out, as in 0001.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the campaigns' name and jurisdictions."""
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("jurisdictions", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop them again (the other columns of the campaigns are untouched)."""
    # Not in batch mode: SQLite (3.35+) drops a column in place, whereas rebuilding
    # the table would trip over the foreign key that points at campaigns (posts).
    op.drop_column("campaigns", "jurisdictions")
    op.drop_column("campaigns", "name")
