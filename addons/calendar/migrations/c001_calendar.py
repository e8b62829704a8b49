"""calendar_item, calendar_attendee, calendar_reminder, calendar_feed

Revision ID: c001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "c001"
down_revision = None
branch_labels = None
depends_on = None


def _stamps():
    return [
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("core_user.id", ondelete="SET NULL")),
        sa.Column("updated_by", sa.Integer(), sa.ForeignKey("core_user.id", ondelete="SET NULL")),
    ]


def upgrade():
    op.create_table(
        "calendar_item",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("type", sa.String(10), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("location", sa.String(200), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("all_day", sa.Boolean(), nullable=False),
        sa.Column("tzid", sa.String(64), nullable=False),
        sa.Column("start_at", UTCDateTime(), nullable=True),
        sa.Column("end_at", UTCDateTime(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("span_start", UTCDateTime(), nullable=False),
        sa.Column("span_end", UTCDateTime(), nullable=True),
        sa.Column("wide", sa.Boolean(), nullable=False),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("rrule", sa.String(300), nullable=True),
        sa.Column("exdates", sa.JSON(), nullable=False),
        sa.Column("series_id", sa.Integer(), sa.ForeignKey("calendar_item.id", ondelete="SET NULL"), nullable=True,
                  index=True),
        sa.Column("recurrence_key", sa.String(20), nullable=True),
        sa.Column("related_table", sa.String(64), nullable=True),
        sa.Column("related_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(40), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("uid", sa.String(255), nullable=True, index=True),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("core_user.id", ondelete="SET NULL"), index=True),
        *_stamps(),
    )
    op.create_index("ix_calendar_item_owner_span", "calendar_item", ["owner_id", "wide", "span_start"])
    op.create_index("ix_calendar_item_span", "calendar_item", ["wide", "span_start"])
    op.create_index("ix_calendar_item_source", "calendar_item", ["source", "source_id"])
    op.create_index("ix_calendar_item_related", "calendar_item", ["related_table", "related_id"])
    op.create_table(
        "calendar_attendee",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("calendar_item.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("core_user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("response", sa.String(10), nullable=False),
        *_stamps(),
    )
    op.create_index("uq_calendar_attendee_item_user", "calendar_attendee", ["item_id", "user_id"], unique=True)
    op.create_index("ix_calendar_attendee_user", "calendar_attendee", ["user_id"])
    op.create_table(
        "calendar_reminder",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("calendar_item.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("minutes_before", sa.Integer(), nullable=False),
        sa.Column("next_key", sa.String(20), nullable=True),
        sa.Column("next_fire_at", UTCDateTime(), nullable=True),
        *_stamps(),
    )
    op.create_index("ix_calendar_reminder_next_fire", "calendar_reminder", ["next_fire_at"])
    op.create_table(
        "calendar_feed",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("core_user.id", ondelete="CASCADE"), nullable=False,
                  unique=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        *_stamps(),
    )


def downgrade():
    for table in ("calendar_feed", "calendar_reminder", "calendar_attendee", "calendar_item"):
        op.drop_table(table)
