"""API actions (``core.api.actions``): declarations refused at start-up, their place in the
OpenAPI document with the errors they answer, their routes ahead of the item route, and a
problem listing several errors at once (``field_errors``). The customers addon's tests call
real actions over HTTP."""

import dataclasses

import pytest
from pydantic import BaseModel, ConfigDict, Field
from pyramid import testing
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError

from core.api.actions import ApiAction
from core.api.openapi import openapi_document
from core.api.problems import kehu_error
from core.exceptions import KehuError
from core.i18n import _, localizer_for
from tests.fixtures.addons.scoped import api as notes_api


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: str = Field(max_length=1)


class Answer(BaseModel):
    changed: int


class Loose(BaseModel):
    level: str


class TooLate(KehuError):
    http_status = 409
    message = _("Too late for ${name}.")


def handler(*args):
    return {"changed": 1}


def notes_with(*actions):
    return dataclasses.replace(notes_api.NOTES, actions=actions)


@pytest.mark.parametrize(("action", "problem"), [
    (ApiAction("12", handler, params=Body, response=Answer), "not a number"),
    (ApiAction("Bad Name", handler, response=Answer), "lowercase"),
    (ApiAction("level", handler, on="everywhere", response=Answer), "'item' or 'collection'"),
    (ApiAction("level", handler, method="PUT", response=Answer), "GET or POST"),
    (ApiAction("count", handler, method="GET"), "needs a response model"),
    (ApiAction("level", handler, params=Loose, response=Answer), "extra='forbid'"),
    (ApiAction("level", handler, status=201), "status is 204"),
    (ApiAction("level", handler, response=Answer, errors=(ValueError,)), "KehuError"),
])
def test_a_declaration_that_cannot_work_fails_at_start_up(action, problem):
    with pytest.raises(ConfigurationError, match=problem):
        notes_with(action).check()


def test_an_action_declared_twice_fails_at_start_up():
    action = ApiAction("level", handler, params=Body, response=Answer)
    with pytest.raises(ConfigurationError, match="twice"):
        notes_with(action, action).check()


def test_actions_are_documented_with_their_errors():
    document = openapi_document([notes_with(
        ApiAction("level", handler, params=Body, response=Answer, errors=(TooLate,), summary="Set the level"),
        ApiAction("count", handler, on="collection", method="GET", params=Body, response=Answer, permission="read"),
    )])
    item = document["paths"]["/api/v1/notes/{id}/level"]["post"]
    assert item["summary"] == "Set the level"
    assert item["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("scoped.notes.level.Params")
    assert "`too_late`: Too late for ${name}." in item["responses"]["409"]["description"]
    assert {"404", "413", "415", "422"} <= set(item["responses"])
    collection = document["paths"]["/api/v1/notes/count"]["get"]
    assert [(p["name"], p["in"], p["required"]) for p in collection["parameters"]] == [("level", "query", True)]
    assert "404" not in collection["responses"]
    assert "scoped.notes.count.Response" in document["components"]["schemas"]


def test_collection_actions_are_routed_before_the_item_route():
    with testing.testConfig() as config:
        assert isinstance(config, Configurator)
        config.include("core.api")
        config.add_api_resource(notes_with(ApiAction("count", handler, on="collection", method="GET",
                                                     response=Answer, permission="read")))
        config.commit()
        mapper = config.get_routes_mapper()
        matched = mapper(testing.DummyRequest(path="/api/v1/notes/count"))
        assert matched["route"].name == "api.scoped.notes.collection.count"
        assert mapper(testing.DummyRequest(path="/api/v1/notes/7"))["route"].name == "api.scoped.notes.item"


def test_a_problem_lists_several_errors_at_once():
    refused = TooLate(name="all")
    refused.field_errors = [("ids.0", TooLate(name="甲")), ("ids.2", TooLate(name="丙"))]
    request = testing.DummyRequest(localizer=localizer_for("en"))
    response = kehu_error(refused, request)
    assert response.status_int == 409
    body = response.json_body
    assert body["code"] == "too_late"
    assert body["errors"] == [{"field": "ids.0", "code": "too_late", "message": "Too late for 甲."},
                              {"field": "ids.2", "code": "too_late", "message": "Too late for 丙."}]
