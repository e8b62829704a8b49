"""Refusals of custom field definitions and values, each shown beside its field."""

from core.exceptions import KehuError
from core.i18n import _


class FieldLabelRequired(KehuError):
    message = _("Give the field a name of at most 100 characters.")


class FieldLabelTaken(KehuError):
    message = _("This record already has a field named “${label}”.")


class FieldKindUnknown(KehuError):
    message = _("Choose text, number, date or choice.")


class FieldKindFixed(KehuError):
    message = _("Records already hold values of this field: its kind cannot change.")


class FieldChoicesInvalid(KehuError):
    message = _("Give the choices one per line: at least one, at most 200, each at most 100 characters.")


class TooManyFields(KehuError):
    message = _("A record can have at most ${count} custom fields.")


class FieldModelUnknown(KehuError):
    http_status = 404
    message = _("Custom fields cannot be added to this kind of record.")


class CustomValueRequired(KehuError):
    message = _("${field} is required.")


class CustomValueInvalid(KehuError):
    message = _("${field}: ${problem}")
