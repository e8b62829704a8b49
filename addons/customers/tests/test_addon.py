"""The addon as a whole: its migration matches its models, its routes answer only once it is
installed, and its demo data is deterministic and idempotent."""

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select

from addons.customers.models import Choice, Contact, Customer, Followup
from addons.customers.names import normalise_company_name, valid_credit_code
from core.addons.installer import install_addons
from core.addons.revisions import migration_only
from core.db import Base
from core.models import AuditEntry, User


# SQLite's reflection skips expression indexes (lower(email)); they are migration_only anyway
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_the_migrations_match_the_models(kehu_db, cli_env, catalog):
    """Fails when models.py changed without a migration."""
    env = cli_env(catalog)
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["customers"])

    derived = migration_only(Base.metadata)  # c003's search indexes and FTS tables

    def ours(obj, name, type_, reflected, compare_to):
        table = obj if type_ == "table" else getattr(obj, "table", None)
        table_name = getattr(table, "name", "")
        if reflected and compare_to is None and name in derived:
            return False
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
        assert count == 2000
        assert ctx.dbsession.scalar(select(func.count()).select_from(Contact)) >= count
        followups = ctx.dbsession.scalars(select(Followup.created_at)).all()
        assert len(followups) > count
        assert min(followups) >= ctx.now - dt.timedelta(days=183)  # over the last six months
        owners = set(ctx.dbsession.scalars(select(User.username).join(Customer, Customer.owner_id == User.id)))
        assert {f"sales{n}" for n in range(1, 9)} <= owners  # every demo salesperson has customers
        for kind in ("source", "industry", "level"):  # the demo speaks the administrator's lists
            listed = set(ctx.dbsession.scalars(select(Choice.value).where(Choice.kind == kind)))
            used = set(ctx.dbsession.scalars(select(getattr(Customer, kind)).distinct())) - {None}
            assert used <= listed, (kind, used - listed)
        in_pool = ctx.dbsession.scalar(select(func.count()).select_from(Customer).where(
            Customer.owner_id.is_(None), Customer.pool_id.is_not(None)))
        assert 100 <= in_pool <= 250  # about 8 % wait in a pool
        codes = ctx.dbsession.scalars(select(Customer.credit_code).where(Customer.credit_code.is_not(None))).all()
        assert codes and all(valid_credit_code(code) == code for code in codes)
        first = ctx.dbsession.scalars(select(Customer).order_by(Customer.id).limit(1)).one()
        assert first.name_key == normalise_company_name(first.name) and first.initials
        audited = ctx.dbsession.scalars(select(AuditEntry.model).where(AuditEntry.action == "import")).all()
        assert sorted(audited) == ["customers_contact", "customers_customer", "customers_followup"]
    assert first.name == "南京瑞丰华信机械有限公司"  # seeded: the same on every demo database
