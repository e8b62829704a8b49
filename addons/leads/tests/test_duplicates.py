"""查重 both ways (D-DUP): the customers' 查重 finds leads by name, mobile and e-mail (masked
outside the caller's scope, pooled leads named as such), and a lead's check finds customers."""

from sqlalchemy import select

from addons.customers.duplicates import find_duplicates
from addons.customers.services import add_contact, create_customer
from addons.leads import duplicates, services
from addons.leads.models import LeadPool

from .conftest import as_user


def test_the_customers_duplicate_check_finds_leads_by_name_mobile_and_email(company):
    env, users = company
    with env.ctx() as ctx:
        zhang = as_user(ctx, users["zhang"])
        services.create_lead(zhang, name="杭州云帆科技有限公司", mobile="13800138000", email="Chen@YunFan.cn")
        pool_id = ctx.dbsession.scalars(select(LeadPool.id)).one()
        services.create_lead(ctx, name="池里的线索公司", mobile="13900139000", pool_id=pool_id)
    with env.ctx() as ctx:
        zhang, zhao = as_user(ctx, users["zhang"]), as_user(ctx, users["zhao"])
        (own,) = find_duplicates(zhang, name="杭州云帆科技")
        assert (own.name, own.owner, own.match, own.in_scope) == ("杭州云帆科技有限公司", "张三", "name", True)
        assert own.url.startswith("/leads/")
        (other,) = find_duplicates(zhao, mobile="138 0013 8000")  # not zhao's lead
        assert (other.name, other.owner, other.match, other.in_scope, other.url) == (
            "杭州***公司", "张三", "mobile", False, None)
        assert [hit.match for hit in find_duplicates(zhao, email="chen@yunfan.cn")] == ["email"]
        (pooled,) = find_duplicates(zhao, mobile="13900139000")  # the company-wide pool: zhao may open it
        assert (pooled.owner, pooled.pool, pooled.in_scope) == ("—", "公共线索池", True)


def test_a_new_lead_is_checked_against_customers_and_leads(company):
    env, users = company
    with env.ctx() as ctx:
        lisi = as_user(ctx, users["lisi"])
        customer = create_customer(lisi, name="宁波海联贸易有限公司")
        add_contact(lisi, customer.id, name="周总", mobile="13700137000")
        services.create_lead(lisi, name="温州某鞋业")
    with env.ctx() as ctx:
        zhang = as_user(ctx, users["zhang"])
        hits = duplicates.check_lead(zhang, name="宁波海联贸易", mobile="13700137000")
        assert [(hit.match, hit.owner, hit.in_scope) for hit in hits] == [("name", "李四", False)]
        assert [hit.match for hit in duplicates.check_lead(zhang, name="温州某鞋业有限公司")] == ["name"]
        assert duplicates.check_lead(zhang, name="  ") == []
