"""Demo calendars (``kehu demo``): for every demo region, the manager's weekly meeting with the
team invited; for each salesperson, visits, calls and a memo this week and next, and a task or
two. Times are the person's own; written through the services, so reminders are scheduled and
invitations sent as for a real user."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from core.models import User
from core.users.demo import DEMO_TEAMS

from . import services
from .models import CalendarItem
from .services import ItemData
from .times import wall, zone

#: (day of the week, hour, minutes long, type, title, location) per salesperson, cycling.
PLANS = (
    (0, 10, 60, "visit", "拜访客户：方案沟通", "客户办公室"),
    (1, 14, 30, "call", "电话回访老客户", ""),
    (2, 9, 90, "meeting", "产品演示", "公司会议室"),
    (3, 15, 60, "visit", "上门签约", "客户办公室"),
    (4, 11, 30, "memo", "整理本周拜访记录", ""),
)


def add_demo_items(ctx: Any) -> None:
    """Idempotent: nothing happens once any calendar item exists, or without the demo users."""
    if ctx.dbsession.scalar(select(CalendarItem.id).limit(1)) is not None:
        return
    users = {u.username: u for u in ctx.dbsession.scalars(select(User).where(User.username.in_(
        [login for _d, (manager, _n), people in DEMO_TEAMS for login in (manager, *(p for p, _ in people))])))}
    if not users:
        return
    for _department, (manager_login, _name), people in DEMO_TEAMS:
        manager = users.get(manager_login)
        team = [users[login] for login, _person in people if login in users]
        if manager is None:
            continue
        monday = _monday(ctx, manager)
        services.create_item(ctx.as_user(manager), ItemData(
            title="销售周例会", type="meeting", tzid=manager.timezone, location="公司会议室",
            start=dt.datetime.combine(monday, dt.time(9)), end=dt.datetime.combine(monday, dt.time(10)),
            rrule="FREQ=WEEKLY;BYDAY=MO", participants=tuple(p.id for p in team), reminders=(15,)))
        for index, person in enumerate(team):
            _person_week(ctx.as_user(person), person, _monday(ctx, person), index)
    ctx.dbsession.flush()


def _person_week(ctx: Any, person: User, monday: dt.date, index: int) -> None:
    for week in (0, 7):
        for offset in range(3):
            weekday, hour, minutes, kind, title, location = PLANS[(index + offset + week) % len(PLANS)]
            start = dt.datetime.combine(monday + dt.timedelta(days=weekday + week), dt.time(hour))
            services.create_item(ctx, ItemData(
                title=title, type=kind, tzid=person.timezone, location=location, start=start,
                end=start + dt.timedelta(minutes=minutes), reminders=(15,) if kind != "memo" else ()))
    services.create_item(ctx, ItemData(title="提交月度销售报表", kind="task", type="other", tzid=person.timezone,
                                       start=dt.datetime.combine(monday + dt.timedelta(days=4), dt.time(17)),
                                       reminders=(60,)))
    services.create_item(ctx, ItemData(title="行业展会", type="other", all_day=True, tzid=person.timezone,
                                       start_date=monday + dt.timedelta(days=12),
                                       end_date=monday + dt.timedelta(days=13)))


def _monday(ctx: Any, person: User) -> dt.date:
    today = wall(ctx.now, zone(person.timezone or "Asia/Shanghai")).date()
    return today - dt.timedelta(days=today.weekday())
