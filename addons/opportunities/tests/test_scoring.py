"""Scoring (S3): the factors' points, the breakdown that adds up to the score whatever the
weights, the weights an administrator saves (checked, audited, every open opportunity rescored),
and the customer's follow-ups and level moving the score."""

import datetime as dt
import decimal

import pytest
from sqlalchemy import select

from addons.customers import services as customers
from addons.opportunities import scoring, services
from addons.opportunities.exceptions import ScoringWeightsInvalid
from addons.opportunities.models import Opportunity, ScoringWeight
from core.access.exceptions import PermissionDenied
from core.models import User

from .conftest import as_user

NOW = dt.datetime(2026, 12, 5, 8, 0, tzinfo=dt.UTC)


def inputs(**changes):
    base = {"probability": 60, "amount": decimal.Decimal("150000"), "last_followup_at": NOW - dt.timedelta(days=3),
            "level": "B", "followups": 2, "created_at": NOW - dt.timedelta(days=45)}
    return scoring.Inputs(**{**base, **changes})


def test_a_hand_computed_score_and_its_breakdown():
    weights = {factor.key: factor.default_weight for factor in scoring.FACTORS}
    score, factors = scoring.score_of(inputs(), weights, NOW)
    by_key = {f["factor"]: f for f in factors}
    # stage 60, amount 70 (≥100k), recency 100 (3 days), tier 70 (B), engagement 40 (2 × 20), age 70 (≤90 d)
    assert {k: f["points"] for k, f in by_key.items()} == {"stage": 60, "amount": 70, "recency": 100, "tier": 70,
                                                           "engagement": 40, "age": 70}
    # (30×60 + 15×70 + 20×100 + 15×70 + 10×40 + 10×70) / 100 = 70
    assert score == 70 and sum(f["share"] for f in factors) == 70
    assert by_key["stage"]["share"] == 18 and by_key["recency"]["share"] == 20


@pytest.mark.parametrize("weights", [
    {"stage": 7, "amount": 3, "recency": 11, "tier": 0, "engagement": 5, "age": 13},
    {"stage": 1, "amount": 1, "recency": 1, "tier": 1, "engagement": 1, "age": 1},
    {"stage": 100, "amount": 0, "recency": 0, "tier": 0, "engagement": 0, "age": 0},
    {"stage": 33, "amount": 33, "recency": 33, "tier": 1, "engagement": 0, "age": 0},
])
@pytest.mark.parametrize("case", [inputs(), inputs(probability=13, amount=decimal.Decimal(0), level=None,
                                                    last_followup_at=None, followups=0),
                                  inputs(probability=99, followups=7, created_at=NOW - dt.timedelta(days=400))])
def test_the_breakdown_always_sums_to_the_score(weights, case):
    score, factors = scoring.score_of(case, weights, NOW)
    assert 0 <= score <= 100
    assert sum(f["share"] for f in factors) == score
    assert all(f["share"] >= 0 for f in factors)


def test_scores_are_stored_and_follow_the_customer_and_the_weights(company):
    env, users = company
    with env.ctx() as ctx:
        zhang = as_user(ctx, users["zhang"])
        opportunity = services.create_opportunity(zhang, customer_id=users["customer"], title="评分", amount="150000")
        first = opportunity.score
        assert first > 0 and sum(f["share"] for f in opportunity.score_factors) == first
        customers.add_followup(zhang, users["customer"], kind="phone", content="电话沟通")
        after_followup = ctx.dbsession.get(Opportunity, opportunity.id).score
        assert after_followup > first  # recency and engagement
        opportunity_id = opportunity.id
    with env.ctx() as ctx:
        admin = ctx.as_user(ctx.dbsession.scalars(select(User).where(User.username == "admin")).one())
        with pytest.raises(ScoringWeightsInvalid):
            scoring.save_weights(admin, {"stage": "101"})
        with pytest.raises(ScoringWeightsInvalid):
            scoring.save_weights(admin, {factor.key: 0 for factor in scoring.FACTORS})
        assert ctx.dbsession.scalars(select(ScoringWeight)).all() == []
        scoring.save_weights(admin, {"stage": 100, "amount": 0, "recency": 0, "tier": 0, "engagement": 0, "age": 0})
    with env.ctx() as ctx:
        assert ctx.dbsession.get(Opportunity, opportunity_id).score == 10  # 初步接洽's 10 %
        with pytest.raises(PermissionDenied):
            scoring.save_weights(as_user(ctx, users["zhang"]), {"stage": 50})
