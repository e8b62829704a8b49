"""Login, logout, CSRF and session rotation (issue 3 §8), on both databases."""

import re

import pytest
from sqlalchemy import func, select

from core.models import LoginSession, User
from core.web.security import SESSION_COOKIE


@pytest.fixture
def app(make_kehu_app, catalog_of):
    return make_kehu_app(catalog=catalog_of())


def session_count(app):
    with app.router.registry["kehu.session_factory"]() as session:
        return session.scalar(select(func.count()).select_from(LoginSession))


def test_anonymous_user_is_sent_to_login_with_next(app):
    response = app.get("/apps")
    assert response.status_int == 303
    assert response.location.endswith("/login?next=%2Fapps")


def test_login_succeeds_and_returns_to_next(app):
    page = app.get("/login?next=/apps")
    form = page.forms[0]
    form["username"], form["password"] = "admin", "Kehu-Test-Pass-42"
    response = form.submit()
    assert response.status_int == 303
    assert response.location.endswith("/apps")
    assert "应用" in response.follow().text or "Apps" in response.follow().text
    assert session_count(app) == 1


def test_login_form_refuses_offsite_next(app):
    page = app.get("/login?next=https://evil.example/")
    form = page.forms[0]
    form["username"], form["password"] = "admin", "Kehu-Test-Pass-42"
    assert form.submit().location == "http://localhost/"


@pytest.mark.parametrize(("username", "password"), [("admin", "wrong-password"), ("nobody", "Kehu-Test-Pass-42")])
def test_login_failure_says_so_and_creates_no_session(app, username, password):
    page = app.get("/login")
    form = page.forms[0]
    form["username"], form["password"] = username, password
    response = form.submit(status=400)
    assert "alert-danger" in response.text
    assert session_count(app) == 0
    assert app.get("/").status_int == 303  # still anonymous


def test_empty_login_form_shows_field_errors(app):
    response = app.get("/login").forms[0].submit(status=200)
    assert response.text.count("invalid-feedback") == 2


def test_disabled_user_cannot_log_in(app):
    with app.router.registry["kehu.session_factory"]() as session, session.begin():
        session.scalars(select(User).where(User.username == "admin")).one().active = False
    form = app.get("/login").forms[0]
    form["username"], form["password"] = "admin", "Kehu-Test-Pass-42"
    form.submit(status=400)


def test_post_without_csrf_token_is_refused_and_changes_nothing(app):
    app.get("/login")
    response = app.post("/login", {"username": "admin", "password": "Kehu-Test-Pass-42"}, status=400)
    assert "form" in response.text.lower() or "表单" in response.text
    assert session_count(app) == 0


def test_post_with_a_wrong_csrf_token_is_refused(app):
    app.login()
    app.post("/logout", {"csrf_token": "forged"}, status=400)
    assert app.get("/").status_int == 200  # still signed in


def test_session_is_rotated_at_login(app):
    app.get("/login")
    before = app.cookies[SESSION_COOKIE]
    token_before = re.search(r'name="csrf-token" content="([^"]+)"', app.get("/login").text).group(1)
    app.login()
    after = app.cookies[SESSION_COOKIE]
    assert after != before
    assert app.csrf_token() != token_before
    # the cookie from before login does not authenticate anyone
    app.reset()
    app.set_cookie(SESSION_COOKIE, before)
    assert app.get("/").status_int == 303


def test_each_login_gets_a_new_server_session(app):
    app.login()
    first = app.cookies[SESSION_COOKIE]
    app.reset()
    app.login()
    assert app.cookies[SESSION_COOKIE] != first
    assert session_count(app) == 2


def test_logout_ends_the_session_server_side(app):
    app.login()
    stolen = app.cookies[SESSION_COOKIE]
    app.post_form("/logout", status=303)
    assert session_count(app) == 0
    app.reset()
    app.set_cookie(SESSION_COOKIE, stolen)
    assert app.get("/").status_int == 303


def test_session_cookie_flags(app):
    response = app.get("/login")
    header = next(v for k, v in response.headerlist if k == "Set-Cookie" and v.startswith(SESSION_COOKIE))
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "secure" not in header.lower()
    https = app.get("/login", extra_environ={"wsgi.url_scheme": "https", "HTTP_HOST": "crm.example"})
    header = next(v for k, v in https.headerlist if k == "Set-Cookie" and v.startswith(SESSION_COOKIE))
    assert "secure" in header.lower()


def test_password_is_stored_as_argon2id(app):
    with app.router.registry["kehu.session_factory"]() as session:
        password_hash = session.scalar(select(User.password_hash).where(User.username == "admin"))
    assert password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")  # OWASP's argon2id cost


def test_a_hash_of_the_older_cost_signs_in_and_is_rehashed(app):
    """Hashes made with argon2-cffi's default (64 MiB, t=3, p=4) before the cost changed."""
    from argon2 import PasswordHasher

    with app.router.registry["kehu.session_factory"]() as session, session.begin():
        session.scalars(select(User).where(User.username == "admin")).one().password_hash = (
            PasswordHasher().hash("Kehu-Test-Pass-42"))
    app.login()
    with app.router.registry["kehu.session_factory"]() as session:
        password_hash = session.scalar(select(User.password_hash).where(User.username == "admin"))
    assert password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_security_headers(app):
    response = app.get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "Strict-Transport-Security" not in response.headers
    https = app.get("/login", extra_environ={"wsgi.url_scheme": "https"})
    assert https.headers["Strict-Transport-Security"].startswith("max-age=")
    static = app.get("/static/core/css/kehu.css")
    assert "no-store" not in static.headers["Cache-Control"]


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example/", "javascript:x"])
def test_next_never_leaves_the_site(app, target):
    from core.web.views.auth import safe_next

    class Request:
        @staticmethod
        def route_path(name):
            return "/"

    assert safe_next(Request(), target) == "/"
    assert safe_next(Request(), "/apps?x=1") == "/apps?x=1"
