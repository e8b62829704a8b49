"""Background jobs: the core_job queue table.

Revision ID: 0002_jobs
Revises: 0001_core_tables
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

import core.db.types

revision = "0002_jobs"
down_revision = "0001_core_tables"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('core_job',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('run_at', core.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('locked_by', sa.String(length=128), nullable=True),
    sa.Column('locked_until', core.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('started_at', core.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', core.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=255), nullable=True),
    sa.Column('created_at', core.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_job')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_core_job_dedupe_key'))
    )
    with op.batch_alter_table('core_job', schema=None) as batch_op:
        batch_op.create_index('ix_core_job_state_id', ['state', 'id'], unique=False)
        batch_op.create_index('ix_core_job_state_run_at', ['state', 'run_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('core_job', schema=None) as batch_op:
        batch_op.drop_index('ix_core_job_state_run_at')
        batch_op.drop_index('ix_core_job_state_id')
    op.drop_table('core_job')
