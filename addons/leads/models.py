"""Tables of the leads addon: leads (线索), the lead pools (线索池) and the moves in and out of
them, and follow-ups on leads."""

from __future__ import annotations

import datetime as dt
import decimal

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.access.members import HasTeam
from core.access.recycle import Recyclable
from core.access.scopes import Owned
from core.customfields import HasCustomFields
from core.db import Base, Model, UTCDateTime
from core.i18n import _
from core.models import User

#: A lead's life (L1–L4): worked while new / contacting / nurture, then qualified (convertible)
#: or disqualified; converted is final and read-only.
STATUSES = ("new", "contacting", "nurture", "qualified", "disqualified", "converted")
OPEN_STATUSES = ("new", "contacting", "nurture", "qualified")


class Lead(Model, Owned, Recyclable, HasTeam, HasCustomFields):
    """A prospect not yet a customer. ``owner_id`` empty ⇔ the lead is in ``pool_id``'s pool."""

    __tablename__ = "leads_lead"
    access_key = "leads.lead"
    custom_fields_title = _("Leads")
    __table_args__ = (Index("ix_leads_lead_created_at", "created_at"),
                      Index("ix_leads_lead_owner_status", "owner_id", "status"),
                      Index("ix_leads_lead_pool_owner", "pool_id", "owner_id"),
                      Index("ix_leads_lead_budget", "budget"),
                      Index("ix_leads_lead_updated_at", "updated_at"),
                      # the workbench's "mine due" card: one range scan per owner
                      Index("ix_leads_lead_owner_next_followup", "owner_id", "next_followup_at"),
                      # the nurture reminder job: leads in nurture by due time
                      Index("ix_leads_lead_status_next_followup", "status", "next_followup_at"))

    name: Mapped[str] = mapped_column(String(200), index=True, info={"label": _("Lead name")})
    #: The normalised company name (customers.names), for 查重 against customers and leads.
    name_key: Mapped[str] = mapped_column(String(200), index=True)
    contact_name: Mapped[str | None] = mapped_column(String(100), info={"label": _("Contact")})
    mobile: Mapped[str | None] = mapped_column(String(20), index=True, info={"label": _("Mobile"),
                                                                              "sensitive": "phone"})
    phone: Mapped[str | None] = mapped_column(String(30), info={"label": _("Phone"), "sensitive": "phone"})
    email: Mapped[str | None] = mapped_column(String(200), info={"label": _("Email"), "sensitive": "email"})
    wechat: Mapped[str | None] = mapped_column(String(100), info={"label": _("WeChat"), "sensitive": "text"})
    address: Mapped[str | None] = mapped_column(String(300), info={"label": _("Address")})
    province: Mapped[str | None] = mapped_column(String(50), index=True, info={"label": _("Province")})
    city: Mapped[str | None] = mapped_column(String(50), info={"label": _("City")})
    source: Mapped[str | None] = mapped_column(String(100), index=True, info={"label": _("Source")})
    industry: Mapped[str | None] = mapped_column(String(100), index=True, info={"label": _("Industry")})
    level: Mapped[str | None] = mapped_column(String(20), index=True, info={"label": _("Level")})
    requirement: Mapped[str | None] = mapped_column(Text, info={"label": _("Requirement")})
    budget: Mapped[decimal.Decimal | None] = mapped_column(Numeric(14, 2), info={"label": _("Expected budget")})
    status: Mapped[str] = mapped_column(String(12), default="new", index=True, info={"label": _("Status")})
    remarks: Mapped[str | None] = mapped_column(Text, info={"label": _("Remarks")})
    pool_id: Mapped[int | None] = mapped_column(ForeignKey("leads_pool.id", ondelete="SET NULL"), index=True,
                                                info={"label": _("Lead pool")})
    #: When the current owner got it (created, claimed, assigned): the automatic return's clock.
    acquired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, info={"label": _("Acquired")})
    last_followup_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True,
                                                                 info={"label": _("Last follow-up")})
    next_followup_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True,
                                                                 info={"label": _("Next follow-up")})
    #: Set by the conversion (L4): the customer the lead became or was merged into.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers_customer.id", ondelete="SET NULL"),
                                                    index=True, info={"label": _("Customer")})
    converted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, info={"label": _("Converted at")})
    #: 培育: a lead in nurture is followed up every this many days (1–365; 30 when it enters
    #: nurture without one); each follow-up without a next time sets the next one this far ahead.
    nurture_days: Mapped[int | None] = mapped_column(Integer, info={"label": _("Nurture every (days)")})
    #: The due time (``next_followup_at``) the nurture reminder was sent for: once per due time.
    nurture_reminded_for: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    owner: Mapped[User | None] = relationship(foreign_keys="Lead.owner_id", lazy="raise")
    pool: Mapped[LeadPool | None] = relationship(lazy="raise")
    tags: Mapped[list[LeadTag]] = relationship(secondary="leads_lead_tag", lazy="raise", order_by="LeadTag.name")


class LeadTag(Model):
    """A lead tag (线索标签), created by typing it on the lead form; ``colour`` is a Bootstrap
    colour name the badges use. Leads have their own tags, apart from the customers' ones."""

    __tablename__ = "leads_tag"

    name: Mapped[str] = mapped_column(String(30), unique=True, info={"label": _("Tag")})
    colour: Mapped[str] = mapped_column(String(20), default="secondary", info={"label": _("Colour")})


class LeadTagLink(Base):
    """The link of a lead and a tag; the primary key serves a lead's tags, the tag_id index
    the list's tag filter."""

    __tablename__ = "leads_lead_tag"

    lead_id: Mapped[int] = mapped_column(ForeignKey("leads_lead.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("leads_tag.id", ondelete="CASCADE"), primary_key=True,
                                        index=True)


class LeadPool(Model):
    """A lead pool (线索池, L1): leads without an owner. ``department_id`` empty = company-wide;
    otherwise the pool serves that department and the departments below it. Empty limits = no
    limit."""

    __tablename__ = "leads_pool"

    name: Mapped[str] = mapped_column(String(100), info={"label": _("Pool name")})
    department_id: Mapped[int | None] = mapped_column(ForeignKey("core_department.id", ondelete="SET NULL"),
                                                      index=True, info={"label": _("Department")})
    max_claims_per_day: Mapped[int | None] = mapped_column(Integer, info={"label": _("Most claims per day")})
    max_open_per_user: Mapped[int | None] = mapped_column(Integer, info={"label": _("Most open leads per person")})
    return_after_days: Mapped[int | None] = mapped_column(
        Integer, info={"label": _("Return after days without follow-up")})
    active: Mapped[bool] = mapped_column(Boolean, default=True, info={"label": _("Active")})


class LeadMove(Model):
    """One move of a lead into or out of a pool (claimed, returned, auto_returned, assigned):
    the claims-per-day count and the lead's timeline read it."""

    __tablename__ = "leads_move"
    __table_args__ = (Index("ix_leads_move_user_action_at", "user_id", "action", "at"),)

    lead_id: Mapped[int] = mapped_column(ForeignKey("leads_lead.id", ondelete="CASCADE"), index=True)
    pool_id: Mapped[int | None] = mapped_column(ForeignKey("leads_pool.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"))
    previous_owner_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class LeadFollowup(Model, Owned, Recyclable):
    """One contact with a lead (跟进): the same kinds and quick-add as a customer's."""

    __tablename__ = "leads_followup"
    access_key = "leads.followup"

    lead_id: Mapped[int] = mapped_column(ForeignKey("leads_lead.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10), info={"label": _("Type")})
    content: Mapped[str] = mapped_column(Text, info={"label": _("Content")})
    next_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, info={"label": _("Next follow-up")})
    next_step: Mapped[str | None] = mapped_column(String(200), info={"label": _("Next step")})

    owner: Mapped[User | None] = relationship(foreign_keys="LeadFollowup.owner_id", lazy="raise")


#: How a rule picks the owner (L3).
STRATEGIES = ("user", "round_robin", "least_loaded", "weighted")


class LeadRule(Model):
    """An automatic-assignment rule (L3): when every condition holds, the strategy picks the
    owner — a named user, or one of the department's people (round robin, fewest open leads, or
    weighted by their ``LeadAssignee.weight``). Rules are tried by ``priority``, lowest first."""

    __tablename__ = "leads_rule"

    name: Mapped[str] = mapped_column(String(100), info={"label": _("Rule name")})
    priority: Mapped[int] = mapped_column(Integer, default=100, info={"label": _("Priority")})
    active: Mapped[bool] = mapped_column(Boolean, default=True, info={"label": _("Active")})
    #: ``[{"field": "source", "op": "in", "value": ["展会", "官网"]}, {"field": "budget", "op": "gte", …}]``
    conditions: Mapped[list] = mapped_column(JSON, default=list, info={"label": _("Conditions")})
    strategy: Mapped[str] = mapped_column(String(20), info={"label": _("Strategy")})
    user_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"),
                                                info={"label": _("User")})
    department_id: Mapped[int | None] = mapped_column(ForeignKey("core_department.id", ondelete="SET NULL"),
                                                      info={"label": _("Department")})
    #: The round robin's cursor: whom this rule gave the last lead.
    last_user_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"))


class LeadAssignee(Model):
    """A salesperson's settings for automatic assignment, kept by the leads addon (the core has
    no leave): away until a date, a weight (experience), working hours in their time zone."""

    __tablename__ = "leads_assignee"

    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"), unique=True)
    away_until: Mapped[dt.date | None] = mapped_column(Date, info={"label": _("On leave until")})
    weight: Mapped[int] = mapped_column(Integer, default=1, info={"label": _("Weight")})
    work_start: Mapped[dt.time | None] = mapped_column(Time, info={"label": _("Working hours from")})
    work_end: Mapped[dt.time | None] = mapped_column(Time, info={"label": _("Working hours until")})
