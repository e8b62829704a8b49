"""Tables of the opportunities addon: pipelines (商机流程) of ordered stages, opportunities
(商机), each stage change (for time in stage, win rates and cycle length), and sales targets."""

from __future__ import annotations

import datetime as dt
import decimal

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from addons.customers.models import Customer
from core.access.members import HasTeam
from core.access.recycle import Recyclable
from core.access.scopes import Owned
from core.config_cache import config_model
from core.customfields import HasCustomFields
from core.db import Model, UTCDateTime
from core.i18n import _
from core.models import User

#: A stage is worked (open) or ends the opportunity: won (赢单) or lost (输单).
STAGE_KINDS = ("open", "won", "lost")


class Pipeline(Model):
    """商机流程: an ordered set of stages. ``department_id`` empty = for the whole company;
    otherwise offered to that department and those below it."""

    __tablename__ = "opportunities_pipeline"

    name: Mapped[str] = mapped_column(String(100), info={"label": _("Pipeline name")})
    department_id: Mapped[int | None] = mapped_column(ForeignKey("core_department.id", ondelete="SET NULL"),
                                                      index=True, info={"label": _("Department")})
    active: Mapped[bool] = mapped_column(Boolean, default=True, info={"label": _("Active")})

    stages: Mapped[list[Stage]] = relationship(order_by="Stage.sequence, Stage.id", lazy="raise",
                                               back_populates="pipeline")


class Stage(Model):
    """One stage of a pipeline, with its default win probability (a percentage)."""

    __tablename__ = "opportunities_stage"
    __table_args__ = (Index("ix_opportunities_stage_pipeline_sequence", "pipeline_id", "sequence"),)

    pipeline_id: Mapped[int] = mapped_column(ForeignKey("opportunities_pipeline.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(50), info={"label": _("Stage")})
    sequence: Mapped[int] = mapped_column(Integer, default=10)
    probability: Mapped[int] = mapped_column(Integer, default=0, info={"label": _("Probability (%)")})
    kind: Mapped[str] = mapped_column(String(10), default="open")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    pipeline: Mapped[Pipeline] = relationship(lazy="raise", back_populates="stages")


class Opportunity(Model, Owned, Recyclable, HasTeam, HasCustomFields):
    """商机 (S1): a sale being worked for a customer. ``status`` follows the stage's kind (open,
    won, lost) and is kept on the row for the lists' and reports' indexes. Collaborators are the
    record's team members (core.access.members)."""

    __tablename__ = "opportunities_opportunity"
    access_key = "opportunities.opportunity"
    custom_fields_title = _("Opportunities")
    __table_args__ = (Index("ix_opportunities_opportunity_status_close", "status", "expected_close"),
                      Index("ix_opportunities_opportunity_owner_status", "owner_id", "status"),
                      Index("ix_opportunities_opportunity_created_at", "created_at"),
                      Index("ix_opportunities_opportunity_updated_at", "updated_at"))

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers_customer.id", ondelete="CASCADE"), index=True,
                                             info={"label": _("Customer")})
    title: Mapped[str] = mapped_column(String(200), index=True, info={"label": _("Opportunity")})
    amount: Mapped[decimal.Decimal] = mapped_column(Numeric(14, 2), default=decimal.Decimal(0), index=True,
                                                    info={"label": _("Amount")})
    expected_close: Mapped[dt.date | None] = mapped_column(Date, index=True, info={"label": _("Expected close")})
    probability: Mapped[int] = mapped_column(Integer, default=0, info={"label": _("Probability (%)")})
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("opportunities_pipeline.id"), index=True,
                                             info={"label": _("Pipeline")})
    stage_id: Mapped[int] = mapped_column(ForeignKey("opportunities_stage.id"), index=True,
                                          info={"label": _("Stage")})
    status: Mapped[str] = mapped_column(String(10), default="open", index=True, info={"label": _("Status")})
    stage_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, info={"label": _("In this stage since")})
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True, info={"label": _("Closed")})
    lost_reason: Mapped[str | None] = mapped_column(Text, info={"label": _("Lost reason")})
    competitor: Mapped[str | None] = mapped_column(String(200), info={"label": _("Competitor")})
    #: Products of interest, free text until the products addon offers lines (``opportunities_lines``).
    products: Mapped[str | None] = mapped_column(Text, info={"label": _("Products of interest")})
    description: Mapped[str | None] = mapped_column(Text, info={"label": _("Description")})
    #: The lead this came from (leads addon), by id only: leads may not be installed.
    lead_id: Mapped[int | None] = mapped_column(Integer, index=True, info={"label": _("From lead")})
    #: The close date the overdue notice was sent for: one notice per date (S2).
    overdue_notified_for: Mapped[dt.date | None] = mapped_column(Date)
    #: The score (S3, 0–100) and the factors it was made of, kept together so "why 72" always
    #: explains the number shown; recomputed on every change and nightly (``scoring``).
    score: Mapped[int] = mapped_column(Integer, default=0, index=True, info={"label": _("Score")})
    score_factors: Mapped[list] = mapped_column(JSON, default=list)
    scored_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    customer: Mapped[Customer] = relationship(lazy="raise")
    owner: Mapped[User | None] = relationship(foreign_keys="Opportunity.owner_id", lazy="raise")
    stage: Mapped[Stage] = relationship(lazy="raise")


class StageChange(Model):
    """One move of an opportunity into a stage (its creation included): time in stage, win rate
    and cycle length by stage are read from these."""

    __tablename__ = "opportunities_stage_change"
    __table_args__ = (Index("ix_opportunities_stage_change_opportunity_at", "opportunity_id", "at"),)

    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunities_opportunity.id", ondelete="CASCADE"))
    from_stage_id: Mapped[int | None] = mapped_column(ForeignKey("opportunities_stage.id", ondelete="SET NULL"))
    to_stage_id: Mapped[int] = mapped_column(ForeignKey("opportunities_stage.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class Target(Model):
    """A salesperson's target (销售目标) for one month, entered by an administrator (S4)."""

    __tablename__ = "opportunities_target"
    __table_args__ = (UniqueConstraint("user_id", "month", name="uq_opportunities_target_user_month"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"), info={"label": _("User")})
    #: The first day of the month.
    month: Mapped[dt.date] = mapped_column(Date, index=True, info={"label": _("Month")})
    amount: Mapped[decimal.Decimal] = mapped_column(Numeric(14, 2), info={"label": _("Target")})


@config_model
class ScoringWeight(Model):
    """The administrator's weight of one scoring factor (S3); a factor without a row keeps its
    default weight (``scoring.FACTORS``)."""

    __tablename__ = "opportunities_scoring_weight"

    factor: Mapped[str] = mapped_column(String(30), unique=True)
    weight: Mapped[int] = mapped_column(Integer, info={"label": _("Weight")})
