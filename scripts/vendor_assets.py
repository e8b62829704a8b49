"""Vendor front-end assets (Bootstrap, Bootstrap Icons, htmx, ECharts, Redoc) into the repo.

Kehu must work on intranets with no Internet access, so pages never load anything from
a CDN: the few third-party files the UI needs are copied from their npm tarballs into
``core/web/static/vendor/<name>/`` and committed. This script is the only way those
files should change, so that every byte can be traced back to a pinned package version.

Usage::

    python scripts/vendor_assets.py          # fetch pinned versions, rewrite vendor/
    python scripts/vendor_assets.py --check  # offline: verify against VERSIONS.json

Refreshing needs ``npm`` and the npm registry; ``--check`` needs neither, so it can run
in CI and in the test suite. To upgrade a package, edit its version in ``PACKAGES``,
run the script and review the diff.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR_DIR = ROOT / "core" / "web" / "static" / "vendor"
MANIFEST_NAME = "VERSIONS.json"
# Keeps the repository lean and catches a mapping that picked up the wrong (unminified
# or full-bundle) file; nothing a page loads should come near this.
MAX_FILE_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Package:
    """One npm package and the files of its tarball that the UI ships."""

    name: str  # directory under vendor/, and key in VERSIONS.json
    npm: str  # npm package name
    version: str  # exact version: never a range, so refreshes are reproducible
    # path in the tarball (relative to its ``package/`` root) -> path in vendor/<name>/
    files: dict[str, str]


PACKAGES: tuple[Package, ...] = (
    Package(
        name="bootstrap",
        npm="bootstrap",
        version="5.3.9",
        # Source maps (~0.9 MB) are left out: only devtools ask for them.
        files={
            "dist/css/bootstrap.min.css": "bootstrap.min.css",
            "dist/js/bootstrap.bundle.min.js": "bootstrap.bundle.min.js",
            "LICENSE": "LICENSE",
        },
    ),
    Package(
        name="bootstrap-icons",
        npm="bootstrap-icons",
        version="1.13.2",
        # The CSS loads url("fonts/bootstrap-icons.woff2?...") relative to itself.
        files={
            "font/bootstrap-icons.min.css": "bootstrap-icons.min.css",
            "font/fonts/bootstrap-icons.woff2": "fonts/bootstrap-icons.woff2",
            "font/fonts/bootstrap-icons.woff": "fonts/bootstrap-icons.woff",
            "LICENSE": "LICENSE",
        },
    ),
    Package(
        name="htmx",
        npm="htmx.org",
        version="2.0.11",
        files={
            "dist/htmx.min.js": "htmx.min.js",
            "LICENSE": "LICENSE",
        },
    ),
    Package(
        name="echarts",
        npm="echarts",
        version="6.1.0",
        # Apache-2.0 requires shipping NOTICE; LICENSE points at licenses/LICENSE-d3.
        files={
            "dist/echarts.min.js": "echarts.min.js",
            "LICENSE": "LICENSE",
            "NOTICE": "NOTICE",
            "licenses/LICENSE-d3": "licenses/LICENSE-d3",
        },
    ),
    Package(
        name="redoc",
        npm="redoc",
        version="2.5.4",
        # The API explorer at /api/docs. The standalone bundle carries React and its other
        # dependencies; their licence notices are in the .LICENSE.txt beside it.
        files={
            "bundles/redoc.standalone.js": "redoc.standalone.js",
            "bundles/redoc.standalone.js.LICENSE.txt": "redoc.standalone.js.LICENSE.txt",
            "LICENSE": "LICENSE",
        },
    ),
)


class VendorError(Exception):
    """A refresh cannot proceed; raised before anything under vendor/ is modified."""


def sha256_file(path: Path) -> str:
    """Hash a file in chunks; ECharts alone is over a megabyte."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def npm_pack(pkg: Package, dest: Path) -> tuple[Path, str]:
    """Download the package tarball with npm; returns (tarball, registry integrity).

    ``npm pack`` reuses npm's registry/proxy configuration and verifies the tarball
    against the registry's integrity hash, which a hand-rolled HTTP fetch would not.
    """
    npm = shutil.which("npm")
    if npm is None:
        raise VendorError(
            "npm not found on PATH (only needed to refresh, not for --check)"
        )
    spec = f"{pkg.npm}@{pkg.version}"
    result = subprocess.run(
        [
            npm,
            "pack",
            spec,
            "--pack-destination",
            str(dest),
            "--json",
            "--ignore-scripts",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise VendorError(f"npm pack {spec} failed:\n{result.stderr.strip()}")
    tarballs = sorted(dest.glob("*.tgz"))
    if len(tarballs) != 1:
        raise VendorError(
            f"npm pack {spec}: expected one tarball in {dest}, found {tarballs}"
        )
    integrity = ""
    try:
        info = json.loads(result.stdout)
        integrity = str(info[0].get("integrity", ""))
    except (ValueError, LookupError, AttributeError):
        pass  # integrity is informational only; the tarball itself is what matters
    return tarballs[0], integrity


def safe_extract(tarball: Path, dest: Path) -> None:
    """Extract the tarball's regular files, refusing any member that escapes ``dest``.

    A tarball is untrusted input: a member named ``../x`` or ``/x``, or a link, could
    otherwise write outside the temporary directory. Every member is validated before
    anything is written, and files are written by hand (no ``extractall``), so no link,
    device or permission bit from the archive reaches the disk on any 3.11 release.
    """
    root = dest.resolve()
    with tarfile.open(tarball, "r:*") as tar:
        members = tar.getmembers()
        targets: list[tuple[tarfile.TarInfo, Path]] = []
        for member in members:
            target = (root / member.name).resolve()
            if target == root or not target.is_relative_to(root):
                raise VendorError(f"{tarball.name}: {member.name!r} escapes {dest}")
            if not (member.isfile() or member.isdir()):
                raise VendorError(
                    f"{tarball.name}: {member.name!r} is not a plain file"
                )
            targets.append((member, target))
        for member, target in targets:
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            source = tar.extractfile(member)
            if source is None:  # pragma: no cover - isfile() members always have data
                raise VendorError(f"{tarball.name}: cannot read {member.name!r}")
            target.parent.mkdir(parents=True, exist_ok=True)
            with source, target.open("wb") as out:
                shutil.copyfileobj(source, out)


def read_license(package_root: Path, pkg: Package) -> str:
    """Return package.json's SPDX license, after checking it is the pinned version."""
    meta = json.loads((package_root / "package.json").read_text(encoding="utf-8"))
    if meta.get("name") != pkg.npm or meta.get("version") != pkg.version:
        raise VendorError(
            f"tarball is {meta.get('name')}@{meta.get('version')}, "
            f"expected {pkg.npm}@{pkg.version}"
        )
    license_ = meta.get("license", "")
    if isinstance(license_, dict):  # legacy {"type": ..., "url": ...} form
        license_ = license_.get("type", "")
    if not license_:
        raise VendorError(f"{pkg.npm}@{pkg.version}: no license in package.json")
    return str(license_)


def stage_package(pkg: Package, work: Path, out: Path) -> dict[str, object]:
    """Fetch one package and copy its chosen files into ``out``; return its entry."""
    download = work / "download"
    extracted = work / "extracted"
    download.mkdir(parents=True)
    extracted.mkdir()
    tarball, integrity = npm_pack(pkg, download)
    safe_extract(tarball, extracted)
    package_root = extracted / "package"
    license_ = read_license(package_root, pkg)

    files: list[dict[str, object]] = []
    for src_rel, dest_rel in pkg.files.items():
        src = package_root / src_rel
        if not src.is_file():
            raise VendorError(f"{pkg.npm}@{pkg.version}: {src_rel} not in tarball")
        size = src.stat().st_size
        if size >= MAX_FILE_BYTES:
            raise VendorError(
                f"{pkg.npm}@{pkg.version}: {src_rel} is {size} bytes (limit 5 MB)"
            )
        dest = out / dest_rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        files.append({"path": dest_rel, "size": size, "sha256": sha256_file(dest)})

    entry: dict[str, object] = {
        "package": pkg.npm,
        "version": pkg.version,
        "license": license_,
        "files": sorted(files, key=lambda f: str(f["path"])),
    }
    if integrity:
        entry["integrity"] = integrity
    return entry


def refresh(vendor_dir: Path = VENDOR_DIR) -> None:
    """Re-vendor every package; all downloads finish before vendor/ is touched."""
    manifest: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="kehu-vendor-") as tmp:
        staging = Path(tmp) / "staging"
        for pkg in PACKAGES:
            print(f"fetching {pkg.npm}@{pkg.version}")
            manifest[pkg.name] = stage_package(
                pkg, Path(tmp) / "work" / pkg.name, staging / pkg.name
            )

        vendor_dir.mkdir(parents=True, exist_ok=True)
        for pkg in PACKAGES:
            target = vendor_dir / pkg.name
            if target.exists():
                # Drop files that an earlier version shipped and this one does not.
                shutil.rmtree(target)
            shutil.copytree(staging / pkg.name, target)
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    (vendor_dir / MANIFEST_NAME).write_text(text, encoding="utf-8")
    print(f"wrote {vendor_dir / MANIFEST_NAME}")


def check(vendor_dir: Path = VENDOR_DIR) -> list[str]:
    """Compare vendor/ with VERSIONS.json and ``PACKAGES``; return the problems found.

    Offline by design (no npm, no network): it guards against hand-edited or missing
    files and against a version bump in ``PACKAGES`` that was never actually fetched.
    """
    manifest_path = vendor_dir / MANIFEST_NAME
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [f"{manifest_path} is missing; run scripts/vendor_assets.py"]
    except ValueError as exc:
        return [f"{manifest_path} is not valid JSON: {exc}"]
    if not isinstance(manifest, dict):
        return [f"{manifest_path} must hold a JSON object"]

    errors: list[str] = []
    expected = {pkg.name: pkg for pkg in PACKAGES}
    for name in sorted(set(manifest) - set(expected)):
        errors.append(f"{name}: in {MANIFEST_NAME} but not in PACKAGES")
    for name, pkg in expected.items():
        entry = manifest.get(name)
        if not isinstance(entry, dict):
            errors.append(
                f"{name}: missing from {MANIFEST_NAME}; run scripts/vendor_assets.py"
            )
            continue
        if entry.get("package") != pkg.npm or entry.get("version") != pkg.version:
            recorded = f"{entry.get('package')}@{entry.get('version')}"
            errors.append(
                f"{name}: {MANIFEST_NAME} has {recorded}, PACKAGES pins "
                f"{pkg.npm}@{pkg.version}; run scripts/vendor_assets.py"
            )
        files = entry.get("files")
        if not isinstance(files, list):
            errors.append(f"{name}: 'files' must be a list")
            continue
        listed: set[str] = set()
        for item in files:
            rel = item.get("path") if isinstance(item, dict) else None
            if not isinstance(rel, str):
                errors.append(f"{name}: malformed file entry {item!r}")
                continue
            listed.add(rel)
            path = vendor_dir / name / rel
            if not path.is_file():
                errors.append(f"{name}/{rel}: missing")
            elif sha256_file(path) != item.get("sha256"):
                errors.append(f"{name}/{rel}: sha256 differs from {MANIFEST_NAME}")
        if listed != set(pkg.files.values()):
            errors.append(
                f"{name}: file list differs from PACKAGES; run scripts/vendor_assets.py"
            )
        pkg_dir = vendor_dir / name
        if pkg_dir.is_dir():
            on_disk = {
                p.relative_to(pkg_dir).as_posix()
                for p in pkg_dir.rglob("*")
                if p.is_file()
            }
            for rel in sorted(on_disk - listed):
                errors.append(f"{name}/{rel}: not listed in {MANIFEST_NAME}")
    return errors


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="verify vendored files against VERSIONS.json without network access",
    )
    args = parser.parse_args(argv)
    if args.check:
        errors = check()
        for error in errors:
            print(f"vendor check: {error}", file=sys.stderr)
        if errors:
            return 1
        print(f"vendor check: {len(PACKAGES)} packages OK")
        return 0
    try:
        refresh()
    except VendorError as exc:
        print(f"vendor refresh failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
