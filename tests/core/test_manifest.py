"""addon.toml: small, strict, and the entry-point name must agree with it."""

from pathlib import Path

import pytest

from core.addons.exceptions import InvalidManifest
from core.addons.manifest import load_manifest, parse_manifest

HERE = Path(".")


def test_a_valid_manifest():
    spec = parse_manifest("visits", "pkg", HERE, {"name": "visits", "version": "1.0", "depends": ["core", "customers"],
                                                 "data": ["data:load"], "application": True, "title": "拜访"})
    assert spec.depends == ("customers",)
    assert spec.data == ("data:load",)
    assert spec.display_title == "拜访"


@pytest.mark.parametrize(("name", "raw", "problem"), [
    ("visits", {"name": "other", "version": "1"}, "entry point"),
    ("api", {"name": "api", "version": "1"}, "lowercase"),
    ("core", {"name": "core", "version": "1"}, "lowercase"),
    ("Visits", {"name": "Visits", "version": "1"}, "lowercase"),
    ("visits", {"name": "visits"}, "version"),
    ("visits", {"name": "visits", "version": "1", "depends": "core"}, "lists"),
    ("visits", {"name": "visits", "version": "1", "colour": "red"}, "colour"),
])
def test_invalid_manifests_say_what_is_wrong(name, raw, problem):
    with pytest.raises(InvalidManifest) as info:
        parse_manifest(name, "pkg", HERE, raw)
    assert problem in info.value.translated("en")


def test_a_package_without_addon_toml(tmp_path, monkeypatch):
    (tmp_path / "bare_pkg").mkdir()
    (tmp_path / "bare_pkg" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(InvalidManifest, match="missing"):
        load_manifest("bare_pkg", "bare_pkg")


def test_hooks_and_hookspecs_modules_are_found_by_file_name(catalog_of):
    spec = catalog_of("tests.fixtures.addons.alpha").get("alpha")
    assert spec.hooks_module == "tests.fixtures.addons.alpha.hooks"
    assert spec.hookspecs_module is None
    assert spec.migrations_path.name == "migrations"
