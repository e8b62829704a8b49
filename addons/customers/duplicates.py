"""查重 (D-DUP): who already works this company? Asked on create, edit, import, from the contact
form and on the lookup page, across the whole installation whatever the caller's scope — but a
hit outside the caller's scope shows only a masked name, its kind and its owner, no link.

Matching, strongest first: the same credit code, the same normalised name (``names``), a contact
with the same mobile or e-mail, then similar names. Similar names stay cheap at a million
customers: a few probes that each stop after ``CANDIDATES_PER_PROBE`` rows (the name contains
the typed one or a two- or three-character piece of it — the customer search's indexed condition
— or its pinyin starts with the typed name's) find candidates, which are ranked in Python with
``difflib``. Other addons add their own hits (a lead with the same mobile …) through
``customers_duplicate_candidates``.

A salesperson who finds the company owned by a colleague asks for it with
``request_handover`` (申请转移): the owner and the owner's department manager are notified,
once per requester and customer a day, and the request is audited.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import json
import unicodedata
from typing import Any
from zoneinfo import ZoneInfo

from pyramid.i18n import TranslationString
from sqlalchemy import ColumnElement, false, func, literal, or_, select, union_all

from core.access.exceptions import RecordNotFound
from core.access.scopes import scope_condition
from core.audit.services import write_audit
from core.context import Ctx
from core.i18n import _
from core.models import AuditEntry, Department, User
from core.notifications.services import notify

from .exceptions import HandoverAlreadyRequested, HandoverNotNeeded
from .models import Contact, Customer, Pool
from .names import normalise_company_name, pinyin_of, valid_credit_code, valid_mobile
from .search import customer_search_condition

DUPLICATE_LIMIT = 10
#: Each similar-name probe stops after this many rows, so a common piece ("科技") stays cheap.
CANDIDATES_PER_PROBE = 50
#: ``difflib`` ratio from which two normalised names count as similar (华信科技 ~ 华鑫科技 is 0.75).
NAME_SIMILARITY = 0.7
#: Match codes, strongest first; hits are ordered by them, then by similarity.
MATCHES = ("credit_code", "name", "mobile", "email", "similar", "pinyin")
REASONS = {
    "credit_code": _("Same credit code"),  # 信用代码
    "name": _("Same name"),  # 名称相同
    "mobile": _("Same contact mobile"),  # 手机
    "email": _("Same contact e-mail"),  # 邮箱
    "similar": _("Similar name"),  # 名称相似
    "pinyin": _("Name sounds the same"),  # 同音
}
HANDOVER_KIND = "customers.handover_requested"
#: The audit action of a handover request (``core.audit.services.ACTIONS``).
HANDOVER_AUDIT = "request"
DEFAULT_ZONE = "Asia/Shanghai"

Message = str | TranslationString
CUSTOMER_KIND = _("Customer")


@dataclasses.dataclass(frozen=True)
class DuplicateQuery:
    """What the user typed; blanks and invalid numbers are ignored. ``exclude_id`` is the
    customer being edited (it is not its own duplicate)."""

    name: str | None = None
    mobile: str | None = None
    email: str | None = None
    credit_code: str | None = None
    exclude_id: int | None = None

    @property
    def name_key(self) -> str:
        return normalise_company_name(self.name) if self.name and self.name.strip() else ""

    @property
    def mobile_number(self) -> str | None:
        return valid_mobile(self.mobile) if self.mobile and self.mobile.strip() else None

    @property
    def email_address(self) -> str | None:
        text = unicodedata.normalize("NFKC", self.email or "").strip()
        return text if "@" in text else None

    @property
    def code(self) -> str | None:
        return valid_credit_code(self.credit_code) if self.credit_code and self.credit_code.strip() else None

    def is_empty(self) -> bool:
        return not (self.name_key or self.mobile_number or self.email_address or self.code)


@dataclasses.dataclass(frozen=True)
class Duplicate:
    """One 查重 hit. ``name`` is already masked when ``in_scope`` is false (``mask_name``);
    ``url`` is set only for a record the caller may open. ``match`` is the code of ``reason``
    (``MATCHES``); hits of other addons set their own ``kind`` (线索 …)."""

    name: str
    owner: str
    kind: Message = CUSTOMER_KIND
    reason: Message = ""
    match: str = ""
    customer_id: int | None = None
    owner_id: int | None = None
    in_scope: bool = False
    url: str | None = None
    pool: str | None = None
    score: float = 1.0


def mask_name(name: str) -> str:
    """A company name as 查重 shows it outside the caller's scope: enough to recognise the
    company one typed, not enough to harvest a list. The rule: names of six or more characters
    keep their first two and last two (阿里巴巴(中国)有限公司 → 阿里***公司), names of three to
    five keep their first and last (华信科技 → 华***技), shorter ones their first (华信 → 华***);
    the stars are always three, so the length is not shown either."""
    text = (name or "").strip()
    if len(text) >= 6:
        return f"{text[:2]}***{text[-2:]}"
    if len(text) >= 3:
        return f"{text[0]}***{text[-1]}"
    return f"{text[:1]}***"


def find_duplicates(ctx: Ctx, query: DuplicateQuery | None = None, /, **fields: Any) -> list[Duplicate]:
    """查重 across the installation (D-DUP): at most ``DUPLICATE_LIMIT`` hits, strongest first,
    this addon's and those of ``customers_duplicate_candidates``. Pass a ``DuplicateQuery`` or
    its fields as keywords (``find_duplicates(ctx, name="阿里巴巴")``)."""
    query = query if query is not None else DuplicateQuery(**fields)
    if query.is_empty():
        return []
    hits = _customer_hits(ctx, query)
    for batch in ctx.hooks.customers_duplicate_candidates(ctx=ctx, query=query):
        hits.extend(batch or ())
    rank = {code: index for index, code in enumerate(MATCHES)}
    hits.sort(key=lambda hit: (rank.get(hit.match, len(MATCHES)), -hit.score))
    return hits[:DUPLICATE_LIMIT]


def _customer_hits(ctx: Ctx, query: DuplicateQuery) -> list[Duplicate]:
    key, code, number, email = query.name_key, query.code, query.mobile_number, query.email_address
    email = email.lower() if email else None
    probes = _probes(ctx, key, code, number, email)
    ids = union_all(*[select(probe.c.id) for probe in probes]).subquery()
    by_mobile = Customer.id.in_(select(Contact.customer_id).where(_same_mobile(number))) if number else false()
    by_email = Customer.id.in_(select(Contact.customer_id).where(_same_email(email))) if email else false()
    statement = (
        select(Customer.id, Customer.name, Customer.name_key, Customer.credit_code, Customer.owner_id,
               Customer.deleted_at, User.display_name, User.username, Pool.name.label("pool_name"),
               _in_scope(ctx).label("in_scope"), by_mobile.label("by_mobile"), by_email.label("by_email"))
        .outerjoin(User, User.id == Customer.owner_id)
        .outerjoin(Pool, Pool.id == Customer.pool_id)
        .where(Customer.id.in_(select(ids.c.id)))
    )
    if query.exclude_id is not None:
        statement = statement.where(Customer.id != query.exclude_id)
    typed_pinyin = pinyin_of(key)[0] if key else ""
    hits = []
    for row in ctx.dbsession.execute(statement):
        match, score = _match(row, key, code, typed_pinyin)
        if match is None:
            continue
        in_scope = bool(row.in_scope)
        pooled = row.owner_id is None
        hits.append(Duplicate(
            name=row.name if in_scope else mask_name(row.name),
            owner=(row.display_name or row.username or "—") if not pooled else "—",
            kind=_("In the recycle bin") if row.deleted_at is not None else _("Pool customer") if pooled
            else CUSTOMER_KIND,
            reason=REASONS[match], match=match, customer_id=row.id, owner_id=row.owner_id, in_scope=in_scope,
            url=f"/customers/{row.id}" if in_scope else None, pool=row.pool_name if pooled else None, score=score,
        ))
    return hits


def _probes(ctx: Ctx, key: str, code: str | None, number: str | None, email: str | None) -> list[Any]:
    """Small selects of candidate ids, each bounded; the name pieces go through the search's
    condition (``search.customer_search_condition``), which the trigram/bigram indexes answer."""
    probes: list[Any] = []

    def probe(statement: Any, limit: int = CANDIDATES_PER_PROBE) -> None:
        probes.append(statement.limit(limit).subquery())

    if key:
        probe(select(Customer.id).where(Customer.name_key == key), 1)
        probe(select(Customer.id).where(customer_search_condition(ctx, key)))
        if len(key) >= 2:
            for piece in _pieces(key):
                probe(select(Customer.id).where(customer_search_condition(ctx, piece)))
            typed_pinyin = pinyin_of(key)[0]
            if typed_pinyin:
                probe(select(Customer.id).where(Customer.pinyin.startswith(typed_pinyin, autoescape=True)))
    if code:
        probe(select(Customer.id).where(Customer.credit_code == code), 1)
    if number:
        probe(select(Contact.customer_id.label("id")).where(_same_mobile(number)), DUPLICATE_LIMIT)
    if email:
        probe(select(Contact.customer_id.label("id")).where(_same_email(email)), DUPLICATE_LIMIT)
    if not probes:  # only reached for a name that normalises to nothing
        probes.append(select(literal(0).label("id")).where(false()).subquery())
    return probes


def _same_mobile(number: str) -> ColumnElement[bool]:
    """Contacts in the recycle bin do not count; their customer, if binned too, does (by name)."""
    return (Contact.mobile == number) & Contact.deleted_at.is_(None)


def _same_email(email: str) -> ColumnElement[bool]:
    """E-mail addresses compare without case (Wang@Example.com is wang@example.com); the index
    on ``lower(email)`` (migration c009) answers it — keep the expression exactly this."""
    return (func.lower(Contact.email) == email) & Contact.deleted_at.is_(None)


def _pieces(key: str, most: int = 4) -> list[str]:
    """Up to ``most`` pieces of the key spread over it: bigrams for short names (华信科技 has
    no trigram in common with 华鑫科技), trigrams for longer ones."""
    size = 2 if len(key) <= 5 else 3
    grams = [key[i:i + size] for i in range(len(key) - size + 1)]
    if len(grams) <= most:
        return grams
    step = (len(grams) - 1) / (most - 1)
    return list(dict.fromkeys(grams[round(i * step)] for i in range(most)))


def _match(row: Any, key: str, code: str | None, typed_pinyin: str) -> tuple[str | None, float]:
    if code and row.credit_code == code:
        return "credit_code", 1.0
    if key and row.name_key == key:
        return "name", 1.0
    if row.by_mobile:
        return "mobile", 1.0
    if row.by_email:
        return "email", 1.0
    if not key:
        return None, 0.0
    ratio = difflib.SequenceMatcher(None, key, row.name_key, autojunk=False).ratio()
    if key in row.name_key or row.name_key in key:
        return "similar", max(ratio, 0.9)
    if len(key) >= 2 and typed_pinyin and pinyin_of(row.name_key)[0] == typed_pinyin:
        return "pinyin", 0.85
    if ratio >= NAME_SIMILARITY:
        return "similar", ratio
    return None, 0.0


def _in_scope(ctx: Ctx) -> ColumnElement[bool]:
    """What the caller may open: their read scope, or a customer in one of their pools."""
    from .pool import pool_customers_condition  # pool imports services, which re-exports from here

    if not ctx.access.can("customers.customer:read"):
        return false()
    return or_(scope_condition(ctx, Customer, "read"), pool_customers_condition(ctx))


# ---------------------------------------------------------------- handover (申请转移)


def request_handover(ctx: Ctx, customer_id: int) -> list[int]:
    """Ask the owner of a customer (usually one outside the caller's scope, found by 查重) to
    hand it over: the owner and their department's manager get a notification naming the
    requester. Once per requester and customer a day (HandoverAlreadyRequested); a pool customer
    or one's own needs no handover (HandoverNotNeeded). Returns the ids notified."""
    ctx.access.require("customers.customer:read")
    if ctx.user is None:
        raise HandoverNotNeeded()
    row = ctx.dbsession.execute(select(Customer.id, Customer.name, Customer.owner_id)
                                .where(Customer.id == customer_id)).first()
    if row is None:
        raise RecordNotFound()
    if row.owner_id is None or row.owner_id == ctx.user.id:
        raise HandoverNotNeeded()
    owner = ctx.dbsession.get(User, row.owner_id)
    earlier = ctx.dbsession.scalar(
        select(func.count()).select_from(AuditEntry).where(
            AuditEntry.model == Customer.__tablename__, AuditEntry.record_id == str(row.id),
            AuditEntry.action == HANDOVER_AUDIT, AuditEntry.user_id == ctx.user.id,
            AuditEntry.at >= _day_start(ctx)))
    if earlier:
        raise HandoverAlreadyRequested(owner=_label(owner))
    recipients = [row.owner_id]
    manager_id = ctx.dbsession.scalar(select(Department.manager_id).where(Department.id == owner.department_id)) \
        if owner is not None and owner.department_id else None
    if manager_id is not None and manager_id not in (row.owner_id, ctx.user.id):
        recipients.append(manager_id)
    message = _("${user} asks for the customer “${name}” (owner: ${owner}) to be handed over.",
                mapping={"user": _label(ctx.user), "name": row.name, "owner": _label(owner)})
    notify(ctx, recipients, HANDOVER_KIND, None, message, url=f"/customers/{row.id}")
    write_audit(ctx, HANDOVER_AUDIT, model=Customer.__tablename__, record_id=row.id,
                detail=json.dumps({"kind": HANDOVER_KIND, "owner_id": row.owner_id, "notified": recipients}))
    return recipients


def _label(user: Any) -> str:
    return (user.display_name or user.username) if user is not None else "—"


def _day_start(ctx: Ctx) -> dt.datetime:
    """Midnight of today in the requester's time zone, in UTC: "a day" is the requester's day."""
    zone = ZoneInfo(getattr(ctx.user, "timezone", None) or DEFAULT_ZONE)
    return dt.datetime.combine(ctx.now.astimezone(zone).date(), dt.time(), tzinfo=zone).astimezone(dt.UTC)
