"""Each core hook, called through the relay of an app with the fixture addon alpha installed."""

import pytest

from core.jobs.periodic import InvalidPeriodicJob, collect_periodic_jobs, validate_cron
from core.permissions import collect_permissions

FIXTURES = "tests.fixtures.addons."


@pytest.fixture
def app(make_kehu_app, catalog_of):
    app = make_kehu_app(catalog=catalog_of(FIXTURES + "alpha"), install=["alpha"])
    app.login()
    return app


def request_for(app, path="/"):
    """A real request through the app's registry, for calling services that take one."""
    from pyramid.scripting import prepare

    env = prepare(registry=app.router.registry)
    request = env["request"]
    request.tm.begin()
    return env, request


def test_record_panels_of_installed_addons(app):
    from core.models import User
    from core.web.panels import panels_for

    env, request = request_for(app)
    try:
        user = request.dbsession.query(User).filter_by(username="admin").one()
        panels = panels_for(request, user)
        assert [panel.id for panel, _ in panels] == ["alpha.user_items", "core.history"]
        assert panels[0][1] == {"owner": "admin"}
        assert panels_for(request, object()) == []  # not a record: no panel at all
    finally:
        request.tm.abort()
        env["closer"]()


def test_search_providers_of_installed_addons(app):
    page = app.get("/search", {"q": "defa"})
    assert "Alpha items" in page.text
    assert "default" in page.text


def test_periodic_jobs_are_collected_and_validated(app):
    registry_runtime = app.router.registry["kehu.addons"]
    from core.plugins import HookRelay

    relay = HookRelay(registry_runtime.plugin_manager, ["alpha"])
    jobs = collect_periodic_jobs(relay.kehu_periodic_jobs())
    assert set(jobs) == {"core.purge_expired_sessions", "core.purge_expired_files", "alpha.nightly"}
    only_core = collect_periodic_jobs(HookRelay(registry_runtime.plugin_manager, []).kehu_periodic_jobs())
    assert set(only_core) == {"core.purge_expired_sessions", "core.purge_expired_files"}


@pytest.mark.parametrize("cron", ["0 2 * * *", "*/15 * * * 1-5", "0 8,12,18 1 */2 0"])
def test_valid_cron(cron):
    validate_cron("x", cron)


@pytest.mark.parametrize("cron", ["0 2 * *", "61 * * * *", "* * * * 8", "*/0 * * * *", "a * * * *"])
def test_invalid_cron(cron):
    with pytest.raises(InvalidPeriodicJob):
        validate_cron("x", cron)


def test_permissions_collected_with_collision_check():
    from pyramid.exceptions import ConfigurationError

    from core.contributions import Permission

    permission = Permission("x.y:read", "X")
    with pytest.raises(ConfigurationError):
        collect_permissions([[permission], [permission]])
    with pytest.raises(ConfigurationError):
        collect_permissions([[Permission("x.y:write", "X", default_roles=("king",))]])


def test_demo_data_hook_is_idempotent(cli_env, kehu_db):
    from sqlalchemy import func, select

    from core.models import User

    env = cli_env()
    for _ in range(2):
        with env.ctx() as ctx:
            ctx.hooks.kehu_demo_data(ctx=ctx)
    with env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(func.count()).where(User.username == "sales1")) == 1
        people = {user.username: user for user in ctx.dbsession.scalars(select(User))}
        assert {f"manager{n}" for n in range(1, 4)} | {f"sales{n}" for n in range(1, 9)} <= set(people)
        for n in range(1, 4):
            manager = people[f"manager{n}"]
            assert manager.role_keys == {"sales_manager"}
            assert manager.department.manager_id == manager.id  # one manager per region
        assert len({people[f"sales{n}"].department_id for n in range(1, 9)}) == 3
        from core.users.demo import DEMO_PASSWORD
        from core.users.passwords import verify_password

        assert verify_password(people["sales8"].password_hash, DEMO_PASSWORD)  # one shared hash, a valid one
