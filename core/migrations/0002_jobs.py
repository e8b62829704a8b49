"""Background jobs (placeholder: tables arrive with their feature).

Revision ID: 0002_jobs
Revises: 0001_core_tables
"""

revision = "0002_jobs"
down_revision = "0001_core_tables"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
