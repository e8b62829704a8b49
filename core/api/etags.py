"""Record versions for optimistic concurrency: a weak ETag per record, compared with the
``If-Match`` and ``If-None-Match`` a client sends back."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from pyramid.request import Request

from core.api.exceptions import StaleRecord


def etag(record: Any) -> str:
    """A weak validator of the record's version (its id and ``updated_at``). Weak, because the
    bytes differ between readers (masking); the version does not."""
    stamp = record.updated_at.astimezone(dt.UTC).isoformat() if record.updated_at else ""
    digest = hashlib.sha256(f"{record.id}:{stamp}".encode()).hexdigest()[:24]
    return f'W/"{digest}"'


def tag_matches(header: str | None, tag: str) -> bool:
    """Weak comparison (RFC 9110 §8.8.3.2) of a header's list of tags with ``tag``; ``*`` matches."""
    if not header:
        return False
    opaque = tag.removeprefix("W/")
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == opaque:
            return True
    return False


def check_if_match(request: Request, record: Any) -> None:
    """``If-Match`` is optional; when sent, it must name the record's current version (412)."""
    header = request.headers.get("If-Match")
    if header is not None and not tag_matches(header, etag(record)):
        raise StaleRecord()
