"""Dependency confusion: a public index serving the private package's name must never win.

The target's pip sees a (hostile) index, as Functions remote build does. It
serves ``acme-utils`` at the same version, at 9.9.9, with a better wheel tag and
with a build number. pip, old and new, must install the vendored build, and the
public dependency must still come from the index.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.tags import sys_tags

from tests.support import backends
from tests.support.app import Forge, fresh_venv, run_gitdeps, run_python
from tests.support.index import serve_index
from tests.support.projects import project
from tests.support.wheels import make_wheel

pytestmark = pytest.mark.slow

EVIL = {"acme_utils/__init__.py": "VALUE = 'EVIL'\n"}


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("hostile")
    make_wheel(root, "publicdep", "1.0", {"publicdep/__init__.py": "VALUE = 'public 1.0'\n"})
    best = next(iter(sys_tags()))
    make_wheel(root, "acme-utils", "1.2.0", EVIL)
    make_wheel(root, "acme-utils", "9.9.9", EVIL)
    make_wheel(root, "acme-utils", "1.2.0", EVIL, tag=str(best))
    make_wheel(root, "acme-utils", "1.2.0", EVIL, build="999")
    make_wheel(root, "acme-utils", "1.2.0.post1", EVIL)
    with serve_index(root) as url:
        yield url


def _install(python: Path, pip: str, requirements: str, cwd: Path, index: str) -> None:
    if pip == "old":
        command = [str(python), str(backends.old_pip() / "pip")]
    else:
        command = [sys.executable, "-m", "pip", "--python", str(python)]
    subprocess.run(
        [*command, "install", "--no-cache-dir", "--index-url", index, "-r", requirements],
        cwd=cwd,
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "PIP_CONFIG_FILE": "/dev/null", "PIP_NO_INPUT": "1"},
    )


@pytest.fixture
def vendored(forge: Forge, tmp_path: Path, canary: str) -> Path:
    forge.push(
        "o/acme-utils.git",
        project("acme-utils", "1.2.0", dependencies=["publicdep>=1"]),
        tag="v1.2.0",
    )
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text(
        f"acme-utils @ {forge.url('o/acme-utils.git', 'v1.2.0')}\npublicdep\n"
    )
    ran = run_gitdeps(
        "vendor", "-r", "requirements.txt", "-o", "wheelhouse", "--no-build-isolation",
        cwd=app, env={"GITDEPS_TOKEN_127_0_0_1": canary},
    )  # fmt: skip
    assert ran.returncode == 0, ran.output
    forge.server.stop()
    return app


@pytest.mark.parametrize("pip", ["old", "current"])
def test_vendored_build_wins_over_every_hostile_candidate(
    vendored: Path, hostile_index: str, tmp_path: Path, pip: str
) -> None:
    if pip == "old" and sys.version_info >= (3, 12):
        pytest.skip("pip 23.0.1 (Python 3.10's) does not run on Python 3.12+")
    python = fresh_venv(tmp_path / "venv")
    _install(python, pip, "wheelhouse/requirements.txt", vendored, hostile_index)
    out = run_python(
        python,
        "import acme_utils, publicdep, importlib.metadata as m;"
        "print(acme_utils.VALUE, publicdep.VALUE, m.version('acme-utils'), sep='|')",
        cwd=tmp_path,
    )
    value, public, version = out.strip().split("|")
    assert value == "acme-utils 1.2.0"
    assert public == "public 1.0"
    assert version.startswith("1.2.0+g")


def test_control_plain_pin_with_find_links_loses(
    vendored: Path, hostile_index: str, tmp_path: Path
) -> None:
    """Why the local label: the naive form installs the hostile package."""
    naive = tmp_path / "naive"
    naive.mkdir()
    # the private build under its plain version, as a naive vendoring tool ships it
    make_wheel(naive, "acme-utils", "1.2.0", {"acme_utils/__init__.py": "VALUE = 'vendored'\n"})
    (naive / "requirements.txt").write_text("--find-links .\nacme-utils==1.2.0\n")
    python = fresh_venv(tmp_path / "venv")
    _install(python, "current", "requirements.txt", naive, hostile_index)
    out = run_python(python, "import acme_utils; print(acme_utils.VALUE)", cwd=tmp_path)
    assert out.strip() == "EVIL"
