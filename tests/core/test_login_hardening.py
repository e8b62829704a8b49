"""Login hardening (X10), on both databases: password policy, lockout, session timeouts,
sign-out everywhere, disabled users, session fixation, two-factor sign-in, and the setting that
makes it compulsory for administrators."""

from __future__ import annotations

import datetime as dt
import re

import pyotp
import pytest
from sqlalchemy import func, select, update

from core.db.base import utcnow
from core.models import AuditEntry, LoginSession, LoginThrottle, User
from core.testing.plugin import ADMIN
from core.users.services import create_user, get_user_by_username, set_active
from core.users.throttle import FIRST_DELAY
from core.web.security import SESSION_COOKIE

LOCKED = ("Too many failed sign-ins", "登录失败次数过多")
WRONG = ("Wrong username or password", "用户名或密码错误")
BOB = ("bob", "Quiet-River-Pass-77")


@pytest.fixture
def app(make_kehu_app, catalog_of):
    app = make_kehu_app(catalog=catalog_of())
    app.app.extra_environ["REMOTE_ADDR"] = "10.0.0.1"
    return app


@pytest.fixture
def system(kehu_db, cli_env, catalog_of):
    """``with system() as ctx``: a service context acting for the installation."""
    env = cli_env(catalog_of())
    return env.ctx


@pytest.fixture
def bob(system):
    with system() as ctx:
        create_user(ctx, *BOB, display_name="Bob")
    return BOB


def dbsession(app):
    return app.router.registry["kehu.session_factory"]()


def scalar(app, statement):
    with dbsession(app) as session:
        return session.scalar(statement)


def execute(app, statement):
    with dbsession(app) as session, session.begin():
        session.execute(statement)


def try_login(app, username, password, **kwargs):
    form = app.get("/login").forms[0]
    form["username"], form["password"] = username, password
    return form.submit(**kwargs)


def alert(response):
    match = re.search(r'class="alert alert-danger"[^>]*>(.*?)</div>', response.text, re.S)
    return match.group(1).strip() if match else ""


def audit_count(app, action, **where):
    query = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
    for column, value in where.items():
        query = query.where(getattr(AuditEntry, column) == value)
    return scalar(app, query)


def is_signed_in(app):
    return app.get("/").status_int == 200


def csrf(app, path="/preferences/security"):
    """The CSRF token from a page's meta tag (``app.csrf_token()`` reads /login, which redirects
    a signed-in administrator more than once when two-factor sign-in is required)."""
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', app.get(path).text).group(1)


def security_page(app):
    return app.get("/preferences/security")


def form_by_id(page, form_id):
    return page.forms[form_id]


def throttle(app, key):
    with dbsession(app) as session:
        return session.get(LoginThrottle, key)


# -- password policy ---------------------------------------------------------------------------

@pytest.mark.parametrize(("password", "message"), [
    ("Short-1", ("at least 10", "至少")),
    ("password123456", ("too common", "常见")),
    ("xx-admin-xx-2024", ("too common", "常见")),  # contains the username
])
def test_password_policy_refuses_with_the_message_beside_the_field(app, password, message):
    app.login()
    before = scalar(app, select(User.password_hash).where(User.username == "admin"))
    form = form_by_id(security_page(app), "password-form")
    form["current_password"], form["new_password"], form["confirm_password"] = ADMIN[1], password, password
    response = form.submit(status=400)
    feedback = re.search(r'id="new_password-error">(.*?)</div>', response.text, re.S)
    assert feedback, "no error beside the new password"
    assert any(m in feedback.group(1) for m in message)
    assert 'id="new_password" ' in response.text and "is-invalid" in response.text
    assert scalar(app, select(User.password_hash).where(User.username == "admin")) == before
    assert is_signed_in(app)
    assert audit_count(app, "password_change") == 0


def test_password_change_needs_the_current_password_and_matching_copies(app):
    app.login()
    form = form_by_id(security_page(app), "password-form")
    form["current_password"], form["new_password"], form["confirm_password"] = "not-it-at-all", "Brand-New-Pass-9", \
        "Brand-New-Pass-9"
    response = form.submit(status=400)
    assert 'id="current_password-error"' in response.text
    assert throttle(app, "user:admin").failures == 1  # guessing here counts like at the login page
    form = form_by_id(response, "password-form")
    form["current_password"], form["new_password"], form["confirm_password"] = ADMIN[1], "Brand-New-Pass-9", \
        "Brand-New-Pass-0"
    assert 'id="confirm_password-error"' in form.submit(status=400).text
    assert audit_count(app, "password_change") == 0


def test_password_change_signs_out_other_browsers_but_keeps_this_one(app, make_kehu_app, catalog_of):
    other = make_kehu_app(catalog=catalog_of())
    other.login()
    app.login()
    old_cookie = app.cookies[SESSION_COOKIE]
    form = form_by_id(security_page(app), "password-form")
    form["current_password"], form["new_password"], form["confirm_password"] = ADMIN[1], "Brand-New-Pass-9", \
        "Brand-New-Pass-9"
    response = form.submit(status=303)
    assert response.location.endswith("/preferences/security")
    assert "alert-success" in response.follow().text
    assert app.cookies[SESSION_COOKIE] != old_cookie  # a fresh session
    assert is_signed_in(app)
    assert not is_signed_in(other)
    assert scalar(app, select(func.count()).select_from(LoginSession)) == 1
    assert audit_count(app, "password_change") == 1
    app.reset()
    try_login(app, *ADMIN, status=400)
    app.login("admin", "Brand-New-Pass-9")


# -- lockout -----------------------------------------------------------------------------------

def test_five_failures_lock_the_account_even_for_the_right_password(app):
    for _ in range(5):
        message = alert(try_login(app, "admin", "wrong-password", status=400))
        assert any(m in message for m in WRONG)
    response = try_login(app, *ADMIN, status=400)
    assert any(m in alert(response) for m in LOCKED)
    assert not is_signed_in(app)
    assert audit_count(app, "login_failed", username="admin") == 5
    assert audit_count(app, "login_locked", username="admin") >= 1
    assert scalar(app, select(func.count()).select_from(LoginSession)) == 0


def test_the_delay_doubles_at_each_further_failure(app):
    for _ in range(5):
        try_login(app, "admin", "wrong-password", status=400)
    first = throttle(app, "user:admin")
    assert first.failures == 5
    assert first.locked_until - first.last_failure_at == FIRST_DELAY
    delays = []
    for _ in range(2):  # wait out the lock (by moving it into the past), then fail again
        execute(app, update(LoginThrottle).values(locked_until=utcnow() - dt.timedelta(seconds=1)))
        try_login(app, "admin", "wrong-password", status=400)
        row = throttle(app, "user:admin")
        delays.append(row.locked_until - row.last_failure_at)
    assert delays == [FIRST_DELAY * 2, FIRST_DELAY * 4]
    assert throttle(app, "user:admin").failures == 7
    assert audit_count(app, "login_locked", username="admin") == 3


def test_the_address_is_locked_for_every_name(app, bob, make_kehu_app, catalog_of):
    for name in ("admin", "carol", "dave", "erin", "frank"):  # five names, one address
        try_login(app, name, "wrong-password", status=400)
    assert throttle(app, "ip:10.0.0.1").failures == 5
    response = try_login(app, *bob, status=400)
    assert any(m in alert(response) for m in LOCKED)
    elsewhere = make_kehu_app(catalog=catalog_of())
    elsewhere.app.extra_environ["REMOTE_ADDR"] = "10.0.0.2"
    elsewhere.login(*bob)  # the name itself is not locked


def test_the_page_never_tells_whether_the_account_exists(app):
    app.app.extra_environ["REMOTE_ADDR"] = "10.0.0.3"
    real = alert(try_login(app, "admin", "wrong-password", status=400))
    unknown = alert(try_login(app, "no-such-user", "wrong-password", status=400))
    assert real == unknown
    assert any(m in real for m in WRONG)
    # unknown names are locked out alike (from fresh addresses, so only the name counts)
    messages = {}
    for name in ("admin", "no-such-user"):
        for attempt in range(6):
            app.app.extra_environ["REMOTE_ADDR"] = f"10.1.{len(messages)}.{attempt}"
            response = try_login(app, name, "wrong-password", status=400)
        messages[name] = alert(response)
    assert messages["admin"] == messages["no-such-user"]
    assert any(m in messages["admin"] for m in LOCKED)


# -- session timeouts, disabling, sign-out everywhere, fixation ---------------------------------

def test_idle_session_ends(app):
    app.login()
    execute(app, update(LoginSession).values(last_seen_at=utcnow() - dt.timedelta(minutes=119)))
    assert is_signed_in(app)  # within kehu.session_idle_minutes (120), and it refreshes last_seen_at
    execute(app, update(LoginSession).values(last_seen_at=utcnow() - dt.timedelta(minutes=121)))
    response = app.get("/")
    assert response.status_int == 303 and "/login" in response.location


def test_absolute_timeout_ends_even_an_active_session(app):
    app.login()
    execute(app, update(LoginSession).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    assert not is_signed_in(app)


def test_a_disabled_user_is_anonymous_at_the_next_request(app, bob, system):
    app.login(*bob)
    assert is_signed_in(app)
    with system() as ctx:
        set_active(ctx, get_user_by_username(ctx, bob[0]), False)
    assert not is_signed_in(app)


def test_logout_all_ends_every_session_of_the_user(app, make_kehu_app, catalog_of, bob):
    other = make_kehu_app(catalog=catalog_of())
    other.login()
    bobs = make_kehu_app(catalog=catalog_of())
    bobs.login(*bob)
    app.login()
    # a session last seen a few minutes ago (its row is updated by this request, then deleted)
    execute(app, update(LoginSession).values(last_seen_at=utcnow() - dt.timedelta(minutes=5)))
    page = security_page(app)
    assert "data-confirm" in re.search(r'<form[^>]*id="logout-all-form"[^>]*>', page.text, re.S).group(0)
    response = form_by_id(page, "logout-all-form").submit(status=303)
    assert response.location.endswith("/login")
    assert "alert-success" in response.follow().text
    assert not is_signed_in(app)
    assert not is_signed_in(other)
    assert is_signed_in(bobs)  # other users keep theirs
    assert scalar(app, select(func.count()).select_from(LoginSession)) == 1


def test_a_cookie_planted_before_login_does_not_carry_over(app):
    app.get("/login")
    planted = app.cookies[SESSION_COOKIE]
    app.login()
    assert app.cookies[SESSION_COOKIE] != planted
    app.reset()
    app.set_cookie(SESSION_COOKIE, planted)
    assert not is_signed_in(app)


def test_security_page_needs_a_signed_in_user(app):
    response = app.get("/preferences/security")
    assert response.status_int == 303
    assert "/login?next=" in response.location
    app.post("/preferences/security/logout-all", {"csrf_token": app.csrf_token()}, status=303)


# -- two-factor sign-in ------------------------------------------------------------------------

def enrol(app):
    """Turn on two-factor sign-in for the signed-in user; return the secret."""
    page = form_by_id(security_page(app), "totp-begin-form").submit(status=303).follow()
    assert 'src="data:image/svg+xml' in page.text
    secret = re.search(r'<code class="user-select-all[^"]*">([A-Z2-7 ]+)</code>', page.text).group(1).replace(" ", "")
    form = form_by_id(page, "totp-confirm-form")
    form["code"] = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    assert 'id="code-error"' in form.submit(status=400).text  # a wrong code does not turn it on
    form["code"] = pyotp.TOTP(secret).now()
    assert "alert-success" in form.submit(status=303).follow().text
    return secret


def test_totp_enrolment_then_login_asks_for_the_code(app):
    app.login()
    secret = enrol(app)
    with dbsession(app) as session:
        admin = session.scalar(select(User).where(User.username == "admin"))
        assert admin.totp_enabled and admin.totp_secret == secret
    assert audit_count(app, "update", model="core_user") >= 1
    app.reset()

    response = try_login(app, *ADMIN, status=303)
    assert response.location.endswith("/login/totp")
    assert not is_signed_in(app)  # the password alone does not sign in
    page = app.get("/login/totp")
    wrong = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    page.forms[0]["code"] = wrong
    refused = page.forms[0].submit(status=400)
    assert "alert-danger" in refused.text
    assert not is_signed_in(app)
    assert throttle(app, "user:admin").failures == 1
    assert audit_count(app, "login_failed", username="admin") == 1
    form = refused.forms[0]
    form["code"] = pyotp.TOTP(secret).now()
    signed_in = form.submit(status=303)
    assert signed_in.location == "http://localhost/"
    assert is_signed_in(app)
    assert throttle(app, "user:admin") is None  # the full sign-in clears the count


def test_wrong_codes_lock_the_account_and_a_new_password_does_not_reset_the_count(app):
    app.login()
    secret = enrol(app)
    wrong = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    app.reset()
    for round_ in range(2):
        app.app.extra_environ["REMOTE_ADDR"] = f"10.2.0.{round_}"
        try_login(app, *ADMIN, status=303)
        page = app.get("/login/totp")
        for _ in range(3 if round_ == 0 else 2):
            page.forms[0]["code"] = wrong
            page = page.forms[0].submit(status=400)
    row = throttle(app, "user:admin")
    assert row.failures == 5 and row.locked_until > utcnow()
    page.forms[0]["code"] = pyotp.TOTP(secret).now()
    message = alert(page.forms[0].submit(status=400))
    assert any(m in message for m in LOCKED)
    assert not is_signed_in(app)
    assert audit_count(app, "login_locked", username="admin") >= 1


def test_the_pending_second_step_expires(app):
    app.login()
    enrol(app)
    app.reset()
    assert app.get("/login/totp").status_int == 303  # nothing pending
    try_login(app, *ADMIN, status=303)
    import core.web.views.account_security as module

    old = module.PENDING_SECONDS
    module.PENDING_SECONDS = -1
    try:
        response = app.get("/login/totp")
    finally:
        module.PENDING_SECONDS = old
    assert response.status_int == 303 and response.location.endswith("/login")


def test_totp_can_be_turned_off_with_the_password(app):
    app.login()
    enrol(app)
    page = security_page(app)
    form = form_by_id(page, "totp-disable-form")
    assert form.fields.get("password")
    form["password"] = "not-the-password"
    assert 'id="password-error"' in form.submit(status=400).text
    form["password"] = ADMIN[1]
    form.submit(status=303)
    assert scalar(app, select(User.totp_enabled).where(User.username == "admin")) is False
    assert scalar(app, select(User.totp_secret).where(User.username == "admin")) is None
    app.reset()
    app.login()  # the password alone again


def test_required_admin_totp_sends_the_admin_to_the_security_page(make_kehu_app, catalog_of, bob):
    app = make_kehu_app(catalog=catalog_of(), **{"kehu.require_admin_totp": "true"})
    response = try_login(app, *ADMIN, status=303).follow(status=303)
    assert response.location.endswith("/preferences/security#two-factor")
    page = response.follow()
    assert "alert-warning" in page.text
    for path in ("/apps", "/preferences", "/search?q=x"):
        assert "/preferences/security" in app.get(path, status=303).location
    assert app.get("/static/core/css/kehu.css").status_int == 200
    app.post("/language", {"csrf_token": csrf(app), "locale": "en", "next": "/"}, status=303)
    enrol(app)
    assert app.get("/apps").status_int == 200
    # not administrators: nothing required
    other = make_kehu_app(catalog=catalog_of(), **{"kehu.require_admin_totp": "true"})
    other.login(*bob)
    assert other.get("/").status_int == 200


def test_logout_is_still_possible_while_enrolment_is_required(make_kehu_app, catalog_of):
    app = make_kehu_app(catalog=catalog_of(), **{"kehu.require_admin_totp": "true"})
    try_login(app, *ADMIN, status=303)
    app.post("/logout", {"csrf_token": csrf(app)}, status=303)
    assert app.get("/", status=303).location.endswith("/login?next=%2F")


def test_concurrent_failures_are_all_counted(system, db_backend):
    """A failure counted by another worker after this session read the row is not lost: the
    row is re-read under FOR UPDATE even when the session still holds the older copy."""
    if db_backend == "sqlite":
        pytest.skip("SQLite runs one writer at a time: no interleaving to test")
    from core.users.throttle import check_not_locked, record_failure

    with system() as ctx:
        record_failure(ctx, "admin", "")
    with system() as slow:
        check_not_locked(slow, "admin", "")
        held = slow.dbsession.get(LoginThrottle, "user:admin")  # in the identity map: failures == 1
        with system() as fast:
            record_failure(fast, "admin", "")  # 2, committed meanwhile
        record_failure(slow, "admin", "")
        assert held.failures == 3
    with system() as ctx:
        assert ctx.dbsession.get(LoginThrottle, "user:admin").failures == 3


def test_the_bell_poll_does_not_keep_an_idle_session_alive(make_kehu_app, catalog_of):
    import datetime as dt

    from sqlalchemy import update

    from core.models import LoginSession

    app = make_kehu_app(catalog=catalog_of())
    app.login()
    factory = app.router.registry["kehu.session_factory"]
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
    with factory() as session, session.begin():
        session.execute(update(LoginSession).values(last_seen_at=long_ago))
    app.get("/notifications/bell")
    with factory() as session:
        assert session.scalar(select(LoginSession.last_seen_at)) == long_ago  # not touched by the poll
    app.get("/")
    with factory() as session:
        assert session.scalar(select(LoginSession.last_seen_at)) > long_ago  # a page view is activity
