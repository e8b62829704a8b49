"""iCalendar (issue 9 §6): an item as .ics (timed with its zone, all-day with an exclusive end,
a series with its skipped and changed occurrences, tasks) read back with ``icalendar``; who may
download which item; the secret subscription feed (made, read without signing in, what it
carries, a new link, turned off, a disabled user); the import with its preview (zones, all-day,
a weekly rule, a series' changed occurrence, UIDs already there, limits, bad files writing
nothing, all or nothing), and the forms' CSRF tokens."""

import datetime as dt
import hashlib
import re
import zoneinfo

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from addons.calendar import ical, services
from addons.calendar.exceptions import IcsInvalid, IcsTooLarge, RepeatInvalid
from addons.calendar.models import CalendarItem, Feed, Reminder
from addons.calendar.services import ItemData
from addons.customers.tests.test_pages import login, zh
from core.files import StoredFile
from core.i18n import _
from core.models import User
from core.users.services import set_active

from .conftest import LISI, WANG, ZHANG, as_user

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
UTC = dt.UTC


def new(app, who="zhang", **fields):
    fields.setdefault("title", "拜访阿里巴巴")
    fields.setdefault("tzid", "Asia/Shanghai")
    if not fields.get("all_day"):
        fields.setdefault("start", dt.datetime(2026, 12, 7, 9, 0))
    with app.env.ctx() as ctx:
        return services.create_item(as_user(ctx, app.users[who]), ItemData(**fields)).id


def parse(response):
    assert response.content_type == "text/calendar"
    assert response.charset == "utf-8"
    return Calendar.from_ical(response.body)


def parts(cal, name="VEVENT"):
    return list(cal.walk(name))


def count(app, model=CalendarItem):
    with app.env.ctx() as ctx:
        return ctx.dbsession.scalar(select(func.count()).select_from(model))


def post(app, url, pairs, **kwargs):
    return app.post(url, [*pairs, ("csrf_token", app.csrf_token())], **kwargs)


# ---------------------------------------------------------------- export


def test_a_timed_event_is_exported_in_its_zone_with_a_vtimezone(app):
    item_id = new(app, title="拜访/阿里巴巴", type="meeting", start=dt.datetime(2026, 12, 7, 9, 0),
                  end=dt.datetime(2026, 12, 7, 10, 30), location="杭州", description="带合同")
    login(app, ZHANG)
    response = app.get(f"/calendar/items/{item_id}.ics")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"] and "/" not in response.headers[
        "Content-Disposition"].split("filename*=")[1].replace("%2F", "")
    cal = parse(response)
    (event,) = parts(cal)
    assert event.decoded("DTSTART") == dt.datetime(2026, 12, 7, 9, 0, tzinfo=SHANGHAI)
    assert event["DTSTART"].params["TZID"] == "Asia/Shanghai"
    assert event.decoded("DTEND") == dt.datetime(2026, 12, 7, 10, 30, tzinfo=SHANGHAI)
    assert str(event["SUMMARY"]) == "拜访/阿里巴巴"
    assert str(event["LOCATION"]) == "杭州" and str(event["DESCRIPTION"]) == "带合同"
    assert [str(c) for c in event["CATEGORIES"].cats] == ["meeting"]
    assert str(event["UID"]) == f"kehu-calendar-{item_id}@kehu"
    assert event.decoded("DTSTAMP").tzinfo is not None
    assert "CLASS" not in event and "RRULE" not in event
    assert str(event["URL"]).endswith(f"/calendar/items/{item_id}")
    assert [str(tz["TZID"]) for tz in parts(cal, "VTIMEZONE")] == ["Asia/Shanghai"]


def test_an_all_day_event_has_dates_and_an_exclusive_end(app):
    item_id = new(app, title="行业展会", all_day=True, start_date=dt.date(2026, 12, 24),
                  end_date=dt.date(2026, 12, 26), private=True)
    login(app, ZHANG)
    (event,) = parts(parse(app.get(f"/calendar/items/{item_id}.ics")))
    assert event.decoded("DTSTART") == dt.date(2026, 12, 24)
    assert event.decoded("DTEND") == dt.date(2026, 12, 27)
    assert event["DTSTART"].params.get("VALUE") == "DATE"
    assert str(event["CLASS"]) == "PRIVATE"


def test_a_series_has_its_rule_its_skipped_dates_and_its_changed_occurrence(app):
    series = new(app, "lisi", title="周会", tzid="America/New_York", start=dt.datetime(2026, 11, 2, 9, 0),
                 end=dt.datetime(2026, 11, 2, 10, 0), rrule="FREQ=WEEKLY;BYDAY=MO;UNTIL=20261231T235959")
    with app.env.ctx() as ctx:
        lisi = as_user(ctx, app.users["lisi"])
        services.delete_item(lisi, series, key="2026-11-16T09:00", mode="one")
        moved = services.update_item(lisi, series, ItemData(
            title="周会（改期）", tzid="America/New_York", start=dt.datetime(2026, 11, 23, 10, 0),
            end=dt.datetime(2026, 11, 23, 11, 30)), key="2026-11-23T09:00", mode="one").id
    login(app, LISI)
    master, changed = parts(parse(app.get(f"/calendar/items/{series}.ics")))
    assert master.decoded("DTSTART") == dt.datetime(2026, 11, 2, 9, 0, tzinfo=NEW_YORK)
    rule = master["RRULE"]
    assert rule["FREQ"] == ["WEEKLY"] and rule["BYDAY"] == ["MO"]
    # UNTIL in UTC, as RFC 5545 wants for a start with a TZID: 23:59:59 in New York
    assert rule["UNTIL"] == [dt.datetime(2027, 1, 1, 4, 59, 59, tzinfo=UTC)]
    exdates = [d.dt for d in master["EXDATE"].dts]
    assert exdates == [dt.datetime(2026, 11, 16, 9, 0, tzinfo=NEW_YORK)]  # the changed one is an override
    assert str(changed["UID"]) == str(master["UID"]) == f"kehu-calendar-{series}@kehu"
    assert changed.decoded("RECURRENCE-ID") == dt.datetime(2026, 11, 23, 9, 0, tzinfo=NEW_YORK)
    assert changed.decoded("DTSTART") == dt.datetime(2026, 11, 23, 10, 0, tzinfo=NEW_YORK)
    assert str(changed["SUMMARY"]) == "周会（改期）"
    # the changed occurrence alone is a plain event of its own
    (alone,) = parts(parse(app.get(f"/calendar/items/{moved}.ics")))
    assert "RECURRENCE-ID" not in alone and str(alone["UID"]) == f"kehu-calendar-{moved}@kehu"


def test_an_all_day_series_ends_on_a_date():
    item = CalendarItem(id=5, kind="event", type="other", title="月报", all_day=True, tzid="Asia/Shanghai",
                        start_date=dt.date(2026, 12, 1), end_date=dt.date(2026, 12, 1),
                        rrule="FREQ=MONTHLY;UNTIL=20270601T235959", exdates=["2027-01-01"])
    (event,) = parts(Calendar.from_ical(ical.export_calendar([item], now=dt.datetime.now(UTC))))
    assert event["RRULE"]["UNTIL"] == [dt.date(2027, 6, 1)]
    assert [d.dt for d in event["EXDATE"].dts] == [dt.date(2027, 1, 1)]


def test_tasks_are_vtodos_with_a_due_time_and_a_status(app):
    done = new(app, title="寄合同", kind="task", start=dt.datetime(2026, 12, 10, 17, 0))
    open_ = new(app, title="报价", kind="task", all_day=True, start_date=dt.date(2026, 12, 11))
    with app.env.ctx() as ctx:
        services.set_done(as_user(ctx, app.users["zhang"]), done)
    login(app, ZHANG)
    (todo,) = parts(parse(app.get(f"/calendar/items/{done}.ics")), "VTODO")
    assert todo.decoded("DUE") == dt.datetime(2026, 12, 10, 17, 0, tzinfo=SHANGHAI)
    assert str(todo["STATUS"]) == "COMPLETED" and todo.decoded("COMPLETED").tzinfo is not None
    assert "DTSTART" not in todo
    (todo,) = parts(parse(app.get(f"/calendar/items/{open_}.ics")), "VTODO")
    assert todo.decoded("DUE") == dt.date(2026, 12, 11)
    assert str(todo["STATUS"]) == "NEEDS-ACTION" and "COMPLETED" not in todo


def test_only_readers_of_an_item_may_download_it(app):
    private = new(app, title="体检", private=True)
    shared = new(app, title="拜访")
    for who in (LISI, WANG):  # a colleague, and a manager whose scope reaches zhang: private stays private
        login(app, who)
        app.get(f"/calendar/items/{private}.ics", status=404)
    app.get(f"/calendar/items/{shared}.ics", status=200)  # wang's department scope
    login(app, LISI)
    app.get(f"/calendar/items/{shared}.ics", status=404)
    app.get("/calendar/items/999999.ics", status=404)
    app.reset()
    assert app.get(f"/calendar/items/{shared}.ics", status=303).location.split("?")[0].endswith("/login")


# ---------------------------------------------------------------- the subscription feed


def make_link(app):
    response = post(app, "/calendar/subscription", [("action", "create")], status=200)
    return response.html.select_one("#feed-url")["value"]


def path_of(url):
    return "/" + url.split("://", 1)[1].partition("/")[2]


def feed(app, url, status=200):
    response = app.get(path_of(url), status=status)
    if status != 200:
        return None
    cal = parse(response)
    return sorted(str(part["SUMMARY"]) for part in cal.walk() if part.name in ("VEVENT", "VTODO"))


def test_the_feed_is_the_owners_calendar_read_without_signing_in(app):
    users = app.users
    soon = dt.datetime.combine(dt.date.today() + dt.timedelta(days=3), dt.time(9))
    new(app, title="我的拜访", start=soon)
    new(app, title="我的体检", start=soon, private=True)
    new(app, title="每周例会", start=soon - dt.timedelta(days=300), rrule="FREQ=WEEKLY")  # still running
    new(app, title="去年的会", start=soon - dt.timedelta(days=200))  # before the window
    new(app, title="明年的会", start=soon + dt.timedelta(days=500))  # after it
    new(app, "lisi", title="李四的邀请", tzid="America/New_York", start=soon, participants=(users["zhang"],))
    declined = new(app, "wang", title="已谢绝的会", start=soon, participants=(users["zhang"],))
    new(app, "lisi", title="李四的私事", tzid="America/New_York", start=soon, private=True)
    new(app, "lisi", title="李四的客户", tzid="America/New_York", start=soon)
    with app.env.ctx() as ctx:
        services.respond(as_user(ctx, users["zhang"]), declined, "declined")

    login(app, ZHANG)
    page = app.get("/calendar/subscription")
    assert page.html.select_one("#feed-none") is not None
    url = make_link(app)
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert url.startswith("http://localhost/calendar/feed/") and len(token) >= 40
    with app.env.ctx() as ctx:
        (row,) = ctx.dbsession.scalars(select(Feed)).all()
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and row.last_used_at is None
    assert app.get("/calendar/subscription").html.select_one("#feed-url") is None  # shown once
    app.reset()  # no session at all
    assert feed(app, url) == ["我的体检", "我的拜访", "李四的邀请", "每周例会"]
    cal = Calendar.from_ical(app.get(path_of(url)).body)
    weekly = next(e for e in cal.walk("VEVENT") if str(e["SUMMARY"]) == "每周例会")
    assert weekly["RRULE"]["FREQ"] == ["WEEKLY"]  # the series whole, not expanded
    mine = next(e for e in cal.walk("VEVENT") if str(e["SUMMARY"]) == "我的体检")
    assert str(mine["CLASS"]) == "PRIVATE"
    invitation = next(e for e in cal.walk("VEVENT") if str(e["SUMMARY"]) == "李四的邀请")
    assert invitation["DTSTART"].params["TZID"] == "America/New_York"
    assert str(cal["X-WR-TIMEZONE"]) == "Asia/Shanghai"

    # the manager's feed is his own calendar, not his people's
    login(app, WANG)
    wang_url = make_link(app)
    app.reset()
    assert feed(app, wang_url) == ["已谢绝的会"]


def test_the_feed_stamps_its_last_use_at_most_hourly(app):
    login(app, ZHANG)
    url = make_link(app)
    app.reset()
    feed(app, url)

    def last_used(set_to=None):
        with app.env.ctx() as ctx:
            row = ctx.dbsession.scalars(select(Feed)).one()
            if set_to is not None:
                row.last_used_at = set_to
            return row.last_used_at

    first = last_used()
    assert first is not None
    half_hour_ago = first - dt.timedelta(minutes=30)
    last_used(half_hour_ago)
    feed(app, url)
    assert last_used() == half_hour_ago
    last_used(first - dt.timedelta(hours=2))
    feed(app, url)
    assert last_used() >= first


def test_a_new_link_ends_the_old_one_and_turning_it_off_ends_both(app):
    new(app, title="我的拜访", start=dt.datetime.combine(dt.date.today() + dt.timedelta(days=1), dt.time(9)))
    login(app, ZHANG)
    old = make_link(app)
    assert app.get("/calendar/subscription").html.select_one("#feed-active") is not None
    again = make_link(app)
    assert again != old
    app.reset()
    feed(app, old, status=404)
    assert feed(app, again) == ["我的拜访"]
    never = re.sub(r"feed/[^.]+", "feed/" + "A" * 43, old)
    assert app.get(path_of(never), status=404).text == app.get(path_of(old), status=404).text
    login(app, ZHANG)
    response = post(app, "/calendar/subscription", [("action", "revoke")], status=303)
    assert response.follow().html.select_one("#feed-none") is not None
    app.reset()
    feed(app, again, status=404)
    assert count(app, Feed) == 0


def test_a_disabled_users_feed_is_gone(app):
    login(app, ZHANG)
    url = make_link(app)
    app.reset()
    feed(app, url)
    with app.env.ctx() as ctx:
        set_active(ctx, ctx.dbsession.get(User, app.users["zhang"]), False)
    feed(app, url, status=404)


def test_the_subscription_forms_need_the_csrf_token(app):
    login(app, ZHANG)
    app.post("/calendar/subscription", {"action": "create"}, status=400)
    assert count(app, Feed) == 0
    app.reset()
    assert app.get("/calendar/subscription", status=303).location.split("?")[0].endswith("/login")


# ---------------------------------------------------------------- import

ICS = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Test//Test//EN\r
BEGIN:VEVENT\r
UID:ny@example.com\r
DTSTART;TZID=America/New_York:20261207T090000\r
DTEND;TZID=America/New_York:20261207T103000\r
SUMMARY:纽约的会\r
LOCATION:Manhattan\r
CATEGORIES:MEETING\r
BEGIN:VALARM\r
TRIGGER:-PT15M\r
ACTION:DISPLAY\r
END:VALARM\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:fair@example.com\r
DTSTART;VALUE=DATE:20261224\r
DTEND;VALUE=DATE:20261226\r
SUMMARY:展会\r
CLASS:PRIVATE\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:weekly@example.com\r
DTSTART:20261201T010000Z\r
DURATION:PT1H\r
RRULE:FREQ=WEEKLY;UNTIL=20270105T010000Z\r
SUMMARY:周会\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:hourly@example.com\r
DTSTART:20261201T010000Z\r
RRULE:FREQ=HOURLY\r
SUMMARY:每小时\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:floating@example.com\r
DTSTART:20261208T080000\r
DTEND:20261208T083000\r
SUMMARY:早餐会\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:mars@example.com\r
DTSTART;TZID=Mars/Olympus:20261209T090000\r
SUMMARY:火星时间\r
END:VEVENT\r
BEGIN:VTODO\r
UID:todo@example.com\r
DUE;TZID=Asia/Shanghai:20261210T170000\r
SUMMARY:寄合同\r
STATUS:COMPLETED\r
END:VTODO\r
BEGIN:VEVENT\r
UID:broken@example.com\r
DTSTART:2026130\r
SUMMARY:坏日期\r
END:VEVENT\r
END:VCALENDAR\r
"""


def upload(app, content, filename="outlook.ics", status=200):
    return app.post("/calendar/import", {"csrf_token": app.csrf_token()},
                    upload_files=[("file", filename, content)], status=status)


def preview_rows(page):
    """``{title: problem text or "OK"}`` of the preview table."""
    found = {}
    for tr in page.html.select("#ics-preview tbody tr[data-row]"):
        cells = tr.select("td")
        found[cells[1].get_text(strip=True)] = ("OK" if tr["data-valid"] == "true"
                                                else cells[5].get_text(" ", strip=True))
    return found


def confirm(app, page, status=303):
    form = page.forms["ics-confirm-form"]
    return form.submit(status=status)


def items(app, who="lisi"):
    with app.env.ctx() as ctx:
        return {item.title: item for item in ctx.dbsession.scalars(
            select(CalendarItem).where(CalendarItem.owner_id == app.users[who])
            .order_by(CalendarItem.id))}


def test_an_import_is_previewed_then_created_in_the_right_zones(app):
    login(app, LISI)  # America/New_York
    page = upload(app, ICS.encode())
    rows = preview_rows(page)
    assert list(rows) == ["纽约的会", "展会", "周会", "每小时", "早餐会", "火星时间", "寄合同", "坏日期"]
    assert {title for title, result in rows.items() if result == "OK"} == {
        "纽约的会", "展会", "周会", "早餐会", "火星时间", "寄合同"}
    assert rows["每小时"] == zh(RepeatInvalid(problem=_("repeat daily, weekly, monthly or yearly"))
                                .translation_string)
    assert "2026130" in rows["坏日期"]
    assert count(app) == 0  # nothing yet
    when = {tr.select("td")[1].get_text(strip=True): tr.select("td")[2].get_text(strip=True)
            for tr in page.html.select("#ics-preview tbody tr")}
    assert when["纽约的会"] == "2026-12-07 09:00 – 10:30"
    assert when["寄合同"] == "2026-12-10 17:00 (Asia/Shanghai)"
    assert when["展会"] == "2026-12-24 – 2026-12-25"

    confirm(app, page).follow()
    got = items(app)
    assert set(got) == {"纽约的会", "展会", "周会", "早餐会", "火星时间", "寄合同"}
    meeting = got["纽约的会"]
    assert (meeting.tzid, meeting.start_at, meeting.end_at) == (
        "America/New_York", dt.datetime(2026, 12, 7, 14, 0, tzinfo=UTC), dt.datetime(2026, 12, 7, 15, 30, tzinfo=UTC))
    assert meeting.uid == "ny@example.com" and meeting.type == "meeting" and meeting.location == "Manhattan"
    with app.env.ctx() as ctx:
        reminders = ctx.dbsession.scalars(select(Reminder.minutes_before).where(Reminder.item_id == meeting.id))
        assert reminders.all() == [15]
    fair = got["展会"]
    assert (fair.all_day, fair.start_date, fair.end_date, fair.private) == (
        True, dt.date(2026, 12, 24), dt.date(2026, 12, 25), True)
    weekly = got["周会"]  # UTC: kept in the user's zone, its UNTIL in wall time there
    assert (weekly.tzid, weekly.start_at, weekly.end_at) == (
        "America/New_York", dt.datetime(2026, 12, 1, 1, 0, tzinfo=UTC), dt.datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    assert weekly.rrule == "FREQ=WEEKLY;UNTIL=20270104T200000"
    assert got["早餐会"].start_at == dt.datetime(2026, 12, 8, 13, 0, tzinfo=UTC)  # floating: New York
    assert got["火星时间"].start_at == dt.datetime(2026, 12, 9, 14, 0, tzinfo=UTC)  # unknown zone: New York
    task = got["寄合同"]
    assert (task.kind, task.tzid, task.start_at) == ("task", "Asia/Shanghai", dt.datetime(2026, 12, 10, 9, 0,
                                                                                          tzinfo=UTC))
    assert task.done_at is not None
    with app.env.ctx() as ctx:  # the uploaded file is gone once imported
        assert ctx.dbsession.scalar(select(func.count()).select_from(StoredFile)) == 0

    # the same file again: every UID is already there
    page = upload(app, ICS.encode())
    rows = preview_rows(page)
    assert rows["纽约的会"] == zh(_("already in your calendar (the same UID)"))
    assert "ics-confirm-form" not in page.forms
    assert count(app) == 6


def test_a_series_with_a_changed_and_a_cancelled_occurrence_is_imported_as_one(app):
    content = b"""BEGIN:VCALENDAR\r
BEGIN:VEVENT\r
UID:series@example.com\r
DTSTART;TZID=Asia/Shanghai:20261207T090000\r
DTEND;TZID=Asia/Shanghai:20261207T100000\r
RRULE:FREQ=WEEKLY;COUNT=6\r
EXDATE;TZID=Asia/Shanghai:20261214T090000\r
SUMMARY:Weekly\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:series@example.com\r
RECURRENCE-ID;TZID=Asia/Shanghai:20261221T090000\r
DTSTART;TZID=Asia/Shanghai:20261221T140000\r
DTEND;TZID=Asia/Shanghai:20261221T150000\r
SUMMARY:Weekly (moved)\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:series@example.com\r
RECURRENCE-ID;TZID=Asia/Shanghai:20261228T090000\r
DTSTART;TZID=Asia/Shanghai:20261228T090000\r
STATUS:CANCELLED\r
SUMMARY:Weekly\r
END:VEVENT\r
END:VCALENDAR\r
"""
    login(app, ZHANG)
    page = upload(app, content)
    assert [tr["data-valid"] for tr in page.html.select("#ics-preview tbody tr")] == ["true", "true", "false"]
    confirm(app, page)
    got = items(app, "zhang")
    series, moved = got["Weekly"], got["Weekly (moved)"]
    assert series.exdates == ["2026-12-14T09:00", "2026-12-21T09:00", "2026-12-28T09:00"]
    assert (moved.series_id, moved.recurrence_key, moved.rrule) == (series.id, "2026-12-21T09:00", None)
    assert moved.start_at == dt.datetime(2026, 12, 21, 6, 0, tzinfo=UTC)
    # exported again, it is the same series with its override
    master, changed = parts(parse(app.get(f"/calendar/items/{series.id}.ics")))
    assert str(master["UID"]) == str(changed["UID"]) == "series@example.com"
    assert changed.decoded("RECURRENCE-ID") == dt.datetime(2026, 12, 21, 9, 0, tzinfo=SHANGHAI)


def test_a_users_own_export_imported_again_adds_nothing(app):
    item_id = new(app, title="拜访")
    login(app, ZHANG)
    body = app.get(f"/calendar/items/{item_id}.ics").body
    page = upload(app, body)
    assert preview_rows(page) == {"拜访": zh(_("already in your calendar (the same UID)"))}
    login(app, LISI)  # someone else may take it into their calendar
    page = upload(app, body)
    assert preview_rows(page) == {"拜访": "OK"}


@pytest.mark.parametrize(("content", "problem"), [
    (b"this is not a calendar", _("its lines cannot be read as iCalendar")),
    (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:x\r\nEND:VEVENT\r\n", _("it has no BEGIN:VCALENDAR … END:VCALENDAR")),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", _("its lines cannot be read as iCalendar")),
])
def test_a_malformed_file_is_refused_and_nothing_is_written(app, content, problem):
    login(app, ZHANG)
    page = upload(app, content, status=400)
    assert page.html.select_one("#ics-file-error").get_text(strip=True) == zh(
        IcsInvalid(problem=problem).translation_string)
    assert count(app) == 0 and count(app, StoredFile) == 0


def test_too_large_a_file_is_refused(app):
    login(app, ZHANG)
    message = zh(IcsTooLarge(limit=500, size=2).translation_string)
    big = b"BEGIN:VCALENDAR\r\nX-PAD:" + b"x" * (2 * 1024 * 1024) + b"\r\nEND:VCALENDAR\r\n"
    assert upload(app, big, status=400).html.select_one("#ics-file-error").get_text(strip=True) == message
    many = "".join(f"BEGIN:VEVENT\r\nUID:{n}\r\nDTSTART:20261207T090000Z\r\nSUMMARY:{n}\r\nEND:VEVENT\r\n"
                   for n in range(501))
    page = upload(app, f"BEGIN:VCALENDAR\r\n{many}END:VCALENDAR\r\n".encode(), status=400)
    assert page.html.select_one("#ics-file-error").get_text(strip=True) == message
    assert count(app) == 0


def test_the_import_is_all_or_nothing(app, monkeypatch):
    login(app, LISI)
    page = upload(app, ICS.encode())
    calls = []
    real = services.create_item

    def failing(ctx, data, **kwargs):
        calls.append(data.title)
        if len(calls) == 3:
            raise RepeatInvalid(problem="boom")
        return real(ctx, data, **kwargs)

    monkeypatch.setattr(services, "create_item", failing)
    response = confirm(app, page, status=400)
    assert response.html.select_one("#ics-confirm-form") is not None  # the preview again, to retry
    assert count(app) == 0 and count(app, StoredFile) == 1


def test_the_import_forms_need_the_csrf_token_and_the_uploaders_own_file(app):
    login(app, ZHANG)
    app.post("/calendar/import", upload_files=[("file", "a.ics", ICS.encode())], status=400)
    page = upload(app, ICS.encode())
    file_id = page.forms["ics-confirm-form"]["file_id"].value
    app.post("/calendar/import/confirm", {"file_id": file_id}, status=400)
    login(app, LISI)  # another user cannot import zhang's upload
    post(app, "/calendar/import/confirm", [("file_id", file_id)], status=404)
    post(app, "/calendar/import/confirm", [("file_id", "x")], status=404)
    assert count(app) == 0


def test_reading_a_file_in_gb18030_with_a_custom_zone():
    content = """BEGIN:VCALENDAR\r
BEGIN:VTIMEZONE\r
TZID:Moscow Standard\r
BEGIN:STANDARD\r
DTSTART:19700101T000000\r
TZOFFSETFROM:+0300\r
TZOFFSETTO:+0300\r
END:STANDARD\r
END:VTIMEZONE\r
BEGIN:VEVENT\r
UID:m@example.com\r
DTSTART;TZID=Moscow Standard:20261207T090000\r
SUMMARY:莫斯科\r
END:VEVENT\r
END:VCALENDAR\r
""".encode("gb18030")
    (entry,) = ical.read_calendar(content, "Asia/Shanghai")
    assert entry.title == "莫斯科"
    # a zone only the file defines: the same instant, kept in the user's zone
    assert (entry.data.tzid, entry.data.start) == ("Asia/Shanghai", dt.datetime(2026, 12, 7, 14, 0))
