"""Each addon's own alembic history, run on a connection the caller controls.

Every addon (and the core, under the name ``core``) keeps its revisions in its ``migrations/``
folder and its position in its own version table ``<addon>_alembic_version``. Histories are
independent, so addons install, upgrade and uninstall in any combination. No ``env.py`` is
needed: the core drives alembic directly, inside the caller's transaction, which is what makes
an install all or nothing.
"""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from core.db import Base

CORE_MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def version_table(name: str) -> str:
    return f"{name}_alembic_version"


def script_directory(path: Path) -> ScriptDirectory:
    return ScriptDirectory(str(path), version_locations=[str(path)])


def _alembic_config(path: Path) -> Config:
    config = Config()
    config.set_main_option("script_location", str(path))
    config.set_main_option("version_locations", str(path))
    return config


def _run(connection: Connection, name: str, path: Path, destination: str, *, downgrade: bool) -> None:
    config = _alembic_config(path)
    script = script_directory(path)

    def steps(revision: object, context: MigrationContext) -> list:
        if downgrade:
            return script._downgrade_revs(destination, revision)
        return script._upgrade_revs(destination, revision)

    with EnvironmentContext(config, script, fn=steps, destination_rev=destination) as env:
        env.configure(
            connection=connection,
            target_metadata=Base.metadata,
            version_table=version_table(name),
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with env.begin_transaction():
            env.run_migrations()


def upgrade_to_head(connection: Connection, name: str, path: Path) -> None:
    """Run ``name``'s migrations up to its head revision."""
    _run(connection, name, path, "heads", downgrade=False)


def downgrade_to_base(connection: Connection, name: str, path: Path) -> None:
    """Undo every migration of ``name`` (its tables go) and drop its version table."""
    _run(connection, name, path, "base", downgrade=True)
    if inspect(connection).has_table(version_table(name)):
        connection.execute(text(f'DROP TABLE "{version_table(name)}"'))


def current_revisions(connection: Connection, name: str) -> tuple[str, ...]:
    context = MigrationContext.configure(connection, opts={"version_table": version_table(name)})
    return tuple(context.get_current_heads())


def head_revisions(path: Path) -> tuple[str, ...]:
    return tuple(script_directory(path).get_heads())
