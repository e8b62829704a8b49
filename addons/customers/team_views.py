"""The customer page's team box: add a colleague (read-only or read-write, until a day) and
take them off again. Errors come back as a message on the customer page."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request
from sqlalchemy import select

from core.access.scopes import get_in_scope
from core.exceptions import KehuError
from core.i18n import _
from core.models import User
from core.web.forms import blank_form, flash_done

from . import team
from .forms import TeamForm
from .models import Customer


def team_box(request: Request, customer: Any, may_write: bool) -> dict[str, Any]:
    """What the detail page shows: the members, and the form for who may change the team."""
    ctx = request.ctx
    members = team.team_of(ctx, customer)
    form = None
    if may_write and customer.owner_id is not None:
        form = blank_form(TeamForm, request)
        form.user_id.choices = _colleagues(ctx, customer)
    return {"members": members, "form": form, "now": ctx.now}


def team_add(request: Request) -> Any:
    ctx = request.ctx
    customer_id = int(request.matchdict["id"])
    customer = get_in_scope(ctx, Customer, customer_id, "write")
    form = TeamForm.for_request(request)
    form.user_id.choices = _colleagues(ctx, customer)
    if not form.validate():
        for errors in form.errors.values():
            request.session.flash(request.localizer.translate(errors[0]), "danger")
            break
    else:
        try:
            with ctx.dbsession.begin_nested():
                team.add_team_member(ctx, customer_id, form.user_id.data, can_write=form.can_write.data,
                                     until=_end_of_day(form.until.data, getattr(ctx.user, "timezone", None)))
            flash_done(request, _("Team updated."))
        except KehuError as exc:
            request.session.flash(request.localizer.translate(exc.translation_string), "danger")
    return HTTPSeeOther(request.route_path("customers.detail", id=customer_id, _anchor="team"))


def team_remove(request: Request) -> Any:
    customer_id = int(request.matchdict["id"])
    if team.remove_team_member(request.ctx, customer_id, int(request.matchdict["user_id"])):
        flash_done(request, _("Team updated."))
    return HTTPSeeOther(request.route_path("customers.detail", id=customer_id, _anchor="team"))


def _colleagues(ctx: Any, customer: Any) -> list[tuple[int, str]]:
    rows = ctx.dbsession.execute(select(User.id, User.display_name, User.username)
                                 .where(User.active.is_(True), User.id != customer.owner_id)
                                 .order_by(User.display_name, User.username))
    return [(user_id, display or username) for user_id, display, username in rows]


def _end_of_day(day: dt.date | None, timezone: str | None) -> dt.datetime | None:
    """A membership "until" a day lasts through that day in the user's time zone."""
    if day is None:
        return None
    zone = ZoneInfo(timezone or "Asia/Shanghai")
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone).astimezone(dt.UTC)
