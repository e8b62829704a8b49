"""name search indexes (pg_trgm on PostgreSQL, FTS5 trigram on SQLite)

What addons/customers/search.py queries, indexed so that a search stays fast at a million
customers. None of it is a model: these are index structures the database derives from
``customers_customer`` (see the docstrings of ``search.py``).

PostgreSQL: ``pg_trgm`` GIN indexes on ``lower(name)``, ``lower(short_name)``, ``pinyin`` and
``initials`` for queries of three characters or more (and letter prefixes), and a GIN index on
the characters and character pairs of the name and short name
(``customers_name_grams(name, short_name)``) for one- and two-character queries (港, 上海, 华信),
which hold no complete trigram.

SQLite: an FTS5 ``trigram`` table over the same four columns, external content kept in step
by triggers. A SQLite without FTS5 trigram (before 3.34) gets no table and searches with LIKE.
A later migration that rebuilds ``customers_customer`` on SQLite (batch "move and copy", as
c006 does) drops these triggers with the old table; ``search.ensure_search_index``, run after
every install and upgrade, creates them again and re-indexes.

Revision ID: c003
Revises: c002
"""

import logging

from alembic import op

revision = "c003"
down_revision = "c002"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)

FTS_TABLE = "customers_customer_fts"
TRIGRAM_INDEXES = {
    "ix_customers_customer_name_trgm": "lower(name)",
    "ix_customers_customer_short_name_trgm": "lower(short_name)",
    "ix_customers_customer_pinyin_trgm": "pinyin",
    "ix_customers_customer_initials_trgm": "initials",
}
GRAMS_INDEX = "ix_customers_customer_name_grams"

# Every character and every two adjacent characters of the lowercased name and short name: the
# keys of a one- or two-character search (GIN drops the duplicates; keys with a space are never
# asked for). IMMUTABLE so that an index may use it; queries only meet it as an index condition.
GRAMS_FUNCTION = r"""
CREATE OR REPLACE FUNCTION customers_name_grams(name text, short_name text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE COST 1000 AS $$
  SELECT string_to_array(t.s, NULL) || ARRAY(SELECT substr(t.s, i, 2) FROM generate_series(1, char_length(t.s) - 1) AS i)
  FROM (SELECT lower(coalesce(name, '') || ' ' || coalesce(short_name, ''))) AS t(s)
$$
"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        create_sqlite_search()


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name in (*TRIGRAM_INDEXES, GRAMS_INDEX):
            op.execute(f"DROP INDEX IF EXISTS {name}")
        op.execute("DROP FUNCTION IF EXISTS customers_name_grams(text, text)")
        # pg_trgm stays: other addons' indexes may use it.
    else:
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")


def _upgrade_postgresql():
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in TRIGRAM_INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON customers_customer USING gin ({expression} gin_trgm_ops)")
    op.execute(GRAMS_FUNCTION)
    op.execute(f"CREATE INDEX {GRAMS_INDEX} ON customers_customer USING gin (customers_name_grams(name, short_name))")


def create_sqlite_search():
    """The FTS5 table, filled from the rows already there, and its triggers (search.py)."""
    from addons.customers.search import create_sqlite_search as create

    if not create(op.get_bind()):
        log.warning("this SQLite has no FTS5 trigram tokenizer: customer search scans the table")
