"""A company for the calendar tests: 华东大区 (wangwu, sales manager, department scope) with
zhangsan (Asia/Shanghai) and lisi (America/New_York), both sales with their own scope, and
华南大区 with zhaoliu; only the calendar installed unless a test asks for more."""

import pytest

from core.models import Department, User
from core.org.services import create_department, root_department
from core.users.services import create_user

ZHANG = ("zhangsan", "Spring-Tea-77")
LISI = ("lisi", "Autumn-Rain-88")
WANG = ("wangwu", "Winter-Snow-99")
ZHAO = ("zhaoliu", "Summer-Sun-66")


@pytest.fixture
def catalog(catalog_of):
    return catalog_of("addons.calendar")


@pytest.fixture
def company(kehu_db, cli_env, catalog):
    """``(env, users)``: the users above with the calendar installed; ``users`` also holds the
    departments' ids (``east``, ``south``)."""
    from core.addons.installer import install_addons

    env = cli_env(catalog)
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["calendar"])
    return env, people(env)


@pytest.fixture
def app(make_kehu_app, catalog, cli_env):
    """The web app with the calendar installed and the users above; ``app.env``, ``app.users``."""
    kehu = make_kehu_app(catalog=catalog, install=["calendar"])
    env = cli_env(catalog)
    kehu.env, kehu.users = env, people(env)
    return kehu


def people(env):
    with env.ctx() as ctx:
        root = root_department(ctx).id
        east = create_department(ctx, "华东大区", root).id
        south = create_department(ctx, "华南大区", root).id
        wang = create_user(ctx, WANG[0], WANG[1], roles=["sales_manager"], department_id=east, display_name="王五")
        ctx.dbsession.get(Department, east).manager_id = wang.id
        zhang = create_user(ctx, ZHANG[0], ZHANG[1], roles=["sales"], department_id=east, display_name="张三")
        lisi = create_user(ctx, LISI[0], LISI[1], roles=["sales"], department_id=east, display_name="李四",
                           timezone="America/New_York")
        zhao = create_user(ctx, ZHAO[0], ZHAO[1], roles=["sales"], department_id=south, display_name="赵六")
        return {"zhang": zhang.id, "lisi": lisi.id, "wang": wang.id, "zhao": zhao.id, "east": east, "south": south}


def as_user(ctx, user_id):
    return ctx.as_user(ctx.dbsession.get(User, user_id))
