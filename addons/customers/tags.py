"""Tags (标签) on customers: typed on the form or in an import column (a tag not seen before is
created on the fly), added to many customers at once from the list, shown as badges and used as
a list filter."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, insert, not_, select

from core.access.scopes import get_in_scope, scoped_select
from core.context import Ctx
from core.i18n import _

from . import services
from .exceptions import TagNameInvalid, TooManyTags
from .models import Customer, CustomerTag, Tag

NAME_LIMIT = 30
PER_CUSTOMER = 20
SEPARATORS = re.compile(r"[,，、;；\n]+")


def parse_names(text: str | Iterable[str] | None) -> list[str]:
    """Tag names from "重点, 华东、展会" (or a list), trimmed, without repeats, in order."""
    parts = SEPARATORS.split(text) if isinstance(text, str) else list(text or ())
    names: list[str] = []
    for part in parts:
        name = " ".join(part.split())
        if name and name not in names:
            names.append(name)
    return names


def tags_named(ctx: Ctx, names: Iterable[str]) -> list[Tag]:
    """The tags of these names, creating those that do not exist yet."""
    names = list(names)
    for name in names:
        if len(name) > NAME_LIMIT:
            raise TagNameInvalid(name=name, limit=NAME_LIMIT)
    found = {t.name: t for t in ctx.dbsession.scalars(select(Tag).where(Tag.name.in_(names)))} if names else {}
    for name in names:
        if name not in found:
            found[name] = Tag(name=name, colour="secondary")
            ctx.dbsession.add(found[name])
    ctx.dbsession.flush()
    return [found[name] for name in names]


def tag_names(ctx: Ctx, customer_id: int) -> list[str]:
    return list(ctx.dbsession.scalars(select(Tag.name).join(CustomerTag, CustomerTag.tag_id == Tag.id)
                                      .where(CustomerTag.customer_id == customer_id).order_by(Tag.name)))


def set_customer_tags(ctx: Ctx, customer_id: int, names: str | Iterable[str] | None) -> list[str]:
    """Exactly these tags on a customer the user may change; returns the names it has now."""
    customer = get_in_scope(ctx, Customer, customer_id, "write")
    wanted = parse_names(names)
    if len(wanted) > PER_CUSTOMER:
        raise TooManyTags(limit=PER_CUSTOMER)
    before = tag_names(ctx, customer.id)
    if sorted(before) == sorted(wanted):
        return before
    tags = tags_named(ctx, wanted)
    ctx.dbsession.execute(delete(CustomerTag).where(CustomerTag.customer_id == customer.id))
    if tags:
        ctx.dbsession.execute(insert(CustomerTag), [{"customer_id": customer.id, "tag_id": t.id} for t in tags])
    ctx.dbsession.expire(customer, ["tags"])
    after = sorted(wanted)
    services._changed(ctx, "updated", customer, {"tags": (", ".join(sorted(before)), ", ".join(after))})
    return after


def add_tag(ctx: Ctx, customer_ids: Iterable[int], tag_id: int) -> int:
    """One tag on many customers (the list's bulk action), those the user may change; returns
    how many gained it."""
    ctx.access.require("customers.customer:write")
    tag = ctx.dbsession.get(Tag, int(tag_id))
    if tag is None:
        return 0
    has = exists().where(CustomerTag.customer_id == Customer.id, CustomerTag.tag_id == tag.id)
    customers = list(ctx.dbsession.scalars(scoped_select(ctx, Customer, "write")
                                           .where(Customer.id.in_(list(customer_ids)), not_(has))
                                           .order_by(Customer.id)))
    if customers:
        ctx.dbsession.execute(insert(CustomerTag), [{"customer_id": c.id, "tag_id": tag.id} for c in customers])
    for customer in customers:
        services._changed(ctx, "updated", customer, {"tags": (None, f"+{tag.name}")})
    return len(customers)


def tag_choices(ctx: Ctx) -> list[tuple[int, str]]:
    """``[(id, name)]`` of every tag, by name: the list's filter and its "add a tag" action."""
    return [(row.id, row.name) for row in ctx.dbsession.execute(select(Tag.id, Tag.name).order_by(Tag.name))]


def tag_condition(op: str, value: Any) -> ColumnElement[bool]:
    """The list filter "tag is / is not / is empty / is not empty", through the link table (its
    tag_id index), so it costs one subquery, whatever the number of customers."""
    tagged = select(CustomerTag.customer_id)
    if op in ("eq", "ne"):
        if not str(value).isdigit():
            raise ValueError(_("Choose a tag."))
        tagged = tagged.where(CustomerTag.tag_id == int(value))
    condition = Customer.id.in_(tagged)
    return not_(condition) if op in ("ne", "empty") else condition
