"""The benchmark's company, generated: departments with a manager each, salespeople with known
passwords, and N customers with contacts, follow-ups and 公海 (pool) members, seeded.

    python benchmarks/generate.py --database-url postgresql+psycopg://…/bench --customers 100000
    python benchmarks/generate.py --customers 20000      # a throwaway cluster: time the load only

Record scopes are real, so the harness measures what a salesperson's request costs: customer
``i`` belongs to salesperson ``k = i % S`` (their own scope), except every tenth of each
salesperson's customers, which waits ownerless in a pool (their department's or the company's);
managers see their department (``department_tree``); each department's pool serves the
department and is managed by its manager.

Users go through the core's ``create_user`` (password policy, roles, department), one argon2
hash shared by all of them (``password_hash=``: ~0.3 s per hash by design). Customers,
contacts, follow-ups and pool moves are COPYed in one transaction with the secondary indexes
dropped and rebuilt (``bulk.indexes_dropped``); ids are 1..N in generation order.

Idempotent by "detect and skip, else reload": the load ends with an audit entry naming its
parameters; a second run with the same parameters finds it and changes nothing. Other
parameters (or ``--force``) TRUNCATE the customers' tables and load again; users and pools are
kept and reused by name. A database whose customers were not made here is refused (use
``--force`` to replace them).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select, text

from benchmarks.bulk import indexes_dropped
from benchmarks.names import company_names
from core.addons.catalog import AddonCatalog
from core.addons.installer import install_addons, installed_names, is_initialised
from core.audit.services import write_audit
from core.cli.database import initialise
from core.cli.environment import CliEnvironment
from core.context import Ctx
from core.models import AuditEntry, Department, User
from core.testing.plugin import ADMIN

VERSION = 2  # change when the generated data changes shape: older loads are then reloaded
PASSWORD = "Kehu-Bench-Pass-42"  # noqa: S105 (the benchmark users' published password)
ADDONS = {"customers": "addons.customers", "bench": "benchmarks.ceiling"}
MARKER = "bench generate"
REGIONS = ("华东大区", "华南大区", "华北大区", "华中大区", "西南大区", "西北大区", "东北大区", "港澳大区")
LOADED_TABLES = ("customers_customer", "customers_contact", "customers_followup", "customers_pool_move")
SOURCES = ("官网", "展会", "客户介绍", "电话营销", "广告", "其他")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
GIVEN = "伟芳娜敏静磊洋勇艳杰涛明超霞平刚丽强"
TITLES = ("总经理", "采购经理", "技术总监", "财务主管", "行政经理", "副总经理", "项目经理")
KINDS = ("phone", "phone", "phone", "wechat", "wechat", "visit", "email", "other")
NOTES = ("电话沟通需求，对方有兴趣，约下周演示。", "微信发送了产品资料和案例。", "上门拜访，见了采购经理，需要报价。",
         "邮件发送了正式报价和合同草稿。", "确认了预算和时间表，等对方内部审批。", "对方在比较竞品，价格是关键。")


@dataclasses.dataclass(frozen=True)
class Plan:
    """What to generate; the audit marker spells it out so a later run can tell."""

    customers: int
    salespeople: int = 120
    departments: int = 6
    seed: int = 7

    def __post_init__(self) -> None:
        if not 1 <= self.departments <= len(REGIONS):
            raise ValueError(f"departments: 1 to {len(REGIONS)}")
        if self.salespeople < self.departments or self.salespeople > 999:
            raise ValueError("salespeople: at least one per department, at most 999")

    @property
    def marker(self) -> str:
        return (f"{MARKER} v{VERSION}: customers={self.customers} salespeople={self.salespeople} "
                f"departments={self.departments} seed={self.seed}")


def sales_username(k: int) -> str:
    """Salesperson ``k`` (0-based) of the plan: ``bench_sales001`` …"""
    return f"bench_sales{k + 1:03d}"


def manager_username(d: int) -> str:
    return f"bench_manager{d + 1:02d}"


@dataclasses.dataclass
class Team:
    """The plan's people by index: ``sales[k]`` is salesperson k's user id, in department
    ``k % departments``; ``pools[d]`` department d's pool, ``company_pool`` the company's."""

    sales: list[int]
    managers: list[int]
    departments: list[int]
    pools: list[int]
    company_pool: int


def generate(url: str, plan: Plan, *, force: bool = False, catalog: AddonCatalog | None = None,
             verbose: bool = True) -> dict[str, Any]:
    """Make the database hold ``plan``'s data; returns what was done (``status``: "kept" or
    "loaded") and the row counts."""
    from benchmarks.cluster import catalog_of

    catalog = catalog or catalog_of(**ADDONS)
    env = CliEnvironment(database_url=url, catalog=catalog)
    started = time.perf_counter()
    try:
        _ensure_installed(env, catalog)
        with env.ctx() as ctx:
            last = _last_marker(ctx)
            if last == plan.marker and not force:
                return {"status": "kept", "marker": last, **_counts(ctx), "seconds": 0.0}
            if last is None and not force and ctx.dbsession.scalar(text("SELECT count(*) FROM customers_customer")):
                raise SystemExit("the database holds customers not made by benchmarks/generate.py: "
                                 "use --force to replace them")
            team = ensure_team(ctx, plan)
        with indexes_dropped(env.engine, LOADED_TABLES, verbose=verbose), env.ctx() as ctx:
            _load(ctx, plan, team)
            write_audit(ctx, "import", model="customers_customer", detail=plan.marker)
            counts = _counts(ctx)
        return {"status": "loaded", "marker": plan.marker, **counts,
                "seconds": round(time.perf_counter() - started, 1)}
    finally:
        env.engine.dispose()


def _ensure_installed(env: CliEnvironment, catalog: AddonCatalog) -> None:
    """An empty database is initialised (``kehu init``); a Kehu one gets the addons it lacks."""
    with env.ctx(require_initialised=False) as ctx:
        initialised = is_initialised(ctx.dbsession)
    if not initialised:
        initialise(env, admin_username=ADMIN[0], admin_password=ADMIN[1], admin_email=None, addons=list(ADDONS))
        return
    with env.ctx() as ctx:
        missing = [name for name in ADDONS if name not in installed_names(ctx.dbsession)]
        if missing:
            install_addons(ctx, catalog, missing)


def _last_marker(ctx: Ctx) -> str | None:
    return ctx.dbsession.scalar(select(AuditEntry.detail).where(AuditEntry.detail.like(f"{MARKER} %"))
                                .order_by(AuditEntry.id.desc()).limit(1))


def _counts(ctx: Ctx) -> dict[str, int]:
    return {table.removeprefix("customers_"): int(ctx.dbsession.scalar(text(f"SELECT count(*) FROM {table}")))
            for table in LOADED_TABLES}


def ensure_team(ctx: Ctx, plan: Plan) -> Team:
    """Departments, managers, salespeople and pools of the plan, created through the services
    where missing (so a reload keeps everyone's id and login sessions)."""
    from addons.customers.models import Pool
    from addons.customers.pool import save_pool
    from addons.customers.pool_members import set_members
    from core.org.services import create_department, root_department
    from core.users.passwords import hash_password
    from core.users.services import create_user

    company = root_department(ctx)
    existing = {u.username: u for u in ctx.dbsession.scalars(select(User).where(User.username.like("bench\\_%")))}
    shared_hash: list[str] = []

    def user(username: str, *, role: str, department_id: int, name: str) -> int:
        if username in existing:
            return existing[username].id
        if not shared_hash:
            shared_hash.append(hash_password(PASSWORD))
        return create_user(ctx, username, PASSWORD, display_name=name, roles=[role], department_id=department_id,
                           post="销售经理" if role == "sales_manager" else "销售代表",
                           password_hash=shared_hash[0]).id

    departments, managers, pools = [], [], []
    for d in range(plan.departments):
        name = REGIONS[d]
        department = ctx.dbsession.scalar(select(Department).where(Department.name == name,
                                                                   Department.parent_id == company.id))
        if department is None:
            department = create_department(ctx, name, company.id, sort=d)
        manager = user(manager_username(d), role="sales_manager", department_id=department.id, name=f"{name}经理")
        department.manager_id = manager
        departments.append(department.id)
        managers.append(manager)
    sales = [user(sales_username(k), role="sales", department_id=departments[k % plan.departments],
                  name=f"销售{k + 1:03d}") for k in range(plan.salespeople)]

    def pool(name: str, department_id: int | None, manager: int | None) -> int:
        found = ctx.dbsession.scalar(select(Pool.id).where(Pool.name == name))
        if found is not None:
            return found
        made = save_pool(ctx, name=name, department_id=department_id, max_owned=None, max_claims_per_day=None,
                         reclaim_block_days=0, return_after_days_without_followup=None,
                         return_after_days_without_deal=None, warn_days_before=0, active=True)
        if department_id is not None and manager is not None:
            set_members(ctx, made.id, managers=[manager], departments=[department_id])
        return made.id

    for d, department_id in enumerate(departments):
        pools.append(pool(f"{REGIONS[d]}公海", department_id, managers[d]))
    company_pool = pool("公司公海", None, None)
    ctx.dbsession.flush()
    return Team(sales=sales, managers=managers, departments=departments, pools=pools, company_pool=company_pool)


def _load(ctx: Ctx, plan: Plan, team: Team) -> None:
    """TRUNCATE the customers' tables (their dependants cascade) and COPY the plan's rows."""
    ctx.dbsession.execute(text("TRUNCATE customers_customer RESTART IDENTITY CASCADE"))
    ctx.dbsession.execute(text("DELETE FROM core_record_member WHERE model = 'customers_customer'"))
    cursor = ctx.dbsession.connection().connection.driver_connection.cursor()
    rows = Rows(plan, team, now=dt.datetime.now(dt.UTC))
    with cursor.copy(f"COPY customers_customer ({', '.join(CUSTOMER_COLUMNS)}) FROM STDIN") as copy:
        for row in rows.customers():
            copy.write_row(row)
    for table, columns, source in (("customers_contact", CONTACT_COLUMNS, rows.contacts),
                                   ("customers_followup", FOLLOWUP_COLUMNS, rows.followups),
                                   ("customers_pool_move", MOVE_COLUMNS, rows.moves)):
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in source:
                copy.write_row(row)
    for table in LOADED_TABLES:
        ctx.dbsession.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                   f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"))
    cursor.close()


CUSTOMER_COLUMNS = ("id", "name", "name_key", "short_name", "credit_code", "pinyin", "initials", "owner_id", "level",
                    "province", "city", "source", "key_customer", "deal_status", "locked", "pool_id",
                    "last_followup_at", "next_followup_at", "created_at", "updated_at", "created_by", "updated_by")
CONTACT_COLUMNS = ("customer_id", "owner_id", "name", "title", "mobile", "email", '"primary"', "created_at",
                   "updated_at", "created_by", "updated_by")
FOLLOWUP_COLUMNS = ("customer_id", "owner_id", "kind", "content", "created_at", "updated_at", "created_by",
                    "updated_by")
MOVE_COLUMNS = ("customer_id", "pool_id", "action", "user_id", "previous_owner_id", "reason", "at", "created_at",
                "updated_at")


class Rows:
    """The COPY rows of a plan, customer by customer. Contacts, follow-ups and moves are made
    while the customers stream (kept in lists: the customer rows decide them) and written after."""

    def __init__(self, plan: Plan, team: Team, *, now: dt.datetime) -> None:
        self.plan, self.team, self.now = plan, team, now
        self.rng = random.Random(plan.seed * 1_000_003 + VERSION)  # noqa: S311 (repeatable data)
        self.contacts: list[tuple[Any, ...]] = []
        self.followups: list[tuple[Any, ...]] = []
        self.moves: list[tuple[Any, ...]] = []

    def customers(self) -> Iterator[tuple[Any, ...]]:
        rng, now, team, plan = self.rng, self.now, self.team, self.plan
        for i, company in enumerate(company_names(plan.customers, plan.seed)):
            customer_id = i + 1
            k = i % plan.salespeople
            seller = team.sales[k]
            turn = i // plan.salespeople  # the how-manieth of salesperson k's customers this is
            pooled = turn % 10 == 9
            pool_id = None
            if pooled:
                pool_id = team.company_pool if turn % 20 == 19 else team.pools[k % plan.departments]
            owner = None if pooled else seller
            created = now - dt.timedelta(days=rng.randint(30, 700), minutes=rng.randint(0, 1439))
            last = self._followups(customer_id, seller, created)
            self._contacts(customer_id, owner, seller, created, company.initials)
            if pooled:
                self.moves.append((customer_id, pool_id, "returned", seller, seller, "客户暂无需求",
                                   now - dt.timedelta(days=rng.randint(1, 60)), now, now))
            upcoming = now + dt.timedelta(days=rng.randint(-5, 20), hours=rng.randint(1, 9)) \
                if not pooled and rng.random() < 0.5 else None
            yield (customer_id, company.name, company.name_key, company.short_name, company.credit_code,
                   company.pinyin, company.initials, owner, company.level, company.region, f"{company.region}市",
                   SOURCES[i % len(SOURCES)], rng.random() < 0.08, "won" if rng.random() < 0.3 else "open", False,
                   pool_id, last, upcoming, created, last or created, seller, seller)

    def _followups(self, customer_id: int, seller: int, created: dt.datetime) -> dt.datetime | None:
        rng, last = self.rng, None
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3, 4))):
            ago = dt.timedelta(days=int(180 * rng.random() ** 1.5), minutes=rng.randint(0, 600))
            when = max(created, self.now - ago)
            self.followups.append((customer_id, seller, rng.choice(KINDS), rng.choice(NOTES), when, when, seller,
                                   seller))
            last = when if last is None or when > last else last
        return last

    def _contacts(self, customer_id: int, owner: int | None, seller: int, created: dt.datetime,
                  initials: str) -> None:
        rng = self.rng
        for number in range(rng.choice((1, 1, 2, 2, 3))):
            person = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
            mobile = f"1{rng.choice('3589')}{rng.randint(0, 999_999_999):09d}"
            self.contacts.append((customer_id, owner, person, rng.choice(TITLES), mobile,
                                  f"c{customer_id}.{number}@{initials[:8] or 'kehu'}.com.cn", number == 0,
                                  created, created, seller, seller))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL database (created empty, or one this script filled); "
                                               "default: a throwaway cluster, deleted afterwards")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--salespeople", type=int, default=Plan.salespeople)
    parser.add_argument("--departments", type=int, default=Plan.departments)
    parser.add_argument("--seed", type=int, default=Plan.seed)
    parser.add_argument("--force", action="store_true", help="reload even if the same data is there")
    args = parser.parse_args()
    plan = Plan(args.customers, args.salespeople, args.departments, args.seed)
    if args.database_url:
        print(generate(args.database_url, plan, force=args.force))
        return
    from benchmarks.cluster import catalog_of, kehu_database

    with kehu_database(catalog_of(**ADDONS), list(ADDONS), durable=True) as url:
        print(generate(url, plan, force=args.force))


if __name__ == "__main__":
    main()
