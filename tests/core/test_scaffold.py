"""``kehu addons new``: the package it writes, its refusals, and a partner's whole path with it —
pip install, the addon's own tests on SQLite and PostgreSQL, ``kehu init --addons``."""

import importlib.util
import os
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from click.testing import CliRunner
from packaging.version import Version

from core.addons.manifest import parse_manifest
from core.cli import main
from core.scaffold import write_addon
from core.scaffold.exceptions import InvalidAddonName, TargetExists

EXPECTED_FILES = {
    "README.md",
    "pyproject.toml",
    "kehu_visits/__init__.py",
    "kehu_visits/addon.toml",
    "kehu_visits/models.py",
    "kehu_visits/services.py",
    "kehu_visits/views.py",
    "kehu_visits/lists.py",
    "kehu_visits/hooks.py",
    "kehu_visits/migrations/0001_visits_record.py",
    "kehu_visits/templates/visits/detail.jinja2",
    "kehu_visits/tests/__init__.py",
    "kehu_visits/tests/test_visits.py",
}


def run_new(*args: str):
    return CliRunner().invoke(main, ["addons", "new", *args], env={"KEHU_LANG": "en"})


def files_under(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in root.rglob("*") if p.is_file()}


def test_new_writes_a_complete_addon_package(tmp_path):
    result = run_new("visits", "--path", str(tmp_path))

    assert result.exit_code == 0, result.output
    root = tmp_path / "kehu-visits"
    assert f"Written: {root}" in result.output
    files = files_under(root)
    assert set(files) == EXPECTED_FILES
    for path, text in files.items():
        if path.endswith(".py"):
            compile(text, path, "exec")  # every module is valid Python
    project = tomllib.loads(files["pyproject.toml"])
    assert project["project"]["name"] == "kehu-visits"
    assert project["project"]["version"] == "0.1.0"
    assert project["project"]["dependencies"] == ["kehu"]
    assert project["project"]["entry-points"]["kehu.addons"] == {"visits": "kehu_visits"}
    assert project["build-system"]["build-backend"] == "setuptools.build_meta"
    manifest_raw = tomllib.loads(files["kehu_visits/addon.toml"])
    spec = parse_manifest("visits", "kehu_visits", root / "kehu_visits", manifest_raw)
    assert (spec.title, spec.version, spec.depends) == ("Visits", "0.1.0", ())
    assert spec.hooks_module == "kehu_visits.hooks"
    assert "config.add_list_page(lists.RECORDS)" in files["kehu_visits/__init__.py"]
    assert 'path="/visits"' in files["kehu_visits/lists.py"]
    assert "class VisitsRecord(Model, Owned):" in files["kehu_visits/models.py"]
    assert 'access_key = "visits.record"' in files["kehu_visits/models.py"]
    assert '__tablename__ = "visits_record"' in files["kehu_visits/models.py"]
    assert '{% extends "core/layout.jinja2" %}' in files["kehu_visits/templates/visits/detail.jinja2"]


def test_new_refuses_to_overwrite_and_leaves_the_folder_alone(tmp_path):
    assert run_new("visits", "--path", str(tmp_path)).exit_code == 0
    models = tmp_path / "kehu-visits" / "kehu_visits" / "models.py"
    models.write_text("# edited by the partner\n", encoding="utf-8")

    result = run_new("visits", "--path", str(tmp_path))

    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("Error: ")
    assert str(tmp_path / "kehu-visits") in result.stderr
    assert models.read_text(encoding="utf-8") == "# edited by the partner\n"


@pytest.mark.parametrize("name", ["Visits", "1visits", "v", "kehu-visits", "visits!", "x" * 42, "core", "api"])
def test_new_refuses_a_name_that_cannot_name_an_addon(tmp_path, name):
    result = run_new(name, "--path", str(tmp_path))

    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert name in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_write_addon_raises_typed_errors(tmp_path):
    with pytest.raises(InvalidAddonName):
        write_addon("Visits", tmp_path)
    write_addon("visits", tmp_path)
    with pytest.raises(TargetExists):
        write_addon("visits", tmp_path)


def test_a_title_with_quotes_and_chinese_survives_toml_and_python(tmp_path):
    title = '客户 "拜访" \\ 记录'
    root = write_addon("customer_visits", tmp_path, title=title)

    assert root == tmp_path / "kehu-customer-visits"
    package = root / "kehu_customer_visits"
    assert tomllib.loads((package / "addon.toml").read_text(encoding="utf-8"))["title"] == title
    namespace: dict = {}
    test_module = package / "tests" / "test_customer_visits.py"
    title_line = next(line for line in test_module.read_text(encoding="utf-8").splitlines()
                      if line.startswith("TITLE = "))
    exec(title_line, namespace)  # noqa: S102  (one assignment line we generated)
    assert namespace["TITLE"] == title
    assert "class CustomerVisitsRecord(Model, Owned):" in (package / "models.py").read_text(encoding="utf-8")


def _pip_install_args() -> list[str]:
    """Build offline with the environment's setuptools when it can make wheels by itself
    (from 70.1 on, or with the ``wheel`` package); else let pip fetch them for an isolated build."""
    offline = (importlib.util.find_spec("wheel") is not None
               or Version(version("setuptools")) >= Version("70.1"))
    return ["--no-build-isolation"] if offline else []


def _kehu_command() -> list[str]:
    script = Path(sys.executable).with_name("kehu")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from core.cli import main; main()"]


def test_a_generated_addon_installs_and_passes_its_own_tests(tmp_path, postgres_server_url):
    root = write_addon("visits", tmp_path)
    site = tmp_path / "site"
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", *_pip_install_args(),
         "--target", str(site), str(root)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert pip.returncode == 0, pip.stdout + pip.stderr
    assert (site / "kehu_visits" / "addon.toml").is_file()
    assert (site / "kehu_visits" / "migrations" / "0001_visits_record.py").is_file()
    assert (site / "kehu_visits" / "templates" / "visits" / "detail.jinja2").is_file()
    assert importlib.util.find_spec("kehu_visits") is None  # installed beside, not into, this environment

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))}
    env["KEHU_LANG"] = "en"  # the assertions below read English output
    if postgres_server_url:  # the session's PostgreSQL, rather than a second throwaway cluster
        env["KEHU_TEST_DATABASE_URL"] = postgres_server_url
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root / "kehu_visits" / "tests")],
        capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env, check=False,
    )
    output = tests.stdout + tests.stderr
    assert tests.returncode == 0, output
    assert "passed" in output
    if postgres_server_url:
        assert "skipped" not in output, output

    database = f"sqlite:///{tmp_path / 'x.sqlite'}"
    kehu = [*_kehu_command(), "--database-url", database]
    init = subprocess.run([*kehu, "init", "--admin-password", "Kehu-Test-Pass-42", "--addons", "visits"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env, check=False)
    assert init.returncode == 0, init.stdout + init.stderr
    assert "Installed: visits" in init.stdout
    listed = subprocess.run([*kehu, "addons", "list"],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env, check=False)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    visits_line = next(line for line in listed.stdout.splitlines() if line.startswith("visits "))
    assert visits_line.split() == ["visits", "0.1.0", "installed"]
