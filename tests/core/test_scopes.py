"""Record scopes (X1, D-SCOPE) on the fixture addon ``scoped``: the matrix helper over all four
scopes and a union of roles; 404 outside the scope through the web; the service refuses even
when no view is involved."""

import pytest
from sqlalchemy import select

from core.access.exceptions import PermissionDenied, RecordNotFound
from core.models import User
from core.org.services import root_department
from core.users.services import create_user
from tests.fixtures.addons.scoped import services
from tests.fixtures.addons.scoped.models import ScopedNote

FIXTURES = "tests.fixtures.addons."


@pytest.fixture
def catalog(catalog_of):
    return catalog_of(FIXTURES + "scoped")


def test_scope_matrix_on_every_path(scope_matrix, catalog):
    matrix = scope_matrix(
        ScopedNote, catalog=catalog, install=["scoped"],
        make=lambda ctx, owner: services.create_note(ctx, f"note of {owner.username}", owner_id=owner.id,
                                                     mobile="13812345678"),
    )
    assert len(matrix.viewers) == 6
    assert len(matrix.records) == 10
    matrix.check(
        list=lambda ctx: [note.id for note in services.list_notes(ctx)],
        count=services.count_notes,
        get=services.get_note,
        update=lambda ctx, note_id: services.update_note(ctx, note_id, "renamed"),
        delete=services.delete_note,
        export=lambda ctx: [row["id"] for row in services.export_notes(ctx)],
    )


def test_the_matrix_helper_catches_a_leak(scope_matrix, catalog):
    """A list that ignores the scope must fail the helper (the helper itself can fail)."""
    matrix = scope_matrix(ScopedNote, catalog=catalog, install=["scoped"],
                          make=lambda ctx, owner: services.create_note(ctx, "n", owner_id=owner.id))
    leaky = lambda ctx: list(ctx.dbsession.scalars(select(ScopedNote.id)))  # noqa: E731
    with pytest.raises(AssertionError, match="list for m_own"):
        matrix.check(list=leaky, count=services.count_notes, get=services.get_note)


@pytest.fixture
def app_with_notes(make_kehu_app, catalog, cli_env):
    app = make_kehu_app(catalog=catalog, install=["scoped"])
    env = cli_env(catalog)
    with env.ctx() as ctx:
        company = root_department(ctx).id
        zhang = create_user(ctx, "zhangsan", "Spring-Tea-77", roles=["sales"], department_id=company)
        lisi = create_user(ctx, "lisi", "Autumn-Rain-88", roles=["sales"], department_id=company)
        create_user(ctx, "wangwu", "Winter-Snow-99", roles=["sales_manager"], department_id=company)
        mine = services.create_note(ctx, "张三的客户", owner_id=zhang.id, mobile="13812345678",
                                    email="zhang@example.com")
        theirs = services.create_note(ctx, "李四的客户", owner_id=lisi.id, mobile="13900001111")
        ids = {"mine": mine.id, "theirs": theirs.id}
    return app, ids


def test_out_of_scope_is_404_in_pages_and_api(app_with_notes):
    app, ids = app_with_notes
    app.login("zhangsan", "Spring-Tea-77")
    assert app.get(f"/notes/{ids['mine']}").status_int == 200
    app.get(f"/notes/{ids['theirs']}", status=404)
    outside = app.get(f"/api/v1/notes/{ids['theirs']}", status=404)  # the notes resource of the JSON API
    assert outside.content_type == "application/problem+json"
    assert app.get("/api/v1/notes/999999", status=404).json["detail"] == outside.json["detail"]
    assert [note["id"] for note in app.get("/api/v1/notes").json["items"]] == [ids["mine"]]
    app.get("/notes/999999", status=404)  # the same answer as for a record that does not exist
    page = app.get("/notes")
    assert "张三的客户" in page.text
    assert "李四的客户" not in page.text


def test_masking_in_page_api_and_export(app_with_notes):
    app, ids = app_with_notes
    app.login("zhangsan", "Spring-Tea-77")  # a salesperson: no see_sensitive
    page = app.get("/notes")
    assert "138****5678" in page.text
    assert "13812345678" not in page.text
    assert "z***@example.com" in page.text
    api = app.get(f"/api/v1/notes/{ids['mine']}").json
    assert api["mobile"] == "138****5678"
    assert api["email"] == "z***@example.com"
    listed = app.get("/api/v1/notes").json["items"]
    assert [(note["mobile"], note["email"]) for note in listed] == [("138****5678", "z***@example.com")]
    app.get("/notes/export.csv", status=403)  # salespeople may not export


def test_a_manager_sees_unmasked_and_exports_with_an_audit_entry(app_with_notes):
    app, _ids = app_with_notes
    app.login("wangwu", "Winter-Snow-99")  # sales manager: department scope, see_sensitive, export
    csv = app.get("/notes/export.csv")
    assert csv.body.startswith("\ufeff".encode())
    assert "13812345678" in csv.text
    from core.models import AuditEntry

    with app.router.registry["kehu.session_factory"]() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).one()
        assert entry.username == "wangwu"
        assert entry.model == "scoped_note"


def test_search_by_full_phone_finds_without_revealing(app_with_notes, cli_env, catalog):
    env = cli_env(catalog)
    with env.ctx() as ctx:
        zhang = ctx.dbsession.scalars(select(User).where(User.username == "zhangsan")).one()
        hits = services.search_notes(ctx.as_user(zhang), "138 1234 5678")
        assert [hit["mobile"] for hit in hits] == ["138****5678"]
        assert services.search_notes(ctx.as_user(zhang), "13900001111") == []  # found only in scope


def test_service_checks_permission_without_any_view(app_with_notes, cli_env, catalog):
    env = cli_env(catalog)
    with env.ctx() as ctx:
        zhang = ctx.dbsession.scalars(select(User).where(User.username == "zhangsan")).one()
        as_zhang = ctx.as_user(zhang)
        with pytest.raises(PermissionDenied):
            services.export_notes(as_zhang)
        with pytest.raises(PermissionDenied):
            services.delete_note(as_zhang, 1)
        theirs = ctx.dbsession.scalars(select(ScopedNote).where(ScopedNote.title == "李四的客户")).one()
        with pytest.raises(RecordNotFound):
            services.update_note(as_zhang, theirs.id, "hijacked")


def test_audit_of_changes_masks_sensitive_values(app_with_notes):
    app, _ids = app_with_notes
    from core.models import AuditEntry

    with app.router.registry["kehu.session_factory"]() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.model == "scoped_note",
                                                         AuditEntry.action == "create")).first()
        assert entry.changes["mobile"] == [None, "138****5678"]
