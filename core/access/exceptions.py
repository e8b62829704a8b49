from core.exceptions import KehuError
from core.i18n import _


class PermissionDenied(KehuError):
    """403: the user lacks a permission (never used for a record outside the scope: that is a 404)."""

    message = _("You do not have the permission “${permission}”.")


class RecordNotFound(KehuError):
    """404 for a record that does not exist *or* is outside the user's scope: ids are not probeable."""

    message = _("The record does not exist, or you have no access to it.")


class UnknownPermission(KehuError):
    message = _("There is no permission named “${permission}”.")


class UnknownScope(KehuError):
    message = _("Unknown record scope “${scope}”.")


class LastAdministrator(KehuError):
    message = _("At least one active administrator must remain.")


class BuiltinRole(KehuError):
    message = _("The built-in role “${name}” cannot be deleted.")


class RoleInUse(KehuError):
    message = _("The role “${name}” is still given to ${count} user(s).")


class RoleKeyTaken(KehuError):
    message = _("A role with the key “${key}” already exists.")


class InvalidRoleKey(KehuError):
    message = _("A role key is 2–64 lowercase letters, digits or underscores.")


class UnknownRole(KehuError):
    message = _("No role with the key “${key}”.")
