"""Core tables: addons and the registry version; users, departments, roles, grants, scopes;
login sessions and throttles; the append-only audit log.

Revision ID: 0001_core_tables
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

import core.db.types

revision = "0001_core_tables"
down_revision = None
branch_labels = None
depends_on = None

BUILTIN_ROLES = [
    # key, name (an English msgid, shown translated), default record scope
    ("admin", "Administrator", "all"),
    ("sales_manager", "Sales manager", "department_tree"),
    ("sales", "Salesperson", "own"),
    ("service", "Customer service", "own"),
    ("marketing", "Marketing", "own"),
    ("auditor", "Auditor", "all"),
]

REFUSE_AUDIT_CHANGES = """
CREATE FUNCTION core_audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'core_audit is append-only: % refused', TG_OP;
END;
$$;
CREATE TRIGGER core_audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON core_audit
    FOR EACH STATEMENT EXECUTE FUNCTION core_audit_refuse_change();
"""


def _department_fk_inline() -> list:
    """core_user and core_department refer to each other: SQLite takes the forward reference
    inline, PostgreSQL gets the constraint once both tables exist."""
    if op.get_bind().dialect.name == "sqlite":
        return [sa.ForeignKeyConstraint(["department_id"], ["core_department.id"],
                                        name=op.f("fk_core_user_department_id_core_department"), ondelete="RESTRICT")]
    return []


def upgrade() -> None:
    op.create_table('core_addon',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('installed_at', core.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_core_addon'))
    )

    op.create_table('core_registry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_registry'))
    )

    op.create_table('core_user',
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=128), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('last_login_at', core.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('post', sa.String(length=64), nullable=False),
    sa.Column('totp_secret', sa.String(length=64), nullable=True),
    sa.Column('totp_enabled', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', core.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['core_user.id'], name=op.f('fk_core_user_created_by_core_user'), ondelete='SET NULL'),
    *_department_fk_inline(),
    sa.ForeignKeyConstraint(['updated_by'], ['core_user.id'], name=op.f('fk_core_user_updated_by_core_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_user')),
    sa.UniqueConstraint('username', name=op.f('uq_core_user_username'))
    )
    with op.batch_alter_table('core_user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_user_department_id'), ['department_id'], unique=False)

    op.create_table('core_department',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('path', sa.String(length=255), nullable=False),
    sa.Column('manager_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('sort', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', core.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['core_user.id'], name=op.f('fk_core_department_created_by_core_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['manager_id'], ['core_user.id'], name=op.f('fk_core_department_manager_id_core_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['parent_id'], ['core_department.id'], name=op.f('fk_core_department_parent_id_core_department'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['updated_by'], ['core_user.id'], name=op.f('fk_core_department_updated_by_core_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_department'))
    )
    with op.batch_alter_table('core_department', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_department_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_core_department_path'), ['path'], unique=False)

    op.create_table('core_login_session',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', core.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', core.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', core.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('user_agent', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['core_user.id'], name=op.f('fk_core_login_session_user_id_core_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_login_session'))
    )
    with op.batch_alter_table('core_login_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_login_session_user_id'), ['user_id'], unique=False)

    op.create_table('core_role',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('builtin', sa.Boolean(), nullable=False),
    sa.Column('default_scope', sa.String(length=20), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', core.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['core_user.id'], name=op.f('fk_core_role_created_by_core_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['updated_by'], ['core_user.id'], name=op.f('fk_core_role_updated_by_core_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_role')),
    sa.UniqueConstraint('key', name=op.f('uq_core_role_key'))
    )

    op.create_table('core_role_permission',
    sa.Column('role_id', sa.Integer(), nullable=False),
    sa.Column('permission', sa.String(length=128), nullable=False),
    sa.ForeignKeyConstraint(['role_id'], ['core_role.id'], name=op.f('fk_core_role_permission_role_id_core_role'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('role_id', 'permission', name=op.f('pk_core_role_permission'))
    )

    op.create_table('core_role_scope',
    sa.Column('role_id', sa.Integer(), nullable=False),
    sa.Column('model_key', sa.String(length=128), nullable=False),
    sa.Column('scope', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['role_id'], ['core_role.id'], name=op.f('fk_core_role_scope_role_id_core_role'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('role_id', 'model_key', name=op.f('pk_core_role_scope'))
    )

    op.create_table('core_user_role',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['role_id'], ['core_role.id'], name=op.f('fk_core_user_role_role_id_core_role'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['core_user.id'], name=op.f('fk_core_user_role_user_id_core_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'role_id', name=op.f('pk_core_user_role'))
    )
    with op.batch_alter_table('core_user_role', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_user_role_role_id'), ['role_id'], unique=False)

    op.create_table('core_permission',
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('first_seen_at', core.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_core_permission'))
    )

    op.create_table('core_login_throttle',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', core.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('locked_until', core.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_core_login_throttle'))
    )

    op.create_table('core_audit',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', core.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('model', sa.String(length=128), nullable=False),
    sa.Column('record_id', sa.String(length=64), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_audit'))
    )
    with op.batch_alter_table('core_audit', schema=None) as batch_op:
        batch_op.create_index('ix_core_audit_action_at', ['action', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_core_audit_at'), ['at'], unique=False)
        batch_op.create_index('ix_core_audit_model_record', ['model', 'record_id'], unique=False)
        batch_op.create_index('ix_core_audit_user_at', ['user_id', 'at'], unique=False)

    if op.get_bind().dialect.name != "sqlite":
        op.create_foreign_key(op.f("fk_core_user_department_id_core_department"), "core_user", "core_department",
                              ["department_id"], ["id"], ondelete="RESTRICT")
        op.execute(REFUSE_AUDIT_CHANGES)
    op.execute("INSERT INTO core_registry (id, version) VALUES (1, 1)")
    roles = sa.table("core_role", sa.column("key"), sa.column("name"), sa.column("description"),
                     sa.column("builtin"), sa.column("default_scope"), sa.column("created_at"),
                     sa.column("updated_at"))
    now = sa.func.current_timestamp()
    for key, name, scope in BUILTIN_ROLES:
        op.execute(roles.insert().values(key=key, name=name, description="", builtin=True, default_scope=scope,
                                         created_at=now, updated_at=now))


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP TRIGGER core_audit_append_only ON core_audit")
        op.execute("DROP FUNCTION core_audit_refuse_change()")
        op.drop_constraint(op.f("fk_core_user_department_id_core_department"), "core_user", type_="foreignkey")
    op.drop_table("core_audit")
    op.drop_table("core_login_throttle")
    op.drop_table("core_permission")
    op.drop_table("core_user_role")
    op.drop_table("core_role_scope")
    op.drop_table("core_role_permission")
    op.drop_table("core_role")
    op.drop_table("core_login_session")
    op.drop_table("core_department")
    op.drop_table("core_user")
    op.drop_table("core_registry")
    op.drop_table("core_addon")
