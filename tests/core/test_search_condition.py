"""The search extension point for a model with its own search index: ``model_search_provider(...,
condition=...)`` and ``ListPage(search_condition=...)`` replace the contains-match with the
addon's WHERE clause, while the record scope and the order stay the core's — and a page or
provider without one searches exactly as before."""

import dataclasses
import types

import pytest
from sqlalchemy import select

from core.lists import query as lq
from core.models import User
from core.org.services import root_department
from core.search import model_search_provider
from core.users.services import create_user
from tests.fixtures.addons.scoped import services
from tests.fixtures.addons.scoped.lists import NOTES_LIST
from tests.fixtures.addons.scoped.models import ScopedNote


@pytest.fixture
def catalog(catalog_of):
    return catalog_of("tests.fixtures.addons.scoped")


@pytest.fixture
def notes(kehu_db, cli_env, catalog):
    from core.addons.installer import install_addons

    env = cli_env(catalog)
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["scoped"])
    with env.ctx() as ctx:
        company = root_department(ctx).id
        zhang = create_user(ctx, "zhangsan", "Spring-Tea-77", roles=["sales"], department_id=company).id
        lisi = create_user(ctx, "lisi", "Autumn-Rain-88", roles=["sales"], department_id=company).id
        ids = {"harbour": services.create_note(ctx, "Harbour client", owner_id=zhang).id,
               "tea": services.create_note(ctx, "Tea house", owner_id=zhang).id,
               "theirs": services.create_note(ctx, "Tea garden", owner_id=lisi).id}
    return env, zhang, ids


def by_initials(ctx, query):
    """A stand-in for an addon's own index: the first letters of the title's words."""
    return ScopedNote.title.in_([t for t in ("Harbour client", "Tea house", "Tea garden")
                                 if "".join(w[0] for w in t.split()).lower() == query.lower()])


def test_a_provider_condition_replaces_the_match_within_the_scope(notes):
    env, zhang, _ids = notes
    plain = model_search_provider("scoped.notes", "Notes", ScopedNote, fields=("title",), hit_title="title")
    custom = model_search_provider("scoped.notes", "Notes", ScopedNote, fields=("title",), hit_title="title",
                                   condition=lambda ctx, q: by_initials(ctx, q))
    with env.ctx() as ctx:
        ctx.user = ctx.dbsession.get(User, zhang)
        request = types.SimpleNamespace(ctx=ctx, route_path=lambda *a, **k: "/")
        assert [h.title for h in custom.search(request, "th", 10)] == ["Tea house"]  # not lisi's Tea garden
        assert custom.search(request, "tea", 10) == []
        assert plain.search(request, "th", 10) == []
        assert [h.title for h in plain.search(request, "tea", 10)] == ["Tea house"]


def test_a_list_search_condition_replaces_the_contains_match(notes):
    env, zhang, ids = notes
    page = dataclasses.replace(NOTES_LIST, search_condition=lambda ctx, page, q: by_initials(ctx, q))
    with env.ctx() as ctx:
        ctx.user = ctx.dbsession.get(User, zhang)

        def found(list_page, q):
            statement = lq.filtered_select(ctx, list_page, lq.ListState(q=q)).with_only_columns(ScopedNote.id)
            return set(ctx.dbsession.scalars(statement))

        assert found(page, "th") == {ids["tea"]}  # in scope only
        assert found(page, "tea") == set()
        assert found(NOTES_LIST, "tea") == {ids["tea"]}
        assert found(NOTES_LIST, "th") == set()
        assert set(ctx.dbsession.scalars(select(ScopedNote.id))) == set(ids.values())


def test_objects_a_migration_owns_outside_the_models_are_named_by_their_table():
    from sqlalchemy import Column, Integer, MetaData, Table

    from core.addons.revisions import migration_only

    metadata = MetaData()
    Table("demo_thing", metadata, Column("id", Integer, primary_key=True),
          info={"migration_only": ("ix_demo_thing_name_trgm", "demo_thing_fts")})
    Table("demo_other", metadata, Column("id", Integer, primary_key=True))
    assert migration_only(metadata) == {"ix_demo_thing_name_trgm", "demo_thing_fts"}
