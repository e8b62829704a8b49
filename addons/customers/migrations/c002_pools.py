"""customers_pool, customers_pool_move; customers_customer.pool_id and acquired_at (公海)

Revision ID: c002
Revises: c001
"""

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "c002"
down_revision = "c001"
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
        "customers_pool",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("department_id", sa.Integer(), sa.ForeignKey("core_department.id", ondelete="SET NULL"),
                  nullable=True, index=True),
        sa.Column("max_owned", sa.Integer(), nullable=True),
        sa.Column("max_claims_per_day", sa.Integer(), nullable=True),
        sa.Column("reclaim_block_days", sa.Integer(), nullable=False),
        sa.Column("return_after_days_without_followup", sa.Integer(), nullable=True),
        sa.Column("return_after_days_without_deal", sa.Integer(), nullable=True),
        sa.Column("warn_days_before", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_stamps(),
    )
    op.create_table(
        "customers_pool_move",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers_customer.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("pool_id", sa.Integer(), sa.ForeignKey("customers_pool.id", ondelete="SET NULL"), nullable=True),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("core_user.id", ondelete="SET NULL"), nullable=True),
        sa.Column("previous_owner_id", sa.Integer(), sa.ForeignKey("core_user.id", ondelete="SET NULL"),
                  nullable=True, index=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        *_stamps(),
    )
    op.create_index("ix_customers_pool_move_user_action_at", "customers_pool_move", ["user_id", "action", "at"])
    with op.batch_alter_table("customers_customer") as batch:
        batch.add_column(sa.Column("pool_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("acquired_at", UTCDateTime(), nullable=True))
        batch.create_foreign_key("fk_customers_customer_pool_id", "customers_pool", ["pool_id"], ["id"],
                                 ondelete="SET NULL")
        batch.create_index("ix_customers_customer_pool_id", ["pool_id"])


def downgrade():
    with op.batch_alter_table("customers_customer") as batch:
        batch.drop_index("ix_customers_customer_pool_id")
        batch.drop_constraint("fk_customers_customer_pool_id", type_="foreignkey")
        batch.drop_column("acquired_at")
        batch.drop_column("pool_id")
    op.drop_table("customers_pool_move")
    op.drop_table("customers_pool")
