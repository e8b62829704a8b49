"""The audit log (X5), on SQLite and PostgreSQL: an entry for every action with who, what, which
record and from where; sensitive values stored masked; rows that cannot be changed; the page,
its filters and pages; the CSV export; the History panel of a record."""

import csv
import datetime as dt
import io
import json
import re
import zoneinfo

import pytest
from sqlalchemy import Column, Integer, String, Table, select, text
from sqlalchemy.exc import DBAPIError

from core.access.exceptions import PermissionDenied
from core.access.roles import role_by_key, role_permissions, set_role_permissions
from core.addons.installer import install_addons, uninstall_addon, upgrade_addons
from core.audit.services import EXPORT_HEADER, AuditFilter, export_audit, write_audit
from core.db import Base
from core.i18n import translate
from core.models import AuditEntry, Department, User
from core.org.services import create_department, delete_department, root_department, update_department
from core.users.services import create_user, set_password

FIXTURES = "tests.fixtures.addons."
IP = "203.0.113.7"
UTC = dt.UTC


# -- helpers ---------------------------------------------------------------------------------

@pytest.fixture
def env(kehu_db, cli_env):
    """Services on the initialised test database, acting as the system (like ``kehu`` commands)."""
    return cli_env()


def audit_rows(env, **where):
    """The entries matching ``where`` (column == value), oldest first."""
    with env.ctx() as ctx:
        query = select(AuditEntry).order_by(AuditEntry.id)
        for column, value in where.items():
            query = query.where(getattr(AuditEntry, column) == value)
        return list(ctx.dbsession.scalars(query))


def user_id(env, username):
    with env.ctx() as ctx:
        return ctx.dbsession.scalar(select(User.id).where(User.username == username))


def admin_ctx(ctx):
    """The same transaction, acting as the administrator from ``IP``."""
    admin = ctx.dbsession.scalars(select(User).where(User.username == "admin")).one()
    acting = ctx.as_user(admin)
    acting.ip = IP
    return acting


@pytest.fixture
def app(make_kehu_app, catalog_of):
    """The web app, every request coming from ``IP``."""
    app = make_kehu_app(catalog=catalog_of())
    app.app.extra_environ = {"REMOTE_ADDR": IP}
    return app


def failed_login(app, username, password):
    form = app.get("/login").forms[0]
    form["username"], form["password"] = username, password
    return form.submit(status=400)


# -- an entry for every action ---------------------------------------------------------------

def test_create_update_delete_are_audited_with_who_and_what(env):
    with env.ctx() as ctx:
        ctx.ip = "198.51.100.2"
        root_id = root_department(ctx).id
        department = create_department(ctx, "华东销售部", root_id)
        update_department(ctx, department, name="华东大区", manager_id=None)
        department_id = department.id
    with env.ctx() as ctx:
        acting = admin_ctx(ctx)
        delete_department(acting, ctx.dbsession.get(Department, department_id))
    created, updated, deleted = audit_rows(env, model="core_department", record_id=str(department_id))
    assert (created.action, updated.action, deleted.action) == ("create", "update", "delete")
    assert created.changes == {"name": [None, "华东销售部"], "parent_id": [None, root_id]}
    assert updated.changes == {"name": ["华东销售部", "华东大区"]}
    assert deleted.changes == {"name": ["华东大区", None]}
    for entry in (created, updated):  # the command line acts as the system
        assert (entry.user_id, entry.username, entry.ip) == (None, "system", "198.51.100.2")
    assert (deleted.user_id, deleted.username, deleted.ip) == (user_id(env, "admin"), "admin", IP)
    assert created.at.tzinfo is not None and created.at <= deleted.at


def test_sign_in_and_out_are_audited_with_the_address(app, env):
    admin_id = user_id(env, "admin")
    failed_login(app, "admin", "wrong-password")
    failed_login(app, "nobody", "Kehu-Test-Pass-42")
    app.login()
    app.post_form("/logout", status=303)
    wrong, unknown = audit_rows(env, action="login_failed")
    assert (wrong.user_id, wrong.username, wrong.ip, wrong.detail) == (admin_id, "admin", IP, "admin")
    assert (wrong.model, wrong.record_id) == ("core_user", str(admin_id))
    # An unknown name is recorded as typed, with no user and no record.
    assert (unknown.user_id, unknown.username, unknown.record_id, unknown.detail) == (None, "", "", "nobody")
    [login] = audit_rows(env, action="login")
    [logout] = audit_rows(env, action="logout")
    for entry in (login, logout):
        assert (entry.user_id, entry.username, entry.ip) == (admin_id, "admin", IP)
        assert (entry.model, entry.record_id) == ("core_user", str(admin_id))
    assert login.id < logout.id
    assert not audit_rows(env, action="login_locked")


def test_the_fifth_failure_is_audited_as_a_lockout(app, env):
    for _ in range(5):
        failed_login(app, "admin", "wrong-password")
    failed_login(app, "admin", "Kehu-Test-Pass-42")  # locked: refused before the password is checked
    assert len(audit_rows(env, action="login_failed")) == 5
    [locked] = audit_rows(env, action="login_locked")
    assert (locked.username, locked.user_id, locked.ip, locked.detail) == ("admin", user_id(env, "admin"), IP, "admin")
    assert locked.id > max(entry.id for entry in audit_rows(env, action="login_failed"))
    assert not audit_rows(env, action="login")


def test_permission_and_password_changes_are_audited(env):
    with env.ctx() as ctx:
        acting = admin_ctx(ctx)
        sales = role_by_key(ctx, "sales")
        set_role_permissions(acting, sales, role_permissions(ctx, sales) | {"core.audit:read"})
        admin = acting.user
        set_password(acting, admin, "Another-Long-Pass-77")
        sales_id, admin_id = sales.id, admin.id
    [change] = audit_rows(env, action="permission_change")
    assert (change.model, change.record_id, change.username, change.ip) == ("core_role", str(sales_id), "admin", IP)
    assert change.changes == {"granted": [None, ["core.audit:read"]], "revoked": [[], None]}
    [password] = audit_rows(env, action="password_change")
    assert (password.model, password.record_id, password.user_id) == ("core_user", str(admin_id), admin_id)
    assert password.changes == {} and "Another" not in password.detail  # never the password itself


def test_addon_install_upgrade_uninstall_are_audited(kehu_db, cli_env, catalog_of):
    catalog = catalog_of(FIXTURES + "alpha")
    env = cli_env(catalog)
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["alpha"])
    with env.ctx() as ctx:
        upgrade_addons(ctx, catalog_of(alpha=FIXTURES + "alpha_v2"))
    with env.ctx() as ctx:
        uninstall_addon(admin_ctx(ctx), catalog, "alpha")
    install, upgrade, uninstall = audit_rows(env, model="core_addon", record_id="alpha")
    assert (install.action, install.changes) == ("addon_install", {"version": [None, "1.0.0"]})
    assert (upgrade.action, upgrade.changes) == ("addon_upgrade", {"version": ["1.0.0", "1.1.0"]})
    assert install.username == upgrade.username == "system"
    assert (uninstall.action, uninstall.detail) == ("addon_uninstall", "data kept")
    assert (uninstall.username, uninstall.ip) == ("admin", IP)


def test_export_is_audited_by_the_service_and_needs_the_permission(env):
    with env.ctx() as ctx:
        for number in range(5):
            write_audit(ctx, "import", model="core_user", record_id=number)
        create_user(ctx, "lisi", "Spring-Tea-77", roles=["sales"])
    with env.ctx() as ctx:
        header, rows = export_audit(admin_ctx(ctx), AuditFilter(action="import"), 3)
    assert len(header) == len(EXPORT_HEADER) and len(rows) == 3
    assert [row[7] for row in rows] == ["4", "3", "2"]  # newest first, at most the limit
    [export] = audit_rows(env, action="export")
    assert (export.username, export.ip, export.model) == ("admin", IP, "core_audit")
    assert json.loads(export.detail) == {"filters": {"action": "import"}, "rows": 3, "limit": 3}
    with env.ctx() as ctx:
        lisi = ctx.dbsession.scalars(select(User).where(User.username == "lisi")).one()
        with pytest.raises(PermissionDenied):
            export_audit(ctx.as_user(lisi), AuditFilter(), 10)
    assert len(audit_rows(env, action="export")) == 1


def test_merges_and_requests_have_action_titles_for_the_page_and_the_export(env):
    """Addons audit merges (customers merged into one) and requests (a handover asked for) under
    the core's action names, so the audit page and its export show a translated title."""
    from core.audit.services import ACTIONS

    assert {"merge", "request"} <= set(ACTIONS)
    with env.ctx() as ctx:
        write_audit(ctx, "merge", model="core_user", record_id=1, detail="merged")
        acting = admin_ctx(ctx)
        _header, rows = export_audit(acting, AuditFilter(action="merge"), 10)
        title = translate(ACTIONS["merge"], acting.locale)
    assert [(row[4], row[5]) for row in rows] == [(title, "merge")] and title != "merge"


# -- masking and append-only -----------------------------------------------------------------

@pytest.fixture(scope="module")
def sensitive_table():
    """A throwaway table with a phone column, known to ``Base.metadata`` only during this module."""
    table = Table("audittest_x5_contact", Base.metadata, Column("id", Integer, primary_key=True),
                  Column("mobile", String(32), info={"sensitive": "phone"}), Column("name", String(50)))
    yield table
    Base.metadata.remove(table)


def test_sensitive_values_are_stored_masked(env, sensitive_table):
    with env.ctx() as ctx:
        write_audit(ctx, "update", model=sensitive_table.name, record_id=7,
                    changes={"mobile": ["13812345678", "139-1234-5678"], "name": ["王芳", "王小芳"]})
        write_audit(ctx, "create", model=sensitive_table.name, record_id=8, changes={"mobile": [None, "13812345678"]})
    updated, created = audit_rows(env, model=sensitive_table.name)
    assert updated.changes == {"mobile": ["138****5678", "139****5678"], "name": ["王芳", "王小芳"]}
    assert created.changes == {"mobile": [None, "138****5678"]}
    with env.engine.connect() as conn:  # not just hidden when read: never stored
        stored = conn.execute(text("SELECT changes FROM core_audit WHERE model = :m"),
                              {"m": sensitive_table.name}).scalars().all()
    assert not any("12345678" in json.dumps(value) for value in stored)


def test_audit_rows_cannot_be_changed_on_postgresql(env, db_backend):
    if db_backend != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's; SQLite has no statement-level triggers")
    with env.ctx() as ctx:
        write_audit(ctx, "import", model="core_user", record_id=1)
    before = len(audit_rows(env))
    for statement in ("UPDATE core_audit SET action = 'x'", "DELETE FROM core_audit", "TRUNCATE core_audit"):
        with pytest.raises(DBAPIError, match="append-only"), env.engine.begin() as conn:
            conn.execute(text(statement))
    assert len(audit_rows(env)) == before
    assert not audit_rows(env, action="x")


# -- the page --------------------------------------------------------------------------------

def seed(env, *, at, action="import", username=None, record_id="", detail="", model="core_user"):
    with env.ctx() as ctx:
        ctx.now = at
        user = (ctx.dbsession.scalars(select(User).where(User.username == username)).one()
                if username else None)
        write_audit(ctx, action, model=model, record_id=record_id, detail=detail, user=user)


def rows_of(page):
    """``[(id, action)]`` of the table's rows, top to bottom."""
    return [(int(i), a) for i, a in re.findall(r'<tr id="audit-(\d+)" data-action="([a-z_]+)"', page.text)]


@pytest.fixture
def admin_app(app):
    app.login()
    return app


def test_the_page_lists_entries_newest_first_in_the_viewers_time_zone(admin_app, env):
    seed(env, at=dt.datetime(2026, 3, 1, 16, 30, 5, tzinfo=UTC), record_id="42", detail="batch 7")
    page = admin_app.get("/admin/audit")
    ids = [i for i, _ in rows_of(page)]
    assert ids == sorted(ids, reverse=True) and len(ids) >= 2  # the import and the login
    assert [a for _, a in rows_of(page)][:2] == ["import", "login"]  # seeded after signing in: the newest
    row = page.text.split('data-action="import"')[1].split("</tr>")[0]
    assert ">2026-03-02</span>" in row and ">00:30:05</span>" in row  # Asia/Shanghai, the administrator's zone
    assert "42" in row and "batch 7" in row and "core_user" in row
    login_row = page.text.split('data-action="login"')[1].split("</tr>")[0]
    assert IP in login_row and "admin" in login_row
    assert 'href="/admin/audit"' in page.text  # in the Settings menu
    assert 'href="/admin/audit/export.csv"' in page.text
    assert "table-responsive" in page.text and 'data-bs-target="#audit-filters"' in page.text


def test_filters_by_action_user_model_record_and_dates(admin_app, env):
    with env.ctx() as ctx:
        create_user(ctx, "lisi", "Spring-Tea-77", roles=["sales"])
    seed(env, at=dt.datetime(2026, 3, 1, 15, 59, tzinfo=UTC), record_id="1")     # 03-01 23:59 in Shanghai
    seed(env, at=dt.datetime(2026, 3, 1, 16, 0, tzinfo=UTC), record_id="2")      # 03-02 00:00
    seed(env, at=dt.datetime(2026, 3, 2, 15, 59, tzinfo=UTC), record_id="3", username="lisi")  # 03-02 23:59
    seed(env, at=dt.datetime(2026, 3, 2, 16, 0, tzinfo=UTC), record_id="4")      # 03-03 00:00

    only_logins = admin_app.get("/admin/audit", {"action": "login"})
    assert {a for _, a in rows_of(only_logins)} == {"login"}

    def record_ids(**params):
        page = admin_app.get("/admin/audit", {"action": "import", **params})
        return [entry.record_id for entry in audit_rows(env) if entry.id in {i for i, _ in rows_of(page)}]

    assert record_ids() == ["1", "2", "3", "4"]
    assert record_ids(date_from="2026-03-02", date_to="2026-03-02") == ["2", "3"]
    assert record_ids(date_from="2026-03-02") == ["2", "3", "4"]
    assert record_ids(date_to="2026-03-01") == ["1"]
    assert record_ids(user="lisi") == ["3"]
    assert record_ids(record_id="4", model="core_user") == ["4"]
    assert record_ids(model="core_role") == []
    # "User" is who acted: lisi's import, not the system's creation of lisi's account.
    assert [a for _, a in rows_of(admin_app.get("/admin/audit", {"user": "lisi"}))] == ["import"]
    from core.i18n import _, localizer_for

    empty = localizer_for("zh_CN").translate(_("No entries match these filters."))  # the admin reads zh_CN
    assert empty in admin_app.get("/admin/audit", {"model": "nothing"}).text
    selected = admin_app.get("/admin/audit", {"action": "login_failed"}).text
    assert re.search(r'<option selected value="login_failed">|<option value="login_failed" selected>', selected)


@pytest.mark.parametrize(("params", "field"), [
    ({"date_from": "2026-02-30"}, "date_from"),
    ({"date_to": "yesterday"}, "date_to"),
    ({"date_from": "2026-03-05", "date_to": "2026-03-01"}, "date_to"),
    ({"user": "nosuch"}, "user"),
    ({"action": "drop_tables"}, "action"),
])
def test_bad_filters_are_400_with_the_error_beside_the_field(admin_app, env, params, field):
    page = admin_app.get("/admin/audit", params, status=400)
    assert f'id="{field}-error"' in page.text
    assert re.search(rf'<[^>]*aria-describedby="{field}-error"[^>]*>', page.text)
    assert re.search(rf'<input[^>]*class="[^"]*is-invalid[^"]*"[^>]*id="{field}"|<[^>]*id="{field}"[^>]*is-invalid'
                     rf'|<select[^>]*class="[^"]*is-invalid[^"]*"[^>]*id="{field}"', page.text)
    assert 'id="audit-entries"' not in page.text  # nothing else happens
    assert "collapse d-md-block show" in page.text  # the folded form opens on phones to show the error
    exports = len(audit_rows(env, action="export"))
    admin_app.get("/admin/audit/export.csv", params, status=400)
    assert len(audit_rows(env, action="export")) == exports


def test_older_entries_link_keeps_the_filters(admin_app, env):
    with env.ctx() as ctx:
        for number in range(60):
            write_audit(ctx, "import", model="core_user", record_id=number)
    first = admin_app.get("/admin/audit", {"action": "import"})
    first_ids = [i for i, _ in rows_of(first)]
    assert len(first_ids) == 50
    link = first.html.find(id="audit-older")["href"]
    assert "action=import" in link and f"before={first_ids[-1]}" in link
    second = admin_app.get(link)
    second_ids = [i for i, _ in rows_of(second)]
    assert len(second_ids) == 10 and max(second_ids) < min(first_ids)
    assert {a for _, a in rows_of(second)} == {"import"}
    assert second.html.find(id="audit-older") is None
    assert "/admin/audit?action=import" in second.text  # back to the newest
    assert admin_app.get("/admin/audit", {"action": "import", "before": "nonsense"}).status_int == 200


def test_a_salesperson_may_not_read_or_export(app, env):
    with env.ctx() as ctx:
        create_user(ctx, "lisi", "Spring-Tea-77", roles=["sales"])
    app.login("lisi", "Spring-Tea-77")
    app.get("/admin/audit", status=403)
    app.get("/admin/audit/export.csv", status=403)
    assert 'href="/admin/audit"' not in app.get("/").text
    assert not audit_rows(env, action="export")


def test_an_auditor_may_read_and_export(app, env):
    with env.ctx() as ctx:
        create_user(ctx, "wangwu", "Autumn-Moon-58", roles=["auditor"])
    app.login("wangwu", "Autumn-Moon-58")
    page = app.get("/admin/audit", {"user": "wangwu"})
    assert [a for _, a in rows_of(page)] == ["login"]
    assert 'data-action="create"' in app.get("/admin/audit", {"model": "core_user"}).text  # wangwu's account
    assert app.get("/admin/audit/export.csv").status_int == 200


def test_anonymous_visitors_are_sent_to_sign_in(app):
    assert app.get("/admin/audit").location.endswith("/login?next=%2Fadmin%2Faudit")


# -- the CSV export --------------------------------------------------------------------------

def test_csv_export_is_safe_for_spreadsheets_and_audited(admin_app, env):
    seed(env, at=dt.datetime(2026, 3, 1, 16, 30, tzinfo=UTC), record_id="9", detail='=HYPERLINK("http://x.example","点我")')
    response = admin_app.get("/admin/audit/export.csv", {"action": "import"})
    assert response.content_type == "text/csv"
    today = dt.datetime.now(UTC).astimezone(zoneinfo.ZoneInfo("Asia/Shanghai")).strftime("%Y%m%d")
    assert response.headers["Content-Disposition"] == f'attachment; filename="audit-{today}.csv"'
    assert response.body.startswith(b"\xef\xbb\xbf")  # BOM: Excel on Chinese Windows reads UTF-8
    rows = list(csv.reader(io.StringIO(response.body.decode("utf-8-sig"))))
    assert rows[0] == [translate(title, "zh_CN") for title in EXPORT_HEADER]
    [row] = rows[1:]
    assert row[9] == '\'=HYPERLINK("http://x.example","点我")'
    assert row[1] == "2026-03-02 00:30:00+08:00" and (row[5], row[6], row[7]) == ("import", "core_user", "9")
    [export] = audit_rows(env, action="export")
    assert (export.username, export.user_id, export.ip) == ("admin", user_id(env, "admin"), IP)
    assert json.loads(export.detail) == {"filters": {"action": "import"}, "rows": 1, "limit": 100_000}
    unfiltered = admin_app.get("/admin/audit/export.csv")
    assert any(line[5] == "export" for line in csv.reader(io.StringIO(unfiltered.body.decode("utf-8-sig"))))


# -- the History panel of a record -----------------------------------------------------------

def test_history_panel_shows_the_records_own_entries(admin_app, env):
    from pyramid.scripting import prepare

    from core.web.panels import panels_for

    with env.ctx() as ctx:
        department = create_department(ctx, "华南销售部", root_department(ctx).id)
        update_department(ctx, department, name="华南大区", manager_id=None)
        other = create_department(ctx, "西北销售部", root_department(ctx).id)
        department_id = department.id
    bootstrap = prepare(registry=admin_app.router.registry)
    request = bootstrap["request"]
    request.tm.begin()
    try:
        department = request.dbsession.get(Department, department_id)
        panels = {panel.id: values for panel, values in panels_for(request, department)}
        entries = panels["core.history"]["entries"]
        assert [(e.action, e.record_id) for e in entries] == [("update", str(department_id)),
                                                               ("create", str(department_id))]
        assert entries[0].changes == {"name": ["华南销售部", "华南大区"]}
        assert str(other.id) not in {e.record_id for e in entries}
    finally:
        request.tm.abort()
        bootstrap["closer"]()
