"""Issue 7's load harness: seed 000 §5's scenarios at 1/10/20/50/100 concurrent salespeople on
PostgreSQL and gunicorn, with the bare ceiling, against the seed's floors and our goals.

    python benchmarks/run.py --customers 100000 --label 100k
    python benchmarks/run.py --customers 2000 --levels 1,5,10 --duration 10s --label smoke
    python benchmarks/run.py --customers 100000 --soak 30m --soak-users 50 --label soak

A throwaway PostgreSQL cluster with production settings (``cluster.PRODUCTION_SETTINGS``) is
started and deleted, unless ``--database-url`` names a database (``generate.py``'s data is then
loaded or kept, see its docstring). gunicorn serves Kehu from config/production.ini's settings
on 127.0.0.1; each virtual user is a distinct salesperson signed in through the login form.
Every cell (scenario × concurrency) stops after ``--iterations`` per user or ``--duration``,
whichever comes first; nothing runs unbounded, and gunicorn and the cluster are stopped on the
way out (Ctrl-C and SIGTERM included). Writes ``results/<date>-<label>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import importlib.metadata
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.pool import NullPool

from benchmarks import report
from benchmarks.cluster import PRODUCTION_SETTINGS, create_database, server_settings, server_version, throwaway_server
from benchmarks.generate import PASSWORD, Plan, generate, sales_username
from benchmarks.load import VirtualUser, drive, new_http, sign_in
from benchmarks.scenarios import SCENARIOS, LoginHome, Scenario
from benchmarks.server import ServerOptions, Usage, gunicorn, postmaster_pid, process_usage
from benchmarks.soak import chart, parse_duration, soak
from core.models import User

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_LEVELS = "1,10,20,50,100"
DEFAULT_WORKERS = min((os.cpu_count() or 1) + 1, 8)  # config/gunicorn.conf.py's default
MAX_USERS = 500


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    data = parser.add_argument_group("data")
    data.add_argument("--database-url", help="use this PostgreSQL database instead of a throwaway cluster")
    data.add_argument("--customers", type=int, default=100_000)
    data.add_argument("--salespeople", type=int, default=None, help="default: 120, or the most users asked for")
    data.add_argument("--departments", type=int, default=Plan.departments)
    data.add_argument("--seed", type=int, default=Plan.seed)
    data.add_argument("--force-generate", action="store_true", help="reload the data even if it is there")
    load = parser.add_argument_group("load")
    load.add_argument("--levels", default=DEFAULT_LEVELS, help="concurrent users, comma-separated")
    load.add_argument("--scenarios", default=",".join(SCENARIOS), help=f"of: {', '.join(SCENARIOS)}")
    load.add_argument("--iterations", type=int, default=100, help="per user and cell, at most")
    load.add_argument("--duration", default="60s", help="per cell, at most (e.g. 20s, 2m)")
    load.add_argument("--warmup", type=int, default=2, help="unmeasured iterations per user before a cell")
    load.add_argument("--timeout", type=float, default=60, help="seconds a request may take before it is an error")
    serve = parser.add_argument_group("gunicorn")
    serve.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    serve.add_argument("--worker-class", default="sync", choices=("sync", "gthread"))
    serve.add_argument("--threads", type=int, default=1)
    serve.add_argument("--max-requests", type=int, default=None,
                       help="worker recycling (config: 10000; a soak: 0, off, so a leak shows)")
    serve.add_argument("--pool-size", type=int, default=5, help="kehu.pool_size per worker")
    serve.add_argument("--logs", type=Path, default=None,
                       help="keep gunicorn's access and error logs in this folder (default: deleted)")
    soak_group = parser.add_argument_group("soak")
    soak_group.add_argument("--soak", default=None, help="instead of the cells: a mixed run this long (e.g. 30m)")
    soak_group.add_argument("--soak-users", type=int, default=50)
    soak_group.add_argument("--sample-every", default="10s", help="RSS sampling interval")
    parser.add_argument("--label", default="run", help="names the result files: <date>-<label>.json/.md")
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    args.levels = sorted({int(level) for level in args.levels.split(",") if level.strip()})
    args.scenarios = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    args.duration = parse_duration(args.duration)
    args.sample_every = parse_duration(args.sample_every)
    args.soak = parse_duration(args.soak) if args.soak else None
    most = max(args.soak_users if args.soak else max(args.levels), 2)  # a ring of assignment needs two
    args.salespeople = args.salespeople or max(120, most)
    if min(args.levels) < 1 or most > min(args.salespeople, MAX_USERS):
        parser.error(f"users: 1 to {min(args.salespeople, MAX_USERS)} (one salesperson each)")
    if args.max_requests is None:
        args.max_requests = 0 if args.soak else 10000
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; returns the result (also written to ``--results-dir``)."""
    args = parse_args(argv)
    if args.database_url:
        return _with_database(args, args.database_url)
    with throwaway_server(durable=True) as cluster:
        return _with_database(args, create_database(cluster.url, "bench"))


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def _with_database(args: argparse.Namespace, url: str) -> dict[str, Any]:
    plan = Plan(args.customers, args.salespeople, args.departments, args.seed)
    print(f"data: {plan.marker}", flush=True)
    dataset = generate(url, plan, force=args.force_generate)
    print(f"data {dataset['status']} ({dataset['seconds']} s)", flush=True)
    options = ServerOptions(workers=args.workers, worker_class=args.worker_class, threads=args.threads,
                            max_requests=args.max_requests, pool_size=args.pool_size)
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        postgres_pid = postmaster_pid(connection.scalar(text("SELECT pg_backend_pid()")))
    try:
        started = time.perf_counter()
        with (contextlib.nullcontext(str(args.logs)) if args.logs else
              tempfile.TemporaryDirectory(prefix="kehu-bench-")) as workdir, \
                gunicorn(url, options, Path(workdir)) as server:
            print(f"gunicorn on {server.url} in {time.perf_counter() - started:.1f} s: {options}", flush=True)
            run = asyncio.run(_measure(args, server, engine, postgres_pid))
    finally:
        engine.dispose()
    options_given = {key: str(value) if isinstance(value, Path) else value for key, value in vars(args).items()
                     if key not in ("database_url", "argv")}
    run.update(dataset=dataset, server=dataclasses.asdict(options), versions=_versions(url), machine=_machine(),
               database="given (--database-url)" if args.database_url else "throwaway cluster",
               postgres_settings=server_settings(url, list(PRODUCTION_SETTINGS)), options=options_given,
               command=_command_line(args.argv))
    report.evaluate(run)
    json_path, md_path = report.write(run, args.results_dir)
    print(report.markdown(run))
    print(f"written {json_path} and {md_path}", flush=True)
    return run


async def _measure(args: argparse.Namespace, server: Any, engine: Engine, postgres_pid: int | None) -> dict[str, Any]:
    most = max(args.soak_users if args.soak else max(args.levels), 2)
    started = time.perf_counter()
    users = await _sign_in_all(server.url, engine, most, timeout=args.timeout)
    print(f"{most} salespeople signed in in {time.perf_counter() - started:.1f} s", flush=True)
    run: dict[str, Any] = {"label": args.label, "date": dt.datetime.now(dt.UTC).date().isoformat(),
                           "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                           "levels": args.levels if not args.soak else [], "iterations": args.iterations,
                           "duration": args.duration, "cells": [], "ceiling_tps": {}}
    try:
        if args.soak:
            scenarios = [_scenario(name, users, engine, server.url, args) for name in args.scenarios
                         if SCENARIOS[name].seeded]
            print(f"soak: {args.soak_users} users, {args.soak:.0f} s, {[s.name for s in scenarios]}", flush=True)
            result = await soak(server, scenarios, users=args.soak_users, seconds=args.soak,
                                sample_every=args.sample_every)
            args.results_dir.mkdir(parents=True, exist_ok=True)
            png = chart(result, args.results_dir / f"{run['date']}-{args.label}-soak.png")
            result["chart"] = png.name if png else None
            run["soak"] = result
            return run
        for level in args.levels:
            for name in sorted(args.scenarios, key=lambda n: n != "ceiling"):  # the ceiling first
                scenario = _scenario(name, users, engine, server.url, args)
                cell = await _cell(scenario, level, args, server, postgres_pid)
                run["cells"].append(cell)
                if name == "ceiling":
                    run["ceiling_tps"][str(level)] = cell["tps"]
                print(f"  {scenario.title:28s} {level:4d} users: {cell['transactions']:6d} tx, "
                      f"avg {cell['avg_ms'] or 0:8.1f} ms, p95 {cell['p95_ms'] or 0:8.1f} ms, "
                      f"{cell['tps']:7.1f} TPS, {cell['errors']} errors", flush=True)
    finally:
        for user in users:
            await user.http.close()
    return run


def _scenario(name: str, users: list[VirtualUser], engine: Engine, base_url: str,
              args: argparse.Namespace) -> Scenario:
    cls = SCENARIOS[name]
    if cls is LoginHome:
        return LoginHome(users, engine, base_url=base_url, password=PASSWORD, timeout=args.timeout)
    return cls(users, engine)


async def _sign_in_all(base_url: str, engine: Engine, count: int, *, timeout: float) -> list[VirtualUser]:
    """Salespeople 1..count, each in a browser of their own, signed in four at a time (argon2
    costs ~0.3 s of CPU per login: more at once only queues)."""
    names = [sales_username(k) for k in range(count)]
    with engine.connect() as connection:
        ids = dict(connection.execute(select(User.username, User.id).where(User.username.in_(names))).all())
    gate = asyncio.Semaphore(4)

    async def one(index: int, username: str) -> VirtualUser:
        http = new_http(base_url, timeout=timeout)
        async with gate:
            csrf = await sign_in(http, username, PASSWORD)
        return VirtualUser(index, username, ids[username], http, csrf)

    return list(await asyncio.gather(*(one(i, name) for i, name in enumerate(names))))


async def _cell(scenario: Scenario, level: int, args: argparse.Namespace, server: Any,
                postgres_pid: int | None) -> dict[str, Any]:
    """One scenario at one concurrency: warm-up, then measured, with the server's and
    PostgreSQL's CPU over the measured part and the workers' RSS at its end."""
    await scenario.prepare(level)
    try:
        if args.warmup:
            await drive(scenario.step, concurrency=level, iterations=args.warmup, duration=min(10.0, args.duration))
        before, pg_before = server.usage(), _pg(postgres_pid)
        measured = await drive(scenario.step, concurrency=level, iterations=args.iterations, duration=args.duration)
        after, pg_after = server.usage(), _pg(postgres_pid)
    finally:  # also when interrupted: browsers closed, transferred customers given back
        late = await scenario.finish()
    stats = report.cell_stats(measured.samples, measured.seconds, extra_errors=len(late))
    seconds = measured.seconds or 1.0
    workers = [rss for pid, rss in after.rss_bytes.items() if pid != server.process.pid]
    return {
        "scenario": scenario.name, "title": scenario.title, "seeded": scenario.seeded, "users": level, **stats,
        "server_cpu": round((after.cpu_seconds - before.cpu_seconds) / seconds, 3),
        "postgres_cpu": round((pg_after.cpu_seconds - pg_before.cpu_seconds) / seconds, 3)
        if pg_before and pg_after else None,
        "client_cpu": round(measured.client_cpu_seconds / seconds, 3),
        "server_rss_mb": round(after.rss_total / 2**20, 1),
        "worker_rss_mb_max": round(max(workers, default=0) / 2**20, 1),
        "error_examples": sorted({s.error for s in measured.samples if not s.ok} | set(late))[:5],
    }


def _command_line(argv: list[str]) -> str:
    """The command to reproduce the run, the database URL (it may hold a password) left out."""
    shown, hide = [], False
    for arg in argv:
        shown.append("<database-url>" if hide else arg.split("=", 1)[0] + "=<database-url>"
                     if arg.startswith("--database-url=") else arg)
        hide = arg == "--database-url"
    return " ".join(["python benchmarks/run.py", *shown])


def _pg(pid: int | None) -> Usage | None:
    return process_usage(pid) if pid else None


def _versions(url: str) -> dict[str, str]:
    versions = {"postgresql": server_version(url), "python": platform.python_version()}
    for package in ("kehu", "pyramid", "SQLAlchemy", "psycopg", "gunicorn", "aiohttp"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "?"
    try:
        versions["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                            cwd=Path(__file__).parent, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        versions["commit"] = "?"
    return versions


def _machine() -> dict[str, Any]:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    memory = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), "0")
    return {"cpus": os.cpu_count(), "cpu_model": model, "memory_gb": round(int(memory) / 2**20, 1),
            "kernel": platform.release()}


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _interrupt)  # stop gunicorn and the cluster on `kill` too
    try:
        main()
    except KeyboardInterrupt:
        print("interrupted: gunicorn and the cluster were stopped", file=sys.stderr)
        sys.exit(130)
