"""``ListPage.base_condition``: a page whose rows are not the reader's record scope (the 公海
list shows records without an owner) replaces the scope, and still needs the permission."""

import pytest
from sqlalchemy import select

from core.access.exceptions import PermissionDenied
from core.lists.declaration import Column, ListPage
from core.lists.query import ListState, filtered_select, page_condition
from core.models import User
from core.users.services import create_user
from tests.fixtures.addons.scoped import services
from tests.fixtures.addons.scoped.models import ScopedNote


def _page(**extra):
    return ListPage(key="scoped.unowned", model=ScopedNote, title="Unowned", path="/unowned",
                    columns=(Column("title", "Title"),), **extra)


def unowned(ctx, page, action):
    return ScopedNote.owner_id.is_(None)


@pytest.fixture
def notes(kehu_db, cli_env, catalog_of):
    from core.addons.installer import install_addons

    catalog = catalog_of("tests.fixtures.addons.scoped")
    env = cli_env(catalog)
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["scoped"])
        sales = create_user(ctx, "zhangsan", "Spring-Tea-77", roles=["sales"])
        nobody = create_user(ctx, "zhaoliu", "Summer-Wind-55", roles=[])
        mine = services.create_note(ctx, "mine", owner_id=sales.id).id
        free = services.create_note(ctx, "free", owner_id=None).id
        return env, {"sales": sales.id, "nobody": nobody.id}, {"mine": mine, "free": free}


def test_the_base_condition_replaces_the_scope_and_keeps_the_permission(notes):
    env, users, ids = notes
    with env.ctx() as ctx:
        sales = ctx.as_user(ctx.dbsession.get(User, users["sales"]))
        scoped = ctx.dbsession.scalars(filtered_select(sales, _page(), ListState())).all()
        assert [n.id for n in scoped] == [ids["mine"]]
        based = ctx.dbsession.scalars(filtered_select(sales, _page(base_condition=unowned), ListState())).all()
        assert [n.id for n in based] == [ids["free"]]
        nobody = ctx.as_user(ctx.dbsession.get(User, users["nobody"]))
        with pytest.raises(PermissionDenied):
            page_condition(nobody, _page(base_condition=unowned), "read")
        assert ctx.dbsession.scalars(select(ScopedNote.id).where(
            page_condition(sales, _page(base_condition=unowned), "read"))).all() == [ids["free"]]
