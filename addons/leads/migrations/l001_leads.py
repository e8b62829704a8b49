"""leads_pool, leads_lead, leads_move, leads_followup

Revision ID: l001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "l001"
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


def _owned():
    return [sa.Column("owner_id", sa.Integer(), sa.ForeignKey("core_user.id", ondelete="SET NULL"), index=True),
            sa.Column("deleted_at", UTCDateTime(), nullable=True, index=True),
            sa.Column("deleted_by", sa.Integer(), sa.ForeignKey("core_user.id", ondelete="SET NULL"))]


def upgrade():
    op.create_table(
        "leads_pool",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("department_id", sa.Integer(), sa.ForeignKey("core_department.id", ondelete="SET NULL"),
                  nullable=True, index=True),
        sa.Column("max_claims_per_day", sa.Integer(), nullable=True),
        sa.Column("max_open_per_user", sa.Integer(), nullable=True),
        sa.Column("return_after_days", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_stamps(),
    )
    op.create_table(
        "leads_lead",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, index=True),
        sa.Column("name_key", sa.String(200), nullable=False, index=True),
        sa.Column("contact_name", sa.String(100), nullable=True),
        sa.Column("mobile", sa.String(20), nullable=True, index=True),
        sa.Column("phone", sa.String(30), nullable=True),
        sa.Column("email", sa.String(200), nullable=True),
        sa.Column("wechat", sa.String(100), nullable=True),
        sa.Column("address", sa.String(300), nullable=True),
        sa.Column("province", sa.String(50), nullable=True, index=True),
        sa.Column("city", sa.String(50), nullable=True),
        sa.Column("source", sa.String(100), nullable=True, index=True),
        sa.Column("industry", sa.String(100), nullable=True, index=True),
        sa.Column("level", sa.String(20), nullable=True, index=True),
        sa.Column("requirement", sa.Text(), nullable=True),
        sa.Column("budget", sa.Numeric(14, 2), nullable=True),
        sa.Column("status", sa.String(12), nullable=False, index=True),
        sa.Column("remarks", sa.Text(), nullable=True),
        sa.Column("pool_id", sa.Integer(), sa.ForeignKey("leads_pool.id", ondelete="SET NULL"), nullable=True,
                  index=True),
        sa.Column("acquired_at", UTCDateTime(), nullable=True),
        sa.Column("last_followup_at", UTCDateTime(), nullable=True, index=True),
        sa.Column("next_followup_at", UTCDateTime(), nullable=True, index=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers_customer.id", ondelete="SET NULL"),
                  nullable=True, index=True),
        sa.Column("converted_at", UTCDateTime(), nullable=True),
        *_owned(),
        *_stamps(),
    )
    op.create_index("ix_leads_lead_created_at", "leads_lead", ["created_at"])
    op.create_index("ix_leads_lead_owner_status", "leads_lead", ["owner_id", "status"])
    op.create_index("ix_leads_lead_pool_owner", "leads_lead", ["pool_id", "owner_id"])
    op.create_table(
        "leads_move",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("lead_id", sa.Integer(), sa.ForeignKey("leads_lead.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("pool_id", sa.Integer(), sa.ForeignKey("leads_pool.id", ondelete="SET NULL"), nullable=True),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("core_user.id", ondelete="SET NULL"), nullable=True),
        sa.Column("previous_owner_id", sa.Integer(), sa.ForeignKey("core_user.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        *_stamps(),
    )
    op.create_index("ix_leads_move_user_action_at", "leads_move", ["user_id", "action", "at"])
    op.create_table(
        "leads_followup",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("lead_id", sa.Integer(), sa.ForeignKey("leads_lead.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("next_at", UTCDateTime(), nullable=True),
        sa.Column("next_step", sa.String(200), nullable=True),
        *_owned(),
        *_stamps(),
    )


def downgrade():
    for table in ("leads_followup", "leads_move", "leads_lead", "leads_pool"):
        op.drop_table(table)
