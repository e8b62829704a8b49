"""How the calendar's pages scale with the size of the calendar: medians of in-process requests
on a throwaway PostgreSQL holding N items of a department's people over two years (three
weekly series without an end each, a fifth tasks, a tenth with participants), read by a salesperson (own items and
invitations) and by their manager (the team view).

    python benchmarks/calendar_views.py --items 100000 --repeat 15

Measured in process through WebTest (no gunicorn, no network): Kehu's own work for one request,
SQL included. Every page reads a window (a week, a month, two weeks, a day), so its cost should
follow what the window holds, not N.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text
from webtest import TestApp

from benchmarks.cluster import catalog_of, kehu_database
from benchmarks.list_page import login, median_ms
from core.cli.environment import CliEnvironment
from core.db import make_engine
from core.org.services import create_department, root_department
from core.testing.plugin import TEST_SECRET
from core.users.services import create_user
from core.web.app import make_app

MANAGER = ("wangwu", "Winter-Snow-99")
PASSWORD = "Spring-Tea-77"  # noqa: S105 (a throwaway database's salespeople)
PEOPLE = 20
#: Weekly series without an end per person (a weekly meeting, a Monday call …).
SERIES = 3
TITLES = ("拜访", "电话回访", "产品演示", "周例会", "签约", "报价", "培训", "整理资料")
TYPES = ("visit", "call", "meeting", "memo", "other")
UTC = dt.UTC


def load(env: CliEnvironment, items: int, today: dt.date, seed: int = 7) -> None:
    """A manager, PEOPLE salespeople and ``items`` items from a year ago to a year ahead."""
    from addons.calendar.models import Attendee, CalendarItem

    rng = random.Random(seed)  # noqa: S311 (repeatable data, not secrets)
    with env.ctx() as ctx:
        east = create_department(ctx, "华东大区", root_department(ctx).id).id
        create_user(ctx, *MANAGER, roles=["sales_manager"], department_id=east)
        people = [create_user(ctx, f"sales{n}", PASSWORD, roles=["sales"], department_id=east).id
                  for n in range(1, PEOPLE + 1)]
    first = dt.datetime.combine(today - dt.timedelta(days=365), dt.time(1), tzinfo=UTC)
    with env.engine.begin() as connection:
        rows, guests = [], []
        for n in range(items):
            start = first + dt.timedelta(days=rng.randrange(730), hours=rng.randrange(10))
            task, series = n % 5 == 0, n < SERIES * PEOPLE
            row = {"title": rng.choice(TITLES) + str(n), "kind": "task" if task else "event",
                   "type": rng.choice(TYPES), "tzid": "Asia/Shanghai", "owner_id": people[n % PEOPLE],
                   "start_at": start, "end_at": None if task else start + dt.timedelta(hours=1),
                   "span_start": start, "span_end": None if series else start + dt.timedelta(hours=0 if task else 1),
                   "rrule": "FREQ=WEEKLY" if series else None, "wide": series, "exdates": [], "private": n % 17 == 0,
                   "all_day": False, "created_at": start, "updated_at": start}
            rows.append(row)
            if len(rows) == 5000 or n == items - 1:
                ids = connection.execute(insert(CalendarItem.__table__).returning(CalendarItem.__table__.c.id),
                                         rows).scalars().all()
                guests = [{"item_id": item_id, "user_id": people[(i + 1) % PEOPLE], "response": "pending"}
                          for i, item_id in enumerate(ids) if i % 10 == 3]
                if guests:
                    connection.execute(insert(Attendee.__table__), guests)
                rows = []
        connection.execute(text("ANALYZE"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    catalog = catalog_of(calendar="addons.calendar")
    today = dt.date.today()
    monday = today - dt.timedelta(days=today.weekday())
    with kehu_database(catalog, ["calendar"]) as url:
        env = CliEnvironment(database_url=url, catalog=catalog)
        started = time.perf_counter()
        load(env, args.items, today)
        print(f"loaded {args.items} items in {time.perf_counter() - started:.1f} s")
        env.engine.dispose()
        engine = make_engine(url)
        app = TestApp(make_app({"kehu.database_url": url, "kehu.secret": TEST_SECRET}, engine=engine,
                               catalog=catalog))
        week = f"start={monday.isoformat()}T00:00:00&end={(monday + dt.timedelta(days=7)).isoformat()}T00:00:00"
        month = (f"start={(monday - dt.timedelta(days=7)).isoformat()}T00:00:00"
                 f"&end={(monday + dt.timedelta(days=35)).isoformat()}T00:00:00")
        cases = {
            "week (events.json)": f"/calendar/events.json?{week}",
            "month, 6 weeks (events.json)": f"/calendar/events.json?{month}",
            "agenda, two weeks": "/calendar/agenda",
            "workbench with today": "/",
        }
        for who, extra in (((("sales1", PASSWORD)), {}), (MANAGER, {"team view, 21 people": "/calendar/team"})):
            app.reset()
            login(app, *who)
            results = {name: median_ms(app, path, args.repeat) for name, path in {**cases, **extra}.items()}
            print(f"\n{who[0]}, {args.items} items, median of {args.repeat}:")
            for name, ms in results.items():
                print(f"  {name:32s} {ms:8.1f} ms")
        engine.dispose()


if __name__ == "__main__":
    main()
