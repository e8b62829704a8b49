"""Demo opportunities for ``kehu demo``: 150 opportunities of the demo customers, owned by the
customers' owners (the demo salespeople of ``core.users.demo``), seeded so every demo database
looks the same.

What a newcomer should find: opportunities in every stage of the default pipeline, about 30 won
and 20 lost (with reasons: 价格偏高, 选择了竞品 …), amounts from ¥5,000 to ¥2,000,000, close
dates over the past three and the next six months, collaborators on some, a second pipeline
(大客户流程, offered to 华东大区) with a dozen large deals, and a monthly target for each
salesperson this year — so the board, the ranking, the forecast, won against target and the
stage report have something to show.

Every opportunity is created, moved and closed through the services (audit, history,
notices), each step acting as its owner at the time it happened: the services take the time
from ``ctx.now``, so the stage history, time in stage, cycle length, audit entries and notices
are spread over the last months. The creation time is then set back directly (the rows' own
``created_at``/``updated_at`` are the database defaults), everything is rescored as of today,
and the notices older than a week are marked read.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import math
import random
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from addons.customers.models import Customer
from core.db.base import ACTING_USER_KEY
from core.models import Department, User
from core.notifications.models import Notification
from core.users.demo import DEMO_TEAMS

from . import pipelines, reports, scoring, services
from .models import Opportunity, Pipeline, Stage

SEED = 20260801
#: Open opportunities per open stage of the default pipeline (in order), then won and lost.
DEFAULT_OPEN = (30, 27, 22, 13)
DEFAULT_WON, DEFAULT_LOST = 28, 18
BIG_PIPELINE = "大客户流程"
BIG_DEPARTMENT = "华东大区"
BIG_STAGES = (("初步接洽", 10, "open"), ("高层拜访", 20, "open"), ("需求调研", 35, "open"), ("方案评审", 55, "open"),
              ("商务谈判", 75, "open"), ("合同审批", 90, "open"), ("签约", 100, "won"), ("输单", 0, "lost"))
BIG_OPEN = (2, 2, 1, 1, 1, 1)
BIG_WON, BIG_LOST = 2, 2
TOPICS = ["CRM 系统采购", "销售管理平台升级", "客服工单系统", "数据分析平台", "移动销售 App", "年度维保续约",
          "私有化部署", "渠道管理系统", "会员营销系统", "ERP 对接", "实施与培训服务", "呼叫中心集成"]
BIG_TOPICS = ["集团 CRM 整体采购", "全国门店数字化", "集团数据中台建设", "多事业部销售平台统一", "三年框架合作"]
PRODUCTS = ["CRM 标准版", "CRM 专业版", "移动销售 App", "数据分析模块", "客服工单模块", "私有化部署", "实施服务",
            "培训服务", "年度维保"]
COMPETITORS = ["销售易", "纷享销客", "Salesforce", "用友", "金蝶", "本地软件公司"]
LOST_REASONS = ["价格偏高", "选择了竞品", "预算取消", "需求变更", "项目延期，明年再议"]
DESCRIPTIONS = ["客户希望替换现有的 Excel 台账，统一管理客户和跟进。", "老板要求下季度上线，先做销售部门试点。",
                "需要和现有的 ERP、财务软件对接。", "客户在比较三家方案，价格和实施周期是关键。",
                "技术负责人认可方案，等采购流程。", "分公司先用，效果好再推广到全国。", None, None]
#: A salesperson's monthly target (yuan) before the month's factor; and the months' factors.
TARGET_BASES = (200_000, 250_000, 300_000, 400_000)
MONTH_FACTORS = (0.8, 0.6, 1.0, 1.0, 1.0, 1.2, 0.9, 0.9, 1.1, 1.0, 1.2, 1.5)
READ_AFTER = dt.timedelta(days=7)


@dataclasses.dataclass
class _Plan:
    """One opportunity to make: its customer, owner and the stages it goes through, when."""

    customer: Any
    owner: User
    pipeline: Pipeline
    steps: list[tuple[Stage, dt.datetime]]  # the first is its creation
    fields: dict[str, Any]
    collaborators: list[int]
    lost_reason: str | None = None
    probability: int | None = None


def add_demo_opportunities(ctx: Any) -> None:
    """Idempotent: does nothing when any opportunity exists, or without the demo salespeople,
    their customers or a company-wide pipeline."""
    if ctx.dbsession.scalar(select(Opportunity.id).limit(1)) is not None:
        return
    teams = _teams(ctx)
    people = {user.id: user for sellers, manager in teams.values()
              for user in (*sellers, *([manager] if manager else []))}
    default = ctx.dbsession.scalar(select(Pipeline).where(Pipeline.department_id.is_(None), Pipeline.active.is_(True))
                                   .options(selectinload(Pipeline.stages)).order_by(Pipeline.id).limit(1))
    owned = ctx.dbsession.execute(
        select(Customer.id, Customer.name, Customer.short_name, Customer.owner_id, Customer.level,
               Customer.deal_status, Customer.key_customer)
        .where(Customer.owner_id.in_(list(people)), Customer.deleted_at.is_(None)).order_by(Customer.id)).all()
    if default is None or not owned:
        return
    rng = random.Random(SEED)  # noqa: S311 (demo data, not secrets)
    demo = _Demo(ctx, rng, teams, people, owned)
    demo.plan_pipeline(default, DEFAULT_OPEN, DEFAULT_WON, DEFAULT_LOST)
    big = _big_pipeline(ctx, teams)
    if big is not None:
        demo.plan_pipeline(big, BIG_OPEN, BIG_WON, BIG_LOST, big=True)
    ids = demo.make()
    _targets(ctx, rng, teams)
    scoring.rescore(ctx, ids)  # as of today: age and recency from the back-dated history
    ctx.dbsession.flush()
    ctx.dbsession.execute(update(Opportunity), demo.times)  # the services' writes stamped them today
    ctx.dbsession.execute(update(Notification).where(
        Notification.model == Opportunity.__tablename__, Notification.read_at.is_(None),
        Notification.created_at < ctx.now - READ_AFTER).values(read_at=Notification.created_at)
        .execution_options(synchronize_session=False))
    ctx.dbsession.flush()
    ctx.dbsession.expire_all()


def _teams(ctx: Any) -> dict[str, tuple[list[User], User | None]]:
    logins = [login for _region, (manager, _name), team in DEMO_TEAMS for login in (manager, *(p for p, _n in team))]
    found = {user.username: user for user in ctx.dbsession.scalars(select(User).where(User.username.in_(logins)))}
    return {region: ([found[login] for login, _name in team if login in found], found.get(manager))
            for region, (manager, _name), team in DEMO_TEAMS}


def _big_pipeline(ctx: Any, teams: dict[str, tuple[list[User], User | None]]) -> Pipeline | None:
    """大客户流程 for 华东大区 (made through the service, as an administrator would), or None
    without that department's people."""
    if not teams.get(BIG_DEPARTMENT, ([], None))[0]:
        return None
    department = ctx.dbsession.scalar(select(Department.id).where(Department.name == BIG_DEPARTMENT))
    if department is None:
        return None
    found = ctx.dbsession.scalar(select(Pipeline.id).where(Pipeline.name == BIG_PIPELINE))
    if found is None:
        found = pipelines.save_pipeline(ctx, name=BIG_PIPELINE, department_id=department, active=True, stages=[
            {"name": name, "probability": probability, "kind": kind} for name, probability, kind in BIG_STAGES]).id
    return ctx.dbsession.scalar(select(Pipeline).where(Pipeline.id == found).options(selectinload(Pipeline.stages))
                                .execution_options(populate_existing=True))


def _targets(ctx: Any, rng: random.Random, teams: dict[str, tuple[list[User], User | None]]) -> None:
    """A target for every month of this year for each salesperson (the managers sell through
    their teams), through the administrator's service."""
    year = reports.current_year(ctx)
    for sellers, _manager in teams.values():
        for seller in sellers:
            base = rng.choice(TARGET_BASES)
            for month, factor in enumerate(MONTH_FACTORS, start=1):
                amount = round(base * factor / 10_000) * 10_000
                reports.save_target(ctx, seller.id, f"{year:04d}-{month:02d}", str(amount))


class _Demo:
    """The plans, in a fixed order of the seeded generator, then made through the services."""

    def __init__(self, ctx: Any, rng: random.Random, teams: dict[str, tuple[list[User], User | None]],
                 people: dict[int, User], owned: list[Any]) -> None:
        self.ctx, self.rng, self.teams, self.people = ctx, rng, teams, people
        self.customers = list(owned)
        self.won_customers = [c for c in owned if c.deal_status == "won"] or self.customers
        self.titles: set[tuple[int, str]] = set()
        self.plans: list[_Plan] = []
        self.times: list[dict[str, Any]] = []

    # -- the plans -------------------------------------------------------------------------------

    def plan_pipeline(self, pipeline: Pipeline, open_counts: tuple[int, ...], won: int, lost: int, *,
                      big: bool = False) -> None:
        stages = [stage for stage in pipeline.stages if stage.active]
        opened = pipelines.open_stages(pipeline)
        won_stage = next(stage for stage in stages if stage.kind == "won")
        lost_stage = next(stage for stage in stages if stage.kind == "lost")
        candidates = self.customers
        if big:  # the department's larger customers
            department = {user.id for user in (*self.teams[BIG_DEPARTMENT][0], self.teams[BIG_DEPARTMENT][1]) if user}
            candidates = [c for c in self.customers if c.owner_id in department and (c.level in ("A", "B")
                                                                                      or c.key_customer)]
            candidates = candidates or [c for c in self.customers if c.owner_id in department]
        for index, count in enumerate(open_counts[:len(opened)]):
            for _n in range(count):
                self._plan(pipeline, self._path(opened, index), None, candidates, big)
        for _n in range(won):
            self._plan(pipeline, [*self._path(opened, len(opened) - 1), won_stage], "won",
                       self.won_customers if not big else candidates, big)
        for _n in range(lost):  # lost mostly once the price is on the table
            reached = min(len(opened) - 1, int(self.rng.triangular(0, len(opened), len(opened) * 0.7)))
            self._plan(pipeline, [*self._path(opened, reached), lost_stage], "lost", candidates, big)

    def _path(self, opened: list[Stage], last: int) -> list[Stage]:
        """The open stages up to ``last``, now and then skipping one in between."""
        path = [opened[0]]
        for stage in opened[1:last + 1]:
            if stage is not opened[last] and self.rng.random() < 0.12:
                continue
            path.append(stage)
        return path

    def _plan(self, pipeline: Pipeline, path: list[Stage], closed: str | None, candidates: list[Any],
              big: bool) -> None:
        rng, now = self.rng, self.ctx.now
        customer = rng.choice(candidates)
        owner = self.people[customer.owner_id]
        if closed:  # closed in the last three months, after a cycle of weeks to months
            end = now - dt.timedelta(days=rng.randint(1, 92), hours=rng.randint(0, 8))
            start = end - dt.timedelta(days=rng.randint(14, 120) if closed == "won" else rng.randint(7, 90))
            close = (end + dt.timedelta(days=rng.randint(-20, 10))).date()
        else:  # opened weeks or months ago, the later stages longer ago; a few past their close date
            start = now - dt.timedelta(days=rng.randint(3 + 10 * len(path), 30 + 30 * len(path)),
                                       hours=rng.randint(0, 8))
            end = now - dt.timedelta(days=rng.randint(0, 3), hours=rng.randint(1, 8))
            days = rng.randint(-60, -1) if rng.random() < 0.12 else rng.randint(5, 182)
            close = (now + dt.timedelta(days=days)).date()
        between = path[1:-1] if closed else path[1:]  # a closed one's last move closes it, at its end
        cuts = sorted(rng.random() for _stage in between)
        steps = [(path[0], start), *((stage, start + (end - start) * (0.1 + 0.85 * cut))
                                     for stage, cut in zip(between, cuts, strict=True))]
        if closed:
            steps.append((path[-1], end))
        reason = rng.choice(LOST_REASONS) if closed == "lost" else None
        competitor = rng.choice(COMPETITORS) if reason == "选择了竞品" or rng.random() < 0.35 else None
        fields = {
            "title": self._title(customer, big), "amount": self._amount(big), "expected_close": close,
            "competitor": competitor, "products": "、".join(rng.sample(PRODUCTS, rng.choice((1, 1, 2, 3)))),
            "description": rng.choice(DESCRIPTIONS),
        }
        team = [u.id for u in self._team_of(owner) if u.id != owner.id]
        collaborators = rng.sample(team, min(len(team), rng.choice((1, 1, 2)))) if team and rng.random() < 0.25 else []
        probability = None
        if not closed and rng.random() < 0.15:  # the owner's own judgement
            probability = max(5, min(95, path[-1].probability + rng.choice((-10, -5, 5, 10, 15))))
        self.plans.append(_Plan(customer, owner, pipeline, steps, fields, collaborators, reason, probability))

    def _title(self, customer: Any, big: bool) -> str:
        """The customer's short name and a topic it has no opportunity of yet (when there is one)."""
        short = customer.short_name or customer.name[:6]
        topics = [t for t in (BIG_TOPICS if big else TOPICS) if (customer.id, t) not in self.titles]
        topic = self.rng.choice(topics or (BIG_TOPICS if big else TOPICS))
        self.titles.add((customer.id, topic))
        return f"{short} {topic}" if topic[0].isascii() else f"{short}{topic}"  # 佳美博远 ERP 对接

    def _amount(self, big: bool) -> decimal.Decimal:
        """Log-uniform, rounded as people quote: ¥5,000–¥2,000,000 (big deals from ¥500,000)."""
        low = 500_000 if big else 5_000
        value = math.exp(self.rng.uniform(math.log(low), math.log(2_000_000)))
        step = 1_000 if value < 100_000 else 10_000
        return decimal.Decimal(max(low, round(value / step) * step)).quantize(decimal.Decimal("0.01"))

    def _team_of(self, owner: User) -> list[User]:
        for sellers, manager in self.teams.values():
            team = [*sellers, *([manager] if manager else [])]
            if any(user.id == owner.id for user in team):
                return team
        return []

    # -- making them -----------------------------------------------------------------------------

    def make(self) -> list[int]:
        """Each plan through the services, acting as its owner at each step's time."""
        ids = []
        for plan in self.plans:
            acting = self.ctx.as_user(plan.owner)  # a new one each time: it marks the session's writes as theirs
            first, created = plan.steps[0]
            acting.now = created
            fields = dict(plan.fields)
            if plan.probability is not None and len(plan.steps) == 1:
                fields["probability"] = plan.probability
            opportunity = services.create_opportunity(acting, customer_id=plan.customer.id,
                                                      pipeline_id=plan.pipeline.id, stage_id=first.id, **fields)
            if plan.collaborators:
                acting.now = created + dt.timedelta(hours=2)
                services.set_collaborators(acting, opportunity.id, plan.collaborators)
            for n, (stage, when) in enumerate(plan.steps[1:], start=2):
                last = n == len(plan.steps)
                acting.now = when
                services.move_stage(acting, opportunity.id, stage.id, lost_reason=plan.lost_reason if last else None,
                                    probability=plan.probability if last else None)
            ids.append(opportunity.id)
            self.times.append({"id": opportunity.id, "created_at": created, "updated_at": plan.steps[-1][1]})
        self.ctx.dbsession.info[ACTING_USER_KEY] = self.ctx.user.id if self.ctx.user else None  # the system again
        return ids
