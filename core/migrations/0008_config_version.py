"""The configuration counter beside the registry version (core_registry.config_version).

Revision ID: 0008_config_version
Revises: 0007_custom_fields
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_config_version"
down_revision = "0007_custom_fields"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("core_registry", sa.Column("config_version", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("core_registry") as batch:
        batch.drop_column("config_version")
