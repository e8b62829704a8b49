"""The 负责人 column of the customers import (issue 6 part 10: "owner by name/email"): a
username, an e-mail (any case) or a display name gives the owner; nobody, a disabled user,
two people of the same name, or an owner beside a pool is the row's translated error and the
row is not written; on an update by key a new owner is a transfer (notified)."""

import csv
import io

from sqlalchemy import select

from addons.customers import pool, services
from addons.customers.exceptions import OwnerAmbiguous, OwnerAndPool, OwnerInactive, OwnerUnknown
from addons.customers.models import Customer
from core.i18n import localizer_for
from core.models import User
from core.notifications.models import Notification
from core.org.services import root_department
from core.users.services import create_user

from .conftest import WANG
from .test_import_custom import figures, run_import, suggested, upload

zh = localizer_for("zh_CN").translate


def owners_by_name(app):
    with app.env.ctx() as ctx:
        rows = ctx.dbsession.execute(select(Customer.name, User.username).outerjoin(User, User.id == Customer.owner_id))
        return dict(rows.all())


def errors_of(app, import_id):
    rows = list(csv.reader(io.StringIO(app.get(f"/imports/{import_id}/errors.csv").body.decode("utf-8-sig"))))
    return {row[0]: row[1] for row in rows[1:]}


def test_the_owner_column_takes_a_username_an_email_or_a_name(app, catalog):
    with app.env.ctx() as ctx:
        ctx.dbsession.get(User, app.users["lisi"]).email = "Li.Si@Example.com"
    app.login(*WANG)
    import_id = upload(app, [["客户名称", "负责人"],
                             ["上海华信科技有限公司", "zhangsan"],
                             ["杭州天成贸易有限公司", "li.si@example.COM"],
                             ["北京正阳科技有限公司", " 王五 "],
                             ["深圳海川物流有限公司", ""]])
    assert suggested(app, import_id) == {0: "name", 1: "owner"}
    report = run_import(app, catalog, import_id, {0: "name", 1: "owner"})
    assert figures(report) == {"created": 4, "updated": 0, "errors": 0}
    assert owners_by_name(app) == {"上海华信科技有限公司": "zhangsan", "杭州天成贸易有限公司": "lisi",
                                   "北京正阳科技有限公司": "wangwu", "深圳海川物流有限公司": "wangwu"}


def test_an_owner_who_is_nobody_disabled_or_ambiguous_refuses_the_row(app, catalog):
    with app.env.ctx() as ctx:
        department = root_department(ctx).id
        create_user(ctx, "zhangsan2", "Spring-Tea-78", roles=["sales"], department_id=department, display_name="张三")
        create_user(ctx, "gone", "Spring-Tea-79", roles=["sales"], department_id=department,
                    display_name="离职员工").active = False
    app.login(*WANG)
    import_id = upload(app, [["客户名称", "负责人", "公海"],
                             ["上海华信科技有限公司", "赵六", ""],
                             ["杭州天成贸易有限公司", "张三", ""],
                             ["北京正阳科技有限公司", "离职员工", ""],
                             ["深圳海川物流有限公司", "lisi", "公司公海"],
                             ["广州明远电子有限公司", "zhangsan2", ""]])
    with app.env.ctx() as ctx:
        pool.save_pool(ctx, name="公司公海", department_id=None, max_owned=50, active=True)
    report = run_import(app, catalog, import_id, {0: "name", 1: "owner", 2: "pool"})
    assert figures(report) == {"created": 1, "updated": 0, "errors": 4}
    reasons = errors_of(app, import_id)
    assert reasons["2"] == zh(OwnerUnknown(name="赵六").translation_string)
    assert reasons["3"] == zh(OwnerAmbiguous(name="张三", count=2).translation_string)
    assert reasons["4"] == zh(OwnerInactive(name="离职员工").translation_string)
    assert reasons["5"] == zh(OwnerAndPool().translation_string)
    assert owners_by_name(app) == {"广州明远电子有限公司": "zhangsan2"}  # nothing of the refused rows


def test_a_new_owner_on_an_update_by_key_is_a_transfer(app, catalog):
    with app.env.ctx() as ctx:
        services.create_customer(ctx, name="上海华信科技有限公司", owner_id=app.users["wang"])
    app.login(*WANG)
    import_id = upload(app, [["客户名称", "负责人"], ["上海华信科技有限公司", "张三"]])
    report = run_import(app, catalog, import_id, {0: "name", 1: "owner"}, mode="update", key_field="name")
    assert figures(report) == {"created": 0, "updated": 1, "errors": 0}
    assert owners_by_name(app) == {"上海华信科技有限公司": "zhangsan"}
    with app.env.ctx() as ctx:
        kinds = ctx.dbsession.scalars(select(Notification.kind).where(Notification.user_id == app.users["zhang"]))
        assert "customers.assigned" in set(kinds)
