"""查重 both ways (D-DUP): leads answer the customers addon's ``customers_duplicate_candidates``,
so the 查重 box, a new customer and an import see the leads of the same company, mobile or
e-mail; and a new lead is checked with the customers' ``find_duplicates``, which asks every
addon — leads included — through that hook.

Hits follow the customers' rules: a lead the caller may not open shows a masked name, its owner
and no link. Converted leads are left out: their customer answers for them.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, func, or_, select

from addons.customers.duplicates import REASONS, Duplicate, DuplicateQuery, find_duplicates, mask_name
from core.access.recycle import live
from core.access.scopes import scope_condition
from core.context import Ctx
from core.i18n import _
from core.models import User

from .models import Lead, LeadPool

LEAD_KIND = _("Lead")
POOL_LEAD_KIND = _("Lead in a pool")
#: Each probe (same name, mobile, e-mail) stops here; 查重 shows ten hits at most anyway.
PROBE_LIMIT = 10


def lead_candidates(ctx: Ctx, query: DuplicateQuery) -> list[Duplicate]:
    """The leads matching ``query`` by normalised name, mobile or e-mail (strongest first)."""
    probes = []
    if query.name_key:
        probes.append(("name", Lead.name_key == query.name_key))
    if query.mobile_number:
        probes.append(("mobile", Lead.mobile == query.mobile_number))
    if query.email_address:
        probes.append(("email", func.lower(Lead.email) == query.email_address.lower()))
    hits: dict[int, Duplicate] = {}
    for match, condition in probes:
        rows = ctx.dbsession.execute(
            select(Lead.id, Lead.name, Lead.owner_id, User.display_name, User.username,
                   LeadPool.name.label("pool_name"), _in_scope(ctx).label("in_scope"))
            .outerjoin(User, User.id == Lead.owner_id).outerjoin(LeadPool, LeadPool.id == Lead.pool_id)
            .where(condition, live(Lead), Lead.status != "converted").order_by(Lead.id).limit(PROBE_LIMIT))
        for row in rows:
            if row.id in hits:
                continue
            pooled, in_scope = row.owner_id is None, bool(row.in_scope)
            hits[row.id] = Duplicate(
                name=row.name if in_scope else mask_name(row.name),
                owner=(row.display_name or row.username or "—") if not pooled else "—",
                kind=POOL_LEAD_KIND if pooled else LEAD_KIND, reason=REASONS[match], match=match,
                owner_id=row.owner_id, in_scope=in_scope, url=f"/leads/{row.id}" if in_scope else None,
                pool=row.pool_name if pooled else None)
    return list(hits.values())


def check_lead(ctx: Ctx, name: str | None = None, mobile: str | None = None, email: str | None = None
               ) -> list[Duplicate]:
    """查重 for a lead being created or imported: customers (owned, pooled, binned) and leads."""
    return find_duplicates(ctx, DuplicateQuery(name=name, mobile=mobile, email=email))


def _in_scope(ctx: Ctx) -> ColumnElement[bool]:
    """What the caller may open: their read scope on leads, or a lead in one of their pools."""
    from .pool import pool_leads_condition

    if not ctx.access.can("leads.lead:read"):
        return false()
    return or_(scope_condition(ctx, Lead, "read"), pool_leads_condition(ctx))

