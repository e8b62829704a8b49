"""Errors a user can meet while working with leads; views show each beside its field."""

from addons.customers.exceptions import TooManyTags
from core.exceptions import KehuError
from core.i18n import _


class LeadNameRequired(KehuError):
    message = _("A lead needs a name (the company or the person).")


class StatusUnknown(KehuError):
    message = _("“${status}” is not a lead status.")


class BudgetInvalid(KehuError):
    message = _("The expected budget must be an amount of yuan from 0 to 999,999,999,999.99.")


class LeadConverted(KehuError):
    """L4: a converted lead is kept as it was, linked to its customer."""

    http_status = 409
    message = _("“${name}” was converted into a customer and can no longer be changed.")


class LeadAlreadyClaimed(KehuError):
    http_status = 409
    message = _("“${name}” is no longer in the pool (owner: ${owner}).")


class LeadPoolUnavailable(KehuError):
    http_status = 404
    message = _("This lead pool does not exist or is not open to you.")


class LeadClaimLimitDaily(KehuError):
    http_status = 409
    message = _("You may claim at most ${limit} leads a day from the pool “${pool}”; you have claimed "
                "${claimed} today, so you can claim ${left} more.")


class LeadClaimLimitOpen(KehuError):
    http_status = 409
    message = _("You may work at most ${limit} open leads from the pool “${pool}”; you have ${open}, "
                "so you can claim ${left} more.")


class LeadReturnReasonRequired(KehuError):
    message = _("Say why the lead goes back to the pool.")


class LeadInPool(KehuError):
    http_status = 409
    message = _("“${name}” is already in a pool.")


class LeadPoolNameRequired(KehuError):
    message = _("A lead pool needs a name.")


class LeadPoolLimitInvalid(KehuError):
    message = _("Limits and days must be whole numbers from 1 to 10,000, or empty for none.")


class LeadPoolInUse(KehuError):
    http_status = 409
    message = _("The pool “${pool}” still holds ${count} leads, or it is the last active pool: it stays active.")


class LeadFieldTooLong(KehuError):
    message = _("${field} may be at most ${limit} characters long.")


class LeadNotQualified(KehuError):
    """L4: only a qualified lead converts (a disqualified one is reopened first)."""

    http_status = 409
    message = _("“${name}” is not qualified yet: mark it qualified before converting it.")


class LeadClaimRefused(KehuError):
    """A batch claim is all or nothing: the API lists what stops each lead beside this."""

    http_status = 409
    message = _("None of the ${count} leads was claimed: each problem is listed.")


class RuleNameRequired(KehuError):
    message = _("An assignment rule needs a name (at most 100 characters).")


class RuleStrategyUnknown(KehuError):
    message = _("Choose how the rule assigns (“${strategy}” is not a strategy).")


class RuleTargetMissing(KehuError):
    message = _("The rule needs an active user to assign to, or a department whose people take turns.")


class RuleConditionInvalid(KehuError):
    message = _("The condition on “${field}” is not valid: a known field, an operator and a value.")


class LeadOwnerAndPool(KehuError):
    message = _("A lead in a pool has no owner: fill in the owner or the lead pool, not both.")


class LeadDuplicate(KehuError):
    """查重 refused the row: ``kind`` (客户, 线索, 线索池线索 …), the name as the importer may see
    it, why it matches and its owner."""

    http_status = 409
    message = _("Already in Kehu: ${kind} “${name}” (${reason}, owner: ${owner}).")


class AssigneeWeightInvalid(KehuError):
    message = _("The weight must be a whole number from 1 to 10.")


class AssigneeHoursInvalid(KehuError):
    message = _("Working hours need a start and an end on the same day, the end after the start "
                "(e.g. 09:00 to 18:00), or neither.")


class AssigneeAwayInvalid(KehuError):
    message = _("“On leave until” must be a date, e.g. 2025-10-01, or empty.")


class TooManyLeadTags(TooManyTags):
    """The customers' refusal (same limit, same handling), worded for a lead."""

    message = _("A lead has at most ${limit} tags.")


class NurtureDaysInvalid(KehuError):
    message = _("Nurture every: a whole number of days from 1 to 365, or empty.")
