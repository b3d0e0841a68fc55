"""One backend process per build, where PEP 517 allows it.

``pyproject_hooks`` starts a new interpreter for every hook, and importing a
backend (setuptools above all) is most of a hook's cost. The driver below asks
``get_requires_for_build_wheel`` and, when the environment already holds what the
backend asks for (nothing, from modern setuptools, hatchling and flit_core; ``pbr``
from pbr's ``setup_requires``, which ``build-system.requires`` lists too), calls
``build_wheel`` in the same process. Otherwise it returns the extra requirements; the
caller makes an environment with them too and runs the driver there, once more.

It runs in the build environment's interpreter, which has nothing of gitdeps,
so it is plain source handed to ``python -c`` (which drops the project folder from
``sys.path`` first, as pip's hook script, run as a file, never has it).
"""

from __future__ import annotations

import json
from pathlib import Path

from .._toml import tomllib

__all__ = ["DRIVER", "backend_of"]

_LEGACY = "setuptools.build_meta:__legacy__"

DRIVER = r"""
import importlib, json, os, sys
# ``python -c`` puts the working directory (the project) first on sys.path: a project's
# own package then shadows what its backend imports (a fork of packaging, of dunamai).
# pip runs its hook script as a file, which keeps the project off sys.path; so here.
if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]
source, outdir, backend, backend_path, result, config = sys.argv[1:7]
config = json.loads(config)
paths = [os.path.join(source, p) for p in json.loads(backend_path)]
sys.path[:0] = paths
module, _, attr = backend.partition(":")
try:
    obj = importlib.import_module(module)
    for part in filter(None, attr.split(".")):
        obj = getattr(obj, part)
except (ImportError, AttributeError) as exc:
    with open(result, "w") as f:
        json.dump({"requires": [], "unavailable": f"{type(exc).__name__}: {exc}"}, f)
    sys.exit(0)
hook = getattr(obj, "get_requires_for_build_wheel", None)
requires = list(hook(config)) if hook is not None else []


def met(text):
    # Whether this environment holds ``text`` (pbr's "pbr", setup_requires already in
    # build-system.requires): with packaging where the backend brought it, else "no".
    try:
        from importlib.metadata import PackageNotFoundError, version
        from packaging.requirements import Requirement
        wanted = Requirement(text)
        if wanted.marker is not None and not wanted.marker.evaluate():
            return True
        return not wanted.extras and wanted.specifier.contains(version(wanted.name), prereleases=True)
    except Exception:
        return False


answer = {"requires": requires}
if all(met(r) for r in requires):
    answer["wheel"] = obj.build_wheel(outdir, config, None)
with open(result, "w") as f:
    json.dump(answer, f)
"""


def backend_of(source: Path) -> tuple[str, list[str]]:
    """The ``build-backend`` and ``backend-path`` of a project (PEP 517 defaults)."""
    try:
        data = tomllib.loads((source / "pyproject.toml").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return _LEGACY, []
    table = data.get("build-system", {})
    if "build-backend" not in table:
        return _LEGACY, []
    return str(table["build-backend"]), [str(p) for p in table.get("backend-path", [])]


def read_answer(path: Path) -> tuple[list[str], str | None, str | None]:
    """(extra requirements, the wheel's file name, why the backend could not be imported)."""
    answer = json.loads(path.read_text(encoding="utf-8"))
    return [str(r) for r in answer["requires"]], answer.get("wheel"), answer.get("unavailable")
