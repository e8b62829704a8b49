"""The ORM base: UTC timestamps, authorship, naming convention, engine settings."""

import datetime as dt

import pytest
from sqlalchemy import select, text

from core.context import Ctx
from core.db import UTCDateTime
from core.db.base import NAMING_CONVENTION
from core.models import User
from core.plugins import HookRelay, make_plugin_manager
from core.users.services import create_user


@pytest.fixture
def ctx_for(cli_env, kehu_db):
    return cli_env()


def test_timestamps_are_utc_and_aware(ctx_for):
    with ctx_for.ctx() as ctx:
        user = create_user(ctx, "zhang", "long-enough-password")
        user_id = user.id
    with ctx_for.ctx() as ctx:
        user = ctx.dbsession.get(User, user_id)
        assert user.created_at.tzinfo is not None
        assert user.created_at.utcoffset() == dt.timedelta(0)
        assert abs(dt.datetime.now(dt.UTC) - user.created_at) < dt.timedelta(minutes=1)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(dt.datetime(2026, 1, 1), None)


def test_created_by_and_updated_by_come_from_the_acting_user(ctx_for):
    with ctx_for.ctx() as ctx:
        admin = ctx.dbsession.scalars(select(User).where(User.username == "admin")).one()
        actor = Ctx(ctx.dbsession, ctx.hooks, user=admin)
        user = create_user(actor, "li", "long-enough-password")
        assert (user.created_by, user.updated_by) == (admin.id, admin.id)


def test_engine_settings(ctx_for, db_backend):
    with ctx_for.engine.connect() as conn:
        if db_backend == "sqlite":
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        else:
            assert conn.execute(text("SHOW server_encoding")).scalar() == "UTF8"
            assert ctx_for.engine.dialect.driver == "psycopg"


def test_foreign_keys_are_enforced(ctx_for):
    from sqlalchemy.exc import IntegrityError

    from core.models import LoginSession

    with pytest.raises(IntegrityError), ctx_for.ctx() as ctx:  # raised at commit
        ctx.dbsession.add(LoginSession(id="x", user_id=999999, created_at=ctx.now, expires_at=ctx.now))


def test_constraint_names_follow_the_convention():
    assert NAMING_CONVENTION["pk"] == "pk_%(table_name)s"
    assert User.__table__.primary_key.name == "pk_core_user"


def test_the_core_is_always_installed():
    assert HookRelay(make_plugin_manager([]), []).installed == frozenset({"core"})
