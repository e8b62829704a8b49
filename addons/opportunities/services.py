"""Every rule about opportunities: permission checks, validation, writes, stage moves with their
history, the notices they send (S2), and audit (through ``kehu_record_changed``). Views, the
API, the import, the lead conversion and demo data call these functions."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select

from addons.customers import services as customers
from addons.customers.exceptions import UnknownChoice
from core.access.members import RecordMember, members_of, remove_member, set_member
from core.access.scopes import get_in_scope, scope_condition
from core.changes import record_changed as changed
from core.context import Ctx
from core.customfields.services import set_values
from core.i18n import _
from core.models import Department, User
from core.notifications.services import notify

from . import pipelines, scoring
from .exceptions import (
    AmountInvalid,
    CloseDateInvalid,
    LostReasonRequired,
    OpportunityFieldTooLong,
    ProbabilityInvalid,
    StageNotInPipeline,
    TitleRequired,
)
from .models import Opportunity, Pipeline, Stage, StageChange

#: What a form, an import or the API may set (the stage moves through ``move_stage``).
FIELDS = ("title", "amount", "expected_close", "probability", "competitor", "products", "description")
LIMITS = {"title": 200, "competitor": 200, "products": 5000, "description": 5000}
MAX_AMOUNT = decimal.Decimal("999999999999.99")


# ---------------------------------------------------------------- opportunities


def create_opportunity(ctx: Ctx, *, customer_id: int, title: str, pipeline_id: int | None = None,
                       stage_id: int | None = None, owner_id: int | None = None, lead_id: int | None = None,
                       custom: dict[str, Any] | None = None, **fields: Any) -> Opportunity:
    """A new opportunity for a customer the user may read, in ``pipeline_id`` (default: the
    first offered) at ``stage_id`` (default: its first open stage), owned by ``owner_id``
    (default: the acting user). Its probability is the stage's unless given."""
    ctx.access.require("opportunities.opportunity:create")
    values = _clean(dict(fields, title=title))
    customer = customers.get_customer(ctx, customer_id)
    pipeline = pipelines.pipeline_for(ctx, pipeline_id)
    stage = _stage_of(ctx, pipeline, stage_id) if stage_id else pipelines.open_stages(pipeline)[0]
    opportunity = Opportunity(customer_id=customer.id, pipeline_id=pipeline.id, stage_id=stage.id,
                              status=stage.kind, probability=stage.probability, stage_changed_at=ctx.now,
                              owner_id=owner_id if owner_id is not None else _user_id(ctx), lead_id=lead_id,
                              amount=decimal.Decimal(0))
    if stage.kind != "open":
        opportunity.closed_at = ctx.now
    for field, value in values.items():
        setattr(opportunity, field, value)
    ctx.dbsession.add(opportunity)
    ctx.dbsession.flush()
    ctx.dbsession.add(StageChange(opportunity_id=opportunity.id, to_stage_id=stage.id, user_id=_user_id(ctx),
                                  at=ctx.now))
    changes = {field: (None, value) for field, value in values.items()}
    changes.update(customer_id=(None, customer.id), stage_id=(None, stage.id), owner_id=(None, opportunity.owner_id))
    changed(ctx, "created", opportunity, changes)
    if custom:
        set_values(ctx, opportunity, custom, creating=True)
    scoring.rescore(ctx, [opportunity.id])
    return opportunity


def get_opportunity(ctx: Ctx, opportunity_id: int, action: str = "read") -> Opportunity:
    """The opportunity, or RecordNotFound (404) outside the user's scope for ``action``."""
    return get_in_scope(ctx, Opportunity, opportunity_id, action)


def update_opportunity(ctx: Ctx, opportunity_id: int, **fields: Any) -> Opportunity:
    """Change an opportunity's own fields (not its stage: ``move_stage``)."""
    opportunity = get_opportunity(ctx, opportunity_id, "write")
    values = _clean(fields, current=opportunity)
    changes = {field: (getattr(opportunity, field), value) for field, value in values.items()
               if getattr(opportunity, field) != value}
    for field, (_before, after) in changes.items():
        setattr(opportunity, field, after)
    if "expected_close" in changes:
        opportunity.overdue_notified_for = None  # a new date earns a new notice
    ctx.dbsession.flush()
    if changes:
        changed(ctx, "updated", opportunity, changes)
        scoring.rescore(ctx, [opportunity.id])
    return opportunity


def assign_opportunities(ctx: Ctx, opportunity_ids: Iterable[int], owner_id: int) -> int:
    """转移: a new owner for the opportunities the user may change; the new owner is told once."""
    ctx.access.require("opportunities.opportunity:write")
    owner = ctx.dbsession.get(User, owner_id)
    if owner is None or not owner.active:
        raise UnknownChoice(value=owner_id, field=_("owner"))
    moved = [o for o in ctx.dbsession.scalars(select(Opportunity).where(
        scope_condition(ctx, Opportunity, "write"), Opportunity.id.in_(list(opportunity_ids))).order_by(Opportunity.id))
        if o.owner_id != owner_id]
    for opportunity in moved:
        before, opportunity.owner_id = opportunity.owner_id, owner_id
        changed(ctx, "updated", opportunity, {"owner_id": (before, owner_id)})
    ctx.dbsession.flush()
    if moved and owner_id != _user_id(ctx):
        actor = ctx.user.label if ctx.user is not None else "Kehu"
        notify(ctx, [owner_id], "opportunities.assigned", moved[0],
               _("${user} gave you ${count} opportunities, the first “${title}”.",
                 mapping={"user": actor, "count": len(moved), "title": moved[0].title}),
               url=f"/opportunities/{moved[0].id}")
    return len(moved)


def set_collaborators(ctx: Ctx, opportunity_id: int, user_ids: Iterable[int]) -> Opportunity:
    """协作人: the colleagues working the opportunity with its owner (read-write team members,
    who hear of its stage changes). Active users only; audited."""
    opportunity = get_opportunity(ctx, opportunity_id, "write")
    wanted = set(ctx.dbsession.scalars(select(User.id).where(User.id.in_(list(user_ids)), User.active.is_(True))))
    if len(wanted) != len(set(user_ids)):
        raise UnknownChoice(value=", ".join(str(i) for i in sorted(set(user_ids) - wanted)), field=_("collaborators"))
    wanted.discard(opportunity.owner_id)
    current = {m.user_id for m in members_of(ctx, opportunity)}
    for user_id in wanted - current:
        set_member(ctx, opportunity, user_id, can_write=True)
    for user_id in current - wanted:
        remove_member(ctx, opportunity, user_id)
    if wanted != current:
        changed(ctx, "updated", opportunity, {"collaborators": (sorted(current), sorted(wanted))})
    return opportunity


def delete_opportunity(ctx: Ctx, opportunity_id: int) -> None:
    """Into the recycle bin (``opportunities.opportunity:delete``, within the delete scope)."""
    opportunity = get_opportunity(ctx, opportunity_id, "delete")
    opportunity.deleted_at, opportunity.deleted_by = ctx.now, _user_id(ctx)
    ctx.dbsession.flush()
    changed(ctx, "deleted", opportunity, {"deleted_at": (None, ctx.now)})


def in_scope(ctx: Ctx, action: str = "read") -> Any:
    """``select(Opportunity)`` limited to the user's scope: lists, boards and reports start here."""
    return select(Opportunity).where(scope_condition(ctx, Opportunity, action))


# ---------------------------------------------------------------- stages


def move_stage(ctx: Ctx, opportunity_id: int, stage_id: int, *, lost_reason: str | None = None,
               probability: int | None = None) -> Opportunity:
    """Move the opportunity to another stage of its pipeline (the kanban's drag, the API's
    ``stage``). Won and lost stages close it (lost needs a reason); an open stage reopens it.
    The probability becomes the stage's (or ``probability``). Recorded for time in stage,
    audited, and the people concerned are told (S2)."""
    opportunity = get_opportunity(ctx, opportunity_id, "write")
    pipeline = ctx.dbsession.get(Pipeline, opportunity.pipeline_id)
    stage = _stage_of(ctx, pipeline, stage_id)
    if stage.id == opportunity.stage_id:
        return opportunity
    reason = (lost_reason or "").strip() or None
    if stage.kind == "lost" and reason is None:
        raise LostReasonRequired()
    if reason is not None and len(reason) > 2000:
        raise OpportunityFieldTooLong(field=_("Lost reason"), limit=2000)
    before = ctx.dbsession.get(Stage, opportunity.stage_id)
    changes: dict[str, tuple[Any, Any]] = {"stage_id": (before.id, stage.id),
                                           "status": (opportunity.status, stage.kind)}
    opportunity.stage_id, opportunity.status, opportunity.stage_changed_at = stage.id, stage.kind, ctx.now
    opportunity.probability = _probability(probability) if probability is not None else stage.probability
    opportunity.closed_at = ctx.now if stage.kind != "open" else None
    opportunity.lost_reason = reason if stage.kind == "lost" else None
    if reason is not None and stage.kind == "lost":
        changes["lost_reason"] = (None, reason)
    ctx.dbsession.add(StageChange(opportunity_id=opportunity.id, from_stage_id=before.id, to_stage_id=stage.id,
                                  user_id=_user_id(ctx), at=ctx.now))
    ctx.dbsession.flush()
    changed(ctx, "updated", opportunity, changes)
    scoring.rescore(ctx, [opportunity.id])
    _tell_about_stage(ctx, opportunity, before, stage)
    ctx.hooks.opportunities_stage_changed(ctx=ctx, opportunity=opportunity, before=before, after=stage)
    return opportunity


def stage_history(ctx: Ctx, opportunity_id: int) -> list[dict[str, Any]]:
    """The opportunity's stages, oldest first, each with how long it stayed (to now for the current)."""
    opportunity = get_opportunity(ctx, opportunity_id)
    rows = ctx.dbsession.scalars(select(StageChange).where(StageChange.opportunity_id == opportunity.id)
                                 .order_by(StageChange.at, StageChange.id)).all()
    stages = pipelines.all_stages(ctx)
    out = []
    for n, row in enumerate(rows):
        until = rows[n + 1].at if n + 1 < len(rows) else (opportunity.closed_at or ctx.now)
        out.append({"change": row, "stage": stages.get(row.to_stage_id), "duration": until - row.at,
                    "current": n + 1 == len(rows)})
    return out


# ---------------------------------------------------------------- notices (S2)


def concerned(ctx: Ctx, opportunity: Opportunity) -> list[int]:
    """Who hears of the opportunity's changes: its owner, its collaborators (team members) and
    the manager of the owner's department — never the person acting."""
    ids = {opportunity.owner_id} if opportunity.owner_id else set()
    ids |= set(ctx.dbsession.scalars(select(RecordMember.user_id).where(
        RecordMember.model == Opportunity.__tablename__, RecordMember.record_id == opportunity.id)))
    if opportunity.owner_id:
        manager = ctx.dbsession.scalar(select(Department.manager_id).join(User, User.department_id == Department.id)
                                       .where(User.id == opportunity.owner_id))
        if manager:
            ids.add(manager)
    ids.discard(_user_id(ctx))
    return sorted(i for i in ids if i is not None)


def _tell_about_stage(ctx: Ctx, opportunity: Opportunity, before: Stage, after: Stage) -> None:
    people = concerned(ctx, opportunity)
    if not people:
        return
    actor = ctx.user.label if ctx.user is not None else "Kehu"
    mapping = {"user": actor, "title": opportunity.title, "from": before.name, "to": after.name}
    if after.kind == "won":
        kind, message = "opportunities.won", _("${user} won “${title}”.", mapping=mapping)
    elif after.kind == "lost":
        kind, message = "opportunities.lost", _("${user} lost “${title}”: ${reason}",
                                                  mapping={**mapping, "reason": opportunity.lost_reason})
    else:
        kind, message = "opportunities.stage_changed", _("${user} moved “${title}” from ${from} to ${to}.",
                                                          mapping=mapping)
    notify(ctx, people, kind, opportunity, message, url=f"/opportunities/{opportunity.id}")


def notify_overdue(ctx: Ctx) -> dict[str, int]:
    """The daily job: an open opportunity past its expected close date tells the people
    concerned once per date (S2); moving the date earns a new notice."""
    today = ctx.now.date()
    due = ctx.dbsession.scalars(select(Opportunity).where(
        Opportunity.status == "open", Opportunity.deleted_at.is_(None), Opportunity.expected_close < today,
        (Opportunity.overdue_notified_for.is_(None)) | (Opportunity.overdue_notified_for != Opportunity.expected_close))
        .order_by(Opportunity.id).limit(2000)).all()
    for opportunity in due:
        opportunity.overdue_notified_for = opportunity.expected_close
        people = sorted(set(concerned(ctx, opportunity)) | ({opportunity.owner_id} if opportunity.owner_id else set()))
        notify(ctx, people, "opportunities.overdue", opportunity,
               _("“${title}” was expected to close on ${date}: move the date or close it.",
                 mapping={"title": opportunity.title, "date": opportunity.expected_close.isoformat()}),
               url=f"/opportunities/{opportunity.id}")
    ctx.dbsession.flush()
    return {"notified": len(due)}


# ---------------------------------------------------------------- helpers


def _stage_of(ctx: Ctx, pipeline: Pipeline, stage_id: int) -> Stage:
    stage = ctx.dbsession.get(Stage, stage_id)
    if stage is None or stage.pipeline_id != pipeline.id or not stage.active:
        raise StageNotInPipeline(stage=stage.name if stage else str(stage_id), pipeline=pipeline.name)
    return stage


def _clean(values: dict[str, Any], current: Opportunity | None = None) -> dict[str, Any]:
    """Checked, normalised values; raises the first problem before anything is written."""
    out: dict[str, Any] = {}
    for field, value in values.items():
        if field not in FIELDS:
            raise TypeError(f"unknown opportunity field {field!r}")
        if isinstance(value, str):
            value = value.strip() or None
        if isinstance(value, str) and field in LIMITS and len(value) > LIMITS[field]:
            raise OpportunityFieldTooLong(field=Opportunity.__table__.c[field].info["label"], limit=LIMITS[field])
        out[field] = value
    if ("title" in out or current is None) and not out.get("title"):
        raise TitleRequired()
    if "amount" in out:
        out["amount"] = amount(out["amount"])
    if "expected_close" in out:
        out["expected_close"] = close_date(out["expected_close"])
    if "probability" in out:
        if out["probability"] is None:
            del out["probability"]  # keep the stage's
        else:
            out["probability"] = _probability(out["probability"])
    return out


def amount(value: Any) -> decimal.Decimal:
    """An amount of yuan (blank = 0): "1,200.50", 1200.5 or Decimal; never negative."""
    if value is None or value == "":
        return decimal.Decimal(0)
    try:
        number = decimal.Decimal(str(value).replace(",", "").replace("¥", "").strip())
    except decimal.InvalidOperation:
        raise AmountInvalid() from None
    if not number.is_finite() or number < 0 or number > MAX_AMOUNT:
        raise AmountInvalid()
    return number.quantize(decimal.Decimal("0.01"), rounding=decimal.ROUND_HALF_UP)


def close_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip().replace("/", "-"))
    except ValueError:
        raise CloseDateInvalid() from None


def _probability(value: Any) -> int:
    try:
        number = int(str(value).strip().rstrip("%"))
    except (TypeError, ValueError):
        raise ProbabilityInvalid() from None
    if not 0 <= number <= 100:
        raise ProbabilityInvalid()
    return number


def _user_id(ctx: Ctx) -> int | None:
    return ctx.user.id if ctx.user is not None else None


def won_amounts(ctx: Ctx, customer_ids: Iterable[int]) -> dict[int, decimal.Decimal]:
    """``customers_value``: what each customer bought, the sum of its won opportunities."""
    ids = list(customer_ids)
    if not ids:
        return {}
    return dict(ctx.dbsession.execute(
        select(Opportunity.customer_id, func.sum(Opportunity.amount)).where(
            Opportunity.customer_id.in_(ids), Opportunity.status == "won", Opportunity.deleted_at.is_(None))
        .group_by(Opportunity.customer_id)).all())
