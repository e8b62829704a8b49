"""The translation catalogs are in step with the sources, zh_CN is complete, and Pyramid uses them.

zh_CN is the default UI language, so an untranslated string is an English word in a Chinese
page; a lost ``${placeholder}`` is a missing customer name; a stale committed ``.mo`` means
``pip install -e .`` ships old text. The fix for any failure here is::

    python scripts/i18n.py refresh   # then translate what it lists, then: python scripts/i18n.py compile
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest
from babel.messages.catalog import Catalog

from core.i18n import _, localizer_for

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "i18n.py"


def _load_script() -> ModuleType:
    """Load the script by path: ``scripts/`` is not a package."""
    spec = importlib.util.spec_from_file_location("kehu_i18n_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def i18n() -> ModuleType:
    return _load_script()


@pytest.fixture(scope="module")
def fresh(i18n: ModuleType) -> Catalog:
    """One extraction of the real sources, shared by the tests below."""
    return i18n.extract_catalog()


@pytest.fixture(scope="module")
def zh_cn(i18n: ModuleType) -> Catalog:
    return i18n._read_po(i18n.po_path("zh_CN"), "zh_CN")


def test_template_is_up_to_date_with_the_sources(i18n: ModuleType, fresh: Catalog) -> None:
    assert i18n.template_problems(fresh=fresh) == []


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_catalog_has_exactly_the_messages_of_the_sources(i18n: ModuleType, fresh: Catalog, locale: str) -> None:
    catalog = i18n._read_po(i18n.po_path(locale), locale)
    assert i18n._message_keys(catalog) == i18n._message_keys(fresh)


def test_zh_cn_is_complete(i18n: ModuleType, zh_cn: Catalog) -> None:
    assert i18n.untranslated(zh_cn) == []


def test_zh_cn_keeps_every_placeholder(i18n: ModuleType, zh_cn: Catalog) -> None:
    lost = {
        str(message.id): str(message.string)
        for message in zh_cn
        if message.id and i18n.placeholders(str(message.id)) != i18n.placeholders(str(message.string))
    }
    assert lost == {}


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_compiled_catalog_matches_its_po(i18n: ModuleType, locale: str) -> None:
    assert i18n.compiled_problems(locale) == []


def test_check_command_passes(i18n: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    assert i18n.main(["check"]) == 0, capsys.readouterr().err


def test_translated_in_zh_cn_and_english_in_en() -> None:
    assert localizer_for("zh_CN").translate(_("Sign in")) == "登录"
    assert localizer_for("en").translate(_("Sign in")) == "Sign in"


def test_placeholders_are_filled_after_translation() -> None:
    message = _("Installed: ${names}.", mapping={"names": "customers, leads"})
    assert localizer_for("zh_CN").translate(message) == "已安装：customers, leads。"
    assert localizer_for("en").translate(message) == "Installed: customers, leads."


def test_placeholders_helper(i18n: ModuleType) -> None:
    assert i18n.placeholders("Addon ${name} needs $missing, costs $$5") == {"name", "missing"}


# --- the extraction rules and the check itself, on a throwaway source tree ------------------

SAMPLE_PY = """
from core.i18n import _


class Taken(Exception):
    message = _("The username “${username}” is already taken.")


def kehu_permissions():
    return [Permission("x.y:read", _("Read things"), default_roles=("admin",))]


def kehu_menus():
    # TRANSLATORS: the sidebar entry of the things list
    return [MenuItem(id="x.list", title=_("Things"), route="x.list")]


def flash(names):
    return _("Installed: ${names}.", mapping={"names": ", ".join(names)})
"""

SAMPLE_TEMPLATE = """{% extends "core/layout.jinja2" %}
{% block content %}<h1>{{ _("Things") }}</h1>
<p title="{{ _('Needed by: ${names}', mapping={'names': names | join(', ')}) }}">{{ _(dynamic) }}</p>
{% endblock %}
"""


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A minimal project: the real babel.cfg, a few sources, and files that must be skipped."""
    shutil.copy(ROOT / "babel.cfg", tmp_path / "babel.cfg")
    files = {
        "core/things/hooks.py": SAMPLE_PY,
        "core/web/templates/things/list.jinja2": SAMPLE_TEMPLATE,
        "core/scaffold/template/addon/hooks.py": 'MESSAGE = _("Scaffold text")\n',
        "core/scaffold/template/addon/page.jinja2": '{{ _("Scaffold page") }}\n',
        "core/things/tests/test_things.py": 'ASSERTED = _("Test text")\n',
        "core/testing/plugin.py": 'FIXTURE = _("Plugin text")\n',
        "tests/test_elsewhere.py": 'OUTSIDE = _("Outside core")\n',
    }
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_extraction_rules(i18n: ModuleType, tree: Path) -> None:
    catalog = i18n.extract_catalog(tree)
    assert {str(m.id) for m in catalog if m.id} == {
        "The username “${username}” is already taken.",  # message = _(...) class attribute
        "Read things",  # Permission(...)
        "Things",  # MenuItem(...) and a template
        "Installed: ${names}.",  # with mapping=
        "Needed by: ${names}",  # template, with mapping=
    }
    things = catalog["Things"]
    assert things is not None
    assert [loc[0] for loc in things.locations] == ["core/things/hooks.py", "core/web/templates/things/list.jinja2"]
    assert things.auto_comments == ["the sidebar entry of the things list"]
    assert all(not m.flags - {"fuzzy"} for m in catalog), "no python-brace-format flag on ${...} strings"


def _translate_all(i18n: ModuleType, root: Path, translations: dict[str, str]) -> None:
    path = i18n.po_path("zh_CN", root)
    catalog = i18n._read_po(path, "zh_CN")
    for message in catalog:
        if message.id in translations:
            message.string = translations[str(message.id)]
    path.write_bytes(i18n._render_po(catalog))


def test_check_catches_what_it_promises(i18n: ModuleType, tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert i18n.check(tree) != []  # nothing generated yet
    todo = i18n.refresh(tree)
    assert "Read things" in todo
    # English may stay empty; zh_CN may not.
    assert [p for p in i18n.check(tree) if "/zh_CN/" not in p] == []
    assert any("untranslated" in p and "Read things" in p for p in i18n.check(tree))

    _translate_all(
        i18n,
        tree,
        {
            "The username “${username}” is already taken.": "用户名“${username}”已被占用。",
            "Read things": "查看事项",
            "Things": "事项",
            "Installed: ${names}.": "已安装：${name}。",  # placeholder misspelt
            "Needed by: ${names}": "被 ${names} 依赖",
        },
    )
    problems = i18n.check(tree)
    assert any("placeholders" in p and "Installed" in p for p in problems)
    assert any(p.endswith("kehu.mo does not match core/locale/zh_CN/LC_MESSAGES/kehu.po") for p in problems)

    _translate_all(i18n, tree, {"Installed: ${names}.": "已安装：${names}。"})
    i18n.compile_catalogs(tree)
    assert i18n.check(tree) == []

    # A new string in the sources: the template is stale and zh_CN incomplete until refreshed.
    hooks = tree / "core" / "things" / "hooks.py"
    hooks.write_text(hooks.read_text(encoding="utf-8") + 'LATER = _("Added later")\n', encoding="utf-8")
    problems = i18n.check(tree)
    assert any("kehu.pot is out of date" in p and "Added later" in p for p in problems)
    assert i18n.refresh(tree) == ["Added later"]
    assert any("untranslated" in p and "Added later" in p for p in i18n.check(tree))
    capsys.readouterr()


def test_refresh_is_a_no_op_on_a_clean_tree(i18n: ModuleType, tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    i18n.refresh(tree)
    generated = sorted((tree / "core" / "locale").rglob("kehu.*"))
    assert len(generated) == 5  # the template, then a .po and a .mo per locale
    before = {path: path.read_bytes() for path in generated}
    capsys.readouterr()
    i18n.refresh(tree)
    assert "wrote" not in capsys.readouterr().out
    assert {path: path.read_bytes() for path in generated} == before


def test_translation_strings_inside_a_mapping_are_translated_too():
    """A refusal naming a field reads wholly in the reader's language (“X”不是有效的客户级别)."""
    from core.exceptions import ValidationFailed
    from core.i18n import _, localizer_for

    error = ValidationFailed(field=_("Level"), problem="x")
    chinese = localizer_for("zh_CN").translate(error.translation_string)
    assert chinese == f"{localizer_for('zh_CN').translate(_('Level'))}：x"
    assert chinese != "Level：x" and localizer_for("en").translate(error.translation_string) == "Level: x"
