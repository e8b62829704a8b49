"""Realistic Chinese company names (region + two- or three-character brand + industry + company
form) with their normalised key, pinyin and initials, and half with a valid 统一社会信用代码.

Shared by ``customer_search.py`` and ``generate.py`` so both measure the same kind of names:
the search indexes' cost depends on how names spread over characters, so the mix matters more
than the count. Deterministic for a seed; pinyin is looked up once per part (pypinyin costs
~1 ms a call, a million calls would dominate the load).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import NamedTuple

from stdnum.cn import uscc

from addons.customers.names import normalise_company_name, pinyin_of

REGIONS = ("上海", "北京", "深圳", "杭州", "广州", "南京", "成都", "武汉", "苏州", "天津", "重庆", "西安", "青岛",
           "宁波", "厦门", "大连", "长沙", "郑州", "济南", "合肥", "福州", "昆明", "沈阳", "无锡", "东莞", "佛山",
           "常州", "温州", "绍兴", "嘉兴", "烟台", "珠海", "中山", "泉州", "南通", "扬州", "徐州", "台州")
BRAND_CHARS = ("华信达通恒泰瑞丰盛源鑫隆宏兴安康永鸿德正嘉和润博创新联合中天明远金海宇星辰光耀东方晨阳"
               "锦程凯旋睿智卓越诚致伟业宝利顺捷航百川万象精工科美佳乐思远弘毅启元同方云峰汇聚广益"
               "长江龙腾飞跃腾骏凯迪欣悦蓝海绿源红日紫金银河北斗朗逸华夏神州天成永恒信义忠厚仁和")
INDUSTRIES = ("科技", "网络科技", "信息技术", "电子", "贸易", "实业", "机械", "化工", "医药", "生物科技", "新材料",
              "建筑工程", "物流", "食品", "服饰", "家具", "电气", "能源", "环保科技", "文化传媒", "教育科技",
              "软件", "通信", "汽车配件", "精密制造", "农业", "商贸", "国际贸易", "咨询", "智能装备")
FORMS = ("有限公司", "有限公司", "有限公司", "股份有限公司", "有限责任公司", "集团有限公司")
AREA_CODES = ("310115", "110105", "440305", "330106", "440106", "320102", "510107", "420106")


class CompanyName(NamedTuple):
    name: str
    name_key: str
    short_name: str | None
    credit_code: str | None
    pinyin: str
    initials: str
    region: str
    level: str


def _pinyin_table(words: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    return {word: pinyin_of(word) for word in dict.fromkeys(words)}


def company_names(rows: int, seed: int = 7) -> Iterator[CompanyName]:
    """``rows`` companies with unique name keys (and unique credit codes), always the same ones
    for ``seed``: benchmark runs on different days measure the same data."""
    rng = random.Random(seed)  # noqa: S311 (repeatable data, not secrets)
    table = _pinyin_table(REGIONS + INDUSTRIES + FORMS + tuple(BRAND_CHARS))
    seen: set[str] = set()
    made = 0
    while made < rows:
        region, industry, form = rng.choice(REGIONS), rng.choice(INDUSTRIES), rng.choice(FORMS)
        brand = rng.choice(BRAND_CHARS) + rng.choice(BRAND_CHARS)
        if rng.random() < 0.3:
            brand += rng.choice(BRAND_CHARS)
        parts = (region, brand[0], brand[1:2], brand[2:], industry, form) if rng.random() < 0.7 else (
            brand[0], brand[1:2], brand[2:], f"({region})", industry, form)
        name = "".join(parts)
        key = normalise_company_name(name)
        if key in seen:
            continue
        seen.add(key)
        for part in parts:
            if part not in table:  # "(上海)": looked up once, kept
                table[part] = pinyin_of(part)
        full = "".join(table[p][0] for p in parts if p)
        initials = "".join(table[p][1] for p in parts if p)
        short = brand + industry[:2] if rng.random() < 0.6 else None
        code = None
        if made % 2 == 0:
            base = f"91{rng.choice(AREA_CODES)}MA{made:07d}"
            code = base + uscc.calc_check_digit(base)
        yield CompanyName(name, key, short, code, full, initials, region, rng.choice("ABCD"))
        made += 1
