"""The addon as a whole: its migration matches its models, it needs the customers addon, its
data load gives a company-wide pool, and uninstalling it keeps the customers working."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select

from addons.customers.services import create_customer
from addons.leads.models import LeadPool
from core.addons.installer import install_addons, uninstall_addon
from core.db import Base
from core.models import Addon


# SQLite's reflection skips the customers' expression indexes (lower(email)); they are not ours
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_the_migrations_match_the_models(kehu_db, cli_env, catalog):
    """Fails when models.py changed without a migration."""
    env = cli_env(catalog)
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["leads"])

    def ours(obj, name, type_, reflected, compare_to):
        table = obj if type_ == "table" else getattr(obj, "table", None)
        table_name = getattr(table, "name", "")
        return table_name.startswith("leads_") and table_name != "leads_alembic_version"

    with env.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": ours})
        assert compare_metadata(context, Base.metadata) == []


def test_installing_leads_brings_customers_and_one_company_wide_pool(kehu_db, cli_env, catalog):
    env = cli_env(catalog)
    with env.ctx() as ctx:
        assert install_addons(ctx, catalog, ["leads"]) == ["customers", "leads"]
    with env.ctx() as ctx:
        pools = ctx.dbsession.scalars(select(LeadPool)).all()
        assert [(p.department_id, p.active) for p in pools] == [(None, True)]
        install_addons(ctx, catalog, ["leads"])  # installed already: nothing twice
    with env.ctx() as ctx:
        assert len(ctx.dbsession.scalars(select(LeadPool)).all()) == 1


@pytest.mark.parametrize("drop_data", [False, True])
def test_uninstalling_leads_leaves_customers_working(kehu_db, cli_env, catalog, drop_data):
    env = cli_env(catalog)
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["leads"])
    with env.ctx() as ctx:
        uninstall_addon(ctx, catalog, "leads", drop_data=drop_data)
    with env.ctx() as ctx:
        assert create_customer(ctx, name="卸载后的客户").id
        states = dict(ctx.dbsession.execute(select(Addon.name, Addon.state)).all())
        assert states == {"customers": "installed", "leads": "uninstalled"}
