"""Finding the TinyTorch under test: a module name or a checkout directory, imported in place.

Every copy of TinyTorch is a package named ``tinytorch``, so a user points the harness at a
*directory that holds* that package (a student's checkout, upstream's exported package) rather
than renaming it. That directory goes to the front of ``sys.path`` in the controller and in every
xdist worker (they inherit ``TINYTORCH_TARGET``), any ``tinytorch`` already imported is dropped,
and after import every target module must resolve inside that directory: a silent fallback to
the bundled ``tinytorch`` would report the bundled package's behaviour as the student's.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

TARGET_ENV = "TINYTORCH_TARGET"
BUNDLED = "tinytorch"
REPO_ROOT = Path(__file__).resolve().parent.parent


class TargetError(RuntimeError):
    """The target cannot be used at all (not found, or it resolves to the wrong files)."""


@dataclass(frozen=True)
class TargetSpec:
    """What the user asked for: ``raw`` as given, the package to import, and for a directory
    target the directory that goes first on ``sys.path``."""

    raw: str
    package: str
    directory: Path | None = None

    @property
    def is_bundled(self) -> bool:
        return self.directory is None and self.package == BUNDLED


def parse(raw: str | None) -> TargetSpec:
    """A module name (``my_tinytorch``), a directory holding a ``tinytorch`` package
    (``~/TinyTorch``), or the package directory itself (``~/TinyTorch/tinytorch``)."""
    raw = (raw or "").strip() or BUNDLED
    path = Path(raw).expanduser()
    if all(part.isidentifier() for part in raw.split(".")):
        return TargetSpec(raw, raw)
    path = path.resolve()
    if not path.is_dir():
        raise TargetError(f"target {raw!r}: no such directory")
    if (path / BUNDLED / "__init__.py").is_file():
        return TargetSpec(raw, BUNDLED, path)
    if path.name == BUNDLED and (path / "__init__.py").is_file():
        return TargetSpec(raw, BUNDLED, path.parent)
    raise TargetError(f"target {raw!r}: the directory holds no package named {BUNDLED!r} "
                      f"(expected {path / BUNDLED / '__init__.py'})")


def _inside(file: str | None, directory: Path) -> bool:
    if not file:
        return False
    try:
        Path(file).resolve().relative_to(directory)
        return True
    except ValueError:
        return False


def import_package(spec: TargetSpec) -> ModuleType:
    """Import the target's top-level package, from ``spec.directory`` when one is given."""
    if spec.directory is not None:
        entry = str(spec.directory)
        if entry in sys.path:
            sys.path.remove(entry)
        sys.path.insert(0, entry)
        for name in [m for m in sys.modules if m == spec.package
                     or m.startswith(spec.package + ".")]:
            if not _inside(getattr(sys.modules[name], "__file__", None), spec.directory):
                del sys.modules[name]
        importlib.invalidate_caches()
    try:
        return importlib.import_module(spec.package)
    except ImportError as e:
        where = f" from {spec.directory}" if spec.directory else ""
        raise TargetError(f"target {spec.raw!r}: cannot import {spec.package!r}{where}: "
                          f"{type(e).__name__}: {e}") from e


def check_provenance(spec: TargetSpec) -> None:
    """Fail unless every imported module of a non-bundled target lives outside this repository
    (and, for a directory target, inside that directory)."""
    if spec.is_bundled:
        return
    for name, module in sorted(sys.modules.items()):
        if name != spec.package and not name.startswith(spec.package + "."):
            continue
        file = getattr(module, "__file__", None)
        if file is None:
            continue
        if _inside(file, REPO_ROOT):
            raise TargetError(f"target {spec.raw!r}: module {name} resolves to {file}, a file "
                              "of this repository (the bundled tinytorch), not the target")
        if spec.directory is not None and not _inside(file, spec.directory):
            raise TargetError(f"target {spec.raw!r}: module {name} resolves to {file}, "
                              f"outside {spec.directory}")


def git_commit(directory: Path) -> str | None:
    """The short commit of a git checkout holding ``directory`` (None if not a checkout)."""
    try:
        out = subprocess.run(["git", "-C", str(directory), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    dirty = subprocess.run(["git", "-C", str(directory), "status", "--porcelain"],
                           capture_output=True, text=True, timeout=10).stdout.strip()
    return out.stdout.strip() + ("+dirty" if dirty else "")


def describe(spec: TargetSpec, package: ModuleType) -> str:
    """One line for the pytest header and the repro scripts: name, location, commit."""
    location = Path(getattr(package, "__file__", "") or "?").parent
    text = f"{spec.package} at {location}"
    if spec.is_bundled:
        return text + " (bundled reference)"
    commit = git_commit(location)
    return text + (f" (git {commit})" if commit else "")
