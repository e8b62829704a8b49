"""Errors ``kehu addons new`` can meet: the name it is given and the folder it writes to."""

from core.exceptions import KehuError
from core.i18n import _


class InvalidAddonName(KehuError):
    message = _("“${name}” cannot name an addon: use 2 to 41 lowercase letters, digits or _, starting with a "
                "letter, and not ${reserved}.")


class TargetExists(KehuError):
    message = _("${path} already exists and was left untouched: choose another --path or remove it first.")
