"""Customers (companies), their contacts and follow-ups. Each is Owned, so record scopes and
masking apply on every path; tables start with ``customers_``."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.access.members import HasTeam
from core.access.recycle import Recyclable
from core.access.scopes import Owned
from core.config_cache import config_model
from core.customfields import HasCustomFields
from core.db import Base, Model, UTCDateTime
from core.files import StoredFile  # noqa: F401 (customers_attachment.file_id refers to its table)
from core.i18n import _
from core.models import User


class Customer(Model, Owned, Recyclable, HasTeam, HasCustomFields):
    """A company. ``name_key`` (the normalised name) is unique in the installation: one company,
    one customer record, whoever owns it."""

    __tablename__ = "customers_customer"
    access_key = "customers.customer"
    custom_fields_title = _("Customers")
    __table_args__ = (Index("ix_customers_customer_created_at", "created_at"),
                      Index("ix_customers_customer_updated_at", "updated_at"),
                      Index("ix_customers_customer_name", "name"),
                      # Migration c003's search indexes (search.py): derived by the database, not modelled.
                      {"info": {"migration_only": (
                          "ix_customers_customer_name_trgm", "ix_customers_customer_short_name_trgm",
                          "ix_customers_customer_pinyin_trgm", "ix_customers_customer_initials_trgm",
                          "ix_customers_customer_name_grams", "customers_customer_fts", "customers_customer_fts_data",
                          "customers_customer_fts_idx", "customers_customer_fts_docsize",
                          "customers_customer_fts_config")}})

    name: Mapped[str] = mapped_column(String(200), info={"label": _("Customer name")})
    name_key: Mapped[str] = mapped_column(String(200), unique=True)
    short_name: Mapped[str | None] = mapped_column(String(100), index=True, info={"label": _("Short name")})
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True,
                                                    info={"label": _("Unified social credit code")})
    industry: Mapped[str | None] = mapped_column(String(100), index=True, info={"label": _("Industry")})
    source: Mapped[str | None] = mapped_column(String(100), index=True, info={"label": _("Source")})
    level: Mapped[str | None] = mapped_column(String(20), index=True, info={"label": _("Level")})
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
    #: 锁定 (D-RETURN): the automatic return skips it; within the pool's ``max_locked`` per owner.
    locked: Mapped[bool] = mapped_column(Boolean, default=False, info={"label": _("Locked")})

    owner: Mapped[User | None] = relationship(foreign_keys="Customer.owner_id", lazy="raise")
    pool: Mapped[Pool | None] = relationship(lazy="raise")
    tags: Mapped[list[Tag]] = relationship(secondary="customers_customer_tag", lazy="raise", order_by="Tag.name")
    #: Who put it in the recycle bin (the bin's page shows it).
    deleter: Mapped[User | None] = relationship(foreign_keys="Customer.deleted_by", lazy="raise", viewonly=True)


class Contact(Model, Owned, Recyclable):
    """A person at a customer. Its owner is the customer's owner, kept in step by the services,
    so the same scopes reach both."""

    __tablename__ = "customers_contact"
    access_key = "customers.contact"
    # Migration c009's expression indexes: lower(name) for the search's prefix match,
    # lower(email) for 查重 by e-mail (search.py, duplicates.py).
    __table_args__ = ({"info": {"migration_only": ("ix_customers_contact_name_lower",
                                                   "ix_customers_contact_email_lower")}},)

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


class Followup(Model, Owned, Recyclable):
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
    max_locked: Mapped[int | None] = mapped_column(Integer, info={"label": _("Most locked customers per person")})
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
    #: Whom a pool manager assigned the customer to ("assigned").
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"))


class FollowupPlan(Model, Owned):
    """跟进计划: a follow-up someone means to make, with its due time (K2). Made from a follow-up's
    "next follow-up" and owned by whoever wrote it (the one who promised the call is the one
    reminded); ``state`` is planned, done or cancelled. ``reminded_at`` is set once, by the
    conditional UPDATE of the reminder job, and cleared when the plan is moved."""

    __tablename__ = "customers_followup_plan"
    access_key = "customers.plan"
    __table_args__ = (
        # the reminder job: open plans not yet reminded, by due time
        Index("ix_customers_followup_plan_due", "state", "reminded_at", "due_at"),
        # a customer's open plans (its next follow-up, the customer page)
        Index("ix_customers_followup_plan_customer_state", "customer_id", "state", "due_at"),
    )

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers_customer.id", ondelete="CASCADE"))
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, info={"label": _("Due")})
    title: Mapped[str] = mapped_column(String(200), info={"label": _("Next step")})
    state: Mapped[str] = mapped_column(String(10), default="planned", info={"label": _("State")})
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, info={"label": _("Done")})
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: The follow-up whose "next follow-up" made the plan.
    followup_id: Mapped[int | None] = mapped_column(ForeignKey("customers_followup.id", ondelete="SET NULL"),
                                                    index=True)

    owner: Mapped[User | None] = relationship(foreign_keys="FollowupPlan.owner_id", lazy="raise")


@config_model
class Choice(Model):
    """One entry of an administrator's list (``kind``: source 来源, level 级别, industry 行业):
    ``value`` is what customers store and never changes; ``label`` is what people read and may be
    renamed. A used entry is deactivated, never deleted: customers keep it, nobody picks it anew."""

    __tablename__ = "customers_choice"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    kind: Mapped[str] = mapped_column(String(20), info={"label": _("List")})
    value: Mapped[str] = mapped_column(String(100), info={"label": _("Value")})
    label: Mapped[str] = mapped_column(String(100), info={"label": _("Label")})
    position: Mapped[int] = mapped_column(Integer, default=0, info={"label": _("Position")})
    active: Mapped[bool] = mapped_column(Boolean, default=True, info={"label": _("Active")})


class Tag(Model):
    """A tag (标签) anyone who edits customers may create by typing it; ``colour`` is a Bootstrap
    colour name the badges use."""

    __tablename__ = "customers_tag"

    name: Mapped[str] = mapped_column(String(30), unique=True, info={"label": _("Tag")})
    colour: Mapped[str] = mapped_column(String(20), default="secondary", info={"label": _("Colour")})


class CustomerTag(Base):
    """The link of a customer and a tag; the tag_id index serves the list's tag filter."""

    __tablename__ = "customers_customer_tag"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers_customer.id", ondelete="CASCADE"),
                                             primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("customers_tag.id", ondelete="CASCADE"), primary_key=True,
                                        index=True)


class Attachment(Model):
    """A file attached to a customer (附件): the bytes are a core ``StoredFile``; who may read the
    customer may download it, who may edit the customer may add and delete."""

    __tablename__ = "customers_attachment"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers_customer.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("core_stored_file.id", ondelete="CASCADE"), unique=True)


#: The workbench's "mine due today / overdue" cards: one range scan per user (customers.dashboard).
Index("ix_customers_customer_owner_next_followup", Customer.owner_id, Customer.next_followup_at)


class PoolMember(Model):
    """Who a pool serves (D-POOL): a user or a department (with the departments below it); a
    user with ``manager`` assigns from the pool to any member and reads its history. A pool
    with neither members nor ``department_id`` is company-wide."""

    __tablename__ = "customers_pool_member"
    __table_args__ = (Index("ix_customers_pool_member_pool", "pool_id", "user_id", "department_id"),)

    pool_id: Mapped[int] = mapped_column(ForeignKey("customers_pool.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("core_department.id", ondelete="CASCADE"),
                                                      index=True)
    manager: Mapped[bool] = mapped_column(Boolean, default=False, info={"label": _("Pool manager")})


class PoolRule(Model):
    """The automatic return's days for one customer level in one pool (D-RETURN: key customers
    recalled faster or slower); a blank value falls back to the pool's own."""

    __tablename__ = "customers_pool_rule"
    __table_args__ = (UniqueConstraint("pool_id", "level"),)

    pool_id: Mapped[int] = mapped_column(ForeignKey("customers_pool.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(20), info={"label": _("Level")})
    days_without_followup: Mapped[int | None] = mapped_column(Integer, info={
        "label": _("Return after days without follow-up")})
    days_without_deal: Mapped[int | None] = mapped_column(Integer, info={
        "label": _("Return after days without a deal")})
