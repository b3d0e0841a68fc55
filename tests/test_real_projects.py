"""Projects shaped like real private libraries: compiled code, CMake, a versioned monorepo.

Each is vendored from the token-guarded server, the server is stopped, and the
wheelhouse installs into a fresh venv where the code runs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from packaging.utils import parse_wheel_filename

from gitdeps._build.wheel import pinned_version
from tests.support.app import Forge, fresh_venv, pip_install, run_gitdeps, run_python
from tests.support.scm import push_history

pytestmark = pytest.mark.slow

_C_MODULE = """\
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *add(PyObject *self, PyObject *args) {
    long a, b;
    if (!PyArg_ParseTuple(args, "ll", &a, &b)) return NULL;
    return PyLong_FromLong(a + b);
}

static PyMethodDef methods[] = {{"add", add, METH_VARARGS, "a + b"}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "%(name)s", NULL, -1, methods};
PyMODINIT_FUNC PyInit_%(name)s(void) { return PyModule_Create(&module); }
"""

C_EXTENSION = {
    "pyproject.toml": (
        '[build-system]\nrequires = ["setuptools>=70"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "acme-speedups"\nversion = "1.4.0"\n'
    ),
    "setup.py": (
        "from setuptools import Extension, setup\n\n"
        "setup(packages=['acme_speedups'],\n"
        "      ext_modules=[Extension('acme_speedups._speed', ['src/speed.c'])])\n"
    ),
    "acme_speedups/__init__.py": "from ._speed import add\n",
    "src/speed.c": _C_MODULE % {"name": "_speed"},
}

SCIKIT_BUILD = {
    "pyproject.toml": (
        '[build-system]\nrequires = ["scikit-build-core>=0.9"]\n'
        'build-backend = "scikit_build_core.build"\n'
        '[project]\nname = "acme-native"\nversion = "0.9.0"\n'
    ),
    "CMakeLists.txt": (
        "cmake_minimum_required(VERSION 3.15)\n"
        "project(${SKBUILD_PROJECT_NAME} LANGUAGES C)\n"
        "find_package(Python COMPONENTS Interpreter Development.Module REQUIRED)\n"
        "Python_add_library(_core MODULE src/core.c WITH_SOABI)\n"
        "install(TARGETS _core DESTINATION acme_native)\n"
    ),
    "src/acme_native/__init__.py": "from ._core import add\n",
    "src/core.c": _C_MODULE % {"name": "_core"},
}


def _vendor_and_run(
    forge: Forge, tmp_path: Path, canary: str, requirement: str, code: str
) -> tuple[str, list[Path]]:
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text(requirement + "\n")
    ran = run_gitdeps(
        "vendor", "-r", "requirements.txt", "-o", "wheelhouse",
        "--output-requirements", "wheelhouse/requirements.txt",
        cwd=app, env={"GITDEPS_TOKEN_127_0_0_1": canary},
    )  # fmt: skip
    assert ran.returncode == 0, ran.output
    forge.server.stop()
    python = fresh_venv(tmp_path / "venv")
    installed = pip_install(python, "--no-index", "-r", "wheelhouse/requirements.txt", cwd=app)
    assert installed.returncode == 0, installed.output
    return run_python(python, code, cwd=tmp_path).strip(), sorted(
        (app / "wheelhouse").glob("*.whl")
    )


@pytest.mark.parametrize(
    ("files", "module"),
    [(C_EXTENSION, "acme_speedups"), (SCIKIT_BUILD, "acme_native")],
    ids=["setuptools-c-extension", "scikit-build-core"],
)
def test_compiled_extensions_build_install_and_run(
    forge: Forge, tmp_path: Path, canary: str, files: dict[str, str], module: str
) -> None:
    forge.push("o/native.git", files, tag="v1")
    name = module.replace("_", "-")
    printed, wheels = _vendor_and_run(
        forge, tmp_path, canary, f"{name} @ {forge.url('o/native.git', 'v1')}",
        f"import {module}; print({module}.add(2, 3))",
    )  # fmt: skip
    assert printed == "5"
    (wheel,) = wheels
    tags = parse_wheel_filename(wheel.name)[3]
    assert all(tag.platform != "any" for tag in tags)  # a real platform wheel


def test_a_versioned_package_in_a_monorepo_matches_pip(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    """setuptools_scm in a subdirectory, its root at the repository's top (as real
    monorepos configure it), at a branch past the tag."""
    files = {
        "README.md": "monorepo\n",
        "packages/acme-api/pyproject.toml": (
            '[build-system]\nrequires = ["setuptools>=70", "setuptools-scm>=8"]\n'
            'build-backend = "setuptools.build_meta"\n'
            '[project]\nname = "acme-api"\ndynamic = ["version"]\n'
            '[tool.setuptools]\npackages = ["acme_api"]\n'
            '[tool.setuptools_scm]\nroot = "../.."\n'
        ),
        "packages/acme-api/acme_api/__init__.py": (
            "from importlib.metadata import version\n\n__version__ = version('acme-api')\n"
        ),
    }
    push_history(forge.push, "o/mono.git", files)
    url = forge.url("o/mono.git", "main", subdirectory="packages/acme-api")
    authed = url.replace("http://", f"http://user:{canary}@")
    pip_out = tmp_path / "pip"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir", "-q", "-w", str(pip_out), authed],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (pip_wheel,) = pip_out.glob("*.whl")
    pip_version = str(parse_wheel_filename(pip_wheel.name)[1])
    assert pip_version.startswith("2.3.3.dev2+g")

    printed, (wheel,) = _vendor_and_run(
        forge, tmp_path, canary, f"acme-api @ {url}",
        "import acme_api; print(acme_api.__version__)",
    )  # fmt: skip
    commit = str(parse_wheel_filename(wheel.name)[1]).rpartition("+g")[2]
    assert printed == pinned_version(pip_version, commit) == pip_version


def test_a_project_that_holds_a_fork_of_its_backends_dependency_builds_as_pip_builds(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    """A repository whose own top-level package has the name of a module its build
    backend imports (a private fork of packaging, of dunamai) must not shadow it: pip's
    hook runs as a file, so the project folder is not on the backend's sys.path."""
    files = {
        "pyproject.toml": (
            '[build-system]\nrequires = ["hatchling>=1.24"]\nbuild-backend = "hatchling.build"\n'
            '[project]\nname = "pathspec"\nversion = "0.99.0"\n'
            '[tool.hatch.build.targets.wheel]\npackages = ["pathspec"]\n'
        ),
        # hatchling imports pathspec: the fork would break it if it were on sys.path
        "pathspec/__init__.py": "raise ImportError('the private fork, not for hatchling')\n",
    }
    forge.push("o/pathspec.git", files)
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text(f"pathspec @ {forge.url('o/pathspec.git')}\n")
    ran = run_gitdeps(
        "vendor", "-r", "requirements.txt", "-o", "wh", cwd=app,
        env={"GITDEPS_TOKEN_127_0_0_1": canary},
    )  # fmt: skip
    assert ran.returncode == 0, ran.output
    assert [p.name.split("-")[0] for p in (app / "wh").glob("*.whl")] == ["pathspec"]


_WARNING_BACKEND = """\
import warnings
from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403


def get_requires_for_build_wheel(config_settings=None):
    return ["flit_core>=3.9,<4"]  # more than build-system.requires: PyPA build's path


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    for n in range(40):
        warnings.warn(f"BANNER-{n}: this setup is deprecated", UserWarning, stacklevel=1)
    return _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)
"""


@pytest.mark.parametrize("verbose", [False, True], ids=["default", "-v"])
def test_a_backends_warnings_are_build_output_shown_with_v_only(
    forge: Forge, tmp_path: Path, canary: str, verbose: bool
) -> None:
    files = {
        "pyproject.toml": (
            '[build-system]\nrequires = ["setuptools>=70"]\nbuild-backend = "backend"\n'
            'backend-path = ["_build"]\n[project]\nname = "noisy"\nversion = "1.0"\n'
            '[tool.setuptools]\npackages = ["noisy"]\n'
        ),
        "_build/backend.py": _WARNING_BACKEND,
        "noisy/__init__.py": "",
    }
    forge.push("o/noisy.git", files)
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text(f"noisy @ {forge.url('o/noisy.git')}\n")
    ran = run_gitdeps(
        *(["-v"] if verbose else []), "vendor", "-r", "requirements.txt", "-o", "wh", cwd=app,
        env={"GITDEPS_TOKEN_127_0_0_1": canary},
    )  # fmt: skip
    assert ran.returncode == 0, ran.output
    assert ("BANNER-" in ran.stderr) == verbose, ran.stderr
