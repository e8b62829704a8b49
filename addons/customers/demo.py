"""Demo customers for ``kehu demo``: ~200 Chinese companies with contacts and follow-ups, owned
by the demo salespeople the core creates. Seeded, so every demo database looks the same."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy import select

from core.models import User

from . import services
from .models import Contact, Customer, Followup

PLACES = [("上海", "上海市", "浦东新区"), ("北京", "北京市", "海淀区"), ("广东", "深圳市", "南山区"),
          ("广东", "广州市", "天河区"), ("浙江", "杭州市", "西湖区"), ("江苏", "苏州市", "工业园区"),
          ("四川", "成都市", "高新区"), ("湖北", "武汉市", "洪山区"), ("福建", "厦门市", "思明区"),
          ("山东", "青岛市", "崂山区")]
WORDS = ["华信", "金桥", "瑞丰", "鼎盛", "恒通", "远航", "新源", "天成", "博远", "中科", "宏达", "嘉禾", "安泰",
         "星河", "云帆", "海川", "卓越", "长青", "万达", "盛世"]
TRADES = [("科技", "软件和信息技术"), ("电子", "电子制造"), ("贸易", "批发零售"), ("物流", "交通物流"),
          ("医疗器械", "医疗健康"), ("新材料", "制造业"), ("餐饮管理", "餐饮"), ("教育咨询", "教育")]
FORMS = ["有限公司", "股份有限公司", "有限责任公司"]
SOURCES = ["官网", "展会", "转介绍", "电话营销", "百度推广"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰", "涛", "明", "超", "霞", "平"]
TITLES = ["总经理", "采购经理", "技术总监", "财务主管", "行政经理"]
NOTES = ["电话沟通需求，对方有兴趣，约下周演示。", "上门拜访，见了采购经理，需要报价。", "微信发送了产品资料。",
         "对方在比较竞品，价格是关键。", "确认了预算和时间表。"]
COUNT = 200


def add_demo_customers(ctx: Any) -> None:
    """Idempotent: does nothing when any customer exists or the demo users are missing."""
    if ctx.dbsession.scalar(select(Customer.id).limit(1)) is not None:
        return
    owners = list(ctx.dbsession.scalars(select(User).where(User.username.in_(("sales", "sales2", "manager")))
                                        .order_by(User.username)))
    if not owners:
        return
    rng = random.Random(20260601)  # noqa: S311 (demo data, not secrets)
    names: set[str] = set()
    while len(names) < COUNT:
        word, (trade, _industry) = "".join(rng.sample(WORDS, 2)), rng.choice(TRADES)
        city = rng.choice(PLACES)[1].removesuffix("市")
        names.add(f"{city}{word}{trade}{rng.choice(FORMS)}")
    for index, name in enumerate(sorted(names)):
        _add_one(ctx, rng, name, owners[index % len(owners)])
    _add_demo_pool(ctx)


def _add_demo_pool(ctx: Any) -> None:
    """A company-wide 公海 with everyday rules, holding every tenth customer, so claiming can be
    tried at once."""
    from .pool import return_to_pool, save_pool

    pool = save_pool(ctx, name="公司公海", department_id=None, max_owned=100, max_claims_per_day=10,
                     reclaim_block_days=7, return_after_days_without_followup=30,
                     return_after_days_without_deal=90, warn_days_before=3, active=True)
    for customer_id in list(ctx.dbsession.scalars(select(Customer.id).order_by(Customer.id)))[::10]:
        return_to_pool(ctx, customer_id, pool.id, "演示数据：长期未跟进")


def _add_one(ctx: Any, rng: random.Random, name: str, owner: User) -> None:
    province, city, district = rng.choice(PLACES)
    industry = next((label for trade, label in TRADES if trade in name), None)
    try:
        customer = services.create_customer(
            ctx, name=name, owner_id=owner.id, industry=industry, source=rng.choice(SOURCES),
            level=rng.choice(("A", "B", "B", "C", "C", "D", None)), key_customer=rng.random() < 0.1,
            deal_status="won" if rng.random() < 0.3 else "open", province=province, city=city, district=district,
            address=f"{city}{district}{rng.randint(1, 999)}号")
    except services.CustomerNameTaken:  # two generated names that normalise alike
        return
    for number in range(rng.randint(1, 3)):
        person = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.5 else "")
        ctx.dbsession.add(Contact(customer_id=customer.id, owner_id=owner.id, name=person, title=rng.choice(TITLES),
                                  mobile=f"13{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}",
                                  email=f"contact{customer.id}_{number}@example.com", primary=number == 0))
    last = None
    for _index in range(rng.randint(0, 3)):
        when = ctx.now - dt.timedelta(days=rng.randint(1, 60), hours=rng.randint(0, 8))
        ctx.dbsession.add(Followup(customer_id=customer.id, owner_id=owner.id, kind=rng.choice(services.FOLLOWUP_KINDS),
                                   content=rng.choice(NOTES), created_at=when))
        last = max(last or when, when)
    customer.last_followup_at = last
    if rng.random() < 0.4:
        customer.next_followup_at = ctx.now + dt.timedelta(days=rng.randint(-3, 14))
    ctx.dbsession.flush()
