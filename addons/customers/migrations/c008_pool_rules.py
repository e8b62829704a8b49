"""公海 rules: pool members and managers, return days per customer level, locked customers
(customers_customer.locked, customers_pool.max_locked), the assignee of an "assigned" pool move

Revision ID: c008
Revises: c007
"""

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "c008"
down_revision = "c007"
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
        "customers_pool_member",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("pool_id", sa.Integer(), sa.ForeignKey("customers_pool.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("core_user.id", ondelete="CASCADE"), nullable=True,
                  index=True),
        sa.Column("department_id", sa.Integer(), sa.ForeignKey("core_department.id", ondelete="CASCADE"),
                  nullable=True, index=True),
        sa.Column("manager", sa.Boolean(), nullable=False),
        *_stamps(),
    )
    op.create_index("ix_customers_pool_member_pool", "customers_pool_member", ["pool_id", "user_id", "department_id"])
    op.create_table(
        "customers_pool_rule",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("pool_id", sa.Integer(), sa.ForeignKey("customers_pool.id", ondelete="CASCADE"), nullable=False),
        sa.Column("level", sa.String(1), nullable=False),
        sa.Column("days_without_followup", sa.Integer(), nullable=True),
        sa.Column("days_without_deal", sa.Integer(), nullable=True),
        *_stamps(),
        sa.UniqueConstraint("pool_id", "level"),
    )
    with op.batch_alter_table("customers_pool") as batch:
        batch.add_column(sa.Column("max_locked", sa.Integer(), nullable=True))
    with op.batch_alter_table("customers_customer") as batch:
        batch.add_column(sa.Column("locked", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("customers_pool_move") as batch:
        batch.add_column(sa.Column("assignee_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_customers_pool_move_assignee_id", "core_user", ["assignee_id"], ["id"],
                                 ondelete="SET NULL")


def downgrade():
    with op.batch_alter_table("customers_pool_move") as batch:
        batch.drop_constraint("fk_customers_pool_move_assignee_id", type_="foreignkey")
        batch.drop_column("assignee_id")
    with op.batch_alter_table("customers_customer") as batch:
        batch.drop_column("locked")
    with op.batch_alter_table("customers_pool") as batch:
        batch.drop_column("max_locked")
    op.drop_table("customers_pool_rule")
    op.drop_index("ix_customers_pool_member_pool", table_name="customers_pool_member")
    op.drop_table("customers_pool_member")
