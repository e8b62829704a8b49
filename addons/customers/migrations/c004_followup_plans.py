"""follow-up plans and their reminders: customers_followup_plan

Revision ID: c004
Revises: c003
"""

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "c004"
down_revision = "c003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "customers_followup_plan",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers_customer.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("reminded_at", UTCDateTime(), nullable=True),
        sa.Column("followup_id", sa.Integer(), sa.ForeignKey("customers_followup.id", ondelete="SET NULL"),
                  nullable=True, index=True),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("core_user.id", ondelete="SET NULL"), nullable=True,
                  index=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("core_user.id", ondelete="SET NULL")),
        sa.Column("updated_by", sa.Integer(), sa.ForeignKey("core_user.id", ondelete="SET NULL")),
    )
    # the reminder job: open plans not yet reminded, by due time
    op.create_index("ix_customers_followup_plan_due", "customers_followup_plan", ["state", "reminded_at", "due_at"])
    # a customer's open plans (its next follow-up, the customer page)
    op.create_index("ix_customers_followup_plan_customer_state", "customers_followup_plan",
                    ["customer_id", "state", "due_at"])


def downgrade():
    op.drop_table("customers_followup_plan")
