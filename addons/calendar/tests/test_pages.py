"""The calendar pages: the week view's JSON in the reader's wall time, the agenda and the team
view, the item page, the form (errors beside the fields, nothing written; a series edited for
one, the following or all occurrences), the small POSTs (done, answer, delete, move) and their
refusals, and the bounded queries of the agenda."""

import datetime as dt

from sqlalchemy import func, select

from addons.calendar import services
from addons.calendar.models import CalendarItem
from addons.calendar.services import ItemData
from addons.customers.tests.conftest import post
from addons.customers.tests.test_pages import login, zh
from core.i18n import _
from core.testing.queries import count_queries

from .conftest import LISI, WANG, ZHANG, ZHAO, as_user

UTC = dt.UTC


def make(app, who="zhang", **fields):
    fields = {"title": "拜访阿里巴巴", "start": dt.datetime(2026, 12, 7, 9, 0), **fields}
    with app.env.ctx() as ctx:
        return services.create_item(as_user(ctx, app.users[who]), ItemData(**fields)).id


def item(app, item_id):
    with app.env.ctx() as ctx:
        found = ctx.dbsession.get(CalendarItem, item_id)
        if found is not None:
            ctx.dbsession.expunge(found)
        return found


def count(app):
    with app.env.ctx() as ctx:
        return ctx.dbsession.scalar(select(func.count()).select_from(CalendarItem))


def form_fields(**changes):
    fields = {"title": "客户拜访", "kind": "event", "type": "visit", "start_date": "2026-12-07",
              "start_time": "09:00", "end_date": "2026-12-07", "end_time": "10:30", "location": "杭州",
              "repeat_freq": "", "repeat_interval": "1", "repeat_end": "never", "reminders": "15"}
    fields.update(changes)
    return [(name, value) for name, value in fields.items() if value is not None]


def test_the_week_view_loads_the_vendored_calendar_and_its_events_in_wall_time(app):
    login(app, LISI)  # New York
    make(app, participants=(app.users["lisi"],))
    page = app.get("/calendar")
    assert page.html.select_one("#calendar")["data-initial-view"] == "timeGridWeek"
    assert any("fullcalendar/index.global.min.js" in s.get("src", "") for s in page.html.select("script"))
    events = app.get("/calendar/events.json", {"start": "2026-12-06T00:00:00Z", "end": "2026-12-13T00:00:00Z"}).json
    [event] = events
    assert (event["title"], event["start"], event["end"]) == ("拜访阿里巴巴", "2026-12-06T20:00", "2026-12-06T21:00")
    assert event["editable"] is False  # an invitation: lisi may not move zhang's item
    app.get("/calendar/events.json", {"start": "nonsense", "end": "2026-12-13"}, status=400)
    app.get("/calendar/events.json", status=400)


def test_the_agenda_shows_two_weeks_by_day_and_pages_on(app):
    make(app, title="周一拜访")
    make(app, title="月底盘点", all_day=True, start=None, start_date=dt.date(2026, 12, 30))
    make(app, who="zhao", title="别人的拜访")
    login(app, ZHANG)
    page = app.get("/calendar/agenda", {"from": "2026-12-01"})
    titles = [a.text.strip() for a in page.html.select(".agenda-title")]
    assert titles == ["周一拜访"]
    later = app.get("/calendar/agenda", {"from": "2026-12-20"})
    assert [a.text.strip() for a in later.html.select(".agenda-title")] == ["月底盘点"]
    assert app.get("/calendar/agenda", {"from": "2031-01-01"}).html.select_one("#agenda-empty")
    app.get("/calendar/agenda", {"from": "12/01/2026"}, status=400)


def test_the_agenda_runs_the_same_few_queries_for_3_or_30_items(app):
    login(app, ZHANG)
    for n in range(3):
        make(app, title=f"拜访{n}", participants=(app.users["lisi"],), reminders=(15,))
    few = len(count_queries(app, "/calendar/agenda?from=2026-12-01"))
    for n in range(27):
        make(app, title=f"更多{n}", participants=(app.users["lisi"],), start=dt.datetime(2026, 12, 8, 9, n))
    assert len(count_queries(app, "/calendar/agenda?from=2026-12-01")) == few


def test_creating_an_event_through_the_form(app):
    login(app, ZHANG)
    form = app.get("/calendar/items/new", {"start": "2026-12-07T14:00:00", "end": "2026-12-07T15:00:00"})
    assert form.html.select_one("#start_time")["value"] == "14:00"
    page = post(app, "/calendar/items/new", form_fields(participants=str(app.users["lisi"]))).follow()
    assert page.html.select_one("#item-title").text.strip().endswith("客户拜访")
    saved = item(app, count(app))
    assert (saved.start_at, saved.end_at, saved.owner_id) == (
        dt.datetime(2026, 12, 7, 1, 0, tzinfo=UTC), dt.datetime(2026, 12, 7, 2, 30, tzinfo=UTC), app.users["zhang"])


def test_a_new_york_user_enters_times_in_her_zone(app):
    login(app, LISI)
    post(app, "/calendar/items/new", form_fields()).follow()
    saved = item(app, count(app))
    assert (saved.tzid, saved.start_at) == ("America/New_York", dt.datetime(2026, 12, 7, 14, 0, tzinfo=UTC))


def test_bad_input_is_shown_beside_the_field_and_nothing_is_written(app):
    login(app, ZHANG)
    with app.env.ctx() as ctx:
        from core.models import User

        ctx.dbsession.get(User, app.users["zhao"]).active = False
    cases = [
        (form_fields(end_time="08:00"), "end_date", _("The end cannot be before the start.")),
        (form_fields(title=""), "title", None),
        (form_fields(start_date="2026-13-45"), "start_date", None),
        (form_fields(participants=str(app.users["zhao"])), "participants", None),
        (form_fields(repeat_freq="WEEKLY", repeat_end="count", repeat_count="5000"), "repeat_count", None),
        (form_fields(repeat_freq="HOURLY"), "repeat_freq", None),
    ]
    for fields, name, message in cases:
        page = post(app, "/calendar/items/new", fields)
        assert page.status_int == 200
        error = page.html.select_one(f"#{name}-error")
        assert error is not None, name
        if message:
            assert error.text.strip() == zh(message)
    assert count(app) == 0


def test_editing_one_occurrence_of_a_series_from_its_page(app):
    series_id = make(app, title="晨会", rrule="FREQ=DAILY;COUNT=5", end=dt.datetime(2026, 12, 7, 9, 30))
    login(app, ZHANG)
    page = app.get(f"/calendar/items/{series_id}", {"key": "2026-12-09T09:00"})
    assert "2026-12-09 09:00" in page.html.select_one("#item-when").text
    form = app.get(f"/calendar/items/{series_id}/edit", {"key": "2026-12-09T09:00"})
    assert form.html.select_one("#edit-mode")
    assert form.html.select_one("#start_date")["value"] == "2026-12-09"
    post(app, f"/calendar/items/{series_id}/edit?key=2026-12-09T09:00",
         form_fields(title="改期晨会", start_date="2026-12-09", start_time="15:00", end_date="2026-12-09",
                     end_time="15:30", mode="one", repeat_freq="DAILY", repeat_end="count", repeat_count="5"))
    assert item(app, series_id).exdates == ["2026-12-09T09:00"]
    assert count(app) == 2
    events = app.get("/calendar/events.json", {"start": "2026-12-07T00:00:00", "end": "2026-12-14T00:00:00"}).json
    assert [(e["title"], e["start"]) for e in events][2] == ("改期晨会", "2026-12-09T15:00")
    app.get(f"/calendar/items/{series_id}", {"key": "2026-12-09T10:00"}, status=404)


def test_a_private_item_of_someone_else_is_not_found(app):
    private_id = make(app, title="私事", private=True)
    login(app, WANG)
    app.get(f"/calendar/items/{private_id}", status=404)
    app.get(f"/calendar/items/{private_id}/edit", status=404)
    post(app, f"/calendar/items/{private_id}/delete", [], status=404)
    assert count(app) == 1


def test_done_answer_and_delete(app):
    task_id = make(app, kind="task", title="寄合同")
    event_id = make(app, participants=(app.users["lisi"],))
    login(app, ZHANG)
    post(app, f"/calendar/items/{task_id}/done", [("done", "1")]).follow()
    assert item(app, task_id).done_at is not None
    login(app, LISI)
    post(app, f"/calendar/items/{event_id}/respond", [("response", "accepted")]).follow()
    page = app.get(f"/calendar/items/{event_id}")
    assert page.html.select_one(f"[data-user='{app.users['lisi']}'] .badge").text.strip() == zh(_("Accepted"))
    post(app, f"/calendar/items/{event_id}/delete", [], status=404)  # a participant does not delete
    login(app, ZHANG)
    post(app, f"/calendar/items/{event_id}/delete", []).follow()
    assert item(app, event_id) is None


def test_dragging_moves_an_item_and_a_refusal_says_why(app):
    event_id = make(app, end=dt.datetime(2026, 12, 7, 10, 0))
    login(app, ZHANG)
    headers = {"X-CSRF-Token": app.csrf_token()}
    answer = app.post_json(f"/calendar/items/{event_id}/move", {"start": "2026-12-08T14:00:00",
                                                               "end": "2026-12-08T15:30:00"}, headers=headers)
    assert answer.json == {"ok": True}
    assert item(app, event_id).start_at == dt.datetime(2026, 12, 8, 6, 0, tzinfo=UTC)
    refused = app.post_json(f"/calendar/items/{event_id}/move", {"start": "2026-12-08T14:00:00",
                                                                "end": "2026-12-08T13:00:00"}, headers=headers,
                            status=422)
    assert refused.json["message"] == zh(_("The end cannot be before the start."))
    app.post_json(f"/calendar/items/{event_id}/move", {"start": "2026-12-08T14:00:00"}, status=400)  # no CSRF
    login(app, ZHAO)
    app.post_json(f"/calendar/items/{event_id}/move", {"start": "2026-12-08T14:00:00"},
                  headers={"X-CSRF-Token": app.csrf_token()}, status=404)


def test_the_team_view_is_the_managers_people_side_by_side(app):
    make(app, title="张三周一", start=dt.datetime(2026, 12, 7, 9, 0))
    make(app, who="lisi", title="李四周三", tzid="America/New_York", start=dt.datetime(2026, 12, 9, 9, 0))
    make(app, who="zhao", title="赵六的会")
    make(app, title="张三私事", private=True)
    login(app, WANG)
    page = app.get("/calendar/team", {"date": "2026-12-08"})
    people = [int(tr["data-person"]) for tr in page.html.select("#team-grid tbody tr")]
    assert people[0] == app.users["wang"] and set(people) == {app.users[p] for p in ("wang", "zhang", "lisi")}
    zhang_row = page.html.select_one(f"tr[data-person='{app.users['zhang']}']")
    assert [a.text.strip() for a in zhang_row.select(".team-item")] == ["09:00 张三周一"]
    lisi_row = page.html.select_one(f"tr[data-person='{app.users['lisi']}']")
    assert [a.text.strip() for a in lisi_row.select(".team-item")] == ["22:00 李四周三"]  # in wang's zone
    login(app, ZHANG)
    app.get("/calendar/team", status=403)
