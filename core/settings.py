"""Settings: the ini file's ``kehu.*`` keys, overridden by environment variables.

Production keeps secrets out of files (``KEHU_DATABASE_URL``, ``KEHU_SECRET``); a newcomer on
SQLite needs nothing at all: the secret is generated once and kept beside the database.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

DEFAULT_DATABASE_URL = "sqlite:///var/kehu.sqlite"
ENVIRONMENT = {
    "KEHU_DATABASE_URL": "kehu.database_url",
    "KEHU_SECRET": "kehu.secret",
    "KEHU_COOKIE_SECURE": "kehu.cookie_secure",
    "KEHU_SMTP_HOST": "kehu.smtp_host",  # outgoing mail (core.notifications.mail); no host: no mail
    "KEHU_SMTP_PORT": "kehu.smtp_port",
    "KEHU_SMTP_SECURITY": "kehu.smtp_security",
    "KEHU_SMTP_USER": "kehu.smtp_user",
    "KEHU_SMTP_PASSWORD": "kehu.smtp_password",
    "KEHU_SMTP_FROM": "kehu.smtp_from",
}
SESSION_MAX_AGE = 7 * 24 * 3600  # absolute: a session ends a week after sign-in, however active


class SettingsError(Exception):
    """A setting is missing or wrong; the message says which and how to fix it."""


def load_settings(
    settings: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    require_secret: bool = True,
) -> dict:
    """Merge defaults, ``settings`` (from the ini file) and the environment, in that order.

    The web app needs the secret that signs session cookies; the CLI's database commands don't.
    """
    environ = os.environ if environ is None else environ
    merged: dict[str, Any] = {
        "kehu.database_url": DEFAULT_DATABASE_URL,
        "kehu.session_max_age": SESSION_MAX_AGE,
        "kehu.cookie_secure": "auto",
        "kehu.pool_size": 5,
        "kehu.session_idle_minutes": 120,
        "kehu.trusted_proxies": "127.0.0.1 ::1",
        "kehu.timezone": "Asia/Shanghai",  # the installation's clock for cron schedules
        "kehu.require_admin_totp": "false",
        "kehu.smtp_host": "",
        "kehu.smtp_port": "",  # empty: 465 with ssl, 587 with starttls, 25 with none
        "kehu.smtp_security": "starttls",  # none | starttls | ssl
        "kehu.smtp_user": "",
        "kehu.smtp_password": "",
        "kehu.smtp_from": "",
    }
    merged.update(settings or {})
    for env_name, key in ENVIRONMENT.items():
        if environ.get(env_name):
            merged[key] = environ[env_name]
    merged["kehu.session_max_age"] = int(merged["kehu.session_max_age"])
    merged["kehu.pool_size"] = int(merged["kehu.pool_size"])
    merged["kehu.session_idle_minutes"] = int(merged["kehu.session_idle_minutes"])
    if isinstance(merged["kehu.trusted_proxies"], str):
        merged["kehu.trusted_proxies"] = frozenset(merged["kehu.trusted_proxies"].replace(",", " ").split())
    merged["kehu.require_admin_totp"] = as_bool(merged["kehu.require_admin_totp"])
    if not require_secret:
        return merged
    if not merged.get("kehu.secret"):
        merged["kehu.secret"] = _development_secret(merged["kehu.database_url"])
    if len(str(merged["kehu.secret"])) < 32:
        raise SettingsError("kehu.secret (KEHU_SECRET) must be at least 32 characters long")
    return merged


def _development_secret(database_url: str) -> str:
    """SQLite installs keep a generated secret in ``kehu.secret`` beside the database file, so
    sessions survive restarts. Any other database must be given ``KEHU_SECRET``."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise SettingsError("set KEHU_SECRET (or kehu.secret) to a random string of 32+ characters")
    path = Path(url.database).parent / "kehu.secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process wrote it first: use theirs
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def as_bool(value: Any) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}
