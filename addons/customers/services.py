"""Every rule about customers, their contacts and follow-ups: permission checks, validation,
查重, writes, audit (through ``kehu_record_changed``) and notifications. Views, imports, lists
and demo data all call these functions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from core.access.scopes import get_in_scope, scope_condition, scoped_select
from core.changes import record_changed as _changed
from core.context import Ctx
from core.i18n import _
from core.models import User
from core.notifications.services import notify

from . import choices, regions
from .exceptions import (
    ContentRequired,
    CreditCodeInvalid,
    CreditCodeTaken,
    CustomerInRecycleBin,
    CustomerNameTaken,
    MobileInvalid,
    NameRequired,
    UnknownChoice,
)
from .models import Contact, Customer, Followup
from .names import normalise_company_name, pinyin_of, valid_credit_code, valid_mobile

#: The default levels; the list itself is the administrator's (choices.py), checked by check_values.
LEVELS = ("A", "B", "C", "D")
DEAL_STATUSES = ("open", "won")
FOLLOWUP_KINDS = ("phone", "visit", "wechat", "email", "other")
#: What a form, an import or the API may set on a customer (the owner goes through assign).
CUSTOMER_FIELDS = ("name", "short_name", "credit_code", "industry", "source", "level", "key_customer",
                   "deal_status", "province", "city", "district", "address", "website", "remarks",
                   "next_followup_at")
CONTACT_FIELDS = ("name", "title", "mobile", "phone", "email", "wechat", "birthday", "primary")


# ---------------------------------------------------------------- customers


def create_customer(ctx: Ctx, *, name: str, owner_id: int | None = None, **fields: Any) -> Customer:
    """A new customer owned by ``owner_id`` (default: the acting user). Raises
    CustomerNameTaken / CreditCodeTaken when another customer is the same company, checked
    atomically by the unique indexes, so two users saving at once cannot both win."""
    ctx.access.require("customers.customer:create")
    values = _clean_customer(dict(fields, name=name))
    choices.check_values(ctx, values)
    regions.resolve_values(values)
    customer = Customer(owner_id=owner_id if owner_id is not None else _user_id(ctx),
                        key_customer=False, deal_status="open")
    for field, value in values.items():
        setattr(customer, field, value)
    _derive(customer)
    _check_unique(ctx, customer)
    _flush_unique(ctx, customer, add=True)
    _changed(ctx, "created", customer, {field: (None, value) for field, value in values.items()})
    return customer


def get_customer(ctx: Ctx, customer_id: int, action: str = "read") -> Customer:
    """The customer, or RecordNotFound (404) outside the user's scope for ``action``."""
    return get_in_scope(ctx, Customer, customer_id, action)


def update_customer(ctx: Ctx, customer_id: int, **fields: Any) -> Customer:
    """Change the given fields; the same uniqueness as on create."""
    customer = get_in_scope(ctx, Customer, customer_id, "write")
    values = _clean_customer({f: v for f, v in fields.items() if f in CUSTOMER_FIELDS}, partial=True)
    choices.check_values(ctx, values, customer)
    regions.resolve_values(values, customer)
    changes = {f: (getattr(customer, f), v) for f, v in values.items() if getattr(customer, f) != v}
    for field, (_before, after) in changes.items():
        setattr(customer, field, after)
    if changes:
        _derive(customer)
        _check_unique(ctx, customer)
        _flush_unique(ctx, customer)
        _changed(ctx, "updated", customer, changes)
    return customer


def delete_customer(ctx: Ctx, customer_id: int) -> None:
    """Move a customer with its contacts and follow-ups to the recycle bin (restorable for 30
    days: see ``recycle``)."""
    from .recycle import delete_customers

    get_in_scope(ctx, Customer, customer_id, "delete")
    delete_customers(ctx, [customer_id])


def assign_customers(ctx: Ctx, customer_ids: Iterable[int], owner_id: int) -> int:
    """转移: a new owner for the customers the user may change, their contacts and the previous
    owner's open follow-up plans following; the new owner is notified once ("customers.assigned").
    Returns how many changed."""
    from .plans import hand_over  # plans build on customers, not the other way round
    from .pool_lock import keep_locks_within_limit  # so does the pool

    ctx.access.require("customers.customer:write")
    new_owner = ctx.dbsession.get(User, owner_id)
    if new_owner is None or not new_owner.active:
        raise UnknownChoice(value=owner_id, field=_("owner"))
    customers = list(ctx.dbsession.scalars(scoped_select(ctx, Customer, "write")
                                           .where(Customer.id.in_(list(customer_ids))).order_by(Customer.id)))
    pooled = [c.id for c in customers if c.owner_id is None and c.pool_id is not None]
    if pooled:  # 分配 from a pool: only to its members, with its pool move (pool_assign)
        from .pool_assign import assign_from_pool

        assign_from_pool(ctx, pooled, owner_id)
    changed = [c for c in customers if c.owner_id != owner_id and c.id not in pooled]
    for customer in changed:
        before, customer.owner_id = customer.owner_id, owner_id
        _changed(ctx, "updated", customer, {"owner_id": (before, owner_id)})
        for contact in ctx.dbsession.scalars(select(Contact).where(Contact.customer_id == customer.id)):
            contact.owner_id = owner_id
        hand_over(ctx, customer, before, owner_id)
    keep_locks_within_limit(ctx, changed, owner_id)  # D-CAP: the new owner's most locked
    ctx.dbsession.flush()
    notify_assigned(ctx, changed, owner_id)
    return len(changed) + len(pooled)


def notify_assigned(ctx: Ctx, customers: Sequence[Customer], owner_id: int) -> None:
    """Tell the new owner once ("customers.assigned") — not when they assigned to themselves."""
    if not customers or owner_id == _user_id(ctx):
        return
    first = customers[0]
    if len(customers) == 1:
        message = _("${user} assigned the customer “${name}” to you.",
                    mapping={"user": _actor(ctx), "name": first.name})
        url = f"/customers/{first.id}"
    else:
        message = _("${user} assigned ${count} customers to you.",
                    mapping={"user": _actor(ctx), "count": len(customers)})
        url = "/customers"
    notify(ctx, [owner_id], "customers.assigned", first if len(customers) == 1 else None, message, url=url)


def set_level(ctx: Ctx, customer_ids: Iterable[int], level: str | None) -> int:
    """One level for many customers (bulk action); returns how many changed."""
    return set_listed(ctx, customer_ids, "level", level)


def set_listed(ctx: Ctx, customer_ids: Iterable[int], field: str, value: str | None) -> int:
    """批量修改: one value of an administrator's list (level, source, industry) for many
    customers, each change audited; returns how many changed."""
    ctx.access.require("customers.customer:write")
    if field not in choices.KINDS:
        raise TypeError(f"{field!r} is not a listed field")
    value = value or None
    choices.check_values(ctx, {field: value})
    customers = ctx.dbsession.scalars(scoped_select(ctx, Customer, "write").where(Customer.id.in_(list(customer_ids))))
    changed = 0
    for customer in customers:
        if getattr(customer, field) != value:
            before = getattr(customer, field)
            setattr(customer, field, value)
            _changed(ctx, "updated", customer, {field: (before, value)})
            changed += 1
    ctx.dbsession.flush()
    return changed


def find_duplicates(ctx: Ctx, name: str | None = None, mobile: str | None = None, credit_code: str | None = None,
                    email: str | None = None, exclude_id: int | None = None) -> list[Any]:
    """查重 lives in ``duplicates.find_duplicates`` (masking, similar names, the addon hook);
    kept here for the callers of the services."""
    from .duplicates import DuplicateQuery
    from .duplicates import find_duplicates as find

    return find(ctx, DuplicateQuery(name=name, mobile=mobile, email=email, credit_code=credit_code,
                                    exclude_id=exclude_id))


# ---------------------------------------------------------------- contacts


def add_contact(ctx: Ctx, customer_id: int, *, name: str, **fields: Any) -> Contact:
    """A contact of a customer the user may change; it takes the customer's owner."""
    ctx.access.require("customers.contact:create")
    customer = get_in_scope(ctx, Customer, customer_id, "write")
    values = _clean_contact(dict(fields, name=name))
    contact = Contact(customer_id=customer.id, owner_id=customer.owner_id, primary=False)
    for field, value in values.items():
        setattr(contact, field, value)
    ctx.dbsession.add(contact)
    ctx.dbsession.flush()
    _changed(ctx, "created", contact, {f: (None, v) for f, v in values.items()})
    return contact


def get_contact(ctx: Ctx, contact_id: int, action: str = "read") -> Contact:
    return get_in_scope(ctx, Contact, contact_id, action)


def update_contact(ctx: Ctx, contact_id: int, **fields: Any) -> Contact:
    contact = get_in_scope(ctx, Contact, contact_id, "write")
    values = _clean_contact({f: v for f, v in fields.items() if f in CONTACT_FIELDS}, partial=True)
    changes = {f: (getattr(contact, f), v) for f, v in values.items() if getattr(contact, f) != v}
    for field, (_before, after) in changes.items():
        setattr(contact, field, after)
    ctx.dbsession.flush()
    if changes:
        _changed(ctx, "updated", contact, changes)
    return contact


def delete_contact(ctx: Ctx, contact_id: int) -> None:
    """Delete a contact (``customers.contact:delete``, within the delete scope); audited."""
    contact = get_in_scope(ctx, Contact, contact_id, "delete")
    _changed(ctx, "deleted", contact, {"name": (contact.name, None)})
    ctx.dbsession.delete(contact)
    ctx.dbsession.flush()


def list_contacts(ctx: Ctx, customer_id: int) -> list[Contact]:
    """The customer's contacts, the primary one first."""
    return list(ctx.dbsession.scalars(_under_customer(ctx, Contact, customer_id)
                                      .order_by(Contact.primary.desc(), Contact.id)))


def _under_customer(ctx: Ctx, model: type, customer_id: int) -> Any:
    """D-SCOPE: whoever may see a customer sees everything under it, whoever created it — so the
    rows' condition is the customer's scope, not their own owner's."""
    ctx.access.require(f"{model.access_key}:read")  # type: ignore[attr-defined]
    visible = select(Customer.id).where(Customer.id == customer_id, scope_condition(ctx, Customer))
    return select(model).where(model.customer_id.in_(visible))  # type: ignore[attr-defined]


# ---------------------------------------------------------------- follow-ups


def add_followup(ctx: Ctx, customer_id: int, *, kind: str, content: str, next_at: dt.datetime | None = None,
                 next_step: str | None = None) -> Followup:
    """快速跟进: the author owns the follow-up; the customer's last follow-up becomes now. The
    author's open plans for the customer are done and ``next_at`` makes a new plan
    (``plans.plan_from_followup``), which keeps the customer's next follow-up."""
    ctx.access.require("customers.followup:create")
    customer = get_in_scope(ctx, Customer, customer_id, "read")
    content = (content or "").strip()
    if not content:
        raise ContentRequired()
    followup = Followup(customer_id=customer.id, owner_id=_user_id(ctx), kind=_choice(kind, FOLLOWUP_KINDS, _("type")),
                        content=content, next_at=next_at, next_step=(next_step or "").strip() or None)
    ctx.dbsession.add(followup)
    changes: dict[str, tuple[Any, Any]] = {"last_followup_at": (customer.last_followup_at, ctx.now)}
    customer.last_followup_at = ctx.now
    ctx.dbsession.flush()
    _changed(ctx, "created", followup, {"kind": (None, followup.kind), "content": (None, content)})
    from .plans import plan_from_followup  # plans build on follow-ups, not the other way round

    next_before = customer.next_followup_at
    plan_from_followup(ctx, customer, followup)
    if customer.next_followup_at != next_before:
        changes["next_followup_at"] = (next_before, customer.next_followup_at)
    _changed(ctx, "updated", customer, changes)
    return followup


def update_followup(ctx: Ctx, followup_id: int, **fields: Any) -> Followup:
    """Correct a follow-up (``customers.followup:write``: managers by default); audited."""
    followup = get_in_scope(ctx, Followup, followup_id, "write")
    values = {f: v for f, v in fields.items() if f in ("kind", "content", "next_at", "next_step")}
    if "content" in values:
        values["content"] = (values["content"] or "").strip()
        if not values["content"]:
            raise ContentRequired()
    if "kind" in values:
        values["kind"] = _choice(values["kind"], FOLLOWUP_KINDS, _("type"))
    if "next_step" in values:
        values["next_step"] = (values["next_step"] or "").strip() or None
    changes = {f: (getattr(followup, f), v) for f, v in values.items() if getattr(followup, f) != v}
    for field, (_before, after) in changes.items():
        setattr(followup, field, after)
    ctx.dbsession.flush()
    if changes:
        _changed(ctx, "updated", followup, changes)
    return followup


def delete_followup(ctx: Ctx, followup_id: int) -> None:
    """Delete a follow-up (``customers.followup:delete``, within the delete scope); audited."""
    followup = get_in_scope(ctx, Followup, followup_id, "delete")
    _changed(ctx, "deleted", followup, {"content": (followup.content, None)})
    ctx.dbsession.delete(followup)
    ctx.dbsession.flush()


def list_followups(ctx: Ctx, customer_id: int, limit: int = 50) -> list[Followup]:
    """The customer's follow-ups, whoever wrote them, newest first, with their authors."""
    return list(ctx.dbsession.scalars(_under_customer(ctx, Followup, customer_id)
                                      .options(selectinload(Followup.owner).lazyload(User.roles))
                                      .order_by(Followup.created_at.desc(), Followup.id.desc()).limit(limit)))


# ---------------------------------------------------------------- helpers


def _clean_customer(values: dict[str, Any], partial: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field, value in values.items():
        if field not in CUSTOMER_FIELDS:
            raise TypeError(f"unknown customer field {field!r}")
        if isinstance(value, str):
            value = value.strip() or None
        out[field] = value
    if ("name" in out or not partial) and not out.get("name"):
        raise NameRequired()
    if out.get("credit_code"):
        code = valid_credit_code(out["credit_code"])
        if code is None:
            raise CreditCodeInvalid(code=out["credit_code"])
        out["credit_code"] = code
    if out.get("level"):  # the administrator's list: choices.check_values
        out["level"] = out["level"].upper()
    if "deal_status" in out:
        out["deal_status"] = _choice(out["deal_status"] or "open", DEAL_STATUSES, _("deal status"))
    if "key_customer" in out:
        out["key_customer"] = bool(out["key_customer"])
    return out


def _clean_contact(values: dict[str, Any], partial: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field, value in values.items():
        if field not in CONTACT_FIELDS:
            raise TypeError(f"unknown contact field {field!r}")
        if isinstance(value, str):
            value = value.strip() or None
        out[field] = value
    if ("name" in out or not partial) and not out.get("name"):
        raise NameRequired()
    if out.get("mobile"):
        number = valid_mobile(out["mobile"])
        if number is None:
            raise MobileInvalid(number=out["mobile"])
        out["mobile"] = number
    if "primary" in out:
        out["primary"] = bool(out["primary"])
    return out


def _choice(value: str | None, allowed: Sequence[str], label: Any) -> str | None:
    if value is not None and value not in allowed:
        raise UnknownChoice(value=value, field=label)
    return value


def _derive(customer: Customer) -> None:
    customer.name_key = normalise_company_name(customer.name)
    customer.pinyin, customer.initials = pinyin_of(customer.name)


def _check_unique(ctx: Ctx, customer: Customer) -> None:
    """The friendly check before writing; ``_flush_unique`` is the one that holds under races."""
    others = select(Customer).where(Customer.id != customer.id) if customer.id else select(Customer)
    with ctx.dbsession.no_autoflush:
        same = ctx.dbsession.scalars(others.where(Customer.name_key == customer.name_key).limit(1)).first()
        if same is not None and same.deleted_at is not None:
            raise CustomerInRecycleBin(name=same.name)
        if same is not None:
            raise CustomerNameTaken(name=same.name, owner=owner_label(ctx, same.owner_id))
        if customer.credit_code:
            same = ctx.dbsession.scalars(others.where(Customer.credit_code == customer.credit_code).limit(1)).first()
            if same is not None:
                raise CreditCodeTaken(code=customer.credit_code, owner=owner_label(ctx, same.owner_id))


def _flush_unique(ctx: Ctx, customer: Customer, add: bool = False) -> None:
    """Write in a savepoint; a unique index refusing it (another user saved the same company a
    moment ago) becomes CustomerNameTaken / CreditCodeTaken instead of a server error."""
    key, code = customer.name_key, customer.credit_code
    try:
        with ctx.dbsession.begin_nested():
            if add:
                ctx.dbsession.add(customer)
            ctx.dbsession.flush()
    except IntegrityError:
        same = ctx.dbsession.scalars(select(Customer).where(Customer.name_key == key)).first()
        if same is not None:
            raise CustomerNameTaken(name=same.name, owner=owner_label(ctx, same.owner_id)) from None
        if code:
            owner_id = ctx.dbsession.scalar(select(Customer.owner_id).where(Customer.credit_code == code))
            raise CreditCodeTaken(code=code, owner=owner_label(ctx, owner_id)) from None
        raise


def owner_label(ctx: Ctx, owner_id: int | None) -> str:
    """The owner's display name (or username), "—" for none: what 查重 and messages show."""
    if owner_id is None:
        return "—"
    row = ctx.dbsession.execute(select(User.display_name, User.username).where(User.id == owner_id)).first()
    return (row[0] or row[1]) if row else "—"


def _actor(ctx: Ctx) -> str:
    return owner_label(ctx, _user_id(ctx)) if ctx.user is not None else "Kehu"


def _user_id(ctx: Ctx) -> int | None:
    return ctx.user.id if ctx.user is not None else None
