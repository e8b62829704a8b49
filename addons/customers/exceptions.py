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


class CustomerInRecycleBin(KehuError):
    """The same company was deleted less than 30 days ago: restoring it keeps its contacts and
    history, where a new record would start from nothing."""

    http_status = 409
    message = _("A customer named “${name}” is in the recycle bin: restore it instead.")


class NotInRecycleBin(KehuError):
    http_status = 404
    message = _("This customer is not in the recycle bin (it was restored or purged).")


class PlanClosed(KehuError):
    """A plan already done or cancelled cannot be moved, done or cancelled again."""

    http_status = 409
    message = _("This follow-up plan is already done or cancelled.")


class DueRequired(KehuError):
    message = _("Give the date and time of the next follow-up.")


class ChoiceUnavailable(KehuError):
    """A source, level or industry that is not (or no longer) on the administrator's list; a
    customer keeps a value deactivated later, but nobody sets it anew."""

    message = _("“${value}” is not on the list of ${field}; choose one of the list or ask an administrator.")


class SourceUnavailable(ChoiceUnavailable):
    pass


class LevelUnavailable(ChoiceUnavailable):
    pass


class IndustryUnavailable(ChoiceUnavailable):
    pass


class ChoiceValueInvalid(KehuError):
    message = _("A value is 1 to ${limit} characters, not already on this list.")


class TagNameInvalid(KehuError):
    message = _("A tag is 1 to ${limit} characters: “${name}” is not.")


class TooManyTags(KehuError):
    message = _("A customer has at most ${limit} tags.")


class ProvinceUnknown(KehuError):
    message = _("“${name}” is not a province of China.")


class CityNotInProvince(KehuError):
    message = _("“${name}” is not a city of ${province}.")


class DistrictNotInCity(KehuError):
    message = _("“${name}” is not a district of ${city}.")


class RegionIncomplete(KehuError):
    message = _("Choose the province before the city, and the city before the district.")


class HandoverNotNeeded(KehuError):
    """申请转移 of a pool customer (claim it instead) or of one's own customer."""

    http_status = 409
    message = _("This customer needs no handover: it is yours, or it is in the public pool to be claimed.")


class HandoverAlreadyRequested(KehuError):
    http_status = 429
    message = _("You already asked for this customer today; ${owner} has been told.")


class MergeIntoItself(KehuError):
    message = _("Choose two different customers to merge.")


class ClaimRefused(KehuError):
    """A batch claim is all or nothing: the API lists what stops each customer beside this."""

    http_status = 409
    message = _("None of the ${count} customers was claimed: each problem is listed.")


class OwnerIsNotAMember(KehuError):
    message = _("The owner already has the customer: choose someone else for the team.")


class LockLimitReached(KehuError):
    """锁定 beyond the pool's most locked customers per person (D-CAP)."""

    http_status = 409
    message = _("${owner} may lock at most ${limit} customers of the pool “${pool}” and has locked ${locked}.")


class NotLockable(KehuError):
    """Only an owned customer is locked: a pool customer has nobody to keep it."""

    http_status = 409
    message = _("“${name}” has no owner: only an owned customer can be locked.")


class PoolRuleInvalid(KehuError):
    message = _("Days for level “${level}” must be whole numbers from 0 to 3650.")


class PoolLevelUnknown(KehuError):
    message = _("“${level}” is not a customer level; choose one of the list of levels.")


class NotPoolManager(KehuError):
    http_status = 403
    message = _("Only a manager of the pool “${pool}” may assign its customers.")


class AssigneeNotMember(KehuError):
    http_status = 409
    message = _("${user} is not a member of the pool “${pool}”: choose one of its members.")


class AssigneeInactive(KehuError):
    http_status = 409
    message = _("This user is disabled or does not exist: choose an active colleague.")


class PoolNotFound(KehuError):
    """An import row names a pool that is not there, inactive, or not one of the importer's."""

    message = _("There is no active pool named “${name}” open to you.")


class CustomerToImportUnknown(KehuError):
    message = _("No customer “${name}” that you may change: check the name or the credit code.")


class OwnerUnknown(KehuError):
    message = _("No user is called “${name}”: give their username, e-mail or name.")


class OwnerAmbiguous(KehuError):
    message = _("${count} users are called “${name}”: give the username or e-mail instead.")


class OwnerInactive(KehuError):
    message = _("“${name}” is disabled and cannot own customers.")


class OwnerAndPool(KehuError):
    message = _("A customer in a pool has no owner: fill in the owner or the pool, not both.")
