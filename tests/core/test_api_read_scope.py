"""``ApiResource.read_scope``: a resource whose records are read beyond their owner's scope (a
follow-up by whoever sees its customer) widens list and get — and only them: a change still
needs the record's own scope."""

import dataclasses
import json

import pytest
from pyramid import testing
from sqlalchemy import or_

from core.access.exceptions import RecordNotFound
from core.access.scopes import scope_condition
from core.addons.installer import install_addons
from core.api.views import ResourceViews, load_for_change
from core.models import User
from core.org.services import root_department
from core.users.services import create_user
from tests.fixtures.addons.scoped import api as notes_api
from tests.fixtures.addons.scoped import services
from tests.fixtures.addons.scoped.models import ScopedNote


def shared(ctx):
    """Own notes, and every note whose title starts with 公开 (public)."""
    return or_(scope_condition(ctx, ScopedNote), ScopedNote.title.startswith("公开"))


def test_read_scope_widens_list_and_get_but_not_changes(kehu_db, cli_env, catalog_of):
    catalog = catalog_of("tests.fixtures.addons.scoped")
    env = cli_env(catalog)
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["scoped"])
        company = root_department(ctx).id
        zhang = create_user(ctx, "zhangsan", "Spring-Tea-77", roles=["sales"], department_id=company).id
        lisi = create_user(ctx, "lisi", "Autumn-Rain-88", roles=["sales"], department_id=company).id
        ids = {title: services.create_note(ctx, title, owner_id=lisi).id for title in ("公开的", "私下的")}
    plain = ResourceViews(notes_api.NOTES)
    widened = ResourceViews(dataclasses.replace(notes_api.NOTES, read_scope=shared))
    with env.ctx() as ctx:
        as_zhang = ctx.as_user(ctx.dbsession.get(User, zhang))

        def listed(views):
            request = testing.DummyRequest(ctx=as_zhang)
            return [item["title"] for item in json.loads(views.list(request).body)["items"]]

        def got(views, title):
            request = testing.DummyRequest(ctx=as_zhang, matchdict={"id": str(ids[title])})
            return json.loads(views.get(request).body)["title"]

        assert listed(plain) == []
        assert listed(widened) == ["公开的"]
        assert got(widened, "公开的") == "公开的"
        with pytest.raises(RecordNotFound):
            got(widened, "私下的")
        with pytest.raises(RecordNotFound):
            got(plain, "公开的")
        with pytest.raises(RecordNotFound):  # reading is not changing
            load_for_change(as_zhang, widened.resource, ids["公开的"], "write")
