"""``ApiAction``: an operation of a resource beyond list/get/create/PATCH/delete — a verb that
is not a field change (assign, claim, release) or a question that is not a list (duplicates).

```python
ApiResource(name="customers", ..., actions=(
    ApiAction("assign", assign, params=AssignBody, response=CustomerRead,        # POST /customers/{id}/assign
              errors=(UnknownChoice,)),
    ApiAction("claim", claim, on="collection", params=ClaimBody, response=Claimed,  # POST /customers/claim
              permission="customers.pool:claim", errors=(AlreadyClaimed, ClaimLimitOwned)),
    ApiAction("duplicates", find, on="collection", method="GET", params=DuplicateQuery, response=Found),
))
```

Actions are declared on their resource, so ``add_api_resource`` registers their routes before
the item route (``/customers/claim`` is not read as ``/customers/{id}``) and the OpenAPI
document lists them, with the errors they may answer, under the resource's tag.

The view parses (the JSON body of a POST or the query parameters of a GET, validated by
``params``), finds an item action's record within the caller's scope for ``scope`` (404
otherwise; locked on PostgreSQL for a POST), calls ``handler`` — which calls the addon's
services, where the rules live — and shapes the answer with ``response`` (no ``response``:
204). Errors leave as ``application/problem+json`` like everywhere under ``/api/``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pyramid.request import Request
from pyramid.response import Response

from core.api.bodies import database_errors, json_response, validated_body
from core.api.exceptions import MethodNotAllowed
from core.exceptions import KehuError

if TYPE_CHECKING:
    from core.api.resources import ApiResource

KINDS = ("item", "collection")
METHODS = ("GET", "POST")


@dataclasses.dataclass(frozen=True)
class ApiAction:
    """One action of a resource.

    - ``on="item"``: ``<METHOD> /api/v1/<resource>/{id}/<name>``, ``handler(ctx, record, params)``;
      ``on="collection"``: ``<METHOD> /api/v1/<resource>/<name>``, ``handler(ctx, params)``.
      ``params`` is the validated ``params`` model (None without one).
    - ``permission``: the view's permission, ``<access_key>:<permission>`` or a full name with a
      colon (``customers.pool:claim``). ``scope``: the action the record must be in the caller's
      scope for (item actions).
    - ``response``: the answer's model (the handler returns an instance, or a mapping/object it
      validates); None answers 204 No Content.
    - ``errors``: the ``KehuError`` classes the handler may raise, listed in the OpenAPI document
      with their status, code and message.
    """

    name: str
    handler: Callable[..., Any]
    on: str = "item"
    method: str = "POST"
    params: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    permission: str = "write"
    scope: str = "write"
    errors: tuple[type[KehuError], ...] = ()
    summary: str = ""
    status: int = 200

    def route_name(self, resource: ApiResource) -> str:
        return f"api.{resource.addon}.{resource.name}.{self.on}.{self.name}"

    def pattern(self, resource: ApiResource) -> str:
        """The path under the API prefix: ``/<resource>/{id}/<name>`` or ``/<resource>/<name>``."""
        return f"/{resource.name}/{{id}}/{self.name}" if self.on == "item" else f"/{resource.name}/{self.name}"

    def full_permission(self, resource: ApiResource) -> str:
        return self.permission if ":" in self.permission else f"{resource.access_key}:{self.permission}"

    def problems(self, resource: ApiResource) -> Any:
        """What makes the declaration unusable (``ApiResource.check`` reports them at start-up)."""
        from core.api.resources import NAME, schema_problems

        label = f"action {self.name!r}"
        if not NAME.match(self.name) or self.name.isdigit():
            yield f"{label}: the name is 1-63 lowercase letters, digits, '_' or '-', not a number"
        if self.on not in KINDS:
            yield f"{label}: on is 'item' or 'collection'"
        if self.method not in METHODS:
            yield f"{label}: method is GET or POST"
        if self.method == "GET" and self.response is None:
            yield f"{label}: a GET action needs a response model"
        if self.params is not None:
            yield from (f"{label}: {problem}" for problem in schema_problems("params", self.params))
        if self.response is None and self.status != 204:
            yield f"{label}: without a response model the status is 204"
        for error in self.errors:
            if not (isinstance(error, type) and issubclass(error, KehuError)):
                yield f"{label}: errors lists KehuError classes"


class ActionView:
    """The view of one action; ``add_api_resource`` registers it."""

    def __init__(self, resource: ApiResource, action: ApiAction) -> None:
        self.resource = resource
        self.action = action

    def __call__(self, request: Request) -> Response:
        from core.api.views import load_for_change, record_id

        action, ctx = self.action, request.ctx
        params = self.params(request)
        with database_errors():
            if action.on == "item":
                if action.method == "POST":
                    record = load_for_change(ctx, self.resource, record_id(request), action.scope)
                else:
                    record = self._readable(ctx, record_id(request))
                result = action.handler(ctx, record, params)
            else:
                result = action.handler(ctx, params)
            ctx.dbsession.flush()
        if action.response is None:
            return Response(status=204)
        body = action.response.model_validate(result, from_attributes=True).model_dump(mode="json")
        return json_response(body, status=action.status)

    def _readable(self, ctx: Any, record_id: int) -> Any:
        """A GET item action's record: readable (``read_scope``), or in the scope of ``scope``."""
        from core.access.scopes import get_in_scope

        if self.action.scope == "read":
            return self.resource.get_readable(ctx, record_id)
        return get_in_scope(ctx, self.resource.model, record_id, self.action.scope)

    def params(self, request: Request) -> BaseModel | None:
        """The body (POST) or the query parameters (GET), validated; 4xx before any service runs."""
        from core.api.lists import query_parameters

        schema = self.action.params
        if self.action.method == "POST":
            return validated_body(request, schema) if schema is not None else None
        allowed = set(schema.model_fields) if schema is not None else set()
        raw = query_parameters(request, allowed=allowed)
        # a ValidationError leaves as 422 with one entry per parameter, like a body's
        return schema.model_validate(raw) if schema is not None else None

    def method_not_allowed(self, request: Request) -> Response:
        error = MethodNotAllowed(method=request.method[:16])
        allowed = "GET, HEAD" if self.action.method == "GET" else "POST"
        error.headers = {"Allow": allowed}  # type: ignore[attr-defined]
        raise error
