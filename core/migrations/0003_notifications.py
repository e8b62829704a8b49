"""Notifications: what each user was told in the app, and their channels per kind.

Revision ID: 0003_notifications
Revises: 0002_jobs
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

import core.db.types

revision = "0003_notifications"
down_revision = "0002_jobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('core_notification',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=True),
    sa.Column('model', sa.String(length=128), nullable=False),
    sa.Column('record_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', core.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', core.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['core_user.id'], name=op.f('fk_core_notification_user_id_core_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_notification'))
    )
    with op.batch_alter_table('core_notification', schema=None) as batch_op:
        batch_op.create_index('ix_core_notification_user_newest', ['user_id', 'id'], unique=False)
        batch_op.create_index('ix_core_notification_user_unread', ['user_id', 'read_at', 'id'], unique=False)

    op.create_table('core_notification_preference',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['core_user.id'], name=op.f('fk_core_notification_preference_user_id_core_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'kind', 'channel', name=op.f('pk_core_notification_preference'))
    )


def downgrade() -> None:
    op.drop_table("core_notification_preference")
    op.drop_table("core_notification")
