"""Custom fields: definitions (core_custom_field) and values (core_custom_value).

Revision ID: 0007_custom_fields
Revises: 0006_record_members
"""

import sqlalchemy as sa
from alembic import op

import core.db.types

revision = "0007_custom_fields"
down_revision = "0006_record_members"
branch_labels = None
depends_on = None


def _stamps(table):
    return [
        sa.Column("created_at", core.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", core.db.types.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["core_user.id"], name=op.f(f"fk_{table}_created_by_core_user"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["updated_by"], ["core_user.id"], name=op.f(f"fk_{table}_updated_by_core_user"),
                                ondelete="SET NULL"),
    ]


def upgrade() -> None:
    op.create_table(
        "core_custom_field",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=True),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_stamps("core_custom_field"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_custom_field")),
    )
    op.create_index("ix_core_custom_field_model_position", "core_custom_field", ["model", "position"])
    op.create_table(
        "core_custom_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("field_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("text_value", sa.String(length=500), nullable=True),
        sa.Column("number_value", sa.Numeric(precision=20, scale=4), nullable=True),
        sa.Column("date_value", sa.Date(), nullable=True),
        *_stamps("core_custom_value"),
        sa.ForeignKeyConstraint(["field_id"], ["core_custom_field.id"],
                                name=op.f("fk_core_custom_value_field_id_core_custom_field"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_custom_value")),
    )
    op.create_index("uq_core_custom_value_field_record", "core_custom_value", ["field_id", "record_id"], unique=True)
    op.create_index("ix_core_custom_value_field_text", "core_custom_value", ["field_id", "text_value"])
    op.create_index("ix_core_custom_value_field_number", "core_custom_value", ["field_id", "number_value"])
    op.create_index("ix_core_custom_value_field_date", "core_custom_value", ["field_id", "date_value"])
    op.create_index("ix_core_custom_value_record", "core_custom_value", ["record_id"])


def downgrade() -> None:
    op.drop_table("core_custom_value")
    op.drop_table("core_custom_field")
