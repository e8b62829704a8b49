"""Custom fields in an addon's import: one column per active field of the model, found by its
label (or its name, ``cf_<id>``), each cell checked by ``parse_value`` like the form's input.

```python
CUSTOMERS_IMPORT = ImportSpec(..., extra_fields=custom_import_fields(Customer))

def create_customer(ctx, data):
    custom = pop_custom(data)                      # {cf_<id>: value} out of the row's data
    customer = services.create_customer(ctx, **data)
    set_values(ctx, customer, custom, creating=True)
```

The fields are read when the import's pages or a batch ask (``ImportSpec.for_ctx``), since an
admin adds and retires them at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.customfields.exceptions import CustomValueInvalid
from core.customfields.services import FieldDef, fields_for, parse_value
from core.imports.declaration import ImportField

PREFIX = "cf_"


def custom_import_fields(model: type) -> Callable[[Any], tuple[ImportField, ...]]:
    """``ImportSpec.extra_fields`` for ``model``: an ``ImportField`` per active custom field, in
    the admin's order, required as on the form."""

    def extra_fields(ctx: Any) -> tuple[ImportField, ...]:
        return tuple(ImportField(field.name, field.label, required=field.required, parse=_parser(field))
                     for field in fields_for(ctx, model))

    return extra_fields


def _parser(field: FieldDef) -> Callable[[str], Any]:
    def parse(cell: str) -> Any:
        try:
            return parse_value(field, cell)
        except CustomValueInvalid as refused:  # the row names the file's own column: the problem alone
            raise ValueError(refused.params["problem"]) from None

    return parse


def pop_custom(data: dict[str, Any]) -> dict[str, Any]:
    """Take the custom field values (``cf_<id>``) out of an import row's ``data``: the rest goes
    to the addon's service, these to ``set_values``."""
    return {name: data.pop(name) for name in [key for key in data if key.startswith(PREFIX)]}
