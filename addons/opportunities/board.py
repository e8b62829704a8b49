"""The kanban board (看板) and the stage move it posts.

One pipeline at a time: a column per active stage (open stages in order, then won and lost —
those two show only the last ``CLOSED_DAYS`` days' closures), each with its count, amount and
weighted amount, and at most ``CARD_LIMIT`` cards. The board reads a fixed number of queries
whatever the number of cards. Dropping a card on another column (or the card's "Move to…" on a
phone) posts to ``opportunities.stage``, which also takes the opportunity page's plain form.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit
from zoneinfo import ZoneInfo

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.request import Request
from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased, selectinload

from addons.customers.lists import format_cny
from addons.customers.models import Customer
from core.access.exceptions import RecordNotFound
from core.context import Ctx
from core.exceptions import KehuError, ValidationFailed
from core.i18n import _
from core.web.forms import flash_done
from core.web.views.auth import safe_next

from . import TEMPLATES, pipelines, services
from .exceptions import PipelineUnavailable
from .models import Opportunity, Pipeline, Stage

#: Cards shown per column; the rest are counted and linked to the list.
CARD_LIMIT = 100
#: Won and lost columns show the opportunities closed within these many days.
CLOSED_DAYS = 30
KIND_ORDER = {"open": 0, "won": 1, "lost": 2}
DEFAULT_ZONE = "Asia/Shanghai"
HUNDRED = decimal.Decimal(100)
CENT = decimal.Decimal("0.01")


def include_board(config: Configurator) -> None:
    """Routes and views of the board (``opportunities.board``) and the stage move (``opportunities.stage``)."""
    config.add_route("opportunities.board", "/opportunities/board")
    config.add_route("opportunities.stage", "/opportunities/{id:\\d+}/stage")
    config.add_view(board_view, route_name="opportunities.board", request_method="GET",
                    renderer=TEMPLATES + "board.jinja2", permission="opportunities.opportunity:read")
    config.add_view(stage_move, route_name="opportunities.stage", request_method="POST",
                    permission="opportunities.opportunity:write")


# ---------------------------------------------------------------- what the board shows


@dataclass(frozen=True)
class BoardFilters:
    """What the reader asked the board for: ``?pipeline=<id>&mine=1&q=<text>``."""

    pipeline_id: int | None = None
    mine: bool = False
    q: str = ""

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> BoardFilters:
        raw = str(params.get("pipeline") or "").strip()
        pipeline_id = int(raw) if raw.isdigit() and len(raw) < 10 else None
        return cls(pipeline_id=pipeline_id, mine=str(params.get("mine") or "") in ("1", "true", "on"),
                   q=str(params.get("q") or "").strip()[:100])

    def query(self, **changes: Any) -> list[tuple[str, str]]:
        """The board's query string with ``changes`` applied (None drops a parameter)."""
        values = {"pipeline": self.pipeline_id, "mine": "1" if self.mine else None, "q": self.q or None}
        values.update(changes)
        return [(key, str(value)) for key, value in values.items() if value not in (None, "", False)]


@dataclass
class Column:
    """One stage's column: its cards (at most the limit) and the figures of all it holds."""

    stage: Stage
    cards: list[Opportunity] = field(default_factory=list)
    count: int = 0
    amount: decimal.Decimal = decimal.Decimal("0.00")
    weighted: decimal.Decimal = decimal.Decimal("0.00")

    @property
    def more(self) -> int:
        return max(self.count - len(self.cards), 0)


@dataclass
class Board:
    pipeline: Pipeline
    columns: list[Column]
    #: Ids of the shown cards the reader may move (their write scope).
    movable: set[int]

    @property
    def open_count(self) -> int:
        return sum(c.count for c in self.columns if c.stage.kind == "open")

    @property
    def open_amount(self) -> decimal.Decimal:
        return sum((c.amount for c in self.columns if c.stage.kind == "open"), decimal.Decimal(0))

    @property
    def open_weighted(self) -> decimal.Decimal:
        return sum((c.weighted for c in self.columns if c.stage.kind == "open"), decimal.Decimal(0))


def board_stages(pipeline: Pipeline) -> list[Stage]:
    """The columns' stages: the active ones, open stages in order, then won, then lost."""
    active = [stage for stage in pipeline.stages if stage.active]
    return sorted(active, key=lambda s: (KIND_ORDER.get(s.kind, 9), s.sequence, s.id))


def load_board(ctx: Ctx, pipeline: Pipeline, filters: BoardFilters = BoardFilters(), *,
               limit: int = CARD_LIMIT, closed_days: int = CLOSED_DAYS) -> Board:
    """The pipeline's columns within the reader's scope: one query for the figures, one for the
    cards (the first ``limit`` of each column, soonest close first; won and lost: latest
    closed first) with their customers and owners, one for which cards the reader may move."""
    stages = board_stages(pipeline)
    columns = {stage.id: Column(stage) for stage in stages}
    where = [Opportunity.pipeline_id == pipeline.id, Opportunity.stage_id.in_(list(columns)),
             or_(Opportunity.status == "open", Opportunity.closed_at >= ctx.now - dt.timedelta(days=closed_days))]
    if filters.mine:
        where.append(Opportunity.owner_id == (ctx.user.id if ctx.user is not None else None))
    if filters.q:
        where.append(or_(Opportunity.title.icontains(filters.q, autoescape=True),
                         Opportunity.customer_id.in_(select(Customer.id).where(
                             Customer.name.icontains(filters.q, autoescape=True)))))
    scoped = services.in_scope(ctx).where(*where)
    figures = scoped.with_only_columns(
        Opportunity.stage_id, func.count(Opportunity.id), func.sum(Opportunity.amount),
        func.sum(Opportunity.amount * Opportunity.probability)).group_by(Opportunity.stage_id)
    for stage_id, count, amount, weighted in ctx.dbsession.execute(figures):
        column = columns[stage_id]
        column.count = count
        column.amount = _money(amount)
        column.weighted = _money(decimal.Decimal(str(weighted or 0)) / HUNDRED)
    rank = func.row_number().over(partition_by=Opportunity.stage_id, order_by=(
        Opportunity.closed_at.is_(None), Opportunity.closed_at.desc(),  # won / lost: the latest first
        Opportunity.expected_close.is_(None), Opportunity.expected_close, Opportunity.amount.desc(),
        Opportunity.id)).label("rank")
    ranked = scoped.add_columns(rank).subquery()
    card = aliased(Opportunity, ranked)
    cards = ctx.dbsession.scalars(select(card).where(ranked.c.rank <= limit)
                                  .order_by(ranked.c.stage_id, ranked.c.rank)
                                  .options(selectinload(card.customer), selectinload(card.owner))).all()
    for opportunity in cards:
        columns[opportunity.stage_id].cards.append(opportunity)
    return Board(pipeline, list(columns.values()), movable_ids(ctx, [c.id for c in cards]))


def movable_ids(ctx: Ctx, ids: Sequence[int]) -> set[int]:
    """Which of ``ids`` the reader may move (write), in one query."""
    if not ids or not ctx.access.can("opportunities.opportunity:write"):
        return set()
    return set(ctx.dbsession.scalars(services.in_scope(ctx, "write").with_only_columns(Opportunity.id)
                                     .where(Opportunity.id.in_(list(ids)))))


def _money(value: Any) -> decimal.Decimal:
    return decimal.Decimal(str(value or 0)).quantize(CENT, rounding=decimal.ROUND_HALF_UP)


def _pipeline_with_stages(ctx: Ctx, pipeline_id: int) -> Pipeline | None:
    return ctx.dbsession.scalar(select(Pipeline).where(Pipeline.id == pipeline_id)
                                .options(selectinload(Pipeline.stages)))


# ---------------------------------------------------------------- views


def board_view(request: Request) -> dict[str, Any]:
    """看板: ``?pipeline=`` (default: the first offered), ``mine=1``, ``q=``."""
    ctx = request.ctx
    filters = BoardFilters.from_params(request.GET)
    offered = pipelines.pipelines_for(ctx)
    if not offered:
        return {"page_title": _("Pipeline board"), "board": None, "offered": [], "filters": filters}
    if filters.pipeline_id is None:
        pipeline = offered[0]
    else:
        pipeline = next((p for p in offered if p.id == filters.pipeline_id), None)
        if pipeline is None:
            raise PipelineUnavailable()
    return board_context(request, load_board(ctx, pipeline, filters), filters, offered=offered)


def board_context(request: Request, board: Board, filters: BoardFilters, *, offered: Sequence[Pipeline] = (),
                  message: Any = None, error: Any = None) -> dict[str, Any]:
    """What ``board.jinja2`` and its fragment ``board_columns.jinja2`` render."""
    filters = BoardFilters(board.pipeline.id, filters.mine, filters.q)
    board_path = request.route_path("opportunities.board")
    user = request.user
    zone = ZoneInfo(getattr(user, "timezone", None) or DEFAULT_ZONE)
    return {
        "page_title": _("Pipeline board"),
        "board": board,
        "offered": offered,
        "filters": filters,
        "stages": board_stages(board.pipeline),
        "here": board_path + "?" + urlencode(filters.query()),
        "board_path": board_path,
        "mine_url": board_path + "?" + urlencode(filters.query(mine="1")),
        "all_url": board_path + "?" + urlencode(filters.query(mine=None)),
        "today": request.ctx.now.astimezone(zone).date(),
        "closed_days": CLOSED_DAYS,
        "cny": format_cny,
        "list_url": _list_url(request),
        "message": message,
        "error": error,
    }


def stage_move(request: Request) -> Any:
    """Move an opportunity to ``stage_id`` (with ``lost_reason`` for a lost stage).

    From the board (htmx): answer the board's columns again, with the outcome on top (the
    refusal's status: 404, 422 …, which board.js swaps in too). From a plain form (the
    opportunity page, the board without scripts): a flash, then back to a safe ``next`` or the
    board; an opportunity outside the reader's write scope is a 404 page."""
    ctx = request.ctx
    htmx = bool(request.headers.get("HX-Request"))
    target = (request.POST.get("next") or "")[:2000]
    back = safe_next(request, target) if target else request.route_path("opportunities.board")
    raw = str(request.POST.get("stage_id") or "").strip()
    try:
        if not raw.isdigit() or len(raw) > 9:
            raise ValidationFailed(field=_("Stage"), problem=_("choose one of the pipeline's stages."))
        with request.dbsession.begin_nested():
            opportunity = services.move_stage(ctx, int(request.matchdict["id"]), int(raw),
                                              lost_reason=request.POST.get("lost_reason"))
    except KehuError as refused:
        if not htmx:
            if isinstance(refused, RecordNotFound):
                raise
            request.session.flash(request.localizer.translate(refused.translation_string), "danger")
            return HTTPSeeOther(back)
        status = 404 if isinstance(refused, RecordNotFound) else int(getattr(refused, "http_status", 422))
        return _columns_response(request, target, None, error=refused.translation_string, status=status)
    stage = ctx.dbsession.get(Stage, opportunity.stage_id)
    done = _("“${title}” is now in ${stage}.", mapping={"title": opportunity.title, "stage": stage.name})
    if htmx:
        return _columns_response(request, target, opportunity.pipeline_id, message=done)
    flash_done(request, done)
    return HTTPSeeOther(back)


def _columns_response(request: Request, target: str, pipeline_id: int | None, *, message: Any = None,
                      error: Any = None, status: int = 200) -> Any:
    """The board's columns as the board at ``target`` (its filters) shows them, after a move."""
    ctx = request.ctx
    filters = BoardFilters.from_params(dict(parse_qsl(urlsplit(target).query)))
    pipeline = _pipeline_with_stages(ctx, pipeline_id or filters.pipeline_id or 0)
    if pipeline is None:
        offered = pipelines.pipelines_for(ctx)
        if not offered:
            raise PipelineUnavailable()
        pipeline = offered[0]
    context = board_context(request, load_board(ctx, pipeline, filters), filters, message=message, error=error)
    response = render_to_response(TEMPLATES + "board_columns.jinja2", context, request=request)
    response.status = status
    return response


def _list_url(request: Request) -> str:
    """The opportunities list (the "and N more" link); its path alone while the list is not registered."""
    try:
        return request.route_path("opportunities.opportunities.list")
    except KeyError:
        return "/opportunities"
