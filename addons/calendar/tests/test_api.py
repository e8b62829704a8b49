"""``/api/v1/events`` and ``/api/v1/tasks`` as a program calls them: create, read, PATCH and
delete through the services (audit, invitations, reminders); the window of occurrences with a
series expanded and an edited occurrence; each reader's time zone; private items and scopes
(404 as for nothing); tasks done and reopened; answers to invitations; bad input refused as a
translated problem with nothing written; a list's queries independent of its length."""

import datetime as dt

import pytest
from sqlalchemy import func, select

from addons.calendar.models import Attendee, CalendarItem, Reminder
from addons.customers.services import create_customer
from core.api.tokens import create_token
from core.models import AuditEntry, User
from core.notifications.models import Notification
from core.testing.api import PersonalApi, problem
from core.testing.queries import count_queries

from .conftest import ZHANG, as_user, people

EVENTS, TASKS = "/api/v1/events", "/api/v1/tasks"


@pytest.fixture
def catalog(catalog_of):
    """The customers addon too: a customer is the related record the links are tested with."""
    return catalog_of("addons.customers", "addons.calendar")


@pytest.fixture
def app(make_kehu_app, catalog, cli_env):
    kehu = make_kehu_app(catalog=catalog, install=["customers", "calendar"])
    env = cli_env(catalog)
    kehu.env, kehu.users = env, people(env)
    return kehu


@pytest.fixture
def api(app):
    """A write token per person."""
    with app.env.ctx() as ctx:
        tokens = {who: create_token(ctx, ctx.dbsession.get(User, app.users[who]), "sync", "write", 30)[0]
                  for who in ("zhang", "lisi", "wang", "zhao")}
    client = PersonalApi(app, tokens)
    client.users, client.env = app.users, app.env
    return client


def count(api):
    with api.env.ctx() as ctx:
        return ctx.dbsession.scalar(select(func.count()).select_from(CalendarItem))


def window(api, who, start, end, path=EVENTS):
    """What ``who`` sees from ``start`` to ``end``: (title, ref, start or start_date, end or end_date)."""
    found = api.get(who, f"{path}/occurrences?from={start}&to={end}").json["items"]
    return [(o["title"], o["ref"], o["start"] or o["start_date"], o["end"] or o["end_date"]) for o in found]


def event(api, who="zhang", **fields):
    body = {"title": "拜访阿里巴巴", "start": "2026-12-07T09:00", **fields}
    return api.post(who, EVENTS, body, status=201).json


# ---------------------------------------------------------------- events and tasks


def test_an_event_is_created_read_patched_and_deleted_through_the_services(api):
    made = api.post("zhang", EVENTS, {"title": "拜访阿里巴巴", "type": "visit", "start": "2026-12-07T09:00",
                                      "location": "杭州", "participants": [api.users["lisi"]], "reminders": [15]},
                    status=201)
    item = made.json
    assert made.headers["Location"].endswith(f"{EVENTS}/{item['id']}") and made.headers["ETag"]
    assert (item["kind"], item["type"], item["colour"], item["tzid"]) == ("event", "visit", "#198754", "Asia/Shanghai")
    assert (item["start"], item["end"]) == ("2026-12-07T09:00:00+08:00", "2026-12-07T10:00:00+08:00")
    assert item["owner"] == {"id": api.users["zhang"], "name": "张三"}
    assert item["participants"] == [{"user_id": api.users["lisi"], "name": "李四", "response": "pending"}]
    assert (item["reminders"], item["done"], item["related"], "key" in item) == ([15], False, None, False)
    assert api.get("zhang", f"{EVENTS}/{item['id']}").json == item
    assert [found["id"] for found in api.get("zhang", EVENTS).json["items"]] == [item["id"]]
    with api.env.ctx() as ctx:  # audited, invited, reminded: the services did the writing
        assert ctx.dbsession.scalar(select(AuditEntry.action).where(
            AuditEntry.model == "calendar_item", AuditEntry.record_id == str(item["id"]))) == "create"
        assert list(ctx.dbsession.scalars(select(Notification.user_id).where(
            Notification.kind == "calendar.invited"))) == [api.users["lisi"]]
        assert ctx.dbsession.scalar(select(Reminder.next_fire_at)) == dt.datetime(2026, 12, 7, 0, 45, tzinfo=dt.UTC)

    patched = api.patch("zhang", f"{EVENTS}/{item['id']}", {"title": "拜访阿里巴巴总部", "end": "2026-12-07T03:00:00Z",
                                                             "location": None}).json
    assert (patched["id"], patched["title"], patched["location"]) == (item["id"], "拜访阿里巴巴总部", None)
    assert (patched["start"], patched["end"]) == ("2026-12-07T09:00:00+08:00", "2026-12-07T11:00:00+08:00")
    assert patched["participants"] == item["participants"] and patched["reminders"] == [15]  # kept

    api.delete("zhang", f"{EVENTS}/{item['id']}")
    problem(api.get("zhang", f"{EVENTS}/{item['id']}", status=404), 404, "not_found")
    assert count(api) == 0


def test_a_task_is_created_done_reopened_and_made_all_day(api):
    task = api.post("zhang", TASKS, {"title": "寄合同", "start": "2026-12-08T17:00"}, status=201).json
    assert (task["kind"], task["start"], task["end"], task["done"]) == ("task", "2026-12-08T17:00:00+08:00", None,
                                                                       False)
    done = api.post("zhang", f"{TASKS}/{task['id']}/done", {}).json
    assert done["done"] is True and done["done_at"]
    assert api.post("zhang", f"{TASKS}/{task['id']}/reopen", {}).json["done"] is False
    day = api.patch("zhang", f"{TASKS}/{task['id']}", {"all_day": True, "start_date": "2026-12-09"}).json
    assert (day["all_day"], day["start"], day["start_date"], day["end_date"]) == (True, None, "2026-12-09",
                                                                                  "2026-12-09")
    assert window(api, "zhang", "2026-12-01", "2026-12-31", TASKS) == [
        ("寄合同", str(task["id"]), "2026-12-09", "2026-12-09")]

    # one resource does not reach the other's kind
    other = event(api)
    problem(api.get("zhang", f"{EVENTS}/{task['id']}", status=404), 404, "not_found")
    problem(api.get("zhang", f"{TASKS}/{other['id']}", status=404), 404, "not_found")
    problem(api.post("zhang", f"{TASKS}/{other['id']}/done", {}, status=404), 404, "not_found")
    problem(api.patch("zhang", f"{EVENTS}/{task['id']}", {"title": "改"}, status=404), 404, "not_found")
    api.delete("zhang", f"{TASKS}/{other['id']}", status=404)
    assert [found["id"] for found in api.get("zhang", TASKS).json["items"]] == [task["id"]]
    assert window(api, "zhang", "2026-12-01", "2026-12-31", EVENTS)[0][1] == str(other["id"])
    problem(api.post("lisi", f"{TASKS}/{task['id']}/done", {}, status=404), 404, "not_found")  # not in her scope


# ---------------------------------------------------------------- series and windows


def test_a_weekly_series_is_expanded_in_the_window_with_its_exceptions(api):
    series = event(api, title="周例会", type="meeting", rrule="FREQ=WEEKLY;COUNT=4")
    series_id = series["id"]
    moved = api.patch("zhang", f"{EVENTS}/{series_id}?key=2026-12-14T09:00&mode=one",
                      {"start": "2026-12-14T15:00", "end": "2026-12-14T16:00"}).json
    assert moved["id"] != series_id and (moved["series_id"], moved["recurrence_key"]) == (series_id,
                                                                                        "2026-12-14T09:00")
    api.delete("zhang", f"{EVENTS}/{series_id}?key=2026-12-21T09:00&mode=one")
    assert window(api, "zhang", "2026-12-01", "2026-12-31") == [
        ("周例会", f"{series_id}@2026-12-07T09:00", "2026-12-07T09:00:00+08:00", "2026-12-07T10:00:00+08:00"),
        ("周例会", str(moved["id"]), "2026-12-14T15:00:00+08:00", "2026-12-14T16:00:00+08:00"),
        ("周例会", f"{series_id}@2026-12-28T09:00", "2026-12-28T09:00:00+08:00", "2026-12-28T10:00:00+08:00"),
    ]
    first = api.get("zhang", f"{EVENTS}/occurrences?from=2026-12-07&to=2026-12-07").json["items"]
    assert [(o["id"], o["key"], o["rrule"], o["colour"]) for o in first] == [
        (series_id, "2026-12-07T09:00", "FREQ=WEEKLY;COUNT=4", "#6f42c1")]
    # a window of date-times with offsets: exclusive at its end
    assert len(window(api, "zhang", "2026-12-07T01:00:00Z", "2026-12-14T07:00:00%2B00:00")) == 1

    renamed = api.patch("zhang", f"{EVENTS}/{series_id}?key=2026-12-28T09:00&mode=following",
                        {"title": "新例会"}).json
    assert renamed["id"] not in (series_id, moved["id"]) and renamed["rrule"]
    assert [title for title, *_ in window(api, "zhang", "2026-12-01", "2026-12-31")] == ["周例会", "周例会", "新例会"]
    assert api.patch("zhang", f"{EVENTS}/{series_id}", {"location": "三楼"}).json["location"] == "三楼"  # all

    problem(api.patch("zhang", f"{EVENTS}/{series_id}?key=2026-12-08T09:00&mode=one", {"title": "甲"},
                      status=404), 404, "occurrence_unknown")
    problem(api.delete("zhang", f"{EVENTS}/{series_id}?key=2026-12-07T09:00&mode=sometimes", status=400), 400,
            "bad_parameter")
    problem(api.delete("zhang", f"{EVENTS}/{series_id}?mode=one", status=400), 400, "bad_parameter")
    problem(api.delete("zhang", f"{EVENTS}/{series_id}?kee=2026-12-07T09:00", status=400), 400, "bad_parameter")
    assert count(api) == 3

    api.delete("zhang", f"{EVENTS}/{series_id}")  # the whole series, with its exception
    assert [title for title, *_ in window(api, "zhang", "2026-12-01", "2026-12-31")] == ["新例会"]


def test_each_reader_sees_the_times_in_their_own_zone(api):
    made = event(api, start="2026-12-07T09:00", end="2026-12-07T10:30", participants=[api.users["lisi"]])
    ref = str(made["id"])
    assert window(api, "zhang", "2026-12-07", "2026-12-07") == [
        ("拜访阿里巴巴", ref, "2026-12-07T09:00:00+08:00", "2026-12-07T10:30:00+08:00")]
    # 09:00 in Shanghai is 20:00 the evening before in New York: lisi's days are New York's
    assert window(api, "lisi", "2026-12-07", "2026-12-07") == []
    assert window(api, "lisi", "2026-12-06", "2026-12-06") == [
        ("拜访阿里巴巴", ref, "2026-12-06T20:00:00-05:00", "2026-12-06T21:30:00-05:00")]
    assert api.get("lisi", f"{EVENTS}/{ref}").json["start"] == "2026-12-06T20:00:00-05:00"

    # lisi enters a time with Shanghai's offset: kept as that instant, in her own zone
    hers = event(api, who="lisi", title="电话会", start="2026-12-08T09:00:00+08:00")
    assert (hers["tzid"], hers["start"]) == ("America/New_York", "2026-12-07T20:00:00-05:00")
    assert api.get("zhang", f"{EVENTS}/{made['id']}").json["start"] == "2026-12-07T09:00:00+08:00"
    # a zone given explicitly: naive times are read there
    london = event(api, title="伦敦会议", tzid="Europe/London", start="2026-12-07T09:00")
    assert (london["tzid"], london["start"]) == ("Europe/London", "2026-12-07T17:00:00+08:00")
    # changing the zone alone keeps the instant
    kept = api.patch("zhang", f"{EVENTS}/{london['id']}", {"tzid": "Asia/Tokyo"}).json
    assert (kept["tzid"], kept["start"]) == ("Asia/Tokyo", "2026-12-07T17:00:00+08:00")

    # all-day: the same days for everyone
    day = api.post("zhang", EVENTS, {"title": "展会", "all_day": True, "start_date": "2026-12-10",
                                     "end_date": "2026-12-11", "participants": [api.users["lisi"]]}, status=201).json
    expected = [("展会", str(day["id"]), "2026-12-10", "2026-12-11")]
    assert window(api, "zhang", "2026-12-11", "2026-12-11") == expected
    assert window(api, "lisi", "2026-12-11", "2026-12-11") == expected


# ---------------------------------------------------------------- who sees what


def test_a_private_event_is_seen_by_its_owner_and_participants_only(api):
    alone = event(api, title="私人体检", private=True)["id"]
    shared = event(api, title="私人会谈", private=True, participants=[api.users["lisi"]])["id"]
    public = event(api, title="部门会议")["id"]
    # the manager's department scope reaches zhang's items, but not the private ones
    problem(api.get("wang", f"{EVENTS}/{alone}", status=404), 404, "not_found")
    assert [item["id"] for item in api.get("wang", EVENTS).json["items"]] == [public]
    assert [title for title, *_ in window(api, "wang", "2026-12-07", "2026-12-07")] == ["部门会议"]
    problem(api.patch("wang", f"{EVENTS}/{alone}", {"title": "改"}, status=404), 404, "not_found")
    problem(api.delete("wang", f"{EVENTS}/{alone}", status=404), 404, "not_found")
    # an invited participant reads it but does not edit it
    assert api.get("lisi", f"{EVENTS}/{shared}").json["private"] is True
    assert [item["id"] for item in api.get("lisi", EVENTS).json["items"]] == [shared]
    problem(api.patch("lisi", f"{EVENTS}/{shared}", {"title": "改"}, status=404), 404, "not_found")
    assert [item["id"] for item in api.get("zhang", EVENTS).json["items"]] == [alone, shared, public]
    with api.env.ctx() as ctx:
        assert ctx.dbsession.get(CalendarItem, alone).title == "私人体检"


def test_another_departments_salesperson_gets_404(api):
    item = event(api)["id"]
    for call in (lambda: api.get("zhao", f"{EVENTS}/{item}", status=404),
                 lambda: api.patch("zhao", f"{EVENTS}/{item}", {"title": "改"}, status=404),
                 lambda: api.delete("zhao", f"{EVENTS}/{item}", status=404),
                 lambda: api.post("zhao", f"{EVENTS}/respond", {"id": item, "response": "accepted"}, status=404)):
        problem(call(), 404, "not_found")
    assert api.get("zhao", EVENTS).json["items"] == []
    assert window(api, "zhao", "2026-12-01", "2026-12-31") == []
    assert api.get("wang", f"{EVENTS}/{item}").json["title"] == "拜访阿里巴巴"  # the manager's scope reaches it


def test_a_participant_answers_an_invitation(api):
    item = event(api, participants=[api.users["lisi"], api.users["wang"]])["id"]
    answer = api.post("lisi", f"{EVENTS}/respond", {"id": item, "response": "accepted"}).json
    assert answer == {"id": item, "user_id": api.users["lisi"], "response": "accepted"}
    assert api.get("zhang", f"{EVENTS}/{item}").json["participants"][0]["response"] == "accepted"
    api.post("wang", f"{EVENTS}/respond", {"id": item, "response": "declined"})
    # not a participant, though the event is in zhang's own scope
    problem(api.post("zhang", f"{EVENTS}/respond", {"id": item, "response": "accepted"}, status=403), 403,
            "not_a_participant")
    problem(api.post("lisi", f"{EVENTS}/respond", {"id": item, "response": "maybe"}, status=422), 422,
            "validation_failed")
    task = api.post("zhang", TASKS, {"title": "寄合同", "start": "2026-12-08T17:00"}, status=201).json["id"]
    problem(api.post("zhang", f"{EVENTS}/respond", {"id": task, "response": "accepted"}, status=404), 404,
            "not_found")
    with api.env.ctx() as ctx:
        answers = dict(ctx.dbsession.execute(select(Attendee.user_id, Attendee.response)).all())
        assert answers == {api.users["lisi"]: "accepted", api.users["wang"]: "declined"}


def test_the_related_record_is_linked_for_readers_who_may_see_it(api):
    with api.env.ctx() as ctx:
        customer = create_customer(as_user(ctx, api.users["zhang"]), name="阿里巴巴").id
    item = event(api, related_table="customers_customer", related_id=customer,
                 participants=[api.users["lisi"]])
    assert item["related"] == {"table": "customers_customer", "id": customer, "title": "阿里巴巴",
                               "url": f"/customers/{customer}"}
    assert api.get("wang", f"{EVENTS}/{item['id']}").json["related"]["title"] == "阿里巴巴"
    seen = api.get("lisi", f"{EVENTS}/{item['id']}").json  # invited, but the customer is not hers
    assert (seen["related"], seen["related_id"]) == (None, customer)
    listed = api.get("zhang", f"{EVENTS}?related_table=customers_customer&related_id={customer}").json["items"]
    assert [found["id"] for found in listed] == [item["id"]]


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"tzid": "Mars/Olympus"}, 422, "unknown_zone"),
    ({"end": "2026-12-07T08:00"}, 422, "end_before_start"),
    ({"end": "2026-12-07T08:00:00+08:00"}, 422, "end_before_start"),
    ({"rrule": "FREQ=HOURLY"}, 422, "repeat_invalid"),
    ({"rrule": "not a rule"}, 422, "repeat_invalid"),
    ({"rrule": "FREQ=WEEKLY;BYDAY=XX"}, 422, "repeat_invalid"),
    ({"participants": [999999]}, 422, "participant_unavailable"),
    ({"related_table": "customers_customer", "related_id": 999999}, 422, "related_unavailable"),
    ({"related_table": "nosuch_table", "related_id": 1}, 422, "related_unavailable"),
    ({"start": "tomorrow"}, 422, "validation_failed"),
    ({"start": "2026-13-40T09:00"}, 422, "validation_failed"),
    ({"start_date": "2026-12-07"}, 422, "validation_failed"),  # dates are for all-day items
    ({"all_day": True, "start_date": "2026-12-07"}, 422, "validation_failed"),  # and times for the others
    ({"all_day": True, "start": None, "start_date": "2026-12-08", "end_date": "2026-12-07"}, 422,
     "end_before_start"),
    ({"colour": "red"}, 422, "validation_failed"),
    ({"title": "甲" * 201}, 422, "validation_failed"),
    ({"type": "party"}, 422, "validation_failed"),
])
def test_bad_events_are_refused_and_nothing_is_written(api, body, status, code):
    refused = problem(api.post("zhang", EVENTS, {"title": "拜访", "start": "2026-12-07T09:00", **body},
                               status=status), status, code)
    assert refused["detail"]
    assert count(api) == 0


def test_a_disabled_participant_is_refused_by_name(api):
    with api.env.ctx() as ctx:
        ctx.dbsession.get(User, api.users["zhao"]).active = False
    refused = problem(api.post("zhang", EVENTS, {"title": "拜访", "start": "2026-12-07T09:00",
                                                 "participants": [api.users["lisi"], api.users["zhao"]]},
                               status=422), 422, "participant_unavailable")
    assert "赵六" in refused["detail"]
    assert count(api) == 0


def test_a_bad_patch_changes_nothing(api):
    item = event(api, participants=[api.users["lisi"]])
    url = f"{EVENTS}/{item['id']}"
    problem(api.patch("zhang", url, {"title": "新", "end": "2026-12-07T08:00"}, status=422), 422,
            "end_before_start")
    problem(api.patch("zhang", url, {"title": "新", "tzid": "Nowhere/Land"}, status=422), 422, "unknown_zone")
    problem(api.patch("zhang", url, {"title": None}, status=422), 422, "validation_failed")
    problem(api.patch("zhang", url, {"rrule": "FREQ=SECONDLY"}, status=422), 422, "repeat_invalid")
    problem(api.patch("zhang", url, {"title": "新", "participants": [999999]}, status=422), 422,
            "participant_unavailable")
    problem(api.patch("zhang", f"{TASKS}/{item['id']}", {"title": "新"}, status=404), 404, "not_found")
    problem(api.patch("zhang", url + "?key=2026-12-07T09:00&mode=one", {"title": "新"}, status=404), 404,
            "occurrence_unknown")  # a single item has no occurrences to pick
    assert api.get("zhang", url).json == item
    assert count(api) == 1


@pytest.mark.parametrize(("query", "status", "code"), [
    ("from=2026-12-31&to=2026-12-01", 422, "window_invalid"),
    ("from=2026-01-01&to=2027-03-01", 422, "window_invalid"),  # more than 400 days
    ("from=2026-12-07T09:00:00Z&to=2026-12-07T09:00:00Z", 422, "window_invalid"),
    ("from=2026-12-01&to=tomorrow", 400, "bad_parameter"),
    ("from=2026-12-01T09:00&to=2026-12-31", 400, "bad_parameter"),  # a time needs its offset
    ("from=2026-02-30&to=2026-12-31", 400, "bad_parameter"),
    ("from=2026-12-01", 422, "validation_failed"),
    ("from=2026-12-01&to=2026-12-31&limit=5", 400, "bad_parameter"),
])
def test_a_bad_window_is_refused(api, query, status, code):
    event(api, rrule="FREQ=DAILY")  # no end: only a window bounds it
    problem(api.get("zhang", f"{EVENTS}/occurrences?{query}", status=status), status, code)
    assert len(window(api, "zhang", "2026-01-01", "2027-02-04")) == 60  # 2026-12-07 … 2027-02-04


# ---------------------------------------------------------------- lists and documentation


def test_a_list_costs_the_same_queries_for_one_item_or_many(api, app):
    with api.env.ctx() as ctx:
        customer = create_customer(as_user(ctx, api.users["zhang"]), name="阿里巴巴").id
    event(api, related_table="customers_customer", related_id=customer, participants=[api.users["lisi"]],
          reminders=[15], rrule="FREQ=WEEKLY;COUNT=3")
    app.login(*ZHANG)
    urls = (EVENTS, f"{EVENTS}/occurrences?from=2026-12-01&to=2026-12-31")
    one = [len(count_queries(app, url)) for url in urls]
    with api.env.ctx() as ctx:
        others = [create_customer(as_user(ctx, api.users["zhang"]), name=f"客户{n}").id for n in range(3)]
    for n, other in enumerate(others):
        event(api, title=f"拜访{n}", related_table="customers_customer", related_id=other,
              participants=[api.users["lisi"], api.users["wang"]], reminders=[15, 60], rrule="FREQ=DAILY;COUNT=5")
        api.post("zhang", TASKS, {"title": f"任务{n}", "start": "2026-12-09T10:00"}, status=201)
    assert len(api.get("zhang", urls[1]).json["items"]) == 3 + 15
    assert [len(count_queries(app, url)) for url in urls] == one


def test_the_openapi_document_describes_events_and_tasks(api):
    import jsonschema_rs
    from schemathesis.specs.openapi.definitions import OPENAPI_31

    document = api.get("zhang", "/api/v1/openapi.json").json
    assert jsonschema_rs.validator_for(OPENAPI_31).is_valid(document)
    paths = document["paths"]
    for path in (EVENTS, f"{EVENTS}/{{id}}", f"{EVENTS}/respond", TASKS, f"{TASKS}/{{id}}", f"{TASKS}/{{id}}/done",
                 f"{TASKS}/{{id}}/reopen"):
        assert path in paths
    window_parameters = paths[f"{EVENTS}/occurrences"]["get"]["parameters"]
    assert [(p["name"], p["required"]) for p in window_parameters] == [("from", True), ("to", True)]
    assert "`window_invalid`" in paths[f"{TASKS}/occurrences"]["get"]["responses"]["422"]["description"]
    assert "`not_a_participant`" in paths[f"{EVENTS}/respond"]["post"]["responses"]["403"]["description"]
    assert set(paths[f"{EVENTS}/{{id}}"]) >= {"get", "patch", "delete"}
    schemas = document["components"]["schemas"]
    assert "extra_forbidden" not in str(schemas) and schemas["calendar.events.Create"]["additionalProperties"] is False
    assert "mode=one" in next(tag["description"] for tag in document["tags"] if tag["name"] == "events")
