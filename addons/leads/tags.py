"""Lead tags (线索标签): typed on the lead form or sent by the API (a tag not seen before is
created on the fly), added to many leads at once from the list, shown as badges and used as a
list filter. Leads keep their own tags (``leads_tag``); what a tag name may be and how many a
record carries are the customers' rules (``addons.customers.tags``), not a copy of them.

``services.create_lead`` and ``update_lead`` take ``tags=`` and call ``write_tags`` here, so a
lead and its tags are saved (and audited) as one change."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, insert, not_, select

from addons.customers.exceptions import TagNameInvalid
from addons.customers.tags import NAME_LIMIT, PER_CUSTOMER, parse_names
from core.access.scopes import scoped_select
from core.context import Ctx
from core.i18n import _

from . import services
from .exceptions import TooManyLeadTags
from .models import Lead, LeadTag, LeadTagLink

#: As many tags as a customer may carry: a lead becomes one.
PER_LEAD = PER_CUSTOMER


def check_names(names: str | Iterable[str] | None) -> list[str]:
    """The tag names of "重点, 华东、展会" (or a list), checked before anything is written:
    TooManyLeadTags, TagNameInvalid."""
    wanted = parse_names(names)
    if len(wanted) > PER_LEAD:
        raise TooManyLeadTags(limit=PER_LEAD)
    for name in wanted:
        if len(name) > NAME_LIMIT:
            raise TagNameInvalid(name=name, limit=NAME_LIMIT)
    return wanted


def tags_named(ctx: Ctx, names: Iterable[str]) -> list[LeadTag]:
    """The lead tags of these (checked) names, creating those that do not exist yet."""
    names = list(names)
    found = ({t.name: t for t in ctx.dbsession.scalars(select(LeadTag).where(LeadTag.name.in_(names)))}
             if names else {})
    for name in names:
        if name not in found:
            found[name] = LeadTag(name=name, colour="secondary")
            ctx.dbsession.add(found[name])
    ctx.dbsession.flush()
    return [found[name] for name in names]


def tag_names(ctx: Ctx, lead_id: int) -> list[str]:
    """The lead's tag names, sorted (one query)."""
    return list(ctx.dbsession.scalars(select(LeadTag.name).join(LeadTagLink, LeadTagLink.tag_id == LeadTag.id)
                                      .where(LeadTagLink.lead_id == lead_id).order_by(LeadTag.name)))


def write_tags(ctx: Ctx, lead: Lead, names: list[str]) -> tuple[str, str] | None:
    """Exactly these checked names on ``lead`` (the services have checked the permission);
    returns the audit's ``(before, after)`` when the set changed, else None."""
    before = tag_names(ctx, lead.id)
    if sorted(before) == sorted(names):
        return None
    tags = tags_named(ctx, names)
    ctx.dbsession.execute(delete(LeadTagLink).where(LeadTagLink.lead_id == lead.id))
    if tags:
        ctx.dbsession.execute(insert(LeadTagLink), [{"lead_id": lead.id, "tag_id": t.id} for t in tags])
    ctx.dbsession.expire(lead, ["tags"])
    return ", ".join(sorted(before)), ", ".join(sorted(names))


def set_lead_tags(ctx: Ctx, lead_id: int, names: str | Iterable[str] | None) -> list[str]:
    """Exactly these tags on a lead the user may change (not a converted one); audited.
    Returns the names it has now."""
    services.update_lead(ctx, lead_id, tags=names)
    return tag_names(ctx, lead_id)


def add_tag(ctx: Ctx, lead_ids: Iterable[int], tag_id: Any) -> int:
    """One tag on many leads (the list's bulk action): those the user may change, converted
    ones left as they are; returns how many gained it."""
    ctx.access.require("leads.lead:write")
    tag = ctx.dbsession.get(LeadTag, int(tag_id)) if str(tag_id).isdigit() else None
    if tag is None:
        return 0
    has = exists().where(LeadTagLink.lead_id == Lead.id, LeadTagLink.tag_id == tag.id)
    leads = list(ctx.dbsession.scalars(scoped_select(ctx, Lead, "write")
                                       .where(Lead.id.in_(list(lead_ids)), Lead.status != "converted", not_(has))
                                       .order_by(Lead.id)))
    if leads:
        ctx.dbsession.execute(insert(LeadTagLink), [{"lead_id": lead.id, "tag_id": tag.id} for lead in leads])
    for lead in leads:
        ctx.dbsession.expire(lead, ["tags"])
        lead.updated_at = ctx.now  # a new version of the lead (the API's ETag)
        ctx.dbsession.flush()
        services.changed(ctx, "updated", lead, {"tags": (None, f"+{tag.name}")})
    return len(leads)


def tag_choices(ctx: Ctx) -> list[tuple[int, str]]:
    """``[(id, name)]`` of every lead tag, by name: the list's filter and its "add a tag" action."""
    return [(row.id, row.name) for row in ctx.dbsession.execute(select(LeadTag.id, LeadTag.name)
                                                                .order_by(LeadTag.name))]


def tag_condition(op: str, value: Any) -> ColumnElement[bool]:
    """The list filter "tag is / is not / is empty / is not empty", through the link table (its
    tag_id index): one subquery, whatever the number of leads."""
    tagged = select(LeadTagLink.lead_id)
    if op in ("eq", "ne"):
        if not str(value).isdigit():
            raise ValueError(_("Choose a tag."))
        tagged = tagged.where(LeadTagLink.tag_id == int(value))
    condition = Lead.id.in_(tagged)
    return not_(condition) if op in ("ne", "empty") else condition
