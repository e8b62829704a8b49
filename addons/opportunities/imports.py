"""The opportunities import (S1 "by import"), declared once: upload, mapping (Chinese headers map
by themselves), preview, batch run and report come from the core
(``/imports/new/opportunities.opportunities``). Every row goes through the services
(``opportunities.opportunity:create``, the record scopes, audit, scoring).

- 客户: a customer the importer may read, by its exact name or its unified social credit code;
  one they may not read is unknown, as if it did not exist.
- 商机流程 and 阶段: a pipeline offered to the importer and one of its stages, by name; by default
  the first offered pipeline and its first open stage.
- A row in a won or lost stage (赢单 / 输单) is opened in the pipeline's first open stage and then
  moved there (``services.move_stage``), so its history, the win rates and the people told are
  those of a deal won or lost today; a lost one needs its 输单原因, which is ignored for the
  other stages.
- 负责人: a username, e-mail or name; naming someone else is assigning, which needs
  ``opportunities.opportunity:write``.

Opportunities have no natural key, so the import only creates.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import or_, select

from addons.customers import owners
from addons.customers.models import Customer
from addons.customers.names import normalise_company_name
from core.access.scopes import scope_condition
from core.context import Ctx
from core.customfields.imports import custom_import_fields, pop_custom
from core.i18n import _
from core.imports.declaration import ImportField, ImportSpec
from core.models import User

from . import pipelines, services
from .exceptions import (
    AmountInvalid,
    CloseDateInvalid,
    ImportCustomerAmbiguous,
    ImportCustomerUnknown,
    ImportStageUnknown,
    LostReasonRequired,
    PipelineUnavailable,
    ProbabilityInvalid,
)
from .models import Opportunity, Pipeline, Stage

#: 2026-12-31 or 2026/12/31 (a spreadsheet's date cell arrives as the first).
DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")
#: What an amount cell may carry besides the number.
AMOUNT_NOISE = str.maketrans("", "", ",，¥￥元 ")


class OpportunityRow(BaseModel):
    """One row, as text cells checked before anything is looked up."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=services.LIMITS["title"])
    customer: str = Field(min_length=1, max_length=200)
    amount: decimal.Decimal | None = None
    expected_close: dt.date | None = None
    stage: str | None = Field(default=None, max_length=50)
    pipeline: str | None = Field(default=None, max_length=100)
    probability: int | None = None
    owner: str | None = Field(default=None, max_length=200)  # 负责人: username, e-mail or name (owners.py)
    competitor: str | None = Field(default=None, max_length=services.LIMITS["competitor"])
    products: str | None = Field(default=None, max_length=services.LIMITS["products"])
    description: str | None = Field(default=None, max_length=services.LIMITS["description"])
    lost_reason: str | None = Field(default=None, max_length=2000)

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> decimal.Decimal | None:
        """Thousands separators, ¥ and 元 are fine ("¥1,200.50"); a negative, huge or non-number is refused."""
        text = str(value or "").translate(AMOUNT_NOISE)
        if not text:
            return None
        try:
            return services.amount(text)
        except AmountInvalid as refused:
            raise ValueError(refused.translation_string) from None

    @field_validator("expected_close", mode="before")
    @classmethod
    def _expected_close(cls, value: Any) -> dt.date | None:
        """YYYY-MM-DD or YYYY/MM/DD, and a day that exists."""
        if isinstance(value, dt.date):
            return value
        text = str(value or "").strip()
        if not text:
            return None
        found = DATE.match(text)
        try:
            if found is None:
                raise ValueError(text)
            return dt.date(*(int(part) for part in found.groups()))
        except ValueError:
            raise ValueError(CloseDateInvalid().translation_string) from None

    @field_validator("probability", mode="before")
    @classmethod
    def _probability(cls, value: Any) -> int | None:
        """A whole percentage, "60" or "60%"; blank keeps the stage's."""
        text = str(value if value is not None else "").strip().rstrip("%％").strip()
        if not text:
            return None
        if not text.isdigit() or not 0 <= int(text) <= 100:
            raise ValueError(ProbabilityInvalid().translation_string)
        return int(text)


def create_opportunity(ctx: Ctx, data: dict[str, Any]) -> Opportunity:
    """One row's opportunity (see the module's docstring); every lookup and refusal comes before
    the first write, and the core's savepoint undoes the row if a service refuses later."""
    ctx.access.require("opportunities.opportunity:create")  # before the lookups tell anything
    customer = customer_named(ctx, data.pop("customer"))
    pipeline = pipeline_named(ctx, data.pop("pipeline", None))
    stage = stage_named(pipeline, data.pop("stage", None))
    reason = data.pop("lost_reason", None)
    if stage.kind == "lost" and not reason:
        raise LostReasonRequired()
    owner = _owner(ctx, data.pop("owner", None))
    custom = pop_custom(data)
    fields = {field: value for field, value in data.items() if value is not None}
    opening = stage if stage.kind == "open" else pipelines.open_stages(pipeline)[0]
    opportunity = services.create_opportunity(
        ctx, customer_id=customer.id, pipeline_id=pipeline.id, stage_id=opening.id,
        owner_id=owner.id if owner is not None else None, custom=custom or None, **fields)
    if stage.kind != "open":
        opportunity = services.move_stage(ctx, opportunity.id, stage.id, lost_reason=reason,
                                          probability=fields.get("probability"))
    return opportunity


def customer_named(ctx: Ctx, text: str) -> Customer:
    """The one customer the importer may read whose name (exactly, or once normalised: full-width
    brackets, spaces) or unified social credit code is ``text``."""
    wanted = text.strip()
    found = ctx.dbsession.scalars(select(Customer).where(
        scope_condition(ctx, Customer, "read"),
        or_(Customer.name == wanted, Customer.name_key == normalise_company_name(wanted),
            Customer.credit_code == wanted.upper()))
        .order_by(Customer.id).limit(5)).all()
    if not found:
        raise ImportCustomerUnknown(name=wanted)
    if len(found) > 1:
        raise ImportCustomerAmbiguous(name=wanted, count=len(found))
    return found[0]


def pipeline_named(ctx: Ctx, name: str | None) -> Pipeline:
    """The pipeline of that name offered to the importer (the first offered when blank)."""
    if not name:
        return pipelines.pipeline_for(ctx, None)
    offered = pipelines.pipelines_for(ctx)
    found = next((p for p in offered if p.name == name), None) or next(
        (p for p in offered if p.name.casefold() == name.casefold()), None)
    if found is None:
        raise PipelineUnavailable()
    return found


def stage_named(pipeline: Pipeline, name: str | None) -> Stage:
    """The active stage of that name in ``pipeline`` (its first open stage when blank)."""
    active = [stage for stage in pipeline.stages if stage.active]
    if not name:
        return pipelines.open_stages(pipeline)[0]
    found = next((s for s in active if s.name == name), None) or next(
        (s for s in active if s.name.casefold() == name.casefold()), None)
    if found is None:
        raise ImportStageUnknown(stage=name, pipeline=pipeline.name, stages="、".join(s.name for s in active))
    return found


def _owner(ctx: Ctx, name: str | None) -> User | None:
    """The 负责人 the row names; naming someone else is assigning (``opportunities.opportunity:write``)."""
    if not name:
        return None
    owner = owners.owner_named(ctx, name)
    if ctx.user is None or owner.id != ctx.user.id:
        ctx.access.require("opportunities.opportunity:write")
    return owner


OPPORTUNITIES_IMPORT = ImportSpec(
    key="opportunities.opportunities",
    model=Opportunity,
    title=_("Opportunities"),
    fields=(
        ImportField("title", _("Opportunity name"), required=True,
                    aliases=("商机名称", "商机", "商机标题", "标题", "名称")),
        ImportField("customer", _("Customer"), required=True,
                    aliases=("客户", "客户名称", "公司名称", "统一社会信用代码", "customer")),
        ImportField("amount", _("Amount"), aliases=("金额", "商机金额", "预计金额", "合同金额")),
        ImportField("expected_close", _("Expected close"),
                    aliases=("预计成交日期", "预计成交", "成交日期", "预计签单日期")),
        ImportField("stage", _("Stage"), aliases=("阶段", "商机阶段", "销售阶段")),
        ImportField("pipeline", _("Pipeline"), aliases=("商机流程", "流程", "销售流程", "商机组")),
        ImportField("probability", _("Probability (%)"), aliases=("赢率", "赢单率", "赢率%", "成交概率")),
        ImportField("owner", _("Owner"), aliases=("负责人", "所属销售", "销售", "归属人")),
        ImportField("competitor", _("Competitor"), aliases=("竞争对手", "竞品")),
        ImportField("products", _("Products of interest"), aliases=("意向产品", "产品")),
        ImportField("description", _("Description"), aliases=("描述", "商机描述", "备注")),
        ImportField("lost_reason", _("Lost reason"), aliases=("输单原因", "丢单原因")),
    ),
    schema=OpportunityRow,
    create=create_opportunity,
    list_route="opportunities.opportunities.list",
    extra_fields=custom_import_fields(Opportunity),
    help=_("One opportunity per row, for a customer you may see, named exactly or by its credit code. Without a "
           "stage it starts in the first one; a won or lost row is opened and then closed today, and a lost one "
           "needs its reason."),
    example={"title": "CRM 系统采购", "customer": "杭州云帆科技有限公司", "amount": "120,000",
             "expected_close": "2026-12-31", "stage": "需求确认", "probability": "30", "competitor": "销售易",
             "products": "CRM 专业版 20 用户", "description": "替换现有的 Excel 客户台账"},
)
