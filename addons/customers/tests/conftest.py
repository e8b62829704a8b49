"""A company for the customers tests: 华东大区 managed by wangwu (sales manager, department scope,
sees contacts' phones), with zhangsan and lisi (sales, own scope)."""

import pytest

from core.models import Department
from core.org.services import create_department, root_department
from core.users.services import create_user

ZHANG = ("zhangsan", "Spring-Tea-77")
LISI = ("lisi", "Autumn-Rain-88")
WANG = ("wangwu", "Winter-Snow-99")


@pytest.fixture
def catalog(catalog_of):
    return catalog_of("addons.customers")


@pytest.fixture
def company(kehu_db, cli_env, catalog):
    """``(env, users)``: the users above on a database where ``customers`` is installed."""
    from core.addons.installer import install_addons

    env = cli_env(catalog)
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["customers"])
    return env, _people(env)


def _people(env):
    with env.ctx() as ctx:
        root = root_department(ctx).id
        east = create_department(ctx, "华东大区", root).id
        wang = create_user(ctx, WANG[0], WANG[1], roles=["sales_manager"], department_id=east, display_name="王五")
        ctx.dbsession.get(Department, east).manager_id = wang.id
        zhang = create_user(ctx, ZHANG[0], ZHANG[1], roles=["sales"], department_id=east, display_name="张三")
        lisi = create_user(ctx, LISI[0], LISI[1], roles=["sales"], department_id=east, display_name="李四")
        return {"zhang": zhang.id, "lisi": lisi.id, "wang": wang.id}


@pytest.fixture
def app(make_kehu_app, catalog, cli_env):
    """The web app with ``customers`` installed and the users above; ``app.env``, ``app.users``."""
    kehu = make_kehu_app(catalog=catalog, install=["customers"])
    env = cli_env(catalog)
    kehu.env, kehu.users = env, _people(env)
    return kehu


def post(app, url, pairs, **kwargs):
    """POST a form as the page's own form would, with its CSRF token."""
    return app.post(url, [*pairs, ("csrf_token", app.csrf_token())], **kwargs)
