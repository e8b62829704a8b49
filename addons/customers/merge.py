"""Merging two customers (C10, admin): when 查重 comes too late and one company has two records.

The target survives. It keeps every field it has and takes from the source only what it lacks
(an empty credit code, address …); its last follow-up becomes the later of the two, it is a key
customer or won if either was. The source's contacts (which take the target's owner), follow-ups
and pool history move to the target, ``customers_merged`` lets every other addon move its own
linked records, the merge is audited on both records, and the source is deleted — all in one
savepoint, so an error anywhere (an addon refusing) leaves both customers as they were.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from sqlalchemy import delete, func, select, update

from core.access.members import move_team
from core.access.scopes import get_in_scope
from core.audit.services import write_audit
from core.context import Ctx
from core.customfields.services import move_values

from .exceptions import MergeIntoItself
from .models import Attachment, Contact, Customer, CustomerTag, Followup, FollowupPlan, PoolMove

#: The fields a merge fills on the target from the source when the target's is empty.
FILLED = ("short_name", "credit_code", "industry", "source", "level", "province", "city", "district", "address",
          "website", "remarks", "next_followup_at")
#: Moved with their customer; other addons move theirs through ``customers_merged``.
MOVED = {"contacts": Contact, "followups": Followup, "pool_moves": PoolMove, "plans": FollowupPlan,
         "attachments": Attachment}


@dataclasses.dataclass(frozen=True)
class FieldPlan:
    """One field of the preview: both values and what the target ends with."""

    field: str
    label: Any
    target: Any
    source: Any
    result: Any

    @property
    def taken(self) -> bool:
        """The target takes the source's value."""
        return self.result != self.target


@dataclasses.dataclass(frozen=True)
class MergePlan:
    source: Customer
    target: Customer
    fields: list[FieldPlan]
    moved: dict[str, int]


def plan_merge(ctx: Ctx, source_id: int, target_id: int) -> MergePlan:
    """The side-by-side preview: what the target keeps and takes, and how many records move.
    Same checks as the merge itself (permission, two different customers, both writable)."""
    source, target = _pair(ctx, source_id, target_id)
    fields = [FieldPlan(name, Customer.__table__.c[name].info.get("label", name), getattr(target, name),
                        getattr(source, name), value) for name, value in _merged_values(source, target).items()]
    moved = {key: ctx.dbsession.scalar(select(func.count()).select_from(model).where(model.customer_id == source.id))
             or 0 for key, model in MOVED.items()}
    return MergePlan(source, target, fields, moved)


def merge_customers(ctx: Ctx, source_id: int, target_id: int) -> Customer:
    """Merge customer ``source_id`` into ``target_id`` (module docstring) and return the target.
    Raises PermissionDenied without ``customers.customer:merge``, MergeIntoItself for one id
    twice, RecordNotFound (404) for a customer the user may not change."""
    source, target = _pair(ctx, source_id, target_id)
    with ctx.dbsession.begin_nested():
        values = _merged_values(source, target)
        changes = {field: (getattr(target, field), value) for field, value in values.items()
                   if getattr(target, field) != value}
        if "credit_code" in changes:  # unique: free it on the source first
            source.credit_code = None
            ctx.dbsession.flush()
        for field, (_before, after) in changes.items():
            setattr(target, field, after)
        moved = _move_records(ctx, source, target)
        ctx.hooks.customers_merged(ctx=ctx, source_id=source.id, target_id=target.id)
        detail = {"source_id": source.id, "source_name": source.name, "target_id": target.id,
                  "target_name": target.name, "moved": moved}
        write_audit(ctx, "merge", model=Customer.__tablename__, record_id=target.id,
                    changes={field: list(pair) for field, pair in changes.items()},
                    detail=json.dumps(detail, ensure_ascii=False, default=str))
        write_audit(ctx, "merge", model=Customer.__tablename__, record_id=source.id,
                    detail=json.dumps(detail, ensure_ascii=False, default=str))
        ctx.dbsession.delete(source)
        ctx.dbsession.flush()
    return target


def _pair(ctx: Ctx, source_id: int, target_id: int) -> tuple[Customer, Customer]:
    ctx.access.require("customers.customer:merge")
    if int(source_id) == int(target_id):
        raise MergeIntoItself()
    return get_in_scope(ctx, Customer, source_id, "write"), get_in_scope(ctx, Customer, target_id, "write")


def _merged_values(source: Customer, target: Customer) -> dict[str, Any]:
    """Every field the preview shows, with the value the target ends with."""
    values: dict[str, Any] = {"name": target.name}
    for field in FILLED:
        mine = getattr(target, field)
        values[field] = mine if mine not in (None, "") else getattr(source, field)
    values["key_customer"] = bool(target.key_customer or source.key_customer)
    values["deal_status"] = "won" if "won" in (target.deal_status, source.deal_status) else target.deal_status
    followed = [at for at in (target.last_followup_at, source.last_followup_at) if at is not None]
    values["last_followup_at"] = max(followed) if followed else None
    return values


def _move_records(ctx: Ctx, source: Customer, target: Customer) -> dict[str, int]:
    """Point the source's contacts, follow-ups and pool moves at the target; moved contacts
    take the target's owner and give up "primary" when the target has a primary contact."""
    has_primary = ctx.dbsession.scalar(select(func.count()).select_from(Contact).where(
        Contact.customer_id == target.id, Contact.primary.is_(True))) or 0
    moved = {}
    for key, model in MOVED.items():
        values: dict[str, Any] = {"customer_id": target.id}
        if model is Contact:
            values["owner_id"] = target.owner_id
            if has_primary:
                values["primary"] = False
        result = ctx.dbsession.execute(update(model).where(model.customer_id == source.id).values(**values)
                                       .execution_options(synchronize_session=False))
        moved[key] = result.rowcount
    moved["tags"] = _move_tags(ctx, source.id, target.id)
    moved["team"] = move_team(ctx, Customer, source.id, target.id)
    moved["custom_values"] = move_values(ctx, Customer, source.id, target.id)
    return moved


def _move_tags(ctx: Ctx, source_id: int, target_id: int) -> int:
    """The target gets the source's tags it lacks (the link's key forbids a tag twice)."""
    on_target = select(CustomerTag.tag_id).where(CustomerTag.customer_id == target_id)
    moved = ctx.dbsession.execute(
        update(CustomerTag).where(CustomerTag.customer_id == source_id, CustomerTag.tag_id.not_in(on_target))
        .values(customer_id=target_id).execution_options(synchronize_session=False)).rowcount or 0
    ctx.dbsession.execute(delete(CustomerTag).where(CustomerTag.customer_id == source_id))
    return moved
