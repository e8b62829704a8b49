"""Demo customers for ``kehu demo``: 2,000 Chinese companies in the three demo regions, with
contacts, six months of follow-ups and a public pool, owned by the demo salespeople the core
creates (``core.users.demo``). Seeded, so every demo database looks the same.

Written with bulk INSERTs (a few statements per table instead of one service call per row, which
took ~40 s): the rows are what the services would write — normalised name key, pinyin, owners
kept in step — and the load is audited as one ``import`` entry per table, like an import.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from typing import Any

from sqlalchemy import func, insert, select
from stdnum.cn import uscc

from core.audit.services import write_audit
from core.models import User
from core.users.demo import DEMO_TEAMS

from .models import Contact, Customer, Followup, PoolMove
from .names import normalise_company_name, pinyin_of

COUNT = 2000
SEED = 20260601
DAYS_OF_HISTORY = 182
#: Region (the demo department) → (province, city, districts) where its customers are.
PLACES: dict[str, tuple[tuple[str, str, tuple[str, ...]], ...]] = {
    "华东大区": (("上海市", "上海市", ("浦东新区", "闵行区", "徐汇区", "静安区")),
               ("浙江省", "杭州市", ("西湖区", "滨江区", "余杭区")), ("浙江省", "宁波市", ("鄞州区", "北仑区")),
               ("江苏省", "苏州市", ("姑苏区", "吴中区")), ("江苏省", "南京市", ("鼓楼区", "江宁区")),
               ("安徽省", "合肥市", ("蜀山区", "包河区"))),
    "华南大区": (("广东省", "深圳市", ("南山区", "福田区", "宝安区")), ("广东省", "广州市", ("天河区", "番禺区")),
               ("福建省", "厦门市", ("思明区", "湖里区")), ("福建省", "福州市", ("鼓楼区", "仓山区")),
               ("广西壮族自治区", "南宁市", ("青秀区",)), ("海南省", "海口市", ("龙华区",))),
    "华北大区": (("北京市", "北京市", ("海淀区", "朝阳区", "丰台区")), ("天津市", "天津市", ("滨海新区", "南开区")),
               ("河北省", "石家庄市", ("长安区", "裕华区")), ("山东省", "济南市", ("历下区",)),
               ("山东省", "青岛市", ("崂山区", "市南区")), ("山西省", "太原市", ("小店区",))),
}
#: A GB/T 2260 district code in each province, for the credit codes.
AREA_CODES = {"上海市": "310115", "浙江省": "330106", "江苏省": "320508", "安徽省": "340104", "广东省": "440305",
              "福建省": "350203", "广西壮族自治区": "450103", "海南省": "460106", "北京市": "110108",
              "天津市": "120116", "河北省": "130102", "山东省": "370102", "山西省": "140105"}
REGION_WEIGHTS = {"华东大区": 40, "华南大区": 35, "华北大区": 25}
WORDS = ["华信", "金桥", "瑞丰", "鼎盛", "恒通", "远航", "新源", "天成", "博远", "中科", "宏达", "嘉禾", "安泰",
         "星河", "云帆", "海川", "卓越", "长青", "万达", "盛世", "汇通", "永盛", "佳美", "创新", "正泰", "润丰"]
TRADES = [("科技", "软件和信息技术"), ("电子", "电子制造"), ("贸易", "批发零售"), ("物流", "交通物流"),
          ("医疗器械", "医疗健康"), ("新材料", "制造业"), ("餐饮管理", "餐饮"), ("教育咨询", "教育"),
          ("机械", "制造业"), ("建材", "建筑和房地产"), ("环保", "能源化工"), ("食品", "制造业")]
FORMS = ["有限公司", "有限公司", "股份有限公司", "有限责任公司"]
ROADS = ["中山路", "人民路", "解放路", "建设路", "科技园路", "滨江大道", "创业路", "学院路"]
SOURCES = ["官网", "展会", "客户介绍", "电话营销", "广告", "其他"]  # the default list (choices.DEFAULTS)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰", "涛", "明", "超", "霞", "平", "刚", "丽", "强"]
TITLES = ["总经理", "采购经理", "技术总监", "财务主管", "行政经理", "副总经理", "项目经理"]
MOBILE_PREFIXES = ["133", "135", "136", "138", "139", "150", "152", "158", "177", "181", "186", "189", "199"]
KINDS = ["phone"] * 5 + ["wechat"] * 3 + ["visit"] * 2 + ["email", "other"]
NOTES = {
    "phone": ["电话沟通需求，对方有兴趣，约下周演示。", "电话回访，对方在做年度预算，月底再联系。",
              "确认了预算和时间表，等对方内部审批。", "对方在比较竞品，价格是关键。"],
    "wechat": ["微信发送了产品资料和案例。", "微信确认了报价单收到，对方会转给老板。", "微信约好下周二上门拜访。"],
    "visit": ["上门拜访，见了采购经理，需要报价。", "拜访技术总监，演示了系统，反馈不错。", "陪同客户参观了样板项目。"],
    "email": ["邮件发送了正式报价和合同草稿。", "邮件回复了技术问题清单。"],
    "other": ["在展会上见到了对方负责人。", "对方来公司参观交流。"],
}
NEXT_STEPS = ["发送报价", "安排演示", "上门拜访", "确认合同条款", "回访", None, None]
RETURN_REASONS = ["客户暂无需求", "多次联系不上", "客户已选择竞品", "预算取消，明年再跟"]


def add_demo_customers(ctx: Any) -> None:
    """Idempotent: does nothing when any customer exists or the demo salespeople are missing."""
    if ctx.dbsession.scalar(select(Customer.id).limit(1)) is not None:
        return
    people = {user.username: user for user in ctx.dbsession.scalars(
        select(User).where(User.username.in_([login for _r, (m, _n), team in DEMO_TEAMS
                                              for login in (m, *(p for p, _name in team))])))}
    teams = {region: ([people[login] for login, _name in team if login in people], people.get(manager))
             for region, (manager, _name), team in DEMO_TEAMS}
    if not any(sellers for sellers, _manager in teams.values()):
        return
    rng = random.Random(SEED)  # noqa: S311 (demo data, not secrets)
    pools = _add_demo_pools(ctx, teams)
    customers = _customers(ctx, rng, teams, pools)
    # render_nulls: every row has the same columns, so each table is a few multi-row statements
    bulk = {"render_nulls": True}
    ids = ctx.dbsession.scalars(insert(Customer).returning(Customer.id, sort_by_parameter_order=True),
                                [row for row, _extra in customers], execution_options=bulk).all()
    contacts, followups, moves = [], [], []
    for customer_id, (row, extra) in zip(ids, customers, strict=True):
        contacts += _contacts(rng, customer_id, row, extra)
        for child in (*extra["followups"], *extra["moves"]):
            child["customer_id"] = customer_id
        followups += extra["followups"]
        moves += extra["moves"]
    for model, rows in ((Contact, contacts), (Followup, followups), (PoolMove, moves)):
        if rows:
            ctx.dbsession.execute(insert(model), rows, execution_options=bulk)
    for model, rows in ((Customer, ids), (Contact, contacts), (Followup, followups)):
        write_audit(ctx, "import", model=model.__tablename__, detail=f"kehu demo: {len(rows)} rows")
    ctx.dbsession.flush()
    ctx.dbsession.expire_all()


def _add_demo_pools(ctx: Any, teams: dict[str, Any]) -> dict[str, Any]:
    """A company-wide 公海 and one for 华东大区, with everyday rules (saved through the service,
    so audited like an administrator's)."""
    from core.models import Department

    from .pool import save_pool

    rules = {"max_owned": 300, "max_claims_per_day": 10, "reclaim_block_days": 7,
             "return_after_days_without_followup": 30, "return_after_days_without_deal": 90, "warn_days_before": 3,
             "active": True}
    east = ctx.dbsession.scalar(select(Department.id).where(Department.name == "华东大区"))
    pools = {"company": save_pool(ctx, name="公司公海", department_id=None, **rules)}
    if east is not None:
        pools["华东大区"] = save_pool(ctx, name="华东公海", department_id=east, **rules)
    return pools


def _customers(ctx: Any, rng: random.Random, teams: dict[str, Any],
               pools: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """``COUNT`` customer rows with unique name keys and credit codes, and what goes with each."""
    regions = [region for region in REGION_WEIGHTS if teams.get(region, ([], None))[0]]
    weights = [REGION_WEIGHTS[region] for region in regions]
    keys: set[str] = set()
    codes: set[str] = set()
    found = []
    while len(found) < COUNT:
        region = rng.choices(regions, weights)[0]
        province, city, districts = rng.choice(PLACES[region])
        first, second = rng.sample(WORDS, 2)
        trade, industry = rng.choice(TRADES)
        name = f"{city.removesuffix('市')}{first}{second}{trade}{rng.choice(FORMS)}"
        key = normalise_company_name(name)
        if key in keys:
            continue
        keys.add(key)
        found.append(_customer(ctx, rng, teams[region], pools, codes, name=name, key=key, pinyin=pinyin_of(name),
                               province=province, city=city, district=rng.choice(districts),
                               short_name=first + second, industry=industry))
    return found


def _customer(ctx: Any, rng: random.Random, team: tuple[list[User], User | None], pools: dict[str, Any],
              codes: set[str], *, name: str, key: str, pinyin: tuple[str, str],
              **place: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    sellers, manager = team
    owner = manager if manager is not None and rng.random() < 0.05 else rng.choice(sellers)
    full, initials = pinyin
    created = ctx.now - dt.timedelta(days=rng.randint(DAYS_OF_HISTORY, 400), hours=rng.randint(0, 23))
    followups = _followups(ctx, rng, owner)
    latest = max(followups, key=lambda f: f["created_at"], default=None)
    last = latest["created_at"] if latest else None
    row = {
        "name": name, "name_key": key, "pinyin": full, "initials": initials,
        "credit_code": _credit_code(rng, codes, place["province"]) if rng.random() < 0.7 else None,
        "source": rng.choice(SOURCES), "level": rng.choice(("A", "B", "B", "C", "C", "C", "D", None)),
        "key_customer": rng.random() < 0.08, "deal_status": "won" if rng.random() < 0.3 else "open",
        "address": f"{place['district']}{rng.choice(ROADS)}{rng.randint(1, 999)}号",
        "website": f"https://www.{initials[:8]}.com.cn" if rng.random() < 0.4 else None,
        "remarks": None, "owner_id": owner.id, "pool_id": None, "acquired_at": None,
        "last_followup_at": last,
        # what adding the latest follow-up left (some overdue), else a plan made on the phone
        "next_followup_at": (latest["next_at"] if latest and latest["next_at"]
                             else ctx.now + dt.timedelta(days=rng.randint(-5, 20), hours=rng.randint(1, 9))
                             if rng.random() < 0.3 else None),
        "created_at": created, "updated_at": last or created, "created_by": owner.id, "updated_by": owner.id,
        **place,
    }
    return row, {"followups": followups, "owner": owner, "moves": _pool_moves(ctx, rng, row, owner, pools)}


def _followups(ctx: Any, rng: random.Random, owner: User) -> list[dict[str, Any]]:
    """0-8 follow-ups over the last six months, the most recent ones more likely."""
    rows = []
    for _index in range(rng.choice((0, 1, 1, 2, 2, 3, 3, 4, 5, 6, 8))):
        when = ctx.now - dt.timedelta(days=int(DAYS_OF_HISTORY * rng.random() ** 1.5), hours=rng.randint(0, 10),
                                      minutes=rng.randint(0, 59))
        kind = rng.choice(KINDS)
        step = rng.choice(NEXT_STEPS)
        rows.append({"owner_id": owner.id, "kind": kind, "content": rng.choice(NOTES[kind]), "next_step": step,
                     "next_at": when + dt.timedelta(days=rng.randint(2, 14)) if step else None,
                     "created_at": when, "updated_at": when, "created_by": owner.id, "updated_by": owner.id})
    return rows


def _contacts(rng: random.Random, customer_id: int, row: dict[str, Any], extra: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for number in range(rng.choice((1, 1, 2, 2, 3))):
        person = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
        mobile = rng.choice(MOBILE_PREFIXES) + f"{rng.randint(0, 99_999_999):08d}"
        rows.append({"customer_id": customer_id, "owner_id": row["owner_id"], "name": person,
                     "title": rng.choice(TITLES), "mobile": mobile,
                     "email": f"{_pinyin(tuple(person))[0][:12]}{number or ''}@{row['initials'][:8]}.com.cn",
                     "wechat": f"wx_{mobile[-6:]}" if rng.random() < 0.5 else None, "phone": None,
                     "birthday": None, "primary": number == 0, "created_at": row["created_at"],
                     "updated_at": row["created_at"], "created_by": extra["owner"].id,
                     "updated_by": extra["owner"].id})
    return rows


def _pool_moves(ctx: Any, rng: random.Random, row: dict[str, Any], owner: User,
                pools: dict[str, Any]) -> list[dict[str, Any]]:
    """8 % wait in a pool (returned with a reason: no owner, no next follow-up); 3 % were
    claimed from one in the last four weeks, so the pool's rules count for them and the "about
    to go back" card has something to show. Sets the row's pool fields; returns its moves."""
    roll = rng.random()
    if roll >= 0.11:
        return []
    pool = pools["company"] if rng.random() < 0.6 or len(pools) == 1 else pools["华东大区"]
    if roll < 0.08:
        row.update(owner_id=None, pool_id=pool.id, next_followup_at=None)
        return [{"pool_id": pool.id, "action": "returned", "user_id": owner.id, "previous_owner_id": owner.id,
                 "reason": rng.choice(RETURN_REASONS), "at": ctx.now - dt.timedelta(days=rng.randint(1, 60))}]
    when = ctx.now - dt.timedelta(days=rng.randint(1, 27))
    row.update(pool_id=pool.id, acquired_at=when)
    return [{"pool_id": pool.id, "action": "claimed", "user_id": owner.id, "previous_owner_id": None,
             "reason": None, "at": when}]


@functools.cache
def _part_pinyin(part: str) -> tuple[str, str]:
    return pinyin_of(part)


def _pinyin(parts: tuple[str, ...]) -> tuple[str, str]:
    """Pinyin of a person's name, character by character, each looked up once (pypinyin costs
    ~1 ms a call; customers' names go through ``pinyin_of`` whole, as search needs)."""
    pairs = [_part_pinyin(part) for part in parts]
    return "".join(full for full, _i in pairs)[:400], "".join(initials for _f, initials in pairs)[:200]


def _credit_code(rng: random.Random, codes: set[str], province: str) -> str:
    """A valid 统一社会信用代码 (registration authority 9 = industry and commerce, type 1 = company),
    the area code of a district in the customer's province and a random organisation code, with its
    check digit."""
    while True:
        body = "91" + AREA_CODES.get(province, "110108") + "".join(
            rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
        code = body + uscc.calc_check_digit(body)
        if code not in codes:
            codes.add(code)
            return code


def demo_counts(ctx: Any) -> dict[str, int]:
    """How many demo rows there are (for a glance in tests and the shell)."""
    return {model.__tablename__: ctx.dbsession.scalar(select(func.count()).select_from(model))
            for model in (Customer, Contact, Followup, PoolMove)}
