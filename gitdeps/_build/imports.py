"""Importing the packages gitdeps builds with, never a user's module of the same name.

A build script is naturally called ``build.py``. Run as ``python build.py``, its
folder is first on ``sys.path``, so a plain ``import build`` inside gitdeps
imported the script itself as PyPA build; the script called ``vendor()`` again
inside that import and waited for ever on gitdeps' own locks. Here a dependency
is loaded from its installed distribution's files; a module that would shadow it
is never executed.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.metadata
import importlib.util
import sys
import threading
from pathlib import Path
from types import ModuleType

from .._errors import GitDepsError

__all__ = ["genuine"]

_lock = threading.Lock()


def _installed_origin(name: str, distribution: str) -> Path | None:
    """Where ``distribution`` installed the package ``name`` (its ``__init__.py``)."""
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
    wanted = f"{name}/__init__.py"
    for file in dist.files or ():
        if file.as_posix() == wanted:
            return Path(str(dist.locate_file(file))).resolve()
    return None  # an editable install or an unusual layout: nothing to compare with


def genuine(name: str, distribution: str) -> ModuleType:
    """The package ``name`` as ``distribution`` installed it, imported if need be."""
    with _lock:
        installed = _installed_origin(name, distribution)
        loaded = sys.modules.get(name)
        if loaded is not None:
            origin = getattr(loaded, "__file__", None)
            if installed is None or (origin and Path(origin).resolve() == installed):
                return loaded
            raise GitDepsError(
                f"the module {name!r} already imported in this process is {origin}, not the "
                f"{distribution} package gitdeps needs",
                hint="rename that file so it does not "
                f"shadow {distribution}",
            )
        spec = importlib.util.find_spec(name)
        if installed is None or (
            spec is not None and spec.origin and Path(spec.origin).resolve() == installed
        ):
            return importlib.import_module(name)
        # Something else comes first on sys.path (a build.py beside the caller's
        # script): load the installed package from its own folder instead.
        spec = importlib.machinery.PathFinder.find_spec(name, [str(installed.parent.parent)])
        if spec is None or spec.loader is None:
            raise GitDepsError(f"{distribution} is installed but cannot be imported",
            hint="reinstall it")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
        return module
