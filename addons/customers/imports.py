"""The customers import, declared once: upload, mapping (Chinese headers map by themselves),
preview, batch run and report come from the core (``/imports/new/customers.customers``). Every
row goes through the services, so 查重 refuses a company that is already a customer. The admin's
custom fields are columns too (headed by their labels), checked like the form's values; an
update by key changes the custom values the row fills and leaves the others."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, field_validator, model_validator

from core.context import Ctx
from core.customfields.imports import custom_import_fields, pop_custom
from core.customfields.services import set_values
from core.i18n import _
from core.imports.declaration import ImportField, ImportSpec
from core.models import User

from . import choices, owners, pool_import, regions, services, tags
from .exceptions import CityNotInProvince, DistrictNotInCity, OwnerAndPool, ProvinceUnknown, RegionIncomplete
from .models import Customer
from .names import valid_credit_code
from .schemas import CustomerText


class CustomerRow(CustomerText):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    level: str | None = Field(default=None, max_length=100)
    tags: str | None = Field(default=None, max_length=700)
    owner: str | None = Field(default=None, max_length=200)  # 负责人: username, e-mail or name (owners.py)
    pool: str | None = Field(default=None, max_length=100)  # 公海: import straight into that pool

    @field_validator("credit_code")
    @classmethod
    def _credit_code(cls, value: str | None) -> str | None:
        if value and valid_credit_code(value) is None:
            raise ValueError(_("is not a valid unified social credit code"))
        return value or None

    @model_validator(mode="after")
    def _region(self) -> CustomerRow:
        """Region names with or without suffix (上海 / 上海市) become the full names; a wrong
        combination is the row's error in the preview already. A row naming no province leaves
        the check to the service, with the customer's own province."""
        if self.province:
            try:
                self.province, self.city, self.district = regions.resolve(self.province, self.city, self.district)
            except (ProvinceUnknown, CityNotInProvince, DistrictNotInCity, RegionIncomplete) as refused:
                raise ValueError(refused.translation_string) from None
        return self


def _listed(ctx: Ctx, data: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """A label of the administrator's lists (A（重要）, 展会) stands for its value; the tags apart."""
    data = dict(data)
    for kind in choices.KINDS:
        if data.get(kind):
            data[kind] = choices.value_for(ctx, kind, data[kind])
    return data, data.pop("tags", None)


def _owner(ctx: Ctx, data: dict[str, Any]) -> User | None:
    """The 负责人 the row names (refused before any write); naming someone else is assigning,
    which needs the permission to assign."""
    name = data.pop("owner", None)
    if not name:
        return None
    owner = owners.owner_named(ctx, name)
    if ctx.user is None or owner.id != ctx.user.id:
        ctx.access.require("customers.customer:write")
    return owner


def create_customer(ctx: Ctx, data: dict[str, Any]) -> Customer:
    pool_name = data.pop("pool", None)
    target = pool_import.pool_named(ctx, pool_name) if pool_name else None  # refused before any write
    owner = _owner(ctx, data)
    if owner is not None and target is not None:
        raise OwnerAndPool()
    custom = pop_custom(data)
    data, names = _listed(ctx, data)
    customer = services.create_customer(ctx, owner_id=owner.id if owner else None, **data)
    if names:
        tags.set_customer_tags(ctx, customer.id, names)
    set_values(ctx, customer, custom, creating=True)
    if target is not None:
        pool_import.put_in_pool(ctx, customer, target)
    return customer


def update_customer(ctx: Ctx, customer: Customer, data: dict[str, Any]) -> Customer:
    data.pop("pool", None)  # only a new customer goes into a pool; an existing one keeps its owner
    owner = _owner(ctx, data)
    custom = pop_custom(data)
    data, names = _listed(ctx, data)
    customer = services.update_customer(ctx, customer.id, **data)
    if owner is not None and owner.id != customer.owner_id:
        services.assign_customers(ctx, [customer.id], owner.id)  # a transfer: notified, handed over
    set_values(ctx, customer, custom)
    if names:
        tags.set_customer_tags(ctx, customer.id, sorted({*tags.tag_names(ctx, customer.id), *tags.parse_names(names)}))
    return customer


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
        ImportField("tags", _("Tags"), aliases=("标签",)),
        ImportField("owner", _("Owner"), aliases=("负责人", "所属销售", "销售", "归属人")),
        ImportField("pool", _("Pool"), aliases=("公海", "所属公海")),
    ),
    schema=CustomerRow,
    create=create_customer,
    update=update_customer,
    key_fields=("name", "credit_code"),
    list_route="customers.customers.list",
    extra_fields=custom_import_fields(Customer),
    help=_("One customer per row; a company that is already a customer is reported, not added twice."),
)
