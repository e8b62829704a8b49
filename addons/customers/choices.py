"""The administrator's lists a customer's source (来源), level (级别) and industry (行业) are chosen
from: their defaults, their upkeep (add, rename, reorder, deactivate — never delete, customers
keep what they have) and the check every form, import row and API call goes through."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from core.access.exceptions import RecordNotFound
from core.audit.services import write_audit
from core.config_cache import cached
from core.context import Ctx
from core.i18n import _

from .exceptions import ChoiceValueInvalid, IndustryUnavailable, LevelUnavailable, SourceUnavailable
from .models import Choice

PERMISSION = "customers.settings:admin"
KINDS: dict[str, Any] = {"source": _("Sources"), "level": _("Levels"), "industry": _("Industries")}
#: The refusal each kind raises, so a form shows it beside its own field.
REFUSALS = {"source": SourceUnavailable, "level": LevelUnavailable, "industry": IndustryUnavailable}
#: The widest value each kind's customer column holds.
VALUE_LIMITS = {"source": 100, "level": 20, "industry": 100}
LABEL_LIMIT = 100
DEFAULTS: dict[str, tuple[tuple[str, str], ...]] = {
    "level": (("A", "A（重要）"), ("B", "B（普通）"), ("C", "C（一般）"), ("D", "D（低价值）")),
    "source": tuple((name, name) for name in ("官网", "电话营销", "展会", "客户介绍", "广告", "其他")),
    "industry": tuple((name, name) for name in (
        "软件和信息技术", "电子制造", "制造业", "批发零售", "交通物流", "医疗健康", "金融", "教育", "餐饮",
        "建筑和房地产", "能源化工", "农业", "政府和公共事业", "其他")),
}


@dataclasses.dataclass(frozen=True)
class Entry:
    """An entry as read (a plain copy, so a cached list never goes stale with its session)."""

    id: int
    kind: str
    value: str
    label: str
    position: int
    active: bool


def seed_defaults(ctx: Ctx) -> None:
    """The addon's data load (install and upgrade): the default entries of a list that has none,
    so an administrator's own list is never topped up again."""
    for kind, entries in DEFAULTS.items():
        if ctx.dbsession.scalar(select(Choice.id).where(Choice.kind == kind).limit(1)) is not None:
            continue
        for position, (value, label) in enumerate(entries):
            ctx.dbsession.add(Choice(kind=kind, value=value, label=label, position=position, active=True))
    ctx.dbsession.flush()


def choices(ctx: Ctx, kind: str, *, active_only: bool = False) -> list[Entry]:
    """The entries of a list in their order (the inactive ones too, unless ``active_only``)."""
    kind = _kind(kind)
    return [c for c in _entries(ctx) if c.kind == kind and (c.active or not active_only)]


def _entries(ctx: Ctx) -> tuple[Entry, ...]:
    """Every entry of every list, kept per process (``core.config_cache``): a list page's three
    filters, a form's three selects and an import's rows cost no query, or one."""
    def load() -> tuple[Entry, ...]:
        rows = ctx.dbsession.scalars(select(Choice).order_by(Choice.kind, Choice.position, Choice.id))
        return tuple(Entry(c.id, c.kind, c.value, c.label, c.position, c.active) for c in rows)
    return cached(ctx, "customers.choices", load)


def options(ctx: Ctx, kind: str, current: str | None = None) -> list[tuple[str, str]]:
    """``[(value, label)]`` a form offers: the active entries, and the record's ``current``
    value even when deactivated or never listed, so saving the form does not lose it."""
    entries = choices(ctx, kind)
    out = [(c.value, c.label) for c in entries if c.active]
    if current and current not in {value for value, _label in out}:
        known = next((c.label for c in entries if c.value == current), current)
        out.append((current, known))
    return out


def filter_options(kind: str) -> Any:
    """A list filter's ``choices``: every entry, inactive ones included (customers still have them)."""
    def load(ctx: Ctx) -> list[tuple[str, str]]:
        return [(c.value, c.label) for c in choices(ctx, kind)]
    return load


def labels(ctx: Ctx, kind: str) -> dict[str, str]:
    """``{value: label}`` of a list, for showing a stored value."""
    return {c.value: c.label for c in choices(ctx, kind)}


def value_for(ctx: Ctx, kind: str, text: str) -> str:
    """The value ``text`` names in a list — itself, or an entry's label (an import file may hold
    either, in any case for levels); ``text`` unchanged when no entry matches (the check refuses it)."""
    wanted = text.strip()
    for entry in choices(ctx, kind):
        if wanted in (entry.value, entry.label) or (kind == "level" and wanted.upper() == entry.value):
            return entry.value
    return wanted


def check_values(ctx: Ctx, values: Mapping[str, Any], current: Any = None) -> None:
    """Refuse a source, level or industry that is not an active entry of its list. A value the
    record already has passes (a customer keeps an entry deactivated after it was set)."""
    for kind in KINDS:
        value = values.get(kind)
        if not value or (current is not None and getattr(current, kind, None) == value):
            continue
        if not any(c.value == value for c in choices(ctx, kind, active_only=True)):
            raise REFUSALS[kind](value=value, field=KINDS[kind])


# -- upkeep (administrators) -------------------------------------------------------------------

def add_choice(ctx: Ctx, kind: str, value: str, label: str | None = None) -> Choice:
    """A new entry at the end of the list; ``value`` is stored on customers and cannot change."""
    ctx.access.require(PERMISSION)
    kind = _kind(kind)
    value = (value or "").strip()
    label = (label or "").strip() or value
    limit = VALUE_LIMITS[kind]
    if kind == "level":
        value = value.upper()
    taken = ctx.dbsession.scalar(select(Choice.id).where(Choice.kind == kind, Choice.value == value))
    if not value or len(value) > limit or len(label) > LABEL_LIMIT or taken is not None:
        raise ChoiceValueInvalid(limit=limit)
    last = ctx.dbsession.scalar(select(func.max(Choice.position)).where(Choice.kind == kind))
    choice = Choice(kind=kind, value=value, label=label, position=(last or 0) + 1, active=True)
    ctx.dbsession.add(choice)
    ctx.dbsession.flush()
    write_audit(ctx, "create", model=Choice.__tablename__, record_id=choice.id,
                changes={"kind": [None, kind], "value": [None, value], "label": [None, label]})
    return choice


def update_choice(ctx: Ctx, choice_id: int, *, label: str | None = None, active: bool | None = None) -> Choice:
    """Rename (the label) or (de)activate an entry."""
    ctx.access.require(PERMISSION)
    choice = _get(ctx, choice_id)
    changes: dict[str, list[Any]] = {}
    if label is not None:
        label = label.strip()
        if not label or len(label) > LABEL_LIMIT:
            raise ChoiceValueInvalid(limit=LABEL_LIMIT)
        if label != choice.label:
            changes["label"] = [choice.label, label]
            choice.label = label
    if active is not None and bool(active) != choice.active:
        changes["active"] = [choice.active, bool(active)]
        choice.active = bool(active)
    if changes:
        ctx.dbsession.flush()
        write_audit(ctx, "update", model=Choice.__tablename__, record_id=choice.id, changes=changes)
    return choice


def move_choice(ctx: Ctx, choice_id: int, step: int) -> None:
    """Move an entry one place up (``step`` -1) or down (+1) in its list."""
    ctx.access.require(PERMISSION)
    choice = _get(ctx, choice_id)
    entries = list(ctx.dbsession.scalars(select(Choice).where(Choice.kind == choice.kind)
                                         .order_by(Choice.position, Choice.id)))
    index = next(i for i, c in enumerate(entries) if c.id == choice.id)
    target = index + (1 if step > 0 else -1)
    if not 0 <= target < len(entries):
        return
    entries[index], entries[target] = entries[target], entries[index]
    for position, entry in enumerate(entries):
        entry.position = position
    ctx.dbsession.flush()
    write_audit(ctx, "update", model=Choice.__tablename__, record_id=choice.id,
                changes={"position": [index, target]})


def _get(ctx: Ctx, choice_id: int) -> Choice:
    choice = ctx.dbsession.get(Choice, choice_id)
    if choice is None:
        raise RecordNotFound()
    return choice


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown choice list {kind!r}")
    return kind
