"""Writing and reading the audit log. Entries are written by services in the same transaction
as the change they record, so a rolled-back change leaves no entry and a committed one always
has one. Sensitive values are stored masked."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import zoneinfo
from typing import Any

from sqlalchemy import Select, select

from core.access.masking import mask, sensitive_columns
from core.db import Base
from core.i18n import _, translate
from core.models import AuditEntry

ACTIONS = {
    "create": _("created"),
    "update": _("updated"),
    "delete": _("deleted"),
    "restore": _("restored"),
    "purge": _("purged for good"),
    "export": _("exported"),
    "import": _("imported"),
    "merge": _("merged"),
    "request": _("sent a request"),
    "login": _("signed in"),
    "login_failed": _("failed to sign in"),
    "login_locked": _("was locked out"),
    "logout": _("signed out"),
    "password_change": _("changed a password"),
    "permission_change": _("changed permissions"),
    "addon_install": _("installed an app"),
    "addon_upgrade": _("upgraded an app"),
    "addon_uninstall": _("uninstalled an app"),
}


def write_audit(
    ctx: Any,
    action: str,
    *,
    model: str = "",
    record_id: Any = "",
    changes: dict[str, Any] | None = None,
    detail: str = "",
    user: Any = None,
) -> AuditEntry:
    """Append one entry. ``changes`` maps a field to ``[before, after]``."""
    actor = user if user is not None else ctx.user
    entry = AuditEntry(
        at=ctx.now,
        user_id=actor.id if actor is not None else None,
        username=actor.username if actor is not None else ("system" if ctx.system else ""),
        ip=getattr(ctx, "ip", "") or "",
        action=action,
        model=model,
        record_id=str(record_id) if record_id not in (None, "") else "",
        changes=_masked(model, changes or {}),
        detail=detail[:2000],
    )
    ctx.dbsession.add(entry)
    return entry


def _masked(model: str, changes: dict[str, Any]) -> dict[str, Any]:
    table = Base.metadata.tables.get(model)
    kinds = sensitive_columns(table) if table is not None else {}
    clean: dict[str, Any] = {}
    for field, pair in changes.items():
        before, after = pair if isinstance(pair, list | tuple) and len(pair) == 2 else (None, pair)
        if field in kinds:
            before, after = mask(kinds[field], before), mask(kinds[field], after)
        clean[field] = [_jsonable(before), _jsonable(after)]
    return clean


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


@dataclasses.dataclass(frozen=True)
class AuditFilter:
    user_id: int | None = None
    action: str | None = None
    model: str | None = None
    record_id: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def audit_query(ctx: Any, filters: AuditFilter, *, before_id: int | None = None) -> Select[tuple[AuditEntry]]:
    """Newest first, keyset-paginated by id; only for holders of ``core.audit:read``."""
    ctx.access.require("core.audit:read")
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if filters.user_id is not None:
        query = query.where(AuditEntry.user_id == filters.user_id)
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    if filters.model:
        query = query.where(AuditEntry.model == filters.model)
    if filters.record_id:
        query = query.where(AuditEntry.record_id == filters.record_id)
    if filters.since is not None:
        query = query.where(AuditEntry.at >= filters.since)
    if filters.until is not None:
        query = query.where(AuditEntry.at < filters.until)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return query


def record_history(ctx: Any, model: str, record_id: Any, *, limit: int = 50) -> list[AuditEntry]:
    """A record's own entries, for its history tab (the caller has already opened the record)."""
    query = (select(AuditEntry).where(AuditEntry.model == model, AuditEntry.record_id == str(record_id))
             .order_by(AuditEntry.id.desc()).limit(limit))
    return list(ctx.dbsession.scalars(query))


#: The most rows one CSV export holds; narrow the filters for more.
EXPORT_LIMIT = 100_000

EXPORT_HEADER = (_("ID"), _("Time"), _("User"), _("IP address"), _("Action"), _("Action code"), _("Model"),
                 _("Record ID"), _("Changes"), _("Detail"))


def export_audit(ctx: Any, filters: AuditFilter, limit: int = EXPORT_LIMIT) -> tuple[list[str], list[tuple]]:
    """The entries matching ``filters`` (newest first, at most ``limit``) as a header and rows for
    ``core.exports.csv_bytes``, times in the exporter's time zone. The export itself is audited
    (the filters and the row count), in the same transaction."""
    ctx.access.require("core.audit:export")
    tz = _timezone_of(ctx.user)
    header = [translate(title, ctx.locale) for title in EXPORT_HEADER]
    titles = {key: translate(title, ctx.locale) for key, title in ACTIONS.items()}
    query = audit_query(ctx, filters).limit(limit).execution_options(yield_per=1000)
    rows = [
        (entry.id, entry.at.astimezone(tz).isoformat(sep=" ", timespec="seconds"), entry.username, entry.ip,
         titles.get(entry.action, entry.action), entry.action, entry.model, entry.record_id,
         json.dumps(entry.changes, ensure_ascii=False) if entry.changes else "", entry.detail)
        for entry in ctx.dbsession.scalars(query)
    ]
    described = {field: _jsonable(value) for field, value in dataclasses.asdict(filters).items()
                 if value not in (None, "")}
    write_audit(ctx, "export", model=AuditEntry.__tablename__,
                detail=json.dumps({"filters": described, "rows": len(rows), "limit": limit}, ensure_ascii=False))
    return header, rows


def _timezone_of(user: Any) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(user.timezone) if user is not None and user.timezone else dt.UTC
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC
