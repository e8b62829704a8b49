"""``ApiResource``: an addon declares a resource once and gets ``/api/v1/<name>`` (list, get,
create, PATCH, delete) and its part of the OpenAPI document, both from the same pydantic models.

```python
config.add_api_resource(ApiResource(
    name="notes", model=Note,                       # an Owned model: its access_key names permissions
    read_schema=NoteRead, create_schema=NoteCreate, update_schema=NoteUpdate,
    create=api_create_note, update=api_update_note, delete=api_delete_note,   # the addon's services
    filters={"owner_id": "owner_id"}, search=("title",), sort=("id", "title", "updated_at"),
))
```

Reads go through the record scope (``scoped_select``/``get_in_scope``) and leave through
masking (``record_values``); writes go through the addon's services, so their rules,
permission checks and audit entries hold for the API exactly as for the pages.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError
from sqlalchemy import BigInteger, Boolean, Date, DateTime, Enum, Integer, SmallInteger, String
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.sql.schema import Column
from sqlalchemy.types import TypeDecorator, TypeEngine

from core.access.masking import record_values, sensitive_columns
from core.api.actions import ActionView, ApiAction
from core.context import Ctx

API_PREFIX = "/api/v1"
RESOURCES_KEY = "kehu.api_resources"
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
FILTER_TYPES = (String, Integer, SmallInteger, BigInteger, Boolean, Date, DateTime)


@dataclasses.dataclass(frozen=True)
class ApiResource:
    """One resource of the JSON API.

    - ``read_schema`` lists the fields a response carries (masked per reader); sensitive fields
      must be typed ``str`` there, since a masked value is text.
    - ``create_schema``/``update_schema`` validate request bodies; declare them with
      ``model_config = ConfigDict(extra="forbid")`` and ``max_length`` on every string (the
      declaration is refused otherwise). Update fields are optional: PATCH sends only changes.
    - ``create(ctx, data) -> record``, ``update(ctx, record, data) -> record | None``,
      ``delete(ctx, record)`` call the addon's services. Without ``create`` there is no POST, and
      so on.
    - ``filters`` maps a query parameter to a column (equality); ``search`` names the text
      columns ``q`` looks in; ``sort`` the fields a list may be sorted by (non-null, not
      sensitive).
    - ``actions``: operations beyond these five (``core.api.actions.ApiAction``).
    - ``read_scope(ctx)``: the WHERE clause of the records the caller may read (list and get),
      for records visible beyond their own owner's scope (a follow-up to whoever sees its
      customer); it must require the read permission itself. Default: ``scope_condition``.
      Changes keep the record's own scope.
    - ``extra_fields``/``load_extra``: read fields that are not the model's own attributes (an
      addon's tags, custom field values), loaded for a whole response at once by
      ``load_extra(ctx, records) -> {record id: {field: value}}``, so a list of 200 costs the same
      few queries as a list of 1.
    """

    name: str
    model: type
    read_schema: type[BaseModel]
    create_schema: type[BaseModel] | None = None
    update_schema: type[BaseModel] | None = None
    create: Callable[[Ctx, dict[str, Any]], Any] | None = None
    update: Callable[[Ctx, Any, dict[str, Any]], Any] | None = None
    delete: Callable[[Ctx, Any], None] | None = None
    filters: Mapping[str, str] = dataclasses.field(default_factory=dict)
    search: tuple[str, ...] = ()
    sort: tuple[str, ...] = ("id",)
    default_sort: str = "id"
    description: str = ""
    actions: tuple[ApiAction, ...] = ()
    read_scope: Callable[[Ctx], Any] | None = None
    extra_fields: tuple[str, ...] = ()
    load_extra: Callable[[Ctx, Sequence[Any]], Mapping[int, Mapping[str, Any]]] | None = None

    @property
    def access_key(self) -> str:
        return self.model.access_key  # type: ignore[attr-defined, no-any-return]

    @property
    def addon(self) -> str:
        """The owning addon: the first part of the access key (``scoped.note`` → ``scoped``)."""
        return self.access_key.split(".")[0]

    @property
    def collection_route(self) -> str:
        return f"api.{self.addon}.{self.name}.collection"

    @property
    def item_route(self) -> str:
        return f"api.{self.addon}.{self.name}.item"

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.read_schema.model_fields)

    def readable(self, ctx: Ctx) -> Any:
        """``SELECT model`` limited to what the caller may read (``read_scope`` or the owner scope)."""
        from sqlalchemy import select

        from core.access.scopes import scoped_select

        if self.read_scope is None:
            return scoped_select(ctx, self.model)
        return select(self.model).where(self.read_scope(ctx))

    def get_readable(self, ctx: Ctx, record_id: int) -> Any:
        """The record if the caller may read it, else RecordNotFound (404)."""
        from core.access.exceptions import RecordNotFound

        record = ctx.dbsession.scalar(self.readable(ctx).where(self.model.id == record_id))  # type: ignore[attr-defined]
        if record is None:
            raise RecordNotFound()
        return record

    def read_values(self, ctx: Ctx, records: Sequence[Any]) -> list[dict[str, Any]]:
        """The records as this reader may see them (masked), their extra fields loaded in one
        call, each shaped by the read schema: every response that carries records uses this."""
        own = [field for field in self.fields if field not in self.extra_fields]
        extra = self.load_extra(ctx, records) if self.load_extra is not None and records else {}
        found = []
        for record in records:
            values = record_values(ctx, record, own)
            values.update(extra.get(record.id, {}))
            found.append(self.read_schema.model_validate(values).model_dump(mode="json"))
        return found

    def column(self, name: str) -> Column:
        return self.model.__table__.columns[name]  # type: ignore[attr-defined, no-any-return]

    def check(self) -> None:
        """Refuse a declaration that could not work, at start-up rather than at the first request."""
        problems = list(_problems(self))
        if problems:
            raise ConfigurationError(f"API resource {self.name!r}: " + "; ".join(problems))


def column_type(column: Column) -> TypeEngine:
    """The column's SQL type, seen through a TypeDecorator (``UTCDateTime`` is a ``DateTime``)."""
    kind = column.type
    return kind.impl_instance if isinstance(kind, TypeDecorator) else kind


def _problems(resource: ApiResource) -> Any:
    if not NAME.match(resource.name):
        yield "the name is 1-63 lowercase letters, digits, '_' or '-'"
    model = resource.model
    if not isinstance(getattr(model, "access_key", None), str) or "." not in model.access_key:
        yield "the model needs an access_key '<addon>.<model>' (derive it from core.access.scopes.Owned)"
        return
    columns = sa_inspect(model).local_table.columns
    for needed in ("id", "updated_at", "owner_id"):
        if needed not in columns:
            yield f"the model has no {needed!r} column (derive it from core.db.Model and Owned)"
    attributes = set(sa_inspect(model).all_orm_descriptors.keys())
    for field in resource.read_schema.model_fields:
        if field not in attributes and field not in resource.extra_fields:
            yield f"read_schema field {field!r} is not an attribute of {model.__name__}"
    if bool(resource.extra_fields) != (resource.load_extra is not None):
        yield "extra_fields and load_extra go together"
    for field in resource.extra_fields:
        if field not in resource.read_schema.model_fields or field == "id":
            yield f"extra field {field!r} is not a read_schema field (other than 'id')"
    if "id" not in resource.read_schema.model_fields:
        yield "read_schema must include 'id'"
    sensitive = sensitive_columns(model)
    for param, column in resource.filters.items():
        if not NAME.match(param) or param in RESERVED_PARAMETERS:
            yield f"filter parameter {param!r} is not a valid name or is reserved"
        if column not in columns:
            yield f"filter {param!r} names no column {column!r}"
        elif not isinstance(column_type(columns[column]), FILTER_TYPES) or \
                isinstance(column_type(columns[column]), Enum):
            yield f"filter {param!r}: only text, integer, boolean, date and date-time columns can be filtered"
    for column in resource.search:
        if column not in columns or not isinstance(column_type(columns[column]), String):
            yield f"search column {column!r} is not a text column"
    if resource.default_sort not in resource.sort:
        yield f"default_sort {resource.default_sort!r} is not among sort"
    for column in resource.sort:
        if column not in columns:
            yield f"sort field {column!r} is not a column"
        elif columns[column].nullable:
            yield f"sort field {column!r} is nullable: keyset pagination needs non-null sort keys"
        elif column in sensitive:
            yield f"sort field {column!r} is sensitive: its order would reveal masked values"
    for kind, schema, hook in (("create", resource.create_schema, resource.create),
                               ("update", resource.update_schema, resource.update)):
        if (schema is None) != (hook is None):
            yield f"{kind}_schema and {kind} go together"
        if schema is not None:
            yield from schema_problems(f"{kind}_schema", schema)
    seen = set()
    for action in resource.actions:
        if (action.on, action.name) in seen:
            yield f"action {action.name!r} is declared twice"
        seen.add((action.on, action.name))
        yield from action.problems(resource)


def schema_problems(label: str, schema: type[BaseModel]) -> Any:
    """A request model must refuse unknown fields and bound every text."""
    if schema.model_config.get("extra") != "forbid":
        yield f"{label} must set model_config extra='forbid' (unknown fields are refused)"
    for field, info in schema.model_fields.items():
        if _is_text(info.annotation) and not any(getattr(m, "max_length", None) for m in info.metadata):
            yield f"{label} field {field!r} needs a max_length"


def _is_text(annotation: Any) -> bool:
    return annotation is str or (get_origin(annotation) in (Union, UnionType) and str in get_args(annotation))


#: Query parameters of every list; a filter cannot take these names.
RESERVED_PARAMETERS = frozenset({"limit", "cursor", "sort", "q"})


def registered_resources(registry: Any) -> dict[str, ApiResource]:
    return registry.setdefault(RESOURCES_KEY, {})  # type: ignore[no-any-return]


def add_api_resource(config: Configurator, resource: ApiResource) -> None:
    """The ``config.add_api_resource(resource)`` directive: routes ``api.<addon>.<name>.collection``
    (``/api/v1/<name>``) and ``.item`` (``/api/v1/<name>/{id}``), those of its actions, their views,
    and the resource's place in the OpenAPI document. Two resources with one name fail at start-up."""
    from core.api.views import ResourceViews

    resource.check()
    views = ResourceViews(resource)
    collection, item = resource.collection_route, resource.item_route
    for action in resource.actions:  # first: /<name>/claim must not be taken for /<name>/{id}
        action_view = ActionView(resource, action)
        route = action.route_name(resource)
        config.add_route(route, API_PREFIX + action.pattern(resource))
        config.add_view(action_view, route_name=route, request_method=action.method,
                        permission=action.full_permission(resource))
        config.add_view(action_view.method_not_allowed, route_name=route, require_csrf=False)
    config.add_route(collection, f"{API_PREFIX}/{resource.name}")
    config.add_route(item, f"{API_PREFIX}/{resource.name}/{{id}}")
    key = resource.access_key
    config.add_view(views.list, route_name=collection, request_method="GET", permission=f"{key}:read")
    config.add_view(views.get, route_name=item, request_method="GET", permission=f"{key}:read")
    if resource.create is not None:
        config.add_view(views.create, route_name=collection, request_method="POST", permission=f"{key}:create")
    if resource.update is not None:
        config.add_view(views.patch, route_name=item, request_method="PATCH", permission=f"{key}:write")
    if resource.delete is not None:
        config.add_view(views.delete, route_name=item, request_method="DELETE", permission=f"{key}:delete")
    # Any other method: 405 with Allow (views with a request_method predicate are tried first).
    config.add_view(views.method_not_allowed, route_name=collection, require_csrf=False)
    config.add_view(views.method_not_allowed, route_name=item, require_csrf=False)

    def register() -> None:
        registered_resources(config.registry)[resource.name] = resource

    intr = config.introspectable("kehu api resources", resource.name, f"{API_PREFIX}/{resource.name}",
                                 "kehu api resource")
    intr["resource"] = resource
    config.action(("kehu.api_resource", resource.name), register, introspectables=(intr,))
