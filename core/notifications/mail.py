"""Outgoing mail: SMTP settings, sending one message, and the job that mails a notification.

SMTP comes from the settings, which the environment overrides (``KEHU_SMTP_HOST``,
``KEHU_SMTP_PORT``, ``KEHU_SMTP_SECURITY`` = none | starttls | ssl, ``KEHU_SMTP_USER``,
``KEHU_SMTP_PASSWORD``, ``KEHU_SMTP_FROM``); without a host Kehu sends no mail at all. Links in
mails need ``kehu.base_url`` (``https://crm.example.cn``); without it a mail names the page
instead of linking to it.

The ``core.send_email`` job renders the mail when it runs, in the recipient's language of that
moment, from ``core/web/templates/core/mail/notification.{txt,html}.jinja2``. Any SMTP error
propagates, so the worker retries the job with backoff.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import smtplib
import ssl
from collections.abc import Callable, Mapping
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any

import jinja2
from pyramid.i18n import Localizer, TranslationString

from core.i18n import _, localizer_for, normalise_locale
from core.models import User
from core.notifications.kinds import notification_kinds
from core.notifications.models import Notification
from core.settings import SettingsError

log = logging.getLogger(__name__)

EMAIL_JOB = "core.send_email"
#: Seconds to wait for the SMTP server at each step (connect, each command).
SMTP_TIMEOUT = 30
DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
TEMPLATES = "core/mail/notification"


@dataclasses.dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str
    user: str
    password: str = dataclasses.field(repr=False)
    #: The sender's display name ("" : "Kehu CRM" in the recipient's language) and address.
    sender_name: str
    sender_address: str


def mail_configured(settings: Mapping[str, Any]) -> bool:
    """Is there an SMTP server to send through (``kehu.smtp_host``)?"""
    return bool(str(settings.get("kehu.smtp_host") or "").strip())


def smtp_settings(settings: Mapping[str, Any]) -> SmtpSettings:
    """The SMTP settings, checked; raises ``SettingsError`` saying what to fix."""
    host = str(settings.get("kehu.smtp_host") or "").strip()
    if not host:
        raise SettingsError("no SMTP server: set KEHU_SMTP_HOST (kehu.smtp_host) to send mail")
    security = str(settings.get("kehu.smtp_security") or "starttls").strip().lower()
    if security not in DEFAULT_PORTS:
        raise SettingsError(f"KEHU_SMTP_SECURITY (kehu.smtp_security) must be one of none, starttls, ssl, "
                            f"not {security!r}")
    port_value = str(settings.get("kehu.smtp_port") or "").strip()
    if port_value and not (port_value.isdigit() and 0 < int(port_value) < 65536):
        raise SettingsError(f"KEHU_SMTP_PORT (kehu.smtp_port) must be a port number, not {port_value!r}")
    user = str(settings.get("kehu.smtp_user") or "")
    if user and security == "none" and host not in LOOPBACK_HOSTS:
        raise SettingsError("refusing to send the SMTP password unencrypted: set KEHU_SMTP_SECURITY to "
                            "starttls or ssl")
    name, address = parseaddr(str(settings.get("kehu.smtp_from") or ""))
    if not address:
        address = user if "@" in user else ""
    if "@" not in address:
        raise SettingsError("no sender address: set KEHU_SMTP_FROM (kehu.smtp_from), e.g. "
                            "\"客户 CRM <crm@example.cn>\"")
    return SmtpSettings(host=host, port=int(port_value) if port_value else DEFAULT_PORTS[security],
                        security=security, user=user, password=str(settings.get("kehu.smtp_password") or ""),
                        sender_name=name, sender_address=address)


def send_email(
    settings: Mapping[str, Any],
    to: str | Address,
    subject: str,
    text: str,
    html: str | None = None,
    *,
    sender_name: str = "",
    message_key: str | None = None,
    timeout: float = SMTP_TIMEOUT,
) -> str:
    """Send one message (text, and HTML as the alternative if given); return its Message-ID.

    ``sender_name`` is used when ``kehu.smtp_from`` has no display name of its own. A
    ``message_key`` makes the Message-ID stable, so a mail sent again by a retried job is
    recognised as the same one by mail clients that deduplicate. Raises ``SettingsError`` or
    the ``smtplib``/``OSError`` of a failed delivery."""
    smtp = smtp_settings(settings)
    message = EmailMessage()
    message["Subject"] = " ".join(subject.split())  # no line breaks in a header
    message["From"] = Address(smtp.sender_name or sender_name, addr_spec=smtp.sender_address)
    message["To"] = to
    message["Date"] = formatdate(usegmt=True)
    domain = smtp.sender_address.rpartition("@")[2]
    message["Message-ID"] = f"<{message_key}@{domain}>" if message_key else make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
    # base64: safe through any relay (no 8BITMIME needed), and compact for Chinese text.
    message.set_content(text, cte="base64")
    if html is not None:
        message.add_alternative(html, subtype="html", cte="base64")
    context = ssl.create_default_context()
    if smtp.security == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
    with client:
        if smtp.security == "starttls":
            client.starttls(context=context)
        if smtp.user:
            client.login(smtp.user, smtp.password)
        client.send_message(message)
    return str(message["Message-ID"])


# -- the notification mail ------------------------------------------------------------------


def send_notification_email(ctx: Any, payload: Mapping[str, Any]) -> None:
    """Job ``core.send_email``: mail one notification to one user.

    ``payload`` is ``{"user_id", "notification_id", "key"}`` when the user also has it in the
    app, else ``{"user_id", "kind", "title", "body", "url", "key"}``; ``key`` makes the
    Message-ID of every attempt the same. A user who is gone, disabled or has no address any
    more gets nothing (no error: retrying would not help)."""
    user = ctx.dbsession.get(User, payload["user_id"])
    if user is None or not user.active or not user.email:
        log.info("notification mail to user %s skipped: no active user with an address", payload["user_id"])
        return
    content = _content(ctx, payload)
    if content is None:
        log.info("notification mail skipped: notification %s is gone", payload.get("notification_id"))
        return
    locale = normalise_locale(user.locale)
    subject, text, html = render_notification_email(ctx, user, content, locale=locale)
    product = localizer_for(locale).translate(_("Kehu CRM"))
    message_id = send_email(ctx.settings, Address(user.label, addr_spec=user.email), subject, text, html,
                            sender_name=product, message_key=payload.get("key"))
    log.info("notification mail %s sent to user %s", message_id, user.id)


def render_notification_email(ctx: Any, user: User, content: Mapping[str, Any], *, locale: str) -> tuple[str, str, str]:
    """The subject, text and HTML of a notification mail in ``locale``."""
    gettext = _gettext(localizer_for(locale))
    kind = notification_kinds(ctx).get(content["kind"])
    base_url = str(ctx.settings.get("kehu.base_url") or "").rstrip("/")
    values = {
        "lang": "zh-CN" if locale == "zh_CN" else locale.replace("_", "-"),
        "recipient": user.label,
        "title": content["title"],
        "body": content.get("body") or "",
        "kind_title": gettext(kind.title) if kind is not None else content["kind"],
        "url": base_url + content["url"] if base_url and content.get("url") else None,
        "settings_url": f"{base_url}/preferences/notifications" if base_url else None,
    }
    environment = _mail_environment(locale)
    text = environment.get_template(f"{TEMPLATES}.txt.jinja2").render(values)
    html = environment.get_template(f"{TEMPLATES}.html.jinja2").render(values)
    subject = gettext(_("[${product}] ${title}", mapping={"product": gettext(_("Kehu CRM")),
                                                          "title": content["title"]}))
    return subject, text, html


def _content(ctx: Any, payload: Mapping[str, Any]) -> Mapping[str, Any] | None:
    notification_id = payload.get("notification_id")
    if notification_id is None:
        return payload
    row = ctx.dbsession.get(Notification, notification_id)
    if row is None or row.user_id != payload["user_id"]:
        return None
    return {"kind": row.kind, "title": row.title, "body": row.body, "url": row.url}


def _gettext(localizer: Localizer) -> Callable[..., str]:
    def gettext(message: str | TranslationString, mapping: Mapping[str, Any] | None = None) -> str:
        if not isinstance(message, TranslationString):
            message = TranslationString(message, domain="kehu", mapping=mapping)
        return localizer.translate(message)

    return gettext


@functools.cache
def _mail_environment(locale: str) -> jinja2.Environment:
    """Jinja2 for mail, one per language: ``_`` translates into it; HTML templates autoescape.
    Same whitespace rules as the pages (``core/web/rendering.py``, ``babel.cfg``)."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("core.web", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.jinja2",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.globals["_"] = _gettext(localizer_for(locale))
    return environment
