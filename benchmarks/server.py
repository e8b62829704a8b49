"""gunicorn serving Kehu on 127.0.0.1 as production does, and what its processes (and
PostgreSQL's) cost, read from /proc.

The app is built by ``benchmarks.wsgi`` from config/production.ini's settings; gunicorn reads
config/gunicorn.conf.py (sync workers, timeouts, recycling, access log) like ``kehu serve``,
with the worker count, class, threads and recycling given on the command line so a run can
compare them. The server is a child process stopped on exit (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@dataclasses.dataclass(frozen=True)
class ServerOptions:
    workers: int = 4
    worker_class: str = "sync"  # or "gthread" (with threads > 1)
    threads: int = 1
    max_requests: int = 10000  # config/gunicorn.conf.py's recycling; 0 turns it off (soak)
    pool_size: int = 5  # kehu.pool_size: connections per worker process


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn(database_url: str, options: ServerOptions, workdir: Path) -> Iterator[Server]:
    """gunicorn on a free loopback port for the block; its logs in ``workdir``."""
    port = free_port()
    env = {**os.environ, "KEHU_DATABASE_URL": database_url, "KEHU_SECRET": secrets.token_urlsafe(48),
           "KEHU_BENCH_POOL_SIZE": str(options.pool_size), "KEHU_BIND": f"127.0.0.1:{port}",
           "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "gunicorn", "-c", str(REPO / "config" / "gunicorn.conf.py"),
               "--bind", f"127.0.0.1:{port}", "--workers", str(options.workers),
               "--worker-class", options.worker_class, "--threads", str(options.threads),
               "--max-requests", str(options.max_requests),
               "--max-requests-jitter", str(options.max_requests // 10 if options.max_requests else 0),
               "--access-logfile", str(workdir / "access.log"), "--error-logfile", str(workdir / "error.log"),
               "--chdir", str(REPO), "benchmarks.wsgi:app()"]
    process = subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                               start_new_session=True, preexec_fn=_die_with_parent)
    server = Server(process, f"http://127.0.0.1:{port}", workdir)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM to gunicorn when the harness dies, even by SIGKILL, so
    no server outlives its benchmark (Linux prctl PR_SET_PDEATHSIG)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


class ServerFailed(Exception):
    pass


class Server:
    def __init__(self, process: subprocess.Popen, url: str, workdir: Path) -> None:
        self.process, self.url, self.workdir = process, url, workdir

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerFailed(f"gunicorn exited ({self.process.returncode}): {self.error_log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/login", timeout=5) as response:  # noqa: S310 (loopback)
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise ServerFailed(f"gunicorn not answering after {timeout} s: {self.error_log_tail()}")

    def error_log_tail(self, lines: int = 20) -> str:
        path = self.workdir / "error.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def workers(self) -> list[int]:
        return children(self.process.pid)

    def usage(self) -> Usage:
        return process_usage(self.process.pid)


@dataclasses.dataclass(frozen=True)
class Usage:
    """CPU seconds of a process tree so far (reaped children included) and the RSS of each live
    process in it, at one moment."""

    cpu_seconds: float
    rss_bytes: dict[int, int]

    @property
    def rss_total(self) -> int:
        return sum(self.rss_bytes.values())


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(child) for child in (task / "children").read_text().split()]
    return found


def _stat(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/stat").read_text()
    return raw[raw.rindex(")") + 2:].split()  # fields after "(comm)", from field 3 (state) on


def _cpu(pid: int, *, reaped: bool) -> float:
    fields = _stat(pid)
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if reaped:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime: children it has waited for
    return ticks / CLOCK_TICKS


def _rss(pid: int) -> int:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE


def process_usage(root: int) -> Usage:
    """The process ``root`` and its children: gunicorn's master and workers, or PostgreSQL's
    postmaster and backends. A worker that exited between two readings is in the master's
    reaped time from then on, so differences of ``cpu_seconds`` stay right."""
    cpu, rss = 0.0, {}
    for pid in (root, *children(root)):
        with contextlib.suppress(OSError, ValueError, IndexError):
            cpu += _cpu(pid, reaped=pid == root)
            rss[pid] = _rss(pid)
    return Usage(cpu, rss)


def postmaster_pid(backend_pid: int) -> int | None:
    """PostgreSQL's server process, the parent of a backend (``SELECT pg_backend_pid()``), when
    the server runs on this machine; None for a remote one (its CPU is then not reported)."""
    try:
        return int(_stat(backend_pid)[1])  # field 4, ppid
    except (OSError, ValueError, IndexError):
        return None
