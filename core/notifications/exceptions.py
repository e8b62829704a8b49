"""Errors of notifications a caller can meet."""

from __future__ import annotations

from core.exceptions import KehuError
from core.i18n import _


class UnknownNotificationKind(KehuError):
    """No installed addon declares this kind (a typo, or its addon was uninstalled)."""

    message = _("There is no notification kind “${kind}”.")


class UnknownNotificationChannel(KehuError):
    message = _("There is no notification channel “${channel}”.")
