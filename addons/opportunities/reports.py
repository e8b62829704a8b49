"""The sales forecast and reports (S4–S5), each over the opportunities the reader may see (a
manager: the department's). Sums are computed in SQL, grouped by month, owner or stage.

- **Weighted pipeline** per expected-close month: amount × the opportunity's probability.
- **Forecast from history**: amount × the win rate its stage has actually had — of the closed
  opportunities that passed through the stage, the share that was won — once at least
  ``MIN_HISTORY`` closed ones passed through it; before that the stage's own probability.
- **Won against target** per person and month (targets entered by an administrator).
- **Win rate and cycle by stage**: how many reached each stage, how many of those closed won,
  the average days spent in it; and the average days from opening to winning.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import lazyload

from core.access.scopes import owners_condition, scope_condition
from core.context import Ctx
from core.models import ADMIN_ROLE, Department, Role, RolePermission, User, UserRole

from .exceptions import AmountInvalid, TargetInvalid
from .models import Opportunity, Stage, StageChange, Target

REPORTS = "opportunities.report:read"
ADMIN = "opportunities.settings:admin"
#: Who has targets: the people who may open opportunities.
SELLING = "opportunities.opportunity:create"
MIN_HISTORY = 5
ZERO = decimal.Decimal("0.00")
CENT = decimal.Decimal("0.01")
DEFAULT_ZONE = "Asia/Shanghai"


def _visible(ctx: Ctx) -> ColumnElement[bool]:
    ctx.access.require(REPORTS)
    return scope_condition(ctx, Opportunity, "read")


def _month(ctx: Ctx, column: Any) -> Any:
    """``YYYY-MM`` of a date column, in the database's own dialect."""
    if ctx.dbsession.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _money(value: Any) -> decimal.Decimal:
    return decimal.Decimal(value or 0).quantize(CENT, rounding=decimal.ROUND_HALF_UP)


def current_year(ctx: Ctx) -> int:
    """This year in the reader's time zone: the reports' and the targets grid's default."""
    return ctx.now.astimezone(ZoneInfo(getattr(ctx.user, "timezone", None) or DEFAULT_ZONE)).year


def user_labels(ctx: Ctx, user_ids: Iterable[int | None]) -> dict[int, str]:
    """Display names (else user names) of many users in one query: the rows' labels."""
    ids = sorted({i for i in user_ids if i})
    if not ids:
        return {}
    rows = ctx.dbsession.execute(select(User.id, User.display_name, User.username).where(User.id.in_(ids)))
    return {user_id: display_name or username for user_id, display_name, username in rows}


# ---------------------------------------------------------------- forecast


@dataclasses.dataclass(frozen=True)
class ForecastRow:
    """One expected-close month (``YYYY-MM``; ``""`` = no date) of open opportunities."""

    month: str
    count: int
    amount: decimal.Decimal
    weighted: decimal.Decimal
    historical: decimal.Decimal


def historical_rates(ctx: Ctx) -> dict[int, decimal.Decimal]:
    """Each stage's win rate (0–1) from the closed opportunities that passed through it; a stage
    with fewer than ``MIN_HISTORY`` of them has its own probability."""
    rates = {stage.id: decimal.Decimal(stage.probability) / 100 for stage in ctx.dbsession.scalars(select(Stage))}
    reached = select(StageChange.to_stage_id.label("stage_id"), StageChange.opportunity_id).distinct().subquery()
    rows = ctx.dbsession.execute(
        select(reached.c.stage_id, func.count(), func.sum(case((Opportunity.status == "won", 1), else_=0)))
        .join(Opportunity, Opportunity.id == reached.c.opportunity_id)
        .where(Opportunity.status.in_(("won", "lost")), Opportunity.deleted_at.is_(None))
        .group_by(reached.c.stage_id))
    for stage_id, closed, won in rows:
        if closed >= MIN_HISTORY:
            rates[stage_id] = decimal.Decimal(int(won or 0)) / closed
    return rates


def forecast_by_month(ctx: Ctx) -> list[ForecastRow]:
    """The open pipeline by expected-close month, oldest first (undated last)."""
    visible = _visible(ctx)
    rates = historical_rates(ctx)
    month = _month(ctx, Opportunity.expected_close)
    rows = ctx.dbsession.execute(
        select(month, Opportunity.stage_id, func.count(), func.sum(Opportunity.amount),
               func.sum(Opportunity.amount * Opportunity.probability))
        .where(visible, Opportunity.status == "open", Opportunity.deleted_at.is_(None))
        .group_by(month, Opportunity.stage_id))
    acc: dict[str, list[Any]] = defaultdict(lambda: [0, ZERO, ZERO, ZERO])
    for key, stage_id, count, amount, weighted in rows:
        slot = acc[key or ""]
        amount = decimal.Decimal(amount or 0)
        slot[0] += count
        slot[1] += amount
        slot[2] += decimal.Decimal(weighted or 0) / 100
        slot[3] += amount * rates.get(stage_id, decimal.Decimal(0))
    ordered = sorted(acc, key=lambda key: (key == "", key))
    return [ForecastRow(key, acc[key][0], _money(acc[key][1]), _money(acc[key][2]), _money(acc[key][3]))
            for key in ordered]


@dataclasses.dataclass(frozen=True)
class GroupRow:
    """The open pipeline of one owner or department."""

    key: int | None
    label: str
    count: int
    amount: decimal.Decimal
    weighted: decimal.Decimal


def pipeline_by_owner(ctx: Ctx) -> list[GroupRow]:
    rows = ctx.dbsession.execute(
        select(Opportunity.owner_id, func.count(), func.sum(Opportunity.amount),
               func.sum(Opportunity.amount * Opportunity.probability))
        .where(_visible(ctx), Opportunity.status == "open", Opportunity.deleted_at.is_(None))
        .group_by(Opportunity.owner_id))
    rows = rows.all()
    labels = user_labels(ctx, (row[0] for row in rows))
    out = [GroupRow(owner_id, labels.get(owner_id, "—") if owner_id else "—", count, _money(amount),
                    _money(decimal.Decimal(weighted or 0) / 100)) for owner_id, count, amount, weighted in rows]
    return sorted(out, key=lambda row: (-row.weighted, row.label))


def pipeline_by_department(ctx: Ctx) -> list[GroupRow]:
    rows = ctx.dbsession.execute(
        select(Department.id, Department.name, func.count(), func.sum(Opportunity.amount),
               func.sum(Opportunity.amount * Opportunity.probability))
        .select_from(Opportunity).join(User, User.id == Opportunity.owner_id)
        .outerjoin(Department, Department.id == User.department_id)
        .where(_visible(ctx), Opportunity.status == "open", Opportunity.deleted_at.is_(None))
        .group_by(Department.id, Department.name))
    out = [GroupRow(key, name or "—", count, _money(amount), _money(decimal.Decimal(weighted or 0) / 100))
           for key, name, count, amount, weighted in rows]
    return sorted(out, key=lambda row: (-row.weighted, row.label))


# ---------------------------------------------------------------- won against target


@dataclasses.dataclass(frozen=True)
class TargetRow:
    user_id: int
    label: str
    month: str
    target: decimal.Decimal | None
    won: decimal.Decimal

    @property
    def reached(self) -> decimal.Decimal | None:
        """The share of the target won (1 = 100 %), or None without a target."""
        if not self.target:
            return None
        return (self.won / self.target).quantize(decimal.Decimal("0.001"))


def won_against_target(ctx: Ctx, year: int) -> list[TargetRow]:
    """Per person and month of ``year``: what they won (closed that month) and their target;
    a row for every month that has either."""
    month = _month(ctx, Opportunity.closed_at)
    won = {(owner_id, key): _money(amount) for owner_id, key, amount in ctx.dbsession.execute(
        select(Opportunity.owner_id, month, func.sum(Opportunity.amount))
        .where(_visible(ctx), Opportunity.status == "won", Opportunity.deleted_at.is_(None),
               Opportunity.closed_at >= dt.datetime(year, 1, 1, tzinfo=dt.UTC),
               Opportunity.closed_at < dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC))
        .group_by(Opportunity.owner_id, month)) if owner_id is not None}
    targets = {(row.user_id, row.month.strftime("%Y-%m")): _money(row.amount) for row in ctx.dbsession.scalars(
        select(Target).where(Target.month >= dt.date(year, 1, 1), Target.month < dt.date(year + 1, 1, 1),
                             owners_condition(ctx, Opportunity.access_key, Target.user_id)))}
    labels = user_labels(ctx, {user_id for user_id, _key in set(won) | set(targets)})
    keys = sorted(set(won) | set(targets), key=lambda k: (k[1], labels.get(k[0], "—")))
    return [TargetRow(user_id, labels.get(user_id, "—"), key, targets.get((user_id, key)),
                      won.get((user_id, key), ZERO)) for user_id, key in keys]


def save_target(ctx: Ctx, user_id: int, month: str, amount: Any) -> Target | None:
    """An administrator's target for ``user_id`` in ``month`` (``YYYY-MM``); 0 or blank removes
    it (and returns None)."""
    from .services import amount as parse_amount
    from .services import changed

    ctx.access.require("opportunities.settings:admin")
    try:
        first = dt.date.fromisoformat(f"{month.strip()}-01")
    except (ValueError, AttributeError):
        raise TargetInvalid() from None
    try:
        value = parse_amount(amount)
    except AmountInvalid:
        raise TargetInvalid() from None
    user = ctx.dbsession.get(User, user_id)
    if user is None:
        raise TargetInvalid()
    row = ctx.dbsession.scalar(select(Target).where(Target.user_id == user_id, Target.month == first))
    before = row.amount if row is not None else None
    if not value:
        if row is not None:
            ctx.dbsession.delete(row)
            ctx.dbsession.flush()
            changed(ctx, "deleted", row, {"amount": (before, None)})
        return None
    if row is None:
        row = Target(user_id=user_id, month=first, amount=value)
        ctx.dbsession.add(row)
    row.amount = value
    ctx.dbsession.flush()
    changed(ctx, "updated" if before is not None else "created", row, {"amount": (before, value)})
    return row


def sales_people(ctx: Ctx) -> list[User]:
    """The active people who may open opportunities (administrators hold every permission), by
    user name, in one query: the rows of the targets grid (administrators only)."""
    ctx.access.require(ADMIN)
    granted = select(RolePermission.role_id).where(RolePermission.permission == SELLING)
    holders = (select(UserRole.user_id).join(Role, Role.id == UserRole.role_id)
               .where(or_(Role.key == ADMIN_ROLE, Role.id.in_(granted))))
    return list(ctx.dbsession.scalars(select(User).where(User.active.is_(True), User.id.in_(holders))
                                      .options(lazyload(User.roles)).order_by(User.username, User.id)))


def targets_of_year(ctx: Ctx, year: int) -> dict[tuple[int, int], decimal.Decimal]:
    """``{(user_id, month 1–12): target}`` of ``year``, every person's, in one query (administrators)."""
    ctx.access.require(ADMIN)
    rows = ctx.dbsession.execute(select(Target.user_id, Target.month, Target.amount).where(
        Target.month >= dt.date(year, 1, 1), Target.month < dt.date(year + 1, 1, 1)))
    return {(user_id, month.month): _money(amount) for user_id, month, amount in rows}


@dataclasses.dataclass(frozen=True)
class TargetsSaved:
    """What ``save_targets`` did: how many cells it wrote, or — nothing written — the refused
    cells ``(user_id, month)``."""

    changed: int
    refused: list[tuple[int, int]]


def save_targets(ctx: Ctx, year: int, cells: Mapping[tuple[int, int], Any]) -> TargetsSaved:
    """The targets grid of ``year``: ``{(user_id, month 1–12): amount as typed}``. Only a cell
    whose amount differs from the saved target is written (``save_target``: blank or 0 removes
    it). All or nothing: when a cell is refused, none is written (one savepoint)."""
    from .services import amount as parse_amount

    saved = targets_of_year(ctx, year)
    todo = []
    for (user_id, month), typed in cells.items():
        try:
            value = parse_amount(typed)
        except AmountInvalid:
            value = None  # refused by save_target below, with the rest of the grid
        if value is not None and value == saved.get((user_id, month), ZERO):
            continue
        todo.append((user_id, month, typed))
    refused = []
    savepoint = ctx.dbsession.begin_nested()
    try:
        for user_id, month, typed in todo:
            try:
                if not 1 <= month <= 12:
                    raise TargetInvalid()
                save_target(ctx, user_id, f"{year:04d}-{month:02d}", typed)
            except TargetInvalid:
                refused.append((user_id, month))
    except BaseException:
        savepoint.rollback()
        raise
    if refused:
        savepoint.rollback()
        return TargetsSaved(0, refused)
    savepoint.commit()
    return TargetsSaved(len(todo), [])


# ---------------------------------------------------------------- stages


@dataclasses.dataclass(frozen=True)
class StageRow:
    stage_id: int
    name: str
    probability: int
    reached: int
    closed: int
    won: int
    average_days: decimal.Decimal | None

    @property
    def win_rate(self) -> decimal.Decimal | None:
        return (decimal.Decimal(self.won) / self.closed).quantize(decimal.Decimal("0.001")) if self.closed else None


def stage_report(ctx: Ctx, pipeline_id: int) -> list[StageRow]:
    """Per stage of a pipeline, from the history of the opportunities the reader sees."""
    visible = _visible(ctx)
    stages = list(ctx.dbsession.scalars(select(Stage).where(Stage.pipeline_id == pipeline_id)
                                        .order_by(Stage.sequence, Stage.id)))
    changes = ctx.dbsession.execute(
        select(StageChange.opportunity_id, StageChange.to_stage_id, StageChange.at, Opportunity.status)
        .join(Opportunity, Opportunity.id == StageChange.opportunity_id)
        .where(visible, Opportunity.pipeline_id == pipeline_id, Opportunity.deleted_at.is_(None))
        .order_by(StageChange.opportunity_id, StageChange.at, StageChange.id)).all()
    reached: dict[int, set[int]] = defaultdict(set)
    status: dict[int, str] = {}
    spent: dict[int, list[float]] = defaultdict(list)
    for n, (opportunity_id, stage_id, at, state) in enumerate(changes):
        reached[stage_id].add(opportunity_id)
        status[opportunity_id] = state
        following = changes[n + 1] if n + 1 < len(changes) else None
        if following is not None and following[0] == opportunity_id:
            spent[stage_id].append((following[2] - at).total_seconds() / 86400)
        elif state == "open":
            spent[stage_id].append((ctx.now - at).total_seconds() / 86400)
    out = []
    for stage in stages:
        ids = reached.get(stage.id, set())
        closed = [i for i in ids if status[i] in ("won", "lost")]
        days = spent.get(stage.id) if stage.kind == "open" else None
        out.append(StageRow(stage.id, stage.name, stage.probability, len(ids), len(closed),
                            sum(1 for i in closed if status[i] == "won"),
                            decimal.Decimal(sum(days) / len(days)).quantize(decimal.Decimal("0.1")) if days else None))
    return out


def average_cycle_days(ctx: Ctx) -> decimal.Decimal | None:
    """Average days from opening to winning, over the won opportunities the reader sees."""
    rows = ctx.dbsession.execute(select(Opportunity.created_at, Opportunity.closed_at).where(
        _visible(ctx), Opportunity.status == "won", Opportunity.deleted_at.is_(None))).all()
    if not rows:
        return None
    days = [(closed - created).total_seconds() / 86400 for created, closed in rows if closed and created]
    return decimal.Decimal(sum(days) / len(days)).quantize(decimal.Decimal("0.1")) if days else None
