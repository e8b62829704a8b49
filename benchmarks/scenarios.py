"""Seed 000 §5's five scenarios, and the bare ceiling, as steps a virtual user repeats.

Each scenario reads its targets from the database before a cell (the customers in the user's
own scope, search terms from their names), so every request is one the user may make and every
answer is a real page; a wrong status is an error. Worker ``w`` of a cell is salesperson ``w``.
"""

from __future__ import annotations

import collections
import random
from typing import ClassVar

import aiohttp
from sqlalchemy import Engine, bindparam, text

from benchmarks.load import LoadError, VirtualUser, expect, new_http, sign_in


def owned_customers(engine: Engine, user_ids: list[int], *, limit: int = 200,
                    share: str = "read") -> dict[int, list[int]]:
    """Up to ``limit`` live customers each user owns, by id (the same ones every run).

    ``share``: "read" takes the 1st, 3rd, 5th … of a user's customers, "transfer" the 2nd, 4th …
    — the assignment ring moves only the latter, so a page another scenario reads at the same
    time (the soak mixes them) is still in its reader's scope."""
    parity = 1 if share == "read" else 0
    query = text("SELECT owner_id, id FROM (SELECT owner_id, id, row_number() OVER (PARTITION BY owner_id "
                 "ORDER BY id) AS n FROM customers_customer WHERE owner_id IN :ids AND deleted_at IS NULL) AS t "
                 "WHERE n % 2 = :parity AND n <= 2 * :limit ORDER BY owner_id, id"
                 ).bindparams(bindparam("ids", expanding=True))
    found: dict[int, list[int]] = {user_id: [] for user_id in user_ids}
    with engine.connect() as connection:
        for owner_id, customer_id in connection.execute(query, {"ids": user_ids, "limit": limit, "parity": parity}):
            found[owner_id].append(customer_id)
    return found


class Scenario:
    """A step that worker ``w`` (virtual user ``vus[w]``) repeats; ``prepare`` before a cell,
    ``finish`` after it returns the errors found only afterwards (e.g. by reading the database)."""

    name: ClassVar[str]
    title: ClassVar[str]
    #: The seed's five scenarios; the ceiling is measured beside them but is not one.
    seeded: ClassVar[bool] = True

    def __init__(self, vus: list[VirtualUser], engine: Engine) -> None:
        self.vus, self.engine = vus, engine

    async def prepare(self, concurrency: int) -> None:
        self.concurrency = concurrency
        self.rngs = [random.Random(w) for w in range(concurrency)]  # noqa: S311 (which page, not secrets)

    async def step(self, worker: int) -> None:
        raise NotImplementedError

    async def finish(self) -> list[str]:
        return []

    async def get(self, worker: int, path: str, **params: str) -> str:
        async with self.vus[worker].http.get(path, params=params or None, allow_redirects=False) as response:
            return await expect(response, 200)


class LoginHome(Scenario):
    """(a) 登录→首页: the login form, its POST (argon2 verification) and the home page it
    redirects to, from a browser without a session: one transaction of three requests."""

    name, title = "login_home", "login → home page"

    def __init__(self, vus: list[VirtualUser], engine: Engine, *, base_url: str, password: str,
                 timeout: float) -> None:
        super().__init__(vus, engine)
        self.base_url, self.password, self.timeout = base_url, password, timeout
        self.browsers: list[aiohttp.ClientSession] = []

    async def prepare(self, concurrency: int) -> None:
        await super().prepare(concurrency)
        self.browsers = [new_http(self.base_url, timeout=self.timeout) for _ in range(concurrency)]

    async def step(self, worker: int) -> None:
        browser = self.browsers[worker]
        browser.cookie_jar.clear()
        await sign_in(browser, self.vus[worker].username, self.password)

    async def finish(self) -> list[str]:
        for browser in self.browsers:
            await browser.close()
        return []


class CustomerView(Scenario):
    """(b) 客户查看: the page of one of the user's own customers (contacts, follow-ups, panels)."""

    name, title = "customer_view", "customer view"

    async def prepare(self, concurrency: int) -> None:
        await super().prepare(concurrency)
        self.owned = owned_customers(self.engine, [vu.user_id for vu in self.vus[:concurrency]])

    async def step(self, worker: int) -> None:
        owned = self.owned[self.vus[worker].user_id]
        if not owned:
            raise LoadError(f"{self.vus[worker].username} owns no customer")
        await self.get(worker, f"/customers/{self.rngs[worker].choice(owned)}")


class KeyCustomers(Scenario):
    """(d) 重点客户查看: the key-customer list (first page and its total) in the user's scope."""

    name, title = "key_customers", "key-customer view"

    async def step(self, worker: int) -> None:
        await self.get(worker, "/customers/key")


class NameQuery(Scenario):
    """(e) 首页客户名称查询: the header's search box, i.e. /search?q=, with what people type —
    a Chinese substring of a name (2 and 4 characters), its initials, its pinyin."""

    name, title = "name_query", "customer-name query"

    async def prepare(self, concurrency: int) -> None:
        await super().prepare(concurrency)
        ids = owned_customers(self.engine, [vu.user_id for vu in self.vus[:concurrency]], limit=5)
        wanted = [customer_id for customer_ids in ids.values() for customer_id in customer_ids]
        with self.engine.connect() as connection:
            rows = connection.execute(text("SELECT owner_id, name, short_name, pinyin, initials FROM "
                                           "customers_customer WHERE id IN :ids ORDER BY id")
                                      .bindparams(bindparam("ids", expanding=True)), {"ids": wanted or [0]}).all()
        self.terms: dict[int, list[str]] = collections.defaultdict(list)
        for owner_id, name, short_name, pinyin, initials in rows:
            brand = short_name or name[2:]
            self.terms[owner_id] += [brand[:2], name[2:6], initials[:4], pinyin[:8]]
        self.turn = [0] * concurrency

    async def step(self, worker: int) -> None:
        terms = self.terms[self.vus[worker].user_id] or ["科技"]
        term = terms[self.turn[worker] % len(terms)]
        self.turn[worker] += 1
        await self.get(worker, "/search", q=term)


class Assign(Scenario):
    """(c) 客户分配: 转移 (transfer) of one of the user's own customers to the next user, with
    the customer page's form (CSRF token included). The users form a ring — each hands the
    customers it holds to the next — so nobody runs out and every transfer is one the sender may
    make. The route answers 303 whether or not it refused, so ``finish`` checks in the database
    that each customer's owner is the one the ring says (a mismatch is an error), then gives the
    customers back to their generated owners so later cells see the same data."""

    name, title = "assign", "customer assignment"
    PER_USER = 50

    async def prepare(self, concurrency: int) -> None:
        await super().prepare(concurrency)
        self.ring = self.vus[:max(concurrency, 2)]  # one user alone hands to a second and back
        owned = owned_customers(self.engine, [vu.user_id for vu in self.ring], limit=self.PER_USER,
                               share="transfer")
        self.holding = [collections.deque(owned[vu.user_id]) for vu in self.ring]
        self.original = {customer_id: vu.user_id for vu in self.ring for customer_id in owned[vu.user_id]}
        self.expected = dict(self.original)
        self.turn = [0] * concurrency

    def _members(self, worker: int) -> list[int]:
        return list(range(worker, len(self.ring), self.concurrency))

    async def step(self, worker: int) -> None:
        members = self._members(worker)
        member = members[self.turn[worker] % len(members)]
        self.turn[worker] += 1
        if not self.holding[member]:
            raise LoadError(f"{self.ring[member].username} holds no customer to transfer")
        customer_id = self.holding[member].popleft()
        sender, receiver = self.ring[member], self.ring[(member + 1) % len(self.ring)]
        form = {"owner_id": str(receiver.user_id), "csrf_token": sender.csrf}
        async with sender.http.post(f"/customers/{customer_id}/assign", data=form,
                                    allow_redirects=False) as response:
            try:
                await expect(response, 303)
            except LoadError:
                self.holding[member].append(customer_id)
                raise
        self.expected[customer_id] = receiver.user_id
        self.holding[(member + 1) % len(self.ring)].append(customer_id)

    async def finish(self) -> list[str]:
        if not self.original:
            return []
        with self.engine.begin() as connection:
            actual = dict(connection.execute(text("SELECT id, owner_id FROM customers_customer WHERE id IN :ids")
                                             .bindparams(bindparam("ids", expanding=True)),
                                             {"ids": list(self.original)}).all())
            errors = [f"customer {customer_id}: owner {actual.get(customer_id)}, expected {owner}"
                      for customer_id, owner in self.expected.items() if actual.get(customer_id) != owner]
            moved = [{"owner": owner, "id": customer_id} for customer_id, owner in self.original.items()
                     if actual.get(customer_id) != owner]
            for table, key in (("customers_customer", "id"), ("customers_contact", "customer_id")):
                if moved:
                    connection.execute(text(f"UPDATE {table} SET owner_id = :owner WHERE {key} = :id"), moved)
        return errors


class Ceiling(Scenario):
    """The bare ceiling: one primary-key query through the same stack (``benchmarks.ceiling``)."""

    name, title, seeded = "ceiling", "bare ceiling (1 PK query)", False

    async def prepare(self, concurrency: int) -> None:
        await super().prepare(concurrency)
        self.owned = owned_customers(self.engine, [vu.user_id for vu in self.vus[:concurrency]], limit=50)

    async def step(self, worker: int) -> None:
        ids = self.owned[self.vus[worker].user_id] or [1]
        await self.get(worker, "/_bench/ceiling", id=str(self.rngs[worker].choice(ids)))


SCENARIOS: dict[str, type[Scenario]] = {cls.name: cls for cls in (LoginHome, CustomerView, Assign, KeyCustomers,
                                                                  NameQuery, Ceiling)}
