"""Demo leads for ``kehu demo``: 120 leads of the demo salespeople (``core.users.demo``), in the
customers demo's regions, lists and style, seeded so every demo database looks the same.

What a newcomer should find: leads in every status, 25 waiting in the company-wide 公共线索池
and a few in the department pool 华东线索池 (some returned with a reason), leads claimed from a
pool, follow-ups on most worked leads, three assignment rules (a named user, a round robin, a
weighted one) that gave out a dozen leads, leads of companies that are already customers (so
查重 has something to show) and converted leads linked to their customers.

The leads, their follow-ups and pool moves are bulk INSERTs audited as one ``import`` entry per
table (as the customers demo does); what the audit and the notifications should tell — the
pools, rules and assignees' settings, the rules' assignments, the conversions — goes through
the services.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy import func, insert, select

from addons.customers import choices
from addons.customers.demo import GIVEN, MOBILE_PREFIXES, PLACES, ROADS, SURNAMES, TRADES, WORDS
from addons.customers.models import Contact, Customer
from addons.customers.names import normalise_company_name, pinyin_of
from core.audit.services import write_audit
from core.models import Department, User
from core.users.demo import DEMO_TEAMS

from . import assignment, pool
from .conversion import convert_lead
from .models import Lead, LeadFollowup, LeadMove, LeadPool, LeadTagLink
from .tags import tags_named

SEED = 20260715
DAYS_OF_HISTORY = 120
COMPANY_POOL = "公共线索池"
EAST_POOL = "华东线索池"
#: Owned leads by status (the converted ones convert through the service, 8 into existing customers).
OWNED = {"new": 14, "contacting": 22, "nurture": 8, "qualified": 10, "disqualified": 6, "converted": 12}
CONVERTED_INTO_CUSTOMERS = 8
#: Open leads of companies (or contact mobiles) that are already customers: 查重 finds them.
SAME_NAME_AS_CUSTOMER = 5
SAME_MOBILE_AS_CUSTOMER = 3
IN_COMPANY_POOL = 25
IN_EAST_POOL = 6
CLAIMED = 8  # owned leads claimed from a pool in the last weeks
BY_RULES = 12  # new leads the rules give out (through the service: audited and notified)
REGION_WEIGHTS = {"华东大区": 40, "华南大区": 35, "华北大区": 25}
FORMS = ["有限公司", "有限公司", "科技有限公司", "股份有限公司"]
REQUIREMENTS = [
    "销售团队二十人，想用 CRM 管理客户和跟进，替换 Excel。", "需要一套进销存系统，和现有财务软件对接。",
    "采购一批工业传感器，先要样品测试。", "年底前上线线上商城，需要方案和报价。", "想了解私有化部署的价格和周期。",
    "门店扩张到三十家，要统一的会员系统。", "寻找长期物流合作伙伴，华东区域为主。", "设备老化，考虑整体更换生产线。",
    "需要培训服务，覆盖新员工入职。", "对数据分析报表有需求，老板要每周看经营数据。",
]
BUDGETS = [None, None, 30_000, 50_000, 80_000, 120_000, 200_000, 350_000, 500_000, 800_000, 1_500_000]
KINDS = ["phone"] * 5 + ["wechat"] * 3 + ["visit"] * 2 + ["email"]
NOTES = {
    "phone": ["电话沟通需求，对方有兴趣，约下周演示。", "首次电话，对方让先发资料。", "电话回访，对方还在比较方案。",
              "确认了预算范围和决策人。"],
    "wechat": ["微信发送了产品资料和案例。", "加了微信，对方说月底再聊。", "微信约好下周二上门拜访。"],
    "visit": ["上门拜访，见了负责人，需求明确。", "现场演示，对方技术负责人反馈不错。"],
    "email": ["邮件发送了方案和报价。", "邮件回复了对方的问题清单。"],
}
NEXT_STEPS = ["发送资料", "安排演示", "上门拜访", "发送报价", "回访", None]
RETURN_REASONS = ["暂无需求", "多次联系不上", "对方已选择其他供应商", "预算取消，明年再跟"]
#: Lead tags (线索标签), given in turn to every third lead, a second one to every seventh.
TAGS = ["高意向", "展会获客", "需要演示", "价格敏感", "老客户介绍"]
#: name, priority, conditions, strategy, target (a login or a department name)
RULES = (
    ("大额线索交给华东经理", 10, [{"field": "budget", "op": "gte", "value": "1000000"}], "user", "manager1"),
    ("华南线索轮询", 20, [{"field": "province", "op": "in", "value": ["广东省", "福建省", "广西壮族自治区", "海南省"]}],
     "round_robin", "华南大区"),
    ("华北线索按经验分配", 30,
     [{"field": "province", "op": "in", "value": ["北京市", "天津市", "河北省", "山东省", "山西省"]}],
     "weighted", "华北大区"),
)


def add_demo_leads(ctx: Any) -> None:
    """Idempotent: does nothing when any lead exists or the demo salespeople are missing."""
    if ctx.dbsession.scalar(select(Lead.id).limit(1)) is not None:
        return
    teams = _teams(ctx)
    if not any(sellers for sellers, _manager in teams.values()):
        return
    rng = random.Random(SEED)  # noqa: S311 (demo data, not secrets)
    pools = _pools(ctx)
    _rules(ctx, teams)
    demo = _Demo(ctx, rng, teams, pools)
    rows = demo.build()
    bulk = {"render_nulls": True}
    ids = ctx.dbsession.scalars(insert(Lead).returning(Lead.id, sort_by_parameter_order=True),
                                [row for row, _extra in rows], execution_options=bulk).all()
    followups, moves = [], []
    for lead_id, (_row, extra) in zip(ids, rows, strict=True):
        for child in (*extra["followups"], *extra["moves"]):
            child["lead_id"] = lead_id
        followups += extra["followups"]
        moves += extra["moves"]
    for model, children in ((LeadFollowup, followups), (LeadMove, moves)):
        if children:
            ctx.dbsession.execute(insert(model), children, execution_options=bulk)
    _tag(ctx, ids)
    for model, written in ((Lead, ids), (LeadFollowup, followups), (LeadMove, moves)):
        write_audit(ctx, "import", model=model.__tablename__, detail=f"kehu demo: {len(written)} rows")
    ctx.dbsession.flush()
    by_role = {extra["role"]: [] for _row, extra in rows}
    for lead_id, (_row, extra) in zip(ids, rows, strict=True):
        by_role[extra["role"]].append((lead_id, extra))
    assignment.apply_rules(ctx, [lead_id for lead_id, _extra in by_role.get("by_rules", [])])
    for lead_id, extra in by_role.get("converted", []):
        owner = ctx.dbsession.get(User, extra["owner_id"])
        convert_lead(ctx.as_user(owner), lead_id, customer_id=extra.get("customer_id"))
    ctx.dbsession.flush()
    ctx.dbsession.expire_all()


def _tag(ctx: Any, ids: list[int]) -> None:
    """A tag on every third lead and a second on every seventh (no randomness: the seeded
    rows stay as they were); part of the leads' bulk import entry."""
    tags = [tag.id for tag in tags_named(ctx, TAGS)]
    links = {(lead_id, tags[index // 3 % len(tags)]) for index, lead_id in enumerate(ids) if index % 3 == 0}
    links |= {(lead_id, tags[(index + 2) % len(tags)]) for index, lead_id in enumerate(ids) if index % 7 == 0}
    if links:
        ctx.dbsession.execute(insert(LeadTagLink), [{"lead_id": lead_id, "tag_id": tag_id}
                                                    for lead_id, tag_id in sorted(links)])


def _teams(ctx: Any) -> dict[str, tuple[list[User], User | None]]:
    logins = [login for _region, (manager, _name), team in DEMO_TEAMS for login in (manager, *(p for p, _n in team))]
    people = {user.username: user for user in ctx.dbsession.scalars(select(User).where(User.username.in_(logins)))}
    return {region: ([people[login] for login, _name in team if login in people], people.get(manager))
            for region, (manager, _name), team in DEMO_TEAMS}


def _pools(ctx: Any) -> dict[str, LeadPool]:
    """The company-wide pool the addon's data load made (limits added) and 华东线索池."""
    company = ctx.dbsession.scalar(select(LeadPool).where(LeadPool.department_id.is_(None))
                                   .order_by(LeadPool.id).limit(1))
    if company is None:
        company = pool.save_pool(ctx, name=COMPANY_POOL)
    pool.save_pool(ctx, company.id, max_claims_per_day=20, max_open_per_user=60)
    pools = {"company": company}
    east = ctx.dbsession.scalar(select(Department.id).where(Department.name == "华东大区"))
    if east is not None:
        pools["华东大区"] = pool.save_pool(ctx, name=EAST_POOL, department_id=east, max_claims_per_day=10,
                                          max_open_per_user=40, return_after_days=30)
    return pools


def _rules(ctx: Any, teams: dict[str, tuple[list[User], User | None]]) -> None:
    """The three rules and the settings the weighted one reads (孙丽 has the most experience);
    one salesperson of 华南大区 is on leave this week, so the round robin skips her."""
    users = {user.username: user for sellers, manager in teams.values()
             for user in (*sellers, *([manager] if manager else []))}
    departments = dict(ctx.dbsession.execute(select(Department.name, Department.id)).all())
    for name, priority, conditions, strategy, target in RULES:
        if strategy == "user" and target in users:
            assignment.save_rule(ctx, name=name, priority=priority, conditions=conditions, strategy=strategy,
                                 user_id=users[target].id)
        elif strategy != "user" and target in departments:
            assignment.save_rule(ctx, name=name, priority=priority, conditions=conditions, strategy=strategy,
                                 department_id=departments[target])
    for login, weight in (("sales7", 3), ("sales8", 1)):
        if login in users:
            assignment.save_assignee(ctx, users[login].id, weight=weight)
    if "sales5" in users:
        assignment.save_assignee(ctx, users["sales5"].id, away_until=ctx.now.date() + dt.timedelta(days=6))


class _Demo:
    """The lead rows (and what goes with each), in a fixed order of the seeded generator."""

    def __init__(self, ctx: Any, rng: random.Random, teams: dict[str, tuple[list[User], User | None]],
                 pools: dict[str, LeadPool]) -> None:
        self.ctx, self.rng, self.teams, self.pools = ctx, rng, teams, pools
        self.regions = [region for region in REGION_WEIGHTS if teams.get(region, ([], None))[0]]
        self.keys = set(ctx.dbsession.scalars(select(Customer.name_key)))
        self.sources = [entry.value for entry in choices.choices(ctx, "source", active_only=True)]
        self.industries = {entry.value for entry in choices.choices(ctx, "industry", active_only=True)}
        self.levels = [entry.value for entry in choices.choices(ctx, "level", active_only=True)]
        self.rows: list[tuple[dict[str, Any], dict[str, Any]]] = []

    def build(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        customers = self._customers(CONVERTED_INTO_CUSTOMERS + SAME_NAME_AS_CUSTOMER)
        for status, count in OWNED.items():
            for index in range(count):
                region = self._region()
                sellers, manager = self.teams[region]
                owner = manager if manager is not None and self.rng.random() < 0.1 else self.rng.choice(sellers)
                row, extra = self._lead(region, status, owner)
                if status == "converted":  # qualified until the service converts it
                    row["status"], extra["role"] = "qualified", "converted"
                    if index < CONVERTED_INTO_CUSTOMERS and customers:
                        self._as_customer(row, extra, customers.pop(0))
                elif index < CLAIMED // 2 and status in ("new", "contacting"):
                    self._claimed(row, extra, owner)
        self._duplicates(customers)
        for count, key in ((IN_COMPANY_POOL, "company"), (IN_EAST_POOL, "华东大区")):
            for index in range(count if key in self.pools else 0):
                region = "华东大区" if key == "华东大区" else self._region()
                row, extra = self._lead(region, "new", None)
                self._in_pool(row, extra, self.pools[key], returned=index % 3 == 0)
        for _index in range(BY_RULES):  # in the company pool until the rules run
            region = self.rng.choice([r for r in self.regions if r != "华东大区"] or self.regions)
            row, extra = self._lead(region, "new", None, budget=None)
            row.update(pool_id=self.pools["company"].id)
            extra["role"] = "by_rules"
        return self.rows

    # -- one lead --------------------------------------------------------------------------------

    def _lead(self, region: str, status: str, owner: User | None, **fixed: Any) -> tuple[dict, dict]:
        rng, now = self.rng, self.ctx.now
        province, city, districts = rng.choice(PLACES[region])
        name, industry = self._name(city)
        person = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.5 else "")
        mobile = rng.choice(MOBILE_PREFIXES) + f"{rng.randint(0, 99_999_999):08d}"
        domain = pinyin_of(name)[1][:8] or "example"
        created = now - dt.timedelta(days=rng.randint(3, DAYS_OF_HISTORY), hours=rng.randint(0, 10))
        budget = fixed["budget"] if "budget" in fixed else rng.choice(BUDGETS)
        followups = self._followups(status, owner, created)
        latest = max(followups, key=lambda f: f["created_at"], default=None)
        open_ = status in ("new", "contacting", "nurture", "qualified")
        next_at = latest["next_at"] if latest and open_ else None
        if status == "nurture":  # the nurture cadence: a touch every month
            next_at = now + dt.timedelta(days=rng.randint(5, 30), hours=rng.randint(1, 8))
        row = {
            "name": name, "name_key": normalise_company_name(name), "contact_name": person, "mobile": mobile,
            "phone": f"0{rng.randint(10, 99)}-{rng.randint(5_000_0000, 8_999_9999)}" if rng.random() < 0.3 else None,
            "email": f"{pinyin_of(person)[1]}@{domain}.com.cn" if rng.random() < 0.7 else None,
            "wechat": f"wx_{mobile[-6:]}" if rng.random() < 0.4 else None,
            "address": f"{rng.choice(districts)}{rng.choice(ROADS)}{rng.randint(1, 999)}号" if rng.random() < 0.6
            else None,
            "province": province, "city": city, "source": rng.choice(self.sources) if self.sources else None,
            "industry": industry if industry in self.industries else None,
            "level": rng.choice([*self.levels, None]) if self.levels else None,
            "requirement": rng.choice(REQUIREMENTS), "budget": budget, "status": status, "remarks": None,
            "owner_id": owner.id if owner else None, "pool_id": None, "acquired_at": created if owner else None,
            "last_followup_at": latest["created_at"] if latest else None, "next_followup_at": next_at,
            "customer_id": None, "converted_at": None, "deleted_at": None, "deleted_by": None,
            "nurture_days": 30 if status == "nurture" else None,
            "created_at": created, "updated_at": latest["created_at"] if latest else created,
            "created_by": owner.id if owner else None, "updated_by": owner.id if owner else None,
        }
        extra: dict[str, Any] = {"followups": followups, "moves": [], "role": status,
                                 "owner_id": owner.id if owner else None}
        self.rows.append((row, extra))
        return row, extra

    def _name(self, city: str) -> tuple[str, str]:
        """A company name no customer and no other demo lead has."""
        while True:
            first, second = self.rng.sample(WORDS, 2)
            trade, industry = self.rng.choice(TRADES)
            name = f"{city.removesuffix('市')}{second}{first}{trade}{self.rng.choice(FORMS)}"
            key = normalise_company_name(name)
            if key not in self.keys:
                self.keys.add(key)
                return name, industry

    def _followups(self, status: str, owner: User | None, created: dt.datetime) -> list[dict[str, Any]]:
        """None on a new lead; 1-5 on a worked one, between its creation and now."""
        if status == "new" or owner is None:
            return []
        rng, rows = self.rng, []
        span = max(1.0, (self.ctx.now - created).total_seconds() / 86400 - 1)
        for _index in range(rng.choice((1, 1, 2, 2, 3, 4, 5))):
            when = created + dt.timedelta(days=span * rng.random(), minutes=rng.randint(0, 59))
            kind, step = rng.choice(KINDS), rng.choice(NEXT_STEPS)
            rows.append({"owner_id": owner.id, "kind": kind, "content": rng.choice(NOTES[kind]), "next_step": step,
                         "next_at": when + dt.timedelta(days=rng.randint(2, 14)) if step else None,
                         "deleted_at": None, "deleted_by": None, "created_at": when, "updated_at": when,
                         "created_by": owner.id, "updated_by": owner.id})
        return rows

    # -- what happened to it ---------------------------------------------------------------------

    def _claimed(self, row: dict[str, Any], extra: dict[str, Any], owner: User) -> None:
        """Claimed from a pool the owner sees in the last three weeks."""
        east = self.pools.get("华东大区")
        target = east if east is not None and owner.department_id == east.department_id else self.pools["company"]
        when = max(row["created_at"], self.ctx.now - dt.timedelta(days=self.rng.randint(1, 20)))
        row.update(pool_id=target.id, acquired_at=when)
        extra["moves"].append({"pool_id": target.id, "action": "claimed", "user_id": owner.id,
                               "previous_owner_id": None, "reason": None, "at": when})

    def _in_pool(self, row: dict[str, Any], extra: dict[str, Any], target: LeadPool, *, returned: bool) -> None:
        """Waiting in ``target``: new from the web site or a fair, or returned by its owner with a
        reason after a follow-up or two."""
        row.update(owner_id=None, pool_id=target.id, acquired_at=None, next_followup_at=None)
        if not returned:
            return
        region = "华东大区" if target.department_id is not None else self._region()
        previous = self.rng.choice(self.teams[region][0])
        extra["followups"] = self._followups("contacting", previous, row["created_at"])[:2]
        latest = max(f["created_at"] for f in extra["followups"])
        row.update(status="contacting", last_followup_at=latest, updated_at=latest)
        extra["moves"].append({"pool_id": target.id, "action": "returned", "user_id": previous.id,
                               "previous_owner_id": previous.id, "reason": self.rng.choice(RETURN_REASONS),
                               "at": latest + dt.timedelta(hours=2)})

    def _as_customer(self, row: dict[str, Any], extra: dict[str, Any], customer: Any) -> None:
        """A lead of a company that became a customer: the customer's owner converts it into it."""
        row.update(name=customer.name, name_key=customer.name_key, province=customer.province, city=customer.city,
                   owner_id=customer.owner_id, created_by=customer.owner_id, updated_by=customer.owner_id)
        extra.update(customer_id=customer.id, owner_id=customer.owner_id)
        for followup in extra["followups"]:
            followup.update(owner_id=customer.owner_id, created_by=customer.owner_id, updated_by=customer.owner_id)

    def _duplicates(self, customers: list[Any]) -> None:
        """Open leads that 查重 flags: the same company as a customer (another salesperson's new
        lead), or a customer's contact's mobile under another company name."""
        for customer in customers[:SAME_NAME_AS_CUSTOMER]:
            region = self._region()
            row, _extra = self._lead(region, "new", self.rng.choice(self.teams[region][0]))
            row.update(name=customer.name, name_key=customer.name_key)
        mobiles = self.ctx.dbsession.scalars(select(Contact.mobile).where(Contact.mobile.is_not(None))
                                             .order_by(Contact.id).limit(200)).all()
        for mobile in self.rng.sample(list(mobiles), min(SAME_MOBILE_AS_CUSTOMER, len(mobiles))):
            region = self._region()
            row, _extra = self._lead(region, "contacting", self.rng.choice(self.teams[region][0]))
            row.update(mobile=mobile)

    def _customers(self, count: int) -> list[Any]:
        """Owned customers (deterministic: by id, then a seeded sample) for conversions and 查重."""
        rows = self.ctx.dbsession.execute(select(Customer.id, Customer.name, Customer.name_key, Customer.owner_id,
                                                 Customer.province, Customer.city)
                                          .where(Customer.owner_id.is_not(None), Customer.deleted_at.is_(None))
                                          .order_by(Customer.id).limit(400)).all()
        return self.rng.sample(list(rows), min(count, len(rows)))

    def _region(self) -> str:
        return self.rng.choices(self.regions, [REGION_WEIGHTS[r] for r in self.regions])[0]


def demo_counts(ctx: Any) -> dict[str, int]:
    """How many demo rows there are (for a glance in tests and the shell)."""
    return {model.__tablename__: ctx.dbsession.scalar(select(func.count()).select_from(model))
            for model in (Lead, LeadFollowup, LeadMove)}
