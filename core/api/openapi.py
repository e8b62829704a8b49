"""The OpenAPI 3.1 document, built on each request from the installed addons' resource
declarations (their pydantic models' ``model_json_schema``): never hand-kept, so it cannot
drift from what the API validates. ``/api/docs`` shows it with the vendored Redoc.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPForbidden
from pyramid.request import Request
from pyramid.response import Response
from sqlalchemy import BigInteger, Boolean, Date, DateTime, Integer, SmallInteger, String

from core.api.actions import ApiAction
from core.api.bodies import json_response
from core.api.exceptions import AuthenticationRequired
from core.api.lists import DEFAULT_LIMIT, MAX_CURSOR_LENGTH, MAX_ID, MAX_LIMIT, MAX_PARAMETER_LENGTH
from core.api.problems import problem_code
from core.api.resources import API_PREFIX, RESERVED_PARAMETERS, ApiResource, column_type, registered_resources
from core.i18n import _
from core.web.headers import CONTENT_SECURITY_POLICY

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1"
REF = "#/components/schemas/"

#: Redoc builds its search index in a Web Worker started from a blob: URL.
DOCS_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY + "; worker-src 'self' blob:"

DESCRIPTION = """\
Kehu's JSON API. Authenticate with a personal access token (`Authorization: Bearer kehu_…`,
created under *Preferences → API tokens* or with `kehu token create`); a signed-in browser's
session works too for same-origin calls, with the `X-CSRF-Token` header on changes.
Errors are `application/problem+json`; lists use cursor pagination (follow `next`); records
carry an `ETag`, and a PATCH or DELETE with a stale `If-Match` gets 412. See docs/api.md."""

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "An error (RFC 9457), its texts in the reader's language.",
    "properties": {
        "type": {"type": "string"},
        "status": {"type": "integer"},
        "title": {"type": "string"},
        "code": {"type": "string", "description": "A stable name of the error, e.g. stale_record."},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "code": {"type": "string"},
                               "message": {"type": "string"}},
                "required": ["field", "code", "message"],
            },
        },
    },
    "required": ["type", "status", "title", "code", "detail"],
}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/problem+json": {"schema": {"$ref": f"{REF}Problem"}}}}


COMMON_ERRORS: dict[str, Any] = {
    "400": _problem("Bad request: a malformed body or query parameter."),
    "401": _problem("No valid token or session."),
    "403": _problem("Not allowed (permission, read-only token, or CSRF)."),
    "429": {**_problem("Rate limit reached."),
            "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}},
}
ETAG_HEADER = {"ETag": {"schema": {"type": "string"}, "description": "The record's version (weak)."}}
IF_MATCH = {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
            "description": "The ETag read before; a stale one gets 412 and nothing is written."}


def openapi_document(resources: Iterable[ApiResource]) -> dict[str, Any]:
    """The whole document for ``resources`` (those of the installed addons)."""
    schemas: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}
    paths: dict[str, Any] = {}
    tags = []
    for resource in sorted(resources, key=lambda r: r.name):
        prefix = f"{resource.addon}.{resource.name}."
        refs = _add_schemas(resource, prefix, schemas)
        paths.update(_paths(resource, prefix, refs))
        for action in resource.actions:
            paths.setdefault(API_PREFIX + action.pattern(resource), {}).update(
                _action_path(resource, action, prefix, schemas))
        tags.append({"name": resource.name, "description": resource.description or resource.access_key})
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "Kehu API", "version": API_VERSION, "description": DESCRIPTION},
        "tags": tags,
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "A personal access token (kehu_…)."}},
        },
        "security": [{"bearerAuth": []}],
    }


def _add_schemas(resource: ApiResource, prefix: str, schemas: dict[str, Any]) -> dict[str, str]:
    """Each pydantic model's JSON Schema (2020-12, as OpenAPI 3.1 uses) under ``<addon>.<name>.``."""
    refs = {}
    for kind, model, mode in (("Read", resource.read_schema, "serialization"),
                              ("Create", resource.create_schema, "validation"),
                              ("Update", resource.update_schema, "validation")):
        if model is None:
            continue
        schema = model.model_json_schema(mode=mode, ref_template=f"{REF}{prefix}{{model}}")  # type: ignore[arg-type]
        for name, definition in schema.pop("$defs", {}).items():
            schemas[f"{prefix}{name}"] = definition
        schemas[f"{prefix}{kind}"] = schema
        refs[kind] = f"{REF}{prefix}{kind}"
    schemas[f"{prefix}List"] = {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"$ref": refs["Read"]}},
            "next": {"type": ["string", "null"], "description": "The next page's URL; null on the last page."},
        },
        "required": ["items", "next"],
    }
    refs["List"] = f"{REF}{prefix}List"
    return refs


def _paths(resource: ApiResource, prefix: str, refs: dict[str, str]) -> dict[str, Any]:
    tag = [resource.name]
    collection: dict[str, Any] = {
        "get": {
            "operationId": f"{prefix}list",
            "summary": f"List {resource.name}",
            "tags": tag,
            "parameters": _list_parameters(resource),
            "responses": {"200": {"description": "A page of records.",
                                  "content": {"application/json": {"schema": {"$ref": refs["List"]}}}},
                          **COMMON_ERRORS},
        },
    }
    if resource.create is not None:
        collection["post"] = {
            "operationId": f"{prefix}create",
            "summary": f"Create one of {resource.name}",
            "tags": tag,
            "requestBody": _body(refs["Create"]),
            "responses": {
                "201": {"description": "Created.", "headers": {**ETAG_HEADER, "Location": {"schema": {
                    "type": "string"}}}, "content": {"application/json": {"schema": {"$ref": refs["Read"]}}}},
                **COMMON_ERRORS, **_errors("409", "413", "415", "422"),
            },
        }
    item_parameter = {"name": "id", "in": "path", "required": True,
                      "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}
    read = {"description": "The record.", "headers": ETAG_HEADER,
            "content": {"application/json": {"schema": {"$ref": refs["Read"]}}}}
    item: dict[str, Any] = {
        "parameters": [item_parameter],
        "get": {"operationId": f"{prefix}get", "summary": f"Get one of {resource.name}", "tags": tag,
                "responses": {"200": read, **COMMON_ERRORS, **_errors("404")}},
    }
    if resource.update is not None:
        item["patch"] = {
            "operationId": f"{prefix}update",
            "summary": f"Change one of {resource.name} (only the fields sent)",
            "tags": tag,
            "parameters": [IF_MATCH],
            "requestBody": _body(refs["Update"]),
            "responses": {"200": read, **COMMON_ERRORS, **_errors("404", "409", "412", "413", "415", "422")},
        }
    if resource.delete is not None:
        item["delete"] = {
            "operationId": f"{prefix}delete",
            "summary": f"Delete one of {resource.name}",
            "tags": tag,
            "parameters": [IF_MATCH],
            "responses": {"204": {"description": "Deleted."}, **COMMON_ERRORS, **_errors("404", "409", "412")},
        }
    base = f"{API_PREFIX}/{resource.name}"
    return {base: collection, base + "/{id}": item}


def _action_path(resource: ApiResource, action: ApiAction, prefix: str, schemas: dict[str, Any]) -> dict[str, Any]:
    """One action's operation; its own errors are listed per status as ``code``: message."""
    name = f"{prefix}{action.name}."
    operation: dict[str, Any] = {
        "operationId": f"{prefix}{action.name}",
        "summary": action.summary or f"{action.name} ({resource.name})",
        "tags": [resource.name],
    }
    parameters: list[dict[str, Any]] = []
    if action.on == "item":
        parameters.append({"name": "id", "in": "path", "required": True,
                           "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}})
    standard = ["404"] if action.on == "item" else []
    if action.params is not None:
        schema = _model_schema(action.params, "validation", name, schemas)
        if action.method == "POST":
            schemas[f"{name}Params"] = schema
            operation["requestBody"] = _body(f"{REF}{name}Params")
            standard += ["413", "415"]
        else:
            parameters += [{"name": field, "in": "query", "required": field in schema.get("required", ()),
                            "schema": definition} for field, definition in schema["properties"].items()]
        standard.append("422")
    if parameters:
        operation["parameters"] = parameters
    if action.response is None:
        success: dict[str, Any] = {"description": "Done."}
    else:
        schemas[f"{name}Response"] = _model_schema(action.response, "serialization", name, schemas)
        success = {"description": "Done.",
                   "content": {"application/json": {"schema": {"$ref": f"{REF}{name}Response"}}}}
    responses = {str(action.status): success, **COMMON_ERRORS, **_errors(*standard)}
    for status, texts in _own_errors(action).items():
        described = responses.get(status, {}).get("description")
        responses[status] = _problem(" ".join(([described] if described else []) + texts))
    operation["responses"] = responses
    return {action.method.lower(): operation}


def _own_errors(action: ApiAction) -> dict[str, list[str]]:
    """``{status: ["`code`: message", ...]}`` for the errors the action declares."""
    found: dict[str, list[str]] = {}
    for error in action.errors:
        status = str(getattr(error, "http_status", 422))
        found.setdefault(status, []).append(f"`{problem_code(error.__name__)}`: {error.message}")
    return found


def _model_schema(model: type[BaseModel], mode: str, name: str, schemas: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(mode=mode, ref_template=f"{REF}{name}{{model}}")  # type: ignore[arg-type]
    for sub, definition in schema.pop("$defs", {}).items():
        schemas[f"{name}{sub}"] = definition
    return schema


def _errors(*statuses: str) -> dict[str, Any]:
    descriptions = {"404": "Not found, or outside your scope.", "409": "Conflicts with other data.",
                    "412": "If-Match is stale.", "413": "Body over 1 MiB.", "415": "Not application/json.",
                    "422": "Invalid data, per field."}
    return {status: _problem(descriptions[status]) for status in statuses}


def _body(ref: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": ref}}}}


def _list_parameters(resource: ApiResource) -> list[dict[str, Any]]:
    sort_values = [value for field in resource.sort for value in (field, f"-{field}")]
    parameters = [
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                                                    "default": DEFAULT_LIMIT}},
        {"name": "cursor", "in": "query", "schema": {"type": "string", "maxLength": MAX_CURSOR_LENGTH},
         "description": "From the previous page's `next`; opaque."},
        {"name": "sort", "in": "query", "schema": {"type": "string", "enum": sort_values,
                                                   "default": resource.default_sort}},
    ]
    if resource.search:
        parameters.append({"name": "q", "in": "query", "description": f"Text in {', '.join(resource.search)}.",
                           "schema": {"type": "string", "maxLength": MAX_PARAMETER_LENGTH}})
    for param, column in resource.filters.items():
        assert param not in RESERVED_PARAMETERS
        parameters.append({"name": param, "in": "query", "description": f"Equal to {column}.",
                           "schema": _column_schema(resource, column)})
    return parameters


def _column_schema(resource: ApiResource, name: str) -> dict[str, Any]:
    kind = column_type(resource.column(name))
    if isinstance(kind, Boolean):
        return {"type": "boolean"}
    if isinstance(kind, BigInteger):
        return {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1}
    if isinstance(kind, SmallInteger):
        return {"type": "integer", "minimum": -(2**15), "maximum": 2**15 - 1}
    if isinstance(kind, Integer):
        return {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1}
    if isinstance(kind, DateTime):
        return {"type": "string", "format": "date-time"}
    if isinstance(kind, Date):
        return {"type": "string", "format": "date"}
    length = kind.length if isinstance(kind, String) and kind.length else MAX_PARAMETER_LENGTH
    return {"type": "string", "maxLength": min(length, MAX_PARAMETER_LENGTH)}


# -- views -----------------------------------------------------------------------------------

def openapi_json(request: Request) -> Response:
    if request.user is None:
        raise AuthenticationRequired()
    installed = [resource for resource in registered_resources(request.registry).values()
                 if request.addons.is_installed(resource.addon)]
    return json_response(openapi_document(installed))


def api_docs(request: Request) -> dict[str, Any]:
    """The API explorer: vendored Redoc, fed the document by a small script (no inline script)."""
    if request.user is None:
        raise HTTPForbidden()  # the pages' forbidden view sends the visitor to sign in
    request.response.headers["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
    return {"spec_url": request.route_path("api.core.openapi"), "page_title": _("API documentation")}


def includeme(config: Configurator) -> None:
    config.add_route("api.core.openapi", f"{API_PREFIX}/openapi.json")
    config.add_route("api.core.docs", "/api/docs")
    config.add_view(openapi_json, route_name="api.core.openapi", request_method="GET")
    config.add_view(api_docs, route_name="api.core.docs", request_method="GET",
                    renderer="core/api_docs.jinja2")
