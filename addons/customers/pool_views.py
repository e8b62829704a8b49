"""公海 pages beyond claim and return: a pool's rules, members and per-level days (admin), its
history (its managers), 锁定 / 解锁 and 分配 / 转移 from the customer page."""

from __future__ import annotations

import re
from typing import Any

from pyramid.httpexceptions import HTTPForbidden, HTTPSeeOther
from pyramid.request import Request
from sqlalchemy import select
from sqlalchemy.orm import lazyload

from core.access.scopes import get_in_scope
from core.exceptions import KehuError
from core.i18n import _
from core.lists.views import active_users
from core.models import User
from core.org.services import department_tree
from core.web.forms import blank_form, flash_done, save_form

from . import TEMPLATES, choices, exceptions, pool, pool_assign, pool_lock, pool_members, pool_rules, services
from .forms import AssignForm, PoolForm
from .models import Customer, Pool, PoolMove

RULE_FIELD = re.compile(r"^rule_(followup|deal)_(.{1,20})$")


# ---------------------------------------------------------------- admin: a pool's rules and members


def pool_edit(request: Request) -> Any:
    """Create (no id) or change a pool: its rules, members and managers, days per level — one
    save; any refusal writes nothing."""
    ctx = request.ctx
    pool_id = int(request.matchdict["id"]) if "id" in request.matchdict else None
    record = ctx.dbsession.get(Pool, pool_id) if pool_id is not None else None
    if pool_id is not None and record is None:
        raise exceptions.PoolUnavailable()
    form = PoolForm.for_request(request, obj=record) if record is not None else PoolForm.for_request(request)
    members = pool_members.members_of(ctx, pool_id) if pool_id is not None else {}
    if request.method != "POST":
        if record is not None:
            form.department_id.data = record.department_id or 0
        form.managers.data = members.get("managers", [])
        form.member_users.data = members.get("users", [])
        form.member_departments.data = members.get("departments", [])
    departments = [(d.id, d.name) for d in department_tree(ctx)]
    users = active_users(ctx)
    form.department_id.choices = [(0, request.localizer.translate(_("Company-wide"))), *departments]
    form.managers.choices = form.member_users.choices = users
    form.member_departments.choices = departments
    levels = choices.options(ctx, "level")
    rules = _posted_rules(request) if request.method == "POST" else {
        level: (rule.days_without_followup, rule.days_without_deal)
        for level, rule in pool_rules.rules_by_pool(ctx, [pool_id] if pool_id else []).get(pool_id or 0, {}).items()}

    def save() -> Pool:
        saved = pool.save_pool(ctx, pool_id, **form.values())
        pool_members.set_members(ctx, saved.id, managers=form.managers.data or [],
                                 users=form.member_users.data or [], departments=form.member_departments.data or [])
        pool_rules.save_level_rules(ctx, saved.id, rules)
        return saved

    saved = save_form(request, form, save)
    if saved is not None:
        flash_done(request, _("Saved."))
        return HTTPSeeOther(request.route_path("customers.pools"))
    return {"form": form, "pool": record, "levels": levels, "rules": rules,
            "page_title": record.name if record else request.localizer.translate(_("New pool"))}


def _posted_rules(request: Request) -> dict[str, tuple[str, str]]:
    """``rule_followup_A`` / ``rule_deal_A`` → ``{"A": (followup, deal)}`` (the service checks them)."""
    out: dict[str, list[str]] = {}
    for name, value in request.POST.items():
        match = RULE_FIELD.match(name)
        if match:
            days = out.setdefault(match.group(2), ["", ""])
            days[0 if match.group(1) == "followup" else 1] = value
    return {level: (days[0], days[1]) for level, days in out.items()}


def pool_history(request: Request) -> dict[str, Any]:
    """A pool's moves, newest first: its managers and pool admins only."""
    ctx = request.ctx
    record = ctx.dbsession.get(Pool, int(request.matchdict["id"]))
    if record is None:
        raise exceptions.PoolUnavailable()
    if not pool_members.manages(ctx, record.id):
        raise exceptions.NotPoolManager(pool=record.name)
    moves = list(ctx.dbsession.scalars(select(PoolMove).where(PoolMove.pool_id == record.id)
                                       .order_by(PoolMove.at.desc(), PoolMove.id.desc()).limit(200)))
    customers = dict(ctx.dbsession.execute(select(Customer.id, Customer.name).where(
        Customer.id.in_({m.customer_id for m in moves}))).all()) if moves else {}
    people = {m.user_id for m in moves} | {m.previous_owner_id for m in moves} | {m.assignee_id for m in moves}
    users = {u.id: u.label for u in ctx.dbsession.scalars(select(User).where(User.id.in_(people - {None}))
                                                          .options(lazyload(User.roles))).unique()} if moves else {}
    from .views import MOVES

    reasons = {move.id: request.localizer.translate(reason) for move in moves
               if (reason := pool.move_reason(move)) is not None}  # followup:30 → "30 天未跟进"
    return {"pool": record, "moves": moves, "customers": customers, "users": users, "labels": MOVES,
            "reasons": reasons, "page_title": record.name}


# ---------------------------------------------------------------- the customer page


def detail_extras(request: Request, customer: Customer) -> dict[str, Any]:
    """What the customer page needs for the lock and assign buttons; the assign form itself
    (every active colleague in a select) comes from ``assign_form`` when the user opens it."""
    ctx = request.ctx
    may_write = customer.owner_id is not None and ctx.access.can("customers.customer:write")
    return {"may_lock": may_write, "may_assign": _may_assign(ctx, customer)}


def _may_assign(ctx: Any, customer: Customer) -> bool:
    if customer.owner_id is None:
        return customer.pool_id is not None and pool_members.manages(ctx, customer.pool_id)
    return ctx.access.can("customers.customer:write")


def assign_form(request: Request) -> Any:
    """The 分配 / 转移 form: into the customer page's card (htmx), or as a page of its own."""
    ctx = request.ctx
    customer = pool.get_customer(ctx, int(request.matchdict["id"]))
    if customer.owner_id is not None:
        get_in_scope(ctx, Customer, customer.id, "write")
    if not _may_assign(ctx, customer):
        raise HTTPForbidden()
    form = blank_form(AssignForm, request)
    form.owner_id.choices = _assign_choices(request, customer)
    if request.headers.get("HX-Request"):
        request.override_renderer = TEMPLATES + "assign_form.jinja2"
    return {"customer": customer, "assign_form": form, "page_title": customer.name}


def _assign_choices(request: Request, customer: Customer) -> list[tuple[Any, Any]]:
    ctx = request.ctx
    if customer.owner_id is None:
        return pool_assign.assignee_choices(ctx)
    return [(i, label) for i, label in active_users(ctx) if i != customer.owner_id]


def customer_assign(request: Request) -> Any:
    """分配 (a pool customer, by its pool's manager) or 转移 (an owned one, by whoever may change
    it): back to the customer page, a refusal in the flash."""
    ctx = request.ctx
    customer = pool.get_customer(ctx, int(request.matchdict["id"]))
    form = AssignForm.for_request(request)
    form.owner_id.choices = _assign_choices(request, customer)
    back = HTTPSeeOther(request.route_path("customers.detail", id=customer.id))
    if not form.validate():
        request.session.flash(request.localizer.translate(exceptions.AssigneeInactive().translation_string), "danger")
        return back
    try:
        with request.dbsession.begin_nested():
            if customer.owner_id is None:
                pool_assign.assign_from_pool(ctx, [customer.id], form.owner_id.data)
            else:
                _transfer(ctx, customer, form.owner_id.data)
    except KehuError as refused:
        request.session.flash(request.localizer.translate(refused.translation_string), "danger")
        return back
    flash_done(request, _("Assigned."))
    return back


def _transfer(ctx: Any, customer: Customer, owner_id: int) -> None:
    """转移 of an owned customer; its contacts follow (D-OWN).

    TODO(plans): also hand over the customer's open follow-up plans once ``plans`` offers a
    service for it."""
    get_in_scope(ctx, Customer, customer.id, "write")
    target = ctx.dbsession.get(User, owner_id)
    if target is None or not target.active:
        raise exceptions.AssigneeInactive()
    services.assign_customers(ctx, [customer.id], owner_id)


def customer_lock(request: Request) -> Any:
    """锁定 / 解锁 (``customers.lock`` / ``customers.unlock``): back to the customer page."""
    ctx = request.ctx
    customer_id = int(request.matchdict["id"])
    locking = request.matched_route.name == "customers.lock"
    try:
        with request.dbsession.begin_nested():
            (pool_lock.lock_customer if locking else pool_lock.unlock_customer)(ctx, customer_id)
    except KehuError as refused:
        request.session.flash(request.localizer.translate(refused.translation_string), "danger")
    else:
        flash_done(request, _("Locked: it does not go back to the pool by itself.") if locking
                   else _("Unlocked."))
    return HTTPSeeOther(request.route_path("customers.detail", id=customer_id))
