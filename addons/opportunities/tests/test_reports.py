"""The forecast and reports (S4–S5) against a hand-computed fixture: the weighted pipeline by
month, the forecast from each stage's history, by owner and department, won against target,
win rate by stage — and who may see them."""

import decimal

import pytest
from sqlalchemy import select

from addons.customers import services as customers
from addons.opportunities import reports, services
from addons.opportunities.exceptions import TargetInvalid
from addons.opportunities.models import Pipeline, Stage
from core.access.exceptions import PermissionDenied
from core.models import User

from .conftest import as_user

D = decimal.Decimal


@pytest.fixture
def fixture(company):
    """Open: A ¥100,000 方案报价 due 2027-01; B ¥50,000 初步接洽 due 2027-01; C ¥200,000 谈判审核
    due 2027-02; D ¥10,000 需求确认 undated. Closed: five ¥1,000 through 方案报价, four won, one lost."""
    env, users = company
    with env.ctx() as ctx:
        zhang = as_user(ctx, users["zhang"])
        stage = {s.name: s.id for s in ctx.dbsession.scalars(select(Stage))}

        def opened(title, amount, at, close=None):
            return services.create_opportunity(zhang, customer_id=users["customer"], title=title, amount=amount,
                                               stage_id=stage[at], expected_close=close).id

        opened("A", "100000", "方案报价", "2027-01-15")
        opened("B", "50000", "初步接洽", "2027-01-20")
        opened("C", "200000", "谈判审核", "2027-02-10")
        opened("D", "10000", "需求确认")
        for n in range(5):
            closed = opened(f"结{n}", "1000", "初步接洽", "2026-12-31")
            services.move_stage(zhang, closed, stage["方案报价"])
            if n < 4:
                services.move_stage(zhang, closed, stage["赢单"])
            else:
                services.move_stage(zhang, closed, stage["输单"], lost_reason="预算")
        admin = ctx.as_user(ctx.dbsession.scalars(select(User).where(User.username == "admin")).one())
        reports.save_target(admin, users["zhang"], ctx.now.strftime("%Y-%m"), "5000")
        year = ctx.now.year
        pipeline = ctx.dbsession.scalars(select(Pipeline.id)).first()
    return env, users, year, pipeline


def test_the_forecast_by_month_by_hand(fixture):
    env, users, _year, _pipeline = fixture
    with env.ctx() as ctx:
        rows = {row.month: row for row in reports.forecast_by_month(as_user(ctx, users["wang"]))}
    assert list(rows) == ["2027-01", "2027-02", ""]
    january, february, undated = rows["2027-01"], rows["2027-02"], rows[""]
    assert (january.count, january.amount, january.weighted) == (2, D("150000.00"), D("65000.00"))
    assert (february.count, february.amount, february.weighted) == (1, D("200000.00"), D("160000.00"))
    assert (undated.count, undated.amount, undated.weighted) == (1, D("10000.00"), D("3000.00"))
    # history: 5 closed passed through 初步接洽 and 方案报价, 4 won → 80 % for both; 谈判审核 and
    # 需求确认 have no history and keep their 80 % and 30 %
    assert january.historical == D("120000.00")  # 100,000 × 0.8 + 50,000 × 0.8
    assert (february.historical, undated.historical) == (D("160000.00"), D("3000.00"))


def test_by_owner_department_target_and_stage(fixture):
    env, users, year, pipeline = fixture
    with env.ctx() as ctx:
        wang = as_user(ctx, users["wang"])
        (owner,) = reports.pipeline_by_owner(wang)
        assert (owner.key, owner.count, owner.amount, owner.weighted) == (users["zhang"], 4, D("360000.00"),
                                                                         D("228000.00"))
        (department,) = reports.pipeline_by_department(wang)
        assert (department.label, department.weighted) == ("华东大区", D("228000.00"))
        (target,) = reports.won_against_target(wang, year)
        assert (target.user_id, target.target, target.won, target.reached) == (users["zhang"], D("5000.00"),
                                                                               D("4000.00"), D("0.800"))
        by_stage = {row.name: row for row in reports.stage_report(wang, pipeline)}
        assert (by_stage["方案报价"].reached, by_stage["方案报价"].closed, by_stage["方案报价"].won) == (6, 5, 4)
        assert by_stage["方案报价"].win_rate == D("0.800")
        assert by_stage["初步接洽"].reached == 6 and by_stage["赢单"].reached == 4
        assert reports.average_cycle_days(wang) is not None


def test_reports_follow_the_scope_and_need_the_permission(fixture):
    env, users, _year, _pipeline = fixture
    with env.ctx() as ctx:
        zhao = as_user(ctx, users["zhao"])
        south = customers.create_customer(zhao, name="广州南方贸易").id
        services.create_opportunity(zhao, customer_id=south, title="南方", amount="70000", expected_close="2027-02-01")
    with env.ctx() as ctx:
        admin = ctx.as_user(ctx.dbsession.scalars(select(User).where(User.username == "admin")).one())
        february = {row.month: row for row in reports.forecast_by_month(as_user(ctx, users["wang"]))}["2027-02"]
        assert february.amount == D("200000.00")  # the south's is not the east manager's
        february = {row.month: row for row in reports.forecast_by_month(admin)}["2027-02"]
        assert february.amount == D("270000.00")
        with pytest.raises(PermissionDenied):
            reports.forecast_by_month(as_user(ctx, users["zhang"]))  # sales: no report permission
        for bad in (("2026-13", "100"), ("下个月", "100"), ("2026-12", "-1")):
            with pytest.raises(TargetInvalid):
                reports.save_target(admin, users["zhang"], *bad)
