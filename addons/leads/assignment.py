"""Automatic assignment (L3): administrators' rules, tried by priority, give a new lead an owner.

A rule's conditions look at the lead (source, industry, level, province, city, budget, custom
fields); its strategy picks the owner — a named user, or one of a department's people (and the
departments below): round robin, fewest open leads, or weighted by experience (open leads ÷
weight, lowest first). People on leave or outside their working hours (``LeadAssignee``) are
skipped; a rule that finds nobody lets the next rule try, and a lead no rule takes stays in its
pool. Round robin locks its rule's row while it picks, so concurrent creates take turns fairly.
Every assignment is audited and notified with the rule that fired.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import lazyload

from core.access.exceptions import RecordNotFound
from core.access.recycle import live
from core.context import Ctx
from core.customfields.services import values_for
from core.i18n import _
from core.models import ADMIN_ROLE, Department, Role, RolePermission, User, UserRole
from core.notifications.services import notify

from .exceptions import (
    AssigneeAwayInvalid,
    AssigneeHoursInvalid,
    AssigneeWeightInvalid,
    RuleConditionInvalid,
    RuleNameRequired,
    RuleStrategyUnknown,
    RuleTargetMissing,
)
from .models import OPEN_STATUSES, STRATEGIES, Lead, LeadAssignee, LeadMove, LeadRule
from .plans import announce, plan_state
from .services import changed

ADMIN = "leads.pool:admin"
FIELDS = ("source", "industry", "level", "province", "city", "budget")
OPS = ("eq", "in", "gte", "lte")
DEFAULT_ZONE = "Asia/Shanghai"
#: Who may receive leads: whoever may create them.
RECEIVER = "leads.lead:create"
WEIGHTS = (1, 10)
#: "is one of" values are separated by commas (half or full width), 、 or semicolons.
SEPARATORS = re.compile(r"[,，、;；]")


# ---------------------------------------------------------------- rules


def save_rule(ctx: Ctx, rule_id: int | None = None, *, name: str, strategy: str,
              conditions: Sequence[Mapping[str, Any]] = (), priority: int = 100, user_id: int | None = None,
              department_id: int | None = None, active: bool = True) -> LeadRule:
    """Create or change a rule (``leads.pool:admin``); everything is checked before a write."""
    ctx.access.require(ADMIN)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise RuleNameRequired()
    if strategy not in STRATEGIES:
        raise RuleStrategyUnknown(strategy=strategy or "—")
    if strategy == "user":
        user = ctx.dbsession.get(User, user_id) if user_id else None
        if user is None or not user.active:
            raise RuleTargetMissing()
        department_id = None
    else:
        if department_id is None or ctx.dbsession.get(Department, department_id) is None:
            raise RuleTargetMissing()
        user_id = None
    clean = [_condition(item) for item in conditions]
    rule = LeadRule(last_user_id=None) if rule_id is None else ctx.dbsession.get(LeadRule, rule_id)
    if rule is None:
        raise RuleTargetMissing()
    values = {"name": name, "strategy": strategy, "conditions": clean, "priority": int(priority),
              "user_id": user_id, "department_id": department_id, "active": bool(active)}
    changes = {field: (getattr(rule, field, None) if rule_id is not None else None, value)
               for field, value in values.items() if rule_id is None or getattr(rule, field) != value}
    for field, (_before, after) in changes.items():
        setattr(rule, field, after)
    if rule_id is None:
        ctx.dbsession.add(rule)
    ctx.dbsession.flush()
    if changes:
        changed(ctx, "created" if rule_id is None else "updated", rule, changes)
    return rule


def rules_in_order(ctx: Ctx) -> list[LeadRule]:
    """Every rule as ``assign_by_rules`` tries them: by priority, then by age (``leads.pool:admin``)."""
    ctx.access.require(ADMIN)
    return list(ctx.dbsession.scalars(select(LeadRule).order_by(LeadRule.priority, LeadRule.id)))


def get_rule(ctx: Ctx, rule_id: int) -> LeadRule:
    """A rule to change, preview or delete (``leads.pool:admin``); RecordNotFound if none."""
    ctx.access.require(ADMIN)
    rule = ctx.dbsession.get(LeadRule, rule_id)
    if rule is None:
        raise RecordNotFound()
    return rule


def delete_rule(ctx: Ctx, rule_id: int) -> None:
    """Remove a rule for good (``leads.pool:admin``); the audit keeps what it was. Leads it
    assigned keep their owner (their audit names the rule)."""
    rule = get_rule(ctx, rule_id)
    before = {"name": rule.name, "priority": rule.priority, "strategy": rule.strategy, "conditions": rule.conditions,
              "user_id": rule.user_id, "department_id": rule.department_id, "active": rule.active}
    changed(ctx, "deleted", rule, {field: (value, None) for field, value in before.items()})
    ctx.dbsession.delete(rule)
    ctx.dbsession.flush()


def _condition(item: Mapping[str, Any]) -> dict[str, Any]:
    field, op, value = item.get("field"), item.get("op"), item.get("value")
    known = field in FIELDS or (isinstance(field, str) and field.startswith("cf_") and field[3:].isdigit())
    if not known or op not in OPS:
        raise RuleConditionInvalid(field=field or "—")
    if op in ("gte", "lte"):
        try:
            value = str(decimal.Decimal(str(value)))
        except decimal.InvalidOperation:
            raise RuleConditionInvalid(field=field) from None
    elif op == "in":
        items = value if isinstance(value, list) else SEPARATORS.split(str(value or ""))
        value = [str(v).strip() for v in items if str(v).strip()]
        if not value:
            raise RuleConditionInvalid(field=field)
    else:
        value = str(value or "").strip()
        if not value:  # "source is (nothing)" would never match
            raise RuleConditionInvalid(field=field)
    return {"field": field, "op": op, "value": value}


def matches(rule: LeadRule, values: Mapping[str, Any]) -> bool:
    """Do the lead's ``values`` (its fields and custom values by name) meet every condition?"""
    for condition in rule.conditions or ():
        actual, op, wanted = values.get(condition["field"]), condition["op"], condition["value"]
        if actual is None or actual == "":
            return False
        if op == "eq" and str(actual) != wanted:
            return False
        if op == "in" and str(actual) not in wanted:
            return False
        if op in ("gte", "lte"):
            try:
                number = decimal.Decimal(str(actual))
            except decimal.InvalidOperation:
                return False
            if (op == "gte" and number < decimal.Decimal(wanted)) or (op == "lte" and number > decimal.Decimal(wanted)):
                return False
    return True


def lead_values(ctx: Ctx, lead: Lead) -> dict[str, Any]:
    values: dict[str, Any] = {field: getattr(lead, field) for field in FIELDS}
    values.update(values_for(ctx, Lead, [lead.id]).get(lead.id, {}))
    return values


# ---------------------------------------------------------------- picking


def available(ctx: Ctx, rule: LeadRule) -> list[User]:
    """The people a team rule may pick now: active, in the department or below, not on leave,
    within their working hours (in their own time zone), by id."""
    department = ctx.dbsession.get(Department, rule.department_id)
    if department is None:
        return []
    users = ctx.dbsession.scalars(
        select(User).join(Department, Department.id == User.department_id)
        .where(User.active.is_(True), Department.path.startswith(department.path, autoescape=True))
        .order_by(User.id)).all()
    settings = {row.user_id: row for row in ctx.dbsession.scalars(
        select(LeadAssignee).where(LeadAssignee.user_id.in_([user.id for user in users])))}
    return [user for user in users if _present(ctx, user, settings.get(user.id))]


def _present(ctx: Ctx, user: User, setting: LeadAssignee | None) -> bool:
    if setting is None:
        return True
    local = ctx.now.astimezone(ZoneInfo(user.timezone or DEFAULT_ZONE))
    if setting.away_until is not None and local.date() <= setting.away_until:
        return False
    if setting.work_start is not None and setting.work_end is not None:
        return setting.work_start <= local.time() < setting.work_end
    return True


def pick(ctx: Ctx, rule: LeadRule) -> int | None:
    """The owner the rule gives the next lead, or None (nobody available)."""
    if rule.strategy == "user":
        user = ctx.dbsession.get(User, rule.user_id) if rule.user_id else None
        setting = ctx.dbsession.scalar(select(LeadAssignee).where(LeadAssignee.user_id == rule.user_id))
        return user.id if user is not None and user.active and _present(ctx, user, setting) else None
    if rule.strategy == "round_robin":  # take turns: lock the cursor until this transaction ends
        ctx.dbsession.execute(select(LeadRule.id).where(LeadRule.id == rule.id).with_for_update())
        ctx.dbsession.refresh(rule, ["last_user_id"])
    people = available(ctx, rule)
    if not people:
        return None
    if rule.strategy == "round_robin":
        after = [user for user in people if rule.last_user_id is not None and user.id > rule.last_user_id]
        chosen = (after or people)[0].id
        rule.last_user_id = chosen
        return chosen
    load = _open_leads(ctx, [user.id for user in people])
    if rule.strategy == "least_loaded":
        return min(people, key=lambda user: (load.get(user.id, 0), user.id)).id
    weights = {row.user_id: max(1, row.weight) for row in ctx.dbsession.scalars(
        select(LeadAssignee).where(LeadAssignee.user_id.in_([user.id for user in people])))}
    return min(people, key=lambda user: (load.get(user.id, 0) / weights.get(user.id, 1), user.id)).id


def _open_leads(ctx: Ctx, user_ids: list[int]) -> dict[int, int]:
    return dict(ctx.dbsession.execute(
        select(Lead.owner_id, func.count()).where(Lead.owner_id.in_(user_ids), Lead.status.in_(OPEN_STATUSES),
                                                  live(Lead)).group_by(Lead.owner_id)).all())


# ---------------------------------------------------------------- applying


def assign_by_rules(ctx: Ctx, lead: Lead) -> LeadRule | None:
    """Give ``lead`` (without an owner) the owner of the first rule that matches and finds
    someone; return that rule, or None (the lead stays in its pool)."""
    values = lead_values(ctx, lead)
    rules = ctx.dbsession.scalars(select(LeadRule).where(LeadRule.active.is_(True))
                                  .order_by(LeadRule.priority, LeadRule.id)).all()
    for rule in rules:
        if not matches(rule, values):
            continue
        owner_id = pick(ctx, rule)
        if owner_id is None:
            continue
        before = plan_state(lead)
        lead.owner_id, lead.acquired_at = owner_id, ctx.now
        ctx.dbsession.add(LeadMove(lead_id=lead.id, pool_id=lead.pool_id, action="assigned",
                                   user_id=ctx.user.id if ctx.user else None, reason=rule.name, at=ctx.now))
        ctx.dbsession.flush()
        changed(ctx, "updated", lead, {"owner_id": (None, owner_id), "rule": (None, rule.name)})
        announce(ctx, lead, before)
        notify(ctx, [owner_id], "leads.assigned", lead,
               _("“${name}” is yours, by the rule “${rule}”.", mapping={"name": lead.name, "rule": rule.name}),
               url=f"/leads/{lead.id}")
        return rule
    return None


def apply_rules(ctx: Ctx, lead_ids: Iterable[int]) -> int:
    """The batch action: run the rules over pool leads (no owner); returns how many got one."""
    ctx.access.require(ADMIN)
    leads = ctx.dbsession.scalars(select(Lead).where(Lead.id.in_(list(lead_ids)), Lead.owner_id.is_(None),
                                                     live(Lead)).order_by(Lead.id)).all()
    return sum(1 for lead in leads if assign_by_rules(ctx, lead) is not None)


def preview(ctx: Ctx, rule: LeadRule, sample: Mapping[str, Any]) -> tuple[bool, int | None]:
    """"Test this rule against a sample lead": does it match, and whom would it pick now? Picks
    without moving the round robin's cursor."""
    ctx.access.require(ADMIN)
    if not matches(rule, sample):
        return False, None
    cursor = rule.last_user_id
    try:
        with ctx.dbsession.no_autoflush:
            chosen = pick(ctx, rule)
    finally:
        rule.last_user_id = cursor
    return True, chosen



# ---------------------------------------------------------------- the people who receive leads


def assignable_users(ctx: Ctx) -> list[User]:
    """The active people who may receive leads (they hold ``leads.lead:create``; administrators
    hold every permission), by user name, in one query (``leads.pool:admin``)."""
    ctx.access.require(ADMIN)
    granted = select(RolePermission.role_id).where(RolePermission.permission == RECEIVER)
    holders = (select(UserRole.user_id).join(Role, Role.id == UserRole.role_id)
               .where(or_(Role.key == ADMIN_ROLE, Role.id.in_(granted))))
    return list(ctx.dbsession.scalars(select(User).where(User.active.is_(True), User.id.in_(holders))
                                      .options(lazyload(User.roles)).order_by(User.username, User.id)))


def assignee_settings(ctx: Ctx, user_ids: Iterable[int]) -> dict[int, LeadAssignee]:
    """``{user_id: LeadAssignee}`` of those who have settings (one query; ``leads.pool:admin``)."""
    ctx.access.require(ADMIN)
    ids = list(user_ids)
    if not ids:
        return {}
    return {row.user_id: row for row in ctx.dbsession.scalars(select(LeadAssignee).where(
        LeadAssignee.user_id.in_(ids)))}


def save_assignee(ctx: Ctx, user_id: int, *, away_until: dt.date | str | None = None, weight: Any = 1,
                  work_start: dt.time | str | None = None, work_end: dt.time | str | None = None) -> LeadAssignee:
    """A person's assignment settings (``leads.pool:admin``): on leave until a day (inclusive),
    a weight from 1 to 10 (the weighted strategy gives more to a heavier one), working hours in
    their own time zone — both or neither, within one day. Everything is checked before a
    write; audited."""
    ctx.access.require(ADMIN)
    user = ctx.dbsession.get(User, user_id)
    if user is None:
        raise RecordNotFound()
    try:
        weight = int(weight)
    except (TypeError, ValueError):
        raise AssigneeWeightInvalid() from None
    if not WEIGHTS[0] <= weight <= WEIGHTS[1]:
        raise AssigneeWeightInvalid()
    away = _date(away_until)
    start, end = _time(work_start), _time(work_end)
    if (start is None) != (end is None) or (start is not None and end is not None and end <= start):
        raise AssigneeHoursInvalid()
    setting = ctx.dbsession.scalar(select(LeadAssignee).where(LeadAssignee.user_id == user.id))
    values = {"away_until": away, "weight": weight, "work_start": start, "work_end": end}
    creating = setting is None
    if setting is None:
        setting = LeadAssignee(user_id=user.id)
    changes = {field: (None if creating else getattr(setting, field), value) for field, value in values.items()
               if creating or getattr(setting, field) != value}
    for field, (_before, after) in changes.items():
        setattr(setting, field, after)
    if creating:
        ctx.dbsession.add(setting)
    ctx.dbsession.flush()
    if changes:
        changes = {field: tuple(v.strftime("%H:%M") if isinstance(v, dt.time) else v for v in pair)
                   for field, pair in changes.items()}
        if creating:
            changes["user_id"] = (None, user.id)
        changed(ctx, "created" if creating else "updated", setting, changes)
    return setting


def _date(value: dt.date | str | None) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise AssigneeAwayInvalid() from None


def _time(value: dt.time | str | None) -> dt.time | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    try:
        return dt.time.fromisoformat(str(value).strip()).replace(second=0, microsecond=0, tzinfo=None)
    except ValueError:
        raise AssigneeHoursInvalid() from None
