"""The shell: workbench, menus, Apps page, language and time zone, search, error pages."""

import datetime as dt

import pytest
from sqlalchemy import select, text

from core.models import User

FIXTURES = "tests.fixtures.addons."


@pytest.fixture
def catalog(catalog_of):
    return catalog_of(FIXTURES + "alpha", FIXTURES + "beta", FIXTURES + "ghost_dependent", FIXTURES + "bad_manifest")


@pytest.fixture
def app(make_kehu_app, catalog):
    app = make_kehu_app(catalog=catalog, install=["alpha"])
    app.login()
    return app


def test_workbench_shows_widgets_of_installed_addons(app):
    page = app.get("/")
    assert "hello from alpha" in page.text
    assert 'id="widget-core-welcome"' in page.text


def test_menu_lists_installed_addons_only(app):
    page = app.get("/")
    assert 'href="/alpha"' in page.text
    assert 'href="/beta"' not in page.text


def test_routes_of_addons_not_installed_answer_404(app):
    assert app.get("/alpha").text.startswith("alpha items: default")
    app.get("/beta", status=404)


def test_apps_page_installs_and_uninstalls(app):
    page = app.get("/apps")
    assert 'id="app-beta"' in page.text
    response = page.forms[[f.action for f in page.forms.values()].index("/apps/beta/install")].submit()
    assert response.status_int == 303
    page = response.follow()
    assert "alert-success" in page.text
    assert app.get("/beta").text == "beta says hello"
    # alpha cannot be uninstalled while beta needs it
    response = app.post_form("/apps/alpha/uninstall").follow()
    assert "alert-danger" in response.text and "beta" in response.text
    assert app.get("/alpha").status_int == 200
    app.post_form("/apps/beta/uninstall").follow()
    app.get("/beta", status=404)


def test_apps_page_reports_a_missing_dependency(app):
    response = app.post_form("/apps/ghost_dependent/install").follow()
    assert "alert-danger" in response.text and "ghost" in response.text


def test_apps_install_requires_the_permission(app, make_kehu_app, catalog):
    from core.models import Role, UserRole

    with app.router.registry["kehu.session_factory"]() as session, session.begin():
        admin = session.scalars(select(User).where(User.username == "admin")).one()
        sales = session.scalars(select(Role).where(Role.key == "sales")).one()
        session.execute(UserRole.__table__.delete().where(UserRole.user_id == admin.id))
        session.add(UserRole(user_id=admin.id, role_id=sales.id))
    app.post_form("/apps/beta/install", status=403)
    app.get("/apps", status=403)


def test_language_switch_is_saved_per_user(app):
    assert "工作台" in app.get("/").text
    app.post_form("/language", {"locale": "en", "next": "/"}, status=303)
    assert "Workbench" in app.get("/").text
    with app.router.registry["kehu.session_factory"]() as session:
        assert session.scalar(select(User.locale).where(User.username == "admin")) == "en"


def test_language_switch_before_login(make_kehu_app, catalog):
    app = make_kehu_app(catalog=catalog)
    assert "登录" in app.get("/login").text
    app.post_form("/language", {"locale": "en", "next": "/login"}, status=303)
    assert "Sign in" in app.get("/login").text


def test_preferences_change_time_zone_and_refuse_unknown(app):
    page = app.get("/preferences")
    form = page.forms["preferences-form"]
    form["timezone"] = "Europe/London"
    form.submit(status=303)
    with app.router.registry["kehu.session_factory"]() as session:
        assert session.scalar(select(User.timezone).where(User.username == "admin")) == "Europe/London"
    response = app.post_form("/preferences", {"locale": "zh_CN", "timezone": "Mars/Base"}, status=400)
    assert "is-invalid" in response.text


def test_times_show_in_the_users_time_zone(app):
    from core.web.rendering import _format_datetime

    class FakeUser:
        timezone = "Asia/Shanghai"

    class Request:
        user = FakeUser()
        locale_name = "zh_CN"

    moment = dt.datetime(2026, 11, 24, 16, 30, tzinfo=dt.UTC)
    assert _format_datetime(Request(), moment) == "2026-11-25 00:30"
    Request.user.timezone = "Europe/London"
    assert _format_datetime(Request(), moment) == "2026-11-24 16:30"


def test_search_finds_users(app):
    page = app.get("/search", {"q": "adm"})
    assert "admin" in page.text
    assert "Users" in page.text or "用户" in page.text


def test_not_found_page_is_friendly(app):
    page = app.get("/no/such/page", status=404)
    assert "Traceback" not in page.text
    assert "page-not-found" in page.text or "404" in page.text


def test_a_failing_request_writes_nothing(app):
    response = app.post_form("/alpha/fail", status=500)
    assert "Traceback" not in response.text and "deliberate" not in response.text
    with app.router.registry["kehu.session_factory"]() as session:
        names = session.execute(text("SELECT name FROM alpha_item")).scalars().all()
    assert names == ["default"]


def test_static_vendor_assets_are_served(app):
    response = app.get("/static/core/vendor/bootstrap/bootstrap.min.css")
    assert response.content_type == "text/css"
    assert "max-age=3600" in response.headers["Cache-Control"]


def test_charts_library_loads_only_when_a_widget_draws_charts(app):
    assert "echarts.min.js" not in app.get("/").text
    app.post_form("/apps/beta/install", status=303)
    assert "echarts.min.js" in app.get("/").text


def test_uninstall_asks_for_confirmation(app):
    page = app.get("/apps")
    assert 'data-confirm="' in page.text
    assert "kehu.js" in page.text


def test_a_typed_error_from_a_view_is_a_translated_400(app):
    page = app.get("/alpha/refuse", status=400)
    assert "8" in page.text
    assert "Traceback" not in page.text


def test_an_addon_with_a_broken_manifest_is_reported_not_loaded(app):
    page = app.get("/apps")
    assert "bad_manifest" in page.text
    assert "alert-warning" in page.text


def test_an_uninitialised_database_gets_a_clear_page(database_url):
    from webtest import TestApp

    from core.addons.catalog import AddonCatalog
    from core.testing.plugin import TEST_SECRET
    from core.web.app import make_app

    app = TestApp(make_app({"kehu.database_url": database_url, "kehu.secret": TEST_SECRET},
                           catalog=AddonCatalog([])))
    page = app.get("/", status=400)
    assert "kehu init" in page.text
    assert "Traceback" not in page.text


def test_search_treats_wildcards_literally(app):
    assert "admin" not in app.get("/search", {"q": "%"}).text.split("<main", 1)[1]


def test_user_menu_links_to_security_and_api_tokens(app):
    page = app.get("/")
    assert 'href="/preferences/security"' in page.text
    assert 'href="/preferences/tokens"' in page.text
    assert app.get("/preferences/tokens").status_int == 200
