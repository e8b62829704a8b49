"""admin-editable choice lists (customers_choice) and tags (customers_tag, customers_customer_tag)

The default entries of the lists are loaded at install and upgrade by the addon's data loader
(``choices:seed_defaults``), not here.

Revision ID: c005
Revises: c004
"""

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "c005"
down_revision = "c004"
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
        "customers_choice",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("value", sa.String(100), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_stamps(),
        sa.UniqueConstraint("kind", "value", name="uq_customers_choice_kind_value"),
    )
    op.create_table(
        "customers_tag",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(30), nullable=False),
        sa.Column("colour", sa.String(20), nullable=False),
        *_stamps(),
        sa.UniqueConstraint("name", name="uq_customers_tag_name"),
    )
    op.create_table(
        "customers_customer_tag",
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers_customer.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("tag_id", sa.Integer(), sa.ForeignKey("customers_tag.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_index("ix_customers_customer_tag_tag_id", "customers_customer_tag", ["tag_id"])


def downgrade():
    op.drop_table("customers_customer_tag")
    op.drop_table("customers_tag")
    op.drop_table("customers_choice")
