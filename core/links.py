"""Links between addons' records without imports: a record is named by its table and id
(``("customers_customer", 12)``) and the addon that owns the table answers
``kehu_record_links`` with its title and page for this reader, or leaves it out when the reader
may not see it. One hook call per table, whatever the number of records on the page."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from core.contributions import RecordLink

Ref = tuple[str, int]


def record_links(ctx: Any, refs: Iterable[Ref | None]) -> dict[Ref, RecordLink]:
    """The links the reader may follow, by ``(table, id)``; unknown and hidden records are
    absent."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for ref in refs:
        if ref is not None and ref[0] and ref[1] is not None:
            wanted[ref[0]].add(int(ref[1]))
    found: dict[Ref, RecordLink] = {}
    for table, ids in wanted.items():
        for answer in ctx.hooks.kehu_record_links(ctx=ctx, table=table, ids=sorted(ids)):
            for record_id, link in (answer or {}).items():
                if record_id in ids:
                    found[(table, record_id)] = link
    return found


def record_link(ctx: Any, table: str, record_id: int) -> RecordLink | None:
    """One record's link, or None when it does not exist or the reader may not see it."""
    return record_links(ctx, [(table, record_id)]).get((table, record_id))


def scoped_links(ctx: Any, model: type, ids: list[int], title: str, url: str, kind: Any = "") -> dict[int, RecordLink]:
    """The usual answer to ``kehu_record_links`` for an ``Owned`` model: the ``ids`` in the
    reader's read scope, titled by the column ``title``, at ``url`` (``/customers/{id}``);
    nothing when the reader lacks the read permission."""
    from sqlalchemy import select

    from core.access.scopes import scope_condition

    if not ids or not ctx.access.can(f"{model.access_key}:read"):  # type: ignore[attr-defined]
        return {}
    rows = ctx.dbsession.execute(select(model.id, getattr(model, title)).where(  # type: ignore[attr-defined]
        model.id.in_(ids), scope_condition(ctx, model)))  # type: ignore[attr-defined]
    return {record_id: RecordLink(name, url.format(id=record_id), kind) for record_id, name in rows}
