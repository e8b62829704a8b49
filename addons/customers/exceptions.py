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


class AlreadyClaimed(KehuError):
    """D-CLAIM: someone else claimed it first (or it never was in the pool); who has it is named."""

    http_status = 409
    message = _("“${name}” is no longer in the pool (owner: ${owner}).")


class ClaimLimitOwned(KehuError):
    http_status = 409
    message = _("You may own at most ${limit} customers from the pool “${pool}”; you own ${owned}, "
                "so you can claim ${left} more.")


class ClaimLimitDaily(KehuError):
    http_status = 409
    message = _("You may claim at most ${limit} customers a day from the pool “${pool}”; you have claimed "
                "${claimed} today, so you can claim ${left} more.")


class ReclaimBlocked(KehuError):
    http_status = 409
    message = _("You returned “${name}” less than ${days} days ago; you may claim it again from ${until}.")


class ReasonRequired(KehuError):
    message = _("Say why the customer goes back to the pool.")


class PoolUnavailable(KehuError):
    http_status = 404
    message = _("This pool does not exist or is not open to you.")


class AlreadyInPool(KehuError):
    http_status = 409
    message = _("“${name}” is already in a pool.")
