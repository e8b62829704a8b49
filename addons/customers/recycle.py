"""The customers' recycle bin (回收站, C3): delete puts a customer with its contacts and
follow-ups in the bin; whoever may delete it may restore it for 30 days; a daily job then purges
it for good. Every step is audited through ``kehu_record_changed``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select

from core.access import members
from core.access.recycle import mark_deleted, purge_before
from core.access.scopes import scope_condition
from core.context import Ctx
from core.contributions import RecordChange
from core.customfields.services import forget_records
from core.files import StoredFile

from .exceptions import NotInRecycleBin
from .models import Attachment, Contact, Customer, Followup

#: What a customer takes into the bin and back out of it.
CHILDREN = (Contact, Followup)
#: Customers purged per transaction by the job: a month of bulk deletes cannot make one
#: transaction hold thousands of row locks; the next run takes the rest.
PURGE_BATCH = 500


def delete_customers(ctx: Ctx, customer_ids: Iterable[int]) -> int:
    """Move the customers the user may delete to the bin, with their live contacts and
    follow-ups; returns how many moved. Out-of-scope ids are skipped (a bulk action's
    confirmation counted only the user's own)."""
    customers = list(ctx.dbsession.scalars(
        select(Customer).where(Customer.id.in_(list(customer_ids)), scope_condition(ctx, Customer, "delete"))
        .order_by(Customer.id)))
    for customer in customers:
        children = [child for model in CHILDREN for child in ctx.dbsession.scalars(
            select(model).where(model.customer_id == customer.id, model.deleted_at.is_(None)))]
        mark_deleted(ctx, customer, *children)
        _changed(ctx, "deleted", customer, {"name": (customer.name, None)})
    ctx.dbsession.flush()
    return len(customers)


def recycled_condition(ctx: Ctx, action: str = "delete") -> Any:
    """The bin's customers the user may ``action`` (delete = restore; the page shows these)."""
    return scope_condition(ctx, Customer, action, recycled=True)


def restore_customers(ctx: Ctx, customer_ids: Iterable[int]) -> int:
    """Bring customers back with exactly what their delete took; returns how many. A customer
    whose name or credit code a new record took meanwhile stays in the bin (CustomerNameTaken
    names the holder), nothing restored."""
    customers = list(ctx.dbsession.scalars(
        select(Customer).where(Customer.id.in_(list(customer_ids)), recycled_condition(ctx)).order_by(Customer.id)))
    if not customers and customer_ids:
        raise NotInRecycleBin()
    for customer in customers:
        when = customer.deleted_at
        for model in CHILDREN:
            for child in ctx.dbsession.scalars(select(model).where(model.customer_id == customer.id,
                                                                   model.deleted_at == when)):
                child.deleted_at = child.deleted_by = None
        customer.deleted_at = customer.deleted_by = None
        _changed(ctx, "restored", customer, {"name": (None, customer.name)})
    ctx.dbsession.flush()
    return len(customers)


def purge_customers(ctx: Ctx, customer_ids: Iterable[int]) -> int:
    """Remove customers in the bin for good, now (admins: 彻底删除); returns how many."""
    ctx.access.require("customers.customer:purge")
    customers = list(ctx.dbsession.scalars(
        select(Customer).where(Customer.id.in_(list(customer_ids)), recycled_condition(ctx)).order_by(Customer.id)))
    return _purge(ctx, customers)


def purge_expired(ctx: Ctx) -> dict[str, int]:
    """The daily job: purge what has been in the bin longer than the retention."""
    customers = list(ctx.dbsession.scalars(
        select(Customer).where(Customer.deleted_at < purge_before(ctx.now)).order_by(Customer.id).limit(PURGE_BATCH)))
    return {"purged": _purge(ctx, customers)}


def _purge(ctx: Ctx, customers: list[Customer]) -> int:
    """Report first (so other addons can let go of their links), then delete children and
    customer in one statement each."""
    ids = [c.id for c in customers]
    for customer in customers:
        _changed(ctx, "purged", customer, {"name": (customer.name, None)})
    if ids:
        files = select(Attachment.file_id).where(Attachment.customer_id.in_(ids))
        ctx.dbsession.execute(delete(StoredFile).where(StoredFile.id.in_(files)))  # their links cascade
        for model in CHILDREN:
            ctx.dbsession.execute(delete(model).where(model.customer_id.in_(ids)))
        ctx.dbsession.execute(delete(Customer).where(Customer.id.in_(ids)))
        members.forget_records(ctx, Customer, ids)  # team members and custom values have no foreign key
        forget_records(ctx, Customer, ids)
        ctx.dbsession.expire_all()
    return len(ids)


def _changed(ctx: Ctx, action: str, customer: Customer, changes: dict[str, tuple[Any, Any]]) -> None:
    user_id = ctx.user.id if ctx.user is not None else None
    ctx.hooks.kehu_record_changed(ctx=ctx, change=RecordChange(action, customer.__tablename__, customer.id, changes,
                                                               user_id=user_id, at=ctx.now))
