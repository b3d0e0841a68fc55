"""--include-public: the whole closure in the wheelhouse, for this machine or another target."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from packaging.tags import sys_tags

from tests.support.app import Forge, fresh_venv, pip_install, run_gitdeps, run_python
from tests.support.projects import project

pytestmark = pytest.mark.slow

BINARY_SETUP = """\
from setuptools import setup
from setuptools.dist import Distribution

class BinaryDistribution(Distribution):
    def has_ext_modules(self):
        return True

setup(name="native", version="1.0", py_modules=["native"], distclass=BinaryDistribution)
"""


def _app(forge: Forge, tmp_path: Path) -> Path:
    forge.push(
        "o/acme.git",
        project("acme", "1.0", dependencies=["publicdep>=1", "compiled"]),
        tag="v1",
    )
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text(f"acme @ {forge.url('o/acme.git', 'v1')}\n")
    return app


def _vendor(app: Path, canary: str, *extra: str) -> str:
    ran = run_gitdeps(
        "vendor", "-r", "requirements.txt", "-o", "wheelhouse", "--no-build-isolation",
        "--include-public", *extra,
        cwd=app, env={"GITDEPS_TOKEN_127_0_0_1": canary},
    )  # fmt: skip
    assert ran.returncode == 0, ran.output
    return (app / "wheelhouse" / "requirements.txt").read_text()


def test_closure_for_windows_from_here(forge: Forge, tmp_path: Path, canary: str) -> None:
    app = _app(forge, tmp_path)
    text = _vendor(
        app, canary,
        "--platform", "win_amd64", "--python-version", "3.11", "--implementation", "cp",
        "--abi", "cp311",
    )  # fmt: skip
    wheels = sorted(p.name for p in (app / "wheelhouse").glob("*.whl"))
    assert "compiled-1.0-cp311-cp311-win_amd64.whl" in wheels
    assert [w for w in wheels if w.startswith("compiled")] == [
        "compiled-1.0-cp311-cp311-win_amd64.whl"
    ]
    assert any(w.startswith("publicdep-1.0") for w in wheels)
    pins = [line for line in text.splitlines() if line and not line.startswith(("#", "--"))]
    assert sorted(line.split("==")[0] for line in pins) == ["acme", "compiled", "publicdep"]
    assert all("--hash=sha256:" in line for line in pins)
    assert "--no-index" in text.splitlines()


def test_closure_for_this_machine_installs_with_no_index_from_anywhere(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    app = _app(forge, tmp_path)
    _vendor(app, canary)
    forge.server.stop()
    shipped = tmp_path / "air-gapped" / "app"
    shutil.move(str(app), shipped)
    python = fresh_venv(tmp_path / "venv")
    installed = pip_install(
        python, "--no-index", "--require-hashes", "-r", str(shipped / "wheelhouse" / "requirements.txt"),
        cwd=Path("/"), env={"PIP_INDEX_URL": "http://127.0.0.1:9/nothing-here/"},
    )  # fmt: skip
    assert installed.returncode == 0, installed.output
    out = run_python(python, "import acme, publicdep, compiled; print(compiled.TAG)", cwd=tmp_path)
    assert out.strip() == str(next(iter(sys_tags())))


def test_platform_specific_private_package_is_refused_for_another_target(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    forge.push("o/native.git", {"setup.py": BINARY_SETUP, "native.py": "X = 1\n"})
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text(f"native @ {forge.url('o/native.git')}\n")
    ran = run_gitdeps(
        "vendor", "-r", "requirements.txt", "-o", "wheelhouse", "--no-build-isolation",
        "--include-public", "--platform", "win_amd64", "--python-version", "3.11",
        cwd=app, env={"GITDEPS_TOKEN_127_0_0_1": canary},
    )  # fmt: skip
    assert ran.returncode == 6, ran.output
    assert "builds a platform-specific wheel" in ran.stderr and "win_amd64" in ran.stderr
    assert "build it on a machine like the target" in ran.stderr
    assert not (app / "wheelhouse").exists()
    assert not list(app.glob(".gitdeps-*"))
    # for this machine the same package is fine
    ran = run_gitdeps(
        "vendor", "-r", "requirements.txt", "-o", "wheelhouse", "--no-build-isolation",
        cwd=app, env={"GITDEPS_TOKEN_127_0_0_1": canary},
    )  # fmt: skip
    assert ran.returncode == 0, ran.output
    (wheel,) = (app / "wheelhouse").glob("native-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert "native.py" in archive.namelist()
