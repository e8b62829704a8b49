"""How a declared list page and its export scale: medians of in-process requests on a throwaway
PostgreSQL with N owned records (the ``scoped`` fixture addon's notes), as a sales manager
(department scope, unmasked) and as a salesperson (own scope, masked).

    python benchmarks/list_page.py --rows 100000 --repeat 15

Measured in process through WebTest (no gunicorn, no network): the cost of Kehu's own work for
one request — SQL included. Load at concurrency is issue 7's harness (benchmarks/run.py).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text
from webtest import TestApp

from benchmarks.cluster import catalog_of, kehu_database
from core.cli.environment import CliEnvironment
from core.db import make_engine
from core.org.services import create_department, root_department
from core.testing.plugin import TEST_SECRET
from core.users.services import create_user
from core.web.app import make_app

MANAGER = ("wangwu", "Winter-Snow-99")
SALES = ("zhangsan", "Spring-Tea-77")
WORDS = ("上海", "北京", "深圳", "杭州", "广州", "南京", "成都", "武汉",
         "华信", "科技", "网络", "软件", "贸易", "实业", "集团", "电子")


def load(env: CliEnvironment, rows: int, seed: int = 7) -> None:
    """Departments, two users and ``rows`` notes in one INSERT … SELECT-free bulk insert."""
    rng = random.Random(seed)  # noqa: S311 (repeatable data, not secrets)
    with env.ctx() as ctx:
        east = create_department(ctx, "华东大区", root_department(ctx).id).id
        manager = create_user(ctx, *MANAGER, roles=["sales_manager"], department_id=east)
        sales = create_user(ctx, *SALES, roles=["sales"], department_id=east)
        owners = [manager.id, sales.id]
    with env.engine.begin() as connection:
        batch = []
        for n in range(rows):
            title = "".join(rng.sample(WORDS, 3)) + f"{n}"
            batch.append({"title": title, "mobile": f"138{n:08d}", "email": f"u{n}@example.com",
                          "level": rng.choice("ABC") if n % 3 == 0 else None, "owner_id": owners[n % 2]})
            if len(batch) == 5000 or n == rows - 1:
                connection.execute(text(
                    "INSERT INTO scoped_note (title, mobile, email, level, owner_id, created_at, updated_at) "
                    "VALUES (:title, :mobile, :email, :level, :owner_id, "
                    "now() - (random() * interval '400 days'), now())"),
                    batch)
                batch = []
        connection.execute(text("ANALYZE"))


def login(app: TestApp, username: str, password: str) -> None:
    form = app.get("/login").forms[0]
    form["username"], form["password"] = username, password
    assert form.submit().status_int == 303


def median_ms(app: TestApp, url: str, repeat: int) -> float:
    app.get(url)  # warm
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        app.get(url, status=200)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    catalog = catalog_of(scoped="tests.fixtures.addons.scoped")
    with kehu_database(catalog, ["scoped"]) as url:
        env = CliEnvironment(database_url=url, catalog=catalog)
        started = time.perf_counter()
        load(env, args.rows)
        print(f"loaded {args.rows} notes in {time.perf_counter() - started:.1f} s")
        env.engine.dispose()
        engine = make_engine(url)
        app = TestApp(make_app({"kehu.database_url": url, "kehu.secret": TEST_SECRET}, engine=engine,
                               catalog=catalog))
        cases = {
            "first page (50 rows, total)": "/notes",
            "first page, 100 rows": "/notes?size=100",
            "sort by title": "/notes?sort=title",
            "level = A": "/notes?filtered=1&op.level=eq&f.level=A",
            "created between": "/notes?filtered=1&op.created_at=between&f.created_at=2026-01-01"
                               "&to.created_at=2026-06-30",
            "search 华信 (substring)": "/notes?q=%E5%8D%8E%E4%BF%A1",
            "search a whole mobile": "/notes?q=13800001234",
            "export CSV (≤ 2,000 rows)": "/notes/export?format=csv&filtered=1&op.title=eq&f.title=x",
        }
        for who in (MANAGER, SALES):
            app.reset()
            login(app, *who)
            page = app.get("/notes?size=50")
            nxt = page.html.select_one("a[rel=next]")["href"]
            results = {name: median_ms(app, path, args.repeat) for name, path in cases.items()
                       if who is MANAGER or "export" not in path}  # salespeople may not export
            results["next page (keyset)"] = median_ms(app, nxt, args.repeat)
            print(f"\n{who[0]} ({'department scope, unmasked' if who is MANAGER else 'own scope, masked'}), "
                  f"{args.rows} notes, median of {args.repeat}:")
            for name, ms in results.items():
                print(f"  {name:32s} {ms:8.1f} ms")
        engine.dispose()


if __name__ == "__main__":
    main()
