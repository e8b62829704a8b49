"""The load generator: virtual users as aiohttp sessions in one asyncio loop, each with its own
cookies (a signed-in browser), driven concurrently for a bounded number of iterations or time.

Why asyncio and not threads: one process drives 100 users with a few percent of a core, so on a
2-core machine the client does not take the server's CPU unnoticed — and it measures its own
CPU time, which the report prints beside the server's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import resource
import time
from collections.abc import Awaitable, Callable

import aiohttp

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


class LoadError(Exception):
    """A request answered other than expected (the message says how); counted, not raised out."""


@dataclasses.dataclass
class VirtualUser:
    """One signed-in salesperson: the session cookie and the CSRF token of their session."""

    index: int
    username: str
    user_id: int
    http: aiohttp.ClientSession
    csrf: str = ""


def new_http(base_url: str, *, timeout: float) -> aiohttp.ClientSession:
    """A browser: its own cookie jar (``unsafe``: cookies for 127.0.0.1, an IP address), one
    connection at a time, redirects not followed (each request is measured as sent)."""
    return aiohttp.ClientSession(base_url=base_url, cookie_jar=aiohttp.CookieJar(unsafe=True),
                                 connector=aiohttp.TCPConnector(limit=1, force_close=False),
                                 timeout=aiohttp.ClientTimeout(total=timeout))


def csrf_token(html: str) -> str:
    match = CSRF_META.search(html) or CSRF_INPUT.search(html)
    if not match:
        raise LoadError("no CSRF token on the page")
    return next(group for group in match.groups() if group)


async def expect(response: aiohttp.ClientResponse, status: int) -> str:
    body = await response.text()
    if response.status != status:
        raise LoadError(f"{response.method} {response.url.path}: {response.status}, expected {status}")
    return body


async def sign_in(http: aiohttp.ClientSession, username: str, password: str) -> str:
    """The login form as a browser fills it (its CSRF token included), then the home page it
    redirects to; returns the signed-in session's CSRF token (a new one at each login)."""
    async with http.get("/login") as response:
        token = csrf_token(await expect(response, 200))
    form = {"username": username, "password": password, "csrf_token": token}
    async with http.post("/login", data=form, allow_redirects=False) as response:
        await expect(response, 303)
        target = response.headers.get("Location", "/")
    async with http.get(target, allow_redirects=False) as response:
        return csrf_token(await expect(response, 200))


@dataclasses.dataclass
class Sample:
    """What one measured transaction took (``at``: seconds since the cell started)."""

    at: float
    ms: float
    ok: bool
    error: str = ""


@dataclasses.dataclass
class CellRun:
    """One scenario at one concurrency: its samples, wall time and the client's CPU seconds."""

    samples: list[Sample]
    seconds: float
    client_cpu_seconds: float


Step = Callable[[int], Awaitable[None]]


async def drive(step: Step, *, concurrency: int, iterations: int, duration: float) -> CellRun:
    """Run ``step(worker)`` in ``concurrency`` workers, each at most ``iterations`` times and
    not starting one after ``duration`` seconds; every call is one sample (an exception is an
    error, with its message). The loop never sleeps between calls: each worker is a user who
    clicks again as soon as the page is there (closed workload, no think time)."""
    samples: list[Sample] = []
    started = time.perf_counter()
    deadline = started + duration
    cpu_before = _own_cpu()

    async def worker(index: int) -> None:
        for _ in range(iterations):
            if time.perf_counter() >= deadline:
                return
            begun = time.perf_counter()
            try:
                await step(index)
            except (TimeoutError, LoadError, aiohttp.ClientError) as exc:
                samples.append(Sample(begun - started, (time.perf_counter() - begun) * 1000, False,
                                      f"{type(exc).__name__}: {exc}"[:200]))
            else:
                samples.append(Sample(begun - started, (time.perf_counter() - begun) * 1000, True))

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return CellRun(samples, time.perf_counter() - started, _own_cpu() - cpu_before)


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
