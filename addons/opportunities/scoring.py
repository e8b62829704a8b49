"""Scoring (S3): a transparent score from 0 to 100 per opportunity, made of factors an
administrator weighs — the stage's win rate, the amount's band, how recently the customer was
followed up, the customer's level, how many follow-ups it had in 90 days, and the opportunity's
age. Each factor gives 0–100 points; the score is their weighted mean, and each factor's share
of it is kept with the score, so "why 72" adds up to exactly 72 (largest-remainder rounding).

Scores are stored (``Opportunity.score``, indexed: the ranking list sorts and exports them) and
recomputed when an opportunity changes, when the weights change, and nightly, because recency
and age move with the calendar."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func, select

from addons.customers.models import Customer, Followup
from core.config_cache import cached
from core.context import Ctx
from core.i18n import _

from .exceptions import ScoringWeightsInvalid
from .models import Opportunity, ScoringWeight

ADMIN = "opportunities.settings:admin"
#: Amount bands (yuan, lower bound) and their points.
AMOUNT_BANDS = ((1_000_000, 100), (300_000, 85), (100_000, 70), (30_000, 50), (10_000, 30), (0, 10))
#: Days since the customer's last follow-up and their points.
RECENCY_BANDS = ((7, 100), (30, 70), (90, 40), (180, 15))
LEVEL_POINTS = {"A": 100, "B": 70, "C": 40, "D": 15}
#: Days since the opportunity was opened and their points: fresh ones close more often.
AGE_BANDS = ((30, 100), (90, 70), (180, 40), (365, 20))
ENGAGEMENT_DAYS = 90
POINTS_PER_FOLLOWUP = 20
BATCH = 500


@dataclasses.dataclass(frozen=True)
class Factor:
    key: str
    label: Any
    default_weight: int


FACTORS = (
    Factor("stage", _("Stage win rate"), 30),
    Factor("amount", _("Amount band"), 15),
    Factor("recency", _("Recent follow-up"), 20),
    Factor("tier", _("Customer level"), 15),
    Factor("engagement", _("Follow-ups in 90 days"), 10),
    Factor("age", _("Age of the opportunity"), 10),
)
_BY_KEY = {factor.key: factor for factor in FACTORS}


def weights(ctx: Ctx) -> dict[str, int]:
    """Each factor's weight (0–100): the administrator's, else the default."""
    saved = cached(ctx, "opportunities.scoring_weights",
                   lambda: dict(ctx.dbsession.execute(select(ScoringWeight.factor, ScoringWeight.weight)).all()))
    return {factor.key: int(saved.get(factor.key, factor.default_weight)) for factor in FACTORS}


# ---------------------------------------------------------------- computing


@dataclasses.dataclass(frozen=True)
class Inputs:
    """What the factors read of one opportunity, loaded for many at once."""

    probability: int
    amount: decimal.Decimal
    last_followup_at: dt.datetime | None
    level: str | None
    followups: int
    created_at: dt.datetime


def _band(value: float, bands: Iterable[tuple[float, int]], *, upper: bool) -> int:
    for bound, points in bands:
        if (value <= bound) if upper else (value >= bound):
            return points
    return 0


def points(inputs: Inputs, now: dt.datetime) -> dict[str, tuple[int, str]]:
    """Each factor's points (0–100) and what they were read from, in words for the breakdown."""
    days_quiet = (now - inputs.last_followup_at).days if inputs.last_followup_at else None
    age = max(0, (now - inputs.created_at).days)
    return {
        "stage": (inputs.probability, f"{inputs.probability}%"),
        "amount": (_band(float(inputs.amount), AMOUNT_BANDS, upper=False), f"¥{inputs.amount:,.2f}"),
        "recency": (_band(days_quiet, RECENCY_BANDS, upper=True) if days_quiet is not None else 0,
                    f"{days_quiet}d" if days_quiet is not None else "—"),
        "tier": (LEVEL_POINTS.get((inputs.level or "").upper(), 0), inputs.level or "—"),
        "engagement": (min(100, inputs.followups * POINTS_PER_FOLLOWUP), str(inputs.followups)),
        "age": (_band(age, AGE_BANDS, upper=True), f"{age}d"),
    }


def score_of(inputs: Inputs, weight: Mapping[str, int], now: dt.datetime) -> tuple[int, list[dict[str, Any]]]:
    """The score and its factors: ``[{"factor", "points", "weight", "share", "basis"}]`` whose
    shares (whole points) add up to the score."""
    factor_points = points(inputs, now)
    total_weight = sum(weight.values())
    if total_weight <= 0:
        return 0, [{"factor": key, "points": p, "weight": 0, "share": 0, "basis": basis}
                   for key, (p, basis) in factor_points.items()]
    exact = {key: decimal.Decimal(weight[key] * p) / total_weight for key, (p, _basis) in factor_points.items()}
    score = int(sum(exact.values()).quantize(decimal.Decimal(1), rounding=decimal.ROUND_HALF_UP))
    shares = {key: int(value) for key, value in exact.items()}  # floors, then the largest remainders
    for key in sorted(exact, key=lambda k: (exact[k] - shares[k], k), reverse=True)[:score - sum(shares.values())]:
        shares[key] += 1
    return score, [{"factor": key, "points": p, "weight": weight[key], "share": shares[key], "basis": basis}
                   for key, (p, basis) in factor_points.items()]


def label(key: str) -> Any:
    factor = _BY_KEY.get(key)
    return factor.label if factor else key


# ---------------------------------------------------------------- storing


def rescore(ctx: Ctx, opportunity_ids: Iterable[int] | None = None) -> int:
    """Recompute and store the scores of the given opportunities (all open ones when None), in
    batches of a few queries each. Returns how many were scored."""
    query = select(Opportunity).where(Opportunity.deleted_at.is_(None))
    if opportunity_ids is None:
        query = query.where(Opportunity.status == "open")
    else:
        ids = list(opportunity_ids)
        if not ids:
            return 0
        query = query.where(Opportunity.id.in_(ids))
    weight, done, last_id = weights(ctx), 0, 0
    while True:
        batch = list(ctx.dbsession.scalars(query.where(Opportunity.id > last_id).order_by(Opportunity.id).limit(BATCH)))
        if not batch:
            return done
        for opportunity, inputs in _inputs(ctx, batch):
            opportunity.score, opportunity.score_factors = score_of(inputs, weight, ctx.now)
            opportunity.scored_at = ctx.now
        ctx.dbsession.flush()
        done, last_id = done + len(batch), batch[-1].id
        if len(batch) < BATCH:
            return done


def _inputs(ctx: Ctx, batch: list[Opportunity]) -> list[tuple[Opportunity, Inputs]]:
    customer_ids = sorted({o.customer_id for o in batch})
    customers = {row.id: row for row in ctx.dbsession.execute(
        select(Customer.id, Customer.level, Customer.last_followup_at).where(Customer.id.in_(customer_ids)))}
    since = ctx.now - dt.timedelta(days=ENGAGEMENT_DAYS)
    followups = dict(ctx.dbsession.execute(
        select(Followup.customer_id, func.count()).where(Followup.customer_id.in_(customer_ids),
                                                         Followup.created_at >= since, Followup.deleted_at.is_(None))
        .group_by(Followup.customer_id)).all())
    out = []
    for opportunity in batch:
        customer = customers.get(opportunity.customer_id)
        out.append((opportunity, Inputs(
            probability=opportunity.probability or 0, amount=decimal.Decimal(opportunity.amount or 0),
            last_followup_at=customer.last_followup_at if customer else None,
            level=customer.level if customer else None, followups=followups.get(opportunity.customer_id, 0),
            created_at=opportunity.created_at or ctx.now)))
    return out


def save_weights(ctx: Ctx, values: Mapping[str, Any]) -> dict[str, int]:
    """The administrator's weights (whole numbers 0–100, not all zero); every open
    opportunity is rescored at once, so the ranking follows."""
    from .services import changed  # the services score through this module

    ctx.access.require(ADMIN)
    cleaned: dict[str, int] = {}
    for factor in FACTORS:
        try:
            value = int(str(values.get(factor.key, factor.default_weight)).strip())
        except ValueError:
            raise ScoringWeightsInvalid() from None
        if not 0 <= value <= 100:
            raise ScoringWeightsInvalid()
        cleaned[factor.key] = value
    if not any(cleaned.values()):
        raise ScoringWeightsInvalid()
    before = weights(ctx)
    rows = {row.factor: row for row in ctx.dbsession.scalars(select(ScoringWeight))}
    for key, value in cleaned.items():
        row = rows.get(key) or ScoringWeight(factor=key)
        row.weight = value
        ctx.dbsession.add(row)
    ctx.dbsession.flush()
    changed(ctx, "updated", _Settings(), {key: (before[key], value) for key, value in cleaned.items()
                                          if before[key] != value})
    rescore(ctx)  # this session reads its own weights, not the cache
    return cleaned


class _Settings:
    """The scoring settings as the audit names them."""

    __tablename__ = ScoringWeight.__tablename__
    id = 0


def customer_changed(ctx: Ctx, change: Any) -> None:
    """``kehu_record_changed``: a follow-up on a customer, or its level changed, moves the
    recency, engagement and level factors of the customer's open opportunities."""
    if change.model == "customers_followup" and change.action == "created":
        customer_id = ctx.dbsession.scalar(select(Followup.customer_id).where(Followup.id == change.record_id))
    elif change.model == "customers_customer" and "level" in change.changes:
        customer_id = int(change.record_id)
    else:
        return
    ids = list(ctx.dbsession.scalars(select(Opportunity.id).where(
        Opportunity.customer_id == customer_id, Opportunity.status == "open", Opportunity.deleted_at.is_(None))))
    rescore(ctx, ids)


def nightly(ctx: Ctx) -> dict[str, int]:
    """The periodic job: recency and age move with the calendar."""
    return {"scored": rescore(ctx)}

