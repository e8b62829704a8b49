"""The five operations of every API resource. Views parse and render; the record scope decides
what is visible (``scoped_select``, or the resource's ``read_scope``), masking what a value shows
(``record_values``), and the addon's services every change.

- list: ``?limit=1..200`` (50), ``sort=field|-field``, ``q=``, the resource's filters and an
  opaque ``cursor`` (``core.api.lists``); the answer is ``{"items": [...], "next": url|null}``
  plus a ``Link: <…>; rel="next"`` header.
- get: the record with ``ETag: W/"…"`` (``core.api.etags``); ``If-None-Match`` → 304.
- create: 201 with ``Location`` and ``ETag``.
- PATCH: only the fields sent. ``If-Match`` is optional; when sent and stale, 412 and nothing
  is written. The row is locked (``FOR UPDATE`` on PostgreSQL) between the check and the write.
- delete: 204, with the same optional ``If-Match``.
"""

from __future__ import annotations

import re
from typing import Any

from pyramid.request import Request
from pyramid.response import Response
from sqlalchemy import and_, or_

from core.access.exceptions import RecordNotFound
from core.access.masking import may_see_sensitive, sensitive_columns
from core.access.scopes import scoped_select
from core.api.bodies import database_errors, json_response, validated_body
from core.api.etags import check_if_match, etag, tag_matches
from core.api.exceptions import MethodNotAllowed
from core.api.lists import (
    MAX_ID,
    decode_cursor,
    encode_cursor,
    parse_limit,
    parse_sort,
    parse_value,
    query_parameters,
)
from core.api.resources import RESERVED_PARAMETERS, ApiResource
from core.context import Ctx

ID = re.compile(r"^[0-9]{1,10}$")


class ResourceViews:
    """The views of one resource; ``add_api_resource`` registers its bound methods."""

    def __init__(self, resource: ApiResource) -> None:
        self.resource = resource

    # -- list ------------------------------------------------------------------------------

    def list(self, request: Request) -> Response:
        resource, ctx = self.resource, request.ctx
        params = query_parameters(request, allowed=RESERVED_PARAMETERS | set(resource.filters))
        limit = parse_limit(params.get("limit"))
        sort = params.get("sort", resource.default_sort)
        field, descending = parse_sort(resource, sort)
        model = resource.model
        query = resource.readable(ctx)
        for param, column_name in resource.filters.items():
            if param in params:
                column = resource.column(column_name)
                query = query.where(getattr(model, column_name) == parse_value(column, param, params[param]))
        if params.get("q"):
            query = query.where(self._search(ctx, params["q"]))
        key_column, id_column = getattr(model, field), model.id  # type: ignore[attr-defined]
        if "cursor" in params:
            value, last_id = decode_cursor(resource.column, sort, params["cursor"])
            if field == "id":
                query = query.where(id_column < last_id if descending else id_column > last_id)
            elif descending:
                query = query.where(or_(key_column < value, and_(key_column == value, id_column < last_id)))
            else:
                query = query.where(or_(key_column > value, and_(key_column == value, id_column > last_id)))
        order = (key_column.desc(), id_column.desc()) if descending else (key_column.asc(), id_column.asc())
        rows = list(ctx.dbsession.scalars(query.order_by(*order).limit(limit + 1)))
        items = resource.read_values(ctx, rows[:limit])
        next_url = None
        if len(rows) > limit:
            last = rows[limit - 1]
            cursor = encode_cursor(sort, getattr(last, field), last.id)
            kept = [(key, value) for key, value in params.items() if key != "cursor"]
            next_url = request.route_url(resource.collection_route, _query=[*kept, ("cursor", cursor)])
        response = json_response({"items": items, "next": next_url})
        if next_url:
            response.headers["Link"] = f'<{next_url}>; rel="next"'
        return response

    def _search(self, ctx: Ctx, text: str) -> Any:
        """``q`` in any search column; a sensitive column only matches the whole value for a
        reader who sees it masked (a partial match would reveal it digit by digit)."""
        model = self.resource.model
        sensitive = sensitive_columns(model)
        reveal = may_see_sensitive(ctx, model)
        conditions = []
        for name in self.resource.search:
            column = getattr(model, name)
            if name in sensitive and not reveal:
                conditions.append(column == text)
            else:
                conditions.append(column.icontains(text, autoescape=True))
        return or_(*conditions)

    # -- get -------------------------------------------------------------------------------

    def get(self, request: Request) -> Response:
        ctx = request.ctx
        record = self.resource.get_readable(ctx, record_id(request))
        tag = etag(record)
        if tag_matches(request.headers.get("If-None-Match"), tag):
            return Response(status=304, headers={"ETag": tag})
        return json_response(self.values(ctx, record), headers={"ETag": tag})

    # -- create ----------------------------------------------------------------------------

    def create(self, request: Request) -> Response:
        resource, ctx = self.resource, request.ctx
        assert resource.create is not None and resource.create_schema is not None
        data = validated_body(request, resource.create_schema).model_dump()
        with database_errors():
            record = resource.create(ctx, data)
            ctx.dbsession.flush()
        location = request.route_url(resource.item_route, id=record.id)
        return json_response(self.values(ctx, record), status=201,
                             headers={"Location": location, "ETag": etag(record)})

    # -- update ----------------------------------------------------------------------------

    def patch(self, request: Request) -> Response:
        resource, ctx = self.resource, request.ctx
        assert resource.update is not None and resource.update_schema is not None
        data = validated_body(request, resource.update_schema).model_dump(exclude_unset=True)
        record = load_for_change(ctx, resource, record_id(request), "write")
        check_if_match(request, record)
        if data:
            with database_errors():
                record = resource.update(ctx, record, data) or record
                ctx.dbsession.flush()
        return json_response(self.values(ctx, record), headers={"ETag": etag(record)})

    # -- delete ----------------------------------------------------------------------------

    def delete(self, request: Request) -> Response:
        resource, ctx = self.resource, request.ctx
        assert resource.delete is not None
        record = load_for_change(ctx, resource, record_id(request), "delete")
        check_if_match(request, record)
        with database_errors():
            resource.delete(ctx, record)
            ctx.dbsession.flush()
        return Response(status=204)

    def method_not_allowed(self, request: Request) -> Response:
        collection = request.matched_route.name == self.resource.collection_route
        allowed = ["GET", "HEAD"]
        if collection and self.resource.create is not None:
            allowed.append("POST")
        if not collection and self.resource.update is not None:
            allowed.append("PATCH")
        if not collection and self.resource.delete is not None:
            allowed.append("DELETE")
        error = MethodNotAllowed(method=request.method[:16])
        error.headers = {"Allow": ", ".join(allowed)}  # type: ignore[attr-defined]
        raise error

    def values(self, ctx: Ctx, record: Any) -> dict[str, Any]:
        """The record as this reader may see it (masked), shaped by the read schema."""
        return self.resource.read_values(ctx, [record])[0]


# -- helpers ---------------------------------------------------------------------------------

def record_id(request: Request) -> int:
    """The ``{id}`` of the URL; anything but a positive 32-bit integer is simply not found."""
    raw = request.matchdict["id"]
    if not ID.match(raw) or not 0 < int(raw) <= MAX_ID:
        raise RecordNotFound()
    return int(raw)


def load_for_change(ctx: Ctx, resource: ApiResource, record_id: int, action: str) -> Any:
    """The record within the caller's scope for ``action``, locked until the transaction ends
    (PostgreSQL; SQLite serialises writers anyway). RecordNotFound outside the scope."""
    model = resource.model
    query = scoped_select(ctx, model, action).where(model.id == record_id)  # type: ignore[attr-defined]
    record = ctx.dbsession.scalar(query.with_for_update(of=model))
    if record is None:
        raise RecordNotFound()
    return record
