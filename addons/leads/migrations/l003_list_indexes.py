"""Indexes for the lead lists' budget filter and the pool list's "entered the pool" order

Revision ID: l003
Revises: l002
"""

from alembic import op

revision = "l003"
down_revision = "l002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_leads_lead_budget", "leads_lead", ["budget"])
    op.create_index("ix_leads_lead_updated_at", "leads_lead", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_leads_lead_updated_at", "leads_lead")
    op.drop_index("ix_leads_lead_budget", "leads_lead")
