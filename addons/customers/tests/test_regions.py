"""The bundled region list (GB/T 2260): names with or without suffix, combinations checked level
by level, the services refusing a wrong one, the cascading selects' fragment, and an import that
resolves region names."""

import csv
import io
import re

import pytest
from sqlalchemy import select

from addons.customers import regions, services
from addons.customers.exceptions import CityNotInProvince, DistrictNotInCity, ProvinceUnknown, RegionIncomplete
from addons.customers.models import Customer
from core.i18n import localizer_for
from core.jobs import worker
from core.models import User

from .conftest import ZHANG, post


def zh(message):
    return localizer_for("zh_CN").translate(message)


# -- the data ------------------------------------------------------------------------------------

def test_the_list_holds_every_province_with_codes():
    provinces = regions.provinces()
    assert len(provinces) == 34
    assert {p.code for p in provinces} >= {"110000", "440000", "650000", "710000", "810000", "820000"}
    assert regions.provinces() is provinces  # read once
    assert [r.name for r in regions.by_code("440305")] == ["广东省", "深圳市", "南山区"]
    assert regions.by_code("999999") == ()


@pytest.mark.parametrize(("given", "expected"), [
    (("上海", "上海", "浦东"), ("上海市", "上海市", "浦东新区")),
    (("上海市", "上海市", "浦东新区"), ("上海市", "上海市", "浦东新区")),
    (("广西", "南宁", "青秀"), ("广西壮族自治区", "南宁市", "青秀区")),
    (("内蒙古", "呼和浩特", None), ("内蒙古自治区", "呼和浩特市", None)),
    (("湖北省", "仙桃市", None), ("湖北省", "仙桃市", None)),  # 省直辖县级市: a city without districts
    (("吉林", "延边", "延吉"), ("吉林省", "延边朝鲜族自治州", "延吉市")),  # the start of a unique name
    (("重庆", "重庆", "巫山县"), ("重庆市", "重庆市", "巫山县")),  # the municipality's counties too
    (("广东", None, None), ("广东省", None, None)),
    ((None, None, None), (None, None, None)),
    ((" 浙江 ", "杭州 市", ""), ("浙江省", "杭州市", None)),
])
def test_names_resolve_with_or_without_their_suffix(given, expected):
    assert regions.resolve(*given) == expected
    assert regions.valid(*given)


@pytest.mark.parametrize(("given", "refusal"), [
    (("火星", None, None), ProvinceUnknown),
    (("广东", "杭州", None), CityNotInProvince),
    (("浙江", "杭州", "南山区"), DistrictNotInCity),
    ((None, "杭州", None), RegionIncomplete),
    (("浙江", None, "西湖区"), RegionIncomplete),
])
def test_a_wrong_combination_is_refused_level_by_level(given, refusal):
    with pytest.raises(refusal):
        regions.resolve(*given)
    assert not regions.valid(*given)


def test_cities_and_districts_follow_their_parent():
    assert [c.name for c in regions.cities("北京")] == ["北京市"]
    assert "西湖区" in [d.name for d in regions.districts("浙江省", "杭州")]
    assert regions.cities("火星") == () and regions.districts("浙江", "火星") == ()


# -- the services --------------------------------------------------------------------------------

def test_the_services_store_full_names_and_refuse_a_wrong_combination(company):
    env, users = company
    with env.ctx() as ctx:
        ctx = ctx.as_user(ctx.dbsession.get(User, users["zhang"]))
        customer = services.create_customer(ctx, name="杭州西湖科技有限公司", province="浙江", city="杭州",
                                            district="西湖")
        assert (customer.province, customer.city, customer.district) == ("浙江省", "杭州市", "西湖区")
        with pytest.raises(CityNotInProvince):
            services.create_customer(ctx, name="深圳某公司", province="广东", city="杭州")
        with pytest.raises(DistrictNotInCity):
            services.update_customer(ctx, customer.id, district="南山区")  # checked with its province and city
        services.update_customer(ctx, customer.id, city="宁波", district="鄞州")
        assert (customer.city, customer.district) == ("宁波市", "鄞州区")
        # a region typed before the list existed stays as it is while it is not changed
        customer.province, customer.city, customer.district = "江南", "某市", None
        ctx.dbsession.flush()
        services.update_customer(ctx, customer.id, name="杭州西湖科技股份有限公司", province="江南", city="某市")
        assert customer.province == "江南"


# -- the form ------------------------------------------------------------------------------------

def test_the_form_offers_cascading_selects_and_shows_a_refusal_beside_the_city(app):
    app.login(*ZHANG)
    page = app.get("/customers/new")
    province = page.html.select_one("select#province")
    assert province["hx-target"] == "#city" and "level=city" in province["hx-get"]
    assert page.html.select_one("select#city")["hx-target"] == "#district"
    assert len(province.select("option")) == 35  # "—" and the 34 provinces
    refused = post(app, "/customers/new", [("name", "某某科技有限公司"), ("deal_status", "open"),
                                           ("province", "广东省"), ("city", "杭州市")])
    assert refused.status_int == 200
    assert refused.html.select_one("#city-error").get_text() == zh(
        CityNotInProvince(name="杭州市", province="广东省").translation_string)
    # the cities of the chosen province are offered again, the wrong one kept visible
    cities = [o["value"] for o in refused.html.select("select#city option")]
    assert "广州市" in cities and "杭州市" in cities
    created = post(app, "/customers/new", [("name", "某某科技有限公司"), ("deal_status", "open"),
                                           ("province", "广东省"), ("city", "深圳市"), ("district", "南山区")],
                   status=303)
    customer_id = int(re.search(r"/customers/(\d+)$", created.location).group(1))
    edit = app.get(f"/customers/{customer_id}/edit")
    assert edit.html.select_one("select#district option[selected]")["value"] == "南山区"


def test_the_fragment_lists_the_cities_or_districts(app):
    app.login(*ZHANG)
    cities = app.get("/customers/regions", {"level": "city", "province": "浙江", "selected": "杭州市"})
    options = cities.html.select("option")
    assert options[0]["value"] == "" and "杭州市" in [o["value"] for o in options]
    assert cities.html.select_one("option[selected]")["value"] == "杭州市"
    assert cities.html.select_one('option[value="杭州市"]')["data-code"] == "330100"
    districts = app.get("/customers/regions", {"level": "district", "province": "浙江省", "city": "杭州市"})
    assert "西湖区" in [o["value"] for o in districts.html.select("option")]
    nothing = app.get("/customers/regions", {"level": "district", "province": "浙江省", "city": ""})
    assert [o["value"] for o in nothing.html.select("option")] == [""]
    app.reset()
    app.get("/customers/regions", {"level": "city", "province": "浙江"}, status=303)  # signed-in users only


# -- the import ----------------------------------------------------------------------------------

def test_the_import_resolves_region_names_and_reports_a_wrong_combination(app, catalog):
    app.login(*ZHANG)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([
        ["客户名称", "省份", "城市", "区县"],
        ["上海浦东科技有限公司", "上海", "上海", "浦东"],
        ["南宁青秀贸易有限公司", "广西", "南宁市", "青秀区"],
        ["错配电子有限公司", "广东", "杭州市", ""],
    ])
    response = app.post("/imports/new/customers.customers", {"csrf_token": app.csrf_token()},
                        upload_files=[("file", "customers.csv", buffer.getvalue().encode("utf-8"))], status=303)
    import_id = int(re.search(r"/imports/(\d+)/mapping$", response.location).group(1))
    app.post_form(f"/imports/{import_id}/mapping", {"col-0": "name", "col-1": "province", "col-2": "city",
                                                    "col-3": "district"}, status=303)
    app.post_form(f"/imports/{import_id}/preview", {"mode": "create", "key_field": ""}, status=303)
    worker.Worker(app.env.engine, catalog, app.env.settings).run(until_idle=True)
    report = app.get(f"/imports/{import_id}/progress")
    assert 'id="import-created" data-count="2"' in report.text and 'id="import-errors" data-count="1"' in report.text
    errors = list(csv.reader(io.StringIO(app.get(f"/imports/{import_id}/errors.csv").body.decode("utf-8-sig"))))
    assert errors[1][0] == "4"  # the line in the file
    assert zh(CityNotInProvince(name="杭州市", province="广东省").translation_string) in errors[1][1]
    with app.env.ctx() as ctx:
        saved = {c.name: (c.province, c.city, c.district) for c in ctx.dbsession.scalars(select(Customer))}
    assert saved == {"上海浦东科技有限公司": ("上海市", "上海市", "浦东新区"),
                     "南宁青秀贸易有限公司": ("广西壮族自治区", "南宁市", "青秀区")}
