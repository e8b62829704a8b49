"""An addon's manifest, ``addon.toml``: small on purpose (name, version, what it needs).

Example::

    name = "customers"
    version = "1.0.0"
    title = "客户管理"
    summary = "Customers, contacts, follow-ups and the public pool"
    category = "Sales"
    depends = ["core"]
    application = true
    data = ["data.defaults:load"]      # called in order at install and upgrade
"""

from __future__ import annotations

import dataclasses
import importlib.util
import re
import tomllib
from pathlib import Path

from core.addons.exceptions import InvalidManifest

ADDON_NAME = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
CORE = "core"
#: "core" is the core itself; "api" would make route names like ``api.list`` ambiguous.
RESERVED_NAMES = frozenset({CORE, "api"})


@dataclasses.dataclass(frozen=True)
class AddonSpec:
    """Everything the core needs to know about one addon, read once at start-up."""

    name: str
    version: str
    package: str
    path: Path
    title: str = ""
    summary: str = ""
    category: str = ""
    depends: tuple[str, ...] = ()
    application: bool = False
    data: tuple[str, ...] = ()
    hooks_module: str | None = None
    hookspecs_module: str | None = None

    @property
    def migrations_path(self) -> Path | None:
        path = self.path / "migrations"
        return path if path.is_dir() else None

    @property
    def translation_dir(self) -> Path | None:
        path = self.path / "i18n"
        return path if path.is_dir() else None

    @property
    def display_title(self) -> str:
        return self.title or self.name


def load_manifest(name: str, package: str) -> AddonSpec:
    """Read ``addon.toml`` beside ``package`` (imported, which must have no side effects)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise InvalidManifest(name=name, problem=f"package {package!r} cannot be imported")
    path = Path(next(iter(spec.submodule_search_locations)))
    manifest_file = path / "addon.toml"
    try:
        raw = tomllib.loads(manifest_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidManifest(name=name, problem=f"{manifest_file} is missing") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidManifest(name=name, problem=str(exc)) from None
    return parse_manifest(name, package, path, raw)


def parse_manifest(name: str, package: str, path: Path, raw: dict) -> AddonSpec:
    """Validate the manifest's fields; the entry-point name and ``name`` must agree."""
    if raw.get("name") != name:
        raise InvalidManifest(name=name, problem=f"name is {raw.get('name')!r}, the entry point says {name!r}")
    if not ADDON_NAME.match(name) or name in RESERVED_NAMES:
        raise InvalidManifest(name=name, problem="a name is 2-41 lowercase letters, digits or _")
    version = raw.get("version")
    if not isinstance(version, str) or not version:
        raise InvalidManifest(name=name, problem="version is required")
    depends = raw.get("depends", [CORE])
    data = raw.get("data", [])
    if not _is_list_of_str(depends) or not _is_list_of_str(data):
        raise InvalidManifest(name=name, problem="depends and data are lists of strings")
    known = {"name", "version", "title", "summary", "category", "depends", "application", "data"}
    unknown = set(raw) - known
    if unknown:
        raise InvalidManifest(name=name, problem=f"unknown keys: {', '.join(sorted(unknown))}")
    return AddonSpec(
        name=name,
        version=version,
        package=package,
        path=path,
        title=str(raw.get("title", "")),
        summary=str(raw.get("summary", "")),
        category=str(raw.get("category", "")),
        depends=tuple(d for d in depends if d != CORE),
        application=bool(raw.get("application", False)),
        data=tuple(data),
        hooks_module=_submodule(package, path, "hooks"),
        hookspecs_module=_submodule(package, path, "hookspecs"),
    )


def _submodule(package: str, path: Path, name: str) -> str | None:
    """Habit 1: an addon's hookimpls live in ``hooks.py``, the hooks it offers in ``hookspecs.py``."""
    if (path / f"{name}.py").is_file() or (path / name / "__init__.py").is_file():
        return f"{package}.{name}"
    return None


def _is_list_of_str(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)
