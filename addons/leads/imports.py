"""The leads import, declared once: upload, mapping (Chinese headers map by themselves), preview,
batch run and report come from the core (``/imports/new/leads.leads``). Every row goes through
``services.create_lead`` (permission ``leads.lead:create``, checks, audit).

Where a row's lead goes: to the 负责人 it names; into the 线索池 it names; else, when any
assignment rule is active, to whom the rules pick (L3; a lead no rule takes waits in the first
pool the importer sees); else to the importer. A row naming both an owner and a pool is refused.

查重 (D-DUP): a row whose company name, mobile or e-mail is already a customer's or a lead's —
an earlier row of the same file included — is refused, naming what it duplicates. Leads have no
natural key, so the import only creates.
"""

from __future__ import annotations

import decimal
from typing import Any

from pydantic import ConfigDict, Field, field_validator
from sqlalchemy import select

from addons.customers import choices, owners
from addons.customers.duplicates import Duplicate
from addons.customers.exceptions import MobileInvalid
from addons.customers.names import valid_mobile
from core.context import Ctx
from core.customfields.imports import custom_import_fields, pop_custom
from core.i18n import _, localizer_for
from core.imports.declaration import ImportField, ImportSpec
from core.models import User

from . import duplicates, pool, services
from .api import LeadFields
from .exceptions import BudgetInvalid, LeadDuplicate, LeadOwnerAndPool, LeadPoolUnavailable, StatusUnknown
from .lists import STATUS_LABELS
from .models import Lead, LeadPool, LeadRule

#: 查重 matches that refuse a row; a merely similar name does not.
REFUSING_MATCHES = ("credit_code", "name", "mobile", "email")
#: What people write in a 状态 column besides the status itself and its label (新建, New …).
STATUS_ALIASES = {"新线索": "new", "待跟进": "new", "跟进中": "contacting", "联系中": "contacting",
                  "培育": "nurture", "培育中": "nurture", "合格": "qualified", "已确认": "qualified",
                  "无效": "disqualified", "不合格": "disqualified"}


class LeadRow(LeadFields):
    """One row: the API's lead fields and limits, with the cells as text (an import's budget is
    "1,200.50", its status a label) and who gets the lead."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    budget: decimal.Decimal | None = None  # type: ignore[assignment]  # the cell's text, checked below
    status: str | None = Field(default=None, max_length=50)
    owner: str | None = Field(default=None, max_length=200)  # 负责人: username, e-mail or name (owners.py)
    pool: str | None = Field(default=None, max_length=100)  # 线索池: import straight into that pool

    @field_validator("budget", mode="before")
    @classmethod
    def _budget(cls, value: Any) -> decimal.Decimal | None:
        """Thousands separators and a ¥ are fine; a negative, huge or non-number is refused."""
        text = str(value or "").replace(",", "").replace("，", "").replace("¥", "").replace("￥", "").strip()
        if not text:
            return None
        try:
            amount = decimal.Decimal(text)
        except decimal.InvalidOperation:
            raise ValueError(BudgetInvalid().translation_string) from None
        if not amount.is_finite() or amount < 0 or amount > services.MAX_BUDGET:
            raise ValueError(BudgetInvalid().translation_string)
        return amount

    @field_validator("mobile")
    @classmethod
    def _mobile(cls, value: str | None) -> str | None:
        if value and valid_mobile(value) is None:
            raise ValueError(MobileInvalid(number=value).translation_string)
        return value or None

    @field_validator("status")
    @classmethod
    def _status(cls, value: str | None) -> str | None:
        return status_named(value) if value else None


def status_named(text: str) -> str:
    """The status ``text`` names: itself (qualified), its label in Chinese or English, or a usual
    word for it (跟进中); converting is its own step, never an import's."""
    wanted = text.strip()
    spellings = {key: key for key in STATUS_LABELS}
    for locale in ("zh_CN", "en"):
        translate = localizer_for(locale).translate
        spellings.update({translate(label).casefold(): key for key, label in STATUS_LABELS.items()})
    spellings.update(STATUS_ALIASES)
    status = spellings.get(wanted.casefold()) or spellings.get(wanted)
    if status is None or status == "converted":
        raise ValueError(StatusUnknown(status=wanted).translation_string)
    return status


def create_lead(ctx: Ctx, data: dict[str, Any]) -> Lead:
    """One row's lead (see the module's docstring); every refusal comes before any write."""
    ctx.access.require("leads.lead:create")  # before 查重 tells anything (create_lead checks again)
    pool_name, owner_name = data.pop("pool", None), data.pop("owner", None)
    target = pool_named(ctx, pool_name) if pool_name else None
    owner = _owner(ctx, owner_name) if owner_name else None
    if owner is not None and target is not None:
        raise LeadOwnerAndPool()
    custom = pop_custom(data)
    for kind in choices.KINDS:  # a label of the administrator's lists (A（重要）, 展会) stands for its value
        if data.get(kind):
            data[kind] = choices.value_for(ctx, kind, data[kind])
    _refuse_duplicates(ctx, data)
    # neither owner nor pool: the rules give it out (L3) when there are any, else it is the importer's
    return services.create_lead(ctx, owner_id=owner.id if owner else None, pool_id=target.id if target else None,
                                assign=owner is None and target is None and _rules_active(ctx), custom=custom,
                                **data)


def pool_named(ctx: Ctx, name: str) -> LeadPool:
    """The active lead pool of that name the importer sees, else LeadPoolUnavailable."""
    found = ctx.dbsession.scalars(select(LeadPool).where(
        LeadPool.name == name.strip(), LeadPool.active.is_(True), pool.visible_pools_condition(ctx))
        .order_by(LeadPool.id).limit(1)).first()
    if found is None:
        raise LeadPoolUnavailable()
    return found


def _owner(ctx: Ctx, name: str) -> User:
    """The 负责人 the row names; naming someone else is assigning, which needs ``leads.lead:write``."""
    owner = owners.owner_named(ctx, name)
    if ctx.user is None or owner.id != ctx.user.id:
        ctx.access.require("leads.lead:write")
    return owner


def _rules_active(ctx: Ctx) -> bool:
    return ctx.dbsession.scalar(select(LeadRule.id).where(LeadRule.active.is_(True)).limit(1)) is not None


def _refuse_duplicates(ctx: Ctx, data: dict[str, Any]) -> None:
    hits = duplicates.check_lead(ctx, name=data.get("name"), mobile=data.get("mobile"), email=data.get("email"))
    hit: Duplicate | None = next((h for h in hits if h.match in REFUSING_MATCHES), None)
    if hit is not None:
        raise LeadDuplicate(kind=hit.kind, name=hit.name, reason=hit.reason, owner=hit.owner)


LEADS_IMPORT = ImportSpec(
    key="leads.leads",
    model=Lead,
    title=_("Leads"),
    fields=(
        ImportField("name", _("Lead name"), required=True,
                    aliases=("线索名称", "线索", "公司名称", "客户名称", "名称", "company")),
        ImportField("contact_name", _("Contact"), aliases=("联系人", "联系人姓名", "姓名")),
        ImportField("mobile", _("Mobile"), aliases=("手机", "手机号", "手机号码")),
        ImportField("phone", _("Phone"), aliases=("电话", "座机", "固定电话")),
        ImportField("email", _("Email"), aliases=("邮箱", "电子邮箱", "e-mail")),
        ImportField("wechat", _("WeChat"), aliases=("微信", "微信号")),
        ImportField("address", _("Address"), aliases=("地址", "详细地址")),
        ImportField("province", _("Province"), aliases=("省份", "省")),
        ImportField("city", _("City"), aliases=("城市", "市")),
        ImportField("source", _("Source"), aliases=("来源", "线索来源", "渠道")),
        ImportField("industry", _("Industry"), aliases=("行业",)),
        ImportField("level", _("Level"), aliases=("级别", "线索级别")),
        ImportField("requirement", _("Requirement"), aliases=("需求", "需求描述")),
        ImportField("budget", _("Expected budget"), aliases=("预算", "预计预算", "预算金额")),
        ImportField("status", _("Status"), aliases=("状态", "线索状态")),
        ImportField("remarks", _("Remarks"), aliases=("备注",)),
        ImportField("owner", _("Owner"), aliases=("负责人", "所属销售", "销售", "归属人")),
        ImportField("pool", _("Lead pool"), aliases=("线索池", "所属线索池")),
    ),
    schema=LeadRow,
    create=create_lead,
    list_route="leads.leads.list",
    extra_fields=custom_import_fields(Lead),
    help=_("One lead per row. Without an owner or a lead pool the assignment rules give it out, or it is yours; "
           "a company, mobile or e-mail already known is reported, not added twice."),
    example={"name": "杭州云帆科技有限公司", "contact_name": "陈经理", "mobile": "13800138000", "source": "展会",
             "province": "浙江省", "city": "杭州市", "requirement": "替换旧的 CRM 系统", "budget": "80,000"},
)
