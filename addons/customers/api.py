"""The JSON API of the addon: ``/api/v1/customers`` (with the actions assign, claim, release
and duplicates), ``/api/v1/contacts`` and ``/api/v1/followups``. Every change goes through the
services (permissions, scope, 查重, pool rules, audit); contacts' phones, e-mail and WeChat are
masked for readers without ``customers.contact:see_sensitive``.

Claiming several customers is all or nothing: when any of them cannot be claimed, none is, and
the problem lists what stops each one (``errors[].field`` = ``ids.<index>``), or the pool limit
that the batch as a whole would pass (``field`` = ``ids``).

A customer carries its ``tags`` (names, sorted) and ``custom`` (custom field values by name,
``cf_<id>``), loaded for a whole list in two queries. Create and PATCH take both: ``tags``
replaces the set, ``custom`` changes the values sent; a refused tag or value (``errors[].field``
``tags`` or ``custom.<name>``) is refused before anything is written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import or_, select

from core.access.scopes import scope_condition
from core.api.actions import ApiAction
from core.api.resources import ApiResource
from core.context import Ctx
from core.customfields.api import JsonValue, api_values, check_api_values, write_api_values
from core.exceptions import KehuError

from . import pool, services
from . import tags as customer_tags
from .duplicates import DuplicateQuery as DuplicatesQuery
from .duplicates import find_duplicates
from .exceptions import (
    AlreadyClaimed,
    AlreadyInPool,
    AssigneeNotMember,
    ClaimLimitDaily,
    ClaimLimitOwned,
    ClaimRefused,
    PoolUnavailable,
    ReasonRequired,
    ReclaimBlocked,
    TagNameInvalid,
    TooManyTags,
    UnknownChoice,
)
from .models import Contact, Customer, CustomerTag, Followup, Tag
from .schemas import CustomerText

Text = str | None
MAX_CLAIM = 100


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
    tags: list[str] = Field(description="Tag names, sorted")
    custom: dict[str, JsonValue] = Field(description="Custom field values by field name (cf_<id>): a number "
                                                     "as a number, a date as YYYY-MM-DD, a choice as its text")


#: Bounds of the body only: the services say what a tag may be (TagNameInvalid, TooManyTags).
TagNames = list[Annotated[str, Field(max_length=200)]]
CUSTOM_DESCRIPTION = "Custom field values by field name (cf_<id>); null blanks a value"


class CustomerCreate(CustomerText):
    model_config = ConfigDict(extra="forbid")

    level: str | None = Field(default=None, max_length=20)  # the administrator's list: the services check it
    key_customer: bool = False
    deal_status: Literal["open", "won"] = "open"
    tags: TagNames = Field(default_factory=list, max_length=200)
    custom: dict[str, Any] = Field(default_factory=dict, max_length=100, description=CUSTOM_DESCRIPTION)


class CustomerUpdate(BaseModel):
    """PATCH: only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default=None, min_length=1, max_length=200)
    short_name: str | None = Field(default=None, max_length=100)
    credit_code: str | None = Field(default=None, max_length=30)
    industry: str | None = Field(default=None, max_length=100)
    source: str | None = Field(default=None, max_length=100)
    level: str | None = Field(default=None, max_length=20)  # the administrator's list: the services check it
    key_customer: bool = Field(default=None)
    deal_status: Literal["open", "won"] = Field(default=None)
    province: str | None = Field(default=None, max_length=50)
    city: str | None = Field(default=None, max_length=50)
    district: str | None = Field(default=None, max_length=50)
    address: str | None = Field(default=None, max_length=300)
    website: str | None = Field(default=None, max_length=200)
    remarks: str | None = Field(default=None, max_length=5000)
    tags: TagNames = Field(default=None, max_length=200, description="Replaces the customer's tags")
    custom: dict[str, Any] = Field(default=None, max_length=100, description=CUSTOM_DESCRIPTION)


def customer_extras(ctx: Ctx, customers: Sequence[Customer]) -> dict[int, dict[str, Any]]:
    """``tags`` and ``custom`` of a response's customers: one query each, whatever their number."""
    ids = [customer.id for customer in customers]
    names: dict[int, list[str]] = {customer_id: [] for customer_id in ids}
    rows = ctx.dbsession.execute(select(CustomerTag.customer_id, Tag.name).join(Tag, Tag.id == CustomerTag.tag_id)
                                 .where(CustomerTag.customer_id.in_(ids)))
    for customer_id, name in rows:
        names[customer_id].append(name)
    custom = api_values(ctx, Customer, ids)
    return {customer_id: {"tags": sorted(names[customer_id]), "custom": custom[customer_id]} for customer_id in ids}


def _read(ctx: Ctx, customer: Customer) -> dict[str, Any]:
    return CUSTOMERS.read_values(ctx, [customer])[0]


# ---------------------------------------------------------------- customer actions


class AssignBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    owner_id: int = Field(ge=1, le=2**31 - 1)
    #: The contacts always follow the customer (one scope reaches both); only true is accepted.
    transfer_contacts: Literal[True] = True


def assign(ctx: Ctx, customer: Customer, body: AssignBody) -> dict[str, Any]:
    """转移 to another salesperson, who is notified; an inactive or unknown user is refused (422)."""
    services.assign_customers(ctx, [customer.id], body.owner_id)
    return _read(ctx, customer)


class ClaimBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[int] = Field(min_length=1, max_length=MAX_CLAIM)


class Claimed(BaseModel):
    items: list[CustomerRead]


def claim(ctx: Ctx, body: ClaimBody) -> dict[str, Any]:
    """领取 from the pool, all or nothing (module docstring)."""
    ids = list(dict.fromkeys(body.ids))
    try:
        with ctx.dbsession.begin_nested():
            customers = pool.claim_from_pool(ctx, ids)
    except KehuError as exc:
        if len(ids) == 1:
            raise
        refused = ClaimRefused(count=len(ids))
        refused.field_errors = _claim_problems(ctx, body.ids) or [("ids", exc)]
        raise refused from None
    return {"items": CUSTOMERS.read_values(ctx, customers)}


def _claim_problems(ctx: Ctx, ids: list[int]) -> list[tuple[str, KehuError]]:
    """What stops each id on its own, tried in a savepoint that is always rolled back."""
    problems: list[tuple[str, KehuError]] = []
    for index, customer_id in enumerate(ids):
        savepoint = ctx.dbsession.begin_nested()
        try:
            pool.claim_from_pool(ctx, [customer_id])
        except KehuError as exc:
            problems.append((f"ids.{index}", exc))
        finally:
            savepoint.rollback()
    return problems


class ReleaseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pool_id: int = Field(ge=1, le=2**31 - 1)
    reason: str = Field(default="", max_length=1000)


def release(ctx: Ctx, customer: Customer, body: ReleaseBody) -> dict[str, Any]:
    """放入公海 with a reason (required: ReasonRequired, 422)."""
    pool.return_to_pool(ctx, customer.id, body.pool_id, body.reason)
    return _read(ctx, customer)


class DuplicateQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    mobile: str | None = Field(default=None, max_length=30)
    credit_code: str | None = Field(default=None, max_length=30)
    email: str | None = Field(default=None, max_length=200)


class DuplicateRead(BaseModel):
    """A 查重 hit: outside the caller's scope the name is masked and ``customer_id`` is null."""

    name: str
    owner: str
    match: str = Field(description="credit_code, name, mobile, email, similar or pinyin (strongest first)")
    in_scope: bool
    customer_id: int | None
    pool: str | None = Field(description="The pool it waits in, when it has no owner")


class DuplicatesFound(BaseModel):
    items: list[DuplicateRead]


def duplicates(ctx: Ctx, query: DuplicateQuery) -> dict[str, Any]:
    """查重 across the installation, whatever the caller's scope (D-DUP, ``duplicates``)."""
    found = find_duplicates(ctx, DuplicatesQuery(**query.model_dump()))
    return {"items": [DuplicateRead(name=hit.name, owner=hit.owner, match=hit.match, in_scope=hit.in_scope,
                                    customer_id=hit.customer_id if hit.in_scope else None, pool=hit.pool)
                      for hit in found]}


def create_customer(ctx: Ctx, data: dict[str, Any]) -> Customer:
    names, custom = _tag_names(data.pop("tags")), data.pop("custom")
    check_api_values(ctx, Customer, custom, creating=True)  # refused before anything is written
    customer = services.create_customer(ctx, **data)
    if names:
        customer_tags.set_customer_tags(ctx, customer.id, names)
    write_api_values(ctx, customer, custom, creating=True)
    return customer


def update_customer(ctx: Ctx, customer: Customer, data: dict[str, Any]) -> Customer:
    """PATCH: ``tags`` replaces the set, ``custom`` changes the values sent. A change of either
    is a new version of the customer (its ETag)."""
    names = _tag_names(data.pop("tags")) if "tags" in data else None
    custom = data.pop("custom", None) or {}
    check_api_values(ctx, Customer, custom)
    if data:
        customer = services.update_customer(ctx, customer.id, **data)
    before = customer_extras(ctx, [customer])[customer.id]
    if names is not None:
        customer_tags.set_customer_tags(ctx, customer.id, names)
    write_api_values(ctx, customer, custom)
    if customer_extras(ctx, [customer])[customer.id] != before:
        customer.updated_at = ctx.now
    return customer


def _tag_names(raw: list[str]) -> list[str]:
    """The tags a body names, checked as the services check them, before any write
    (``errors[].field`` = ``tags``)."""
    names = customer_tags.parse_names(raw)
    refused: KehuError | None = None
    if len(names) > customer_tags.PER_CUSTOMER:
        refused = TooManyTags(limit=customer_tags.PER_CUSTOMER)
    for name in names:
        if refused is None and len(name) > customer_tags.NAME_LIMIT:
            refused = TagNameInvalid(name=name, limit=customer_tags.NAME_LIMIT)
    if refused is not None:
        refused.field_errors = [("tags", refused)]  # type: ignore[attr-defined]
        raise refused
    return names


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
    extra_fields=("tags", "custom"),
    load_extra=customer_extras,
    filters={"owner_id": "owner_id", "level": "level", "key_customer": "key_customer",
             "deal_status": "deal_status", "credit_code": "credit_code", "province": "province"},
    search=("name", "short_name", "pinyin", "initials", "credit_code"),
    sort=("id", "name", "created_at", "updated_at"),
    description="Customers (companies); a company already a customer is refused with 409.",
    actions=(
        ApiAction("assign", assign, params=AssignBody, response=CustomerRead,
                  errors=(UnknownChoice, AssigneeNotMember, AlreadyClaimed),  # a pool customer: pool_assign
                  summary="Assign a customer to another salesperson (contacts follow; the new owner is notified)"),
        ApiAction("claim", claim, on="collection", params=ClaimBody, response=Claimed,
                  permission="customers.pool:claim",
                  errors=(ClaimRefused, AlreadyClaimed, PoolUnavailable, ClaimLimitOwned, ClaimLimitDaily,
                          ReclaimBlocked),
                  summary="Claim customers from the public pool: all or nothing, with what stops each id"),
        ApiAction("release", release, params=ReleaseBody, response=CustomerRead,
                  errors=(ReasonRequired, AlreadyInPool, PoolUnavailable),
                  summary="Return a customer to a public pool, with a reason"),
        ApiAction("duplicates", duplicates, on="collection", method="GET", params=DuplicateQuery,
                  response=DuplicatesFound, permission="read",
                  summary="Duplicate check (查重) by name, mobile, credit code or e-mail: names and owners only"),
    ),
)


# ---------------------------------------------------------------- contacts


class ContactRead(BaseModel):
    id: int
    customer_id: int
    name: str
    title: str | None
    mobile: str | None  # sensitive: masked text without customers.contact:see_sensitive
    phone: str | None
    email: str | None
    wechat: str | None
    birthday: dt.date | None
    primary: bool
    owner_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ContactFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Text = Field(default=None, max_length=100)
    mobile: Text = Field(default=None, max_length=20)
    phone: Text = Field(default=None, max_length=30)
    email: Text = Field(default=None, max_length=200)
    wechat: Text = Field(default=None, max_length=100)
    birthday: dt.date | None = None
    primary: bool = False


class ContactCreate(ContactFields):
    customer_id: int = Field(ge=1, le=2**31 - 1)
    name: str = Field(min_length=1, max_length=100)


class ContactUpdate(ContactFields):
    """PATCH: only the fields sent change."""

    name: str = Field(default=None, min_length=1, max_length=100)
    primary: bool = Field(default=None)


def create_contact(ctx: Ctx, data: dict[str, Any]) -> Contact:
    customer_id = data.pop("customer_id")
    return services.add_contact(ctx, customer_id, **data)


def update_contact(ctx: Ctx, contact: Contact, data: dict[str, Any]) -> Contact:
    return services.update_contact(ctx, contact.id, **data)


def delete_contact(ctx: Ctx, contact: Contact) -> None:
    services.delete_contact(ctx, contact.id)


CONTACTS = ApiResource(
    name="contacts",
    model=Contact,
    read_schema=ContactRead,
    create_schema=ContactCreate,
    update_schema=ContactUpdate,
    create=create_contact,
    update=update_contact,
    delete=delete_contact,
    filters={"customer_id": "customer_id", "owner_id": "owner_id", "primary": "primary", "mobile": "mobile"},
    search=("name", "mobile", "email"),
    sort=("id", "name", "created_at", "updated_at"),
    description="Contacts (联系人) of customers; mobile, phone, e-mail and WeChat are masked without "
                "customers.contact:see_sensitive, and then match only as a whole value.",
)


# ---------------------------------------------------------------- follow-ups


class FollowupRead(BaseModel):
    id: int
    customer_id: int
    kind: str
    content: str
    next_at: dt.datetime | None
    next_step: str | None
    owner_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


FollowupKind = Literal["phone", "visit", "wechat", "email", "other"]


class FollowupCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: int = Field(ge=1, le=2**31 - 1)
    kind: FollowupKind
    content: str = Field(max_length=5000)
    next_at: dt.datetime | None = None
    next_step: Text = Field(default=None, max_length=200)


class FollowupUpdate(BaseModel):
    """PATCH (managers): only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    kind: FollowupKind = Field(default=None)
    content: str = Field(default=None, max_length=5000)
    next_at: dt.datetime | None = None
    next_step: Text = Field(default=None, max_length=200)


def followups_readable(ctx: Ctx) -> Any:
    """D-SCOPE: a follow-up is read by whoever sees its customer (a new owner reads the history),
    and by its author."""
    customers = select(Customer.id).where(scope_condition(ctx, Customer))
    return or_(scope_condition(ctx, Followup), Followup.customer_id.in_(customers))


def create_followup(ctx: Ctx, data: dict[str, Any]) -> Followup:
    customer_id = data.pop("customer_id")
    return services.add_followup(ctx, customer_id, **data)


def update_followup(ctx: Ctx, followup: Followup, data: dict[str, Any]) -> Followup:
    return services.update_followup(ctx, followup.id, **data)


def delete_followup(ctx: Ctx, followup: Followup) -> None:
    services.delete_followup(ctx, followup.id)


FOLLOWUPS = ApiResource(
    name="followups",
    model=Followup,
    read_schema=FollowupRead,
    create_schema=FollowupCreate,
    update_schema=FollowupUpdate,
    create=create_followup,
    update=update_followup,
    delete=delete_followup,
    read_scope=followups_readable,
    filters={"customer_id": "customer_id", "owner_id": "owner_id", "kind": "kind"},
    search=("content",),
    sort=("id", "created_at", "updated_at"),
    default_sort="id",
    description="Follow-ups (跟进记录): the author owns one, and whoever sees the customer reads it; adding one "
                "sets the customer's last follow-up, and its next one when next_at is given.",
)
