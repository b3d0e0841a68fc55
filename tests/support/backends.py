"""The build backends' wheels, downloaded once so tests can serve them on loopback.

Run by ``nox -s tests`` before pytest (``python -m tests.support.backends DIR``);
the tests themselves never reach the internet.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BACKENDS = [
    "setuptools>=70",
    "hatchling>=1.24",
    "flit_core>=3.9,<4",
    # version plugins, as real projects use them (tests/support/scm.py)
    "setuptools-scm>=8",
    "hatch-vcs>=0.4",
    "pdm-backend>=2",
    "pbr>=6",
    "versioneer[toml]==0.29",
    "poetry-core>=1.0",
    "poetry-dynamic-versioning>=1,<2",
    "scikit-build-core>=0.9",  # CMake builds (cmake itself comes from the machine)
]
# The pip that ships with the oldest Python gitdeps supports (3.10), to install with.
OLD_PIP = "pip==23.0.1"
DEFAULT_DIR = Path(__file__).resolve().parents[2] / ".backend-wheels"


def wheels_dir() -> Path:
    return Path(os.environ.get("GITDEPS_TEST_WHEELS") or DEFAULT_DIR)


def old_pip() -> Path:
    """The old pip's wheel; ``python WHEEL/pip install ...`` runs it."""
    (wheel,) = (ensure(wheels_dir()) / "pip").glob("pip-*.whl")
    return wheel


def ensure(directory: Path) -> Path:
    """Download into ``directory``/pyXY (backends' dependencies differ per Python)."""
    directory = directory / f"py{sys.version_info[0]}{sys.version_info[1]}"
    marker = directory / ".complete-4"
    if marker.exists():
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
            "--only-binary=:all:", "--dest", str(directory), *BACKENDS,
        ],
        check=True,
    )  # fmt: skip
    subprocess.run(
        [
            sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
            "--only-binary=:all:", "--no-deps", "--dest", str(directory / "pip"), OLD_PIP,
        ],
        check=True,
    )  # fmt: skip
    marker.write_text("")
    return directory


if __name__ == "__main__":
    print(ensure(Path(sys.argv[1]) if len(sys.argv) > 1 else wheels_dir()))
