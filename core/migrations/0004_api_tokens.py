"""API tokens (placeholder: tables arrive with their feature).

Revision ID: 0004_api_tokens
Revises: 0003_notifications
"""

revision = "0004_api_tokens"
down_revision = "0003_notifications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
