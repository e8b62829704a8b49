"""``ListPage.row_actions``: a button per row opening a small form (in the list's dialog with
htmx, as a page without), carrying the list's URL back, hidden without its permission, and
costing no query per row."""

import pytest
from pyramid.exceptions import ConfigurationError
from sqlalchemy import select

from core.lists.declaration import Column, ListPage, RowAction
from core.models import User
from core.testing.queries import count_queries
from core.users.services import create_user
from tests.fixtures.addons.scoped import services
from tests.fixtures.addons.scoped.models import ScopedNote


def test_two_row_actions_with_one_key_are_refused():
    action = RowAction("hello", "Hello", "rowact.hello")
    page = ListPage(key="rowact.twice", model=ScopedNote, title="Twice", path="/twice",
                    columns=(Column("title", "Title"),), row_actions=(action, action))
    with pytest.raises(ConfigurationError, match="two row actions share a key"):
        page.check()


@pytest.fixture
def app(make_kehu_app, catalog_of, cli_env):
    catalog = catalog_of("tests.fixtures.addons.scoped", "tests.fixtures.addons.rowact")
    kehu = make_kehu_app(catalog=catalog, install=["scoped", "rowact"])
    env = cli_env(catalog)
    with env.ctx() as ctx:
        create_user(ctx, "zhangsan", "Spring-Tea-77", roles=["sales"])
        create_user(ctx, "zhaoliu", "Summer-Wind-55", roles=["auditor"])  # reads notes, may not change them
    kehu.env = env
    return kehu


def notes(app, owner, count):
    with app.env.ctx() as ctx:
        owner_id = ctx.dbsession.scalar(select(User.id).where(User.username == owner))
        return [services.create_note(ctx, f"note {n}", owner_id=owner_id).id for n in range(count)]


def test_each_row_has_the_action_with_the_way_back(app):
    [note] = notes(app, "zhangsan", 1)
    app.login("zhangsan", "Spring-Tea-77")
    page = app.get("/rowact/notes?view=system%3Aall")
    link = page.html.select_one(f'#row-{note} a[data-row-action="hello"]')
    assert link["href"] == f"/rowact/notes/{note}/hello?next=%2Frowact%2Fnotes%3Fview%3Dsystem%253Aall"
    assert link["hx-get"] == link["href"] and link["hx-target"] == "#kehu-row-dialog-body"
    assert page.html.select_one("dialog#kehu-row-dialog #kehu-row-dialog-body") is not None
    assert app.get(link["href"]).text == f"hello {note} as a page, back to /rowact/notes?view=system%3Aall"
    assert app.get(link["href"], headers={"HX-Request": "true"}).text.startswith(f"hello {note} as a fragment")


def test_the_action_is_hidden_without_its_permission(app):
    notes(app, "zhaoliu", 1)
    app.login("zhaoliu", "Summer-Wind-55")
    page = app.get("/rowact/notes")
    assert page.html.select("#list-table tbody tr")
    assert page.html.select("a[data-row-action]") == []
    assert page.html.select_one("dialog#kehu-row-dialog") is None


def test_row_actions_cost_no_query_per_row(app):
    app.login("zhangsan", "Spring-Tea-77")
    notes(app, "zhangsan", 2)
    few = count_queries(app, "/rowact/notes")
    notes(app, "zhangsan", 20)
    assert len(count_queries(app, "/rowact/notes")) == len(few)
