"""The soak run: a mix of the scenarios at one concurrency for a long time, with every gunicorn
worker's RSS sampled at a fixed interval — issue 7 asks that worker memory stay flat (≤ 5 %
growth) over 30 minutes at 50 users — and a chart of it.

Growth is measured per worker from the first samples after warm-up (a tenth of the run, at
least one interval: imports, template compilation and the connection pool fill the first
minutes) to the last ones (``rss_growth``). Worker recycling (gunicorn's max_requests) would hide a leak, so the harness
turns it off for a soak unless told otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

from benchmarks.load import drive
from benchmarks.report import cell_stats
from benchmarks.scenarios import Scenario
from benchmarks.server import Server

GROWTH_GOAL_PERCENT = 5.0


def parse_duration(text: str) -> float:
    """``"30m"``, ``"90s"``, ``"1h"``, ``"1h30m"`` or plain seconds (``"45"``) → seconds."""
    text = text.strip().lower()
    if not text:
        raise ValueError("empty duration")
    if text.replace(".", "", 1).isdigit():
        return float(text)
    total, number = 0.0, ""
    for char in text:
        if char.isdigit() or char == ".":
            number += char
        elif char in "hms" and number:
            total += float(number) * {"h": 3600, "m": 60, "s": 1}[char]
            number = ""
        else:
            raise ValueError(f"not a duration: {text!r} (use e.g. 30m, 90s, 1h)")
    if number:
        raise ValueError(f"not a duration: {text!r} (a number without unit after a unit)")
    return total


async def soak(server: Server, scenarios: list[Scenario], *, users: int, seconds: float,
               sample_every: float) -> dict[str, Any]:
    """Each worker cycles through ``scenarios`` (one step of each in turn) until ``seconds``
    have passed; returns totals, the RSS samples and each worker's growth."""
    for scenario in scenarios:
        await scenario.prepare(users)
    turns = [0] * users
    samples: list[dict[str, Any]] = []
    started = time.perf_counter()

    async def step(worker: int) -> None:
        scenario = scenarios[turns[worker] % len(scenarios)]
        turns[worker] += 1
        await scenario.step(worker)

    async def sample() -> None:
        while True:
            usage = server.usage()
            samples.append({"t": round(time.perf_counter() - started, 1),
                            "rss_mb": {str(pid): round(rss / 2**20, 1) for pid, rss in usage.rss_bytes.items()
                                       if pid != server.process.pid}})
            await asyncio.sleep(sample_every)

    sampler = asyncio.create_task(sample())
    late_errors: list[str] = []
    try:
        run = await drive(step, concurrency=users, iterations=10**9, duration=seconds)
    finally:  # also when interrupted: browsers closed, transferred customers given back
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
        for scenario in scenarios:
            late_errors += await scenario.finish()
    samples.append({"t": round(time.perf_counter() - started, 1),
                    "rss_mb": {str(pid): round(rss / 2**20, 1) for pid, rss in server.usage().rss_bytes.items()
                               if pid != server.process.pid}})
    stats = cell_stats(run.samples, run.seconds, extra_errors=len(late_errors))
    growth = rss_growth(samples, warmup=max(sample_every, seconds / 10))
    return {"users": users, "scenarios": [s.name for s in scenarios], "sample_every": sample_every,
            **stats, "client_cpu": round(run.client_cpu_seconds / run.seconds, 3) if run.seconds else 0.0,
            "samples": samples, "growth_percent": growth,
            "flat": bool(growth) and max(growth.values()) <= GROWTH_GOAL_PERCENT,
            "error_examples": sorted({s.error for s in run.samples if not s.ok} | set(late_errors))[:5]}


def rss_growth(samples: list[dict[str, Any]], *, warmup: float) -> dict[str, float]:
    """Per worker present from warm-up to the end: growth in percent of its RSS floor — the
    lowest sample in the first tenth after warm-up against the lowest in the last tenth. The
    floor, not single samples: a login's argon2 hash briefly takes 64 MB and gives it back, a
    leak raises the floor."""
    after = [s for s in samples if s["t"] >= warmup] or samples[-1:]
    window = max(1, len(after) // 10)
    first, last = after[:window], after[-window:]
    pids = set.intersection(*(set(s["rss_mb"]) for s in first + last))
    growth = {}
    for pid in sorted(pids):
        start, end = min(s["rss_mb"][pid] for s in first), min(s["rss_mb"][pid] for s in last)
        if start > 0:
            growth[pid] = round((end - start) / start * 100, 2)
    return growth


def chart(soak_result: dict[str, Any], path: Path) -> Path | None:
    """A PNG of each worker's RSS over time (matplotlib, from the ``bench`` extra); None
    without matplotlib — the samples stay in the JSON."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot
    except ImportError:
        return None
    figure, axes = pyplot.subplots(figsize=(8, 4), dpi=100)
    pids = sorted({pid for s in soak_result["samples"] for pid in s["rss_mb"]})
    for pid in pids:
        points = [(s["t"] / 60, s["rss_mb"][pid]) for s in soak_result["samples"] if pid in s["rss_mb"]]
        axes.plot([p[0] for p in points], [p[1] for p in points], label=f"worker {pid}")
    axes.set_xlabel("minutes")
    axes.set_ylabel("RSS (MB)")
    axes.set_title(f"gunicorn worker RSS, {soak_result['users']} users")
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)
    return path
