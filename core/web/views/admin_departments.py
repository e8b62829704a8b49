"""Departments (X1): the tree with member counts, create, rename, move, disable, delete.

Every rule (no cycle, no deleting a department that has members, one name per level) is the
service's; this page parses the forms and shows a refusal beside its field, or as a message,
in the reader's language. A refused change runs in a savepoint rolled back whole.
"""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.request import Request
from sqlalchemy import or_, select
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from core.exceptions import KehuError
from core.i18n import _
from core.models import Department, User
from core.org import services as org
from core.org.exceptions import (
    DepartmentCycle,
    DepartmentDisabled,
    DepartmentNameRequired,
    DepartmentNameTaken,
    DepartmentNotFound,
)
from core.web.forms import KehuForm, blank_form, flash_done, show_error

#: Which form field shows which refusal of the services (others become a message on top).
ERROR_FIELDS: dict[type[KehuError], str] = {
    DepartmentNameTaken: "name",
    DepartmentNameRequired: "name",
    DepartmentDisabled: "parent_id",
    DepartmentCycle: "parent_id",
    DepartmentNotFound: "parent_id",
}
INDENT = "\u3000"  # one ideographic space per level: browsers keep it in <option> labels


def optional_id(value: Any) -> int | None:
    """``""`` (the "nobody" option) is None, anything else an id."""
    return None if value in (None, "") else int(value)


class DepartmentEditForm(KehuForm):
    name = StringField(_("Name"), validators=[DataRequired(), Length(max=100)])
    manager_id = SelectField(_("Manager"), coerce=optional_id)
    sort = IntegerField(_("Sort order"), default=0, validators=[Optional(), NumberRange(min=-9999, max=9999)])


class DepartmentCreateForm(KehuForm):
    name = StringField(_("Name"), validators=[DataRequired(), Length(max=100)])
    parent_id = SelectField(_("Parent department"), coerce=int)
    manager_id = SelectField(_("Manager"), coerce=optional_id)


class DepartmentMoveForm(KehuForm):
    parent_id = SelectField(_("New parent department"), coerce=int)


def department_choices(request: Request, *, moving: Department | None = None) -> list[tuple]:
    """Every department in tree order, indented. Disabled ones, and (when moving) the
    department itself and its sub-departments, are shown but cannot be picked; a forged
    choice still meets the service's refusal."""
    choices = []
    translate = request.localizer.translate
    for department in org.department_tree(request.ctx):
        label = INDENT * department.depth + department.name
        blocked = moving is not None and department.path.startswith(moving.path)
        if not department.active:
            label += " " + translate(_("(disabled)"))
        choices.append((department.id, label, {"disabled": True} if blocked or not department.active else {}))
    return choices


def manager_choices(request: Request, current: int | None = None) -> list[tuple]:
    """Active users (and the current manager, even if disabled), by name."""
    users = request.dbsession.scalars(
        select(User).where(or_(User.active.is_(True), User.id == current)).order_by(User.display_name, User.username)
    )
    nobody = request.localizer.translate(_("— nobody —"))
    return [("", nobody)] + [(user.id, f"{user.label} ({user.username})") for user in users]


def get_department_or_404(request: Request) -> Department:
    try:
        return org.get_department(request.ctx, int(request.matchdict["id"]))
    except DepartmentNotFound:
        raise HTTPNotFound() from None


def department_list(request: Request) -> dict:
    ctx = request.ctx
    departments = org.department_tree(ctx)
    return {
        "departments": departments,
        "counts": org.member_counts(ctx),
        "can_write": request.has_permission("core.department:write"),
        "page_title": _("Departments"),
    }


def department_new(request: Request) -> dict | HTTPSeeOther:
    ctx = request.ctx
    parent = request.GET.get("parent", "")
    form = DepartmentCreateForm.for_request(request, parent_id=int(parent) if parent.isdigit() and len(parent) <= 9
                                            else org.root_department(ctx).id)
    form.parent_id.choices = department_choices(request)
    form.manager_id.choices = manager_choices(request)
    if request.method == "POST" and form.validate():
        try:
            with request.dbsession.begin_nested():
                department = org.create_department(ctx, form.name.data, form.parent_id.data,
                                                   manager_id=form.manager_id.data)
        except KehuError as exc:
            show_error(request, form, exc, ERROR_FIELDS)
        else:
            flash_done(request, _("Department “${name}” created.", mapping={"name": department.name}))
            return HTTPSeeOther(request.route_path("core.departments"))
    if request.method == "POST":
        request.response.status = 400
    return {"form": form, "page_title": _("New department")}


def edit_page(request: Request, department: Department, *, form: KehuForm | None = None,
              move_form: KehuForm | None = None) -> dict:
    """The edit page's values; the edit and move views fill in the form that was sent."""
    if form is None:
        form = blank_form(DepartmentEditForm, request, obj=department)
        form.manager_id.choices = manager_choices(request, department.manager_id)
    is_root = department.parent_id is None
    if move_form is None and not is_root:
        move_form = blank_form(DepartmentMoveForm, request, parent_id=department.parent_id)
        move_form.parent_id.choices = department_choices(request, moving=department)
    return {
        "department": department,
        "form": form,
        "move_form": move_form,
        "is_root": is_root,
        "members": org.member_counts(request.ctx).get(department.id, 0),
        "page_title": _("Edit department"),
    }


def department_edit(request: Request) -> dict | HTTPSeeOther:
    department = get_department_or_404(request)
    form = DepartmentEditForm.for_request(request, obj=department)
    form.manager_id.choices = manager_choices(request, department.manager_id)
    if request.method == "POST" and form.validate():
        try:
            with request.dbsession.begin_nested():
                org.update_department(request.ctx, department, name=form.name.data,
                                      manager_id=form.manager_id.data, sort=form.sort.data or 0)
        except KehuError as exc:
            show_error(request, form, exc, ERROR_FIELDS)
        else:
            flash_done(request, _("Department “${name}” saved.", mapping={"name": department.name}))
            return HTTPSeeOther(request.route_path("core.departments"))
    if request.method == "POST":
        request.response.status = 400
    return edit_page(request, department, form=form)


def department_move(request: Request) -> dict | HTTPSeeOther:
    department = get_department_or_404(request)
    move_form = DepartmentMoveForm.for_request(request)
    move_form.parent_id.choices = department_choices(request, moving=department)
    if move_form.validate():
        try:
            with request.dbsession.begin_nested():
                org.move_department(request.ctx, department, move_form.parent_id.data)
        except KehuError as exc:
            show_error(request, move_form, exc, ERROR_FIELDS)
        else:
            flash_done(request, _("Department “${name}” moved.", mapping={"name": department.name}))
            return HTTPSeeOther(request.route_path("core.departments"))
    request.response.status = 400
    return edit_page(request, department, move_form=move_form)


def department_set_active(request: Request) -> HTTPSeeOther:
    department = get_department_or_404(request)
    active = request.POST.get("active") == "1"
    try:
        with request.dbsession.begin_nested():
            org.set_department_active(request.ctx, department, active)
    except KehuError as exc:
        request.session.flash(request.localizer.translate(exc.translation_string), "danger")
        return HTTPSeeOther(request.route_path("core.departments.edit", id=department.id))
    if active:
        flash_done(request, _("Department “${name}” enabled.", mapping={"name": department.name}))
    else:
        flash_done(request, _("Department “${name}” disabled.", mapping={"name": department.name}))
    return HTTPSeeOther(request.route_path("core.departments"))


def department_delete(request: Request) -> HTTPSeeOther:
    department = get_department_or_404(request)
    name = department.name
    try:
        with request.dbsession.begin_nested():
            org.delete_department(request.ctx, department)
    except KehuError as exc:
        request.session.flash(request.localizer.translate(exc.translation_string), "danger")
        return HTTPSeeOther(request.route_path("core.departments.edit", id=department.id))
    flash_done(request, _("Department “${name}” deleted.", mapping={"name": name}))
    return HTTPSeeOther(request.route_path("core.departments"))


def includeme(config: Configurator) -> None:
    """/admin/departments: the tree; new; edit, move, enable/disable, delete."""
    read, write = "core.department:read", "core.department:write"
    config.add_route("core.departments", "/admin/departments")
    config.add_route("core.departments.new", "/admin/departments/new")
    config.add_route("core.departments.edit", r"/admin/departments/{id:\d{1,9}}")
    config.add_route("core.departments.move", r"/admin/departments/{id:\d{1,9}}/move")
    config.add_route("core.departments.active", r"/admin/departments/{id:\d{1,9}}/active")
    config.add_route("core.departments.delete", r"/admin/departments/{id:\d{1,9}}/delete")
    config.add_view(department_list, route_name="core.departments", renderer="core/admin/departments.jinja2",
                    permission=read, request_method="GET")
    config.add_view(department_new, route_name="core.departments.new", renderer="core/admin/department_new.jinja2",
                    permission=write, request_method=("GET", "POST"))
    config.add_view(department_edit, route_name="core.departments.edit",
                    renderer="core/admin/department_edit.jinja2", permission=write, request_method=("GET", "POST"))
    config.add_view(department_move, route_name="core.departments.move",
                    renderer="core/admin/department_edit.jinja2", permission=write, request_method="POST")
    config.add_view(department_set_active, route_name="core.departments.active", permission=write,
                    request_method="POST")
    config.add_view(department_delete, route_name="core.departments.delete", permission=write,
                    request_method="POST")
