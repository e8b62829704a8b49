"""wider levels (String(20): an administrator's "VIP"), contact name-prefix and e-mail indexes

Levels were one letter (A/B/C/D) while the administrator's list (choices.py) accepts longer
values: ``customers_customer.level`` and ``customers_pool_rule.level`` become String(20).

Contacts: the global search's contact names match by prefix (search.contact_search_condition)
and 查重 compares e-mail addresses without case (duplicates._same_email); both read expression
indexes no model describes (``migration_only`` on Contact):

- ``ix_customers_contact_name_lower``: ``lower(name)`` — with ``text_pattern_ops`` on
  PostgreSQL, whose planner turns ``LIKE '张%'`` into a range scan of it under any collation;
  plain on SQLite, which the search reads with a range (``>= '张' AND < '弡'``);
- ``ix_customers_contact_email_lower``: ``lower(email)``.

On SQLite, ``customers_customer`` is not rebuilt (batch "move and copy"): with foreign keys on
(core.db.engine), dropping the old table would cascade-delete every contact, follow-up and plan
of every customer, and PRAGMA foreign_keys cannot be turned off inside the install's
transaction. SQLite does not enforce a VARCHAR length and VARCHAR(1) and VARCHAR(20) have the
same (TEXT) affinity, so only the declared type in the schema text changes, with SQLite's
documented ``writable_schema`` procedure for changes that leave the stored rows as they are.
``customers_pool_rule`` has no dependants and is rebuilt as usual.

Revision ID: c009
Revises: c008
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "c009"
down_revision = "c008"
branch_labels = None
depends_on = None

NAME_INDEX = "ix_customers_contact_name_lower"
EMAIL_INDEX = "ix_customers_contact_email_lower"


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_declared_type("customers_customer", "level", "VARCHAR(1)", "VARCHAR(20)")
    else:
        op.alter_column("customers_customer", "level", existing_type=sa.String(1), type_=sa.String(20),
                        existing_nullable=True)
    with op.batch_alter_table("customers_pool_rule") as batch:
        batch.alter_column("level", existing_type=sa.String(1), type_=sa.String(20), existing_nullable=False)
    pattern_ops = " text_pattern_ops" if op.get_bind().dialect.name == "postgresql" else ""
    op.execute(f"CREATE INDEX {NAME_INDEX} ON customers_contact (lower(name){pattern_ops})")
    op.execute(f"CREATE INDEX {EMAIL_INDEX} ON customers_contact (lower(email))")


def downgrade():
    op.execute(f"DROP INDEX IF EXISTS {EMAIL_INDEX}")
    op.execute(f"DROP INDEX IF EXISTS {NAME_INDEX}")
    with op.batch_alter_table("customers_pool_rule") as batch:
        batch.alter_column("level", existing_type=sa.String(20), type_=sa.String(1), existing_nullable=False)
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_declared_type("customers_customer", "level", "VARCHAR(20)", "VARCHAR(1)")
    else:
        op.alter_column("customers_customer", "level", existing_type=sa.String(20), type_=sa.String(1),
                        existing_nullable=True)


def _sqlite_declared_type(table, column, before, after):
    """Change a column's declared type in SQLite's schema text only (same affinity, rows
    untouched): https://www.sqlite.org/lang_altertable.html#otheralter"""
    connection = op.get_bind()
    sql = connection.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                                     (table,)).scalar_one()
    pattern = rf'((?:^|[(,\s])"?{column}"?\s+){re.escape(before)}(?=[\s,)])'
    changed, count = re.subn(pattern, lambda m: m.group(1) + after, sql, count=1)
    if count != 1:
        raise RuntimeError(f"{table}.{column} is not declared {before}")
    version = connection.exec_driver_sql("PRAGMA schema_version").scalar_one()
    connection.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        connection.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
                                   (changed, table))
        connection.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        connection.exec_driver_sql("PRAGMA writable_schema = OFF")
