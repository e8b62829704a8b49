from core.exceptions import KehuError
from core.i18n import _


class InvalidLogin(KehuError):
    message = _("Wrong username or password.")


class UsernameTaken(KehuError):
    message = _("The username “${username}” is already taken.")


class InvalidUsername(KehuError):
    message = _("A username is 2–64 letters, digits, dots, dashes or underscores.")


class WeakPassword(KehuError):
    message = _("A password needs at least ${min_length} characters.")


class CommonPassword(KehuError):
    message = _("This password is too common or contains the username: choose another.")


class LoginLocked(KehuError):
    message = _("Too many failed sign-ins. Try again in ${minutes} minute(s).")


class InvalidTotpCode(KehuError):
    message = _("The verification code is wrong or has expired.")


class TotpAlreadyEnabled(KehuError):
    message = _("Two-factor sign-in is already on. Turn it off first to set up a new device.")


class WrongPassword(KehuError):
    message = _("Your current password is wrong.")


class UserNotFound(KehuError):
    message = _("No user named “${username}”.")


class UnknownTimezone(KehuError):
    message = _("Unknown time zone: ${timezone}.")
