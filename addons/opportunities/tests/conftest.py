"""A company for the opportunities tests — the leads tests' people: 华东大区 (wangwu, sales
manager and the department's manager; zhangsan and lisi, sales) and 华南大区 (zhaoliu, sales);
customers and opportunities installed, with a customer of zhangsan's."""

import pytest

from addons.customers import services as customers
from addons.leads.tests.conftest import LISI, WANG, ZHANG, ZHAO, _people, as_user  # noqa: F401 (re-exported)


@pytest.fixture
def catalog(catalog_of):
    return catalog_of("addons.customers", "addons.opportunities")


@pytest.fixture
def company(kehu_db, cli_env, catalog):
    """``(env, users)`` with ``users["customer"]``: 杭州云帆科技有限公司, zhangsan's."""
    from core.addons.installer import install_addons

    env = cli_env(catalog)
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["opportunities"])
    users = _people(env)
    with env.ctx() as ctx:
        users["customer"] = customers.create_customer(as_user(ctx, users["zhang"]), name="杭州云帆科技有限公司").id
    return env, users


@pytest.fixture
def app(make_kehu_app, catalog, cli_env):
    """The web app with opportunities installed; ``app.env``, ``app.users`` as in ``company``."""
    kehu = make_kehu_app(catalog=catalog, install=["opportunities"])
    env = cli_env(catalog)
    kehu.env, kehu.users = env, _people(env)
    with env.ctx() as ctx:
        kehu.users["customer"] = customers.create_customer(as_user(ctx, kehu.users["zhang"]),
                                                           name="杭州云帆科技有限公司").id
    return kehu
