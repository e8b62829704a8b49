"""Docs that must stay in step with the code: every hook documented with its signature."""

import inspect
from pathlib import Path

import pytest

from core import hookspecs
from core.addons.catalog import AddonCatalog

DOCS = Path(__file__).resolve().parents[1] / "docs"


def hookspec_signatures(module):
    for name, func in inspect.getmembers(module, inspect.isfunction):
        if hasattr(func, "kehu_spec"):
            params = ", ".join(inspect.signature(func).parameters)
            yield name, f"{name}({params})"


def all_hookspec_modules():
    """The core's, every installed addon's, and every bundled addon's (registered or not yet)."""
    yield hookspecs
    names = {spec.hookspecs_module for spec in AddonCatalog.discover() if spec.hookspecs_module}
    names |= {f"addons.{path.parent.name}.hookspecs" for path in (DOCS.parent / "addons").glob("*/hookspecs.py")}
    for name in sorted(names):
        yield __import__(name, fromlist=["_"])


def test_core_has_the_hooks_the_design_names():
    names = {name for name, _ in hookspec_signatures(hookspecs)}
    assert names >= {"kehu_menus", "kehu_dashboard_widgets", "kehu_record_panels", "kehu_record_changed",
                     "kehu_search_providers", "kehu_periodic_jobs", "kehu_permissions", "kehu_demo_data"}


@pytest.mark.parametrize("module", list(all_hookspec_modules()), ids=lambda m: m.__name__)
def test_every_hookspec_is_documented_with_its_signature(module):
    text = (DOCS / "hooks.md").read_text(encoding="utf-8")
    for name, signature in hookspec_signatures(module):
        assert f"### `{signature}`" in text, f"docs/hooks.md lacks the heading ### `{signature}` for {name}"


def test_no_documented_hook_is_missing_from_the_code():
    text = (DOCS / "hooks.md").read_text(encoding="utf-8")
    documented = {line.split("`")[1].split("(")[0] for line in text.splitlines() if line.startswith("### `")}
    known = {name for module in all_hookspec_modules() for name, _ in hookspec_signatures(module)}
    assert documented <= known, f"documented but not in the code: {sorted(documented - known)}"
