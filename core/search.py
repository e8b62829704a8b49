"""Global search (/search): every installed addon's ``kehu_search_providers``, grouped per provider.

An addon with an owned model declares its provider in one expression and gets the record scope
(X1) and masking (X6) for free — nobody writes that twice, so nobody forgets it once:

```python
@hookimpl
def kehu_search_providers():
    return [model_search_provider(
        "customers.customers", _("Customers"), Customer,
        fields=("name", "company"),      # contain the query (LIKE wildcards are literal)
        exact_fields=("mobile",),        # sensitive: only the whole value matches
        hit_title="name", detail=("company", "mobile"),  # detail masked per reader
        url="customers.detail", more_url="customers.customers.list")]
```
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable, Sequence
from typing import Any

from pyramid.exceptions import ConfigurationError
from pyramid.i18n import TranslationString
from sqlalchemy import ColumnElement, String, case, func, or_, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import aliased

from core.access.exceptions import PermissionDenied
from core.access.masking import mask, may_see_sensitive, sensitive_columns
from core.access.scopes import Owned, scoped_select
from core.contributions import SearchHit, SearchProvider

log = logging.getLogger(__name__)

Label = str | TranslationString
#: A route name (given ``id=record.id``) or ``callable(request, record) -> url``.
RecordLink = str | Callable[[Any, Any], str]
#: A route name (given ``?q=query``) or ``callable(request, query) -> url or None``.
QueryLink = str | Callable[[Any, str], str | None]

MAX_QUERY_LENGTH = 100
HITS_PER_GROUP = 10
#: A provider ranks (whole matches first, then the most recently updated) the first this many
#: matches it finds. Ranking every match sorts them all before the first row comes out: 150,000
#: for 科技 over a million customers, a second. Past this many, the list page (``more``) is where
#: to look; a narrower query is exact again.
CANDIDATES = 1_000
DETAIL_SEPARATOR = " · "
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclasses.dataclass(frozen=True)
class SearchGroup:
    """One provider's part of the page. ``more``: it had more hits than the page shows;
    ``failed``: it raised (logged), so the page says so instead of pretending it found nothing."""

    provider: SearchProvider
    hits: list[SearchHit]
    more: bool = False
    more_url: str | None = None
    failed: bool = False

    @property
    def count_label(self) -> str:
        return f"{len(self.hits)}+" if self.more else str(len(self.hits))


def clean_query(raw: str) -> str:
    """The query as providers get it: no control characters (PostgreSQL refuses NUL), trimmed,
    at most ``MAX_QUERY_LENGTH`` characters."""
    return _CONTROL.sub(" ", raw).strip()[:MAX_QUERY_LENGTH].strip()


def search_everything(request: Any, query: str, *, per_group: int = HITS_PER_GROUP) -> list[SearchGroup]:
    """The groups with hits (or a failure), in provider order. Each provider is asked for one hit
    more than is shown, to know whether there are more."""
    if not query:
        return []
    providers = sorted((p for batch in request.hooks.kehu_search_providers() for p in batch or ()),
                       key=lambda p: (p.order, p.id))
    groups = []
    for provider in providers:
        if provider.permission and not request.has_permission(provider.permission):
            continue
        group = _run(request, provider, query, per_group)
        if group is not None and (group.hits or group.failed):
            groups.append(group)
    return groups


def _run(request: Any, provider: SearchProvider, query: str, limit: int) -> SearchGroup | None:
    """One provider inside its own savepoint: a failure — even in SQL, which would abort a
    PostgreSQL transaction — costs its own group only, never the page."""
    try:
        with request.dbsession.begin_nested():
            hits = list(provider.search(request, query, limit + 1))
            more_url = provider.more_url(request, query) if provider.more_url and hits else None
    except PermissionDenied:  # a provider that checks its permission itself: silently nothing
        return None
    except Exception:
        log.exception("search provider %r failed", provider.id)  # not the query: it may be a phone number
        return SearchGroup(provider, [], failed=True)
    return SearchGroup(provider, hits[:limit], more=len(hits) > limit, more_url=more_url)


def model_search_provider(
    id: str,
    title: Label,
    model: type[Owned],
    *,
    fields: Sequence[str] = (),
    exact_fields: Sequence[str] = (),
    hit_title: str | Callable[[Any], str] | None = None,
    detail: Sequence[str] = (),
    kind: Label = "",
    url: RecordLink | None = None,
    more_url: QueryLink | None = None,
    order: int = 100,
    condition: Callable[[Any, str], ColumnElement[bool]] | None = None,
) -> SearchProvider:
    """A provider searching ``model`` within the reader's scope, one statement per search.

    ``fields`` are text columns that contain the query; ``exact_fields`` (phones, e-mails, ID
    numbers) match only the whole value — a phone also without its spaces or dashes — so masked
    digits cannot be probed. ``hit_title`` (a field, or ``callable(record)`` that must mask what
    it shows itself; default the first of ``fields``) and ``detail`` fields are masked for
    readers without ``<access_key>:see_sensitive``. Whole matches come first, then the most
    recently updated, among the first ``CANDIDATES`` (1,000) matches found. Needs
    ``<access_key>:read``; the page skips it for users without it.

    ``condition(ctx, query)``, when given, is the WHERE clause instead of that match: for a model
    with its own search index (trigram, full text) that a leading-% LIKE cannot use. The scope,
    the order and the masking stay the core's; ``fields`` and ``exact_fields`` still say what a
    whole match is."""
    search = ModelSearch(model, tuple(fields), tuple(exact_fields), hit_title or (fields[0] if fields else ""),
                         tuple(detail), kind, url, condition)
    return SearchProvider(id=id, title=title, search=search, order=order, permission=f"{model.access_key}:read",
                          more_url=_query_link(more_url))


@dataclasses.dataclass(frozen=True)
class ModelSearch:
    """The ``search`` of a ``model_search_provider`` (checked when declared)."""

    model: type[Owned]
    fields: tuple[str, ...]
    exact_fields: tuple[str, ...]
    hit_title: str | Callable[[Any], str]
    detail: tuple[str, ...]
    kind: Label
    url: RecordLink | None
    condition: Callable[[Any, str], ColumnElement[bool]] | None = None

    def __post_init__(self) -> None:
        problems = self._problems()
        if problems:
            raise ConfigurationError(f"search of {self.model.__name__}: {'; '.join(problems)}")

    def _problems(self) -> list[str]:
        if not (isinstance(self.model, type) and issubclass(self.model, Owned)):
            return ["the model must be Owned (record scopes apply to it)"]
        columns = sa_inspect(self.model).columns
        sensitive = sensitive_columns(self.model)
        named = [*self.fields, *self.exact_fields, *self.detail]
        if isinstance(self.hit_title, str) and self.hit_title:
            named.append(self.hit_title)
        problems = [f"no column {name!r}" for name in dict.fromkeys(named) if name not in columns]
        if not self.fields and not self.exact_fields:
            problems.append("give fields or exact_fields to search")
        elif not self.hit_title:
            problems.append("give hit_title: there is no text field to show")
        for name in self.fields:
            if name in sensitive:
                problems.append(f"{name!r} is sensitive: put it in exact_fields, a partial match would reveal it")
        for name in dict.fromkeys([*self.fields, *self.exact_fields]):
            if name in columns and not isinstance(columns[name].type, String):
                problems.append(f"{name!r} is not a text column (a query is text)")
        return problems

    def __call__(self, request: Any, query: str, limit: int) -> list[SearchHit]:
        if not query:
            return []
        ctx = request.ctx
        model: Any = self.model
        if self.condition is not None:
            matches = self.condition(ctx, query)
        else:
            matches = or_(*(getattr(model, name).icontains(query, autoescape=True) for name in self.fields),
                          *(self._whole(model, name, query) for name in self.exact_fields))
        found: Any = aliased(model, scoped_select(ctx, model).where(matches).limit(CANDIDATES).subquery())
        whole = or_(*(func.lower(getattr(found, name)) == func.lower(query) for name in self.fields),
                    *(self._whole(found, name, query) for name in self.exact_fields))
        statement = (select(found).order_by(case((whole, 0), else_=1), found.updated_at.desc(), found.id.desc())
                     .limit(limit))
        records = ctx.dbsession.scalars(statement).all()
        masked = {} if may_see_sensitive(ctx, model) else sensitive_columns(model)
        return [self._hit(request, record, masked) for record in records]

    def _whole(self, entity: Any, name: str, query: str) -> ColumnElement[bool]:
        values = {query}
        if sensitive_columns(self.model).get(name) == "phone":
            digits = re.sub(r"\D", "", query)
            if digits:
                values.add(digits)
        return getattr(entity, name).in_(sorted(values))

    def _hit(self, request: Any, record: Any, masked: dict[str, str | bool]) -> SearchHit:
        def shown(name: str) -> Any:
            value = getattr(record, name)
            return mask(masked[name], value) if name in masked else value

        title = self.hit_title(record) if callable(self.hit_title) else shown(self.hit_title)
        values = [shown(name) for name in self.detail]
        if isinstance(self.url, str):
            url = request.route_path(self.url, id=record.id)
        else:
            url = self.url(request, record) if self.url else ""
        return SearchHit(title=str(title) if title not in (None, "") else f"#{record.id}", url=url, kind=self.kind,
                         detail=DETAIL_SEPARATOR.join(str(v) for v in values if v not in (None, "")))


def _query_link(link: QueryLink | None) -> Callable[[Any, str], str | None] | None:
    if isinstance(link, str):
        route = link
        return lambda request, query: request.route_path(route, _query={"q": query})
    return link
