"""Notifications, on SQLite and PostgreSQL: ``notify`` honours each user's channels per kind;
the bell and the notifications page (unread count, keyset pages, mark read — one's own only —
and mark all read); the settings page; mail through a real SMTP server on loopback (aiosmtpd),
in the recipient's language, retried when the server is down."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import re
import socket
import threading

import pytest
from pyramid.exceptions import ConfigurationError
from sqlalchemy import event, select

from core.addons.catalog import AddonCatalog
from core.contributions import NotificationKind
from core.i18n import _
from core.models import User
from core.notifications.exceptions import UnknownNotificationChannel, UnknownNotificationKind
from core.notifications.kinds import CORE_KINDS, collect_notification_kinds
from core.notifications.mail import (
    EMAIL_JOB,
    mail_configured,
    send_email,
    send_notification_email,
    smtp_settings,
)
from core.notifications.models import Notification, NotificationPreference
from core.notifications.services import (
    PAGE_SIZE,
    list_notifications,
    mark_all_read,
    mark_read,
    notification_settings,
    notify,
    set_preferences,
    unread_count,
)
from core.settings import SettingsError, load_settings
from core.testing.plugin import ADMIN
from core.users.services import create_user

PASSWORD = "Spring-Tea-77"


# -- fixtures --------------------------------------------------------------------------------

@pytest.fixture
def env(kehu_db, cli_env):
    """Services on the initialised test database, acting as the system (like ``kehu`` commands)."""
    return cli_env(AddonCatalog([]))


def make_user(env, username, *, email=None, locale="zh_CN", active=True):
    with env.ctx() as ctx:
        user = create_user(ctx, username, PASSWORD, display_name=username.title(), email=email, locale=locale)
        user.active = active
        return user.id


def acting(ctx, user_id, **settings):
    """The same transaction, acting as the user ``user_id`` (with extra settings, if any)."""
    ctx = ctx.as_user(ctx.dbsession.get(User, user_id))
    return dataclasses.replace(ctx, settings={**ctx.settings, **settings}) if settings else ctx


def rows(env, **where):
    with env.ctx() as ctx:
        query = select(Notification).order_by(Notification.id)
        for column, value in where.items():
            query = query.where(getattr(Notification, column) == value)
        return list(ctx.dbsession.scalars(query))


class Inbox:
    """What the SMTP server on loopback received: one parsed message per delivery."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=email.policy.default))
        self.arrived.set()
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on 127.0.0.1 and a free port; yields (settings, inbox)."""
    controller_module = pytest.importorskip("aiosmtpd.controller", reason="pip install 'aiosmtpd>=1.4,<2'")
    inbox = Inbox()
    port = free_port()
    controller = controller_module.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings = {"kehu.smtp_host": "127.0.0.1", "kehu.smtp_port": str(port), "kehu.smtp_security": "none",
                "kehu.smtp_from": "crm@example.cn", "kehu.base_url": "https://crm.example.cn"}
    try:
        yield settings, inbox
    finally:
        controller.stop()


def parts(message):
    """The text and the HTML of a multipart/alternative message."""
    assert message.get_content_type() == "multipart/alternative"
    return (message.get_body(preferencelist=("plain",)).get_content(),
            message.get_body(preferencelist=("html",)).get_content())


# -- kinds -----------------------------------------------------------------------------------

def test_the_core_declares_its_kinds_and_its_mail_job_through_its_own_hooks(env):
    with env.ctx() as ctx:
        kinds = collect_notification_kinds(ctx.hooks.kehu_notification_kinds())
        handlers = [handler for batch in ctx.hooks.kehu_job_handlers() for handler in batch]
    assert kinds["core.system"].default_channels == ("app", "email")
    assert kinds["core.job_failed"].default_channels == ("app",)
    assert [handler.func for handler in handlers if handler.name == EMAIL_JOB] == [send_notification_email]


def test_a_kind_declared_twice_or_with_an_unknown_channel_is_an_error():
    with pytest.raises(ConfigurationError, match="declared twice"):
        collect_notification_kinds([list(CORE_KINDS), [NotificationKind("core.system", "again")]])
    with pytest.raises(ConfigurationError, match="unknown channels"):
        collect_notification_kinds([[NotificationKind("x.y", "X", default_channels=("sms",))]])
    assert list(collect_notification_kinds([[NotificationKind("b.k", "B")], [NotificationKind("a.k", "A")], None])) \
        == ["a.k", "b.k"]


# -- notify ----------------------------------------------------------------------------------

def test_notify_creates_rows_only_for_users_wanting_the_app(env):
    both = make_user(env, "zhang", email="zhang@example.cn")
    english = make_user(env, "alice", locale="en")
    no_app = make_user(env, "wang")
    gone = make_user(env, "zhao", active=False)
    with env.ctx() as ctx:
        set_preferences(acting(ctx, no_app), {("core.system", "app"): False})
    with env.ctx() as ctx:
        admin = ctx.dbsession.scalar(select(User).where(User.username == ADMIN[0]))
        created = notify(ctx, [both, english, no_app, gone, both], "core.system", admin, _("Welcome"),
                         title=_("Welcome"), url="/admin/users")
    assert sorted(n.user_id for n in created) == sorted([both, english])
    stored = {n.user_id: n for n in rows(env)}
    assert set(stored) == {both, english}  # not wang (app off), not zhao (disabled), zhang once
    assert (stored[both].title, stored[both].body) == ("欢迎", "欢迎")  # each in the recipient's language
    assert (stored[english].title, stored[english].body) == ("Welcome", "Welcome")
    assert stored[both].model == "core_user" and stored[both].record_id == str(admin.id)
    assert stored[both].url == "/admin/users" and stored[both].read_at is None and stored[both].kind == "core.system"


def test_notify_follows_the_kinds_default_until_the_user_chooses(env):
    user = make_user(env, "zhang")
    with env.ctx() as ctx:
        notify(ctx, [user], "core.job_failed", message="nightly import")  # default: app
        set_preferences(acting(ctx, user), {("core.job_failed", "app"): False})
        assert notify(ctx, [user], "core.job_failed", message="again") == []
        set_preferences(acting(ctx, user), {("core.job_failed", "app"): True})
        notify(ctx, [user], "core.job_failed", message="and again")
    assert [n.body for n in rows(env)] == ["nightly import", "and again"]
    from core.i18n import _, localizer_for

    title = localizer_for("zh_CN").translate(_("A background job failed"))  # zhang reads zh_CN
    assert [n.title for n in rows(env)] == [title] * 2  # the kind's title by default


def test_notify_refuses_an_unknown_kind_and_an_off_site_url(env):
    user = make_user(env, "zhang")
    with env.ctx() as ctx:
        with pytest.raises(UnknownNotificationKind):
            notify(ctx, [user], "customers.nope", message="x")
        for url in ("https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)"):
            with pytest.raises(ValueError, match="path inside Kehu"):
                notify(ctx, [user], "core.system", message="x", url=url)
        assert notify(ctx, [], "core.system", message="x") == []
    assert rows(env) == []


def test_notify_sends_no_mail_to_users_without_an_address_or_without_a_mail_server(env):
    """No address, or no SMTP host: no mail job is enqueued, only the in-app row."""
    no_address = make_user(env, "zhang")
    with_address = make_user(env, "li", email="li@example.cn")
    with env.ctx() as ctx:
        mail_ctx = dataclasses.replace(ctx, settings={**ctx.settings, "kehu.smtp_host": "127.0.0.1"})
        assert len(notify(mail_ctx, [no_address], "core.system", message="x")) == 1
        assert not mail_configured(ctx.settings)
        assert len(notify(ctx, [with_address], "core.system", message="x")) == 1


def test_preferences_are_validated_and_only_the_callers_own(env):
    one, two = make_user(env, "zhang"), make_user(env, "li")
    with env.ctx() as ctx:
        with pytest.raises(UnknownNotificationKind):
            set_preferences(acting(ctx, one), {("customers.nope", "app"): False})
        with pytest.raises(UnknownNotificationChannel):
            set_preferences(acting(ctx, one), {("core.system", "sms"): False})
        set_preferences(acting(ctx, one), {("core.system", "email"): False})
        set_preferences(acting(ctx, one), {("core.system", "app"): False})  # keeps email off
        mine = {kind.key: chosen for kind, chosen in notification_settings(acting(ctx, one))}
        theirs = {kind.key: chosen for kind, chosen in notification_settings(acting(ctx, two))}
        stored = ctx.dbsession.scalars(select(NotificationPreference)).all()
    assert mine["core.system"] == {"app": False, "email": False}
    assert theirs["core.system"] == {"app": True, "email": True}  # the kind's defaults
    assert mine["core.job_failed"] == theirs["core.job_failed"] == {"app": True, "email": False}
    assert {(p.user_id, p.kind, p.channel, p.enabled) for p in stored} == {
        (one, "core.system", "app", False), (one, "core.system", "email", False)}


def test_reading_services_see_and_mark_only_the_callers_own(env):
    mine, other = make_user(env, "zhang"), make_user(env, "li")
    with env.ctx() as ctx:
        own = [notify(ctx, [mine], "core.system", message=f"m{i}")[0].id for i in range(5)]
        foreign = notify(ctx, [other], "core.system", message="theirs")[0].id
    with env.ctx() as ctx:
        me = acting(ctx, mine)
        assert unread_count(me) == 5
        assert [n.id for n in list_notifications(me, limit=2)] == own[:-3:-1]
        assert [n.id for n in list_notifications(me, own[3], limit=10)] == own[2::-1]
        assert mark_read(me, [own[0], own[1], foreign, 999999]) == 2  # theirs and unknown ids: ignored
        assert mark_read(me, [own[0]]) == 0  # already read
        assert [n.id for n in list_notifications(me, unread_only=True)] == own[:1:-1]
        assert unread_count(me) == 3
        assert mark_all_read(me) == 3 and unread_count(me) == 0
        assert unread_count(acting(ctx, other)) == 1  # theirs untouched by my "mark all"
        assert unread_count(ctx) == 0 and list_notifications(ctx) == [] and mark_all_read(ctx) == 0  # no user
    assert rows(env, id=foreign)[0].read_at is None


# -- pages -----------------------------------------------------------------------------------

@pytest.fixture
def app(make_kehu_app):
    app = make_kehu_app(catalog=AddonCatalog([]))
    app.login()
    return app


@pytest.fixture
def system(app, cli_env):
    """``with system() as ctx``: the command line's context on the app's database."""
    return cli_env(AddonCatalog([])).ctx


def admin_id(system):
    with system() as ctx:
        return ctx.dbsession.scalar(select(User.id).where(User.username == ADMIN[0]))


def send(system, user_id, count=1, **kwargs):
    with system() as ctx:
        return [notify(ctx, [user_id], "core.system", message=f"第 {i} 条", **kwargs)[0].id for i in range(count)]


def test_the_bell_shows_the_unread_count_and_polls(app, system):
    home = app.get("/")
    bell = home.html.find(id="kehu-bell")
    assert bell["hx-get"] == "/notifications/bell" and bell["hx-trigger"] == "load, every 60s"
    assert bell.find("i", class_="bi-bell") and bell.find("a")["href"] == "/notifications"
    assert "kehu-bell-count" not in app.get("/notifications/bell").text
    send(system, admin_id(system), 3)
    fragment = app.get("/notifications/bell")
    assert fragment.html.find(class_="kehu-bell-count").get_text(strip=True) == "3"
    assert "3" in fragment.html.find("a")["aria-label"]
    assert "<html" not in fragment.text  # a fragment, not a page
    send(system, admin_id(system), 100)
    assert app.get("/notifications/bell").html.find(class_="kehu-bell-count").get_text(strip=True) == "99+"


def test_the_bell_of_an_ended_session_stays_as_it_was(app, make_kehu_app):
    anonymous = make_kehu_app(catalog=AddonCatalog([]))
    assert anonymous.get("/notifications/bell").status_int == 204  # htmx swaps nothing
    assert anonymous.get("/notifications").status_int == 303  # the pages send to /login


def test_the_list_page_pages_by_keyset_and_shows_only_my_own(app, system):
    me = admin_id(system)
    with system() as ctx:
        other = create_user(ctx, "lisi", PASSWORD).id
    send(system, other, 1)
    ids = send(system, me, PAGE_SIZE + 2, url="/admin/users")
    page = app.get("/notifications")
    shown = [int(item["id"].split("-")[1]) for item in page.html.select("#notifications > [id]")]
    assert shown == ids[::-1][:PAGE_SIZE]
    older = page.html.find(id="notifications-older")["href"]
    rest = app.get(older)
    assert [int(item["id"].split("-")[1]) for item in rest.html.select("#notifications > [id]")] == ids[1::-1]
    assert rest.html.find(id="notifications-older") is None
    assert "第 0 条" in rest.text and "lisi" not in rest.text
    mark_read_all = page.html.find(id="notifications-read-all")
    assert mark_read_all is not None
    empty = app.get("/notifications", {"show": "unread", "before": str(ids[0])})
    assert empty.html.find(id="notifications-empty") is not None


def test_the_list_page_runs_the_same_queries_for_3_and_30_notifications(app, system):
    engine = app.router.registry["kehu.engine"]
    statements = []

    def count(*args):
        statements.append(args[2])

    me = admin_id(system)
    send(system, me, 3)
    app.get("/notifications")  # warm caches (addon state, templates)
    event.listen(engine, "before_cursor_execute", count)
    try:
        app.get("/notifications")
        few = len(statements)
        send(system, me, 27)
        statements.clear()
        app.get("/notifications")
        assert len(statements) == few
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_mark_one_read_ignores_other_users_ids(app, system):
    me = admin_id(system)
    with system() as ctx:
        other = create_user(ctx, "lisi", PASSWORD).id
    theirs = send(system, other, 1)[0]
    mine = send(system, me, 2)
    response = app.post_form("/notifications/read", {"id": [str(mine[0]), str(theirs), "x"], "next": "/notifications"})
    assert response.status_int == 303 and response.location.endswith("/notifications")
    assert rows(_Env(system), id=mine[0])[0].read_at is not None
    assert rows(_Env(system), id=mine[1])[0].read_at is None
    assert rows(_Env(system), id=theirs)[0].read_at is None  # ignored: no 403, no 404, nothing to probe
    only_theirs = app.post_form("/notifications/read", {"id": str(theirs)})
    assert only_theirs.status_int == 303
    assert rows(_Env(system), id=theirs)[0].read_at is None
    off_site = app.post_form("/notifications/read", {"id": str(mine[1]), "next": "https://evil.example/"})
    assert off_site.location.endswith("/")  # never off-site
    page = app.get("/notifications")
    assert page.html.find(id=f"notification-{mine[0]}")["data-unread"] == "false"


def test_opening_a_notification_marks_it_read_and_goes_to_its_page(app, system):
    nid = send(system, admin_id(system), 1, url="/admin/users")[0]
    form = next(f for f in app.get("/notifications").forms.values()
                if f.fields.get("next") and f["next"].value == "/admin/users")
    response = form.submit()
    assert response.status_int == 303 and response.location.endswith("/admin/users")
    assert rows(_Env(system), id=nid)[0].read_at is not None
    assert app.get("/notifications").html.find(id=f"notification-{nid}").find("a")["href"] == "/admin/users"


def test_mark_all_read_needs_the_csrf_token(app, system):
    send(system, admin_id(system), 3)
    app.post("/notifications/read-all", {}, status=400)
    assert len([n for n in rows(_Env(system)) if n.read_at is None]) == 3
    response = app.post_form("/notifications/read-all")
    assert response.status_int == 303
    assert all(n.read_at is not None for n in rows(_Env(system)))
    page = response.follow()
    assert page.html.find(id="notifications-read-all") is None
    assert page.html.select(".alert-success")


def test_the_settings_page_saves_the_choices(app, system):
    me = admin_id(system)
    page = app.get("/preferences/notifications")
    boxes = {box["value"]: box for box in page.html.select("input[name=on]")}
    kinds = ("core.system", "core.job_failed", "core.export_ready", "core.import_finished")
    assert set(boxes) == {f"{kind}:{channel}" for kind in kinds for channel in ("app", "email")}
    assert "checked" in boxes["core.system:app"].attrs and "checked" not in boxes["core.job_failed:email"].attrs
    assert all("disabled" in boxes[key].attrs for key in boxes if key.endswith(":email"))  # no mail server
    form = page.forms["notification-settings"]
    index = [field._value for field in form.fields["on"]].index("core.job_failed:app")
    form.set("on", False, index=index)  # core.job_failed:app off ...
    response = form.submit()
    assert response.status_int == 303
    with system() as ctx:
        chosen = {(p.kind, p.channel): p.enabled for p in ctx.dbsession.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == me))}
    # ... the app choices are stored; email, which the page could not offer, keeps its defaults.
    assert chosen == {("core.job_failed", "app"): False, ("core.system", "app"): True,
                      ("core.export_ready", "app"): True, ("core.import_finished", "app"): True}
    again = app.get("/preferences/notifications")
    assert "checked" not in again.html.find("input", value="core.job_failed:app").attrs
    assert "checked" in again.html.find("input", value="core.system:email").attrs


def test_the_settings_page_offers_email_with_a_mail_server_and_an_address(make_kehu_app, cli_env):
    app = make_kehu_app(catalog=AddonCatalog([]), **{"kehu.smtp_host": "127.0.0.1"})
    with cli_env(AddonCatalog([])).ctx() as ctx:
        user = create_user(ctx, "lisi", PASSWORD, email="lisi@example.cn")
        user_id = user.id
    app.login("lisi", PASSWORD)
    page = app.get("/preferences/notifications")
    assert "disabled" not in page.html.find("input", value="core.system:email").attrs
    form = page.forms["notification-settings"]
    for field in form.fields["on"]:
        field.checked = field._value == "core.job_failed:email"
    form.submit()
    with cli_env(AddonCatalog([])).ctx() as ctx:
        chosen = {(p.kind, p.channel): p.enabled for p in ctx.dbsession.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user_id))}
    assert {key: on for key, on in chosen.items() if on} == {("core.job_failed", "email"): True}
    assert len(chosen) == 8  # every kind and channel, the unticked ones saved as off


class _Env:
    """``rows()`` wants an object with ``ctx()``; the page tests have the ``system`` factory."""

    def __init__(self, ctx_factory):
        self.ctx = ctx_factory


# -- mail ------------------------------------------------------------------------------------

def test_smtp_settings_come_from_the_environment_and_are_checked():
    settings = load_settings({}, environ={"KEHU_SMTP_HOST": "smtp.example.cn", "KEHU_SMTP_SECURITY": "ssl",
                                          "KEHU_SMTP_USER": "crm@example.cn", "KEHU_SMTP_PASSWORD": "s3cret"},
                             require_secret=False)
    smtp = smtp_settings(settings)
    assert (smtp.host, smtp.port, smtp.security, smtp.user, smtp.password) == \
        ("smtp.example.cn", 465, "ssl", "crm@example.cn", "s3cret")
    assert smtp.sender_address == "crm@example.cn" and "s3cret" not in repr(smtp)
    assert smtp_settings({**settings, "kehu.smtp_security": "starttls"}).port == 587
    assert smtp_settings({**settings, "kehu.smtp_from": "客户 CRM <noreply@example.cn>"}).sender_name == "客户 CRM"
    assert not mail_configured(load_settings({}, environ={}, require_secret=False))
    for wrong, problem in (({"kehu.smtp_host": ""}, "KEHU_SMTP_HOST"),
                           ({"kehu.smtp_security": "tls"}, "KEHU_SMTP_SECURITY"),
                           ({"kehu.smtp_port": "smtp"}, "KEHU_SMTP_PORT"),
                           ({"kehu.smtp_security": "none"}, "unencrypted"),
                           ({"kehu.smtp_user": "crm", "kehu.smtp_from": ""}, "KEHU_SMTP_FROM")):
        with pytest.raises(SettingsError, match=problem):
            smtp_settings({**settings, **wrong})


def test_send_email_delivers_text_and_html(smtp_server):
    settings, inbox = smtp_server
    send_email(settings, "li@example.cn", "Line\nbreak", "纯文本", "<p>HTML</p>", sender_name="客户 CRM")
    message = inbox.messages[0]
    assert inbox.envelopes[0] == ("crm@example.cn", ["li@example.cn"])
    assert message["Subject"] == "Line break" and message["From"].addresses[0].display_name == "客户 CRM"
    assert parts(message) == ("纯文本\n", "<p>HTML</p>\n")


def test_the_mail_job_sends_in_the_recipients_language(env, smtp_server):
    settings, inbox = smtp_server
    chinese = make_user(env, "zhang", email="zhang@example.cn")
    english = make_user(env, "alice", email="alice@example.cn", locale="en")
    with env.ctx() as ctx:  # no SMTP host in these settings: notify stores the rows and queues nothing
        made = {user: notify(ctx, [user], "core.system", None, "<b>第一行</b>\nline two", title=_("Welcome"),
                             url="/notifications")[0].id for user in (chinese, english)}
    with env.ctx() as ctx:
        mail_ctx = dataclasses.replace(ctx, settings={**ctx.settings, **settings})
        send_notification_email(mail_ctx, {"user_id": chinese, "notification_id": made[chinese]})
        send_notification_email(mail_ctx, {"user_id": english, "notification_id": made[english]})
    zh, en = inbox.messages
    assert "欢迎" in zh["Subject"] and "客户 CRM" in zh["Subject"] and "Welcome" not in zh["Subject"]
    assert en["Subject"] == "[Kehu CRM] Welcome"
    assert zh["To"].addresses[0].addr_spec == "zhang@example.cn"
    assert en["From"].addresses[0].display_name == "Kehu CRM"
    assert zh["From"].addresses[0].display_name == "客户 CRM"
    text, html = parts(zh)
    assert "欢迎" in text and "<b>第一行</b>" in text and "https://crm.example.cn/notifications" in text
    assert "&lt;b&gt;第一行&lt;/b&gt;<br>line two" in html and "<b>第一行" not in html  # escaped
    assert 'href="https://crm.example.cn/notifications"' in html and 'lang="zh-CN"' in html
    assert "https://crm.example.cn/preferences/notifications" in html
    en_text, en_html = parts(en)
    assert "Hello Alice," in en_text and "Open in Kehu CRM" in en_html and 'lang="en"' in en_html


def test_the_mail_job_without_a_notification_row_uses_the_payload(env, smtp_server):
    """A user who wants mail but not the app: the payload carries the text."""
    settings, inbox = smtp_server
    user = make_user(env, "alice", email="alice@example.cn", locale="en")
    with env.ctx() as ctx:
        mail_ctx = dataclasses.replace(ctx, settings={**ctx.settings, **settings, "kehu.base_url": ""})
        send_notification_email(mail_ctx, {"user_id": user, "kind": "core.job_failed", "title": "Import failed",
                                           "body": "Row 7: bad phone", "url": "/imports/3"})
    text, html = parts(inbox.messages[0])
    assert inbox.messages[0]["Subject"] == "[Kehu CRM] Import failed"
    assert "Row 7: bad phone" in text and "A background job failed" in text
    assert "/imports/3" not in text and "href" not in html  # no kehu.base_url: no links


def test_no_mail_for_users_without_an_address_or_gone(env, smtp_server):
    settings, inbox = smtp_server
    no_address = make_user(env, "zhang")
    disabled = make_user(env, "li", email="li@example.cn", active=False)
    with env.ctx() as ctx:
        row = Notification(user_id=no_address, kind="core.system", title="t", body="", created_at=ctx.now)
        ctx.dbsession.add(row)
        ctx.dbsession.flush()
        mail_ctx = dataclasses.replace(ctx, settings={**ctx.settings, **settings})
        send_notification_email(mail_ctx, {"user_id": no_address, "notification_id": row.id})
        send_notification_email(mail_ctx, {"user_id": disabled, "kind": "core.system", "title": "t", "body": "",
                                           "url": None})
        send_notification_email(mail_ctx, {"user_id": 999999, "notification_id": row.id})
        send_notification_email(mail_ctx, {"user_id": disabled, "notification_id": 999999})
    assert inbox.messages == []


def test_the_mail_job_raises_when_the_smtp_server_is_down(env):
    """So the worker retries it with backoff."""
    user = make_user(env, "alice", email="alice@example.cn", locale="en")
    with env.ctx() as ctx:
        down = dataclasses.replace(ctx, settings={**ctx.settings, "kehu.smtp_host": "127.0.0.1",
                                                  "kehu.smtp_port": str(free_port()), "kehu.smtp_security": "none",
                                                  "kehu.smtp_from": "crm@example.cn"})
        payload = {"user_id": user, "kind": "core.system", "title": "t", "body": "", "url": None}
        with pytest.raises(OSError):
            send_notification_email(down, payload)
        with pytest.raises(SettingsError):  # no server at all: a dead job an administrator sees
            send_notification_email(dataclasses.replace(ctx, settings={**ctx.settings, "kehu.smtp_host": ""}),
                                    payload)


def test_a_notification_mail_goes_through_the_queue_and_the_worker(env, smtp_server):
    """notify → one ``core.send_email`` job per user wanting mail → a real worker sends it; with
    the SMTP server down the job fails and waits for its retry."""
    worker = pytest.importorskip("core.jobs.worker", reason="the jobs worker (core.jobs.worker) is not merged yet")
    from core.jobs.models import Job

    settings, inbox = smtp_server
    alice = make_user(env, "alice", email="alice@example.cn", locale="en")
    mail_only = make_user(env, "zhang", email="zhang@example.cn")
    no_address = make_user(env, "li")
    env.settings.update(settings)
    with env.ctx() as ctx:
        set_preferences(acting(ctx, mail_only), {("core.system", "app"): False})
    with env.ctx() as ctx:
        created = notify(ctx, [alice, mail_only, no_address], "core.system", message="through the queue",
                         title="Queued", url="/notifications")
        jobs = ctx.dbsession.scalars(select(Job).where(Job.name == EMAIL_JOB).order_by(Job.id)).all()
    assert sorted(n.user_id for n in created) == sorted([alice, no_address])
    assert [job.payload["user_id"] for job in jobs] == [alice, mail_only]
    assert jobs[0].payload["notification_id"] == created[0].id and "title" in jobs[1].payload
    worker.Worker(env.engine, AddonCatalog([]), env.settings).run(until_idle=True)  # also periodic jobs
    assert inbox.arrived.wait(10)
    by_address = {m["To"].addresses[0].addr_spec: m for m in inbox.messages}
    assert set(by_address) == {"alice@example.cn", "zhang@example.cn"}
    assert by_address["alice@example.cn"]["Subject"] == "[Kehu CRM] Queued"
    assert "through the queue" in parts(by_address["zhang@example.cn"])[0]
    with env.ctx() as ctx:
        assert {job.state for job in ctx.dbsession.scalars(select(Job).where(Job.name == EMAIL_JOB))} == {"done"}
        notify(ctx, [alice], "core.system", message="server down")
    env.settings["kehu.smtp_port"] = str(free_port())
    worker.Worker(env.engine, AddonCatalog([]), env.settings).run(until_idle=True)
    with env.ctx() as ctx:
        failed = ctx.dbsession.scalars(select(Job).where(Job.name == EMAIL_JOB).order_by(Job.id.desc())).first()
    assert (failed.state, failed.attempts) == ("queued", 1) and "Connection refused" in failed.last_error
    assert failed.run_at > failed.created_at  # retried later, with backoff


# -- schema ----------------------------------------------------------------------------------

def test_the_migration_matches_the_models(env):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from core.db import Base

    with env.engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
    assert [d for d in diffs if re.search(r"core_notification", str(d))] == []
