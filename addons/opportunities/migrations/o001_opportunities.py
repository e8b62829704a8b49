"""opportunities_pipeline, opportunities_stage, opportunities_opportunity, opportunities_stage_change,
opportunities_target, opportunities_scoring_weight

Revision ID: o001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "o001"
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
        "opportunities_pipeline",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("department_id", sa.Integer(), sa.ForeignKey("core_department.id", ondelete="SET NULL"),
                  nullable=True, index=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_stamps(),
    )
    op.create_table(
        "opportunities_stage",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("pipeline_id", sa.Integer(), sa.ForeignKey("opportunities_pipeline.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("probability", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_stamps(),
    )
    op.create_index("ix_opportunities_stage_pipeline_sequence", "opportunities_stage", ["pipeline_id", "sequence"])
    op.create_table(
        "opportunities_opportunity",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers_customer.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("title", sa.String(200), nullable=False, index=True),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False, index=True),
        sa.Column("expected_close", sa.Date(), nullable=True, index=True),
        sa.Column("probability", sa.Integer(), nullable=False),
        sa.Column("pipeline_id", sa.Integer(), sa.ForeignKey("opportunities_pipeline.id"), nullable=False,
                  index=True),
        sa.Column("stage_id", sa.Integer(), sa.ForeignKey("opportunities_stage.id"), nullable=False, index=True),
        sa.Column("status", sa.String(10), nullable=False, index=True),
        sa.Column("stage_changed_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True, index=True),
        sa.Column("lost_reason", sa.Text(), nullable=True),
        sa.Column("competitor", sa.String(200), nullable=True),
        sa.Column("products", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("lead_id", sa.Integer(), nullable=True, index=True),
        sa.Column("overdue_notified_for", sa.Date(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False, index=True),
        sa.Column("score_factors", sa.JSON(), nullable=False),
        sa.Column("scored_at", UTCDateTime(), nullable=True),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("core_user.id", ondelete="SET NULL"), index=True),
        sa.Column("deleted_at", UTCDateTime(), nullable=True, index=True),
        sa.Column("deleted_by", sa.Integer(), sa.ForeignKey("core_user.id", ondelete="SET NULL")),
        *_stamps(),
    )
    op.create_index("ix_opportunities_opportunity_status_close", "opportunities_opportunity",
                    ["status", "expected_close"])
    op.create_index("ix_opportunities_opportunity_owner_status", "opportunities_opportunity", ["owner_id", "status"])
    op.create_index("ix_opportunities_opportunity_created_at", "opportunities_opportunity", ["created_at"])
    op.create_index("ix_opportunities_opportunity_updated_at", "opportunities_opportunity", ["updated_at"])
    op.create_table(
        "opportunities_stage_change",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("opportunity_id", sa.Integer(),
                  sa.ForeignKey("opportunities_opportunity.id", ondelete="CASCADE"), nullable=False),
        sa.Column("from_stage_id", sa.Integer(), sa.ForeignKey("opportunities_stage.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("to_stage_id", sa.Integer(), sa.ForeignKey("opportunities_stage.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("core_user.id", ondelete="SET NULL"), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False, index=True),
        *_stamps(),
    )
    op.create_index("ix_opportunities_stage_change_opportunity_at", "opportunities_stage_change",
                    ["opportunity_id", "at"])
    op.create_table(
        "opportunities_target",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("core_user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("month", sa.Date(), nullable=False, index=True),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        *_stamps(),
        sa.UniqueConstraint("user_id", "month", name="uq_opportunities_target_user_month"),
    )
    op.create_table(
        "opportunities_scoring_weight",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("factor", sa.String(30), nullable=False, unique=True),
        sa.Column("weight", sa.Integer(), nullable=False),
        *_stamps(),
    )


def downgrade():
    for table in ("opportunities_scoring_weight", "opportunities_target", "opportunities_stage_change", "opportunities_opportunity",
                  "opportunities_stage", "opportunities_pipeline"):
        op.drop_table(table)
