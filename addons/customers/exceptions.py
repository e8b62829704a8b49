"""Errors a user can meet while working with customers; views show each beside its field."""

from core.exceptions import KehuError
from core.i18n import _


class CustomerNameTaken(KehuError):
    """The normalised name is another customer's: one company, one record (D-UNIQUE). The owner
    is named so that the user knows whom to ask, and nothing else of that customer is shown."""

    http_status = 409
    message = _("A customer named “${name}” already exists (owner: ${owner}).")


class CreditCodeInvalid(KehuError):
    message = _("“${code}” is not a valid unified social credit code.")


class CreditCodeTaken(KehuError):
    http_status = 409
    message = _("The unified social credit code “${code}” belongs to an existing customer (owner: ${owner}).")


class MobileInvalid(KehuError):
    message = _("“${number}” is not a mainland mobile number.")


class NameRequired(KehuError):
    message = _("A name is required.")


class ContentRequired(KehuError):
    message = _("Write what was said or done.")


class UnknownChoice(KehuError):
    message = _("“${value}” is not a valid ${field}.")
