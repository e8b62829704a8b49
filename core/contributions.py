"""What addons hand to the core through the core hooks (see ``core.hookspecs``).

Plain frozen dataclasses, so a contribution is declared in one expression and compared, sorted
and checked for collisions by the core.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from pyramid.i18n import TranslationString


@dataclasses.dataclass(frozen=True)
class MenuItem:
    """An entry of the sidebar. ``id`` is dotted (``customers.list``) and unique across addons;
    ``parent`` nests it under another item; ``permission`` hides it from users without it."""

    id: str
    title: str | TranslationString
    route: str | None = None
    icon: str = "circle"
    order: int = 100
    parent: str | None = None
    permission: str | None = None


@dataclasses.dataclass(frozen=True)
class DashboardWidget:
    """A card on the workbench: ``template`` rendered with ``context(request)`` as ``w``.
    ``charts=True`` loads Apache ECharts on the page (only then: it weighs 1 MB) and draws every
    ``<div data-chart="{{ option | tojson | forceescape }}">`` of the page (core/js/charts.js)."""

    id: str
    title: str | TranslationString
    template: str
    context: Callable[[Any], Mapping[str, Any]] | None = None
    order: int = 100
    width: int = 6
    permission: str | None = None
    charts: bool = False


@dataclasses.dataclass(frozen=True)
class RecordPanel:
    """A panel of a record's 360° view (the customer page shows orders, tickets … this way).
    Pages load it lazily from ``/panels/<id>`` (core.web.panels): ``context`` runs only then, on
    the record found again in the reader's scope, so keep it to the panel's own queries."""

    id: str
    title: str | TranslationString
    template: str
    context: Callable[[Any, Any], Mapping[str, Any]] | None = None
    order: int = 100
    permission: str | None = None


@dataclasses.dataclass(frozen=True)
class RecordChange:
    """A record was created, updated or deleted by a service. ``changes`` maps each changed
    field to ``(before, after)``; ``model`` is the table name (``customers_customer``).
    ``action`` is created / updated / deleted; for a ``Recyclable`` record "deleted" means moved
    to the recycle bin, later followed by "restored" or "purged" (gone for good)."""

    action: str
    model: str
    record_id: int | str
    changes: Mapping[str, tuple[Any, Any]] = dataclasses.field(default_factory=dict)
    user_id: int | None = None
    at: dt.datetime | None = None


@dataclasses.dataclass(frozen=True)
class SearchHit:
    """One result of global search: plain text (the page escapes it), already masked for the
    reader; ``kind`` is an optional label shown beside the title."""

    title: str
    url: str
    kind: str | TranslationString
    detail: str = ""


@dataclasses.dataclass(frozen=True)
class RecordLink:
    """A record of some addon as another addon shows it (a calendar item's customer): its
    title for this reader, already masked, and its page; ``kind`` says what it is (客户)."""

    title: str
    url: str
    kind: str | TranslationString = ""


@dataclasses.dataclass(frozen=True)
class SearchProvider:
    """Global search: ``search(request, query, limit)`` returns at most ``limit`` hits the
    caller may see (the provider applies permissions and record scopes —
    ``core.search.model_search_provider`` declares one that does). The page skips a provider
    whose ``permission`` the user lacks, and links ``more_url(request, query)`` as "see all"."""

    id: str
    title: str | TranslationString
    search: Callable[[Any, str, int], list[SearchHit]]
    order: int = 100
    permission: str | None = None
    more_url: Callable[[Any, str], str | None] | None = None


@dataclasses.dataclass(frozen=True)
class PeriodicJob:
    """A job run on a cron schedule (``"0 2 * * *"``), once per period across all workers."""

    name: str
    cron: str
    func: Callable[..., Any]
    timeout_seconds: int = 600


@dataclasses.dataclass(frozen=True)
class Permission:
    """A permission ``<addon>.<model>:<action>`` and the seeded roles that get it by default
    (``admin``, ``sales_manager``, ``sales``, ``service``, ``marketing``, ``auditor``)."""

    name: str
    title: str | TranslationString
    default_roles: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class JobHandler:
    """Code the worker runs for jobs named ``name``: ``func(ctx, payload)`` in its own
    transaction, with ``ctx`` acting as the system. Raising retries the job with backoff, up to
    ``max_attempts``; then it is dead (kept for an administrator to retry)."""

    name: str
    func: Callable[..., Any]
    timeout_seconds: int = 300
    max_attempts: int = 5


@dataclasses.dataclass(frozen=True)
class NotificationKind:
    """A kind of notification an addon sends (``customers.assigned``); ``key`` is dotted and
    unique across addons. Each user chooses per kind the channels they want (``app``: the bell
    and the notifications page; ``email``); ``default_channels`` holds until they do."""

    key: str
    title: str | TranslationString
    default_channels: tuple[str, ...] = ("app",)
