"""Team members of records (core_record_member).

Revision ID: 0006_record_members
Revises: 0005_lists_files_imports
"""

import sqlalchemy as sa
from alembic import op

import core.db.types

revision = "0006_record_members"
down_revision = "0005_lists_files_imports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "core_record_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("can_write", sa.Boolean(), nullable=False),
        sa.Column("until", core.db.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", core.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", core.db.types.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["core_user.id"], name=op.f("fk_core_record_member_user_id_core_user"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by"], ["core_user.id"],
                                name=op.f("fk_core_record_member_created_by_core_user"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["updated_by"], ["core_user.id"],
                                name=op.f("fk_core_record_member_updated_by_core_user"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_record_member")),
    )
    op.create_index("ix_core_record_member_user_model_record", "core_record_member", ["user_id", "model", "record_id"])
    op.create_index("uq_core_record_member_model_record_user", "core_record_member", ["model", "record_id", "user_id"],
                    unique=True)


def downgrade() -> None:
    op.drop_index("uq_core_record_member_model_record_user", table_name="core_record_member")
    op.drop_index("ix_core_record_member_user_model_record", table_name="core_record_member")
    op.drop_table("core_record_member")
