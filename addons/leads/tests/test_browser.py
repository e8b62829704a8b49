"""A salesperson's leads in a real browser (Debian's chromium), at desktop and at phone width:
convert a qualified lead into a new customer or into the existing one of the same name and see
its follow-ups on the customer page (L4), claim a lead from the 线索池 with the bulk 领取 (L1–L2),
watch the form's 查重 warn while the company name is typed, and write a quick follow-up from a
list row on a phone.

Like the other browser flows, once, on SQLite: the backends are covered by the WebTest suites."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import EntryPoint
from typing import Any

import pytest

from addons.leads.tests.conftest import ZHANG, _people, as_user
from addons.leads.tests.test_pages import in_pool, make
from core.testing.browser import PHONE, LiveServer, open_page
from core.testing.plugin import ADMIN, TEST_SECRET
from tests.browser.steps import login, path_is

pytestmark = pytest.mark.browser

DUPLICATE_CHECK = "/customers/duplicates/check"
#: One company per conversion run, unalike, so one run's customer is no 查重 candidate of the next
#: (the runs share the server).
CONVERTED = {(1280, "new"): "杭州云帆软件有限公司", (390, "new"): "成都锦城物流有限公司",
             (1280, "existing"): "苏州恒瑞精密机械有限公司", (390, "existing"): "青岛海澜食品有限公司"}

#: A customer per width for the 查重 test, and what is typed of its name.
DUPLICATES = {1280: ("南京紫峰电子", "南京紫峰电子有限公司"), 390: ("武汉江城医疗", "武汉江城医疗器械有限公司")}


@dataclass
class LeadsSite:
    """The served app and what the tests set up through the services: ``env`` and ``users``
    are what ``test_pages.make`` / ``in_pool`` expect of an app."""

    server: LiveServer
    env: Any
    users: dict[str, int]


@pytest.fixture(scope="module")
def leads_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LeadsSite]:
    """The app with ``customers`` and ``leads`` on SQLite and the leads tests' company (华东大区:
    wangwu, zhangsan, lisi; 华南大区: zhaoliu); the addon's company-wide lead pool."""
    from core.addons.catalog import ENTRY_POINT_GROUP, AddonCatalog
    from core.cli.database import initialise
    from core.cli.environment import CliEnvironment
    from core.db import make_engine
    from core.web.app import make_app

    url = f"sqlite:///{tmp_path_factory.mktemp('leads') / 'kehu.sqlite'}"
    catalog = AddonCatalog.discover([EntryPoint(name=name, value=f"addons.{name}", group=ENTRY_POINT_GROUP)
                                     for name in ("customers", "leads")])
    env = CliEnvironment(database_url=url, catalog=catalog)
    initialise(env, admin_username=ADMIN[0], admin_password=ADMIN[1], admin_email=None, addons=["leads"])
    users = _people(env)
    engine = make_engine(url)
    server = LiveServer(make_app({"kehu.database_url": url, "kehu.secret": TEST_SECRET}, engine=engine,
                                 catalog=catalog))
    yield LeadsSite(server, env, users)
    server.stop()
    engine.dispose()
    env.engine.dispose()


@pytest.fixture
def page(browser: Any, viewport: dict[str, int], leads_site: LeadsSite) -> Iterator[Any]:
    with open_page(browser, leads_site.server.url, viewport) as page:
        yield page


def _signed_in(page: Any, who: tuple[str, str] = ZHANG) -> None:
    with page.expect_navigation():
        login(page, *who)
    assert not page.url.endswith("/login")


def _width(page: Any) -> int:
    return page.viewport_size["width"]


def _customer(site: LeadsSite, name: str, owner: str = "zhang") -> int:
    from addons.customers import services as customers

    with site.env.ctx() as ctx:
        return customers.create_customer(as_user(ctx, site.users[owner]), name=name).id


def _followup(site: LeadsSite, lead_id: int, content: str) -> None:
    from addons.leads import services

    with site.env.ctx() as ctx:
        services.add_followup(as_user(ctx, site.users["zhang"]), lead_id, kind="phone", content=content)


# -- conversion (L4) -------------------------------------------------------------------------------

@pytest.mark.parametrize("into", ["new", "existing"])
def test_convert_a_qualified_lead_and_its_followups_follow(page: Any, leads_site: LeadsSite, into: str) -> None:
    name = CONVERTED[_width(page), into]
    existing = _customer(leads_site, name) if into == "existing" else None
    lead_id = make(leads_site, name, status="qualified", contact_name="钱经理")
    note = f"确认了采购需求（{into}）"
    _followup(leads_site, lead_id, note)

    _signed_in(page)
    page.goto("/leads")
    page.locator(f"#row-{lead_id} a", has_text=name).first.click()
    page.wait_for_url(path_is(f"/leads/{lead_id}"))
    page.locator("#convert-button").click()
    page.wait_for_url(path_is(f"/leads/{lead_id}/convert"))

    choices = page.locator("#convert-customer input[name=customer]")
    chosen = page.locator("#convert-customer input[name=customer]:checked")
    if existing is None:  # no customer like it: a new one is the only choice
        assert choices.count() == 1
        assert chosen.get_attribute("value") == "new"
    else:  # the same company is among the candidates, and linked by default
        assert {"new", str(existing)} <= set(choices.evaluate_all("els => els.map(e => e.value)"))
        assert chosen.get_attribute("value") == str(existing)
    with page.expect_navigation():
        page.locator("#convert-submit").click()

    page.wait_for_url(re.compile(r"/customers/\d+$"))
    customer_id = int(page.url.rsplit("/", 1)[1])
    if existing is not None:
        assert customer_id == existing
    assert page.locator("#customer-name").inner_text().strip() == name
    assert note in page.locator("#timeline").inner_text()

    page.goto(f"/leads/{lead_id}")
    banner = page.locator("#lead-converted")
    assert banner.is_visible()
    assert banner.locator("a#lead-customer").get_attribute("href") == f"/customers/{customer_id}"
    assert page.locator("#lead-status").get_attribute("data-status") == "converted"
    for gone in ("#edit-button", "#followup-form", "#convert-button"):  # read-only now
        assert page.locator(gone).count() == 0, gone
    assert note in page.locator("#timeline").inner_text()
    banner.locator("a#lead-customer").click()
    page.wait_for_url(path_is(f"/customers/{customer_id}"))
    assert page.problems == []


# -- the pool (L1–L2) ------------------------------------------------------------------------------

def test_claim_a_lead_from_the_pool_with_the_bulk_action(page: Any, leads_site: LeadsSite) -> None:
    name = f"池中领取{_width(page)}有限公司"
    lead_id = in_pool(leads_site, name)
    other = in_pool(leads_site, f"池中留下{_width(page)}有限公司")

    _signed_in(page)
    page.goto("/leads/pool")
    assert page.locator(f"#row-{other}").count() == 1
    page.locator(f"#row-{lead_id} input[name=ids]").check()
    page.select_option("#bulk-bar select[name=action]", "claim")
    with page.expect_navigation():
        page.locator("#bulk-bar button[type=submit]").click()
    assert page.locator("#bulk-count").get_attribute("data-count") == "1"
    with page.expect_navigation():
        page.locator("#bulk-confirm").click()
    assert page.locator(".alert-success").count() == 1
    assert page.locator(f"#row-{lead_id}").count() == 0  # no longer in the pool
    assert page.locator(f"#row-{other}").count() == 1  # not ticked: still there

    page.goto("/leads")
    assert page.locator(f"#row-{lead_id}", has_text=name).count() == 1
    assert page.locator(f"#row-{other}").count() == 0
    assert page.problems == []


# -- the form's 查重 -------------------------------------------------------------------------------

def test_the_form_warns_of_a_customer_of_the_same_name_while_typing(page: Any, leads_site: LeadsSite) -> None:
    typed, name = DUPLICATES[_width(page)]
    customer_id = _customer(leads_site, name, owner="lisi")  # a colleague's customer: found all the same

    _signed_in(page)
    page.goto("/leads/new")
    box = page.locator("#lead-form input[name=name]")
    with page.expect_response(lambda r: DUPLICATE_CHECK in r.url):
        box.fill("全新独有的一家公司")
    assert page.locator("#duplicate-warning-name .dup-hit").count() == 0

    box.fill("")
    box.press_sequentially(typed, delay=20)  # as a person types
    hit = page.locator(f"#duplicate-warning-name .dup-hit[data-customer-id='{customer_id}']")
    hit.wait_for(state="visible", timeout=5_000)  # htmx asks 600 ms after the last key
    assert "李四" in hit.locator(".dup-owner").inner_text()
    assert page.problems == []


# -- the quick follow-up from a list row, on a phone -----------------------------------------------

@pytest.fixture
def phone(browser: Any, leads_site: LeadsSite) -> Iterator[Any]:
    with open_page(browser, leads_site.server.url, PHONE) as page:
        yield page


def test_quick_followup_from_a_list_row_on_a_phone(phone: Any, leads_site: LeadsSite) -> None:
    page = phone
    name = "手机快速跟进有限公司"
    lead_id = make(leads_site, name)

    _signed_in(page)
    page.goto("/leads")
    page.locator(f"#row-{lead_id} a[data-row-action=followup]").click()
    dialog = page.locator("#kehu-row-dialog")
    dialog.locator("#quick-followup-form").wait_for(state="visible")
    assert dialog.locator("h2").inner_text().endswith(name)
    dialog.locator("textarea[name=content]").fill("电话沟通，客户想看演示")
    with page.expect_navigation():
        dialog.locator("#quick-followup-form button[type=submit]").click()
    assert path_is("/leads").match(page.url)
    assert page.locator(".alert-success").count() == 1

    page.goto(f"/leads/{lead_id}")
    assert "电话沟通，客户想看演示" in page.locator("#timeline").inner_text()
    assert page.locator("#lead-status").get_attribute("data-status") == "contacting"
    assert page.problems == []
