"""写跟进 from the customers list in a real browser, at 1280 px and 390 px: one click opens the
small form in the list's dialog (htmx), the second saves it; the user is back on the list with
the flash, and the follow-up's next time is a plan on the customer page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.testing.browser import LiveServer, open_page
from core.testing.plugin import ADMIN, TEST_SECRET
from tests.browser.steps import login, path_is

pytestmark = pytest.mark.browser

ZHANG = ("zhangsan", "Spring-Tea-77")


@pytest.fixture(scope="module")
def customers_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict[str, int]]]:
    """The app with ``customers`` on SQLite: zhangsan (sales) owns 甲公司 and 乙公司."""
    from importlib.metadata import EntryPoint

    from addons.customers import services
    from core.addons.catalog import ENTRY_POINT_GROUP, AddonCatalog
    from core.cli.database import initialise
    from core.cli.environment import CliEnvironment
    from core.db import make_engine
    from core.org.services import root_department
    from core.users.services import create_user
    from core.web.app import make_app

    url = f"sqlite:///{tmp_path_factory.mktemp('plans') / 'kehu.sqlite'}"
    catalog = AddonCatalog.discover([EntryPoint(name="customers", value="addons.customers",
                                                group=ENTRY_POINT_GROUP)])
    env = CliEnvironment(database_url=url, catalog=catalog)
    initialise(env, admin_username=ADMIN[0], admin_password=ADMIN[1], admin_email=None, addons=["customers"])
    with env.ctx() as ctx:
        zhang = create_user(ctx, ZHANG[0], ZHANG[1], display_name="张三", roles=["sales"],
                            department_id=root_department(ctx).id)
        ids = {name: services.create_customer(ctx, name=name, owner_id=zhang.id).id for name in ("甲公司", "乙公司")}
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


def test_quick_followup_from_the_list_in_two_clicks(page: Any, customers_server: Any) -> None:
    _server, ids = customers_server
    name = "甲公司" if page.viewport_size["width"] > 800 else "乙公司"
    customer_id = ids[name]
    login(page, *ZHANG)
    page.goto("/customers")
    page.locator(f"#row-{customer_id} a[data-row-action=followup]").click()  # click one: the dialog
    dialog = page.locator("#kehu-row-dialog")
    dialog.locator("#quick-followup-form").wait_for(state="visible")
    assert dialog.locator("h2").inner_text().endswith(name)
    dialog.locator("textarea[name=content]").fill("电话沟通了报价")
    dialog.locator("input[name=next_at]").fill("2031-05-06T10:00")
    dialog.locator("input[name=next_step]").fill("发合同")
    with page.expect_navigation():
        dialog.locator("#quick-followup-form button[type=submit]").click()  # click two: saved
    assert path_is("/customers").match(page.url)
    assert page.locator(".alert-success").count() == 1
    page.goto(f"/customers/{customer_id}")
    plan = page.locator('#plans li[data-plan-state="planned"]')
    assert plan.count() == 1
    assert plan.locator(".plan-title").inner_text() == "发合同"
    assert page.problems == []
