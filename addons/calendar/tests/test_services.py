"""Items through the services: checks that write nothing on bad input (K1), time zones stored in
UTC and shown in the reader's zone (Asia/Shanghai vs America/New_York, DST, all-day items), who
sees what (private items, participants, a manager's scope), tasks done, answers to invitations."""

import datetime as dt
import zoneinfo

import pytest
from sqlalchemy import func, select

from addons.calendar import services
from addons.calendar.exceptions import (
    EndBeforeStart,
    FieldTooLong,
    KindInvalid,
    NotAParticipant,
    NotATask,
    ParticipantUnavailable,
    RelatedUnavailable,
    ReminderInvalid,
    RepeatInvalid,
    StartRequired,
    TitleRequired,
    TooLong,
    UnknownZone,
)
from addons.calendar.models import CalendarItem
from addons.calendar.occurrences import get_item, occurrences
from addons.calendar.services import ItemData
from core.access.exceptions import RecordNotFound
from core.models import AuditEntry, User
from core.notifications.models import Notification

from .conftest import as_user

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
UTC = dt.UTC


def new(env, users, who="zhang", **fields):
    fields.setdefault("title", "拜访阿里巴巴")
    fields.setdefault("start", dt.datetime(2026, 12, 7, 9, 0))
    fields.setdefault("tzid", "Asia/Shanghai")
    with env.ctx() as ctx:
        return services.create_item(as_user(ctx, users[who]), ItemData(**fields)).id


def window(env, users, who, first, last, tz, **options):
    """(title, local start, local end) of what ``who`` sees from day ``first`` to ``last``."""
    with env.ctx() as ctx:
        after = dt.datetime.combine(first, dt.time(), tz)
        before = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tz)
        return [(o.item.title, o.local_start(tz), o.local_end(tz))
                for o in occurrences(as_user(ctx, users[who]), after, before, tz, **options)]


def count(env):
    with env.ctx() as ctx:
        return ctx.dbsession.scalar(select(func.count()).select_from(CalendarItem))


def test_an_event_is_stored_in_utc_and_seen_in_each_readers_zone(company):
    env, users = company
    item_id = new(env, users, start=dt.datetime(2026, 12, 7, 9, 0), end=dt.datetime(2026, 12, 7, 10, 30),
                  participants=(users["lisi"],))
    with env.ctx() as ctx:
        item = ctx.dbsession.get(CalendarItem, item_id)
        assert (item.start_at, item.end_at) == (dt.datetime(2026, 12, 7, 1, 0, tzinfo=UTC),
                                                dt.datetime(2026, 12, 7, 2, 30, tzinfo=UTC))
    day = dt.date(2026, 12, 7)
    assert window(env, users, "zhang", day, day, SHANGHAI) == [
        ("拜访阿里巴巴", dt.datetime(2026, 12, 7, 9, 0), dt.datetime(2026, 12, 7, 10, 30))]
    # 09:00 in Shanghai is 20:00 the evening before in New York
    assert window(env, users, "lisi", day, day, NEW_YORK) == []
    assert window(env, users, "lisi", day - dt.timedelta(days=1), day - dt.timedelta(days=1), NEW_YORK) == [
        ("拜访阿里巴巴", dt.datetime(2026, 12, 6, 20, 0), dt.datetime(2026, 12, 6, 21, 30))]


def test_an_all_day_event_is_the_same_days_in_every_zone(company):
    env, users = company
    new(env, users, title="展会", all_day=True, start=None, start_date=dt.date(2026, 12, 7),
        end_date=dt.date(2026, 12, 8), participants=(users["lisi"],))
    for who, tz in (("zhang", SHANGHAI), ("lisi", NEW_YORK)):
        seen = window(env, users, who, dt.date(2026, 12, 1), dt.date(2026, 12, 31), tz)
        assert seen == [("展会", dt.datetime(2026, 12, 7), dt.datetime(2026, 12, 9))]
        assert window(env, users, who, dt.date(2026, 12, 9), dt.date(2026, 12, 9), tz) == []
        assert window(env, users, who, dt.date(2026, 12, 6), dt.date(2026, 12, 6), tz) == []


def test_a_weekly_series_keeps_its_wall_time_across_daylight_saving(company):
    """New York goes from EST to EDT on 2026-03-08: 09:00 stays 09:00, UTC moves an hour."""
    env, users = company
    item_id = new(env, users, who="lisi", title="周会", tzid="America/New_York",
                  start=dt.datetime(2026, 3, 2, 9, 0), end=dt.datetime(2026, 3, 2, 10, 0), rrule="FREQ=WEEKLY;COUNT=3")
    seen = window(env, users, "lisi", dt.date(2026, 3, 1), dt.date(2026, 3, 31), NEW_YORK)
    assert [start for _t, start, _e in seen] == [dt.datetime(2026, 3, d, 9, 0) for d in (2, 9, 16)]
    with env.ctx() as ctx:
        tz = NEW_YORK
        after, before = dt.datetime(2026, 3, 1, tzinfo=tz), dt.datetime(2026, 4, 1, tzinfo=tz)
        utc = [o.start for o in occurrences(as_user(ctx, users["lisi"]), after, before, tz)]
        assert [t.hour for t in utc] == [14, 13, 13]
        item = ctx.dbsession.get(CalendarItem, item_id)
        assert item.span_end >= dt.datetime(2026, 3, 16, 14, 0, tzinfo=UTC)
    # seen from Shanghai the same meeting is 22:00 before the change and 21:00 after it
    with env.ctx() as ctx:
        zhang_sees = [o.start.astimezone(SHANGHAI).hour for o in occurrences(
            as_user(ctx, users["lisi"]), after, before, SHANGHAI)]
        assert zhang_sees == [22, 21, 21]


def test_a_time_skipped_by_daylight_saving_is_read_an_hour_later(company):
    env, users = company
    item_id = new(env, users, who="lisi", title="凌晨", tzid="America/New_York", start=dt.datetime(2026, 3, 8, 2, 30))
    with env.ctx() as ctx:
        assert ctx.dbsession.get(CalendarItem, item_id).start_at == dt.datetime(2026, 3, 8, 7, 30, tzinfo=UTC)


@pytest.mark.parametrize(("fields", "error"), [
    ({"title": "  "}, TitleRequired),
    ({"title": "长" * 201}, FieldTooLong),
    ({"start": None}, StartRequired),
    ({"end": dt.datetime(2026, 12, 7, 8, 0)}, EndBeforeStart),
    ({"end": dt.datetime(2027, 12, 9, 8, 0)}, TooLong),
    ({"tzid": "Mars/Olympus"}, UnknownZone),
    ({"tzid": "EST5EDT;DROP"}, UnknownZone),
    ({"kind": "party"}, KindInvalid),
    ({"type": "lunch"}, KindInvalid),
    ({"rrule": "FREQ=HOURLY"}, RepeatInvalid),
    ({"rrule": "FREQ=DAILY;COUNT=5000"}, RepeatInvalid),
    ({"rrule": "nonsense"}, RepeatInvalid),
    ({"kind": "task", "rrule": "FREQ=DAILY"}, RepeatInvalid),
    ({"reminders": (-5,)}, ReminderInvalid),
    ({"reminders": (1, 2, 3, 4, 5, 6)}, ReminderInvalid),
    ({"reminders": (60 * 24 * 31,)}, ReminderInvalid),
    ({"related_table": "customers_customer", "related_id": 1}, RelatedUnavailable),
    ({"all_day": True, "start_date": dt.date(2026, 12, 7), "end_date": dt.date(2026, 12, 6)}, EndBeforeStart),
])
def test_bad_input_is_refused_and_nothing_is_written(company, fields, error):
    env, users = company
    with pytest.raises(error):
        new(env, users, **fields)
    assert count(env) == 0


def test_a_disabled_participant_is_refused_by_name(company):
    env, users = company
    with env.ctx() as ctx:
        ctx.dbsession.get(User, users["zhao"]).active = False
    with pytest.raises(ParticipantUnavailable) as refused:
        new(env, users, participants=(users["lisi"], users["zhao"]))
    assert refused.value.params["name"] == "赵六"
    with pytest.raises(ParticipantUnavailable):
        new(env, users, participants=(999999,))
    assert count(env) == 0


def test_creating_is_audited_and_participants_are_invited(company):
    env, users = company
    item_id = new(env, users, participants=(users["lisi"], users["zhang"]))
    with env.ctx() as ctx:
        entry = ctx.dbsession.scalar(select(AuditEntry).where(AuditEntry.model == "calendar_item",
                                                              AuditEntry.record_id == str(item_id)))
        assert entry.action == "create" and entry.changes["title"] == [None, "拜访阿里巴巴"]
        invited = ctx.dbsession.scalars(select(Notification.user_id).where(Notification.kind == "calendar.invited"))
        assert list(invited) == [users["lisi"]]  # the owner is no participant of their own item
        item = get_item(as_user(ctx, users["zhang"]), item_id)
        assert [a.user_id for a in item.attendees] == [users["lisi"]]


def test_a_private_item_is_seen_by_its_owner_and_participants_only(company):
    env, users = company
    new(env, users, title="私人体检", private=True)
    shared_id = new(env, users, title="私人会谈", private=True, participants=(users["lisi"],))
    day = dt.date(2026, 12, 7)
    assert [t for t, *_ in window(env, users, "zhang", day, day, SHANGHAI)] == ["私人体检", "私人会谈"]
    assert [t for t, *_ in window(env, users, "lisi", day, day, SHANGHAI)] == ["私人会谈"]
    # the manager's department scope reaches zhang's items, but not the private ones
    assert window(env, users, "wang", day, day, SHANGHAI) == []
    with env.ctx() as ctx:
        with pytest.raises(RecordNotFound):
            get_item(as_user(ctx, users["wang"]), shared_id)
        with pytest.raises(RecordNotFound):  # a participant reads but does not edit
            get_item(as_user(ctx, users["lisi"]), shared_id, "write")


def test_the_managers_scope_reaches_the_departments_items_and_no_further(company):
    env, users = company
    new(env, users, title="张三的拜访")
    new(env, users, who="zhao", title="赵六的拜访")
    day = dt.date(2026, 12, 7)
    assert [t for t, *_ in window(env, users, "wang", day, day, SHANGHAI)] == ["张三的拜访"]
    assert [t for t, *_ in window(env, users, "lisi", day, day, SHANGHAI)] == []
    assert [t for t, *_ in window(env, users, "wang", day, day, SHANGHAI, owners=[users["zhao"]])] == []


def test_a_declined_invitation_leaves_the_calendar(company):
    env, users = company
    item_id = new(env, users, participants=(users["lisi"],))
    day = dt.date(2026, 12, 7)
    with env.ctx() as ctx:
        services.respond(as_user(ctx, users["lisi"]), item_id, "accepted")
    assert len(window(env, users, "lisi", day - dt.timedelta(days=1), day, SHANGHAI)) == 1
    with env.ctx() as ctx:
        services.respond(as_user(ctx, users["lisi"]), item_id, "declined")
    assert window(env, users, "lisi", day - dt.timedelta(days=1), day, SHANGHAI) == []
    with env.ctx() as ctx, pytest.raises((NotAParticipant, RecordNotFound)):
        services.respond(as_user(ctx, users["wang"]), item_id, "accepted")
    with env.ctx() as ctx, pytest.raises(KindInvalid):
        services.respond(as_user(ctx, users["zhang"]), item_id, "maybe")


def test_a_task_is_done_and_reopened_and_an_event_cannot_be_done(company):
    env, users = company
    task_id = new(env, users, kind="task", title="寄合同")
    event_id = new(env, users)
    with env.ctx() as ctx:
        task = services.set_done(as_user(ctx, users["zhang"]), task_id)
        assert task.done_at is not None and task.end_at is None
    with env.ctx() as ctx:
        assert services.set_done(as_user(ctx, users["zhang"]), task_id, False).done_at is None
    with env.ctx() as ctx, pytest.raises(NotATask):
        services.set_done(as_user(ctx, users["zhang"]), event_id)
    with env.ctx() as ctx, pytest.raises(RecordNotFound):  # outside lisi's own scope
        services.set_done(as_user(ctx, users["lisi"]), task_id)


def test_editing_moves_the_item_and_tells_the_participants(company):
    env, users = company
    item_id = new(env, users, participants=(users["lisi"],))
    with env.ctx() as ctx:
        me = as_user(ctx, users["zhang"])
        data = services.data_of(get_item(me, item_id))
        services.update_item(me, item_id, data.__class__(**{**data.__dict__, "start": dt.datetime(2026, 12, 8, 14, 0),
                                                            "end": dt.datetime(2026, 12, 8, 15, 0)}))
    with env.ctx() as ctx:
        item = ctx.dbsession.get(CalendarItem, item_id)
        assert item.start_at == dt.datetime(2026, 12, 8, 6, 0, tzinfo=UTC)
        kinds = list(ctx.dbsession.scalars(select(Notification.kind).where(Notification.user_id == users["lisi"])
                                           .order_by(Notification.id)))
        assert kinds == ["calendar.invited", "calendar.changed"]


def test_deleting_removes_the_item_and_tells_the_participants(company):
    env, users = company
    item_id = new(env, users, participants=(users["lisi"],), reminders=(15,))
    with env.ctx() as ctx:
        services.delete_item(as_user(ctx, users["zhang"]), item_id)
    assert count(env) == 0
    with env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(func.count()).select_from(Notification)
                                    .where(Notification.kind == "calendar.changed")) == 1
        entry = ctx.dbsession.scalar(select(AuditEntry).where(AuditEntry.action == "delete"))
        assert entry.record_id == str(item_id)
