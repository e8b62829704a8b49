"""The contacts import (``/imports/new/customers.contacts``): one contact per row, attached to a
customer the importer may change, named by its company name (any suffix variant: the
normalised name is matched) or its credit code. Mobile numbers are checked by the service."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select

from core.access.scopes import scope_condition
from core.context import Ctx
from core.i18n import _
from core.imports.declaration import ImportField, ImportSpec

from . import services
from .exceptions import CustomerToImportUnknown
from .models import Contact, Customer
from .names import normalise_company_name, valid_credit_code


class ContactRow(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    customer: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=100)
    title: str | None = Field(default=None, max_length=100)
    mobile: str | None = Field(default=None, max_length=20)
    phone: str | None = Field(default=None, max_length=30)
    email: str | None = Field(default=None, max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")
    wechat: str | None = Field(default=None, max_length=100)
    birthday: dt.date | None = None
    primary: bool | None = None

    @field_validator("primary", mode="before")
    @classmethod
    def _yes_no(cls, value: Any) -> Any:
        """是/否 as spreadsheets write them."""
        if isinstance(value, str):
            return {"是": True, "否": False, "": None}.get(value.strip(), value)
        return value


def customer_for(ctx: Ctx, text: str) -> Customer:
    """The customer a row names, among those the importer may change."""
    code = valid_credit_code(text)
    match = Customer.credit_code == code if code else Customer.name_key == normalise_company_name(text)
    customer = ctx.dbsession.scalar(select(Customer).where(match, scope_condition(ctx, Customer, "write")))
    if customer is None:
        raise CustomerToImportUnknown(name=text)
    return customer


def create_contact(ctx: Ctx, data: dict[str, Any]) -> Contact:
    data = dict(data)
    customer = customer_for(ctx, data.pop("customer"))
    return services.add_contact(ctx, customer.id, **{k: v for k, v in data.items() if v is not None})


def update_contact(ctx: Ctx, contact: Contact, data: dict[str, Any]) -> Contact:
    data = dict(data)
    data.pop("customer", None)  # a contact stays with its customer; moving is a merge
    return services.update_contact(ctx, contact.id, **data)


CONTACTS_IMPORT = ImportSpec(
    key="customers.contacts",
    model=Contact,
    title=_("Contacts"),
    fields=(
        ImportField("customer", _("Customer"), required=True,
                    aliases=("客户名称", "公司名称", "所属客户", "客户", "统一社会信用代码", "company")),
        ImportField("name", _("Name"), required=True, aliases=("联系人", "姓名", "联系人姓名")),
        ImportField("title", _("Job title"), aliases=("职务", "职位")),
        ImportField("mobile", _("Mobile"), aliases=("手机", "手机号", "手机号码")),
        ImportField("phone", _("Phone"), aliases=("电话", "座机", "固定电话")),
        ImportField("email", _("Email"), aliases=("邮箱", "电子邮件", "e-mail")),
        ImportField("wechat", _("WeChat"), aliases=("微信", "微信号")),
        ImportField("birthday", _("Birthday"), aliases=("生日",)),
        ImportField("primary", _("Primary contact"), aliases=("首要联系人", "主联系人")),
    ),
    schema=ContactRow,
    create=create_contact,
    update=update_contact,
    key_fields=("mobile",),
    list_route="customers.contacts.list",
    help=_("One contact per row, with the name or the credit code of a customer you may change."),
    example={"customer": "上海华信科技有限公司", "name": "王经理", "title": "采购经理", "mobile": "13800138000",
             "email": "wang@example.com", "primary": "是"},
)
