"""The kanban board in a real browser (Debian's chromium): at 1280 px drag a card from 初步接洽
to 方案报价 and see it land (and the database change), drop one on 输单 and be asked for the
reason first (cancel leaves it where it was); at 390 px the board is a stage-grouped list and a
card moves with its "Move to…" button.

Like the other browser flows, once, on SQLite: the backends are covered by the WebTest suites."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import EntryPoint
from typing import Any

import pytest
from sqlalchemy import select

from addons.leads.tests.conftest import ZHANG, _people
from core.testing.browser import DESKTOP, PHONE, LiveServer, open_page
from core.testing.plugin import ADMIN, TEST_SECRET
from tests.browser.steps import login

pytestmark = pytest.mark.browser

#: A spread of opportunities, so the board looks like a salesperson's week.
SAMPLE = [("CRM 一期", "初步接洽", "120000", "2031-03-31"), ("ERP 对接", "初步接洽", "56000", "2020-06-30"),
          ("呼叫中心升级", "初步接洽", "8800", None), ("数据看板", "需求确认", "35000", "2031-05-15"),
          ("渠道管理系统", "需求确认", "240000", "2031-04-20"), ("移动销售 App", "需求确认", "18000", "2031-07-01"),
          ("合同电子签", "方案报价", "64000", "2031-02-28"), ("客服机器人", "方案报价", "99000", "2031-03-10"),
          ("年度维保", "谈判审核", "30000", "2031-01-31"), ("私有化部署", "谈判审核", "500000", "2031-06-30"),
          ("培训服务", "赢单", "12000", "2031-01-10"), ("短信平台", "赢单", "6000", None),
          ("旧系统迁移", "输单", "80000", None), ("官网改版", "初步接洽", "15000", "2031-08-08"),
          ("营销自动化", "需求确认", "72000", "2031-09-09")]


@dataclass
class BoardSite:
    server: LiveServer
    env: Any
    users: dict[str, int]
    stages: dict[str, int]


@pytest.fixture(scope="module")
def board_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BoardSite]:
    """The app with ``customers`` and ``opportunities`` on SQLite, the leads tests' company, and
    zhangsan's customers with the SAMPLE opportunities."""
    from addons.customers import services as customers
    from addons.opportunities import services
    from addons.opportunities.models import Stage
    from core.addons.catalog import ENTRY_POINT_GROUP, AddonCatalog
    from core.cli.database import initialise
    from core.cli.environment import CliEnvironment
    from core.db import make_engine
    from core.web.app import make_app

    url = f"sqlite:///{tmp_path_factory.mktemp('board') / 'kehu.sqlite'}"
    catalog = AddonCatalog.discover([EntryPoint(name=name, value=f"addons.{name}", group=ENTRY_POINT_GROUP)
                                     for name in ("customers", "opportunities")])
    env = CliEnvironment(database_url=url, catalog=catalog)
    initialise(env, admin_username=ADMIN[0], admin_password=ADMIN[1], admin_email=None, addons=["opportunities"])
    users = _people(env)
    with env.ctx() as ctx:
        stages = {s.name: s.id for s in ctx.dbsession.scalars(select(Stage))}
        companies = [customers.create_customer(ctx, name=name, owner_id=users["zhang"]).id
                     for name in ("杭州云帆科技有限公司", "苏州恒瑞精密机械有限公司", "成都锦城物流有限公司")]
        for n, (title, stage, amount, close) in enumerate(SAMPLE):
            made = services.create_opportunity(ctx, customer_id=companies[n % 3], title=title, amount=amount,
                                               expected_close=close, owner_id=users["zhang"])
            if stage != "初步接洽":
                services.move_stage(ctx, made.id, stages[stage], lost_reason="预算取消" if stage == "输单" else None)
    engine = make_engine(url)
    server = LiveServer(make_app({"kehu.database_url": url, "kehu.secret": TEST_SECRET}, engine=engine,
                                 catalog=catalog))
    yield BoardSite(server, env, users, stages)
    server.stop()
    engine.dispose()
    env.engine.dispose()


def _make(site: BoardSite, title: str) -> int:
    from addons.customers.models import Customer
    from addons.opportunities import services

    with site.env.ctx() as ctx:
        customer_id = ctx.dbsession.scalar(select(Customer.id).order_by(Customer.id).limit(1))
        return services.create_opportunity(ctx, customer_id=customer_id, title=title, amount="20000",
                                           owner_id=site.users["zhang"]).id


def _stage_of(site: BoardSite, opportunity_id: int) -> tuple[int, str | None]:
    from addons.opportunities.models import Opportunity

    with site.env.ctx() as ctx:
        found = ctx.dbsession.get(Opportunity, opportunity_id)
        return found.stage_id, found.lost_reason


def _board(page: Any) -> None:
    with page.expect_navigation():
        login(page, *ZHANG)
    page.goto("/opportunities/board")
    page.locator("#opportunity-board").wait_for()


def test_drag_a_card_across_the_board(browser: Any, board_site: BoardSite) -> None:
    site = board_site
    card_id = _make(site, "拖拽演示项目")
    with open_page(browser, site.server.url, DESKTOP) as page:
        _board(page)
        first, offer = site.stages["初步接洽"], site.stages["方案报价"]
        card = page.locator(f"#card-{card_id}")
        assert card.get_attribute("data-stage-id") == str(first)
        assert page.locator(f"#column-{first} #card-{card_id}").count() == 1
        before = int(page.locator(f"#column-{offer}").get_attribute("data-count"))
        card.drag_to(page.locator(f"#cards-{offer}"))
        page.locator(f"#column-{offer} #card-{card_id}").wait_for()  # it landed
        assert page.locator(f"#column-{first} #card-{card_id}").count() == 0
        assert int(page.locator(f"#column-{offer}").get_attribute("data-count")) == before + 1
        assert "拖拽演示项目" in page.locator("#board-message").inner_text()
        assert _stage_of(site, card_id)[0] == offer
        assert page.problems == []


def test_a_drop_on_lost_asks_for_the_reason_first(browser: Any, board_site: BoardSite) -> None:
    site = board_site
    card_id = _make(site, "可能输单的项目")
    lost = site.stages["输单"]
    with open_page(browser, site.server.url, DESKTOP) as page:
        _board(page)
        dialog = page.locator("#board-move-dialog")
        page.locator(f"#card-{card_id}").drag_to(page.locator(f"#cards-{lost}"))
        dialog.wait_for(state="visible")
        assert page.locator("#board-move-lost-reason").is_visible()
        dialog.locator("[data-board-cancel]").click()  # changed my mind: nothing moves
        dialog.wait_for(state="hidden")
        assert page.locator(f"#column-{site.stages['初步接洽']} #card-{card_id}").count() == 1
        assert _stage_of(site, card_id)[0] == site.stages["初步接洽"]
        page.locator(f"#card-{card_id}").drag_to(page.locator(f"#cards-{lost}"))
        dialog.wait_for(state="visible")
        page.locator("#board-move-lost-reason").fill("客户选了竞品")
        dialog.locator("#board-move-submit").click()
        page.locator(f"#column-{lost} #card-{card_id}").wait_for()
        assert _stage_of(site, card_id) == (lost, "客户选了竞品")
        assert page.problems == []


def test_on_a_phone_the_board_is_a_list_and_a_card_moves_with_its_menu(browser: Any,
                                                                      board_site: BoardSite) -> None:
    site = board_site
    card_id = _make(site, "手机上推进的项目")
    first, need = site.stages["初步接洽"], site.stages["需求确认"]
    with open_page(browser, site.server.url, PHONE) as page:
        _board(page)
        columns = page.locator(".board-column")
        boxes = [columns.nth(n).bounding_box() for n in range(2)]
        assert boxes[1]["y"] > boxes[0]["y"] and boxes[1]["x"] == boxes[0]["x"]  # stacked, not side by side
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways wall
        won = page.locator(f"#column-{site.stages['赢单']}")
        assert not won.locator(".board-cards").is_visible()  # closed stages folded …
        won.locator("[data-board-toggle]").click()
        assert won.locator(".board-cards").is_visible()  # … until opened
        page.locator(f"#card-{card_id} [data-board-move]").click()
        dialog = page.locator("#board-move-dialog")
        dialog.wait_for(state="visible")
        assert page.locator("#board-move-stage").input_value() == str(need)  # the next stage offered
        assert not page.locator("#board-move-lost-reason").is_visible()
        dialog.locator("#board-move-submit").click()
        page.locator(f"#column-{need} #card-{card_id}").wait_for()
        assert page.locator(f"#column-{first} #card-{card_id}").count() == 0
        assert won.locator(".board-cards").is_visible()  # what the user opened stays open
        assert _stage_of(site, card_id)[0] == need
        assert page.problems == []


def test_a_refused_move_says_why_and_moves_nothing(browser: Any, board_site: BoardSite) -> None:
    """The card was handed to a colleague since the board was loaded: the drop is refused (404)
    and the board says so, in Chinese, and no longer shows the card."""
    from addons.opportunities.models import Opportunity

    site = board_site
    card_id = _make(site, "刚转给李四的项目")
    with open_page(browser, site.server.url, DESKTOP, expected_status=lambda r: r.status == 404) as page:
        _board(page)
        with site.env.ctx() as ctx:
            ctx.dbsession.get(Opportunity, card_id).owner_id = site.users["lisi"]
        page.locator(f"#card-{card_id}").drag_to(page.locator(f"#cards-{site.stages['方案报价']}"))
        error = page.locator("#board-error")
        error.wait_for()
        assert error.inner_text().strip() == "记录不存在，或您无权访问。"
        assert page.locator(f"#card-{card_id}").count() == 0
        assert _stage_of(site, card_id)[0] == site.stages["初步接洽"]
        assert page.problems == []
