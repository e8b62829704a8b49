"""The ``customers`` resource of the JSON API, served at /api/v1/customers; every change goes
through the services (permissions, scope, 查重, audit)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.api.resources import ApiResource
from core.context import Ctx

from . import services
from .models import Customer
from .schemas import CustomerText


class CustomerRead(BaseModel):
    id: int
    name: str
    short_name: str | None
    credit_code: str | None
    industry: str | None
    source: str | None
    level: str | None
    key_customer: bool
    deal_status: str
    province: str | None
    city: str | None
    district: str | None
    address: str | None
    website: str | None
    remarks: str | None
    last_followup_at: dt.datetime | None
    next_followup_at: dt.datetime | None
    owner_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class CustomerCreate(CustomerText):
    model_config = ConfigDict(extra="forbid")

    level: Literal["A", "B", "C", "D"] | None = None
    key_customer: bool = False
    deal_status: Literal["open", "won"] = "open"


class CustomerUpdate(BaseModel):
    """PATCH: only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default=None, min_length=1, max_length=200)
    short_name: str | None = Field(default=None, max_length=100)
    credit_code: str | None = Field(default=None, max_length=30)
    industry: str | None = Field(default=None, max_length=100)
    source: str | None = Field(default=None, max_length=100)
    level: Literal["A", "B", "C", "D"] | None = None
    key_customer: bool = Field(default=None)
    deal_status: Literal["open", "won"] = Field(default=None)
    province: str | None = Field(default=None, max_length=50)
    city: str | None = Field(default=None, max_length=50)
    district: str | None = Field(default=None, max_length=50)
    address: str | None = Field(default=None, max_length=300)
    website: str | None = Field(default=None, max_length=200)
    remarks: str | None = Field(default=None, max_length=5000)


def create_customer(ctx: Ctx, data: dict[str, Any]) -> Customer:
    return services.create_customer(ctx, **data)


def update_customer(ctx: Ctx, customer: Customer, data: dict[str, Any]) -> Customer:
    return services.update_customer(ctx, customer.id, **data)


def delete_customer(ctx: Ctx, customer: Customer) -> None:
    services.delete_customer(ctx, customer.id)


CUSTOMERS = ApiResource(
    name="customers",
    model=Customer,
    read_schema=CustomerRead,
    create_schema=CustomerCreate,
    update_schema=CustomerUpdate,
    create=create_customer,
    update=update_customer,
    delete=delete_customer,
    filters={"owner_id": "owner_id", "level": "level", "key_customer": "key_customer",
             "deal_status": "deal_status", "credit_code": "credit_code", "province": "province"},
    search=("name", "short_name", "pinyin", "initials", "credit_code"),
    sort=("id", "name", "created_at", "updated_at"),
    description="Customers (companies); a company already a customer is refused with 409.",
)
