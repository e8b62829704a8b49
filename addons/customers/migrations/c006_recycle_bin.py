"""recycle bin: deleted_at / deleted_by on customers, contacts and follow-ups

Revision ID: c006
Revises: c005
"""

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "c006"
down_revision = "c005"
branch_labels = None
depends_on = None

TABLES = ("customers_customer", "customers_contact", "customers_followup")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("deleted_at", UTCDateTime(), nullable=True))
            batch.add_column(sa.Column("deleted_by", sa.Integer(), nullable=True))
            batch.create_foreign_key(f"fk_{table}_deleted_by_core_user", "core_user", ["deleted_by"], ["id"],
                                     ondelete="SET NULL")
            batch.create_index(f"ix_{table}_deleted_at", ["deleted_at"])


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_deleted_at")
            batch.drop_constraint(f"fk_{table}_deleted_by_core_user", type_="foreignkey")
            batch.drop_column("deleted_by")
            batch.drop_column("deleted_at")
