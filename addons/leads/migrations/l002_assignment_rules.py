"""leads_rule, leads_assignee (automatic assignment, L3)

Revision ID: l002
Revises: l001
"""

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "l002"
down_revision = "l001"
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
        "leads_rule",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("strategy", sa.String(20), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("core_user.id", ondelete="SET NULL"), nullable=True),
        sa.Column("department_id", sa.Integer(), sa.ForeignKey("core_department.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("last_user_id", sa.Integer(), sa.ForeignKey("core_user.id", ondelete="SET NULL"), nullable=True),
        *_stamps(),
    )
    op.create_table(
        "leads_assignee",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("core_user.id", ondelete="CASCADE"), nullable=False,
                  unique=True),
        sa.Column("away_until", sa.Date(), nullable=True),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("work_start", sa.Time(), nullable=True),
        sa.Column("work_end", sa.Time(), nullable=True),
        *_stamps(),
    )


def downgrade():
    op.drop_table("leads_assignee")
    op.drop_table("leads_rule")
