"""``kehu addons new NAME``: a partner's addon as its own pip package, ready to install and test.

The files come from ``template/`` beside this module: every ``*.tmpl`` file is rendered with
``string.Template`` (``$name``, ``$package`` … below; a literal dollar sign is ``$$``) and written
without the suffix, and ``{name}`` / ``{package}`` in a path become the addon's name and package.
Plain substitution keeps the template files readable as the files they become, Jinja2 pages
included.
"""

from __future__ import annotations

import json
import string
from pathlib import Path

from core.addons.manifest import ADDON_NAME, CORE
from core.scaffold.exceptions import InvalidAddonName, TargetExists

TEMPLATE_DIR = Path(__file__).resolve().parent / "template"
TEMPLATE_SUFFIX = ".tmpl"
#: ``core`` is the core's own name; ``api.<addon>.…`` route names make ``api`` unusable too.
RESERVED_NAMES = (CORE, "api")


def write_addon(name: str, target: Path, *, title: str | None = None) -> Path:
    """Write the package of addon ``name`` into ``target/kehu-<name>`` and return that folder.

    Raises InvalidAddonName, or TargetExists rather than overwrite anything: every file is
    rendered before the first one is written, so a refusal leaves no half-written package.
    """
    values = addon_values(name, title=title)
    root = Path(target) / values["distribution"]
    if root.exists():
        raise TargetExists(path=root)
    files = render_template_tree(values)
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def addon_values(name: str, *, title: str | None = None) -> dict[str, str]:
    """The names a new addon ``name`` is known by, as the templates use them.

    For ``visits``: distribution ``kehu-visits``, package ``kehu_visits``, model ``VisitsRecord``
    on table ``visits_record`` (access key ``visits.record``), permission ``visits.record:read``.
    """
    if not ADDON_NAME.match(name) or name in RESERVED_NAMES:
        raise InvalidAddonName(name=name, reserved=" / ".join(RESERVED_NAMES))
    title = " ".join((title or "").split()) or name.replace("_", " ").capitalize()
    return {
        "name": name,
        "title": title,
        # A double-quoted literal valid in Python and in TOML alike (quotes, backslashes, 中文).
        "title_literal": json.dumps(title, ensure_ascii=False),
        "read_title_literal": json.dumps(f"Read {title}", ensure_ascii=False),
        "create_title_literal": json.dumps(f"Create {title}", ensure_ascii=False),
        "write_title_literal": json.dumps(f"Edit {title}", ensure_ascii=False),
        "delete_title_literal": json.dumps(f"Delete {title}", ensure_ascii=False),
        "export_title_literal": json.dumps(f"Export {title}", ensure_ascii=False),
        "distribution": "kehu-" + name.replace("_", "-"),
        "package": f"kehu_{name}",
        "model_class": "".join(part.capitalize() for part in name.split("_") if part) + "Record",
        "table": f"{name}_record",
        "access_key": f"{name}.record",
        "permission": f"{name}.record:read",
    }


def render_template_tree(values: dict[str, str]) -> dict[Path, str]:
    """Every template file rendered with ``values``, keyed by its path in the new package."""
    files: dict[Path, str] = {}
    for source in sorted(TEMPLATE_DIR.rglob(f"*{TEMPLATE_SUFFIX}")):
        relative = source.relative_to(TEMPLATE_DIR).as_posix()[: -len(TEMPLATE_SUFFIX)]
        relative = relative.replace("{package}", values["package"]).replace("{name}", values["name"])
        text = string.Template(source.read_text(encoding="utf-8")).substitute(values)
        files[Path(relative)] = text
    return files
