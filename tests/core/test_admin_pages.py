"""Admin pages (X1): departments, users, roles and the permission matrix. Each page answers the
administrator and refuses a salesperson; refusals (a department cycle, deleting a department
with members, removing the last administrator, an undeclared permission, a taken username, a
weak password) show the service's message beside the field and change nothing."""

import pytest
from sqlalchemy import func, select

from core.access.exceptions import LastAdministrator, PermissionDenied, UnknownPermission
from core.access.roles import role_by_key, role_permissions, set_role_permissions
from core.models import Department, Role, RolePermission, RoleScope, User
from core.org.exceptions import DepartmentCycle, DepartmentHasMembers
from core.org.services import create_department, root_department
from core.testing.plugin import ADMIN
from core.users.exceptions import CommonPassword, UsernameTaken, WeakPassword
from core.users.services import create_user

FIXTURES = "tests.fixtures.addons."
SALES = ("lisi", "Spring-Tea-77")


@pytest.fixture
def catalog(catalog_of):
    return catalog_of(FIXTURES + "scoped")  # an addon with owned records, so the matrix has scopes


@pytest.fixture
def app(make_kehu_app, catalog):
    app = make_kehu_app(catalog=catalog, install=["scoped"])
    app.login()
    return app


@pytest.fixture
def system(app, cli_env, catalog):
    """``with system() as ctx``: the command line's context (every permission) on the app's database."""
    return cli_env(catalog).ctx


@pytest.fixture
def salesperson(system):
    with system() as ctx:
        return create_user(ctx, *SALES, display_name="李四", roles=["sales"], department_id=root_department(ctx).id)


def db(app):
    return app.router.registry["kehu.session_factory"]()


def error_beside(page, field_id):
    """The text of the error shown under the field ``field_id`` (what a reader sees)."""
    error = page.html.find(id=f"{field_id}-error")
    assert error is not None, f"no error beside {field_id}"
    return error.get_text(strip=True)


def ids(app):
    with db(app) as session:
        root = session.scalar(select(Department.id).where(Department.parent_id.is_(None)))
        admin = session.scalar(select(User.id).where(User.username == ADMIN[0]))
        sales_role = session.scalar(select(Role.id).where(Role.key == "sales"))
    return root, admin, sales_role


def role_id(app, key):
    with db(app) as session:
        return session.scalar(select(Role.id).where(Role.key == key))


def test_every_admin_page_opens_for_the_admin_and_not_for_a_salesperson(app, make_kehu_app, catalog, salesperson):
    root, admin, sales_role = ids(app)
    pages = ["/admin/departments", "/admin/departments/new", f"/admin/departments/{root}",
             "/admin/users", "/admin/users/new", f"/admin/users/{admin}",
             "/admin/roles", "/admin/roles/new", f"/admin/roles/{sales_role}"]
    for url in pages:
        assert app.get(url).status_int == 200, url
    for url in ("/admin/departments/999999", "/admin/users/99999999999999999999", "/admin/roles/999999"):
        app.get(url, status=404)
    assert app.get("/admin/users", {"after": "99999999999999999999", "department": "x"}).status_int == 200
    menu = app.get("/").text
    for url in ("/admin/users", "/admin/departments", "/admin/roles"):
        assert f'href="{url}"' in menu

    sales = make_kehu_app(catalog=catalog)
    sales.login(*SALES)
    for url in pages:
        sales.get(url, status=403)
    sales.post_form("/admin/departments/new", {"name": "偷偷建的部门", "parent_id": root}, status=403)
    sales.post_form(f"/admin/users/{admin}/active", {"active": "0"}, status=403)
    sales.post_form(f"/admin/roles/{sales_role}", {"permission": "core.role:write"}, status=403)
    assert "/admin/" not in sales.get("/").text  # no admin menu items either
    with db(app) as session:
        assert session.scalar(select(func.count()).select_from(Department)) == 1
        assert session.get(User, admin).active
        assert "core.role:write" not in role_permissions_of(session, sales_role)


def test_an_auditor_reads_the_admin_pages_but_changes_nothing(app, make_kehu_app, catalog, system):
    with system() as ctx:
        create_user(ctx, "shenji", "Quiet-River-64", roles=["auditor"], department_id=root_department(ctx).id)
    root, admin, sales_role = ids(app)
    auditor = make_kehu_app(catalog=catalog)
    auditor.login("shenji", "Quiet-River-64")
    departments = auditor.get("/admin/departments")
    assert departments.html.find("a", href="/admin/departments/new") is None
    assert departments.html.find("a", href=f"/admin/departments/{root}") is None
    users = auditor.get("/admin/users")
    assert users.html.find(id=f"user-{admin}").find("a") is None
    role_page = auditor.get(f"/admin/roles/{sales_role}")
    assert role_page.html.find("fieldset").has_attr("disabled")
    assert role_page.html.find(id="role-form").find("button") is None  # no save button
    for url in (f"/admin/departments/{root}", "/admin/users/new", f"/admin/users/{admin}", "/admin/roles/new"):
        auditor.get(url, status=403)
    auditor.post_form(f"/admin/roles/{sales_role}", {"default_scope": "all", "permission": "core.role:write"},
                      status=403)
    with db(app) as session:
        assert session.get(Role, sales_role).default_scope == "own"


def role_permissions_of(session, role_id):
    return set(session.scalars(select(RolePermission.permission).where(RolePermission.role_id == role_id)))


def test_create_a_department_then_a_salesperson_in_it(app):
    root, admin, _sales_role = ids(app)
    form = app.get(f"/admin/departments/new?parent={root}").forms["department-form"]
    form["name"] = "华东销售部"
    form["manager_id"] = str(admin)
    page = form.submit().follow()
    assert "华东销售部" in page.html.find(id="department-tree").get_text()
    with db(app) as session:
        east = session.scalar(select(Department).where(Department.name == "华东销售部"))
        assert (east.parent_id, east.manager_id, east.path) == (root, admin, f"/{root}/{east.id}/")

    form = app.get(f"/admin/users/new?department={east.id}").forms["user-form"]
    assert form["department_id"].value == str(east.id)
    form["username"] = "wangwu"
    form["display_name"] = "王五"
    form["password"] = "Spring-Tea-77"
    form["email"] = "wangwu@example.com"
    form["post"] = "销售代表"
    response = form.submit()  # the salesperson role is ticked by default
    assert response.status_int == 303
    with db(app) as session:
        user = session.scalar(select(User).where(User.username == "wangwu"))
        assert (user.display_name, user.email, user.department_id, user.post) == (
            "王五", "wangwu@example.com", east.id, "销售代表")
        assert user.role_keys == {"sales"}
    row = response.follow().html.find(id=f"user-{user.id}").get_text()
    assert "wangwu" in row and "华东销售部" in row and "销售代表" in row
    department_page = app.get("/admin/departments")
    assert "1" in department_page.html.find(id=f"department-{east.id}").get_text()  # its member count


def test_edit_a_users_department_post_and_roles(app, salesperson):
    root, _admin, _sales = ids(app)
    with db(app) as session:
        north = Department(name="华北销售部", parent_id=root, path="/")
        session.add(north)
        session.flush()
        north.path = f"/{root}/{north.id}/"
        session.commit()
        north_id = north.id
    form = app.get(f"/admin/users/{salesperson.id}").forms["user-form"]
    form["department_id"] = str(north_id)
    form["post"] = "销售经理"
    for checkbox in form.fields["roles"]:
        checkbox.checked = checkbox._value in (str(role_id(app, "sales_manager")), str(role_id(app, "sales")))
    page = form.submit().follow()
    assert page.html.find(class_="alert-success") is not None
    with db(app) as session:
        user = session.get(User, salesperson.id)
        assert (user.department_id, user.post) == (north_id, "销售经理")
        assert user.role_keys == {"sales", "sales_manager"}


def test_a_department_cannot_move_under_its_own_child(app, system):
    with system() as ctx:
        parent = create_department(ctx, "销售中心", root_department(ctx).id)
        child = create_department(ctx, "华南组", parent.id)
        parent_id, child_id, parent_path, root_id = parent.id, child.id, parent.path, parent.parent_id
    page = app.post_form(f"/admin/departments/{parent_id}/move", {"parent_id": child_id}, status=400)
    assert error_beside(page, "parent_id") == DepartmentCycle(name="销售中心").translated("zh_CN")
    with db(app) as session:
        moved = session.get(Department, parent_id)
        assert (moved.parent_id, moved.path) == (root_id, parent_path)
        assert session.get(Department, child_id).path == f"{parent_path}{child_id}/"


def test_a_department_with_users_cannot_be_deleted(app, system):
    with system() as ctx:
        team = create_department(ctx, "华西组", root_department(ctx).id)
        create_user(ctx, "zhaoliu", "Summer-Sun-55", roles=["sales"], department_id=team.id)
        team_id = team.id
    page = app.post_form(f"/admin/departments/{team_id}/delete", status=303).follow()
    expected = DepartmentHasMembers(name="华西组", count=1).translated("zh_CN")
    assert page.html.find(class_="alert-danger").get_text(strip=True) == expected
    with db(app) as session:
        assert session.get(Department, team_id) is not None


def test_an_empty_department_is_disabled_enabled_renamed_and_deleted(app, system):
    with system() as ctx:
        team = create_department(ctx, "临时组", root_department(ctx).id)
        team_id = team.id
    app.post_form(f"/admin/departments/{team_id}/active", {"active": "0"}, status=303)
    with db(app) as session:
        assert not session.get(Department, team_id).active
    app.post_form(f"/admin/departments/{team_id}/active", {"active": "1"}, status=303)
    form = app.get(f"/admin/departments/{team_id}").forms["department-form"]
    form["name"] = "项目组"
    form["sort"] = "5"
    form.submit(status=303)
    with db(app) as session:
        team = session.get(Department, team_id)
        assert (team.active, team.name, team.sort) == (True, "项目组", 5)
    app.post_form(f"/admin/departments/{team_id}/delete", status=303)
    with db(app) as session:
        assert session.get(Department, team_id) is None


def test_the_last_admin_keeps_the_admin_role_and_nothing_else_changes(app):
    _root, admin, sales_role = ids(app)
    form = app.get(f"/admin/users/{admin}").forms["user-form"]
    form["display_name"] = "改了名字"
    for checkbox in form.fields["roles"]:
        checkbox.checked = checkbox._value == str(sales_role)
    page = form.submit(status=400)
    assert error_beside(page, "roles") == LastAdministrator().translated("zh_CN")
    with db(app) as session:
        user = session.get(User, admin)
        assert user.role_keys == {"admin"}
        assert user.display_name == "管理员"  # the savepoint took the whole edit back
    # Disabling the last administrator is refused the same way.
    page = app.post_form(f"/admin/users/{admin}/active", {"active": "0"}, status=303).follow()
    assert LastAdministrator().translated("zh_CN") in page.html.find(class_="alert-danger").get_text()
    with db(app) as session:
        assert session.get(User, admin).active


def test_a_taken_username_and_a_weak_password_are_shown_beside_their_fields(app):
    root, _admin, sales_role = ids(app)
    with db(app) as session:
        before = session.scalar(select(func.count()).select_from(User))
    page = app.post_form("/admin/users/new", {"username": "admin", "display_name": "冒名", "password": "short-1",
                                              "department_id": root, "roles": sales_role}, status=400)
    assert error_beside(page, "username") == UsernameTaken(username="admin").translated("zh_CN")
    assert error_beside(page, "password") == WeakPassword(min_length=10).translated("zh_CN")
    page = app.post_form("/admin/users/new", {"username": "", "password": "", "department_id": root}, status=400)
    for field in ("username", "display_name", "password", "roles"):
        assert error_beside(page, field)
    # A weak password is named even while other fields are still empty.
    page = app.post_form("/admin/users/new", {"username": "zhou", "password": "zhou-12345678",
                                              "department_id": root, "roles": sales_role}, status=400)
    assert error_beside(page, "display_name")
    assert error_beside(page, "password") == CommonPassword().translated("zh_CN")
    with db(app) as session:
        assert session.scalar(select(func.count()).select_from(User)) == before


def test_disable_enable_and_a_new_password_end_the_users_sessions(app, make_kehu_app, catalog, salesperson):
    sales = make_kehu_app(catalog=catalog)
    sales.login(*SALES)
    page = app.get(f"/admin/users/{salesperson.id}")
    page.forms["password-form"]["password"] = "123"
    refused = page.forms["password-form"].submit(status=400)
    assert error_beside(refused, "password") == WeakPassword(min_length=10).translated("zh_CN")
    sales.get("/", status=200)  # a refused change signs nobody out

    page.forms["password-form"]["password"] = "Autumn-Leaf-31"
    page.forms["password-form"].submit(status=303)
    assert sales.get("/").status_int == 303  # back to the login page
    sales.login(SALES[0], "Autumn-Leaf-31")

    app.post_form(f"/admin/users/{salesperson.id}/active", {"active": "0"}, status=303)
    assert sales.get("/").status_int == 303
    with db(app) as session:
        assert not session.get(User, salesperson.id).active
    listing = app.get("/admin/users", {"q": "lisi"})
    assert listing.html.find(id=f"user-{salesperson.id}").find(class_="text-bg-secondary") is not None
    app.post_form(f"/admin/users/{salesperson.id}/active", {"active": "1"}, status=303)
    sales.login(SALES[0], "Autumn-Leaf-31")


def test_the_user_list_searches_and_pages_by_id(app):
    with db(app) as session:
        session.add_all(User(username=f"user{n:03d}", display_name=f"员工{n}", password_hash="x") for n in range(60))
        session.commit()
    first = app.get("/admin/users")
    rows = first.html.find(id="user-table").tbody.find_all("tr")
    assert len(rows) == 50
    second = app.get(first.html.find("a", rel="next")["href"])
    rows2 = second.html.find(id="user-table").tbody.find_all("tr")
    assert len(rows2) == 11  # 61 users: the administrator and 60 more
    assert second.html.find("a", rel="next") is None
    names = [row.td.get_text(strip=True) for row in rows + rows2]
    assert len(set(names)) == 61
    found = app.get("/admin/users", {"q": "员工5"})  # 员工5, 员工50 … 员工59
    assert len(found.html.find(id="user-table").tbody.find_all("tr")) == 11
    assert "员工" not in app.get("/admin/users", {"q": "%"}).html.find(id="main").get_text()  # wildcards are literal


def test_the_matrix_saves_grants_and_a_scope(app):
    sales_role = role_id(app, "sales")
    page = app.get(f"/admin/roles/{sales_role}")
    form = page.forms["role-form"]
    assert form["scope:scoped.note"].value == ""  # the role's default until one is chosen
    assert "scope:core.user" not in form.fields  # users have no owner: no scope to choose
    for checkbox in form.fields["permission"]:
        if checkbox._value == "scoped.note:export":
            checkbox.checked = True
        if checkbox._value == "scoped.note:write":
            checkbox.checked = False
    form["scope:scoped.note"] = "department"
    form.submit(status=303)
    with db(app) as session:
        granted = role_permissions_of(session, sales_role)
        assert "scoped.note:export" in granted and "scoped.note:write" not in granted
        assert {"core.workbench:read", "scoped.note:read", "scoped.note:create"} <= granted
        scope = session.get(RoleScope, (sales_role, "scoped.note"))
        assert scope.scope == "department"
    page = app.get(f"/admin/roles/{sales_role}")
    assert page.forms["role-form"]["scope:scoped.note"].value == "department"
    assert page.html.find(id="perm-scoped-note--export").has_attr("checked")

    form = page.forms["role-form"]
    form["scope:scoped.note"] = ""  # back to the role's default: the row goes
    form.submit(status=303)
    with db(app) as session:
        assert session.get(RoleScope, (sales_role, "scoped.note")) is None


def test_an_undeclared_permission_is_refused_and_nothing_changes(app):
    sales_role = role_id(app, "sales")
    with db(app) as session:
        before = role_permissions_of(session, sales_role)
    page = app.post_form(f"/admin/roles/{sales_role}", {
        "description": "改过的说明", "default_scope": "all",
        "permission": [*sorted(before), "core.everything:read"], "scope:scoped.note": "all",
    }, status=400)
    expected = UnknownPermission(permission="core.everything:read").translated("zh_CN")
    assert page.html.find(id="matrix-error").get_text(strip=True) == expected
    with db(app) as session:
        assert role_permissions_of(session, sales_role) == before
        role = session.get(Role, sales_role)
        assert (role.description, role.default_scope) == ("", "own")
        assert session.get(RoleScope, (sales_role, "scoped.note")) is None
    unknown_scope = app.post_form(f"/admin/roles/{sales_role}", {
        "default_scope": "own", "permission": sorted(before), "scope:scoped.note": "galaxy"}, status=400)
    assert "galaxy" in unknown_scope.html.find(id="matrix-error").get_text()


def test_the_admin_role_holds_everything_instead_of_a_matrix(app):
    page = app.get(f"/admin/roles/{role_id(app, 'admin')}")
    assert page.html.find(id="admin-holds-everything") is not None
    assert page.html.find("input", attrs={"name": "permission"}) is None


def test_roles_are_created_edited_and_deleted_unless_builtin_or_in_use(app):
    form = app.get("/admin/roles/new").forms["role-form"]
    form["key"] = "east_sales"
    form["name"] = "华东销售"
    form["default_scope"] = "department_tree"
    role_page = form.submit(status=303).follow()
    assert "华东销售" in role_page.html.find("h1").get_text()
    bad = app.post_form("/admin/roles/new", {"key": "East Sales", "name": "x", "default_scope": "own"}, status=400)
    assert error_beside(bad, "key")
    taken = app.post_form("/admin/roles/new", {"key": "east_sales", "name": "x", "default_scope": "own"}, status=400)
    assert "east_sales" in error_beside(taken, "key")
    east = role_id(app, "east_sales")
    listing = app.get("/admin/roles")
    assert "华东销售" in listing.html.find(id="role-east_sales").get_text()

    builtin = app.post_form(f"/admin/roles/{role_id(app, 'sales')}/delete", status=303).follow()
    assert builtin.html.find(class_="alert-danger") is not None
    app.post_form(f"/admin/roles/{east}/delete", status=303)
    with db(app) as session:
        assert session.get(Role, east) is None
        assert session.get(Role, role_id(app, "sales")) is not None


def test_a_role_in_use_cannot_be_deleted(app, system):
    with system() as ctx:
        from core.access.roles import create_role

        role = create_role(ctx, "helpers", "助理")
        create_user(ctx, "helper1", "Quiet-River-64", roles=["helpers"], department_id=root_department(ctx).id)
        helpers = role.id
    page = app.post_form(f"/admin/roles/{helpers}/delete", status=303).follow()
    assert "助理" in page.html.find(class_="alert-danger").get_text()
    with db(app) as session:
        assert session.get(Role, helpers) is not None


def test_the_service_refuses_a_salesperson_even_without_a_view(system, salesperson):
    with system() as ctx:
        user = ctx.dbsession.get(User, salesperson.id)
        as_sales = ctx.as_user(user)
        role = role_by_key(ctx, "sales")
        with pytest.raises(PermissionDenied):
            set_role_permissions(as_sales, role, ["core.role:write", "core.user:write"])
        assert "core.role:write" not in role_permissions(ctx, role)
