"""Refusals of the access-control services that no page can reach but a forged request could."""

import pytest

from core.access.exceptions import PermissionDenied, UnknownPermission, UnknownRole
from core.access.roles import create_role, role_by_key, role_title, set_role_permissions, set_role_scope, set_user_roles
from core.org.exceptions import DepartmentDisabled
from core.org.services import create_department, move_department, root_department, set_department_active
from core.users.services import create_user


@pytest.fixture
def ctx(kehu_db, cli_env):
    with cli_env().ctx() as ctx:
        yield ctx


def test_create_user_refuses_unknown_roles_and_disabled_departments(ctx):
    root = root_department(ctx)
    closed = create_department(ctx, "已撤销", root.id)
    set_department_active(ctx, closed, False)
    with pytest.raises(UnknownRole, match="king"):
        create_user(ctx, "zhao", "Spring-Tea-77", roles=["king"])
    with pytest.raises(DepartmentDisabled):
        create_user(ctx, "zhao", "Spring-Tea-77", department_id=closed.id)


def test_no_move_under_a_disabled_department(ctx):
    root = root_department(ctx)
    closed = create_department(ctx, "已撤销", root.id)
    moving = create_department(ctx, "销售部", root.id)
    set_department_active(ctx, closed, False)
    with pytest.raises(DepartmentDisabled):
        move_department(ctx, moving, closed.id)


def test_scopes_only_for_declared_models(ctx):
    with pytest.raises(UnknownPermission):
        set_role_scope(ctx, role_by_key(ctx, "sales"), "nosuch.thing", "all")


def test_nobody_hands_out_more_than_they_hold(ctx):
    root = root_department(ctx)
    manager_role = create_role(ctx, "user_admin", "User admin")
    set_role_permissions(ctx, manager_role, ["core.user:write", "core.user:read", "core.role:write"])
    helper = create_user(ctx, "helper", "Spring-Tea-77", roles=["user_admin"], department_id=root.id)
    victim = create_user(ctx, "victim", "Autumn-Rain-88", roles=["sales"], department_id=root.id)
    as_helper = ctx.as_user(helper)
    with pytest.raises(PermissionDenied):
        set_user_roles(as_helper, victim, [role_by_key(ctx, "admin")])
    with pytest.raises(PermissionDenied):
        create_user(as_helper, "boss", "Winter-Snow-99", roles=["admin"])
    with pytest.raises(PermissionDenied):
        set_role_permissions(as_helper, manager_role, ["core.user:write", "core.user:read", "core.role:write",
                                                       "core.audit:read"])
    set_user_roles(as_helper, victim, [role_by_key(ctx, "sales_manager")])  # within their powers
    assert victim.role_keys == {"sales_manager"}


def test_builtin_role_names_are_translated():
    from core.models import Role

    role = Role(key="sales", name="Salesperson", builtin=True)
    assert role_title(role, "zh_CN") != "Salesperson"
    assert role_title(role, "en") == "Salesperson"
    assert role_title(Role(key="x", name="大客户组", builtin=False), "en") == "大客户组"
