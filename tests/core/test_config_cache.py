"""The process cache of configuration (core.config_cache, issue 7): role grants, custom field
definitions and other addons' lists are read once per process, and a change made anywhere —
another worker, the CLI, a bulk statement — reaches every process with its next request."""

from sqlalchemy import delete, select

from core.access.roles import create_role, role_by_key, set_role_permissions
from core.addons.installer import registry_versions
from core.addons.runtime import AddonRuntime
from core.config_cache import cached
from core.customfields import services as custom_fields
from core.models import RolePermission, User
from core.org.services import root_department
from core.users.services import create_user
from tests.fixtures.addons.scoped.models import ScopedNote

AUDITOR = ("auditor1", "Quiet-River-2048")


def _auditor(env):
    with env.ctx() as ctx:
        role = create_role(ctx, "job_watcher", "Job watcher")
        set_role_permissions(ctx, role, ["core.job:read"])
        create_user(ctx, AUDITOR[0], AUDITOR[1], roles=["sales", "job_watcher"], department_id=root_department(ctx).id)


def test_a_grant_changed_by_another_process_reaches_a_warm_worker(make_kehu_app, cli_env):
    worker = make_kehu_app()
    env = cli_env()
    _auditor(env)
    worker.login(*AUDITOR)
    worker.get("/admin/jobs", status=200)  # the grants are now cached in this worker

    with env.ctx() as ctx:  # the CLI, another process
        set_role_permissions(ctx, role_by_key(ctx, "job_watcher"), [])
    worker.get("/admin/jobs", status=403)

    with env.ctx() as ctx:  # a bulk statement, not a flush
        ctx.dbsession.add(RolePermission(role_id=role_by_key(ctx, "job_watcher").id, permission="core.job:read"))
    worker.get("/admin/jobs", status=200)
    with env.ctx() as ctx:
        role_id = role_by_key(ctx, "job_watcher").id
        ctx.dbsession.execute(delete(RolePermission).where(RolePermission.permission == "core.job:read",
                                                           RolePermission.role_id == role_id))
    worker.get("/admin/jobs", status=403)


def test_writes_to_configuration_bump_the_counter_and_other_writes_do_not(kehu_db, cli_env):
    env = cli_env()
    with env.ctx() as ctx:
        before = registry_versions(ctx.dbsession)
        create_user(ctx, "plain", "Quiet-River-2048", department_id=root_department(ctx).id)
    with env.ctx() as ctx:
        assert registry_versions(ctx.dbsession) == before  # a user is not configuration
        create_role(ctx, "extra", "Extra")
        create_role(ctx, "more", "More")  # once per transaction is enough
    with env.ctx() as ctx:
        assert registry_versions(ctx.dbsession) == (before[0], before[1] + 1)
        ctx.dbsession.execute(delete(RolePermission).where(RolePermission.permission == "no-such"))
    with env.ctx() as ctx:
        assert registry_versions(ctx.dbsession) == (before[0], before[1] + 2)


def test_a_rolled_back_change_leaves_the_counter(kehu_db, cli_env):
    env = cli_env()
    with env.ctx() as ctx:
        before = registry_versions(ctx.dbsession)
    try:
        with env.ctx() as ctx:
            create_role(ctx, "short_lived", "Short lived")
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    with env.ctx() as ctx:
        assert registry_versions(ctx.dbsession) == before
        assert ctx.dbsession.scalar(select(User.id).limit(1)) is not None


def test_cached_values_are_shared_until_the_session_changes_configuration(kehu_db, cli_env):
    env = cli_env()
    process: dict = {}
    loads = []

    def load():
        loads.append(1)
        return len(loads)

    with env.ctx() as ctx:
        ctx.cache = process
        assert cached(ctx, "k", load) == 1
        assert cached(ctx, "k", load) == 1
    with env.ctx() as ctx:  # another request of the same process
        ctx.cache = process
        assert cached(ctx, "k", load) == 1
        create_role(ctx, "seen_at_once", "Seen at once")  # this session changed configuration:
        assert cached(ctx, "k", load) == 2  # it reads around the process's copy
        assert cached(ctx, "k", load) == 2  # and keeps its own
        assert process["k"] == 1
    with env.ctx() as ctx:  # commands and jobs keep values for their session only
        assert cached(ctx, "k", load) == 3
        assert cached(ctx, "k", load) == 3


def test_the_runtime_starts_an_empty_cache_when_configuration_moved(kehu_db, cli_env, catalog_of):
    env = cli_env()
    runtime = AddonRuntime(catalog_of())
    with env.ctx() as ctx:
        first = runtime.sync(ctx.dbsession)
        first.cache["k"] = "old"
        assert runtime.sync(ctx.dbsession) is first
    with env.ctx() as ctx:
        stale = registry_versions(ctx.dbsession)
        create_role(ctx, "moved", "Moved")
    with env.ctx() as ctx:
        second = runtime.sync(ctx.dbsession)
    assert second is not first and second.cache == {} and second.hooks is first.hooks
    assert second.config_version == stale[1] + 1

    # A thread that read the counters just before they moved gets the newer addons and a
    # cache of its own: what it reads next may be older than the snapshot.
    class Late:
        def execute(self, *args, **kwargs):
            class Row:
                def one(self):
                    return stale
            return Row()

    late = runtime.sync(Late())
    assert late.hooks is second.hooks and late.cache is not second.cache
    assert runtime.state is second


def test_custom_field_definitions_follow_a_change_made_elsewhere(kehu_db, cli_env, catalog_of):
    catalog = catalog_of("tests.fixtures.addons.scoped")
    env = cli_env(catalog)
    from core.addons.installer import install_addons

    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["scoped"])
        custom_fields.save_field(ctx, ScopedNote.__tablename__, label="预算", kind="number")
    runtime = AddonRuntime(catalog)
    with env.ctx() as ctx:
        ctx.cache = runtime.sync(ctx.dbsession).cache
        assert [f.label for f in custom_fields.fields_for(ctx, "scoped_note")] == ["预算"]
    with env.ctx() as ctx:
        field = custom_fields.all_fields(ctx, "scoped_note")[0]
        custom_fields.save_field(ctx, "scoped_note", field.id, label="预算（元）", kind="number")
    with env.ctx() as ctx:
        ctx.cache = runtime.sync(ctx.dbsession).cache
        assert [f.label for f in custom_fields.fields_for(ctx, "scoped_note")] == ["预算（元）"]
