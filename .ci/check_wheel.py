"""Check that the built wheel and sdist hold every file the package needs at run time.

    python .ci/check_wheel.py DIST_DIR

DIST_DIR holds what ``python -m build`` wrote: one ``btvqvae-*.whl`` and one
``btvqvae-*.tar.gz``. What the package needs is read from the checkout, not from a list kept
here: every file under ``btvqvae/`` that git tracks (or would track: new files not yet
committed count too), less bytecode caches and tests. A data file added later (pretrained
weights, JSON, ...) is therefore checked without changing this script. The wheel must also
carry LICENSE and the version in ``btvqvae/_version.py``, and nothing outside the package
and its metadata. Exits 1 with one line per problem.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "btvqvae"


def _is_runtime_file(path: str) -> bool:
    """False for caches and tests, which the wheel need not carry."""
    parts = PurePosixPath(path).parts
    name = parts[-1]
    return not ("__pycache__" in parts or name.endswith((".pyc", ".pyo"))
                or "tests" in parts or name.startswith("test_") or name == "conftest.py")


def package_files() -> set[str]:
    """Paths (posix, from the repository root) the package needs at run time."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", PACKAGE],
            cwd=ROOT, check=True, capture_output=True).stdout.decode().split("\0")
        files = {path for path in listed if path and (ROOT / path).is_file()}
    except (OSError, subprocess.CalledProcessError):  # no git, or not a checkout: walk
        files = {path.relative_to(ROOT).as_posix()
                 for path in (ROOT / PACKAGE).rglob("*") if path.is_file()}
    files = {path for path in files if _is_runtime_file(path)}
    if not any(path.endswith("__init__.py") for path in files):
        raise SystemExit(f"found no {PACKAGE}/__init__.py under {ROOT}: run from the checkout")
    return files


def version() -> str:
    text = (ROOT / PACKAGE / "_version.py").read_text()
    return re.search(r'__version__\s*=\s*["\']([^"\']+)["\']', text).group(1)


def _one(dist: Path, pattern: str) -> Path:
    found = sorted(dist.glob(pattern))
    if len(found) != 1:
        raise SystemExit(f"expected one {pattern} in {dist}, found {[p.name for p in found]}")
    return found[0]


def check_wheel(wheel: Path, needed: set[str], expected_version: str) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        dist_info = {name.split("/")[0] for name in names if ".dist-info/" in name}
        problems = [f"wheel lacks {path}" for path in sorted(needed - names)]
        if len(dist_info) != 1:
            return [*problems, f"wheel has {len(dist_info)} .dist-info folders: {dist_info}"]
        (info,) = dist_info
        metadata = archive.read(f"{info}/METADATA").decode()
    stray = sorted(name for name in names
                   if not name.startswith((f"{PACKAGE}/", f"{info}/")))
    problems += [f"wheel holds {name}, outside the package" for name in stray]
    problems += [f"wheel holds {name}, a cache or test file" for name in sorted(names)
                 if name.startswith(f"{PACKAGE}/") and not _is_runtime_file(name)]
    if f"{info}/licenses/LICENSE" not in names:
        problems.append(f"wheel lacks {info}/licenses/LICENSE")
    if f"\nVersion: {expected_version}\n" not in metadata:
        problems.append(f"wheel METADATA does not give Version: {expected_version}")
    if "\nLicense-Expression: MIT\n" not in metadata:
        problems.append("wheel METADATA does not give License-Expression: MIT")
    return problems


def check_sdist(sdist: Path, needed: set[str]) -> list[str]:
    with tarfile.open(sdist) as archive:
        # every member sits under one top folder, btvqvae-<version>/
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    wanted = needed | {"LICENSE", "README.md", "pyproject.toml"}
    return [f"sdist lacks {path}" for path in sorted(wanted - names)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dist", type=Path, help="folder python -m build wrote")
    args = parser.parse_args(argv)
    needed, expected = package_files(), version()
    wheel = _one(args.dist, f"{PACKAGE}-*.whl")
    sdist = _one(args.dist, f"{PACKAGE}-*.tar.gz")
    problems = check_wheel(wheel, needed, expected) + check_sdist(sdist, needed)
    for problem in problems:
        print(f"check_wheel: {problem}", file=sys.stderr)
    if problems:
        return 1
    data = sorted(path for path in needed if not path.endswith(".py"))
    print(f"check_wheel: {wheel.name} and {sdist.name} hold all {len(needed)} package files "
          f"({len(data)} of them data), LICENSE and version {expected}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
