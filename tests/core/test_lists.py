"""List pages by declaration (issue 5 part 4; C2, D-VIEW, X1, X6, N-series "no N+1"): the notes
list of the fixture addon ``scoped`` — columns, filters, search, sort, keyset pages, saved views,
column chooser, stars, bulk actions with a count to confirm, a form page with inline errors, and
a bounded number of SQL queries whatever the page size."""

from urllib.parse import urlencode

import pytest
from pyramid.exceptions import ConfigurationError
from sqlalchemy import select

from core.i18n import _, localizer_for
from core.lists.declaration import Column, Filter, ListPage
from core.lists.models import SavedView
from core.models import AuditEntry, Department
from core.org.services import create_department, root_department
from core.testing.queries import count_queries
from core.users.services import create_user
from tests.fixtures.addons.scoped import services
from tests.fixtures.addons.scoped.models import ScopedNote

FIXTURES = "tests.fixtures.addons."
ZHANG = ("zhangsan", "Spring-Tea-77")
LISI = ("lisi", "Autumn-Rain-88")
WANG = ("wangwu", "Winter-Snow-99")


def zh(message):
    return localizer_for("zh_CN").translate(message)


@pytest.fixture
def catalog(catalog_of):
    return catalog_of(FIXTURES + "scoped")


@pytest.fixture
def notes_app(make_kehu_app, catalog, cli_env):
    """zhangsan and lisi (sales, own scope) in 华东大区, managed by wangwu (sales manager,
    department scope, see_sensitive) who sits there too."""
    app = make_kehu_app(catalog=catalog, install=["scoped"])
    env = cli_env(catalog)
    with env.ctx() as ctx:
        root = root_department(ctx).id
        east = create_department(ctx, "华东大区", root).id
        wang = create_user(ctx, WANG[0], WANG[1], roles=["sales_manager"], department_id=east)
        ctx.dbsession.get(Department, east).manager_id = wang.id
        zhang = create_user(ctx, ZHANG[0], ZHANG[1], roles=["sales"], department_id=east)
        lisi = create_user(ctx, LISI[0], LISI[1], roles=["sales"], department_id=east)
        users = {"zhang": zhang.id, "lisi": lisi.id, "wang": wang.id}
        notes = {
            "a": services.create_note(ctx, "上海华信科技", owner_id=zhang.id, mobile="13812345678",
                                      email="zhang@example.com"),
            "b": services.create_note(ctx, "北京百度 100%_off", owner_id=zhang.id, mobile="13900001111"),
            "c": services.create_note(ctx, "李四的客户", owner_id=lisi.id, mobile="13700002222"),
            "d": services.create_note(ctx, "王五的客户", owner_id=wang.id),
        }
        services.set_level(ctx, [notes["a"].id], "A")
        ids = {key: note.id for key, note in notes.items()}
    app.env, app.users, app.ids = env, users, ids
    return app


def rows(page):
    return [int(tr.attrs["id"].removeprefix("row-")) for tr in page.html.select("#list-table tbody tr")]


def headers(page):
    return [th.get_text(strip=True) for th in page.html.select("#list-table thead th")][2:]


def post(app, url, pairs, **kwargs):
    """POST a form with repeated fields (``ids``), as the page's own form would."""
    return app.post(url, [*pairs, ("csrf_token", app.csrf_token())], **kwargs)


def list_query(**params):
    return urlencode({"filtered": "1", **params})


# -- the page -----------------------------------------------------------------------------------

def test_the_list_shows_declared_columns_in_scope_and_masked(notes_app):
    app, ids = notes_app, notes_app.ids
    app.login(*ZHANG)
    page = app.get("/notes")
    assert sorted(rows(page)) == sorted([ids["a"], ids["b"]])  # own scope: lisi's and wangwu's absent
    assert page.html.select_one("#list-total").get_text() == "2"
    assert headers(page) == [zh(_("Title")), zh(_("Mobile")), zh(_("Email")), zh(_("Level")), zh(_("Owner")),
                             zh(_("Updated"))]  # "Created" is not a default column
    row = page.html.select_one(f"#row-{ids['a']}")
    assert row.select_one('[data-field="mobile"]').get_text() == "138****5678"
    assert row.select_one('[data-field="email"]').get_text() == "z***@example.com"
    assert row.select_one('[data-field="owner"]').get_text() == "zhangsan"
    assert row.select_one('[data-field="title"] a')["href"] == f"/notes/{ids['a']}/edit"
    assert "13812345678" not in page.text
    assert page.html.select_one("#import-link")["href"] == "/imports/new/scoped.notes"
    assert page.html.select_one("#export-menu") is None  # salespeople may not export


def test_a_manager_sees_the_department_unmasked_and_the_team_view(notes_app):
    app, ids = notes_app, notes_app.ids
    app.login(*WANG)
    page = app.get("/notes")
    assert set(rows(page)) == set(ids.values())
    assert page.html.select_one(f"#row-{ids['a']} [data-field=mobile]").get_text() == "13812345678"
    team = app.get("/notes", params={"view": "system:subordinates"})
    assert set(rows(team)) == {ids["a"], ids["b"], ids["c"]}  # not the manager's own
    mine = app.get("/notes", params={"view": "system:mine"})
    assert rows(mine) == [ids["d"]]
    assert "format=xlsx" in page.html.select_one("#export-xlsx")["href"]


def test_login_is_required(notes_app):
    response = notes_app.get("/notes")
    assert response.status_int in (302, 303) and "/login" in response.location


# -- filters, search, sort ------------------------------------------------------------------------

@pytest.mark.parametrize(("params", "expected"), [
    ({"f.title": "华信"}, {"a"}),                                     # contains (the default for text)
    ({"op.title": "eq", "f.title": "李四的客户"}, {"c"}),
    ({"op.title": "not_contains", "f.title": "客户"}, {"a", "b"}),
    ({"op.title": "starts", "f.title": "北京"}, {"b"}),
    ({"op.title": "ends", "f.title": "_off"}, {"b"}),
    ({"op.level": "eq", "f.level": "A"}, {"a"}),
    ({"op.level": "empty"}, {"b", "c", "d"}),
    ({"op.level": "not_empty"}, {"a"}),
    ({"op.owner_id": "ne", "f.owner_id": "OWNER"}, {"c", "d"}),
    ({"op.mobile": "eq", "f.mobile": "13812345678"}, {"a"}),          # sensitive: the whole number only
    ({"op.created_at": "between", "f.created_at": "2000-01-01", "to.created_at": "2999-12-31"}, {"a", "b", "c", "d"}),
    ({"op.created_at": "lt", "f.created_at": "2000-01-01"}, set()),
    ({"q": "100%_"}, {"b"}),                                          # LIKE wildcards are literal
    ({"q": "%"}, {"b"}),
    ({"q": "13812345678"}, {"a"}),                                     # a full mobile finds, masked
    ({"q": "1381234"}, set()),                                        # a part of it does not
])
def test_filters_and_search(notes_app, params, expected):
    app, ids = notes_app, notes_app.ids
    params = {k: (str(app.users["zhang"]) if v == "OWNER" else v) for k, v in params.items()}
    app.login(*WANG)
    page = app.get("/notes?" + list_query(**params))
    assert set(rows(page)) == {ids[key] for key in expected}


@pytest.mark.parametrize("params", [
    {"op.created_at": "eq", "f.created_at": "yesterday"},
    {"op.mobile": "contains", "f.mobile": "138"},      # a sensitive column cannot be probed
    {"op.level": "gt", "f.level": "A"},                # no such comparison for a choice
    {"op.title": "nonsense", "f.title": "x"},          # an unknown comparison
])
def test_a_bad_filter_is_shown_and_lists_nothing(notes_app, params):
    app = notes_app
    app.login(*WANG)
    page = app.get("/notes?" + list_query(**params))
    assert page.status_int == 200
    assert page.html.select_one("#filter-errors") is not None
    assert rows(page) == [] and page.html.select_one(".invalid-feedback") is not None


def test_unknown_parameters_fall_back_safely(notes_app):
    app, ids = notes_app, notes_app.ids
    app.login(*ZHANG)
    page = app.get("/notes", params={"view": "saved:999", "sort": "mobile", "size": "100000", "cursor": "garbage!"})
    assert sorted(rows(page)) == sorted([ids["a"], ids["b"]])


def test_sort_by_a_column_both_ways(notes_app):
    app = notes_app
    app.login(*WANG)
    ascending = rows(app.get("/notes", params={"sort": "title"}))
    descending = rows(app.get("/notes", params={"sort": "-title"}))
    assert ascending == list(reversed(descending)) and len(ascending) == 4
    page = app.get("/notes", params={"sort": "title"})
    link = page.html.select_one("#list-table thead a[aria-sort]")
    assert link["aria-sort"] == "ascending" and "sort=-title" in link["href"]


def test_a_broad_match_is_counted_up_to_the_limit_and_shown_as_more(notes_app, monkeypatch):
    """Counting stops past COUNT_LIMIT ("10,000+"): a broad search costs a page, not a full count;
    the rows themselves and every page are unaffected."""
    from core.lists import query

    app = notes_app
    with app.env.ctx() as ctx:
        for n in range(5):
            services.create_note(ctx, f"批量 {n:02d}", owner_id=app.users["zhang"])
    monkeypatch.setattr(query, "COUNT_LIMIT", 3)
    app.login(*ZHANG)
    page = app.get("/notes", params={"q": "批量"})
    assert page.html.select_one("#list-total").get_text() == "3+"
    assert len(rows(page)) == 5
    assert "3+" in page.html.select_one("#list-range").get_text()
    monkeypatch.setattr(query, "COUNT_LIMIT", 5)  # exactly the limit: still exact
    assert app.get("/notes", params={"q": "批量"}).html.select_one("#list-total").get_text() == "5"


def test_keyset_pages_forward_and_back_and_stable_under_inserts(notes_app):
    app = notes_app
    with app.env.ctx() as ctx:
        for n in range(41):
            services.create_note(ctx, f"批量 {n:02d}", owner_id=app.users["zhang"])
    app.login(*ZHANG)
    first = app.get("/notes", params={"size": "20", "q": "批量"})
    assert len(rows(first)) == 20 and first.html.select_one("#list-total").get_text() == "41"
    assert first.html.select_one("a[rel=prev]") is None
    second = app.get(first.html.select_one("a[rel=next]")["href"])
    with app.env.ctx() as ctx:  # a new row meanwhile (newest first: it belongs before page 1)
        services.create_note(ctx, "批量 new", owner_id=app.users["zhang"])
    third = app.get(second.html.select_one("a[rel=next]")["href"])
    seen = rows(first) + rows(second) + rows(third)
    assert len(seen) == 41 == len(set(seen))  # nothing skipped, nothing repeated
    assert third.html.select_one("a[rel=next]") is None
    back = app.get(third.html.select_one("a[rel=prev]")["href"])
    assert rows(back) == rows(second)
    assert "21" in back.html.select_one("#list-range").get_text()


# -- saved views, settings, stars -----------------------------------------------------------------

def test_save_a_view_then_open_it_by_default_hide_move_and_delete(notes_app):
    app, ids = notes_app, notes_app.ids
    app.login(*WANG)
    query = list_query(**{"op.level": "eq", "f.level": "A", "sort": "title"})
    response = post(app, "/notes/views", [("op", "save"), ("name", "A 级"), ("query", query)], status=303)
    with app.router.registry["kehu.session_factory"]() as session:
        saved = session.scalars(select(SavedView)).one()
    assert saved.conditions == [["level", "eq", "A", ""]] and saved.sort == "title"
    opened = app.get(response.location)
    assert rows(opened) == [ids["a"]]
    tab = opened.html.select_one(f'[data-view="saved:{saved.id}"]')
    assert tab.get_text(strip=True) == "A 级" and "active" in tab["class"]
    # the same name twice is refused, with the reason
    again = post(app, "/notes/views", [("op", "save"), ("name", "A 级"), ("query", query)], status=303)
    assert zh(_("You already have a view with this name.")) in app.get(again.location).text
    # opens by default
    post(app, "/notes/views", [("op", "default"), ("key", f"saved:{saved.id}")], status=303)
    assert rows(app.get("/notes")) == [ids["a"]]
    # moved left of the system views, then hidden (and shown again)
    for _step in range(4):
        post(app, "/notes/views", [("op", "left"), ("key", f"saved:{saved.id}")], status=303)
    tabs = [a["data-view"] for a in app.get("/notes?view=system:all").html.select(".kehu-view-tabs [data-view]")]
    assert tabs[0] == f"saved:{saved.id}"
    post(app, "/notes/views", [("op", "hide"), ("key", "system:starred")], status=303)
    tabs = [a["data-view"] for a in app.get("/notes?view=system:all").html.select(".kehu-view-tabs .nav [data-view]")]
    assert "system:starred" not in tabs
    post(app, "/notes/views", [("op", "show"), ("key", "system:starred")], status=303)
    # deleted: the list opens on "all" again
    post(app, "/notes/views", [("op", "delete"), ("key", f"saved:{saved.id}")], status=303)
    assert set(rows(app.get("/notes"))) == set(ids.values())


def test_a_users_views_are_their_own(notes_app):
    app, ids = notes_app, notes_app.ids
    app.login(*ZHANG)
    post(app, "/notes/views", [("op", "save"), ("name", "mine"), ("query", list_query(q="华信"))], status=303)
    with app.router.registry["kehu.session_factory"]() as session:
        saved = session.scalars(select(SavedView)).one()
    app.reset()
    app.login(*LISI)
    page = app.get("/notes", params={"view": f"saved:{saved.id}"})
    assert page.html.select_one(f'[data-view="saved:{saved.id}"]') is None
    assert rows(page) == [ids["c"]]  # lisi's "all", not zhangsan's view
    response = post(app, "/notes/views", [("op", "delete"), ("key", f"saved:{saved.id}")], status=303)
    assert zh(_("This view does not exist (any more).")) in app.get(response.location).text
    with app.router.registry["kehu.session_factory"]() as session:
        assert session.get(SavedView, saved.id) is not None


@pytest.mark.parametrize("pairs", [
    [("op", "save"), ("name", "  "), ("query", list_query(q="x"))],
    [("op", "save"), ("name", "bad"), ("query", list_query(**{"op.created_at": "eq", "f.created_at": "x"}))],
])
def test_a_view_that_cannot_be_saved_says_why(notes_app, pairs):
    app = notes_app
    app.login(*ZHANG)
    response = post(app, "/notes/views", pairs, status=303)
    assert app.get(response.location).html.select_one(".alert-danger") is not None
    with app.router.registry["kehu.session_factory"]() as session:
        assert session.scalars(select(SavedView)).all() == []


def test_csrf_is_required_for_views_settings_stars_and_bulk(notes_app):
    app, ids = notes_app, notes_app.ids
    app.login(*ZHANG)
    for url in ("/notes/views", "/notes/settings", f"/notes/{ids['a']}/star", "/notes/bulk"):
        app.post(url, {"op": "save", "name": "x"}, status=400)


def test_the_column_chooser_keeps_the_users_columns(notes_app):
    app = notes_app
    app.login(*ZHANG)
    post(app, "/notes/settings", [("columns", "created_at"), ("columns", "title"), ("columns", "nonsense")],
         status=303)
    assert headers(app.get("/notes")) == [zh(_("Title")), zh(_("Created"))]  # declared order
    app.reset()
    app.login(*LISI)
    assert len(headers(app.get("/notes"))) == 6  # another user keeps the defaults
    app.reset()
    app.login(*ZHANG)
    post(app, "/notes/settings", [("reset", "1")], status=303)
    assert len(headers(app.get("/notes"))) == 6


def test_star_a_record_and_see_it_in_the_starred_view(notes_app):
    app, ids = notes_app, notes_app.ids
    app.login(*ZHANG)
    fragment = post(app, f"/notes/{ids['a']}/star", [], headers={"HX-Request": "true"})
    assert fragment.html.select_one("button")["data-starred"] == "true"
    assert rows(app.get("/notes", params={"view": "system:starred"})) == [ids["a"]]
    post(app, f"/notes/{ids['c']}/star", [], status=404)  # lisi's note: out of scope
    post(app, f"/notes/{ids['a']}/star", [], status=303)  # again: unstarred
    assert rows(app.get("/notes", params={"view": "system:starred"})) == []


# -- bulk actions ---------------------------------------------------------------------------------

def test_bulk_assign_shows_the_count_then_changes_only_what_the_user_may(notes_app):
    app, ids = notes_app, notes_app.ids
    app.login(*ZHANG)
    pairs = [("action", "assign"), ("scope", "selected"), ("query", list_query()),
             ("ids", str(ids["a"])), ("ids", str(ids["b"])), ("ids", str(ids["c"]))]  # c is lisi's
    confirm = post(app, "/notes/bulk", pairs)
    assert confirm.html.select_one("#bulk-count")["data-count"] == "2"
    with app.router.registry["kehu.session_factory"]() as session:
        assert session.get(ScopedNote, ids["a"]).owner_id == app.users["zhang"]  # nothing written yet
    missing = post(app, "/notes/bulk", [*pairs, ("confirm", "1"), ("value", "")])
    assert missing.html.select_one("#bulk-value.is-invalid") is not None
    done = post(app, "/notes/bulk", [*pairs, ("confirm", "1"), ("value", str(app.users["lisi"]))], status=303)
    assert zh(_("${label}: ${count} records changed.", mapping={"label": zh(_("Assign")), "count": 2})) \
        in app.get(done.location).text
    with app.router.registry["kehu.session_factory"]() as session:
        owners = {n.id: n.owner_id for n in session.scalars(select(ScopedNote))}
        entries = session.scalars(select(AuditEntry).where(AuditEntry.model == "scoped_note",
                                                           AuditEntry.action == "update")).all()
    assert owners[ids["a"]] == owners[ids["b"]] == owners[ids["c"]] == app.users["lisi"]
    assert {e.record_id for e in entries} >= {str(ids["a"]), str(ids["b"])}


def test_bulk_on_every_matching_record_follows_the_filters(notes_app):
    app, ids = notes_app, notes_app.ids
    app.login(*WANG)
    pairs = [("action", "set_level"), ("scope", "all"), ("query", list_query(q="客户"))]
    confirm = post(app, "/notes/bulk", pairs)
    assert confirm.html.select_one("#bulk-count")["data-count"] == "2"  # c and d
    post(app, "/notes/bulk", [*pairs, ("confirm", "1"), ("value", "Z")])  # not a choice: refused
    post(app, "/notes/bulk", [*pairs, ("confirm", "1"), ("value", "B")], status=303)
    with app.router.registry["kehu.session_factory"]() as session:
        levels = {n.id: n.level for n in session.scalars(select(ScopedNote))}
    assert levels == {ids["a"]: "A", ids["b"]: None, ids["c"]: "B", ids["d"]: "B"}


def test_bulk_actions_the_user_may_not_do_are_absent_and_refused(notes_app):
    app, ids = notes_app, notes_app.ids
    app.login(*ZHANG)  # sales: no scoped.note:delete
    page = app.get("/notes")
    assert [o["value"] for o in page.html.select("#bulk-bar select[name=action] option")] == ["", "assign", "set_level"]
    post(app, "/notes/bulk", [("action", "delete"), ("scope", "selected"), ("ids", str(ids["a"])),
                              ("confirm", "1"), ("query", "")], status=403)
    post(app, "/notes/bulk", [("action", "nonsense"), ("query", "")], status=400)
    with app.router.registry["kehu.session_factory"]() as session:
        assert session.get(ScopedNote, ids["a"]) is not None


def test_bulk_delete_by_a_manager(notes_app):
    app, ids = notes_app, notes_app.ids
    app.login(*WANG)
    pairs = [("action", "delete"), ("scope", "selected"), ("query", ""), ("ids", str(ids["c"]))]
    assert post(app, "/notes/bulk", pairs).html.select_one("#bulk-count")["data-count"] == "1"
    post(app, "/notes/bulk", [*pairs, ("confirm", "1")], status=303)
    with app.router.registry["kehu.session_factory"]() as session:
        assert session.get(ScopedNote, ids["c"]) is None
        deleted = session.scalars(select(AuditEntry).where(AuditEntry.action == "delete")).all()
    assert [(e.model, e.record_id) for e in deleted] == [("scoped_note", str(ids["c"]))]


# -- queries --------------------------------------------------------------------------------------

def test_a_list_page_runs_the_same_few_queries_for_5_or_100_rows(notes_app):
    """No N+1: owners come in one selectin load, stars in one query, whatever the page size."""
    app = notes_app
    app.login(*WANG)
    app.get("/notes")  # warm caches that are not per page
    few = count_queries(app, "/notes?size=100", status=None)
    with app.env.ctx() as ctx:
        for n in range(96):
            services.create_note(ctx, f"note {n}", owner_id=app.users["zhang" if n % 2 else "lisi"],
                                 mobile="13800000000")
    post(app, f"/notes/{app.ids['a']}/star", [])
    many = count_queries(app, "/notes?size=100", status=None)
    assert len(few) == len(many), "\n".join(many)
    assert len(many) <= 11, "\n".join(many)  # PostgreSQL: 10 (no BEGIN)


# -- a form page ----------------------------------------------------------------------------------

def test_a_form_page_shows_errors_beside_the_field_and_writes_nothing(notes_app):
    app, ids = notes_app, notes_app.ids
    app.login(*ZHANG)
    form = app.get(f"/notes/{ids['a']}/edit")
    assert form.html.select_one("#note-mobile").get_text() == "138****5678"  # masked means read-only
    empty = post(app, f"/notes/{ids['a']}/edit", [("title", ""), ("level", "B")])
    assert empty.html.select_one("#title.is-invalid") is not None
    assert empty.html.select_one("#form-errors") is not None
    taken = post(app, f"/notes/{ids['a']}/edit", [("title", "北京百度 100%_off"), ("level", "B")])
    assert zh(_("You already have a note with this title.")) in taken.html.select_one("#title-error").get_text()
    with app.router.registry["kehu.session_factory"]() as session:
        note = session.get(ScopedNote, ids["a"])
        assert (note.title, note.level) == ("上海华信科技", "A")
    post(app, f"/notes/{ids['a']}/edit", [("title", "上海华信科技有限公司"), ("level", "B")], status=303)
    with app.router.registry["kehu.session_factory"]() as session:
        assert session.get(ScopedNote, ids["a"]).level == "B"
    app.get(f"/notes/{ids['c']}/edit", status=404)


# -- declarations ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("changes", "problem"), [
    ({"key": "Notes"}, "key"),
    ({"columns": (Column("nope", "x"),)}, "not an attribute"),
    ({"sort": ("id", "mobile")}, "nullable"),
    ({"default_sort": "-title"}, "default_sort"),
    ({"search": ("owner_id",)}, "not a text column"),
    ({"columns": (Column("title", "t", sortable=True),), "sort": ("id",)}, "sortable but not among sort"),
    ({"filters": (Filter("email", "e", kind="text"),)}, "'email' is filtered or sorted on but has no index"),
])
def test_a_declaration_that_cannot_work_fails_at_start_up(changes, problem):
    base = {"key": "scoped.notes2", "model": ScopedNote, "title": "t", "path": "/n2",
            "columns": (Column("title", "t"),)}
    with pytest.raises(ConfigurationError, match=problem):
        ListPage(**{**base, **changes}).check()
