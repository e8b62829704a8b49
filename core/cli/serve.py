"""``kehu serve``: gunicorn with config/gunicorn.conf.py; on SQLite a single worker process,
which also runs the background jobs in a thread (PostgreSQL installs run ``kehu worker``)."""

from __future__ import annotations

import os
import runpy
from pathlib import Path
from typing import Any

import click

from core.cli.environment import CliEnvironment
from core.settings import load_settings

REPO_CONFIG = Path(__file__).resolve().parents[2] / "config" / "gunicorn.conf.py"
DEFAULTS = {
    "bind": ["127.0.0.1:6543"],
    "workers": min((os.cpu_count() or 1) + 1, 8),  # as config/gunicorn.conf.py: cores + 1
    "worker_class": "sync",
    "control_socket_disable": True,
}


def run_gunicorn(env: CliEnvironment, *, bind: str | None = None, workers: int | None = None) -> None:
    from gunicorn.app.base import BaseApplication

    from core.web.app import make_app

    settings = load_settings(env.settings)  # now the session secret is needed too
    is_sqlite = settings["kehu.database_url"].startswith("sqlite")

    class KehuApplication(BaseApplication):
        def load_config(self) -> None:
            # Kehu's own defaults first, so a pip-installed Kehu without config/ still listens
            # on 127.0.0.1:6543 rather than gunicorn's 8000.
            for key, value in DEFAULTS.items():
                if key in self.cfg.settings:
                    self.cfg.set(key, value)
            config_file = Path("config/gunicorn.conf.py")
            config_file = config_file if config_file.exists() else REPO_CONFIG
            if config_file.exists():
                for key, value in runpy.run_path(str(config_file)).items():
                    if key in self.cfg.settings:
                        self.cfg.set(key, value)
            if bind:
                self.cfg.set("bind", [bind])
            if workers:
                self.cfg.set("workers", workers)
            if is_sqlite:
                # One process: SQLite allows one writer; threads still serve the browser in parallel.
                self.cfg.set("workers", 1)
                self.cfg.set("worker_class", "gthread")
                self.cfg.set("threads", max(4, self.cfg.threads))
                _run_jobs_in_worker_process(self.cfg)

        def load(self) -> Any:
            return make_app(settings)

    KehuApplication().run()


def _run_jobs_in_worker_process(cfg: Any) -> None:
    """Start one job worker thread in gunicorn's (single) worker process once the app is loaded
    there, and stop it when that process exits; hooks set in the config file still run first."""
    from core.jobs.worker import start_in_process_worker

    config_post_worker_init, config_worker_exit = cfg.post_worker_init, cfg.worker_exit
    running: list[Any] = []

    def post_worker_init(worker: Any) -> None:
        config_post_worker_init(worker)
        registry = worker.wsgi.registry
        running.append(start_in_process_worker(registry.settings, bind=registry["kehu.session_factory"],
                                               addons=registry["kehu.addons"]))

    def worker_exit(server: Any, worker: Any) -> None:
        config_worker_exit(server, worker)
        for handle in running:
            handle.stop()

    cfg.set("post_worker_init", post_worker_init)
    cfg.set("worker_exit", worker_exit)


@click.command()
@click.option("--bind", default=None, help="host:port (default from config/gunicorn.conf.py: 127.0.0.1:6543).")
@click.option("--workers", default=None, type=int, help="Worker processes (PostgreSQL only).")
@click.pass_obj
def serve(env: CliEnvironment, bind: str | None, workers: int | None) -> None:
    """Serve the web app and API with gunicorn."""
    run_gunicorn(env, bind=bind, workers=workers)
