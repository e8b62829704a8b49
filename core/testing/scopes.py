"""The record-scope matrix: for any scoped model, users × records, every access path checked.

An addon proves its list, count, get, update, delete and export honour the scope rules with a
dozen lines::

    def test_customer_scopes(scope_matrix):
        matrix = scope_matrix(Customer, make=lambda ctx, owner: create_customer(ctx, ..., owner_id=owner.id))
        matrix.check(list=lambda ctx: [c.id for c in list_customers(ctx)],
                     count=count_customers, get=get_customer,
                     update=lambda ctx, id: rename_customer(ctx, id, "x"),
                     delete=delete_customer,
                     export=lambda ctx: [row["id"] for row in export_customers(ctx)])

The expected visibility is computed here from the rules themselves (own / department /
department and below / all, the union over roles), independently of ``core.access.scopes``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

from core.access.exceptions import PermissionDenied, RecordNotFound
from core.access.roles import create_role, set_role_permissions, set_user_roles
from core.context import Ctx
from core.models import Department, Role, User
from core.org.services import create_department, root_department
from core.users.services import create_user

ACTIONS = ("read", "write", "delete", "export")
PASSWORD = "Matrix-Pass-2026"


@dataclasses.dataclass
class Viewer:
    user: User
    scopes: frozenset[str]


@dataclasses.dataclass
class ScopeMatrix:
    """Departments 总部 ⊃ 华东 ⊃ 上海 and 华南; owners in each; one viewer per scope and a viewer
    holding two roles; one record per owner (and per viewer)."""

    ctx: Ctx
    model: type
    make: Callable[[Ctx, User], Any]
    viewers: list[Viewer] = dataclasses.field(default_factory=list)
    records: dict[int, User] = dataclasses.field(default_factory=dict)  # record id -> owner
    outsider: User | None = None

    def build(self) -> ScopeMatrix:
        ctx = self.ctx
        root = root_department(ctx)
        east = create_department(ctx, "华东矩阵", root.id)
        shanghai = create_department(ctx, "上海矩阵", east.id)
        south = create_department(ctx, "华南矩阵", root.id)
        roles = {scope: self._role(scope) for scope in ("own", "department", "department_tree", "all")}
        specs = [
            ("m_own", east, ["own"]),
            ("m_dept", east, ["department"]),
            ("m_tree", east, ["department_tree"]),
            ("m_all", south, ["all"]),
            ("m_union", south, ["own", "department"]),
            ("m_subdept", shanghai, ["department_tree"]),
        ]
        for username, department, scopes in specs:
            user = self._user(username, department)
            set_user_roles(ctx, user, [roles[s] for s in scopes])
            self.viewers.append(Viewer(user, frozenset(scopes)))
        owners = [self._user(name, dept) for name, dept in
                  (("o_east", east), ("o_shanghai", shanghai), ("o_south", south), ("o_root", root))]
        for owner in owners + [v.user for v in self.viewers]:
            record = self.make(ctx, owner)
            ctx.dbsession.flush()
            self.records[record.id] = owner
        self.outsider = self._user("m_none", east)  # no role grants anything on the model
        ctx.dbsession.flush()
        return self

    def expected(self, viewer: Viewer) -> set[int]:
        return {rid for rid, owner in self.records.items() if _visible(viewer, owner)}

    def check(self, *, list: Callable[[Ctx], Iterable[int]], count: Callable[[Ctx], int],
              get: Callable[[Ctx, int], Any], update: Callable[[Ctx, int], Any] | None = None,
              delete: Callable[[Ctx, int], Any] | None = None,
              export: Callable[[Ctx], Iterable[int]] | None = None) -> None:
        """Assert every path agrees with the rules for every viewer; raise AssertionError naming
        the viewer, the path and the record otherwise."""
        for viewer in self.viewers:
            ctx = self.ctx.as_user(viewer.user)
            name = f"{viewer.user.username} {sorted(viewer.scopes)}"
            expected = self.expected(viewer)
            assert set(list(ctx)) == expected, f"list for {name}: {sorted(list(ctx))} != {sorted(expected)}"
            assert count(ctx) == len(expected), f"count for {name}"
            if export is not None:
                assert set(export(ctx)) == expected, f"export for {name}"
            for record_id in self.records:
                paths = [("get", get), ("update", update), ("delete", delete)]
                for path, call in paths:
                    if call is None:
                        continue
                    self._check_one(ctx, name, path, call, record_id, record_id in expected)
        outsider = self.ctx.as_user(self.outsider)
        try:
            list(outsider)
        except PermissionDenied:
            pass
        else:
            raise AssertionError("a user without the read permission could list records")

    def _check_one(self, ctx: Ctx, name: str, path: str, call: Callable, record_id: int, allowed: bool) -> None:
        savepoint = ctx.dbsession.begin_nested()
        try:
            call(ctx, record_id)
        except RecordNotFound:
            assert not allowed, f"{path} of record {record_id} refused for {name}, but it is in scope"
        else:
            assert allowed, f"{path} of record {record_id} allowed for {name}, but it is out of scope"
        finally:
            savepoint.rollback()
        ctx.dbsession.expire_all()

    def _role(self, scope: str) -> Role:
        role = create_role(self.ctx, f"matrix_{scope}", f"Matrix {scope}", default_scope=scope)
        set_role_permissions(self.ctx, role, [f"{self.model.access_key}:{action}" for action in ACTIONS])
        return role

    def _user(self, username: str, department: Department) -> User:
        return create_user(self.ctx, username, PASSWORD, roles=[], department_id=department.id)


def _visible(viewer: Viewer, owner: User) -> bool:
    if "all" in viewer.scopes or owner.id == viewer.user.id:  # every scope includes one's own records
        return True
    viewer_department, owner_department = viewer.user.department, owner.department
    if viewer_department is None or owner_department is None:
        return False
    if "department" in viewer.scopes and owner_department.id == viewer_department.id:
        return True
    return "department_tree" in viewer.scopes and owner_department.path.startswith(viewer_department.path)
