"""The JSON API (ARCHITECTURE §6) on the fixture addon ``scoped``'s ``notes`` resource: CRUD with
a personal access token, filters, ``q``, sort and cursor pagination stable under inserts; ETags
and 412; problem+json for every kind of bad input (and nothing written); 401/403/429 for
tokens; record scopes and masking; the session with and without its CSRF header; the CLI;
the OpenAPI 3.1 document, the API explorer page and a schemathesis run against the document."""

import base64
import datetime as dt
import json
import re
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationConflictError, ConfigurationError
from sqlalchemy import func, select

from core.api.models import ApiToken
from core.api.resources import ApiResource
from core.api.tokens import create_token, revoke_token, token_hash
from core.models import AuditEntry, User
from core.org.services import root_department
from core.users.services import create_user, set_active
from tests.fixtures.addons.scoped import api as notes_api
from tests.fixtures.addons.scoped import services
from tests.fixtures.addons.scoped.models import ScopedNote

FIXTURES = "tests.fixtures.addons."
NOTES = "/api/v1/notes"
PROBLEM = "application/problem+json"
ZHANG = ("zhangsan", "Spring-Tea-77")


@pytest.fixture
def catalog(catalog_of):
    return catalog_of(FIXTURES + "scoped")


class Api:
    """The WSGI app, called as a program would: a token in every request, JSON bodies."""

    def __init__(self, app, token=None):
        self.app = app
        self.token = token

    def headers(self, token=None, **extra):
        token = token if token is not None else self.token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        headers.update({key.replace("_", "-"): value for key, value in extra.items()})
        return headers

    def get(self, url, status=200, token=None, **headers):
        return self.app.get(url, headers=self.headers(token, **headers), status=status)

    def post(self, url, body, status=201, token=None, **headers):
        return self.app.post_json(url, body, headers=self.headers(token, **headers), status=status)

    def patch(self, url, body, status=200, token=None, **headers):
        return self.app.patch_json(url, body, headers=self.headers(token, **headers), status=status)

    def delete(self, url, status=204, token=None, **headers):
        return self.app.delete(url, headers=self.headers(token, **headers), status=status)

    def raw(self, method, url, body, content_type="application/json", status=400, token=None):
        return self.app.request(url, method=method, body=body, headers={
            **self.headers(token), "Content-Type": content_type}, status=status)


@pytest.fixture
def world(make_kehu_app, catalog, cli_env):
    """An app with ``scoped`` installed; users zhangsan and lisi (salespeople), wangwu (their
    manager); a note of each salesperson; a write token per person and a read token of zhangsan."""

    def build(**settings):
        app = make_kehu_app(catalog=catalog, install=["scoped"], **settings)
        env = cli_env(catalog)
        with env.ctx() as ctx:
            company = root_department(ctx).id
            zhang = create_user(ctx, *ZHANG, roles=["sales"], department_id=company)
            lisi = create_user(ctx, "lisi", "Autumn-Rain-88", roles=["sales"], department_id=company)
            wang = create_user(ctx, "wangwu", "Winter-Snow-99", roles=["sales_manager"], department_id=company)
            mine = services.create_note(ctx, "张三的客户", owner_id=zhang.id, mobile="13812345678",
                                        email="zhang@example.com")
            theirs = services.create_note(ctx, "李四的客户", owner_id=lisi.id, mobile="13900001111")
            tokens = {
                "zhang": create_token(ctx, zhang, "sync", "write", 30)[0],
                "zhang_read": create_token(ctx, zhang, "report", "read", 30)[0],
                "lisi": create_token(ctx, lisi, "sync", "write", 30)[0],
                "wang": create_token(ctx, wang, "sync", "write", 30)[0],
            }
            ids = {"mine": mine.id, "theirs": theirs.id, "zhang": zhang.id, "lisi": lisi.id}
        return app, Api(app, tokens["zhang"]), tokens, ids, env

    return build


def db(app):
    return app.router.registry["kehu.session_factory"]()


def note_count(app):
    with db(app) as session:
        return session.scalar(select(func.count()).select_from(ScopedNote))


def assert_problem(response, status, field=None):
    assert response.status_int == status
    assert response.content_type == PROBLEM
    body = response.json
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["code"]
    if field is not None:
        assert field in [error["field"] for error in body["errors"]], body
    return body


# -- CRUD ------------------------------------------------------------------------------------

def test_crud_through_the_api_with_a_token(world):
    app, api, tokens, ids, _env = world()
    created = api.post(NOTES, {"title": "新客户", "mobile": "13700001234"})
    note = created.json
    assert note["title"] == "新客户"
    assert note["owner_id"] == ids["zhang"]
    assert note["mobile"] == "137****1234"  # a salesperson sees it masked, even their own
    assert created.headers["Location"].endswith(f"{NOTES}/{note['id']}")
    assert created.headers["ETag"].startswith('W/"')

    got = api.get(f"{NOTES}/{note['id']}")
    assert got.json == note
    assert got.headers["ETag"] == created.headers["ETag"]

    changed = api.patch(f"{NOTES}/{note['id']}", {"title": "老客户"}, If_Match=got.headers["ETag"])
    assert changed.json["title"] == "老客户"
    assert changed.headers["ETag"] != got.headers["ETag"]

    api.delete(f"{NOTES}/{note['id']}", token=tokens["wang"], If_Match=changed.headers["ETag"])  # a manager
    assert_problem(api.get(f"{NOTES}/{note['id']}", status=404), 404)

    with db(app) as session:  # the services audited every change
        actions = session.scalars(select(AuditEntry.action).where(
            AuditEntry.model == "scoped_note", AuditEntry.record_id == str(note["id"])).order_by(AuditEntry.id))
        assert list(actions) == ["create", "update", "delete"]
        entry = session.scalars(select(AuditEntry).where(AuditEntry.model == "scoped_note",
                                                         AuditEntry.action == "create")
                                .order_by(AuditEntry.id.desc())).first()
        assert entry.username == "zhangsan"
        assert session.scalar(select(AuditEntry.username).where(AuditEntry.action == "delete",
                                                                AuditEntry.model == "scoped_note")) == "wangwu"
        assert entry.changes["mobile"] == [None, "137****1234"]


def test_patch_without_if_match_is_allowed_and_head_and_405(world):
    _app, api, _tokens, ids, _env = world()
    assert api.patch(f"{NOTES}/{ids['mine']}", {"title": "无条件"}).json["title"] == "无条件"
    assert api.patch(f"{NOTES}/{ids['mine']}", {}).json["title"] == "无条件"  # nothing to change
    assert api.app.head(f"{NOTES}/{ids['mine']}", headers=api.headers()).status_int == 200
    refused = api.app.put_json(f"{NOTES}/{ids['mine']}", {"title": "x"}, headers=api.headers(), status=405)
    assert_problem(refused, 405)
    assert set(refused.headers["Allow"].split(", ")) == {"GET", "HEAD", "PATCH", "DELETE"}


def test_salespeople_may_not_delete_and_get_problem_403(world):
    app, api, _tokens, ids, _env = world()
    body = assert_problem(api.delete(f"{NOTES}/{ids['mine']}", status=403), 403)
    assert body["code"] == "permission_denied"
    assert note_count(app) == 2


# -- lists -----------------------------------------------------------------------------------

def test_filters_q_and_sort(world):
    _app, _api, tokens, ids, _env = world()
    manager = Api(_api.app, tokens["wang"])  # department scope: both notes
    items = manager.get(NOTES).json["items"]
    assert [note["id"] for note in items] == [ids["mine"], ids["theirs"]]
    assert items[0]["mobile"] == "13812345678"  # the manager may see sensitive values

    assert [n["id"] for n in manager.get(f"{NOTES}?owner_id={ids['lisi']}").json["items"]] == [ids["theirs"]]
    assert [n["id"] for n in manager.get(f"{NOTES}?q={quote('张三')}").json["items"]] == [ids["mine"]]
    assert [n["id"] for n in manager.get(f"{NOTES}?q=1390000").json["items"]] == [ids["theirs"]]
    assert [n["id"] for n in manager.get(f"{NOTES}?mobile=13900001111").json["items"]] == [ids["theirs"]]
    by_title = manager.get(f"{NOTES}?sort=-title").json["items"]
    assert [n["title"] for n in by_title] == sorted([n["title"] for n in items], reverse=True)
    assert [n["id"] for n in manager.get(f"{NOTES}?sort=-id").json["items"]] == [ids["theirs"], ids["mine"]]
    assert manager.get(f"{NOTES}?q=nothing-like-this").json == {"items": [], "next": None}


def test_pagination_is_stable_under_inserts(world):
    _app, api, _tokens, _ids, _env = world()
    for number in range(1, 6):
        api.post(NOTES, {"title": f"note {number:02}"})
    for sort in ("id", "-id", "title", "-title", "updated_at", "-updated_at"):
        seen, url, pages = [], f"{NOTES}?limit=2&sort={sort}", 0
        before = {n["id"] for n in api.get(f"{NOTES}?limit=200").json["items"]}
        while url:
            page = api.get(url)
            seen.extend(note["id"] for note in page.json["items"])
            url = page.json["next"]
            if url:
                assert page.headers["Link"] == f'<{url}>; rel="next"'
                url = url.replace("http://localhost", "")
            if pages == 0:  # between the first and the second page, two notes arrive
                api.post(NOTES, {"title": "note 00"})  # sorts before the cursor by title
                api.post(NOTES, {"title": "note 99"})  # after it
            pages += 1
        assert len(seen) == len(set(seen)), f"repeated with sort={sort}: {seen}"
        assert before <= set(seen), f"skipped with sort={sort}: {before - set(seen)}"


def test_bad_query_parameters_are_400_problems(world):
    _app, api, tokens, _ids, _env = world()
    for limit in ("0", "-1", "10000", "abc", "1.5", ""):
        assert_problem(api.get(f"{NOTES}?limit={limit}", status=400), 400)
    assert api.get(f"{NOTES}?limit=200").status_int == 200
    forged = base64.urlsafe_b64encode(json.dumps({"s": "id", "v": "x", "i": "1; drop"}).encode()).decode()
    other_sort = api.get(f"{NOTES}?limit=1&sort=title", token=tokens["wang"]).json["next"].split("cursor=")[1]
    for cursor in ("not-a-cursor", "%%%", forged, "A" * 3000, other_sort, "eyJ9"):
        body = assert_problem(api.get(f"{NOTES}?cursor={cursor}", status=400), 400)
        assert body["code"] in ("bad_cursor", "bad_parameter")
    for query in ("sort=mobile", "sort=nosuch", "owner_id=abc", "owner_id=99999999999999999999", "nosuch=1",
                  "limit=1&limit=2", "q=%00", "q=%ff%fe"):
        assert_problem(api.get(f"{NOTES}?{query}", status=400), 400)
    for note_id in ("abc", "0", "99999999999999999999", "-1"):
        assert_problem(api.get(f"{NOTES}/{note_id}", status=404), 404)


# -- bodies: refused, and nothing written -------------------------------------------------------

def test_bad_bodies_are_4xx_problems_and_nothing_is_written(world):
    app, api, _tokens, ids, _env = world()
    before = note_count(app)
    unknown = assert_problem(api.post(NOTES, {"title": "x", "colour": "red"}, status=422), 422, "colour")
    assert unknown["errors"][0]["code"] == "extra_forbidden"
    long = assert_problem(api.post(NOTES, {"title": "长" * 101}, status=422), 422, "title")
    assert long["errors"][0]["code"] == "string_too_long"
    assert assert_problem(api.post(NOTES, {"title": 42}, status=422), 422, "title")["errors"][0]["code"] == \
        "string_type"
    assert_problem(api.post(NOTES, {}, status=422), 422, "title")
    assert_problem(api.post(NOTES, ["a", "list"], status=422), 422)
    assert_problem(api.post(NOTES, {"title": "nul\u0000byte"}, status=422), 422, "title")
    assert_problem(api.raw("POST", NOTES, b'{"title": "\\ud800"}', status=422), 422, "title")
    assert assert_problem(api.raw("POST", NOTES, b'{"title": '), 400)["code"] == "malformed_json"
    assert_problem(api.raw("POST", NOTES, b'\xff\xfe{"title": "x"}'), 400)
    assert_problem(api.raw("POST", NOTES, b'{"title": NaN}'), 400)
    assert_problem(api.raw("POST", NOTES, b"[" * 100_000 + b"]" * 100_000), 400)
    assert_problem(api.raw("POST", NOTES, b"title=x", "application/x-www-form-urlencoded", status=415), 415)
    assert_problem(api.raw("POST", NOTES, b"x" * (1024 * 1024 + 1), status=413), 413)
    assert_problem(api.patch(f"{NOTES}/{ids['mine']}", {"title": None}, status=422), 422, "title")
    assert_problem(api.patch(f"{NOTES}/{ids['mine']}", {"mobile": "1"}, status=422), 422, "mobile")
    assert note_count(app) == before
    assert api.get(f"{NOTES}/{ids['mine']}").json["title"] == "张三的客户"


def test_problems_speak_the_readers_language(world):
    from core.users.services import get_user_by_username, update_preferences

    _app, api, _tokens, _ids, env = world()
    with env.ctx() as ctx:  # a token speaks its user's language
        update_preferences(ctx, get_user_by_username(ctx, ZHANG[0]), locale="en")
    body = api.post(NOTES, {"title": "x", "colour": "red"}, status=422).json
    assert body["title"] == "Invalid data"
    assert body["errors"][0]["message"] == "Unknown field: it is refused, not ignored."
    limit = api.get(f"{NOTES}?limit=0", status=400).json
    assert limit["errors"] == [{"field": "limit", "code": "bad_parameter", "message": "A whole number from 1 to 200."}]


# -- ETags -----------------------------------------------------------------------------------

def test_a_stale_if_match_gets_412_and_changes_nothing(world):
    app, api, _tokens, ids, _env = world()
    url = f"{NOTES}/{ids['mine']}"
    first = api.get(url)
    tag = first.headers["ETag"]
    assert api.get(url, status=304, If_None_Match=tag).body == b""
    api.patch(url, {"title": "first writer"}, If_Match=tag)
    stale = assert_problem(api.patch(url, {"title": "second writer"}, status=412, If_Match=tag), 412)
    assert stale["code"] == "stale_record"
    assert api.get(url).json["title"] == "first writer"
    assert_problem(api.delete(url, status=412, token=_tokens["wang"], If_Match=tag), 412)
    assert api.patch(url, {"title": "any version"}, If_Match="*").json["title"] == "any version"
    fresh = api.get(url).headers["ETag"]
    assert api.patch(url, {"title": "strong form"}, If_Match=fresh.removeprefix("W/")).status_int == 200
    assert note_count(app) == 2


# -- tokens ----------------------------------------------------------------------------------

def test_invalid_expired_revoked_and_disabled_tokens_get_401(world):
    app, api, tokens, _ids, env = world()
    with env.ctx() as ctx:
        zhang = ctx.dbsession.scalars(select(User).where(User.username == ZHANG[0])).one()
        expired, expired_row = create_token(ctx, zhang, "old", "read", 1)
        expired_row.expires_at = ctx.now - dt.timedelta(seconds=1)
        revoked, revoked_row = create_token(ctx, zhang, "gone", "read", 1)
        revoke_token(ctx, revoked_row)
        lisi = ctx.dbsession.scalars(select(User).where(User.username == "lisi")).one()
        set_active(ctx, lisi, False)
    for token in ("kehu_nonsense", "nonsense", expired, revoked, tokens["lisi"], "kehu_" + "x" * 300):
        response = api.get(NOTES, status=401, token=token)
        body = assert_problem(response, 401)
        assert body["code"] == "invalid_token"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    anonymous = api.app.get(NOTES, status=401)
    assert_problem(anonymous, 401)
    assert anonymous.headers["WWW-Authenticate"] == 'Bearer realm="kehu"'
    assert_problem(api.app.post_json(NOTES, {"title": "x"}, headers={"Authorization": "Bearer "}, status=401), 401)
    assert note_count(app) == 2


def test_a_read_token_reads_but_may_not_write(world):
    app, api, tokens, ids, _env = world()
    assert api.get(NOTES, token=tokens["zhang_read"]).json["items"]
    body = assert_problem(api.post(NOTES, {"title": "x"}, status=403, token=tokens["zhang_read"]), 403)
    assert body["code"] == "read_only_token"
    assert_problem(api.patch(f"{NOTES}/{ids['mine']}", {"title": "x"}, status=403, token=tokens["zhang_read"]), 403)
    assert_problem(api.delete(f"{NOTES}/{ids['mine']}", status=403, token=tokens["zhang_read"]), 403)
    assert note_count(app) == 2


def test_rate_limit_per_token_gets_429_with_retry_after(world):
    _app, api, tokens, _ids, _env = world(**{"kehu.api_rate_limit": "3"})
    for _ in range(3):
        api.get(NOTES)
    refused = api.get(NOTES, status=429)
    assert_problem(refused, 429)
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert_problem(api.post(NOTES, {"title": "x"}, status=429), 429)  # refused requests count too
    assert api.get(NOTES, token=tokens["lisi"]).status_int == 200  # per token


def test_token_use_is_recorded_at_most_once_a_minute(world):
    app, api, tokens, _ids, _env = world()
    api.get(NOTES)
    with db(app) as session:
        row = session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash(tokens["zhang"]))).one()
        first = row.last_used_at
        assert first is not None
        assert row.prefix == tokens["zhang"][5:13]
        assert len(row.token_hash) == 64 and tokens["zhang"] not in (row.token_hash, row.prefix)
    api.get(NOTES)
    with db(app) as session:
        row = session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash(tokens["zhang"]))).one()
        assert row.last_used_at == first
        assert row.rate_count == 2


def test_token_services_check_who_acts(world):
    _app, _api, _tokens, _ids, env = world()
    from core.access.exceptions import PermissionDenied, RecordNotFound
    from core.api.exceptions import InvalidTokenExpiry, InvalidTokenName, InvalidTokenScope
    from core.api.tokens import get_token, list_tokens

    with env.ctx() as ctx:
        zhang = ctx.dbsession.scalars(select(User).where(User.username == ZHANG[0])).one()
        lisi = ctx.dbsession.scalars(select(User).where(User.username == "lisi")).one()
        as_zhang = ctx.as_user(zhang)
        _token, own = create_token(as_zhang, zhang, "mine", "read", 7)
        assert own in list_tokens(as_zhang, zhang)
        with pytest.raises(PermissionDenied):
            create_token(as_zhang, lisi, "for someone else", "write", 7)
        with pytest.raises(PermissionDenied):
            list_tokens(as_zhang, lisi)
        lisi_token = list_tokens(ctx, lisi)[0]
        with pytest.raises(RecordNotFound):
            get_token(as_zhang, lisi_token.id)
        with pytest.raises(InvalidTokenScope):
            create_token(as_zhang, zhang, "x", "admin", 7)
        with pytest.raises(InvalidTokenExpiry):
            create_token(as_zhang, zhang, "x", "read", 0)
        with pytest.raises(InvalidTokenName):
            create_token(as_zhang, zhang, " ", "read", 7)
        audited = ctx.dbsession.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.model == "core_api_token", AuditEntry.action == "create"))
        assert audited == 5  # four from the fixture, one here


# -- scope and masking -------------------------------------------------------------------------

def test_scope_and_masking_hold_in_the_api(world):
    app, api, tokens, ids, _env = world()
    assert_problem(api.get(f"{NOTES}/{ids['theirs']}", status=404), 404)
    assert_problem(api.patch(f"{NOTES}/{ids['theirs']}", {"title": "hijacked"}, status=404), 404)
    assert [note["id"] for note in api.get(NOTES).json["items"]] == [ids["mine"]]
    mine = api.get(f"{NOTES}/{ids['mine']}").json
    assert (mine["mobile"], mine["email"]) == ("138****5678", "z***@example.com")
    assert api.get(f"{NOTES}?q=1381234").json["items"] == []  # a partial number would reveal digits
    assert [n["id"] for n in api.get(f"{NOTES}?q=13812345678").json["items"]] == [ids["mine"]]
    manager = Api(app, tokens["wang"])
    assert manager.get(f"{NOTES}/{ids['mine']}").json["mobile"] == "13812345678"
    with db(app) as session:
        assert session.get(ScopedNote, ids["theirs"]).title == "李四的客户"


# -- the browser session -----------------------------------------------------------------------

def test_the_session_works_with_its_csrf_header_and_not_without(world):
    app, _api, _tokens, ids, _env = world()
    app.login(*ZHANG)
    assert [n["id"] for n in app.get(NOTES).json["items"]] == [ids["mine"]]
    refused = app.post_json(NOTES, {"title": "forged"}, status=403)
    assert refused.json["code"] == "csrf_failed"
    assert note_count(app) == 2
    created = app.post_json(NOTES, {"title": "same origin"}, headers={"X-CSRF-Token": app.csrf_token()})
    assert created.status_int == 201
    # a bearer header wins over the cookie: a wrong token is refused even with a live session
    app.get(NOTES, headers={"Authorization": "Bearer kehu_wrong"}, status=401)


# -- the command line --------------------------------------------------------------------------

def test_kehu_token_create_prints_a_working_token(world, catalog):
    from core.cli import main

    _app, api, _tokens, _ids, env = world()
    runner = CliRunner()

    def kehu(*args):
        result = runner.invoke(main, ["--database-url", str(env.engine.url.render_as_string(hide_password=False)),
                                      *args], obj=env, env={"KEHU_LANG": "en"})
        assert result.exit_code == 0, result.output
        return result

    created = kehu("token", "create", ZHANG[0], "--scope", "write", "--expires-days", "5", "--name", "ci")
    token = created.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"kehu_[A-Za-z0-9_-]{43}", token)
    assert "Shown once" in created.stderr
    assert api.post(NOTES, {"title": "from the CLI token"}, token=token).status_int == 201
    listing = kehu("token", "list", ZHANG[0]).stdout
    assert f"kehu_{token[5:13]}…\tci\tread write" in listing
    assert token not in listing
    token_id = listing.splitlines()[0].split("\t")[0]
    kehu("token", "revoke", token_id)
    api.get(NOTES, token=token, status=401)
    assert "revoked" in kehu("token", "list", ZHANG[0]).stdout
    bad = runner.invoke(main, ["token", "create", ZHANG[0], "--scope", "admin"], obj=env)
    assert bad.exit_code != 0
    unknown = runner.invoke(main, ["token", "create", "nobody"], obj=env, env={"KEHU_LANG": "en"})
    assert unknown.exit_code == 1 and "Traceback" not in unknown.output


# -- the token pages ---------------------------------------------------------------------------

def test_token_pages_show_a_new_token_once_and_revoke(world):
    app, api, _tokens, _ids, _env = world()
    app.login(*ZHANG)
    page = app.get("/preferences/tokens")
    assert "sync" in page.text and "report" in page.text
    form = page.forms["token-form"]
    form["name"] = "网页创建"
    form["scope"] = "write"
    created = form.submit()
    token = created.html.find(id="new-token-value").get_text(strip=True)
    assert api.post(NOTES, {"title": "from the page token"}, token=token).status_int == 201
    again = app.get("/preferences/tokens")
    assert token not in again.text and "网页创建" in again.text
    with db(app) as session:
        row = session.scalars(select(ApiToken).where(ApiToken.name == "网页创建")).one()
    app.post_form(f"/preferences/tokens/{row.id}/revoke").follow()
    api.get(NOTES, token=token, status=401)
    other = session_token_id(app, "lisi")
    app.post_form(f"/preferences/tokens/{other}/revoke", status=404)  # not one's own: not found
    bad = app.post_form("/preferences/tokens", {"name": "", "scope": "write", "expires_days": "30"}, status=400)
    assert "new-token-value" not in bad.text


def session_token_id(app, username):
    with db(app) as session:
        return session.scalars(select(ApiToken.id).join(User, User.id == ApiToken.user_id)
                               .where(User.username == username)).first()


# -- OpenAPI and the explorer ------------------------------------------------------------------

def test_openapi_document_is_3_1_and_built_from_the_declaration(world):
    _app, api, _tokens, _ids, _env = world()
    document = api.get("/api/v1/openapi.json").json
    assert document["openapi"] == "3.1.0"
    assert {f"{NOTES}", f"{NOTES}/{{id}}"} <= set(document["paths"])
    assert set(document["paths"][NOTES]) == {"get", "post"}
    assert set(document["paths"][f"{NOTES}/{{id}}"]) == {"parameters", "get", "patch", "delete"}
    schemas = document["components"]["schemas"]
    create = schemas["scoped.notes.Create"]
    assert create["additionalProperties"] is False
    assert create["properties"]["title"]["maxLength"] == 100
    assert create == notes_api.NoteCreate.model_json_schema()  # the same declaration, not a copy
    assert "Problem" in schemas
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "A personal access token (kehu_…)."}
    sorts = next(p for p in document["paths"][NOTES]["get"]["parameters"] if p["name"] == "sort")
    assert set(sorts["schema"]["enum"]) == {"id", "-id", "title", "-title", "updated_at", "-updated_at"}
    assert_problem(api.app.get("/api/v1/openapi.json", status=401), 401)


def test_openapi_document_validates_against_the_3_1_schema(world):
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    from schemathesis.specs.openapi.definitions import OPENAPI_31

    _app, api, _tokens, _ids, _env = world()
    document = api.get("/api/v1/openapi.json").json
    errors = [str(error) for error in jsonschema_rs.validator_for(OPENAPI_31).iter_errors(document)]
    assert errors == []


def test_api_docs_page_loads_the_vendored_redoc(world):
    app, _api, _tokens, _ids, _env = world()
    assert app.get("/api/docs").status_int == 303  # sign in first
    app.login(*ZHANG)
    page = app.get("/api/docs")
    scripts = [tag["src"] for tag in page.html.find_all("script")]
    assert any(src.endswith("/vendor/redoc/redoc.standalone.js") for src in scripts)
    assert any(src.endswith("/js/api-docs.js") for src in scripts)
    assert all(tag.get("src") for tag in page.html.find_all("script"))  # no inline script
    assert page.html.find(id="api-docs")["data-spec-url"] == "/api/v1/openapi.json"
    assert "worker-src 'self' blob:" in page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "blob:" not in app.get("/preferences/tokens").headers["Content-Security-Policy"]
    for src in scripts:
        assert app.get(src).status_int == 200


def test_an_uninstalled_addons_resource_is_not_found_nor_documented(make_kehu_app, catalog, cli_env):
    from core.users.services import get_user_by_username

    app = make_kehu_app(catalog=catalog)  # ``scoped`` is available but not installed
    with cli_env(catalog).ctx() as ctx:
        token = create_token(ctx, get_user_by_username(ctx, "admin"), "admin", "read", 1)[0]
    api = Api(app, token)
    assert_problem(api.get(NOTES, status=404), 404)
    assert_problem(api.get("/api/v1/nosuch", status=404), 404)
    assert api.get("/api/v1/openapi.json").json["paths"] == {}


# -- declarations ------------------------------------------------------------------------------

def test_two_resources_with_one_name_fail_at_start_up():
    def first(config):
        config.add_api_resource(notes_api.NOTES)

    def second(config):
        config.add_api_resource(notes_api.NOTES)

    config = Configurator(settings={})
    config.include("core.api")
    config.include(first)
    config.include(second)
    with pytest.raises(ConfigurationConflictError):
        config.commit()


def test_a_declaration_that_cannot_work_is_refused_at_start_up():
    import dataclasses

    from pydantic import BaseModel

    class Loose(BaseModel):
        title: str

    for change in ({"create_schema": Loose}, {"sort": ("id", "mobile")}, {"search": ("owner_id",)},
                   {"filters": {"limit": "title"}}, {"name": "Notes!"}, {"update": None},
                   {"default_sort": "email"}):
        with pytest.raises(ConfigurationError):
            dataclasses.replace(notes_api.NOTES, **change).check()
    assert isinstance(notes_api.NOTES, ApiResource)
    notes_api.NOTES.check()


# -- schemathesis ------------------------------------------------------------------------------

def test_schemathesis_finds_no_server_error(world, db_backend):
    if db_backend != "sqlite":
        pytest.skip("schemathesis runs on SQLite only: the same views, and the run takes a while")
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error

    app, _api, tokens, _ids, _env = world(**{"kehu.api_rate_limit": "100000"})
    headers = {"Authorization": f"Bearer {tokens['wang']}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app.router, headers=headers)
    failures = []

    def fuzz(operation, mode):
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def check(case):
            response = case.call(headers=headers)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {mode}: {response.status_code} "
                                f"{response.text[:200]}")
            case.validate_response(response, checks=[not_a_server_error])

        check()

    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 5
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                fuzz(operation, mode)
            except Exception as exc:  # collect, then report every operation's failure at once
                failures.append(f"{operation.method.upper()} {operation.path} {mode}: {exc}"[:800])
    assert failures == []
