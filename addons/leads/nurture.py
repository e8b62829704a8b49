"""培育 (nurture): a lead in status "nurture" is followed up every ``nurture_days`` days — the
services move its next follow-up on (``services._plan_nurture``, ``add_followup``), and the
periodic job here tells its owner when that time has come, once per due time.

"Once" holds across workers and runs: a reminder is taken by a conditional UPDATE that records
the due time it is for (``nurture_reminded_for``); a second worker's UPDATE finds it recorded
and sends nothing. The next follow-up moves the due time on, and with it the next reminder."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, and_, or_, select, update

from core.access.recycle import live
from core.context import Ctx
from core.i18n import _
from core.notifications.services import notify

from .models import Lead

KIND = "leads.nurture_due"
#: Reminders one run sends at most; the rest wait for the next run (every 30 minutes).
BATCH = 500


def _due(now: dt.datetime) -> ColumnElement[bool]:
    """Owned leads in nurture, due by ``now``, not yet reminded for this due time."""
    return and_(Lead.status == "nurture", Lead.next_followup_at <= now, Lead.owner_id.is_not(None), live(Lead),
                or_(Lead.nurture_reminded_for.is_(None), Lead.nurture_reminded_for != Lead.next_followup_at))


def remind_nurture_due(ctx: Ctx, *, limit: int = BATCH) -> int:
    """Tell each due lead's owner it is time to follow it up again; returns how many were told."""
    due = ctx.dbsession.execute(
        select(Lead.id, Lead.name, Lead.owner_id, Lead.nurture_days).where(_due(ctx.now))
        .order_by(Lead.next_followup_at, Lead.id).limit(limit)).all()
    sent = 0
    for lead_id, name, owner_id, days in due:
        if not claim_reminder(ctx, lead_id):
            continue  # another worker reminded it, or it was followed up meanwhile
        notify(ctx, [owner_id], KIND, _Ref(lead_id),
               _("Time to follow up “${name}” again: it is being nurtured every ${days} days.",
                 mapping={"name": name, "days": days or 30}),
               url=f"/leads/{lead_id}")
        sent += 1
    ctx.dbsession.flush()
    return sent


def claim_reminder(ctx: Ctx, lead_id: int) -> bool:
    """Take the lead's reminder for its current due time: true for exactly one caller. On
    PostgreSQL a second transaction's UPDATE waits for the first's row lock and then finds the
    due time recorded; SQLite runs one writer at a time. The lead's ``updated_at`` stays: a
    reminder is no change to the lead."""
    result = ctx.dbsession.execute(
        update(Lead).where(Lead.id == lead_id, _due(ctx.now))
        .values(nurture_reminded_for=Lead.next_followup_at, updated_at=Lead.updated_at)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1  # type: ignore[attr-defined]


def remind_job(ctx: Ctx) -> dict[str, int]:
    """``leads.nurture.remind`` (kehu_periodic_jobs)."""
    return {"reminded": remind_nurture_due(ctx)}


class _Ref:
    """A lead known by id only: what a notification links to."""

    __tablename__ = Lead.__tablename__

    def __init__(self, record_id: int) -> None:
        self.id = record_id
