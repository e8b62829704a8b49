"""Customers (companies), their contacts and follow-ups. Each is Owned, so record scopes and
masking apply on every path; tables start with ``customers_``."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.access.scopes import Owned
from core.db import Model, UTCDateTime
from core.i18n import _
from core.models import User


class Customer(Model, Owned):
    """A company. ``name_key`` (the normalised name) is unique in the installation: one company,
    one customer record, whoever owns it."""

    __tablename__ = "customers_customer"
    access_key = "customers.customer"
    __table_args__ = (Index("ix_customers_customer_created_at", "created_at"),
                      Index("ix_customers_customer_updated_at", "updated_at"),
                      Index("ix_customers_customer_name", "name"))

    name: Mapped[str] = mapped_column(String(200), info={"label": _("Customer name")})
    name_key: Mapped[str] = mapped_column(String(200), unique=True)
    short_name: Mapped[str | None] = mapped_column(String(100), index=True, info={"label": _("Short name")})
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True,
                                                    info={"label": _("Unified social credit code")})
    industry: Mapped[str | None] = mapped_column(String(100), index=True, info={"label": _("Industry")})
    source: Mapped[str | None] = mapped_column(String(100), index=True, info={"label": _("Source")})
    level: Mapped[str | None] = mapped_column(String(1), index=True, info={"label": _("Level")})
    key_customer: Mapped[bool] = mapped_column(Boolean, default=False, index=True,
                                               info={"label": _("Key customer")})
    deal_status: Mapped[str] = mapped_column(String(10), default="open", index=True,
                                             info={"label": _("Deal status")})
    province: Mapped[str | None] = mapped_column(String(50), index=True, info={"label": _("Province")})
    city: Mapped[str | None] = mapped_column(String(50), info={"label": _("City")})
    district: Mapped[str | None] = mapped_column(String(50), info={"label": _("District")})
    address: Mapped[str | None] = mapped_column(String(300), info={"label": _("Address")})
    website: Mapped[str | None] = mapped_column(String(200), info={"label": _("Website")})
    remarks: Mapped[str | None] = mapped_column(Text, info={"label": _("Remarks")})
    next_followup_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True,
                                                                 info={"label": _("Next follow-up")})
    last_followup_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True,
                                                                 info={"label": _("Last follow-up")})
    pinyin: Mapped[str | None] = mapped_column(String(400), index=True)
    initials: Mapped[str | None] = mapped_column(String(200), index=True)
    #: D-OWN: the pool the customer is in (owner empty) or was claimed from and returns to.
    pool_id: Mapped[int | None] = mapped_column(ForeignKey("customers_pool.id", ondelete="SET NULL"), index=True,
                                                info={"label": _("Pool")})
    #: When the current owner got it from a pool: the clock of the automatic-return rules.
    acquired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, info={"label": _("Acquired")})

    owner: Mapped[User | None] = relationship(foreign_keys="Customer.owner_id", lazy="raise")
    pool: Mapped[Pool | None] = relationship(lazy="raise")


class Contact(Model, Owned):
    """A person at a customer. Its owner is the customer's owner, kept in step by the services,
    so the same scopes reach both."""

    __tablename__ = "customers_contact"
    access_key = "customers.contact"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers_customer.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), index=True, info={"label": _("Name")})
    title: Mapped[str | None] = mapped_column(String(100), info={"label": _("Job title")})
    mobile: Mapped[str | None] = mapped_column(String(20), index=True, info={"label": _("Mobile"),
                                                                              "sensitive": "phone"})
    phone: Mapped[str | None] = mapped_column(String(30), info={"label": _("Phone"), "sensitive": "phone"})
    email: Mapped[str | None] = mapped_column(String(200), info={"label": _("Email"), "sensitive": "email"})
    wechat: Mapped[str | None] = mapped_column(String(100), info={"label": _("WeChat"), "sensitive": "text"})
    birthday: Mapped[dt.date | None] = mapped_column(Date, info={"label": _("Birthday")})
    primary: Mapped[bool] = mapped_column(Boolean, default=False, info={"label": _("Primary contact")})

    customer: Mapped[Customer] = relationship(lazy="raise")


class Followup(Model, Owned):
    """One contact with a customer (跟进): its owner is the author."""

    __tablename__ = "customers_followup"
    access_key = "customers.followup"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers_customer.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10), info={"label": _("Type")})
    content: Mapped[str] = mapped_column(Text, info={"label": _("Content")})
    next_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, info={"label": _("Next follow-up")})
    next_step: Mapped[str | None] = mapped_column(String(200), info={"label": _("Next step")})

    owner: Mapped[User | None] = relationship(foreign_keys="Followup.owner_id", lazy="raise")


class Pool(Model):
    """A public pool (公海, D-POOL): customers without an owner, and the rules of claiming from it
    and returning to it. ``department_id`` empty = company-wide; empty limits = no limit."""

    __tablename__ = "customers_pool"

    name: Mapped[str] = mapped_column(String(100), info={"label": _("Pool name")})
    department_id: Mapped[int | None] = mapped_column(ForeignKey("core_department.id", ondelete="SET NULL"),
                                                      index=True, info={"label": _("Department")})
    max_owned: Mapped[int | None] = mapped_column(Integer, info={"label": _("Most customers owned per person")})
    max_claims_per_day: Mapped[int | None] = mapped_column(Integer, info={"label": _("Most claims per day")})
    reclaim_block_days: Mapped[int] = mapped_column(Integer, default=0,
                                                    info={"label": _("Days before a previous owner may reclaim")})
    return_after_days_without_followup: Mapped[int | None] = mapped_column(
        Integer, info={"label": _("Return after days without follow-up")})
    return_after_days_without_deal: Mapped[int | None] = mapped_column(
        Integer, info={"label": _("Return after days without a deal")})
    warn_days_before: Mapped[int] = mapped_column(Integer, default=0,
                                                  info={"label": _("Warn the owner days before")})
    active: Mapped[bool] = mapped_column(Boolean, default=True, info={"label": _("Active")})


class PoolMove(Model):
    """One move of a customer into or out of a pool (claimed, returned, auto_returned,
    assigned) or a warning sent (warned): the reclaim block, the claims-per-day count and the
    customer's timeline all read it."""

    __tablename__ = "customers_pool_move"
    __table_args__ = (Index("ix_customers_pool_move_user_action_at", "user_id", "action", "at"),)

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers_customer.id", ondelete="CASCADE"), index=True)
    pool_id: Mapped[int | None] = mapped_column(ForeignKey("customers_pool.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(20))
    #: Who acted (the claimer, the returner); empty for the periodic job.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"))
    #: The owner before a return: the one the reclaim block applies to.
    previous_owner_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
