"""``/files/<id>``: download one of one's own stored files (an export, an import's error
report). Anyone else's file, an expired one and a missing one are the same 404."""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPForbidden
from pyramid.request import Request
from pyramid.response import Response

from core.files import DOWNLOAD_PATH, file_response, own_file


def download(request: Request) -> Response:
    if request.user is None:
        raise HTTPForbidden()  # the forbidden view sends anonymous visitors to /login?next=…
    stored = own_file(request.ctx, int(request.matchdict["id"]), with_data=True)
    return file_response(stored.data, stored.content_type, stored.name)


def includeme(config: Configurator) -> None:
    config.add_route("core.files.download", DOWNLOAD_PATH.replace("{id}", "{id:\\d{1,9}}"))
    config.add_view(download, route_name="core.files.download", request_method="GET")
