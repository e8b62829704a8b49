"""The JSON API of the addon: ``/api/v1/opportunities`` (core conventions: keyset pages,
filters, ``X-Kehu-Version`` … see docs/api.md) and ``POST /api/v1/opportunities/{id}/stage``,
the kanban's move. Every change goes through the services (permissions, scope, audit,
notifications)."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.api.actions import ApiAction
from core.api.resources import ApiResource
from core.context import Ctx

from . import services
from .exceptions import (
    LostReasonRequired,
    OpportunityFieldTooLong,
    ProbabilityInvalid,
    StageNotInPipeline,
)
from .models import Opportunity

ID = Field(ge=1, le=2**31 - 1)


class OpportunityRead(BaseModel):
    id: int
    customer_id: int
    title: str
    amount: decimal.Decimal = Field(description="CNY, two decimals")
    expected_close: dt.date | None
    probability: int = Field(description="Win probability, percent")
    pipeline_id: int
    stage_id: int
    status: str = Field(description="open, won or lost (the stage's kind)")
    stage_changed_at: dt.datetime | None
    closed_at: dt.datetime | None
    lost_reason: str | None
    competitor: str | None
    products: str | None
    description: str | None
    lead_id: int | None
    owner_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class OpportunityFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: decimal.Decimal | None = Field(default=None, ge=0, le=services.MAX_AMOUNT, decimal_places=2)
    expected_close: dt.date | None = Field(default=None, description="YYYY-MM-DD")
    probability: int | None = Field(default=None, ge=0, le=100)
    competitor: str | None = Field(default=None, max_length=200)
    products: str | None = Field(default=None, max_length=5000)
    description: str | None = Field(default=None, max_length=5000)


class OpportunityCreate(OpportunityFields):
    customer_id: int = ID
    title: str = Field(min_length=1, max_length=200)
    pipeline_id: int | None = Field(default=None, ge=1, le=2**31 - 1, description="Default: the first offered")
    stage_id: int | None = Field(default=None, ge=1, le=2**31 - 1, description="Default: the first open stage")
    owner_id: int | None = Field(default=None, ge=1, le=2**31 - 1, description="Default: the caller")


class OpportunityUpdate(OpportunityFields):
    """PATCH: only the fields sent change (the stage moves through ``/stage``)."""

    title: str = Field(default=None, min_length=1, max_length=200)


def create(ctx: Ctx, data: dict[str, Any]) -> Opportunity:
    owner_id = data.get("owner_id")
    if owner_id is not None and (ctx.user is None or owner_id != ctx.user.id):
        ctx.access.require("opportunities.opportunity:write")  # giving it to someone else is assigning
    return services.create_opportunity(ctx, **data)


def update(ctx: Ctx, opportunity: Opportunity, data: dict[str, Any]) -> Opportunity:
    return services.update_opportunity(ctx, opportunity.id, **data)


def delete(ctx: Ctx, opportunity: Opportunity) -> None:
    services.delete_opportunity(ctx, opportunity.id)


class StageBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage_id: int = ID
    lost_reason: str | None = Field(default=None, max_length=2000, description="Required for a lost stage")
    probability: int | None = Field(default=None, ge=0, le=100, description="Default: the stage's")


def stage(ctx: Ctx, opportunity: Opportunity, body: StageBody) -> Opportunity:
    """Move to another stage of the opportunity's pipeline (won and lost close it)."""
    return services.move_stage(ctx, opportunity.id, body.stage_id, lost_reason=body.lost_reason,
                               probability=body.probability)


OPPORTUNITIES = ApiResource(
    name="opportunities",
    model=Opportunity,
    read_schema=OpportunityRead,
    create_schema=OpportunityCreate,
    update_schema=OpportunityUpdate,
    create=create,
    update=update,
    delete=delete,
    filters={"customer_id": "customer_id", "owner_id": "owner_id", "status": "status", "stage_id": "stage_id",
             "pipeline_id": "pipeline_id", "lead_id": "lead_id"},
    search=("title",),
    sort=("id", "created_at", "updated_at", "amount"),
    description="Opportunities (商机) in pipelines of stages; amounts in CNY.",
    actions=(
        ApiAction("stage", stage, params=StageBody, response=OpportunityRead,
                  errors=(StageNotInPipeline, LostReasonRequired, ProbabilityInvalid, OpportunityFieldTooLong),
                  summary="Move an opportunity to another stage of its pipeline"),
    ),
)

