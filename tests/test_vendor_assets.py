"""The vendored front-end assets are present, untouched and match VERSIONS.json.

Kehu runs offline, so a missing or hand-edited file under ``core/web/static/vendor``
is a broken page in production; these tests catch that without any network access.
"""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
import sys
import tarfile
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "vendor_assets.py"
VENDOR_DIR = ROOT / "core" / "web" / "static" / "vendor"


@pytest.fixture(scope="module")
def vendor_assets() -> ModuleType:
    """Load the script by path: ``scripts/`` is not a package."""
    spec = importlib.util.spec_from_file_location("kehu_vendor_assets", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look the defining module up in sys.modules.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def no_subprocess(vendor_assets: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail loudly if anything tries to run npm: the check must stay offline."""

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"unexpected subprocess call: {args!r}")

    monkeypatch.setattr(vendor_assets.subprocess, "run", forbidden)


def test_check_passes(vendor_assets: ModuleType) -> None:
    assert vendor_assets.check(VENDOR_DIR) == []
    assert vendor_assets.main(["--check"]) == 0


def test_versions_lists_expected_packages() -> None:
    manifest = json.loads((VENDOR_DIR / "VERSIONS.json").read_text(encoding="utf-8"))
    assert {"bootstrap", "bootstrap-icons", "htmx", "echarts"} <= set(manifest)
    for name, entry in manifest.items():
        assert entry["package"] and entry["version"] and entry["license"], name
        paths = {f["path"] for f in entry["files"]}
        assert "LICENSE" in paths, f"{name} must ship its license"


def test_files_under_size_limit() -> None:
    for path in VENDOR_DIR.rglob("*"):
        if path.is_file():
            assert path.stat().st_size < 5 * 1024 * 1024, path


def test_icon_fonts_where_css_expects_them() -> None:
    css = (VENDOR_DIR / "bootstrap-icons" / "bootstrap-icons.min.css").read_text(
        encoding="utf-8"
    )
    for font in ("fonts/bootstrap-icons.woff2", "fonts/bootstrap-icons.woff"):
        assert f'url("{font}?' in css
        assert (VENDOR_DIR / "bootstrap-icons" / font).is_file()


def test_check_detects_tampering(vendor_assets: ModuleType, tmp_path: Path) -> None:
    copy = tmp_path / "vendor"
    shutil.copytree(VENDOR_DIR, copy)
    with (copy / "htmx" / "htmx.min.js").open("ab") as fh:
        fh.write(b"\n// edited by hand\n")
    (copy / "echarts" / "NOTICE").unlink()
    (copy / "bootstrap" / "extra.js").write_text("", encoding="utf-8")

    errors = "\n".join(vendor_assets.check(copy))
    assert "htmx/htmx.min.js: sha256 differs" in errors
    assert "echarts/NOTICE: missing" in errors
    assert "bootstrap/extra.js: not listed" in errors


def test_safe_extract_refuses_escaping_paths(
    vendor_assets: ModuleType, tmp_path: Path
) -> None:
    tarball = tmp_path / "evil.tgz"
    with tarfile.open(tarball, "w:gz") as tar:
        data = b"pwned"
        member = tarfile.TarInfo("package/../../evil.txt")
        member.size = len(data)
        tar.addfile(member, io.BytesIO(data))
    dest = tmp_path / "out"
    dest.mkdir()

    with pytest.raises(vendor_assets.VendorError, match="escapes"):
        vendor_assets.safe_extract(tarball, dest)
    assert not (tmp_path / "evil.txt").exists()
