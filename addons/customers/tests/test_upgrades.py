"""Upgrading a database that holds customers keeps everything that hangs off them. On SQLite,
migrations c006 and c008 rebuild ``customers_customer`` (alembic's batch "move and copy"); with
foreign keys on, dropping the old table would delete every contact and follow-up (ON DELETE
CASCADE), so upgrades run on ``schema_change_connection`` (foreign keys off, checked before the
commit) — the path of ``kehu db upgrade`` and ``kehu addons upgrade``."""

import datetime as dt

import pytest
from sqlalchemy import MetaData, Table, select

from addons.customers import services
from addons.customers.models import Contact, Followup
from core.addons.installer import upgrade_addons
from core.addons.migrations import _run, current_revisions, head_revisions
from core.db.engine import check_foreign_keys
from core.models import User


def as_user(ctx, user_id):
    return ctx.as_user(ctx.dbsession.get(User, user_id))


def insert(ctx, table_name, **values):
    """A row with ``values`` and whatever else the table requires, filled by column type."""
    table = Table(table_name, MetaData(), autoload_with=ctx.dbsession.connection())
    for column in table.columns:
        if column.name in values or column.nullable or column.primary_key or column.server_default is not None:
            continue
        python_type = column.type.python_type
        values[column.name] = (ctx.now if python_type is dt.datetime else False if python_type is bool
                               else 0 if python_type is int else "x")
    return ctx.dbsession.execute(table.insert().values(**values).returning(table.c.id)).scalar_one()


def test_an_upgrade_through_table_rebuilds_keeps_contacts_and_followups(company):
    env, users = company
    spec = env.catalog.get("customers")
    with env.ctx(schema=True) as ctx:
        _run(ctx.dbsession.connection(), "customers", spec.migrations_path, "c005", downgrade=True)
    with env.ctx() as ctx:  # rows as c005 knew them (today's models have later columns)
        customer_id = insert(ctx, "customers_customer", name="阿里巴巴网络技术有限公司", name_key="阿里巴巴网络技术",
                             owner_id=users["zhang"])
        insert(ctx, "customers_contact", customer_id=customer_id, name="王磊", owner_id=users["zhang"])
        insert(ctx, "customers_followup", customer_id=customer_id, kind="phone", content="约了下周拜访",
               owner_id=users["zhang"])
    with env.ctx(schema=True) as ctx:
        assert upgrade_addons(ctx, env.catalog, ["customers"]) == ["customers"]
    with env.ctx() as ctx:
        assert current_revisions(ctx.dbsession.connection(), "customers") == head_revisions(spec.migrations_path)
        assert ctx.dbsession.scalars(select(Contact.name).where(Contact.customer_id == customer_id)).all() == ["王磊"]
        assert ctx.dbsession.scalars(select(Followup.content).where(Followup.customer_id == customer_id)).all() == [
            "约了下周拜访"]
        if ctx.dbsession.connection().dialect.name == "sqlite":  # back on for everything else
            assert ctx.dbsession.connection().exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_a_schema_change_that_leaves_a_dangling_row_is_not_committed(company):
    env, users = company
    with env.ctx() as ctx:
        zhang = as_user(ctx, users["zhang"])
        customer_id = services.create_customer(zhang, name="腾讯科技有限公司").id
        services.add_contact(zhang, customer_id, name="李娜")
    if env.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL refuses the dangling row at once; the check is SQLite's")
    with pytest.raises(RuntimeError, match="pointing at nothing"), env.ctx(schema=True) as ctx:
        ctx.dbsession.connection().exec_driver_sql("DELETE FROM customers_customer WHERE id = ?", (customer_id,))
    with env.ctx() as ctx:
        assert ctx.dbsession.scalars(select(Contact.name).where(Contact.customer_id == customer_id)).all() == ["李娜"]
        check_foreign_keys(ctx.dbsession.connection())
