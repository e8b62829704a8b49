"""Repeating items: expansion inside the window only (a series without end, capped), the rules
the form builds, and the three edit and delete modes — this occurrence, this and the following,
the whole series — with their exceptions kept."""

import dataclasses
import datetime as dt
import zoneinfo

import pytest
from sqlalchemy import select

from addons.calendar import recurrence, services
from addons.calendar.exceptions import EditModeInvalid, OccurrenceUnknown, RepeatInvalid, WindowInvalid
from addons.calendar.models import CalendarItem
from addons.calendar.occurrences import get_item, occurrence_at, occurrences
from addons.calendar.recurrence import Repeat
from addons.calendar.services import ItemData

from .conftest import as_user

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
MONDAY = dt.datetime(2026, 12, 7, 9, 0)


def series(env, users, rule="FREQ=DAILY;COUNT=5", **fields):
    fields = {"title": "晨会", "start": MONDAY, "end": MONDAY + dt.timedelta(minutes=30), "rrule": rule, **fields}
    with env.ctx() as ctx:
        return services.create_item(as_user(ctx, users["zhang"]), ItemData(**fields)).id


def seen(env, users, first=dt.date(2026, 12, 1), last=dt.date(2026, 12, 31), who="zhang"):
    """(title, local start) of what the window shows."""
    with env.ctx() as ctx:
        after = dt.datetime.combine(first, dt.time(), SHANGHAI)
        before = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), SHANGHAI)
        return [(o.item.title, o.local_start(SHANGHAI))
                for o in occurrences(as_user(ctx, users[who]), after, before, SHANGHAI)]


def edit(env, users, item_id, key, mode, **changes):
    with env.ctx() as ctx:
        me = as_user(ctx, users["zhang"])
        item = get_item(me, item_id)
        data = dataclasses.replace(services.data_of(item, occurrence_at(item, key)), **changes)
        return services.update_item(me, item_id, data, key=key, mode=mode).id


def remove(env, users, item_id, key, mode):
    with env.ctx() as ctx:
        services.delete_item(as_user(ctx, users["zhang"]), item_id, key=key, mode=mode)


def days(found):
    return [start.day for _title, start in found]


def test_the_form_builds_rules_and_refuses_bad_ones():
    assert Repeat("WEEKLY", 2, ("FR", "MO")).rule() == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR"
    assert Repeat("MONTHLY", until=dt.date(2027, 6, 30)).rule() == "FREQ=MONTHLY;UNTIL=20270630T235959"
    assert Repeat("YEARLY", count=3).rule() == "FREQ=YEARLY;COUNT=3"
    for bad in (Repeat("HOURLY"), Repeat("DAILY", 0), Repeat("DAILY", 100), Repeat("DAILY", count=0),
                Repeat("DAILY", until=dt.date(2027, 1, 1), count=3), Repeat("WEEKLY", weekdays=("XX",))):
        with pytest.raises(RepeatInvalid):
            bad.rule()
    assert recurrence.describe("FREQ=WEEKLY;BYDAY=MO,WE;COUNT=4") == Repeat("WEEKLY", 1, ("MO", "WE"), None, 4)


def test_daily_weekly_monthly_and_yearly_series_expand_in_the_window(company):
    env, users = company
    series(env, users, "FREQ=DAILY;COUNT=5", title="每天")
    series(env, users, "FREQ=WEEKLY;BYDAY=MO,WE", title="每周一三")
    series(env, users, "FREQ=MONTHLY;INTERVAL=1", title="每月")
    series(env, users, "FREQ=YEARLY", title="每年")
    found = seen(env, users)
    assert days([f for f in found if f[0] == "每天"]) == [7, 8, 9, 10, 11]
    assert days([f for f in found if f[0] == "每周一三"]) == [7, 9, 14, 16, 21, 23, 28, 30]
    assert days([f for f in found if f[0] == "每月"]) == [7]
    assert days(seen(env, users, dt.date(2027, 12, 1), dt.date(2027, 12, 31))) == [1, 6, 7, 7, 8, 13, 15, 20, 22,
                                                                                       27, 29]


def test_a_series_without_end_is_expanded_only_in_the_window_and_capped(company):
    env, users = company
    item_id = series(env, users, "FREQ=DAILY")
    with env.ctx() as ctx:
        assert ctx.dbsession.get(CalendarItem, item_id).span_end is None  # no end: found by every later window
    assert len(seen(env, users, dt.date(2030, 1, 1), dt.date(2030, 1, 31))) == 31
    assert len(seen(env, users, dt.date(2026, 12, 1), dt.date(2027, 12, 31))) == 390
    assert len(recurrence.starts_between("FREQ=DAILY", MONDAY, MONDAY, MONDAY.replace(year=2040))) == \
        recurrence.WINDOW_CAP
    after = dt.datetime(2026, 1, 1, tzinfo=SHANGHAI)
    with env.ctx() as ctx, pytest.raises(WindowInvalid):
        occurrences(as_user(ctx, users["zhang"]), after, after + dt.timedelta(days=500), SHANGHAI)


def test_an_occurrence_that_the_series_does_not_have_is_unknown(company):
    env, users = company
    item_id = series(env, users)
    for key in ("2026-12-07T10:00", "2026-12-20T09:00", "garbage"):
        with pytest.raises(OccurrenceUnknown):
            edit(env, users, item_id, key, "one", title="x")
    with pytest.raises(EditModeInvalid):
        edit(env, users, item_id, "2026-12-08T09:00", "some", title="x")


def test_editing_one_occurrence_makes_an_exception_and_leaves_the_others(company):
    env, users = company
    item_id = series(env, users, participants=(users["lisi"],))
    alone = edit(env, users, item_id, "2026-12-09T09:00", "one", title="改期晨会",
                 start=dt.datetime(2026, 12, 9, 15, 0), end=dt.datetime(2026, 12, 9, 16, 0))
    assert alone != item_id
    found = seen(env, users)
    assert found[2] == ("改期晨会", dt.datetime(2026, 12, 9, 15, 0))
    assert [t for t, _s in found] == ["晨会", "晨会", "改期晨会", "晨会", "晨会"]
    with env.ctx() as ctx:
        exception = ctx.dbsession.get(CalendarItem, alone)
        assert (exception.series_id, exception.recurrence_key, exception.rrule) == (item_id, "2026-12-09T09:00", None)
        assert ctx.dbsession.get(CalendarItem, item_id).exdates == ["2026-12-09T09:00"]
    # the participant of the series takes part in the exception too
    assert ("改期晨会", dt.datetime(2026, 12, 9, 15, 0)) in seen(env, users, who="lisi")


def test_editing_this_and_following_splits_the_series(company):
    env, users = company
    item_id = series(env, users, "FREQ=DAILY;COUNT=5")
    edit(env, users, item_id, "2026-12-08T09:00", "one", title="单独一次")
    rest = edit(env, users, item_id, "2026-12-10T09:00", "following", title="下午晨会",
                start=dt.datetime(2026, 12, 10, 14, 0), end=dt.datetime(2026, 12, 10, 14, 30))
    found = seen(env, users)
    assert found == [("晨会", dt.datetime(2026, 12, 7, 9)), ("单独一次", dt.datetime(2026, 12, 8, 9)),
                     ("晨会", dt.datetime(2026, 12, 9, 9)), ("下午晨会", dt.datetime(2026, 12, 10, 14)),
                     ("下午晨会", dt.datetime(2026, 12, 11, 14))]
    with env.ctx() as ctx:
        assert "UNTIL=20261210T085959" in ctx.dbsession.get(CalendarItem, item_id).rrule
        assert ctx.dbsession.get(CalendarItem, rest).rrule == "FREQ=DAILY;COUNT=2"


def test_editing_this_and_following_carries_later_exceptions_to_the_new_series(company):
    env, users = company
    item_id = series(env, users, "FREQ=DAILY")
    moved = edit(env, users, item_id, "2026-12-12T09:00", "one", title="周六例外")
    remove(env, users, item_id, "2026-12-13T09:00", "one")
    rest = edit(env, users, item_id, "2026-12-10T09:00", "following", start=dt.datetime(2026, 12, 10, 10, 0),
                end=dt.datetime(2026, 12, 10, 10, 30))
    with env.ctx() as ctx:
        exception = ctx.dbsession.get(CalendarItem, moved)
        assert (exception.series_id, exception.recurrence_key) == (rest, "2026-12-12T10:00")
        assert ctx.dbsession.get(CalendarItem, rest).exdates == ["2026-12-12T10:00", "2026-12-13T10:00"]
    found = seen(env, users, dt.date(2026, 12, 7), dt.date(2026, 12, 14))
    assert found == [("晨会", dt.datetime(2026, 12, d, 9)) for d in (7, 8, 9)] + [
        ("晨会", dt.datetime(2026, 12, 10, 10)), ("晨会", dt.datetime(2026, 12, 11, 10)),
        ("周六例外", dt.datetime(2026, 12, 12, 9)), ("晨会", dt.datetime(2026, 12, 14, 10))]


def test_editing_all_moves_the_whole_series_and_its_exceptions_keys(company):
    env, users = company
    item_id = series(env, users, "FREQ=DAILY;COUNT=5")
    alone = edit(env, users, item_id, "2026-12-09T09:00", "one", title="例外")
    remove(env, users, item_id, "2026-12-10T09:00", "one")
    # moved an hour later from the third occurrence: the whole series moves an hour
    same = edit(env, users, item_id, "2026-12-08T09:00", "all", title="十点晨会",
                start=dt.datetime(2026, 12, 8, 10, 0), end=dt.datetime(2026, 12, 8, 10, 45))
    assert same == item_id
    found = seen(env, users)
    assert found == [("十点晨会", dt.datetime(2026, 12, 7, 10)), ("十点晨会", dt.datetime(2026, 12, 8, 10)),
                     ("例外", dt.datetime(2026, 12, 9, 9)), ("十点晨会", dt.datetime(2026, 12, 11, 10))]
    with env.ctx() as ctx:
        item = ctx.dbsession.get(CalendarItem, item_id)
        assert item.end_at - item.start_at == dt.timedelta(minutes=45)
        assert ctx.dbsession.get(CalendarItem, alone).recurrence_key == "2026-12-09T10:00"


def test_deleting_one_following_or_all(company):
    env, users = company
    item_id = series(env, users, "FREQ=DAILY;COUNT=5")
    edit(env, users, item_id, "2026-12-11T09:00", "one", title="最后一次")
    remove(env, users, item_id, "2026-12-08T09:00", "one")
    assert days(seen(env, users)) == [7, 9, 10, 11]
    remove(env, users, item_id, "2026-12-10T09:00", "following")
    assert days(seen(env, users)) == [7, 9]  # the exception after the cut goes too
    remove(env, users, item_id, "2026-12-07T09:00", "following")  # from the first: the whole series
    assert seen(env, users) == []
    with env.ctx() as ctx:
        assert ctx.dbsession.scalars(select(CalendarItem)).all() == []


def test_deleting_all_takes_the_exceptions_along(company):
    env, users = company
    item_id = series(env, users)
    edit(env, users, item_id, "2026-12-09T09:00", "one", title="例外")
    remove(env, users, item_id, "2026-12-08T09:00", "all")
    assert seen(env, users) == []


def test_an_all_day_series_repeats_by_dates(company):
    env, users = company
    with env.ctx() as ctx:
        item = services.create_item(as_user(ctx, users["zhang"]), ItemData(
            title="月末盘点", all_day=True, start_date=dt.date(2026, 12, 30), end_date=dt.date(2026, 12, 31),
            rrule="FREQ=MONTHLY;COUNT=3"))
        item_id = item.id
    assert seen(env, users, dt.date(2026, 12, 1), dt.date(2027, 3, 31)) == [
        ("月末盘点", dt.datetime(2026, 12, 30)), ("月末盘点", dt.datetime(2027, 1, 30)),
        ("月末盘点", dt.datetime(2027, 3, 30))]  # dateutil skips 30 February, as RFC 5545 says
    remove(env, users, item_id, "2027-01-30", "one")
    assert len(seen(env, users, dt.date(2026, 12, 1), dt.date(2027, 3, 31))) == 2
