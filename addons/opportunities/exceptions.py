"""Errors a user can meet while working with opportunities; views show each beside its field."""

from core.exceptions import KehuError
from core.i18n import _


class TitleRequired(KehuError):
    message = _("An opportunity needs a title.")


class AmountInvalid(KehuError):
    message = _("The amount must be a number of yuan from 0 to 999,999,999,999.99, e.g. 50000 or 1,200.50.")


class CloseDateInvalid(KehuError):
    message = _("The expected close date must be a date such as 2026-12-31.")


class ProbabilityInvalid(KehuError):
    message = _("The probability is a whole percentage from 0 to 100.")


class OpportunityFieldTooLong(KehuError):
    message = _("${field} is too long: at most ${limit} characters.")


class PipelineUnavailable(KehuError):
    http_status = 422
    message = _("That pipeline does not exist or is not offered to you.")


class StageNotInPipeline(KehuError):
    http_status = 422
    message = _("The stage “${stage}” belongs to another pipeline: choose one of “${pipeline}”.")


class LostReasonRequired(KehuError):
    message = _("Say why the opportunity was lost.")


class PipelineNameRequired(KehuError):
    message = _("A pipeline needs a name.")


class StageSetInvalid(KehuError):
    message = _("A pipeline needs at least one open stage, one won stage and one lost stage, each with a name "
                "and a probability from 0 to 100.")


class PipelineInUse(KehuError):
    http_status = 409
    message = _("The pipeline “${name}” still holds opportunities: move them first.")


class TargetInvalid(KehuError):
    message = _("A target is an amount of yuan from 0 up, for a month such as 2026-12.")


class ScoringWeightsInvalid(KehuError):
    message = _("Each weight is a whole number from 0 to 100, and at least one is above 0.")


class ImportCustomerUnknown(KehuError):
    message = _("No customer “${name}” that you may see: give its exact name or unified social credit code.")


class ImportCustomerAmbiguous(KehuError):
    message = _("“${name}” names ${count} customers: give the unified social credit code instead.")


class ImportStageUnknown(KehuError):
    message = _("“${stage}” is not a stage of the pipeline “${pipeline}”: choose one of ${stages}.")
