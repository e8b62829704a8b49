"""The customers import, declared once: upload, mapping (Chinese headers map by themselves),
preview, batch run and report come from the core (``/imports/new/customers.customers``). Every
row goes through the services, so 查重 refuses a company that is already a customer."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, field_validator

from core.context import Ctx
from core.i18n import _
from core.imports.declaration import ImportField, ImportSpec

from . import services
from .models import Customer
from .names import valid_credit_code
from .schemas import CustomerText


class CustomerRow(CustomerText):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    level: str | None = Field(default=None, max_length=1)

    @field_validator("credit_code")
    @classmethod
    def _credit_code(cls, value: str | None) -> str | None:
        if value and valid_credit_code(value) is None:
            raise ValueError(_("is not a valid unified social credit code"))
        return value or None

    @field_validator("level")
    @classmethod
    def _level(cls, value: str | None) -> str | None:
        value = (value or "").upper() or None
        if value is not None and value not in services.LEVELS:
            raise ValueError(_("must be A, B, C or D"))
        return value


def create_customer(ctx: Ctx, data: dict[str, Any]) -> Customer:
    return services.create_customer(ctx, **data)


def update_customer(ctx: Ctx, customer: Customer, data: dict[str, Any]) -> Customer:
    return services.update_customer(ctx, customer.id, **data)


CUSTOMERS_IMPORT = ImportSpec(
    key="customers.customers",
    model=Customer,
    title=_("Customers"),
    fields=(
        ImportField("name", _("Customer name"), required=True, aliases=("客户名称", "公司名称", "名称", "company")),
        ImportField("short_name", _("Short name"), aliases=("简称",)),
        ImportField("credit_code", _("Unified social credit code"), aliases=("统一社会信用代码", "信用代码")),
        ImportField("industry", _("Industry"), aliases=("行业",)),
        ImportField("source", _("Source"), aliases=("来源", "客户来源")),
        ImportField("level", _("Level"), aliases=("级别", "客户级别")),
        ImportField("province", _("Province"), aliases=("省份", "省")),
        ImportField("city", _("City"), aliases=("城市", "市")),
        ImportField("district", _("District"), aliases=("区县", "区")),
        ImportField("address", _("Address"), aliases=("地址", "详细地址")),
        ImportField("website", _("Website"), aliases=("网址", "网站")),
        ImportField("remarks", _("Remarks"), aliases=("备注",)),
    ),
    schema=CustomerRow,
    create=create_customer,
    update=update_customer,
    key_fields=("name", "credit_code"),
    list_route="customers.customers.list",
    help=_("One customer per row; a company that is already a customer is reported, not added twice."),
)
