"""Projects whose version comes from git, one per version plugin, with a history.

Each is modelled on how real projects use the plugin (a version file written at
build time, the plugin's own configuration table, pbr's setup.cfg). The history
gives every kind of ref a user writes: a commit with no tag behind it, an
annotated tag, a lightweight tag, its full hash, and a branch two commits past.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

__all__ = ["PLUGINS", "History", "push_history"]


def _setuptools_scm(name: str, module: str) -> dict[str, str]:
    return {
        "pyproject.toml": f"""\
[build-system]
requires = ["setuptools>=70", "setuptools-scm>=8"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
dynamic = ["version"]

[tool.setuptools]
packages = ["{module}"]

[tool.setuptools_scm]
write_to = "{module}/_version.py"
""",
        f"{module}/__init__.py": "from ._version import version as __version__\n",
    }


def _hatch_vcs(name: str, module: str) -> dict[str, str]:
    return {
        "pyproject.toml": f"""\
[build-system]
requires = ["hatchling>=1.24", "hatch-vcs>=0.4"]
build-backend = "hatchling.build"

[project]
name = "{name}"
dynamic = ["version"]

[tool.hatch.version]
source = "vcs"

[tool.hatch.build.hooks.vcs]
version-file = "{module}/_version.py"

[tool.hatch.build.targets.wheel]
packages = ["{module}"]
""",
        f"{module}/__init__.py": "from ._version import __version__\n",
    }


def _pdm_scm(name: str, module: str) -> dict[str, str]:
    return {
        "pyproject.toml": f"""\
[build-system]
requires = ["pdm-backend>=2"]
build-backend = "pdm.backend"

[project]
name = "{name}"
dynamic = ["version"]

[tool.pdm.version]
source = "scm"
write_to = "{module}/_version.py"
write_template = "__version__ = '{{}}'\\n"

[tool.pdm.build]
includes = ["{module}"]
""",
        f"{module}/__init__.py": "from ._version import __version__\n",
    }


def _pbr(name: str, module: str) -> dict[str, str]:
    return {
        "pyproject.toml": """\
[build-system]
requires = ["pbr>=6", "setuptools>=70"]
build-backend = "pbr.build"
""",
        "setup.cfg": f"""\
[metadata]
name = {name}
summary = a pbr fixture
author = Fixture
author_email = fixture@example.invalid

[files]
packages = {module}
""",
        "setup.py": "import setuptools\n\nsetuptools.setup(setup_requires=['pbr'], pbr=True)\n",
        f"{module}/__init__.py": (
            f"from importlib.metadata import version\n\n__version__ = version({name!r})\n"
        ),
    }


def _versioneer(name: str, module: str) -> dict[str, str]:
    return {
        "pyproject.toml": f"""\
[build-system]
requires = ["setuptools>=70", "versioneer[toml]==0.29"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
dynamic = ["version"]

[tool.setuptools]
packages = ["{module}"]

[tool.versioneer]
VCS = "git"
style = "pep440"
versionfile_source = "{module}/_version.py"
versionfile_build = "{module}/_version.py"
tag_prefix = ""
""",
        "setup.py": (
            "import versioneer\nfrom setuptools import setup\n\n"
            "setup(version=versioneer.get_version(), cmdclass=versioneer.get_cmdclass())\n"
        ),
        f"{module}/__init__.py": (
            f"from importlib.metadata import version\n\n__version__ = version({name!r})\n"
        ),
    }


def _poetry_dynamic(name: str, module: str) -> dict[str, str]:
    return {
        "pyproject.toml": f"""\
[build-system]
requires = ["poetry-core>=1.0", "poetry-dynamic-versioning>=1,<2"]
build-backend = "poetry_dynamic_versioning.backend"

[tool.poetry]
name = "{name}"
version = "0.0.0"
description = "a poetry-dynamic-versioning fixture"
authors = ["Fixture <fixture@example.invalid>"]
packages = [{{ include = "{module}" }}]

[tool.poetry-dynamic-versioning]
enable = true
pattern = "default-unprefixed"
""",
        f"{module}/__init__.py": (
            f"from importlib.metadata import version\n\n__version__ = version({name!r})\n"
        ),
    }


PLUGINS: dict[str, Callable[[str, str], dict[str, str]]] = {
    "setuptools_scm": _setuptools_scm,
    "hatch-vcs": _hatch_vcs,
    "pdm-backend": _pdm_scm,
    "pbr": _pbr,
    "versioneer": _versioneer,
    "poetry-dynamic-versioning": _poetry_dynamic,
}


@dataclasses.dataclass(frozen=True)
class History:
    """The refs of a pushed history, by what each stands for."""

    untagged: str  # full hash of the first commit: no tag in its history
    annotated: str  # an annotated tag on the second commit
    lightweight: str  # a lightweight tag on the third commit
    tagged_hash: str  # full hash of that third commit
    branch: str  # a branch two commits past the lightweight tag

    def refs(self) -> dict[str, str]:
        return dataclasses.asdict(self)


def push_history(
    push: Callable[..., str], repo: str, files: dict[str, str], *, branch: str = "main"
) -> History:
    """Push five commits of ``files`` to ``repo`` with ``push`` (``Forge.push``)."""
    dates = iter(f"2024-0{m}-02T03:04:05Z" for m in range(1, 10))

    def commit(message: str, **kwargs: object) -> str:
        changed = {**files, "CHANGES.txt": f"{message}\n"}
        return push(repo, changed, message=message, date=next(dates), branch=branch, **kwargs)

    first = commit("start")
    commit("release 2.3.1", tag="2.3.1", annotated=True)
    third = commit("release 2.3.2", tag="2.3.2")
    commit("fix one")
    commit("fix two")
    return History(
        untagged=first,
        annotated="2.3.1",
        lightweight="2.3.2",
        tagged_hash=third,
        branch=branch,
    )
