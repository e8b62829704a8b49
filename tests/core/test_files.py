"""Stored files on SQLite and PostgreSQL: kept for their owner alone (anyone else, an expired file
and a missing one are the same 404), downloaded as attachments that are never sniffed or cached
by others, and swept nightly with what background work leaves behind."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from core.access.exceptions import RecordNotFound
from core.addons.catalog import AddonCatalog
from core.files import DOWNLOAD_PATH, StoredFile, own_file, purge_expired_files, read_file_data, store_file
from core.jobs import worker
from core.jobs.models import CANCELLED, DEAD, DONE, QUEUED, Job
from core.lists.export import chunk_key
from core.lists.export_models import ExportChunk, ExportRun
from core.models import User
from core.testing.plugin import ADMIN
from core.users.services import create_user

PASSWORD = "Spring-Tea-77"
CSV = "text/csv; charset=utf-8"


@pytest.fixture
def env(kehu_db, cli_env):
    return cli_env(AddonCatalog([]))


def make_user(env, username):
    with env.ctx() as ctx:
        return create_user(ctx, username, PASSWORD, roles=["sales"]).id


def acting(ctx, user_id):
    return ctx.as_user(ctx.dbsession.get(User, user_id))


def test_a_file_is_its_owners_alone(env):
    owner, other = make_user(env, "zhangsan"), make_user(env, "lisi")
    with env.ctx() as ctx:
        data = "\ufeff标题\n".encode()
        stored = store_file(ctx, owner, "便签/2026:11.csv", CSV, data, "export")
        assert (stored.name, stored.size, stored.purpose) == ("便签 2026:11.csv", len(data), "export")
        assert stored.expires_at == ctx.now + dt.timedelta(days=7)
        assert stored.download_path() == DOWNLOAD_PATH.format(id=stored.id) == f"/files/{stored.id}"
        gone = store_file(ctx, owner, "old.csv", CSV, b"x", "import", keep=dt.timedelta(seconds=-1))
        file_id, gone_id = stored.id, gone.id
    with env.ctx() as ctx:
        assert read_file_data(acting(ctx, owner), file_id) == "\ufeff标题\n".encode()
        assert own_file(acting(ctx, owner), file_id).name == "便签 2026:11.csv"
        for reader, wanted in ((acting(ctx, other), file_id), (acting(ctx, owner), gone_id), (ctx, file_id),
                               (acting(ctx, owner), 999_999)):
            with pytest.raises(RecordNotFound):
                own_file(reader, wanted)


def test_a_file_purpose_and_a_long_name_are_checked(env):
    owner = make_user(env, "zhangsan")
    with env.ctx() as ctx:
        with pytest.raises(ValueError, match="purpose"):
            store_file(ctx, owner, "a.csv", CSV, b"", "backup")
        long = store_file(ctx, owner, "客" * 300 + ".xlsx", CSV, b"", "export")
        assert len(long.name) == 255 and long.name.endswith(".xlsx")


def test_the_download_is_an_attachment_for_its_owner_only(make_kehu_app, cli_env):
    app = make_kehu_app()
    env = cli_env(AddonCatalog([]))
    with env.ctx() as ctx:
        admin_id = ctx.dbsession.scalar(select(User.id).where(User.username == ADMIN[0]))
        create_user(ctx, "lisi", PASSWORD, roles=["sales"])
        file_id = store_file(ctx, admin_id, "客户-2026-11-25.csv", CSV, "\ufeffa,b\n".encode(), "export").id
        expired_id = store_file(ctx, admin_id, "old.csv", CSV, b"x", "export", keep=dt.timedelta(seconds=-1)).id
    anonymous = app.get(f"/files/{file_id}", status=303)
    assert "/login" in anonymous.location
    app.login()
    response = app.get(f"/files/{file_id}")
    assert response.body == "\ufeffa,b\n".encode()
    assert response.content_type == "text/csv" and response.charset == "utf-8"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"2026-11-25.csv\"; filename*=UTF-8''%E5%AE%A2%E6%88%B7-2026-11-25.csv")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
    app.get(f"/files/{expired_id}", status=404)
    app.get("/files/999999", status=404)
    app.get("/files/99999999999999999999", status=404)
    app.reset()
    app.login("lisi", PASSWORD)
    app.get(f"/files/{file_id}", status=404)  # the same answer as for a file that does not exist


def test_purge_drops_expired_files_leftover_chunks_and_old_history(env):
    owner = make_user(env, "zhangsan")
    with env.ctx() as ctx:
        now = ctx.now
        old = now - dt.timedelta(days=31)
        fresh = store_file(ctx, owner, "new.csv", CSV, b"new", "export")
        expired = store_file(ctx, owner, "old.csv", CSV, b"old", "export", keep=dt.timedelta(seconds=-1))

        def run(state, *, file_id=None, finished=None):
            row = ExportRun(user_id=owner, list_key="scoped.notes", format="csv", params={}, state=state,
                            file_id=file_id, finished_at=finished, cursor={"after": None, "seq": 1})
            ctx.dbsession.add(row)
            ctx.dbsession.flush()
            ctx.dbsession.add(ExportChunk(export_id=row.id, seq=0, rows=[["a"]]))
            return row

        pointing = run("done", file_id=expired.id, finished=now)
        failed, running, stalled = run("failed", finished=now), run("running"), run("running")
        ancient = run("done", finished=old)
        ids = {"fresh": fresh.id, "expired": expired.id, "pointing": pointing.id, "failed": failed.id,
               "running": running.id, "stalled": stalled.id, "ancient": ancient.id}
        jobs = (("old_done", DONE, old, None), ("new_done", DONE, now, None), ("old_dead", DEAD, old, None),
                ("old_cancelled", CANCELLED, old, None), ("queued", QUEUED, None, None),
                ("next_chunk", QUEUED, None, chunk_key(running.id, 1)),  # the running export goes on
                ("dead_chunk", DEAD, now, chunk_key(stalled.id, 1)))  # this one will not
        for name, state, finished, key in jobs:
            ctx.dbsession.add(Job(name=name, payload={}, state=state, attempts=1, max_attempts=3, run_at=old,
                                  finished_at=finished, created_at=old, last_error="", dedupe_key=key))
    with env.ctx() as ctx:
        assert purge_expired_files(ctx) == {"stalled_exports": 1, "files": 1, "export_chunks": 4, "exports": 1,
                                            "jobs": 2}
    with env.ctx() as ctx:
        session = ctx.dbsession
        assert set(session.scalars(select(StoredFile.id))) == {ids["fresh"]}
        assert session.get(ExportRun, ids["pointing"]).file_id is None  # the file went, the run says so
        assert session.get(ExportRun, ids["ancient"]) is None
        assert list(session.scalars(select(ExportChunk.export_id))) == [ids["running"]]  # still being written
        assert (session.get(ExportRun, ids["stalled"]).state, session.get(ExportRun, ids["stalled"]).error) == \
            ("failed", "stopped")
        assert session.get(ExportRun, ids["running"]).state == "running"
        assert sorted(session.scalars(select(Job.name))) == ["dead_chunk", "new_done", "next_chunk", "old_dead",
                                                             "queued"]
    with env.ctx() as ctx:
        assert purge_expired_files(ctx) == {"stalled_exports": 0, "files": 0, "export_chunks": 0, "exports": 0,
                                            "jobs": 0}


def test_the_nightly_purge_runs_through_the_real_worker(env):
    owner = make_user(env, "zhangsan")
    with env.ctx() as ctx:
        store_file(ctx, owner, "old.csv", CSV, b"old", "export", keep=dt.timedelta(seconds=-1))
    worker.Worker(env.engine, env.catalog, env.settings).run(until_idle=True)  # periodic jobs of this period
    with env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(func.count()).select_from(StoredFile)) == 0
        job = ctx.dbsession.scalar(select(Job).where(Job.name == "core.purge_expired_files"))
        assert job.state == DONE
