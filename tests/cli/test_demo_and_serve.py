"""``kehu demo`` and ``kehu serve`` as a newcomer runs them: real processes, real gunicorn."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

KEHU = [sys.executable, "-c", "from core.cli import main; main()"]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url, process, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.stdout.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback only)
                return response.status, response.read().decode()
        except OSError:  # not listening yet, or the worker is still booting
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {timeout} s")


@pytest.fixture
def clean_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEHU_")}
    env["KEHU_LANG"] = "en"  # the assertions read English output
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return env


def test_demo_creates_then_reuses_the_database(tmp_path, clean_env):
    first = subprocess.run([*KEHU, "demo", "--no-serve"], cwd=tmp_path, env=clean_env, capture_output=True,
                           text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "var" / "kehu.sqlite").exists()
    assert "(new)" in first.stdout
    assert "http://127.0.0.1:6543/" in first.stdout
    assert "admin / kehu-demo-1" in first.stdout
    second = subprocess.run([*KEHU, "demo", "--no-serve"], cwd=tmp_path, env=clean_env, capture_output=True,
                            text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert "(reused)" in second.stdout


def test_demo_serves_with_gunicorn_and_the_login_works(tmp_path, clean_env):
    port = free_port()
    process = subprocess.Popen([*KEHU, "demo", "--port", str(port)], cwd=tmp_path, env=clean_env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # the demo data (2,000 customers …) is loaded before gunicorn starts
        status, body = wait_for(f"http://127.0.0.1:{port}/login", process, timeout=90)
        assert status == 200
        assert 'name="csrf_token"' in body
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    assert "gunicorn" in output.lower() or "Listening at" in output


def test_serve_refuses_a_database_without_secret(tmp_path, clean_env):
    clean_env["KEHU_DATABASE_URL"] = "postgresql://nobody@127.0.0.1:1/none"
    result = subprocess.run([*KEHU, "serve"], cwd=tmp_path, env=clean_env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    assert "KEHU_SECRET" in result.stderr
    assert "Traceback" not in result.stderr
