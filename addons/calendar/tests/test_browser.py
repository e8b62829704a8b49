"""The calendar in a real browser (Debian's chromium), at desktop and at phone width: click an
empty slot of the week view (the day view on a phone), save the event from the form, find it in
the agenda; drag an event to another slot and see it stay there after a reload.

Like the other browser flows, once, on SQLite: the backends are covered by the WebTest suites."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import EntryPoint
from typing import Any

import pytest

from addons.calendar import services
from addons.calendar.models import CalendarItem
from addons.calendar.tests.conftest import ZHANG, as_user, people
from core.testing.browser import LiveServer, open_page
from core.testing.plugin import ADMIN, TEST_SECRET
from tests.browser.steps import login, path_is

pytestmark = pytest.mark.browser

#: A day well ahead (a Monday), so the agenda of that week is never "past" whenever the test runs.
DAY = (dt.date.today() + dt.timedelta(days=21 - dt.date.today().weekday()))


@dataclass
class CalendarSite:
    server: LiveServer
    env: Any
    users: dict[str, int]


@pytest.fixture(scope="module")
def calendar_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CalendarSite]:
    """The app with the calendar on SQLite and the calendar tests' company."""
    from core.addons.catalog import ENTRY_POINT_GROUP, AddonCatalog
    from core.cli.database import initialise
    from core.cli.environment import CliEnvironment
    from core.db import make_engine
    from core.web.app import make_app

    url = f"sqlite:///{tmp_path_factory.mktemp('calendar') / 'kehu.sqlite'}"
    catalog = AddonCatalog.discover([EntryPoint(name="calendar", value="addons.calendar", group=ENTRY_POINT_GROUP)])
    env = CliEnvironment(database_url=url, catalog=catalog)
    initialise(env, admin_username=ADMIN[0], admin_password=ADMIN[1], admin_email=None, addons=["calendar"])
    users = people(env)
    engine = make_engine(url)
    server = LiveServer(make_app({"kehu.database_url": url, "kehu.secret": TEST_SECRET}, engine=engine,
                                 catalog=catalog))
    yield CalendarSite(server, env, users)
    server.stop()
    engine.dispose()
    env.engine.dispose()


@pytest.fixture
def page(browser: Any, viewport: dict[str, int], calendar_site: CalendarSite) -> Iterator[Any]:
    with open_page(browser, calendar_site.server.url, viewport) as page:
        yield page


def _signed_in(page: Any) -> None:
    with page.expect_navigation():
        login(page, *ZHANG)
    assert not page.url.endswith("/login")


def _phone(page: Any) -> bool:
    return page.viewport_size["width"] < 768


def test_create_an_event_in_the_week_view_and_see_it_in_the_agenda(page: Any, calendar_site: CalendarSite) -> None:
    title, hour = ("拜访成都锦城", "15") if _phone(page) else ("拜访杭州云帆", "10")  # the runs share the server
    day = DAY + dt.timedelta(days=2)  # the Wednesday
    _signed_in(page)
    page.goto(f"/calendar?view=week&date={day.isoformat()}")
    slot_at = f".fc-timegrid-slot-lane[data-time='{hour}:00:00']"
    page.locator(slot_at).first.wait_for()
    if _phone(page):  # a phone shows one day: the day asked for
        assert page.locator(".fc-timeGridDay-view").count() == 1
        page.locator(slot_at).click()
    else:  # click the Wednesday's column at 10:00
        column = page.locator(f".fc-timegrid-col[data-date='{day.isoformat()}']").bounding_box()
        slot = page.locator(slot_at).bounding_box()
        page.mouse.click(column["x"] + column["width"] / 2, slot["y"] + slot["height"] / 2)
    page.wait_for_url(re.compile(r"/calendar/items/new\?"))
    assert page.locator("#start_date").input_value() == day.isoformat()
    assert page.locator("#start_time").input_value() == f"{hour}:00"
    page.fill("#title", title)
    page.fill("#location", "客户办公室")
    with page.expect_navigation():
        page.locator("#save-button").click()
    page.wait_for_url(re.compile(r"/calendar/items/\d+$"))
    assert page.locator("#item-title").inner_text().strip().endswith(title)

    page.goto(f"/calendar/agenda?from={DAY.isoformat()}")
    entry = page.locator(".agenda-day", has=page.locator(".agenda-title", has_text=title))
    assert entry.get_attribute("data-day") == day.isoformat()
    assert f"{hour}:00 – {hour}:30" in entry.inner_text()
    assert page.problems == []


def test_drag_an_event_to_another_time(page: Any, calendar_site: CalendarSite) -> None:
    if _phone(page):
        pytest.skip("dragging is for the desktop; a phone edits the time in the form")
    with calendar_site.env.ctx() as ctx:
        item_id = services.create_item(as_user(ctx, calendar_site.users["zhang"]), services.ItemData(
            title="拖动的会议", start=dt.datetime.combine(DAY, dt.time(9)),
            end=dt.datetime.combine(DAY, dt.time(10)))).id
    _signed_in(page)
    page.goto(f"/calendar?view=week&date={DAY.isoformat()}")
    event = page.locator(".fc-event", has_text="拖动的会议")
    event.wait_for()
    target = page.locator(".fc-timegrid-slot-lane[data-time='14:00:00']").bounding_box()
    box = event.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 5)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, target["y"] + 5, steps=12)
    with page.expect_response(lambda r: r.url.endswith(f"/calendar/items/{item_id}/move")) as moved:
        page.mouse.up()
    assert moved.value.ok
    with calendar_site.env.ctx() as ctx:
        start = ctx.dbsession.get(CalendarItem, item_id).start_at
    assert start == dt.datetime.combine(DAY, dt.time(6), dt.UTC)  # 14:00 in Shanghai
    page.reload()
    assert page.locator(".fc-event", has_text="拖动的会议").inner_text().startswith("14:00")
    assert page.problems == []
    page.wait_for_url(path_is("/calendar"))
