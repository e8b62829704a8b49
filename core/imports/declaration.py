"""``ImportSpec``: an addon declares an import once and gets the upload page, the column mapping
(remembered per user), the preview with per-row errors, the run as batch jobs and the report.

```python
class CustomerRow(BaseModel):                      # one row of mapped fields → cleaned data
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=100)
    mobile: str | None = Field(default=None, max_length=20)

CUSTOMERS_IMPORT = ImportSpec(                     # a module-level name (workers find it there)
    key="customers.customers", model=Customer, title=_("Customers"),
    fields=(ImportField("name", _("Name"), required=True, aliases=("客户名称", "company")),
            ImportField("mobile", _("Mobile"), aliases=("手机", "phone"))),
    schema=CustomerRow, create=import_customer, update=update_customer, key_fields=("name", "mobile"),
    list_route="customers.customers.list",
)
config.add_import(CUSTOMERS_IMPORT)                # in the addon's includeme
```

- ``create(ctx, data) -> record`` and ``update(ctx, record, data) -> record`` call the addon's
  services (permissions, rules, audit); ``ctx`` acts as the importing user. ``data`` is the
  schema's output: all fields for ``create``, only the cells the row fills for ``update`` (an
  empty cell leaves the field as it is). A refusal is a ``KehuError``: it becomes the row's
  reason in the errors file, and the rest of the batch goes on.
- Validation messages: pydantic's common errors (missing, too long, not a number, not a date…)
  are shown in the reader's language; a validator may ``raise ValueError(_("…"))`` with a
  translation string of its own.
- ``key_fields``: the fields a user may pick to find existing records — to update them, or
  (create only) to skip rows whose record exists. Lookups run inside the user's scope.
- Permissions: ``<access_key>:create`` to create, ``<access_key>:write`` to update; the services
  check them again, row by row.
- ``extra_fields(ctx) -> [ImportField, ...]``: fields known only at run time (an admin's custom
  fields, ``core.customfields.imports``). Each checks its own cell with ``parse`` (not the
  schema); its value reaches ``create``/``update`` in ``data`` under its name, beside the
  schema's. ``spec.for_ctx(ctx)`` is the spec as one request or batch sees it: the mapping,
  the preview, the template and the run all use it.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel
from pyramid.exceptions import ConfigurationError
from pyramid.i18n import TranslationString
from sqlalchemy import inspect as sa_inspect

from core.context import Ctx

Label = str | TranslationString
KEY = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


@dataclasses.dataclass(frozen=True)
class ImportField:
    """A field a column of the file can be mapped to. ``aliases`` are header texts that map to
    it without asking (besides its name and its label in every language)."""

    name: str
    label: Label
    required: bool = False
    aliases: tuple[str, ...] = ()
    #: A field outside the schema (``extra_fields``): the cell's text → its value; raises a
    #: ``KehuError`` or ``ValueError(_("…"))``, which becomes the row's problem.
    parse: Callable[[str], Any] | None = None


@dataclasses.dataclass(frozen=True)
class ImportSpec:
    key: str
    model: type
    title: Label
    fields: tuple[ImportField, ...]
    schema: type[BaseModel]
    create: Callable[[Ctx, dict[str, Any]], Any]
    update: Callable[[Ctx, Any, dict[str, Any]], Any] | None = None
    key_fields: tuple[str, ...] = ()
    #: The list page the report links back to (when that route exists).
    list_route: str | None = None
    #: A hint under the upload field: what the file should hold.
    help: Label = ""
    #: One example row of the downloadable template, by field name (plain text, never translated).
    example: Mapping[str, str] | None = None
    #: The fields defined at run time (see the module's docstring); ``for_ctx`` adds them.
    extra_fields: Callable[[Ctx], Sequence[ImportField]] | None = None
    #: The declared spec a ``for_ctx`` copy comes from (workers find that one by its module name).
    declared: ImportSpec | None = dataclasses.field(default=None, compare=False, repr=False)

    def for_ctx(self, ctx: Ctx) -> ImportSpec:
        """The spec with this moment's extra fields (those whose name a declared field has are
        left out); the spec itself when it has none."""
        if self.extra_fields is None:
            return self
        taken = set(self.field_names)
        added = []
        for field in self.extra_fields(ctx):
            if field.parse is not None and field.name not in taken:
                taken.add(field.name)
                added.append(field)
        return dataclasses.replace(self, fields=self.fields + tuple(added), extra_fields=None,
                                   declared=self.declared or self)

    @property
    def access_key(self) -> str:
        return self.model.access_key  # type: ignore[attr-defined, no-any-return]

    @property
    def addon(self) -> str:
        """The owning addon: the first part of the model's access key (``scoped.note`` → ``scoped``)."""
        return self.access_key.split(".")[0]

    def field(self, name: str) -> ImportField:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(name)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def check(self) -> None:
        """Refuse a declaration that could not work, at start-up rather than at the first import."""
        problems = list(_problems(self))
        if problems:
            raise ConfigurationError(f"import {self.key!r}: " + "; ".join(problems))


def _problems(spec: ImportSpec) -> Any:
    if not KEY.match(spec.key):
        yield "the key is '<addon>.<name>' in lowercase letters, digits and '_'"
    access_key = getattr(spec.model, "access_key", None)
    if not isinstance(access_key, str) or "." not in access_key:
        yield "the model needs an access_key '<addon>.<model>' (derive it from core.access.scopes.Owned)"
        return
    if spec.key.split(".")[0] != spec.addon:
        yield f"the key must start with the model's addon {spec.addon!r}"
    names = [f.name for f in spec.fields]
    if not names:
        yield "declare at least one field"
    if len(set(names)) != len(names):
        yield "two fields share a name"
    if spec.schema.model_config.get("extra") != "forbid":
        yield "the schema must set model_config extra='forbid'"
    for field in spec.fields:
        if field.name not in spec.schema.model_fields and field.parse is None:
            yield f"field {field.name!r} is not in the schema and has no parse"
    for name, info in spec.schema.model_fields.items():
        if info.is_required() and name not in names:
            yield f"the schema requires {name!r}, which is no field of the import"
    columns = sa_inspect(spec.model).local_table.columns
    for name in spec.key_fields:
        if name not in names:
            yield f"key field {name!r} is not a field of the import"
        elif name not in columns:
            yield f"key field {name!r} is not a column of {spec.model.__name__}"
    if spec_reference(spec) is None:
        yield ("declare the ImportSpec as a module-level name in the module of its schema, create or update "
               "function (workers find it there)")


def spec_reference(spec: ImportSpec) -> str | None:
    """``"package.module:NAME"``: where a worker process, which builds no web app, finds the spec
    again. Looked for in the modules of the schema and of the create/update functions."""
    spec = spec.declared or spec
    candidates = [spec.schema.__module__, getattr(spec.create, "__module__", None),
                  getattr(spec.update, "__module__", None)]
    for module_name in dict.fromkeys(c for c in candidates if c):
        module = importlib.import_module(module_name)
        for name, value in vars(module).items():
            if value is spec:
                return f"{module_name}:{name}"
    return None


def resolve_spec(reference: str, key: str) -> ImportSpec | None:
    """The spec a job's payload names, or None if it is gone (or is another import's)."""
    module_name, _sep, name = reference.partition(":")
    try:
        value = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError, ValueError):
        return None
    return value if isinstance(value, ImportSpec) and value.key == key else None
