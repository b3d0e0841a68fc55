"""Fixture Python projects for each build backend, as file maps to commit."""

from __future__ import annotations

import json
from collections.abc import Sequence

__all__ = ["project"]

_BACKENDS = {
    "setuptools": ('["setuptools>=70"]', "setuptools.build_meta"),
    "hatchling": ('["hatchling>=1.24"]', "hatchling.build"),
    "flit_core": ('["flit_core>=3.9,<4"]', "flit_core.buildapi"),
}


def project(
    name: str,
    version: str = "1.0.0",
    *,
    backend: str = "setuptools",
    dependencies: Sequence[str] = (),
    value: str | None = None,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """A minimal project whose module ``name_with_underscores`` has ``VALUE``."""
    module = name.replace("-", "_").replace(".", "_").lower()
    requires, build_backend = _BACKENDS[backend]
    lines = [
        "[build-system]",
        f"requires = {requires}",
        f'build-backend = "{build_backend}"',
        "",
        "[project]",
        f'name = "{name}"',
        f'version = "{version}"',
        f'description = "fixture package {name}"',
        f"dependencies = {json.dumps(list(dependencies))}",
        "",
    ]
    if backend == "setuptools":
        lines += ["[tool.setuptools]", f'packages = ["{module}"]']
    elif backend == "hatchling":
        lines += ["[tool.hatch.build.targets.wheel]", f'packages = ["{module}"]']
        lines += ["[tool.hatch.metadata]", "allow-direct-references = true"]
    else:
        lines += ["[tool.flit.module]", f'name = "{module}"']
    files = {
        "pyproject.toml": "\n".join(lines) + "\n",
        f"{module}/__init__.py": f'"""{name}."""\nVALUE = {value or f"{name} {version}"!r}\n',
        "README.md": f"# {name}\n",
    }
    files.update(extra or {})
    return files
