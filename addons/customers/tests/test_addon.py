"""The addon as a whole: its migration matches its models, its routes answer only once it is
installed, and its demo data is deterministic and idempotent."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select

from addons.customers.models import Contact, Customer, Followup
from core.addons.installer import install_addons
from core.db import Base


def test_the_migrations_match_the_models(kehu_db, cli_env, catalog):
    """Fails when models.py changed without a migration."""
    env = cli_env(catalog)
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["customers"])

    def ours(obj, name, type_, reflected, compare_to):
        table = obj if type_ == "table" else getattr(obj, "table", None)
        table_name = getattr(table, "name", "")
        return table_name.startswith("customers_") and table_name != "customers_alembic_version"

    with env.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": ours})
        assert compare_metadata(context, Base.metadata) == []


def test_the_pages_are_not_found_before_the_addon_is_installed(make_kehu_app, catalog):
    app = make_kehu_app(catalog=catalog)
    app.login()
    app.get("/customers", status=404)
    app.get("/customers/new", status=404)


def test_demo_data_is_deterministic_and_idempotent(kehu_db, cli_env, catalog):
    env = cli_env(catalog)
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["customers"])
    for _round in range(2):
        with env.ctx() as ctx:
            ctx.hooks.kehu_demo_data(ctx=ctx)
    with env.ctx() as ctx:
        count = ctx.dbsession.scalar(select(func.count()).select_from(Customer))
        assert 190 <= count <= 200
        assert ctx.dbsession.scalar(select(func.count()).select_from(Contact)) >= count
        assert ctx.dbsession.scalar(select(func.count()).select_from(Followup)) > 0
        owners = set(ctx.dbsession.scalars(select(Customer.owner_id).distinct()))
        assert len(owners - {None}) == 3
        in_pool = ctx.dbsession.scalar(select(func.count()).select_from(Customer).where(
            Customer.owner_id.is_(None), Customer.pool_id.is_not(None)))
        assert in_pool == len(range(0, count, 10))  # every tenth customer waits in the company pool
        first = ctx.dbsession.scalar(select(Customer.name).order_by(Customer.id).limit(1))
    assert first == "上海万达盛世贸易股份有限公司"  # seeded: the same on every demo database
