"""Customer name search that stays fast at a million customers: the WHERE clause of the global
search provider and of the customer lists, shaped for the indexes of migration c003.

What matches a query ``q`` (lowercased, NFKC):

- three characters or more: the name, short name, full pinyin or pinyin initials contain it
  ("alibaba", "albb", "里巴巴" all find 阿里巴巴);
- one or two Chinese characters: the name or short name contains it (most Chinese searches
  are two characters: 上海, 华信);
- one or two letters or digits: the pinyin, initials, name or short name start with it ("al",
  not every "dalian");
- always: the unified social credit code is exactly it.

PostgreSQL answers three characters and more, and short letter prefixes, from ``pg_trgm`` GIN
indexes, and one or two Chinese characters from a GIN index on the name's single characters and
character pairs (``customers_name_grams``); the patterns are inlined into the SQL text
(``literal_execute``) so that a statement psycopg prepares (after five runs) never falls back
to a generic plan, which plans blind to the pattern and runs about three times slower. SQLite
answers three characters and more from its FTS5 trigram table; shorter queries, and a SQLite
without FTS5 trigram, scan with LIKE — fine at the sizes SQLite is meant for.

Contacts (``contact_search_condition``) are people: their name is found from its start (张 finds
张伟 and 张三; a surname is what one types first), which an index on ``lower(name)`` answers on
both databases (migration c009), and their mobile exactly — never a contains-scan of every
contact.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    Text,
    and_,
    bindparam,
    false,
    func,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import ARRAY as PG_ARRAY
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.exc import OperationalError

from .models import Contact, Customer

FTS_TABLE = "customers_customer_fts"
FTS_COLUMNS = ("name", "short_name", "pinyin", "initials")
FTS_TRIGGERS = (f"{FTS_TABLE}_ai", f"{FTS_TABLE}_ad", f"{FTS_TABLE}_au")
#: Shorter queries hold no complete trigram.
TRIGRAM = 3
ESCAPE = "\\"
_FTS_KNOWN = "customers.fts"


def normalise_query(query: str) -> str:
    """The query as it is matched: NFKC (full-width letters become half-width), lowercase,
    trimmed."""
    return unicodedata.normalize("NFKC", query or "").strip().lower()


def customer_search_condition(ctx: Any, query: str) -> ColumnElement[bool]:
    """Customers matching ``query`` (see the module docstring), for ``model_search_provider``."""
    text = normalise_query(query)
    if not text:
        return false()
    parts = [_postgresql(text) if _dialect(ctx) == "postgresql" else _sqlite(ctx, text)]
    code = unicodedata.normalize("NFKC", query).strip().upper()
    if len(code) == 18 and code.isalnum():
        parts.append(Customer.credit_code == code)
    return or_(*parts)


def list_search_condition(ctx: Any, page: Any, q: str) -> ColumnElement[bool]:
    """The same, as a ``ListPage.search_condition``."""
    return customer_search_condition(ctx, q)


def contact_search_condition(ctx: Any, query: str) -> ColumnElement[bool]:
    """Contacts whose name starts with ``query`` (any case) or whose mobile is it, for the
    contacts' ``model_search_provider`` (see the module docstring). PostgreSQL reads the prefix
    from the ``text_pattern_ops`` index through an inlined LIKE pattern; SQLite, whose LIKE
    cannot use an expression index, from the index as a range of ``lower(name)``."""
    text = normalise_query(query)
    if not text:
        return false()
    name = func.lower(Contact.name)
    if _dialect(ctx) == "postgresql":
        by_name = name.like(_inline(f"{_escape(text)}%"), escape=ESCAPE)
    else:
        by_name = and_(name >= text, name < _successor(text))
    numbers = {query.strip()}
    digits = re.sub(r"\D", "", query)
    if digits:
        numbers.add(digits)
    return or_(by_name, Contact.mobile.in_(sorted(numbers)))


def contact_list_search_condition(ctx: Any, page: Any, q: str) -> ColumnElement[bool]:
    """The same, as the contacts list's ``search_condition``."""
    return contact_search_condition(ctx, q)


def _successor(text: str) -> str:
    """The least string after every string that starts with ``text`` (SQLite compares text by
    code point): its last character moved one on."""
    code = ord(text[-1]) + 1
    if 0xD800 <= code <= 0xDFFF:  # surrogates cannot be stored
        code = 0xE000
    return text[:-1] + chr(min(code, 0x10FFFF))


def _dialect(ctx: Any) -> str:
    return str(ctx.dbsession.get_bind().dialect.name)


def _escape(text: str) -> str:
    return text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def _inline(value: str) -> Any:
    """A pattern written into the SQL text rather than bound, for the planner to see (PostgreSQL)."""
    return bindparam(None, value, type_=String(), literal_execute=True)


def _postgresql(text: str) -> ColumnElement[bool]:
    if len(text) >= TRIGRAM:
        contains = _inline(f"%{_escape(text)}%")
        return or_(func.lower(Customer.name).like(contains, escape=ESCAPE),
                   func.lower(Customer.short_name).like(contains, escape=ESCAPE),
                   Customer.pinyin.like(contains, escape=ESCAPE), Customer.initials.like(contains, escape=ESCAPE))
    if text.isascii():  # "al", "b": the start of a pinyin, initials or name (trigram indexes, "  a", " al")
        starts = _inline(f"{_escape(text)}%")
        return or_(*(column.like(starts, escape=ESCAPE) for column in (
            func.lower(Customer.name), func.lower(Customer.short_name), Customer.pinyin, Customer.initials)))
    # 上海, 港: no pinyin holds them. The grams index finds the rows, the LIKE keeps its meaning
    # (a query with a space holds no gram). The grams are only computed to build the index.
    contains = _inline(f"%{_escape(text)}%")
    in_names = or_(func.lower(Customer.name).like(contains, escape=ESCAPE),
                   func.lower(Customer.short_name).like(contains, escape=ESCAPE))
    if any(c.isspace() for c in text):
        return in_names
    grams = type_coerce(func.customers_name_grams(Customer.name, Customer.short_name), PG_ARRAY(Text))
    return and_(grams.contains(array([_inline(text)])), in_names)


def _sqlite(ctx: Any, text: str) -> ColumnElement[bool]:
    if len(text) >= TRIGRAM and _has_fts(ctx):
        phrase = '"' + text.replace('"', '""') + '"'
        matching = select(literal_column("rowid")).select_from(sql_text(FTS_TABLE)).where(
            literal_column(FTS_TABLE).op("MATCH")(phrase))
        return Customer.id.in_(matching)
    if len(text) < TRIGRAM and text.isascii():
        starts = f"{_escape(text)}%"
        return or_(*(column.like(starts, escape=ESCAPE) for column in (
            func.lower(Customer.name), func.lower(Customer.short_name), Customer.pinyin, Customer.initials)))
    contains = f"%{_escape(text)}%"
    columns = [func.lower(Customer.name), func.lower(Customer.short_name)]
    if len(text) >= TRIGRAM:
        columns += [Customer.pinyin, Customer.initials]
    return or_(*(column.like(contains, escape=ESCAPE) for column in columns))


def _has_fts(ctx: Any) -> bool:
    """Whether the FTS5 table and the triggers keeping it in step are there (migration c003 on a
    SQLite with the trigram tokenizer); known once per database connection. Without them the
    search scans rather than read an index that may be stale."""
    info = ctx.dbsession.connection().info
    if not info.get(_FTS_KNOWN):
        names = set(ctx.dbsession.scalars(sql_text("SELECT name FROM sqlite_master WHERE name LIKE :prefix"),
                                          {"prefix": f"{FTS_TABLE}%"}))
        if not {FTS_TABLE, *FTS_TRIGGERS} <= names:
            return False
        info[_FTS_KNOWN] = True
    return True


def ensure_search_index(ctx: Any) -> None:
    """After every install and upgrade (addon.toml ``data``): on SQLite, the FTS5 table and its
    triggers are there, re-indexed if they were not — a migration that rebuilds
    ``customers_customer`` (batch "move and copy") drops the triggers with the old table."""
    if _dialect(ctx) != "sqlite":
        return
    names = set(ctx.dbsession.scalars(sql_text("SELECT name FROM sqlite_master WHERE name LIKE :prefix"),
                                      {"prefix": f"{FTS_TABLE}%"}))
    if not {FTS_TABLE, *FTS_TRIGGERS} <= names:
        create_sqlite_search(ctx.dbsession.connection(), rebuild=True)


def create_sqlite_search(connection: Any, *, rebuild: bool = True) -> bool:
    """Create the FTS5 table (filled from the customers already there when ``rebuild``) and the
    triggers that keep it in step; False when this SQLite has no FTS5 trigram tokenizer.

    Idempotent. A migration that rebuilds ``customers_customer`` on SQLite (batch "move and
    copy") drops the triggers with the old table and must call this again afterwards."""
    try:
        connection.exec_driver_sql("CREATE VIRTUAL TABLE temp.kehu_trigram_probe USING fts5(x, tokenize='trigram')")
    except OperationalError:
        return False
    connection.exec_driver_sql("DROP TABLE temp.kehu_trigram_probe")
    columns = ", ".join(FTS_COLUMNS)
    new = ", ".join(f"new.{c}" for c in FTS_COLUMNS)
    old = ", ".join(f"old.{c}" for c in FTS_COLUMNS)
    remove = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {columns}) VALUES ('delete', old.id, {old});"
    add = f"INSERT INTO {FTS_TABLE}(rowid, {columns}) VALUES (new.id, {new});"
    created = not connection.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE name = ?", (FTS_TABLE,)).first()
    connection.exec_driver_sql(f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5({columns}, "
                               f"content='customers_customer', content_rowid='id', tokenize='trigram')")
    if rebuild or created:
        connection.exec_driver_sql(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
    ai, ad, au = FTS_TRIGGERS
    for statement in (
        f"CREATE TRIGGER IF NOT EXISTS {ai} AFTER INSERT ON customers_customer BEGIN {add} END",
        f"CREATE TRIGGER IF NOT EXISTS {ad} AFTER DELETE ON customers_customer BEGIN {remove} END",
        (f"CREATE TRIGGER IF NOT EXISTS {au} AFTER UPDATE OF {columns} ON customers_customer "
         f"BEGIN {remove} {add} END"),
    ):
        connection.exec_driver_sql(statement)
    return True
