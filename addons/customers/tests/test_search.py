"""Customer search (issue 6 item 9) on both databases, from the home page's global search and
from the list: pinyin full and initials, Chinese substrings, one- and two-character queries,
short names, the credit code, the record scope; the SQLite FTS5 table kept in step by its
triggers; the PostgreSQL indexes of migration c003 and plans that use them."""

import pytest
from sqlalchemy import delete, insert, select, text, update

from addons.customers import services
from addons.customers.models import Customer
from addons.customers.names import pinyin_of
from addons.customers.search import FTS_TABLE, FTS_TRIGGERS, customer_search_condition, normalise_query
from addons.customers.tests.conftest import LISI, ZHANG
from core.models import User

CODE = "91350100M000100Y43"


@pytest.fixture
def found(app):
    """``found(user, q)`` → ``(ids from /search, ids from the customers list)``, as that user."""
    with app.env.ctx() as ctx:
        ctx.user = ctx.dbsession.get(User, app.users["zhang"])
        made = {
            "alibaba": services.create_customer(ctx, name="阿里巴巴网络技术有限公司", short_name="淘宝天猫",
                                                owner_id=app.users["zhang"]).id,
            "dalian": services.create_customer(ctx, name="大连港集团有限公司", credit_code=CODE,
                                               owner_id=app.users["zhang"]).id,
            "shanghai": services.create_customer(ctx, name="上海华信电子有限公司", short_name="华信",
                                                 owner_id=app.users["zhang"]).id,
            "latin": services.create_customer(ctx, name="ABC Trading 上海", owner_id=app.users["zhang"]).id,
            "theirs": services.create_customer(ctx, name="阿里山茶叶有限公司", owner_id=app.users["lisi"]).id,
        }
    people = {"zhang": ZHANG, "lisi": LISI}

    def search(user, q):
        app.reset()
        app.login(*people[user])
        page = app.get("/search", {"q": q})
        section = page.html.select_one('section[data-provider="customers.customers"]')
        global_ids = {_id(a["href"]) for a in section.select("li a")} if section else set()
        rows = app.get("/customers", {"q": q}).html.select("table a[href]")
        list_ids = {_id(a["href"]) for a in rows if _id(a["href"]) is not None}
        names = {value: key for key, value in made.items()}
        return {names[i] for i in global_ids if i in names}, {names[i] for i in list_ids if i in names}

    return search


def _id(href):
    tail = href.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() and href.startswith("/customers/") else None


@pytest.mark.parametrize(("q", "expected"), [
    ("alibaba", {"alibaba"}),             # full pinyin
    ("albb", {"alibaba"}),                # pinyin initials
    ("ALBB", {"alibaba"}),                # any case
    ("ａｌｂｂ", {"alibaba"}),              # full-width letters
    ("巴巴网络", {"alibaba"}),             # Chinese substring
    ("天猫", {"alibaba"}),                 # two characters of the short name
    ("淘宝天猫", {"alibaba"}),             # the whole short name
    ("阿里", {"alibaba"}),                 # two characters; 阿里山 is lisi's
    ("华信", {"shanghai"}),
    ("上海", {"shanghai", "latin"}),
    ("港", {"dalian"}),                    # one character
    ("al", {"alibaba"}),                   # short pinyin: the start, not every "dalian"
    ("d", {"dalian"}),
    ("trading", {"latin"}),
    ("abc trad", {"latin"}),
    (CODE, {"dalian"}),                    # the whole credit code
    (CODE.lower(), {"dalian"}),
    (CODE[:10], set()),                    # never part of it
    ("100%", set()),                       # LIKE wildcards are literal
    ("a_c", set()),
    ('"阿里', set()),
])
def test_search_finds_by_name_pinyin_short_name_and_credit_code(found, q, expected):
    assert found("zhang", q) == (expected, expected)


def test_another_salespersons_customer_is_not_found(found):
    assert found("lisi", "阿里") == ({"theirs"}, {"theirs"})
    assert found("lisi", "alibaba") == (set(), set())
    assert found("lisi", CODE) == (set(), set())


def test_the_query_is_matched_normalised():
    assert normalise_query("  ＡＬＢＢ ") == "albb"


def _fts_ids(ctx, q):
    phrase = '"' + q + '"'
    return set(ctx.dbsession.scalars(text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :q"), {"q": phrase}))


def _matching(ctx, q):
    return set(ctx.dbsession.scalars(select(Customer.id).where(customer_search_condition(ctx, q))))


def test_the_sqlite_index_follows_inserts_updates_and_deletes(company, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("the FTS5 table is SQLite's")
    env, users = company
    with env.ctx() as ctx:
        present = set(ctx.dbsession.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
        assert set(FTS_TRIGGERS) <= present  # c006 rebuilds the table; ensure_search_index restores them
        ctx.user = ctx.dbsession.get(User, users["zhang"])
        customer = services.create_customer(ctx, name="阿里巴巴网络技术有限公司")
        other = services.create_customer(ctx, name="腾讯科技有限公司", short_name="鹅厂科技")
        assert _fts_ids(ctx, "albb") == {customer.id}
        services.update_customer(ctx, customer.id, name="百度在线网络技术有限公司")
        assert _fts_ids(ctx, "albb") == set()
        assert _fts_ids(ctx, "bdzx") == {customer.id}
        assert _matching(ctx, "bdzx") == {customer.id}
        ctx.dbsession.execute(update(Customer).where(Customer.id == other.id).values(short_name="企鹅之家"))
        assert _fts_ids(ctx, "鹅厂科") == set()
        assert _fts_ids(ctx, "企鹅之") == {other.id}
        ctx.dbsession.execute(delete(Customer).where(Customer.id == customer.id))
        assert _fts_ids(ctx, "bdzx") == set()
        ctx.dbsession.execute(text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('integrity-check', 1)"))


def _pg_only(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL indexes")


def test_the_migration_creates_the_postgresql_indexes(company, database_url):
    _pg_only(database_url)
    env, _users = company
    with env.ctx() as ctx:
        rows = dict(ctx.dbsession.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'customers_customer'")).all())
    for name in ("name", "short_name", "pinyin", "initials"):
        assert "gin_trgm_ops" in rows[f"ix_customers_customer_{name}_trgm"]
    assert "gin (customers_name_grams(" in rows["ix_customers_customer_name_grams"]


def _plan(ctx, q):
    statement = select(Customer.id).where(customer_search_condition(ctx, q))
    compiled = statement.compile(ctx.dbsession.get_bind(), compile_kwargs={"literal_binds": True})
    return "\n".join(ctx.dbsession.scalars(text(f"EXPLAIN {compiled}")))


def test_postgresql_searches_use_the_trigram_and_grams_indexes(company, database_url):
    _pg_only(database_url)
    env, users = company
    with env.ctx() as ctx:
        rows = []
        for n in range(3000):
            name = f"{'上海北京深圳杭州'[n % 4 * 2:n % 4 * 2 + 2]}{n}号贸易有限公司"
            full, initials = pinyin_of(name)
            rows.append({"name": name, "name_key": f"k{n}", "pinyin": full, "initials": initials,
                         "owner_id": users["zhang"], "key_customer": False, "deal_status": "open",
                         "created_at": ctx.now, "updated_at": ctx.now})
        ctx.dbsession.execute(insert(Customer), rows)
        ctx.dbsession.execute(text("ANALYZE customers_customer"))
        ctx.dbsession.execute(text("SET LOCAL enable_seqscan = off"))
        assert "ix_customers_customer_initials_trgm" in _plan(ctx, "sh12")
        assert "ix_customers_customer_name_trgm" in _plan(ctx, "1234号")
        assert "ix_customers_customer_name_grams" in _plan(ctx, "海1")
        assert "Seq Scan" not in _plan(ctx, "杭州")
        assert "ix_customers_customer_name_grams" in _plan(ctx, "号")
        assert "ix_customers_customer_pinyin_trgm" in _plan(ctx, "sh")
        assert len(_matching(ctx, "1234号")) == 1
        assert len(_matching(ctx, "杭州")) == 750
