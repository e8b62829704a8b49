"""benchmarks/generate.py at tiny size: real scopes, and idempotent (a second run with the same
plan changes nothing; another plan reloads)."""

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from benchmarks.generate import Plan, generate, manager_username, sales_username

PLAN = Plan(customers=60, salespeople=4, departments=2, seed=3)


def fingerprint(url: str) -> tuple:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        customers = connection.execute(text(
            "SELECT md5(string_agg(id || name || coalesce(owner_id::text, '-') || coalesce(pool_id::text, '-'), ',' "
            "ORDER BY id)) FROM customers_customer")).scalar()
        contacts = connection.execute(text(
            "SELECT md5(string_agg(customer_id || name || coalesce(mobile, ''), ',' ORDER BY id)) "
            "FROM customers_contact")).scalar()
        users = connection.execute(text("SELECT count(*) FROM core_user WHERE username LIKE 'bench%'")).scalar()
    engine.dispose()
    return customers, contacts, users


def test_generate_twice_keeps_the_same_data(bench_url):
    first = generate(bench_url, PLAN, verbose=False)
    assert first["status"] == "loaded"
    assert first["customer"] == 60 and first["contact"] >= 60 and first["pool_move"] == 4
    before = fingerprint(bench_url)

    again = generate(bench_url, PLAN, verbose=False)

    assert again["status"] == "kept"
    assert fingerprint(bench_url) == before
    assert before[2] == 4 + 2  # salespeople and a manager per department, created once


def test_another_plan_reloads_and_the_same_seed_gives_the_same_rows(bench_url):
    generate(bench_url, PLAN, verbose=False)
    reference = fingerprint(bench_url)

    bigger = generate(bench_url, Plan(customers=80, salespeople=4, departments=2, seed=3), verbose=False)
    assert bigger["status"] == "loaded" and bigger["customer"] == 80
    assert fingerprint(bench_url) != reference

    back = generate(bench_url, PLAN, verbose=False)
    assert back["status"] == "loaded"
    assert fingerprint(bench_url)[:2] == reference[:2]  # seeded: the same names, owners and contacts


def test_each_salesperson_owns_their_share_but_a_tenth_waits_in_a_pool(bench_url):
    generate(bench_url, PLAN, verbose=False)
    engine = create_engine(bench_url, poolclass=NullPool)
    with engine.connect() as connection:
        owners = dict(connection.execute(text(
            "SELECT u.username, count(c.id) FROM core_user u LEFT JOIN customers_customer c ON c.owner_id = u.id "
            "WHERE u.username LIKE 'bench%' GROUP BY u.username")).all())
        pooled = connection.execute(text(
            "SELECT count(*) FROM customers_customer WHERE owner_id IS NULL AND pool_id IS NOT NULL")).scalar()
        managed = connection.execute(text(
            "SELECT count(*) FROM customers_pool_member m JOIN core_user u ON u.id = m.user_id "
            "WHERE m.manager AND u.username LIKE 'bench_manager%'")).scalar()
        roles = dict(connection.execute(text(
            "SELECT u.username, r.key FROM core_user u JOIN core_user_role ur ON ur.user_id = u.id "
            "JOIN core_role r ON r.id = ur.role_id WHERE u.username LIKE 'bench%'")).all())
    engine.dispose()
    assert pooled == 4  # the tenth of each salesperson's 15
    assert [owners[sales_username(k)] for k in range(4)] == [14, 14, 14, 14]
    assert owners[manager_username(0)] == 0  # managers read their department's, they own none
    assert managed == 2  # each department's pool is managed by its manager
    assert roles[sales_username(0)] == "sales" and roles[manager_username(1)] == "sales_manager"
