"""A salesperson's day in a real browser, at desktop and at phone width: find a customer from the
home page by its pinyin initials and open it, add a follow-up on its page and see it in the
timeline, claim a customer from the public pool (公海) and find it under 我负责的 (Mine)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from typing import Any

import pytest

from core.testing.browser import PHONE, LiveServer, open_page
from core.testing.plugin import ADMIN, TEST_SECRET
from tests.browser.steps import login, path_is

pytestmark = pytest.mark.browser

SALES = ("zhangsan", "Spring-Tea-77")
CUSTOMER = "阿里巴巴网络技术有限公司"  # initials: albb…
#: One pool customer per run, so the phone run (after the desktop one, same server) has its own.
POOL_CUSTOMERS = {1280: "青岛海川物流有限公司", PHONE["width"]: "厦门星河电子有限公司"}


@pytest.fixture(scope="module")
def customers_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict[str, int]]]:
    """The app with ``customers`` on SQLite: zhangsan (sales, 华东大区) owns CUSTOMER; two
    customers wait in a company pool."""
    from addons.customers import pool, services
    from core.addons.catalog import ENTRY_POINT_GROUP, AddonCatalog
    from core.cli.database import initialise
    from core.cli.environment import CliEnvironment
    from core.db import make_engine
    from core.models import User
    from core.org.services import create_department, root_department
    from core.users.services import create_user
    from core.web.app import make_app

    url = f"sqlite:///{tmp_path_factory.mktemp('customers') / 'kehu.sqlite'}"
    catalog = AddonCatalog.discover([EntryPoint(name="customers", value="addons.customers",
                                                group=ENTRY_POINT_GROUP)])
    env = CliEnvironment(database_url=url, catalog=catalog)
    initialise(env, admin_username=ADMIN[0], admin_password=ADMIN[1], admin_email=None, addons=["customers"])
    with env.ctx() as ctx:
        east = create_department(ctx, "华东大区", root_department(ctx).id).id
        zhang = create_user(ctx, *SALES, display_name="张三", roles=["sales"], department_id=east)
        as_zhang = ctx.as_user(ctx.dbsession.get(User, zhang.id))
        mine = services.create_customer(as_zhang, name=CUSTOMER, industry="软件和信息技术")
        company_pool = pool.save_pool(ctx, name="公司公海", department_id=None, max_owned=50, active=True)
        for name in POOL_CUSTOMERS.values():
            services.create_customer(ctx, name=name).pool_id = company_pool.id
        ctx.dbsession.flush()
        ids = {"customer": mine.id}
    env.engine.dispose()
    engine = make_engine(url)
    server = LiveServer(make_app({"kehu.database_url": url, "kehu.secret": TEST_SECRET}, engine=engine,
                                 catalog=catalog))
    yield server, ids
    server.stop()
    engine.dispose()


@pytest.fixture
def page(browser: Any, viewport: dict[str, int], customers_server: Any) -> Iterator[Any]:
    with open_page(browser, customers_server[0].url, viewport) as page:
        yield page


def _signed_in(page: Any) -> None:
    with page.expect_navigation():
        login(page, *SALES)
    assert not page.url.endswith("/login")


def _search_from_home(page: Any, text: str) -> None:
    """The top bar's search box on a wide screen; on a phone its magnifier opens the search page."""
    page.goto("/")
    if page.viewport_size["width"] >= 768:
        box = page.locator("header form[role=search] input[name=q]")
    else:
        assert not page.locator("header form[role=search]").is_visible()
        page.locator("header a[href='/search']").click()
        page.wait_for_url(path_is("/search"))
        box = page.locator("main form[role=search] input[name=q], form[role=search] input[name=q]").last
    box.fill(text)
    with page.expect_navigation():
        box.press("Enter")
    assert re.search(r"/search\?q=", page.url)


def test_find_a_customer_by_pinyin_initials_and_follow_it_up(page: Any, customers_server: Any) -> None:
    _server, ids = customers_server
    _signed_in(page)
    _search_from_home(page, "albb")
    hits = page.locator("section[data-provider='customers.customers'] a", has_text=CUSTOMER)
    assert hits.count() == 1
    hits.click()
    page.wait_for_url(path_is(f"/customers/{ids['customer']}"))
    assert page.locator("h1", has_text=CUSTOMER).count() == 1

    note = f"电话沟通，约了演示（{page.viewport_size['width']}px）"
    form = page.locator("#followup-form")
    form.locator("select[name=kind]").select_option("visit")
    form.locator("[name=content]").fill(note)
    with page.expect_navigation():  # back to the same customer page
        form.locator("button[type=submit]").click()
    assert page.locator("#followup-form .is-invalid").count() == 0
    first = page.locator("#timeline li[data-followup-id]").first
    assert note in first.locator(".followup-content").inner_text()
    assert page.locator("#customer-last-followup").inner_text() != "—"
    assert page.problems == []


def test_claim_a_customer_from_the_pool_and_find_it_under_mine(page: Any) -> None:
    name = POOL_CUSTOMERS[page.viewport_size["width"]]
    _signed_in(page)
    page.goto("/customers/pool")
    row = page.locator("#list-table tbody tr", has_text=name)
    assert row.count() == 1
    row.locator("a", has_text=name).click()
    page.wait_for_url(re.compile(r"/customers/\d+$"))
    with page.expect_navigation():  # the claim comes back to the same customer page
        page.locator("#claim-button").click()
    assert page.locator("#claim-button").count() == 0
    page.goto("/customers")
    with page.expect_navigation():
        page.locator("a[data-view='system:mine']").click()
    assert page.locator("a[data-view='system:mine']").get_attribute("aria-current") == "page"
    assert page.locator("#list-table tbody tr", has_text=name).count() == 1
    assert page.problems == []
