"""Lazy 360° panels (core.web.panels): the frame on the page, then ``/panels/<id>?model=&id=``
renders one panel for a record found again in the reader's scope — 404 outside it, for an
unknown panel and for a table nobody guards; 403 without the panel's permission; an addon's
own loader (``config.add_record_loader``) replaces the record scope."""

import pytest

from core.access.exceptions import RecordNotFound
from core.contributions import RecordPanel
from core.models import Department
from core.org.services import root_department
from core.plugins import hookimpl
from core.users.services import create_user
from tests.fixtures.addons.scoped import services
from tests.fixtures.addons.scoped.models import ScopedNote

TEMPLATE = "tests.core:templates/panel_title.jinja2"
ZHANG = ("zhangsan", "Spring-Tea-77")
LISI = ("lisi", "Autumn-Rain-88")


class NotePanels:
    """A test plugin: an open panel and one that needs ``scoped.note:delete`` (managers only)."""

    @hookimpl
    def kehu_record_panels(self, request, record):
        if getattr(record, "__tablename__", None) != "scoped_note":
            return []
        return [RecordPanel(id="test.note_title", title="Note title", template=TEMPLATE,
                            context=lambda request, record: {"title": record.title}, order=1),
                RecordPanel(id="test.secret", title="Secret", template=TEMPLATE,
                            context=lambda request, record: {"title": "secret"}, permission="scoped.note:delete")]


@pytest.fixture
def world(make_kehu_app, catalog_of, cli_env):
    catalog = catalog_of("tests.fixtures.addons.scoped")
    app = make_kehu_app(catalog=catalog, install=["scoped"])
    env = cli_env(catalog)
    with env.ctx() as ctx:
        company = root_department(ctx).id
        zhang = create_user(ctx, *ZHANG, roles=["sales"], department_id=company).id
        lisi = create_user(ctx, *LISI, roles=["sales"], department_id=company).id
        mine = services.create_note(ctx, "张三的便签", owner_id=zhang).id
        theirs = services.create_note(ctx, "李四的便签", owner_id=lisi).id
    app.get("/login")  # the installed addons' hooks are now settled: a plugin added later takes part
    manager = app.router.registry["kehu.addons"].plugin_manager
    plugin = NotePanels()
    manager.register(plugin, name="test_note_panels")
    yield app, {"mine": mine, "theirs": theirs}
    manager.unregister(plugin)


def url(panel, note_id, model="scoped_note"):
    return f"/panels/{panel}?model={model}&id={note_id}"


def test_the_panel_route_renders_one_panel_in_the_readers_scope(world, database_url):
    app, notes = world
    app.login(*ZHANG)
    page = app.get(url("test.note_title", notes["mine"]))
    assert page.html.select_one(".note-title").text == "张三的便签"
    assert "<html" not in page.text  # a fragment, not a page
    history = app.get(url("core.history", notes["mine"]))
    assert history.status_int == 200


def test_outside_the_scope_unknown_panels_and_unguarded_tables_are_404(world, database_url):
    app, notes = world
    app.login(*ZHANG)
    app.get(url("test.note_title", notes["theirs"]), status=404)  # lisi's note
    app.get(url("test.note_title", 999999), status=404)
    app.get(url("test.nothing", notes["mine"]), status=404)
    app.get(url("test.note_title", notes["mine"], model="core_user"), status=404)  # not Owned, no loader
    app.get(url("test.note_title", notes["mine"], model="no_such_table"), status=404)
    app.get("/panels/test.note_title?model=scoped_note&id=abc", status=404)


def test_a_panel_needs_its_permission(world, database_url):
    app, notes = world
    app.login(*ZHANG)
    app.get(url("test.secret", notes["mine"]), status=403)
    app.reset()
    app.login("admin", "Kehu-Test-Pass-42")
    assert app.get(url("test.secret", notes["theirs"])).html.select_one(".note-title").text == "secret"


def test_anonymous_visitors_are_sent_to_log_in(world, database_url):
    app, notes = world
    page = app.get(url("test.note_title", notes["mine"]), status=(302, 303, 403))
    assert "login" in page.headers.get("Location", "login")


def test_lazy_panels_are_frames_and_an_addon_loader_replaces_the_scope(world, database_url):
    from pyramid.scripting import prepare

    from core.web.panels import LOADERS, panels_for

    app, notes = world
    bootstrap = prepare(registry=app.router.registry)
    request = bootstrap["request"]
    request.tm.begin()
    try:
        note = request.dbsession.get(ScopedNote, notes["mine"])
        frames = panels_for(request, note, lazy=True)
        assert "test.note_title" in [panel.id for panel, _ in frames]
        assert {values for _, values in frames} == {None}  # frames only: no panel's query has run
        eager = {panel.id: values for panel, values in panels_for(request, note)}
        assert eager["test.note_title"] == {"title": "张三的便签"}
    finally:
        request.tm.abort()
        bootstrap["closer"]()

    def nobody(ctx, record_id):
        raise RecordNotFound()

    def department(ctx, record_id):
        return ctx.dbsession.get(Department, record_id)

    loaders = app.router.registry.setdefault(LOADERS, {})
    loaders["scoped_note"] = nobody
    try:
        app.login(*ZHANG)
        app.get(url("test.note_title", notes["mine"]), status=404)  # the loader refuses its own note too
        loaders["core_department"] = department
        app.get(url("test.note_title", 1, model="core_department"), status=404)  # no such panel on it
        assert app.get(url("core.history", 1, model="core_department")).status_int == 200
    finally:
        loaders.pop("scoped_note")
        loaders.pop("core_department", None)
