"""Global search (/search) over the fixture addon ``scoped``, whose provider is one
``model_search_provider`` declaration: record scope, masking, whole-value matching of sensitive
columns, literal wildcards, grouping with "see all", and a failing provider costing only its group."""

import types

import pytest
from pyramid.exceptions import ConfigurationError
from sqlalchemy import select, text

from core.access.roles import create_role, set_role_permissions
from core.models import User
from core.org.services import root_department
from core.search import HITS_PER_GROUP, MAX_QUERY_LENGTH, ModelSearch, model_search_provider, search_everything
from core.users.services import create_user
from tests.fixtures.addons.scoped import services
from tests.fixtures.addons.scoped.models import ScopedNote

NOTES = "scoped.notes"


@pytest.fixture
def catalog(catalog_of):
    return catalog_of("tests.fixtures.addons.scoped")


@pytest.fixture
def notes_app(make_kehu_app, catalog, cli_env):
    app = make_kehu_app(catalog=catalog, install=["scoped"])
    env = cli_env(catalog)
    with env.ctx() as ctx:
        company = root_department(ctx).id
        zhang = create_user(ctx, "zhangsan", "Spring-Tea-77", roles=["sales"], department_id=company)
        lisi = create_user(ctx, "lisi", "Autumn-Rain-88", roles=["sales"], department_id=company)
        create_user(ctx, "wangwu", "Winter-Snow-99", roles=["sales_manager"], department_id=company)
        looker = create_role(ctx, "looker", "Looker")
        set_role_permissions(ctx, looker, ["core.workbench:read"])
        create_user(ctx, "zhaoliu", "Summer-Wind-66", roles=["looker"], department_id=company)
        ids = {
            "mine": services.create_note(ctx, "Harbour client", owner_id=zhang.id, mobile="13812345678",
                                         email="zhang@example.com").id,
            "theirs": services.create_note(ctx, "Harbour client", owner_id=lisi.id, mobile="13900001111").id,
            "percent": services.create_note(ctx, "50% off", owner_id=zhang.id).id,
            "fifty": services.create_note(ctx, "500 offers", owner_id=zhang.id).id,
            "underscore": services.create_note(ctx, "a_b", owner_id=zhang.id).id,
            "axb": services.create_note(ctx, "axb", owner_id=zhang.id).id,
            "html": services.create_note(ctx, "<b>bold</b> tag", owner_id=zhang.id).id,
        }
    return app, ids


def groups(page):
    return {section["data-provider"]: section for section in page.html.select("section[data-provider]")}


def note_url(note_id):
    return f"/notes/{note_id}/edit"


def hit_links(section):
    return [a["href"] for a in section.select("li a")]


def search_as(app, username, password, query):
    app.reset()
    app.login(username, password)
    return app.get("/search", {"q": query})


def test_a_salesperson_finds_only_own_notes_with_masked_detail(notes_app):
    app, ids = notes_app
    page = search_as(app, "zhangsan", "Spring-Tea-77", "harbour")
    notes = groups(page)[NOTES]
    assert hit_links(notes) == [note_url(ids['mine'])]  # lisi's note of the same title is not there
    assert notes.select_one("[data-count]")["data-count"] == "1"
    detail = notes.select_one("li div").get_text()
    assert "138****5678" in detail
    assert "z***@example.com" in detail
    assert "13812345678" not in page.text
    assert "zhang@example.com" not in page.text


def test_a_manager_sees_the_department_unmasked(notes_app):
    app, ids = notes_app
    page = search_as(app, "wangwu", "Winter-Snow-99", "Harbour client")
    notes = groups(page)[NOTES]
    assert sorted(hit_links(notes)) == sorted([note_url(ids['mine']), note_url(ids['theirs'])])
    assert "13812345678" in notes.text
    assert "13900001111" in notes.text


@pytest.mark.parametrize(("query", "found"), [
    ("13812345678", True),
    ("138 1234 5678", True),  # a phone is also compared without its spaces
    ("zhang@example.com", True),
    ("1381234", False),  # part of a sensitive value finds nothing: masked digits cannot be probed
    ("5678", False),
    ("zhang@", False),
])
def test_sensitive_columns_match_only_the_whole_value(notes_app, query, found):
    app, ids = notes_app
    page = search_as(app, "zhangsan", "Spring-Tea-77", query)
    links = hit_links(groups(page)[NOTES]) if NOTES in groups(page) else []
    assert links == ([note_url(ids['mine'])] if found else [])


@pytest.mark.parametrize(("query", "key"), [("50%", "percent"), ("a_b", "underscore")])
def test_like_wildcards_are_literal(notes_app, query, key):
    app, ids = notes_app
    page = search_as(app, "zhangsan", "Spring-Tea-77", query)
    assert hit_links(groups(page)[NOTES]) == [note_url(ids[key])]


def test_no_group_without_the_read_permission(notes_app):
    app, _ids = notes_app
    page = search_as(app, "zhaoliu", "Summer-Wind-66", "Harbour")
    assert groups(page) == {}
    assert page.html.select_one("#search-empty") is not None


def test_groups_count_more_and_link_to_the_list(notes_app, cli_env, catalog):
    app, _ids = notes_app
    env = cli_env(catalog)
    with env.ctx() as ctx:
        zhang = ctx.dbsession.scalars(select(User).where(User.username == "zhangsan")).one()
        exact = services.create_note(ctx, "bulk", owner_id=zhang.id).id  # the oldest, but a whole match
        newer = [services.create_note(ctx, f"bulk note {n}", owner_id=zhang.id).id for n in range(12)]
    page = search_as(app, "admin", "Kehu-Test-Pass-42", "Bulk")
    notes = groups(page)[NOTES]
    assert notes.select_one("[data-count]")["data-count"] == f"{HITS_PER_GROUP}+"
    expected = [exact, *sorted(newer, reverse=True)][:HITS_PER_GROUP]
    assert hit_links(notes) == [note_url(note_id) for note_id in expected]
    assert notes.select_one("a[data-see-all]")["href"] == "/notes?q=Bulk"
    assert list(groups(page)) == [NOTES]  # the users group (order 900) has no "bulk" user

    page = app.get("/search", {"q": "admin"})  # notes (order 50) would come before users (900)
    assert list(groups(page)) == ["core.users"]
    assert groups(page)["core.users"].select_one("[data-count]")["data-count"] == "1"


def test_a_broad_match_ranks_only_the_first_candidates_found(notes_app, cli_env, catalog, monkeypatch):
    """Past CANDIDATES matches the provider ranks the first ones it finds (a broad 科技 over a
    million rows would sort them all): still a full group, every hit a match, "more" offered."""
    import core.search

    app, _ids = notes_app
    env = cli_env(catalog)
    with env.ctx() as ctx:
        zhang = ctx.dbsession.scalars(select(User).where(User.username == "zhangsan")).one()
        made = {services.create_note(ctx, f"wide {n}", owner_id=zhang.id).id for n in range(8)}
    monkeypatch.setattr(core.search, "CANDIDATES", 5)
    notes = groups(search_as(app, "admin", "Kehu-Test-Pass-42", "wide"))[NOTES]
    links = hit_links(notes)
    assert len(links) == 5 and set(links) <= {note_url(note_id) for note_id in made}
    assert notes.select_one("[data-count]")["data-count"] == "5"
    monkeypatch.setattr(core.search, "CANDIDATES", 100)
    notes = groups(app.get("/search", {"q": "wide"}))[NOTES]
    assert hit_links(notes) == [note_url(note_id) for note_id in sorted(made, reverse=True)]


def test_titles_are_escaped(notes_app):
    app, ids = notes_app
    page = search_as(app, "zhangsan", "Spring-Tea-77", "<b>bold")
    notes = groups(page)[NOTES]
    assert hit_links(notes) == [note_url(ids["html"])]
    assert notes.select_one("li a").get_text() == "<b>bold</b> tag"
    assert "&lt;b&gt;bold&lt;/b&gt; tag" in page.text
    assert "<b>bold</b>" not in page.text


def test_the_query_is_trimmed_capped_and_cleaned(notes_app):
    app, _ids = notes_app
    page = search_as(app, "zhangsan", "Spring-Tea-77", "  " + "x" * 300)
    assert page.html.select_one("main input[name=q]")["value"] == "x" * MAX_QUERY_LENGTH
    page = app.get("/search", {"q": "Harb\x00our"})  # PostgreSQL refuses NUL: removed before any query
    assert page.html.select_one("main input[name=q]")["value"] == "Harb our"


def test_an_empty_query_shows_a_hint(notes_app):
    app, _ids = notes_app
    page = search_as(app, "zhangsan", "Spring-Tea-77", "   ")
    assert page.html.select_one("#search-hint") is not None
    assert groups(page) == {}


def test_signed_out_is_sent_to_login(notes_app):
    app, _ids = notes_app
    response = app.get("/search", {"q": "Harbour"}, status=(302, 303))
    assert "/login" in response.location


def test_a_failing_provider_costs_only_its_group(notes_app, monkeypatch, caplog):
    """The notes search fails in SQL (which aborts a PostgreSQL transaction); the users group
    after it still runs and the page still renders."""
    app, _ids = notes_app

    def broken(self, request, query, limit):
        request.dbsession.execute(text("SELECT no_such_column FROM scoped_note"))

    monkeypatch.setattr(ModelSearch, "__call__", broken)
    page = search_as(app, "admin", "Kehu-Test-Pass-42", "admin")
    found = groups(page)
    assert list(found) == [NOTES, "core.users"]
    assert found[NOTES].select_one("[data-failed]") is not None
    assert found[NOTES].select("li") == []
    assert len(found["core.users"].select("li")) == 1
    assert "search provider 'scoped.notes' failed" in caplog.text


def test_search_everything_skips_a_provider_that_refuses(notes_app, cli_env, catalog):
    """A hand-written provider may check its permission itself: PermissionDenied means no group."""
    from core.access.exceptions import PermissionDenied
    from core.contributions import SearchHit, SearchProvider

    def refuse(request, query, limit):
        raise PermissionDenied(permission="x:read")

    providers = [SearchProvider("b", "B", search=refuse),
                 SearchProvider("a", "A", search=lambda request, query, limit: [SearchHit("hit", "", "")] * 3)]
    env = cli_env(catalog)
    with env.ctx() as ctx:
        request = types.SimpleNamespace(hooks=types.SimpleNamespace(kehu_search_providers=lambda: [providers]),
                                        has_permission=lambda permission: True, dbsession=ctx.dbsession, ctx=ctx)
        found = search_everything(request, "q", per_group=2)
        assert [(group.provider.id, group.count_label, group.more_url) for group in found] == [("a", "2+", None)]
        assert search_everything(request, "") == []


@pytest.mark.parametrize(("options", "problem"), [
    ({"fields": ("mobile",)}, "'mobile' is sensitive"),
    ({"fields": ("owner_id",)}, "'owner_id' is not a text column"),
    ({"fields": ("title",), "exact_fields": ("owner_id",)}, "'owner_id' is not a text column"),
    ({"fields": ("nope",)}, "no column 'nope'"),
    ({"exact_fields": ("mobile",), "detail": ("secret",)}, "no column 'secret'"),
    ({}, "give fields or exact_fields"),
    ({"exact_fields": ("mobile",)}, "give hit_title"),
])
def test_a_wrong_declaration_fails_when_declared(options, problem):
    with pytest.raises(ConfigurationError, match=problem):
        model_search_provider("scoped.notes", "Notes", ScopedNote, **options)


def test_the_model_must_be_owned():
    with pytest.raises(ConfigurationError, match="must be Owned"):
        model_search_provider("core.users", "Users", User, fields=("username",))
