"""gitdeps prebuild, run the way Oryx runs a PRE_BUILD_COMMAND, then Oryx's own pip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.app import Forge, files_containing, run_gitdeps
from tests.support.projects import project

pytestmark = pytest.mark.slow


def _oryx_functions_install(app: Path, requirements: str = "requirements.txt") -> Path:
    """What Oryx does for a Functions app after the pre-build command (no token, no git)."""
    target = app / ".python_packages" / "lib" / "site-packages"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITDEPS_")}
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-cache-dir", "-r", requirements,
         "--target", str(target), "--upgrade"],
        cwd=app, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return target


def test_prebuild_twice_then_oryx_pip_installs_without_credentials(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    base = forge.server.url
    forge.push("o/core.git", project("acme-core", "0.3.0", backend="flit_core"), tag="v0.3.0")
    forge.push(
        "o/utils.git",
        project("acme-utils", "1.2.0", dependencies=[f"acme-core @ git+{base}/o/core.git@v0.3.0"]),
        tag="v1.2.0",
    )
    app = tmp_path / "site" / "wwwroot"
    app.mkdir(parents=True)
    original = f"azure-functions-stub==1.0 ; python_version < '3'\nacme-utils @ git+{base}/o/utils.git@v1.2.0\npublicdep\n"
    (app / "requirements.txt").write_text(original)
    (app / "function_app.py").write_text("import acme_utils\n")

    env = {"GITDEPS_TOKEN_127_0_0_1": canary}
    first = run_gitdeps("prebuild", cwd=app, env=env)
    assert first.returncode == 0, first.output
    assert "vendored 2 packages" in first.stdout
    rewritten = (app / "requirements.txt").read_text()
    assert (app / "requirements.gitdeps-original.txt").read_text() == original
    assert (
        "--find-links ./.gitdeps/wheelhouse" in rewritten and "git+" not in rewritten.split("#")[0]
    )

    second = run_gitdeps("prebuild", cwd=app, env=env)
    assert second.returncode == 0, second.output
    assert (app / "requirements.gitdeps-original.txt").read_text() == original
    assert (app / "requirements.txt").read_text() == rewritten
    # After prebuild, auth check reads the kept original (the rewritten file names no host).
    checked = run_gitdeps("auth", "check", cwd=app, env=env)
    assert checked.returncode == 0, checked.output
    assert checked.stdout.startswith(forge.server.url.split("//")[1] + ":"), checked.stdout

    forge.server.stop()
    site_packages = _oryx_functions_install(app)
    out = subprocess.run(
        [sys.executable, "-c", "import acme_utils, acme_core, publicdep; print(acme_utils.VALUE, acme_core.VALUE)"],
        env={**os.environ, "PYTHONPATH": str(site_packages)},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == "acme-utils 1.2.0 acme-core 0.3.0"
    assert canary not in first.output + second.output
    assert files_containing(app, canary) == []


def test_prebuild_honours_custom_requirements_path_and_leaves_plain_apps_alone(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    forge.push("o/one.git", project("one", "1.0"))
    app = tmp_path / "app"
    (app / "deps").mkdir(parents=True)
    (app / "deps" / "prod.txt").write_text(f"one @ {forge.url('o/one.git')}\n")
    (app / "requirements.txt").write_text("publicdep\n")
    ran = run_gitdeps(
        "prebuild", cwd=app,
        env={"GITDEPS_TOKEN_127_0_0_1": canary, "CUSTOM_REQUIREMENTSTXT_PATH": "deps/prod.txt"},
    )  # fmt: skip
    assert ran.returncode == 0, ran.output
    assert (app / "deps" / "prod.gitdeps-original.txt").exists()
    assert "--find-links ../.gitdeps/wheelhouse" in (app / "deps" / "prod.txt").read_text()
    assert (app / "requirements.txt").read_text() == "publicdep\n"

    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "requirements.txt").write_text("publicdep\n")
    ran = run_gitdeps("prebuild", cwd=plain)
    assert ran.returncode == 0, ran.output
    assert "no git requirements" in ran.stderr
    assert sorted(p.name for p in plain.iterdir()) == ["requirements.txt"]


def test_prebuild_failure_leaves_the_app_as_it_was(forge: Forge, tmp_path: Path) -> None:
    forge.push("o/one.git", project("one", "1.0"))
    app = tmp_path / "app"
    app.mkdir()
    original = f"one @ {forge.url('o/one.git')}\n"
    (app / "requirements.txt").write_text(original)
    ran = run_gitdeps("prebuild", cwd=app)  # no token
    assert ran.returncode == 4
    assert "GITDEPS_TOKEN_127_0_0_1" in ran.stderr
    assert (app / "requirements.txt").read_text() == original
    assert not (app / ".gitdeps").exists()
    assert not (app / "requirements.gitdeps-original.txt").exists()
