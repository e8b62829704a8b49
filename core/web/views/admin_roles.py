"""Roles (X1): the list, create, and a role's page — name, description, default record scope,
the permission matrix (every declared permission, grouped by addon, a row per model and a
column per action) and a record scope per kind of owned record (D-SCOPE). One Save runs every
change in a savepoint: a refused one (an undeclared permission, an unknown scope) changes nothing.
"""

from __future__ import annotations

import dataclasses

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.i18n import TranslationString
from pyramid.request import Request
from sqlalchemy import func, select
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from core.access.exceptions import InvalidRoleKey, RoleKeyTaken, UnknownScope
from core.access.roles import (
    create_role,
    declared_permissions,
    delete_role,
    role_permissions,
    role_scopes,
    set_role_permissions,
    set_role_scope,
    update_role,
)
from core.access.scopes import SCOPES, Owned
from core.contributions import Permission
from core.db import Base
from core.exceptions import KehuError
from core.i18n import _
from core.models import ADMIN_ROLE, Role, UserRole
from core.permissions import ACTIONS
from core.web.forms import KehuForm, flash_done, show_error

ERROR_FIELDS: dict[type[KehuError], str] = {
    InvalidRoleKey: "key",
    RoleKeyTaken: "key",
    UnknownScope: "default_scope",
}
#: Column titles of the matrix; an action not listed here is shown by its name, after these.
ACTION_TITLES: dict[str, TranslationString] = {
    "read": _("Read"),
    "create": _("Create"),
    "write": _("Edit"),
    "delete": _("Delete"),
    "export": _("Export"),
    "import": _("Import"),
    "assign": _("Assign"),
    "see_sensitive": _("See sensitive fields"),
    "install": _("Install"),
}
SCOPE_FIELD = "scope:"  # form field of a model's scope: "scope:customers.customer"


def role_title(role: Role) -> str | TranslationString:
    """A built-in role's name is an English msgid (BUILTIN_ROLE_TITLES), shown translated."""
    return _(role.name) if role.builtin else role.name


def role_label(request: Request, role: Role) -> str:
    return request.localizer.translate(role_title(role)) if role.builtin else role.name


@dataclasses.dataclass
class MatrixRow:
    model_key: str
    cells: dict[str, Permission]  # action -> permission
    scoped: bool  # records of this kind have owners, so the role has a scope on them


@dataclasses.dataclass
class MatrixGroup:
    addon: str
    title: str
    actions: list[str]
    rows: list[MatrixRow]


def owned_model_keys() -> set[str]:
    """``access_key`` of every mapped model with an owner: the kinds of record a scope applies to."""
    return {mapper.class_.access_key for mapper in Base.registry.mappers
            if issubclass(mapper.class_, Owned) and getattr(mapper.class_, "access_key", None)}


def build_matrix(request: Request, declared: dict[str, Permission]) -> list[MatrixGroup]:
    """Declared permissions as tables: one per addon (the core first), a row per
    ``<addon>.<model>``, the standard actions in their order, then any others by name."""
    owned = owned_model_keys()
    catalog = request.registry["kehu.addons"].catalog
    by_model: dict[str, dict[str, Permission]] = {}
    for name, permission in declared.items():
        model_key, action = name.split(":", 1)
        by_model.setdefault(model_key, {})[action] = permission
    groups: dict[str, MatrixGroup] = {}
    for model_key in sorted(by_model):
        addon = model_key.split(".", 1)[0]
        if addon not in groups:
            title = _("Core") if addon == "core" else (catalog.get(addon).display_title if addon in catalog else addon)
            groups[addon] = MatrixGroup(addon, title, [], [])
        groups[addon].rows.append(MatrixRow(model_key, by_model[model_key], model_key in owned))
    for group in groups.values():
        present = {action for row in group.rows for action in row.cells}
        group.actions = [a for a in ACTIONS if a in present] + sorted(present - set(ACTIONS))
    return sorted(groups.values(), key=lambda g: (g.addon != "core", g.addon))


class RoleForm(KehuForm):
    name = StringField(_("Name"), validators=[DataRequired(), Length(max=100)])
    description = StringField(_("Description"), validators=[Length(max=255)])
    default_scope = SelectField(_("Default record scope"))


class NewRoleForm(RoleForm):
    key = StringField(_("Key"), validators=[DataRequired(), Length(max=64)])


def scope_choices(request: Request) -> list[tuple[str, str]]:
    return [(key, request.localizer.translate(title)) for key, title in SCOPES.items()]


def get_role_or_404(request: Request) -> Role:
    role = request.dbsession.get(Role, int(request.matchdict["id"]))
    if role is None:
        raise HTTPNotFound()
    return role


def role_list(request: Request) -> dict:
    roles = list(request.dbsession.scalars(select(Role).order_by(Role.builtin.desc(), Role.id)))
    counts = dict(request.dbsession.execute(
        select(UserRole.role_id, func.count()).group_by(UserRole.role_id)).all())
    return {
        "roles": roles,
        "counts": counts,
        "role_title": role_title,
        "scopes": SCOPES,
        "can_write": request.has_permission("core.role:write"),
        "page_title": _("Roles"),
    }


def role_new(request: Request) -> dict | HTTPSeeOther:
    form = NewRoleForm.for_request(request, default_scope="own")
    form.default_scope.choices = scope_choices(request)
    if request.method == "POST" and form.validate():
        try:
            with request.dbsession.begin_nested():
                role = create_role(request.ctx, form.key.data, form.name.data, description=form.description.data or "",
                                   default_scope=form.default_scope.data)
        except KehuError as exc:
            show_error(request, form, exc, ERROR_FIELDS)
        else:
            flash_done(request, _("Role “${name}” created: now choose its permissions.", mapping={"name": role.name}))
            return HTTPSeeOther(request.route_path("core.roles.edit", id=role.id))
    if request.method == "POST":
        request.response.status = 400
    return {"form": form, "page_title": _("New role")}


def role_edit(request: Request) -> dict | HTTPSeeOther:
    """GET shows the role (read-only without ``core.role:write``); POST saves it all at once."""
    role = get_role_or_404(request)
    ctx = request.ctx
    declared = declared_permissions(ctx)
    matrix = build_matrix(request, declared)
    scoped_keys = [row.model_key for group in matrix for row in group.rows if row.scoped]
    form = RoleForm.for_request(request, obj=role)
    form.default_scope.choices = scope_choices(request)
    if role.builtin:
        del form.name  # built-in names are msgids, shown translated: they stay as they are
    is_admin = role.key == ADMIN_ROLE
    if is_admin:
        del form.default_scope  # the administrator sees every record whatever its scopes say
    granted = role_permissions(ctx, role)
    scopes = role_scopes(ctx, role)
    matrix_error = None
    if request.method == "POST":
        granted = set(request.POST.getall("permission"))
        scopes = {key: request.POST.get(SCOPE_FIELD + key, "") for key in scoped_keys}
        if form.validate():
            name = form.name.data if "name" in form else role.name
            default_scope = form.default_scope.data if "default_scope" in form else role.default_scope
            try:
                with request.dbsession.begin_nested():
                    update_role(ctx, role, name=name, description=form.description.data or "",
                                default_scope=default_scope)
                    if not is_admin:
                        set_role_permissions(ctx, role, granted)
                        for key in scoped_keys:
                            set_role_scope(ctx, role, key, scopes[key] or None)
            except KehuError as exc:
                matrix_error = exc.translation_string
            else:
                flash_done(request, _("Role “${name}” saved.", mapping={"name": role_label(request, role)}))
                return HTTPSeeOther(request.route_path("core.roles.edit", id=role.id))
        request.response.status = 400
    return {
        "role": role,
        "title": role_title(role),
        "form": form,
        "is_admin": is_admin,
        "matrix": matrix,
        "granted": granted,
        "scopes": scopes,
        "scope_titles": SCOPES,
        "scope_field": SCOPE_FIELD,
        "action_titles": ACTION_TITLES,
        "matrix_error": matrix_error,
        "users": request.dbsession.scalar(select(func.count()).select_from(UserRole)
                                          .where(UserRole.role_id == role.id)),
        "can_write": request.has_permission("core.role:write"),
        "page_title": _("Role"),
    }


def role_delete(request: Request) -> HTTPSeeOther:
    role = get_role_or_404(request)
    name = role.name
    try:
        with request.dbsession.begin_nested():
            delete_role(request.ctx, role)
    except KehuError as exc:
        request.session.flash(request.localizer.translate(exc.translation_string), "danger")
        return HTTPSeeOther(request.route_path("core.roles.edit", id=role.id))
    flash_done(request, _("Role “${name}” deleted.", mapping={"name": name}))
    return HTTPSeeOther(request.route_path("core.roles"))


def includeme(config: Configurator) -> None:
    """/admin/roles: list; new; a role's page with the permission matrix; delete."""
    read, write = "core.role:read", "core.role:write"
    config.add_route("core.roles", "/admin/roles")
    config.add_route("core.roles.new", "/admin/roles/new")
    config.add_route("core.roles.edit", r"/admin/roles/{id:\d{1,9}}")
    config.add_route("core.roles.delete", r"/admin/roles/{id:\d{1,9}}/delete")
    config.add_view(role_list, route_name="core.roles", renderer="core/admin/roles.jinja2", permission=read,
                    request_method="GET")
    config.add_view(role_new, route_name="core.roles.new", renderer="core/admin/role_new.jinja2", permission=write,
                    request_method=("GET", "POST"))
    # One page: reading it needs core.role:read, saving it core.role:write.
    config.add_view(role_edit, route_name="core.roles.edit", renderer="core/admin/role_edit.jinja2",
                    permission=read, request_method="GET")
    config.add_view(role_edit, route_name="core.roles.edit", renderer="core/admin/role_edit.jinja2",
                    permission=write, request_method="POST")
    config.add_view(role_delete, route_name="core.roles.delete", permission=write, request_method="POST")
