"""Departments as a tree (create, rename, move, disable, delete) and users' place in it.

Each department keeps ``path`` = its ancestors' ids and its own ("/1/4/9/"): a move rewrites
the paths of the moved subtree in one statement, and "department and below" is a prefix match.
"""

from __future__ import annotations

from sqlalchemy import func, select, update

from core.context import Ctx
from core.contributions import RecordChange
from core.models import Department, User
from core.org.exceptions import (
    DepartmentCycle,
    DepartmentDisabled,
    DepartmentHasChildren,
    DepartmentHasMembers,
    DepartmentNameRequired,
    DepartmentNameTaken,
    DepartmentNotFound,
    RootDepartment,
)

ROOT_NAME = "公司"


def root_department(ctx: Ctx) -> Department:
    """The top of the tree, created on first use (``kehu init``)."""
    root = ctx.dbsession.scalar(select(Department).where(Department.parent_id.is_(None)).order_by(Department.id))
    if root is None:
        root = Department(name=ROOT_NAME, path="/")
        ctx.dbsession.add(root)
        ctx.dbsession.flush()
        root.path = f"/{root.id}/"
        ctx.dbsession.flush()
    return root


def department_tree(ctx: Ctx, *, include_disabled: bool = True) -> list[Department]:
    """Every department, parents before children, siblings by ``sort`` then name."""
    ctx.access.require("core.department:read")
    query = select(Department)
    if not include_disabled:
        query = query.where(Department.active.is_(True))
    departments = list(ctx.dbsession.scalars(query))
    by_id = {d.id: d for d in departments}

    def key(department: Department) -> tuple:
        chain = [by_id[int(i)] for i in department.path.strip("/").split("/") if i and int(i) in by_id]
        return tuple((d.sort, d.name, d.id) for d in chain)

    return sorted(departments, key=key)


def get_department(ctx: Ctx, department_id: int) -> Department:
    department = ctx.dbsession.get(Department, department_id)
    if department is None:
        raise DepartmentNotFound()
    return department


def create_department(ctx: Ctx, name: str, parent_id: int, *, manager_id: int | None = None,
                      sort: int = 0) -> Department:
    ctx.access.require("core.department:write")
    parent = get_department(ctx, parent_id)
    if not parent.active:
        raise DepartmentDisabled(name=parent.name)
    name = _clean_name(name)
    _check_unique(ctx, name, parent.id)
    department = Department(name=name, parent_id=parent.id, path=parent.path, manager_id=manager_id, sort=sort)
    ctx.dbsession.add(department)
    ctx.dbsession.flush()
    department.path = f"{parent.path}{department.id}/"
    ctx.dbsession.flush()
    _changed(ctx, "created", department, {"name": (None, name), "parent_id": (None, parent.id)})
    return department


def update_department(ctx: Ctx, department: Department, *, name: str, manager_id: int | None,
                      sort: int = 0) -> None:
    ctx.access.require("core.department:write")
    name = _clean_name(name)
    changes = {}
    if name != department.name:
        _check_unique(ctx, name, department.parent_id, exclude=department.id)
        changes["name"] = (department.name, name)
        department.name = name
    if manager_id != department.manager_id:
        changes["manager_id"] = (department.manager_id, manager_id)
        department.manager_id = manager_id
    if sort != department.sort:
        changes["sort"] = (department.sort, sort)
        department.sort = sort
    if changes:
        _changed(ctx, "updated", department, changes)


def move_department(ctx: Ctx, department: Department, new_parent_id: int) -> None:
    """Move a subtree; refused under itself or its own descendants (no cycles)."""
    ctx.access.require("core.department:write")
    if department.parent_id is None:
        raise RootDepartment()
    parent = get_department(ctx, new_parent_id)
    if parent.path.startswith(department.path):
        raise DepartmentCycle(name=department.name)
    if not parent.active and department.active:
        raise DepartmentDisabled(name=parent.name)
    if parent.id == department.parent_id:
        return
    _check_unique(ctx, department.name, parent.id, exclude=department.id)
    old_path, new_path = department.path, f"{parent.path}{department.id}/"
    ctx.dbsession.execute(
        update(Department)
        .where(func.substr(Department.path, 1, len(old_path)) == old_path)
        .values(path=new_path + func.substr(Department.path, len(old_path) + 1))
        .execution_options(synchronize_session=False)
    )
    before = department.parent_id
    department.parent_id = parent.id
    ctx.dbsession.flush()
    ctx.dbsession.expire_all()
    _changed(ctx, "updated", department, {"parent_id": (before, parent.id)})


def set_department_active(ctx: Ctx, department: Department, active: bool) -> None:
    """Disable only an empty branch: no active member and no active sub-department."""
    ctx.access.require("core.department:write")
    if department.active == active:
        return
    if not active:
        if department.parent_id is None:
            raise RootDepartment()
        members = _member_count(ctx, department, active_only=True)
        if members:
            raise DepartmentHasMembers(name=department.name, count=members)
        children = ctx.dbsession.scalar(select(func.count()).select_from(Department).where(
            Department.parent_id == department.id, Department.active.is_(True)))
        if children:
            raise DepartmentHasChildren(name=department.name)
    department.active = active
    _changed(ctx, "updated", department, {"active": (not active, active)})


def delete_department(ctx: Ctx, department: Department) -> None:
    ctx.access.require("core.department:write")
    if department.parent_id is None:
        raise RootDepartment()
    members = _member_count(ctx, department, active_only=False)
    if members:
        raise DepartmentHasMembers(name=department.name, count=members)
    if ctx.dbsession.scalar(select(Department.id).where(Department.parent_id == department.id).limit(1)):
        raise DepartmentHasChildren(name=department.name)
    _changed(ctx, "deleted", department, {"name": (department.name, None)})
    ctx.dbsession.delete(department)
    ctx.dbsession.flush()


def member_counts(ctx: Ctx) -> dict[int, int]:
    rows = ctx.dbsession.execute(select(User.department_id, func.count()).where(User.department_id.is_not(None))
                                 .group_by(User.department_id))
    return dict(rows.all())


def _member_count(ctx: Ctx, department: Department, *, active_only: bool) -> int:
    query = select(func.count()).select_from(User).where(User.department_id == department.id)
    if active_only:
        query = query.where(User.active.is_(True))
    return ctx.dbsession.scalar(query) or 0


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise DepartmentNameRequired()
    return name


def _check_unique(ctx: Ctx, name: str, parent_id: int | None, *, exclude: int | None = None) -> None:
    query = select(Department.id).where(Department.name == name, Department.parent_id == parent_id)
    if exclude is not None:
        query = query.where(Department.id != exclude)
    if ctx.dbsession.scalar(query) is not None:
        raise DepartmentNameTaken(name=name)


def _changed(ctx: Ctx, action: str, department: Department, changes: dict) -> None:
    ctx.dbsession.flush()
    ctx.hooks.kehu_record_changed(ctx=ctx, change=RecordChange(
        action, Department.__tablename__, department.id, changes,
        user_id=ctx.user.id if ctx.user else None, at=ctx.now))
