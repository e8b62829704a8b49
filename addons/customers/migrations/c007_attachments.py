"""customers_attachment: files attached to a customer (the bytes are core_stored_file rows);
the workbench's index on customers_customer (owner_id, next_followup_at)

Revision ID: c007
Revises: c006
"""

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "c007"
down_revision = "c006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "customers_attachment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers_customer.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("file_id", sa.Integer(), sa.ForeignKey("core_stored_file.id", ondelete="CASCADE"),
                  nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("core_user.id", ondelete="SET NULL")),
        sa.Column("updated_by", sa.Integer(), sa.ForeignKey("core_user.id", ondelete="SET NULL")),
    )
    op.create_index("ix_customers_customer_owner_next_followup", "customers_customer",
                    ["owner_id", "next_followup_at"])


def downgrade():
    op.drop_index("ix_customers_customer_owner_next_followup", table_name="customers_customer")
    op.drop_table("customers_attachment")
