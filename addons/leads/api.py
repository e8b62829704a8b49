"""The JSON API of the addon: ``/api/v1/leads`` with the actions claim (a batch, from the lead
pools), release (back to a pool, with a reason) and convert (into a customer). Every change goes
through the services (permissions, scope, pool limits, audit); a lead's phone, mobile, e-mail
and WeChat are masked for readers without ``leads.lead:see_sensitive``.

Claiming is all or nothing like the customers' claim: when any lead cannot be claimed, none is,
and the problem lists what stops each one (``errors[].field`` = ``ids.<index>``).

A lead carries its ``tags`` (names, sorted; one query for a whole page); create and PATCH take
them (PATCH replaces the set), a refused tag (``errors[].field`` = ``tags``) before anything is
written. ``nurture_days`` is the 培育 cadence (1–365)."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from addons.customers.exceptions import CustomerNameTaken, MobileInvalid, UnknownChoice
from core.api.actions import ApiAction
from core.api.resources import ApiResource
from core.context import Ctx
from core.exceptions import KehuError

from . import pool, services
from . import tags as lead_tags
from .conversion import convert_lead
from .exceptions import (
    BudgetInvalid,
    LeadAlreadyClaimed,
    LeadClaimLimitDaily,
    LeadClaimLimitOpen,
    LeadClaimRefused,
    LeadConverted,
    LeadInPool,
    LeadNotQualified,
    LeadPoolUnavailable,
    LeadReturnReasonRequired,
)
from .models import Lead, LeadTag, LeadTagLink

MAX_CLAIM = 100
Status = Literal["new", "contacting", "nurture", "qualified", "disqualified"]


class LeadRead(BaseModel):
    id: int
    name: str
    contact_name: str | None
    mobile: str | None  # sensitive: masked text without leads.lead:see_sensitive
    phone: str | None
    email: str | None
    wechat: str | None
    address: str | None
    province: str | None
    city: str | None
    source: str | None
    industry: str | None
    level: str | None
    requirement: str | None
    budget: decimal.Decimal | None
    status: str
    remarks: str | None
    owner_id: int | None
    pool_id: int | None
    customer_id: int | None = Field(description="The customer the lead was converted into")
    last_followup_at: dt.datetime | None
    next_followup_at: dt.datetime | None
    nurture_days: int | None = Field(description="While nurtured: the next follow-up is due this many days "
                                                 "after the last one")
    created_at: dt.datetime
    updated_at: dt.datetime
    tags: list[str] = Field(description="Tag names, sorted")


#: Bounds of the body only: the services say what a tag may be (TagNameInvalid, TooManyLeadTags).
TagNames = list[Annotated[str, Field(max_length=200)]]


class LeadFields(BaseModel):
    """The text limits of a lead, once for create and update."""

    model_config = ConfigDict(extra="forbid")

    contact_name: str | None = Field(default=None, max_length=100)
    mobile: str | None = Field(default=None, max_length=30)
    phone: str | None = Field(default=None, max_length=30)
    email: str | None = Field(default=None, max_length=200)
    wechat: str | None = Field(default=None, max_length=100)
    address: str | None = Field(default=None, max_length=300)
    province: str | None = Field(default=None, max_length=50)
    city: str | None = Field(default=None, max_length=50)
    source: str | None = Field(default=None, max_length=100)
    industry: str | None = Field(default=None, max_length=100)
    level: str | None = Field(default=None, max_length=20)
    requirement: str | None = Field(default=None, max_length=5000)
    budget: decimal.Decimal | None = Field(default=None, ge=0, le=services.MAX_BUDGET, decimal_places=2)
    remarks: str | None = Field(default=None, max_length=5000)
    next_followup_at: dt.datetime | None = None
    nurture_days: int | None = Field(default=None, ge=services.NURTURE_RANGE[0], le=services.NURTURE_RANGE[1],
                                     description="The nurture cadence in days (30 when a lead enters nurture "
                                                 "without one)")


class LeadCreate(LeadFields):
    name: str = Field(min_length=1, max_length=200)
    status: Status = "new"
    pool_id: int | None = Field(default=None, ge=1, le=2**31 - 1,
                                description="Put the lead into this lead pool instead of keeping it")
    assign: bool = Field(default=False, description="Let the assignment rules pick the owner; a lead no rule "
                                                    "takes stays in the pool (pool_id, or the first the caller sees)")
    tags: TagNames = Field(default_factory=list, max_length=200)


class LeadUpdate(LeadFields):
    """PATCH: only the fields sent change (the owner changes by claim, release and assignment)."""

    name: str = Field(default=None, min_length=1, max_length=200)
    status: Status = Field(default=None)
    tags: TagNames = Field(default=None, max_length=200, description="Replaces the lead's tags")


def create_lead(ctx: Ctx, data: dict[str, Any]) -> Lead:
    names = _tag_names(data.pop("tags"))
    return services.create_lead(ctx, **data, tags=names)


def update_lead(ctx: Ctx, lead: Lead, data: dict[str, Any]) -> Lead:
    """PATCH: ``tags`` replaces the set (a change of tags alone is a new version, its ETag)."""
    if "tags" in data:
        data = dict(data, tags=_tag_names(data["tags"]))
    return services.update_lead(ctx, lead.id, **data)


def _tag_names(raw: list[str]) -> list[str]:
    """The tags a body names, checked as the services check them, before any write
    (``errors[].field`` = ``tags``)."""
    try:
        return lead_tags.check_names(raw)
    except KehuError as refused:
        refused.field_errors = [("tags", refused)]  # type: ignore[attr-defined]
        raise


def lead_extras(ctx: Ctx, leads: Sequence[Lead]) -> dict[int, dict[str, Any]]:
    """``tags`` of a response's leads: one query, whatever their number."""
    ids = [lead.id for lead in leads]
    names: dict[int, list[str]] = {lead_id: [] for lead_id in ids}
    rows = ctx.dbsession.execute(select(LeadTagLink.lead_id, LeadTag.name)
                                 .join(LeadTag, LeadTag.id == LeadTagLink.tag_id)
                                 .where(LeadTagLink.lead_id.in_(ids)))
    for lead_id, name in rows:
        names[lead_id].append(name)
    return {lead_id: {"tags": sorted(found)} for lead_id, found in names.items()}


def delete_lead(ctx: Ctx, lead: Lead) -> None:
    services.delete_lead(ctx, lead.id)


def _read(ctx: Ctx, lead: Lead) -> dict[str, Any]:
    return LEADS.read_values(ctx, [lead])[0]


class ClaimBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[int] = Field(min_length=1, max_length=MAX_CLAIM)


class Claimed(BaseModel):
    items: list[LeadRead]


def claim(ctx: Ctx, body: ClaimBody) -> dict[str, Any]:
    """领取 from the lead pools, all or nothing (module docstring)."""
    ids = list(dict.fromkeys(body.ids))
    try:
        with ctx.dbsession.begin_nested():
            leads = pool.claim_leads(ctx, ids)
    except KehuError as exc:
        if len(ids) == 1:
            raise
        refused = LeadClaimRefused(count=len(ids))
        refused.field_errors = _claim_problems(ctx, ids) or [("ids", exc)]
        raise refused from None
    return {"items": LEADS.read_values(ctx, leads)}


def _claim_problems(ctx: Ctx, ids: list[int]) -> list[tuple[str, KehuError]]:
    """What stops each id on its own, tried in a savepoint that is always rolled back."""
    problems: list[tuple[str, KehuError]] = []
    for index, lead_id in enumerate(ids):
        savepoint = ctx.dbsession.begin_nested()
        try:
            pool.claim_leads(ctx, [lead_id])
        except KehuError as exc:
            problems.append((f"ids.{index}", exc))
        finally:
            savepoint.rollback()
    return problems


class ReleaseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pool_id: int = Field(ge=1, le=2**31 - 1)
    reason: str = Field(default="", max_length=500)


def release(ctx: Ctx, lead: Lead, body: ReleaseBody) -> dict[str, Any]:
    """退回 to a lead pool with a reason (required: LeadReturnReasonRequired, 422)."""
    pool.return_lead(ctx, lead.id, body.pool_id, body.reason)
    return _read(ctx, lead)


class ConvertBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: int | None = Field(default=None, ge=1, le=2**31 - 1,
                                    description="Link to this existing customer instead of creating one")
    options: dict[str, dict[str, Any]] = Field(
        default_factory=dict, max_length=10,
        description="What other installed addons should make, by key (e.g. opportunity: {title, amount})")


class Converted(BaseModel):
    lead: LeadRead
    customer_id: int
    contact_id: int | None
    created_customer: bool


def convert(ctx: Ctx, lead: Lead, body: ConvertBody) -> dict[str, Any]:
    """转化: the customer (made or linked), its contact, the follow-ups carried over (L4)."""
    conversion = convert_lead(ctx, lead.id, customer_id=body.customer_id, options=body.options)
    return {"lead": _read(ctx, services.get_lead(ctx, lead.id)), "customer_id": conversion.customer_id,
            "contact_id": conversion.contact_id, "created_customer": conversion.created_customer}


LEADS = ApiResource(
    name="leads",
    model=Lead,
    read_schema=LeadRead,
    create_schema=LeadCreate,
    update_schema=LeadUpdate,
    create=create_lead,
    update=update_lead,
    delete=delete_lead,
    extra_fields=("tags",),
    load_extra=lead_extras,
    filters={"owner_id": "owner_id", "status": "status", "source": "source", "level": "level",
             "province": "province", "pool_id": "pool_id"},
    search=("name", "contact_name", "mobile"),
    sort=("id", "name", "created_at", "updated_at"),
    description="Leads (线索); a converted lead is read-only (409).",
    actions=(
        ApiAction("claim", claim, on="collection", params=ClaimBody, response=Claimed, permission="leads.pool:claim",
                  errors=(LeadClaimRefused, LeadAlreadyClaimed, LeadPoolUnavailable, LeadClaimLimitDaily,
                          LeadClaimLimitOpen),
                  summary="Claim leads from the lead pools: all or nothing, with what stops each id"),
        ApiAction("release", release, params=ReleaseBody, response=LeadRead,
                  errors=(LeadReturnReasonRequired, LeadInPool, LeadPoolUnavailable),
                  summary="Return a lead to a lead pool, with a reason"),
        ApiAction("convert", convert, params=ConvertBody, response=Converted,
                  errors=(LeadNotQualified, LeadConverted, CustomerNameTaken, MobileInvalid, UnknownChoice,
                          BudgetInvalid),
                  summary="Convert a qualified lead into a customer (or link it to one) with its contact"),
    ),
)
