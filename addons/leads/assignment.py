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

import decimal
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from core.access.recycle import live
from core.context import Ctx
from core.customfields.services import values_for
from core.i18n import _
from core.models import Department, User
from core.notifications.services import notify

from .exceptions import RuleConditionInvalid, RuleNameRequired, RuleStrategyUnknown, RuleTargetMissing
from .models import OPEN_STATUSES, STRATEGIES, Lead, LeadAssignee, LeadMove, LeadRule
from .services import changed

ADMIN = "leads.pool:admin"
FIELDS = ("source", "industry", "level", "province", "city", "budget")
OPS = ("eq", "in", "gte", "lte")
DEFAULT_ZONE = "Asia/Shanghai"


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
        items = value if isinstance(value, list) else str(value).split(",")
        value = [str(v).strip() for v in items if str(v).strip()]
        if not value:
            raise RuleConditionInvalid(field=field)
    else:
        value = str(value or "").strip()
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
        lead.owner_id, lead.acquired_at = owner_id, ctx.now
        ctx.dbsession.add(LeadMove(lead_id=lead.id, pool_id=lead.pool_id, action="assigned",
                                   user_id=ctx.user.id if ctx.user else None, reason=rule.name, at=ctx.now))
        ctx.dbsession.flush()
        changed(ctx, "updated", lead, {"owner_id": (None, owner_id), "rule": (None, rule.name)})
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

