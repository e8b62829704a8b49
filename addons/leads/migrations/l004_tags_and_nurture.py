"""Lead tags (leads_tag, leads_lead_tag), the nurture cadence (leads_lead.nurture_days and the
due time last reminded), and the indexes of the workbench card and the nurture reminder job

Revision ID: l004
Revises: l003
"""

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "l004"
down_revision = "l003"
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
        "leads_tag",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(30), nullable=False),
        sa.Column("colour", sa.String(20), nullable=False),
        *_stamps(),
        sa.UniqueConstraint("name", name="uq_leads_tag_name"),
    )
    op.create_table(
        "leads_lead_tag",
        sa.Column("lead_id", sa.Integer(), sa.ForeignKey("leads_lead.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("tag_id", sa.Integer(), sa.ForeignKey("leads_tag.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_index("ix_leads_lead_tag_tag_id", "leads_lead_tag", ["tag_id"])
    with op.batch_alter_table("leads_lead") as batch:
        batch.add_column(sa.Column("nurture_days", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("nurture_reminded_for", UTCDateTime(), nullable=True))
    op.create_index("ix_leads_lead_owner_next_followup", "leads_lead", ["owner_id", "next_followup_at"])
    op.create_index("ix_leads_lead_status_next_followup", "leads_lead", ["status", "next_followup_at"])


def downgrade():
    op.drop_index("ix_leads_lead_status_next_followup", "leads_lead")
    op.drop_index("ix_leads_lead_owner_next_followup", "leads_lead")
    with op.batch_alter_table("leads_lead") as batch:
        batch.drop_column("nurture_reminded_for")
        batch.drop_column("nurture_days")
    op.drop_table("leads_lead_tag")
    op.drop_table("leads_tag")
