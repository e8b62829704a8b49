"""customers_customer, customers_contact, customers_followup

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


def _standard():
    return [
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("core_user.id", ondelete="SET NULL"), index=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("core_user.id", ondelete="SET NULL")),
        sa.Column("updated_by", sa.Integer(), sa.ForeignKey("core_user.id", ondelete="SET NULL")),
    ]


def upgrade():
    op.create_table(
        "customers_customer",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_key", sa.String(200), nullable=False, unique=True),
        sa.Column("short_name", sa.String(100), nullable=True, index=True),
        sa.Column("credit_code", sa.String(18), nullable=True, unique=True),
        sa.Column("industry", sa.String(100), nullable=True, index=True),
        sa.Column("source", sa.String(100), nullable=True, index=True),
        sa.Column("level", sa.String(1), nullable=True, index=True),
        sa.Column("key_customer", sa.Boolean(), nullable=False, index=True),
        sa.Column("deal_status", sa.String(10), nullable=False, index=True),
        sa.Column("province", sa.String(50), nullable=True, index=True),
        sa.Column("city", sa.String(50), nullable=True),
        sa.Column("district", sa.String(50), nullable=True),
        sa.Column("address", sa.String(300), nullable=True),
        sa.Column("website", sa.String(200), nullable=True),
        sa.Column("remarks", sa.Text(), nullable=True),
        sa.Column("next_followup_at", UTCDateTime(), nullable=True, index=True),
        sa.Column("last_followup_at", UTCDateTime(), nullable=True, index=True),
        sa.Column("pinyin", sa.String(400), nullable=True, index=True),
        sa.Column("initials", sa.String(200), nullable=True, index=True),
        *_standard(),
    )
    op.create_index("ix_customers_customer_created_at", "customers_customer", ["created_at"])
    op.create_index("ix_customers_customer_updated_at", "customers_customer", ["updated_at"])
    op.create_index("ix_customers_customer_name", "customers_customer", ["name"])
    op.create_table(
        "customers_contact",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers_customer.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("name", sa.String(100), nullable=False, index=True),
        sa.Column("title", sa.String(100), nullable=True),
        sa.Column("mobile", sa.String(20), nullable=True, index=True),
        sa.Column("phone", sa.String(30), nullable=True),
        sa.Column("email", sa.String(200), nullable=True),
        sa.Column("wechat", sa.String(100), nullable=True),
        sa.Column("birthday", sa.Date(), nullable=True),
        sa.Column("primary", sa.Boolean(), nullable=False),
        *_standard(),
    )
    op.create_table(
        "customers_followup",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers_customer.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("next_at", UTCDateTime(), nullable=True),
        sa.Column("next_step", sa.String(200), nullable=True),
        *_standard(),
    )


def downgrade():
    op.drop_table("customers_followup")
    op.drop_table("customers_contact")
    op.drop_table("customers_customer")
