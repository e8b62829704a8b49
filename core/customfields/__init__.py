"""User-defined custom fields (自定义字段): an admin adds text, number, date or choice fields to
an addon's model (customers, leads …) without a migration; forms, the record page and the API
show them, list pages filter on them.

Values live in one core table, one row per record and field, with a typed column per kind and
an index leading with the field on each — so a filter on any custom field is an indexed lookup,
whatever the admin defines later. A model opts in by deriving from ``HasCustomFields``.
"""

from core.customfields.models import CustomField, CustomValue, HasCustomFields

__all__ = ["CustomField", "CustomValue", "HasCustomFields"]
