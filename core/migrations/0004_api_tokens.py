"""API tokens: personal access tokens of the JSON API, with their rate-limit counters.

Revision ID: 0004_api_tokens
Revises: 0003_notifications
"""

import sqlalchemy as sa
from alembic import op

import core.db.types

revision = "0004_api_tokens"
down_revision = "0003_notifications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('core_api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('scopes', sa.String(length=32), nullable=False),
    sa.Column('expires_at', core.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', core.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', core.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', core.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('rate_window', sa.Integer(), nullable=False),
    sa.Column('rate_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['core_user.id'], name=op.f('fk_core_api_token_user_id_core_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_core_api_token_token_hash'))
    )
    with op.batch_alter_table('core_api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_api_token_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_table('core_api_token')
