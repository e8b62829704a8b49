"""Team members (团队成员, D-SCOPE) on the fixture addon's notes: a member reaches the record
for read (and write when read-write) on every scoped path, until the membership ends; never
for delete or export; removing them closes it again. The table matches its migration."""

import dataclasses
import datetime as dt
import re

import pytest
from sqlalchemy import select

from core.access.exceptions import PermissionDenied, RecordNotFound
from core.access.members import has_team, members_of, remove_member, set_member
from core.access.scopes import count_in_scope
from core.models import User
from core.org.services import create_department, root_department
from core.users.services import create_user
from tests.fixtures.addons.scoped import services
from tests.fixtures.addons.scoped.models import ScopedNote


@pytest.fixture
def catalog(catalog_of):
    return catalog_of("tests.fixtures.addons.scoped")


@pytest.fixture
def notes(kehu_db, cli_env, catalog):
    """``(env, zhang_id, lisi_id, note_id)``: a note of zhangsan's; lisi (sales, own scope) is not on it."""
    from core.addons.installer import install_addons

    env = cli_env(catalog)
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["scoped"])
        company = root_department(ctx).id
        zhang = create_user(ctx, "zhangsan", "Spring-Tea-77", roles=["sales"], department_id=company)
        lisi = create_user(ctx, "lisi", "Autumn-Rain-88", roles=["sales"], department_id=company)
        south = create_department(ctx, "华南大区", company).id
        create_user(ctx, "wangwu", "Winter-Snow-99", roles=["sales_manager"], department_id=south)
        note = services.create_note(ctx, "张三的客户", owner_id=zhang.id)
        return env, zhang.id, lisi.id, note.id


def reachable(ctx, action):
    """How many notes ``ctx.user`` may ``action`` (0 also when the role lacks the permission)."""
    try:
        return count_in_scope(ctx, ScopedNote, action)
    except PermissionDenied:
        return 0


def as_user(ctx, user_id):
    return ctx.as_user(ctx.dbsession.get(User, user_id))


def test_a_read_only_member_reads_but_cannot_write(notes):
    env, _zhang, lisi, note_id = notes
    with env.ctx() as ctx:
        with pytest.raises(RecordNotFound):
            services.get_note(as_user(ctx, lisi), note_id)
        set_member(ctx, ctx.dbsession.get(ScopedNote, note_id), lisi)
    with env.ctx() as ctx:
        reader = as_user(ctx, lisi)
        assert services.get_note(reader, note_id).id == note_id
        assert [n.id for n in services.list_notes(reader)] == [note_id]
        assert count_in_scope(reader, ScopedNote) == 1
        with pytest.raises(RecordNotFound):
            services.update_note(reader, note_id, "renamed")


def test_a_read_write_member_writes_but_never_deletes_or_exports(notes):
    """wangwu manages another department: he may delete and export, but not this note."""
    env, _zhang, _lisi, note_id = notes
    with env.ctx() as ctx:
        wang = ctx.dbsession.scalar(select(User.id).where(User.username == "wangwu"))
        set_member(ctx, ctx.dbsession.get(ScopedNote, note_id), wang, can_write=True)
    with env.ctx() as ctx:
        member = as_user(ctx, wang)
        assert services.update_note(member, note_id, "renamed").title == "renamed"
        assert count_in_scope(member, ScopedNote, "write") == 1
        for action in ("delete", "export"):
            assert reachable(member, action) == 0, action


def test_membership_ends_at_its_date_and_on_removal(notes):
    env, _zhang, lisi, note_id = notes
    with env.ctx() as ctx:
        note = ctx.dbsession.get(ScopedNote, note_id)
        set_member(ctx, note, lisi, until=ctx.now + dt.timedelta(days=7))
        assert [(m.user_id, m.can_write) for m in members_of(ctx, note)] == [(lisi, False)]
    with env.ctx() as ctx:
        member = as_user(ctx, lisi)
        assert count_in_scope(member, ScopedNote) == 1
        assert count_in_scope(dataclasses.replace(member, now=ctx.now + dt.timedelta(days=8)), ScopedNote) == 0
    with env.ctx() as ctx:
        assert remove_member(ctx, ctx.dbsession.get(ScopedNote, note_id), lisi) is True
        assert remove_member(ctx, ctx.dbsession.get(ScopedNote, note_id), lisi) is False
    with env.ctx() as ctx:
        assert count_in_scope(as_user(ctx, lisi), ScopedNote) == 0


def test_a_change_is_seen_at_once_in_the_same_session(notes):
    """The member ids are looked up once per session (so that SQL gets them as a list): joining
    or leaving a team within it is seen by the next query all the same."""
    env, _zhang, lisi, note_id = notes
    with env.ctx() as ctx:
        member = as_user(ctx, lisi)
        assert count_in_scope(member, ScopedNote) == 0
        set_member(ctx, ctx.dbsession.get(ScopedNote, note_id), lisi)
        assert count_in_scope(member, ScopedNote) == 1
        remove_member(ctx, ctx.dbsession.get(ScopedNote, note_id), lisi)
        assert count_in_scope(member, ScopedNote) == 0


def test_a_member_of_very_many_records_is_looked_up_by_the_database(notes, monkeypatch):
    from core.access import members

    env, zhang, lisi, note_id = notes
    monkeypatch.setattr(members, "INLINE_IDS", 1)
    with env.ctx() as ctx:
        other = services.create_note(ctx, "另一个客户", owner_id=zhang)
        for record_id in (note_id, other.id):
            set_member(ctx, ctx.dbsession.get(ScopedNote, record_id), lisi, until=ctx.now + dt.timedelta(days=3))
    with env.ctx() as ctx:
        member = as_user(ctx, lisi)
        assert count_in_scope(member, ScopedNote) == 2
        assert count_in_scope(dataclasses.replace(member, now=ctx.now + dt.timedelta(days=4)), ScopedNote) == 0


def test_setting_a_member_twice_changes_their_rights(notes):
    env, _zhang, lisi, note_id = notes
    with env.ctx() as ctx:
        note = ctx.dbsession.get(ScopedNote, note_id)
        assert set_member(ctx, note, lisi)[1] is True
        assert set_member(ctx, note, lisi, can_write=True)[1] is False
        assert [m.can_write for m in members_of(ctx, note)] == [True]


def test_only_models_with_a_team_open_to_members():
    assert has_team(ScopedNote)
    assert not has_team(User)


def test_the_migration_matches_the_model(notes):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from core.db import Base

    env = notes[0]
    with env.engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
    assert [d for d in diffs if re.search(r"core_record_member", str(d))] == []
