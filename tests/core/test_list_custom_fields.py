"""Custom fields on a list page (the fixture addon's /notes): each active field is a filter —
an indexed lookup, refused clearly when its value does not parse — and a column the user may
show, its values read in one query per page; a background-free export carries it."""

import pytest
from sqlalchemy import event

from core.customfields.services import save_field, set_values
from core.org.services import root_department
from core.users.services import create_user
from tests.fixtures.addons.scoped import services as notes


@pytest.fixture
def catalog(catalog_of):
    return catalog_of("tests.fixtures.addons.scoped")


@pytest.fixture
def app(make_kehu_app, catalog, cli_env):
    app = make_kehu_app(catalog=catalog, install=["scoped"])
    env = cli_env(catalog)
    with env.ctx() as ctx:
        grade = save_field(ctx, "scoped_note", label="等级", kind="select", choices="重要\n一般").name
        budget = save_field(ctx, "scoped_note", label="预算", kind="number").name
        for title, level, amount in (("甲", "重要", "100"), ("乙", "一般", "2500.5"), ("丙", None, None)):
            note = notes.create_note(ctx, title, owner_id=None)
            set_values(ctx, note, {grade: level or "", budget: amount or ""})
        create_user(ctx, "zhangsan", "Spring-Tea-77", roles=["sales"], department_id=root_department(ctx).id)
    app.fields = {"grade": grade, "budget": budget}
    app.login()
    return app


def ids(page):
    return [int(tr["id"].removeprefix("row-")) for tr in page.html.select("#list-table tbody tr")]


def test_filter_by_a_choice_and_a_number_range(app):
    grade, budget = app.fields["grade"], app.fields["budget"]
    assert len(ids(app.get("/notes", params={"filtered": "1", f"f.{grade}": "重要"}))) == 1
    assert len(ids(app.get(f"/notes?filtered=1&op.{grade}=empty"))) == 1
    assert len(ids(app.get(f"/notes?filtered=1&op.{budget}=between&f.{budget}=50&to.{budget}=3000"))) == 2
    assert len(ids(app.get(f"/notes?filtered=1&op.{budget}=gt&f.{budget}=100"))) == 1


def test_a_value_that_does_not_parse_is_shown_and_no_row_listed(app):
    budget = app.fields["budget"]
    page = app.get("/notes", params={"filtered": "1", f"op.{budget}": "gt", f"f.{budget}": "很多"})
    assert ids(page) == []
    assert page.html.select_one("#filter-errors") is not None


def test_the_column_shows_values_in_one_query_per_page(app):
    budget = app.fields["budget"]
    app.post_form("/notes/settings", {"columns": ["title", budget]}, status=303)
    engine = app.router.registry["kehu.engine"]
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        page = app.get("/notes?size=20")
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    cells = [td.get_text(strip=True) for td in page.html.select(f"#list-table tbody td[data-field={budget}]")]
    assert sorted(cells) == ["100", "2500.5", "—"]
    assert sum("core_custom_value" in s for s in statements) == 1


def test_the_export_carries_the_custom_column(app):
    budget = app.fields["budget"]
    app.post_form("/notes/settings", {"columns": ["title", budget]}, status=303)
    body = app.get("/notes/export?format=csv").body.decode("utf-8-sig")
    assert "预算" in body.splitlines()[0] and "2500.5" in body
