"""The ``kehu`` command: clear one-line errors, non-zero exits, the same rules as the services."""

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from core.cli import main
from core.cli.environment import CliEnvironment
from core.models import User

FIXTURES = "tests.fixtures.addons."


@pytest.fixture
def run(database_url, catalog_of):
    catalog = catalog_of(FIXTURES + "alpha", FIXTURES + "beta", FIXTURES + "broken_data",
                         FIXTURES + "ghost_dependent", FIXTURES + "bad_manifest")
    envs = []

    def invoke(*args, input=None):
        env = CliEnvironment(database_url=database_url, catalog=catalog)
        envs.append(env)
        result = CliRunner().invoke(main, ["--database-url", database_url, *args], obj=env, input=input,
                                    env={"KEHU_LANG": "en"})
        return result

    yield invoke
    for env in envs:
        if "engine" in env.__dict__:
            env.engine.dispose()


def test_init_creates_admin_and_installs_addons(run):
    result = run("init", "--admin-password", "secret-password", "--addons", "beta")
    assert result.exit_code == 0, result.output
    assert "Installed: alpha, beta" in result.output
    listing = run("addons", "list").output
    assert "alpha" in listing and "installed" in listing
    assert "ghost_dependent" in listing and "broken" in listing
    assert "bad_manifest" in listing  # an unreadable manifest is listed as broken, never loaded


def test_init_twice_keeps_the_first_admin(run):
    first = run("init")
    assert "Administrator: admin / " in first.output  # a generated password, printed once
    second = run("init")
    assert second.exit_code == 0
    assert "Administrator" not in second.output


def test_commands_before_init_say_what_to_do(run):
    result = run("addons", "install", "alpha")
    assert result.exit_code == 1
    assert "kehu init" in result.output
    assert "Traceback" not in result.output


def test_addon_commands_report_errors_in_one_line(run):
    run("init", "--admin-password", "secret-password")
    unknown = run("addons", "install", "nosuch")
    assert unknown.exit_code == 1 and "nosuch" in unknown.output
    assert len(unknown.output.strip().splitlines()) == 1
    broken = run("addons", "install", "broken_data")
    assert broken.exit_code == 1 and "broken_data" in broken.output
    listing = run("addons", "list").output.splitlines()
    assert any(line.startswith("alpha ") and "available" in line for line in listing)  # rolled back too


def test_install_upgrade_uninstall_cycle(run):
    run("init", "--admin-password", "secret-password")
    assert run("addons", "install", "beta").exit_code == 0
    assert run("addons", "upgrade").output.strip() == "Upgraded: alpha, beta"
    refused = run("addons", "uninstall", "alpha")
    assert refused.exit_code == 1 and "beta" in refused.output
    assert run("addons", "uninstall", "beta").exit_code == 0
    aborted = run("addons", "uninstall", "alpha", "--drop-data", input="n\n")
    assert aborted.exit_code == 1
    kept = run("addons", "uninstall", "alpha", "--drop-data", "--yes")
    assert kept.exit_code == 1 and "beta" in kept.output  # beta's kept rows refer to alpha's
    assert run("addons", "install", "beta").exit_code == 0
    assert run("addons", "uninstall", "beta", "--drop-data", "--yes").exit_code == 0
    dropped = run("addons", "uninstall", "alpha", "--drop-data", "--yes")
    assert dropped.exit_code == 0 and "tables dropped" in dropped.output


def test_user_commands(run, database_url):
    run("init", "--admin-password", "secret-password")
    created = run("user", "create", "lisi", "--password", "Spring-Tea-77", "--name", "李四")
    assert created.exit_code == 0, created.output
    duplicate = run("user", "create", "lisi", "--password", "Spring-Tea-77")
    assert duplicate.exit_code == 1 and "lisi" in duplicate.output
    weak = run("user", "create", "wangwu", "--password", "short")
    assert weak.exit_code == 1
    assert run("user", "passwd", "lisi", "--password", "Autumn-Rain-88").exit_code == 0
    assert run("user", "disable", "lisi").exit_code == 0
    missing = run("user", "disable", "nobody")
    assert missing.exit_code == 1 and "nobody" in missing.output
    env = CliEnvironment(database_url=database_url)
    with env.ctx() as ctx:
        user = ctx.dbsession.scalars(select(User).where(User.username == "lisi")).one()
        assert (user.display_name, user.active) == ("李四", False)
    env.engine.dispose()
    assert run("user", "enable", "lisi").exit_code == 0


def test_db_upgrade_on_a_fresh_database(run):
    result = run("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "kehu init" in result.output


def test_unreachable_database_is_one_line(catalog_of):
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    env = CliEnvironment(database_url=url, catalog=catalog_of())
    result = CliRunner().invoke(main, ["--database-url", url, "addons", "list"], obj=env, env={"KEHU_LANG": "en"})
    assert result.exit_code == 1
    assert "cannot use the database" in result.output
    assert "Traceback" not in result.output


def test_unexpected_errors_are_one_line_too(run, monkeypatch):
    import core.cli.addons

    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    run("init", "--admin-password", "secret-password")
    monkeypatch.setattr(core.cli.addons, "install_addons", explode)
    result = run("addons", "install", "alpha")
    assert result.exit_code == 1
    assert "unexpected RuntimeError: disk on fire" in result.output
    assert "Traceback" not in result.output


def test_user_commands_on_an_empty_database_say_run_init(run):
    result = run("user", "disable", "admin")
    assert result.exit_code == 1
    assert "kehu init" in result.output
    assert "no such table" not in result.output.lower()


def test_messages_follow_the_administrators_language(database_url, catalog_of):
    env = CliEnvironment(database_url=database_url, catalog=catalog_of())
    result = CliRunner().invoke(main, ["--database-url", database_url, "init", "--admin-password", "pw-long-enough"],
                                obj=env, env={"KEHU_LANG": "zh_CN"})
    env.engine.dispose()
    assert result.exit_code == 0, result.output
    assert "管理员" in result.output
    missing = CliRunner().invoke(main, ["--database-url", database_url, "user", "disable", "nobody"],
                                 obj=CliEnvironment(database_url=database_url), env={"KEHU_LANG": "zh_CN"})
    assert missing.exit_code == 1
    assert "错误" in missing.output and "nobody" in missing.output


def test_user_create_with_roles(run, database_url):
    run("init", "--admin-password", "secret-password")
    assert run("user", "create", "zhao", "--password", "Spring-Tea-77", "--role", "sales_manager",
               "--role", "auditor").exit_code == 0
    unknown = run("user", "create", "qian", "--password", "Spring-Tea-77", "--role", "king")
    assert unknown.exit_code == 1 and "king" in unknown.output
    env = CliEnvironment(database_url=database_url)
    with env.ctx() as ctx:
        user = ctx.dbsession.scalars(select(User).where(User.username == "zhao")).one()
        assert user.role_keys == {"sales_manager", "auditor"}
        assert user.department is not None
        assert ctx.dbsession.scalars(select(User).where(User.username == "qian")).first() is None
    env.engine.dispose()
