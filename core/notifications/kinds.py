"""Kinds of notification and the channels they go through.

Addons declare kinds with ``kehu_notification_kinds`` (``core.contributions.NotificationKind``);
the core declares its own the same way (``core.hooks``). A user's choice of channels for a kind
is a ``NotificationPreference`` row; without one, the kind's ``default_channels`` apply.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pyramid.exceptions import ConfigurationError

from core.contributions import NotificationKind
from core.i18n import _
from core.notifications.exceptions import UnknownNotificationKind

APP = "app"
EMAIL = "email"
#: Every channel, in the order the settings page shows them, with its column title.
CHANNELS = {APP: _("In the app"), EMAIL: _("Email")}

CORE_KINDS = (
    NotificationKind("core.system", _("Messages from the system"), default_channels=(APP, EMAIL)),
    NotificationKind("core.job_failed", _("A background job failed"), default_channels=(APP,)),
    NotificationKind("core.export_ready", _("An export is ready to download"), default_channels=(APP,)),
    NotificationKind("core.import_finished", _("An import has finished"), default_channels=(APP,)),
)


def collect_notification_kinds(hook_results: Iterable[list[NotificationKind]]) -> dict[str, NotificationKind]:
    """Flatten hook results, ordered by key; a key declared twice or an unknown channel is an error."""
    kinds: dict[str, NotificationKind] = {}
    for batch in hook_results:
        for kind in batch or ():
            if kind.key in kinds:
                raise ConfigurationError(f"notification kind {kind.key!r} is declared twice")
            unknown = set(kind.default_channels) - set(CHANNELS)
            if unknown:
                raise ConfigurationError(f"notification kind {kind.key!r} names unknown channels {sorted(unknown)}")
            kinds[kind.key] = kind
    return dict(sorted(kinds.items()))


def notification_kinds(ctx: Any) -> dict[str, NotificationKind]:
    """The kinds declared by the core and the installed addons, by key."""
    return collect_notification_kinds(ctx.hooks.kehu_notification_kinds())


def get_kind(ctx: Any, key: str) -> NotificationKind:
    kind = notification_kinds(ctx).get(key)
    if kind is None:
        raise UnknownNotificationKind(kind=key)
    return kind
