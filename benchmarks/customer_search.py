"""How customer name search scales: median and p95 of the global search provider and of the
customers list search over N generated customers on a throwaway PostgreSQL, as one admin
(every customer in scope: the most rows the indexes must narrow).

    python benchmarks/customer_search.py --customers 1000000 --repeat 25

Customers are realistic Chinese company names (region + two-character brand + industry +
company form), their pinyin and initials derived with pypinyin, half with a credit code,
loaded with COPY (deterministic seed); migration c003's indexes are dropped for the load and
created again from their own definitions, as a CREATE INDEX over the table. Measured in
process: "provider" is the search provider's query (what /search runs for customers),
"list" is the list's page and total (what /customers?q= runs); "/search page" and
"/customers page" are the whole requests through WebTest, rendering included.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select, text
from webtest import TestApp

from addons.customers.lists import CUSTOMERS_LIST
from benchmarks.bulk import indexes_dropped
from benchmarks.cluster import catalog_of, kehu_database, server_version
from benchmarks.list_page import login
from benchmarks.names import company_names
from core.cli.environment import CliEnvironment
from core.db import make_engine
from core.lists import query as lq
from core.models import User
from core.org.services import create_department, root_department
from core.testing.plugin import ADMIN, TEST_SECRET
from core.users.services import create_user
from core.web.app import make_app

RESULTS = Path(__file__).resolve().parent / "results"


def generate(rows: int, owners: list[int], seed: int = 7):
    """``rows`` unique customers as COPY rows: name, name_key, short_name, credit_code, pinyin,
    initials, owner_id, level, province; deterministic for ``seed``."""
    for made, company in enumerate(company_names(rows, seed)):
        owner = owners[made % len(owners)] if made % 10 else None
        yield (company.name, company.name_key, company.short_name, company.credit_code, company.pinyin,
               company.initials, owner, company.level, company.region)


def load(env: CliEnvironment, rows: int) -> list[str]:
    """Users, then the customers by COPY with c003's (and the other secondary) indexes dropped
    and created again afterwards; returns what a salesperson sees (a few of their names)."""
    with env.ctx() as ctx:
        east = create_department(ctx, "华东大区", root_department(ctx).id).id
        owners = [create_user(ctx, f"sales{n}", f"Spring-Tea-{70 + n}", roles=["sales"], department_id=east).id
                  for n in range(1, 21)]
    with indexes_dropped(env.engine, ["customers_customer"]) as indexes, env.engine.begin() as connection:
        raw = connection.connection.driver_connection
        now = dt.datetime.now(dt.UTC)
        with raw.cursor() as cursor, cursor.copy(
                "COPY customers_customer (name, name_key, short_name, credit_code, pinyin, initials, owner_id, "
                "level, province, key_customer, deal_status, created_at, updated_at) FROM STDIN") as copy:
            for n, row in enumerate(generate(rows, owners)):
                stamp = now - dt.timedelta(minutes=n)
                copy.write_row((*row, n % 50 == 0, "won" if n % 7 == 0 else "open", stamp, stamp))
    return indexes


def timings(run, repeat: int) -> dict[str, float]:
    run()  # warm
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"median_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[min(len(times) - 1, round(0.95 * len(times)) - 1)], 2),
            "max_ms": round(times[-1], 2)}


def queries(env: CliEnvironment) -> dict[str, str]:
    """The benchmark's queries, taken from the data so each has hits."""
    with env.engine.connect() as connection:
        code = connection.scalar(text("SELECT credit_code FROM customers_customer WHERE credit_code IS NOT NULL "
                                      "ORDER BY id DESC LIMIT 1"))
        name, initials, full = connection.execute(text(
            "SELECT name, initials, pinyin FROM customers_customer WHERE name LIKE '杭州%' ORDER BY id LIMIT 1")).one()
    brand = name[2:4]
    return {
        "initials (4 letters)": initials[2:6],
        "full pinyin (brand)": full[len("hangzhou"):][:10],
        "Chinese substring (4)": name[2:6],
        "2 chars, brand": brand,
        "2 chars, city 杭州": "杭州",
        "2 chars, common 科技": "科技",
        "1 char 港": "港",
        "2 letters 'hz'": "hz",
        "credit code": code,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=25)
    args = parser.parse_args()
    catalog = catalog_of(customers="addons.customers")
    with kehu_database(catalog, ["customers"]) as url:
        env = CliEnvironment(database_url=url, catalog=catalog)
        started = time.perf_counter()
        indexes = load(env, args.customers)
        load_seconds = time.perf_counter() - started
        print(f"generated and loaded {args.customers} customers, indexes rebuilt, in {load_seconds:.0f} s")
        cases = queries(env)
        env.engine.dispose()
        engine = make_engine(url)
        env = CliEnvironment(database_url=url, catalog=catalog)
        results: dict[str, dict] = {}
        with env.ctx() as ctx:
            ctx.user = ctx.dbsession.scalar(select(User).where(User.username == ADMIN[0]))
            request = types.SimpleNamespace(ctx=ctx, dbsession=ctx.dbsession, route_path=lambda *a, **k: "/")
            provider = next(p for batch in ctx.hooks.kehu_search_providers() for p in batch or ()
                            if p.id == "customers.customers")
            for label, q in cases.items():
                state = lq.ListState(q=q, sort=CUSTOMERS_LIST.default_sort, size=50)
                hits = len(provider.search(request, q, 11))
                total = lq.count(ctx, CUSTOMERS_LIST, state)
                results[label] = {
                    "q": q, "matches": total, "hits": hits,
                    "provider": timings(lambda q=q: provider.search(request, q, 11), args.repeat),
                    "list": timings(lambda state=state: (lq.keyset_page(ctx, CUSTOMERS_LIST, state),
                                                         lq.count(ctx, CUSTOMERS_LIST, state)), args.repeat),
                }
        report = {"customers": args.customers, "repeat": args.repeat, "user": "admin (all)",
                  "load_seconds": round(load_seconds, 1), "indexes": indexes,
                  "postgresql": server_version(url), "results": results}
        write(report)
        paths = ["provider", "list"]
        try:
            app = TestApp(make_app({"kehu.database_url": url, "kehu.secret": TEST_SECRET}, engine=engine,
                                   catalog=catalog))
            login(app, *ADMIN)
            for label, q in cases.items():
                results[label]["/search page"] = timings(lambda q=q: app.get("/search", {"q": q}, status=200),
                                                         args.repeat)
                results[label]["/customers page"] = timings(
                    lambda q=q: app.get("/customers", {"q": q}, status=200), args.repeat)
            paths += ["/search page", "/customers page"]
        except Exception as exc:  # the in-process timings stand on their own
            report["pages_failed"] = f"{type(exc).__name__}: {exc}"
            print(f"page timings skipped: {report['pages_failed']}")
        engine.dispose()
        print(f"\n{args.customers} customers, admin (all in scope), {args.repeat} runs each, ms "
              "(median / p95):")
        print(f"  {'query':24s} {'q':14s} {'matches':>8s}  " + "  ".join(f"{p:>16s}" for p in paths))
        for label, row in results.items():
            cells = "  ".join(f"{row[p]['median_ms']:7.1f} /{row[p]['p95_ms']:7.1f}" for p in paths)
            print(f"  {label:24s} {row['q'][:14]:14s} {row['matches']:8d}  {cells}")
        print(f"\nwritten {write(report)}")


def write(report: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"customer_search-{report['customers']}.json"
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2))
    return out


if __name__ == "__main__":
    main()
