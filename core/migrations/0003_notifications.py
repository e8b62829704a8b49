"""Notifications (placeholder: tables arrive with their feature).

Revision ID: 0003_notifications
Revises: 0002_jobs
"""

revision = "0003_notifications"
down_revision = "0002_jobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
