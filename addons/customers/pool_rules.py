"""The automatic return's days per customer level (D-RETURN): a pool may recall its A customers
after 15 days without follow-up and its D customers after 60. A level without a rule, or a
blank value in it, takes the pool's own days."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select

from core.context import Ctx
from core.contributions import RecordChange

from . import choices
from .exceptions import PoolLevelUnknown, PoolRuleInvalid
from .models import Customer, Pool, PoolRule

MAX_DAYS = 3650


def rules_by_pool(ctx: Ctx, pool_ids: Iterable[int]) -> dict[int, dict[str, PoolRule]]:
    """``{pool_id: {level: rule}}`` for the pools, in one query."""
    out: dict[int, dict[str, PoolRule]] = {}
    ids = list(pool_ids)
    if not ids:
        return out
    for rule in ctx.dbsession.scalars(select(PoolRule).where(PoolRule.pool_id.in_(ids))):
        out.setdefault(rule.pool_id, {})[rule.level] = rule
    return out


def days_for(pool: Pool, customer: Customer, rules: Mapping[str, PoolRule] | None = None
             ) -> tuple[int | None, int | None]:
    """``(days without follow-up, days without a deal)`` that apply to the customer."""
    rule = (rules or {}).get(customer.level or "")
    followup = rule.days_without_followup if rule and rule.days_without_followup is not None \
        else pool.return_after_days_without_followup
    deal = rule.days_without_deal if rule and rule.days_without_deal is not None \
        else pool.return_after_days_without_deal
    return followup, deal


def save_level_rules(ctx: Ctx, pool_id: int, rules: Mapping[str, tuple[Any, Any]]) -> bool:
    """Replace the pool's rules (admin) with ``{level: (days without follow-up, days without a
    deal)}`` — text from a form or numbers, blank for the pool's own. A level off the list of
    levels or days that are not 0…3650 refuse the whole change. Audited on the pool."""
    ctx.access.require("customers.pool:admin")
    known = {entry.value for entry in choices.choices(ctx, "level")}
    wanted: dict[str, tuple[int | None, int | None]] = {}
    for level, (followup, deal) in rules.items():
        level = (level or "").strip().upper()
        if level not in known:
            raise PoolLevelUnknown(level=level)
        days = (_days(level, followup), _days(level, deal))
        if days != (None, None):
            wanted[level] = days
    current = dict(rules_by_pool(ctx, [pool_id]).get(pool_id, {}))
    before = {level: (r.days_without_followup, r.days_without_deal) for level, r in current.items()}
    if before == wanted:
        return False
    for level, rule in current.items():
        if level not in wanted:
            ctx.dbsession.delete(rule)
    for level, (followup_days, deal_days) in wanted.items():
        rule = current.get(level) or PoolRule(pool_id=pool_id, level=level)
        rule.days_without_followup, rule.days_without_deal = followup_days, deal_days
        ctx.dbsession.add(rule)
    ctx.dbsession.flush()
    changes = {f"level_{level}": (list(before[level]) if level in before else None,
                                  list(wanted[level]) if level in wanted else None)
               for level in sorted(set(before) | set(wanted)) if before.get(level) != wanted.get(level)}
    ctx.hooks.kehu_record_changed(ctx=ctx, change=RecordChange(
        "updated", "customers_pool", pool_id, changes, user_id=ctx.user.id if ctx.user else None, at=ctx.now))
    return True


def _days(level: str, value: Any) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        days = int(str(value).strip())
    except ValueError:
        raise PoolRuleInvalid(level=level) from None
    if not 0 <= days <= MAX_DAYS:
        raise PoolRuleInvalid(level=level)
    return days
