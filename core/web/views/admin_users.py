"""Users (X1): the list (search, department filter, keyset pages of 50), create, edit (name,
e-mail, department, post, roles), disable/enable, and a new password set by an administrator,
which ends the user's sessions. The services hold every rule (the last administrator stays)."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.request import Request
from sqlalchemy import or_, select
from wtforms import Field, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from core.access.exceptions import LastAdministrator
from core.access.roles import set_user_roles
from core.exceptions import KehuError
from core.i18n import _
from core.models import Department, Role, User
from core.org.exceptions import DepartmentDisabled, DepartmentNotFound
from core.users.exceptions import CommonPassword, InvalidUsername, UsernameTaken, WeakPassword
from core.users.services import check_password_policy, create_user, set_active, set_password, update_user
from core.web.forms import KehuForm, blank_form, flash_done, show_error
from core.web.views.admin_departments import department_choices
from core.web.views.admin_roles import role_label

PAGE_SIZE = 50
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"

ERROR_FIELDS: dict[type[KehuError], str] = {
    InvalidUsername: "username",
    UsernameTaken: "username",
    WeakPassword: "password",
    CommonPassword: "password",
    DepartmentDisabled: "department_id",
    DepartmentNotFound: "department_id",
    LastAdministrator: "roles",
}


def at_least_one_role(form: KehuForm, field: Field) -> None:
    if not field.data:
        raise ValidationError(_("Choose at least one role."))


class UserForm(KehuForm):
    display_name = StringField(_("Name"), validators=[DataRequired(), Length(max=128)])
    email = StringField(_("E-mail"), validators=[
        Optional(), Length(max=254), Regexp(EMAIL, message=_("Enter an e-mail address such as name@example.com."))])
    department_id = SelectField(_("Department"), coerce=int)
    post = StringField(_("Job title"), validators=[Length(max=64)])
    roles = SelectMultipleField(_("Roles"), coerce=int, validators=[at_least_one_role])


class NewUserForm(UserForm):
    username = StringField(_("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_("Password"), validators=[DataRequired(), Length(max=256)])


class PasswordForm(KehuForm):
    password = PasswordField(_("New password"), validators=[DataRequired(), Length(max=256)])


def all_roles(request: Request) -> list[Role]:
    return list(request.dbsession.scalars(select(Role).order_by(Role.builtin.desc(), Role.id)))


def fill_choices(request: Request, form: UserForm, roles: list[Role]) -> None:
    form.department_id.choices = department_choices(request)
    form.roles.choices = [(role.id, role_label(request, role)) for role in roles]


def int_param(request: Request, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() and len(value) <= 9 else None  # ids are 32-bit integers


def get_user_or_404(request: Request) -> User:
    user = request.dbsession.get(User, int(request.matchdict["id"]))
    if user is None:
        raise HTTPNotFound()
    return user


def user_list(request: Request) -> dict:
    """Users by id, 50 a page; "next" continues after the last id shown (keyset, no OFFSET)."""
    q = request.GET.get("q", "").strip()[:100]
    department_id = int_param(request, "department")
    after = int_param(request, "after")
    query = select(User).order_by(User.id).limit(PAGE_SIZE + 1)
    if q:
        query = query.where(or_(User.username.icontains(q, autoescape=True),
                                User.display_name.icontains(q, autoescape=True)))
    if department_id is not None:
        query = query.where(User.department_id == department_id)
    if after is not None:
        query = query.where(User.id > after)
    users = list(request.dbsession.scalars(query))
    filters = {key: value for key, value in (("q", q), ("department", department_id)) if value}
    next_url = None
    if len(users) > PAGE_SIZE:
        users = users[:PAGE_SIZE]
        next_url = request.route_path("core.users", _query={**filters, "after": users[-1].id})
    return {
        "users": users,
        "q": q,
        "department": request.dbsession.get(Department, department_id) if department_id else None,
        "next_url": next_url,
        "first_url": request.route_path("core.users", _query=filters) if after else None,
        "role_label": lambda role: role_label(request, role),
        "can_write": request.has_permission("core.user:write"),
        "page_title": _("Users"),
    }


def user_new(request: Request) -> dict | HTTPSeeOther:
    ctx = request.ctx
    roles = all_roles(request)
    default_role = [role.id for role in roles if role.key == "sales"]
    form = NewUserForm.for_request(request, department_id=int_param(request, "department"), roles=default_role)
    fill_choices(request, form, roles)
    if request.method == "POST":
        valid = form.validate()
        password_ok = password_acceptable(request, form)  # after validate(), which resets the errors
        if valid:
            keys = [role.key for role in roles if role.id in form.roles.data]
            try:
                with request.dbsession.begin_nested():
                    user = create_user(ctx, form.username.data, form.password.data,
                                       display_name=form.display_name.data, email=form.email.data or None,
                                       roles=keys, department_id=form.department_id.data, post=form.post.data or "")
            except KehuError as exc:
                if password_ok or ERROR_FIELDS.get(type(exc)) != "password":  # not twice
                    show_error(request, form, exc, ERROR_FIELDS)
            else:
                flash_done(request, _("User “${name}” created.", mapping={"name": user.label}))
                return HTTPSeeOther(request.route_path("core.users", _query={"q": user.username}))
        request.response.status = 400
    return {"form": form, "page_title": _("New user")}


def password_acceptable(request: Request, form: NewUserForm) -> bool:
    """The password policy's verdict beside the field, even when other fields are wrong too,
    so the reader fixes everything in one go (create_user checks it again)."""
    if not form.password.data:
        return True  # DataRequired says so
    try:
        check_password_policy(form.password.data, username=(form.username.data or "").strip())
    except KehuError as exc:
        show_error(request, form, exc, ERROR_FIELDS)
        return False
    return True


def edit_page(request: Request, user: User, *, form: UserForm | None = None,
              password_form: PasswordForm | None = None) -> dict:
    if form is None:
        form = blank_form(UserForm, request, **user_data(user))
        fill_choices(request, form, all_roles(request))
    return {
        "user": user,
        "form": form,
        "password_form": password_form or blank_form(PasswordForm, request),
        "is_self": user.id == request.user.id,
        "page_title": _("Edit user"),
    }


def user_data(user: User) -> dict[str, Any]:
    return {"display_name": user.display_name, "email": user.email or "", "department_id": user.department_id,
            "post": user.post, "roles": [role.id for role in user.roles]}


def user_edit(request: Request) -> dict | HTTPSeeOther:
    user = get_user_or_404(request)
    roles = all_roles(request)
    form = UserForm.for_request(request, **user_data(user))
    fill_choices(request, form, roles)
    if request.method == "POST" and form.validate():
        ctx = request.ctx
        try:
            with request.dbsession.begin_nested():
                update_user(ctx, user, display_name=form.display_name.data, email=form.email.data or None,
                            department_id=form.department_id.data, post=form.post.data or "")
                set_user_roles(ctx, user, [role for role in roles if role.id in form.roles.data])
        except KehuError as exc:
            show_error(request, form, exc, ERROR_FIELDS)
        else:
            flash_done(request, _("User “${name}” saved.", mapping={"name": user.label}))
            return HTTPSeeOther(request.route_path("core.users.edit", id=user.id))
    if request.method == "POST":
        request.response.status = 400
    return edit_page(request, user, form=form)


def user_password(request: Request) -> dict | HTTPSeeOther:
    user = get_user_or_404(request)
    password_form = PasswordForm.for_request(request)
    if password_form.validate():
        try:
            with request.dbsession.begin_nested():
                set_password(request.ctx, user, password_form.password.data)
        except KehuError as exc:
            show_error(request, password_form, exc, ERROR_FIELDS)
        else:
            flash_done(request, _("New password set for “${name}”; they are signed out everywhere.",
                                  mapping={"name": user.label}))
            return HTTPSeeOther(request.route_path("core.users.edit", id=user.id))
    request.response.status = 400
    return edit_page(request, user, password_form=password_form)


def user_set_active(request: Request) -> HTTPSeeOther:
    user = get_user_or_404(request)
    active = request.POST.get("active") == "1"
    try:
        with request.dbsession.begin_nested():
            set_active(request.ctx, user, active)
    except KehuError as exc:
        request.session.flash(request.localizer.translate(exc.translation_string), "danger")
    else:
        if active:
            flash_done(request, _("User “${name}” enabled.", mapping={"name": user.label}))
        else:
            flash_done(request, _("User “${name}” disabled and signed out everywhere.", mapping={"name": user.label}))
    return HTTPSeeOther(request.route_path("core.users.edit", id=user.id))


def includeme(config: Configurator) -> None:
    """/admin/users: list and search; new; edit, password, enable/disable."""
    read, write = "core.user:read", "core.user:write"
    config.add_route("core.users", "/admin/users")
    config.add_route("core.users.new", "/admin/users/new")
    config.add_route("core.users.edit", r"/admin/users/{id:\d{1,9}}")
    config.add_route("core.users.password", r"/admin/users/{id:\d{1,9}}/password")
    config.add_route("core.users.active", r"/admin/users/{id:\d{1,9}}/active")
    config.add_view(user_list, route_name="core.users", renderer="core/admin/users.jinja2", permission=read,
                    request_method="GET")
    config.add_view(user_new, route_name="core.users.new", renderer="core/admin/user_new.jinja2", permission=write,
                    request_method=("GET", "POST"))
    config.add_view(user_edit, route_name="core.users.edit", renderer="core/admin/user_edit.jinja2",
                    permission=write, request_method=("GET", "POST"))
    config.add_view(user_password, route_name="core.users.password", renderer="core/admin/user_edit.jinja2",
                    permission=write, request_method="POST")
    config.add_view(user_set_active, route_name="core.users.active", permission=write, request_method="POST")
