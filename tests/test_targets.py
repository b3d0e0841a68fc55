"""The Azure targets' flows, run as their templates and how-tos write them.

No Docker engine or Azure here: each test runs the same commands the CI
templates, the Dockerfile and the Functions local-build how-to run, against the
loopback git server, then installs with the git server stopped and no token.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.tags import sys_tags

from tests.support.app import Forge, fresh_venv, pip_install, run_gitdeps, run_python

pytestmark = pytest.mark.slow

TEMPLATES = Path(__file__).resolve().parents[1] / "docs" / "templates"


def _app(forge: Forge, tmp_path: Path, canary: str) -> Path:
    line = forge.push_acme()
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text(line + "\ncompiled\n")
    # The developer's first run, whose lock is committed.
    ran = run_gitdeps("vendor", "-r", "requirements.txt", "-o", "wheelhouse", "--lock", "gitdeps.lock",
                      cwd=app, env={"GITDEPS_TOKEN_127_0_0_1": canary})  # fmt: skip
    assert ran.returncode == 0, ran.output
    shutil.rmtree(app / "wheelhouse")
    return app


def _commands(template: str, prefix: str) -> list[list[str]]:
    lines = (TEMPLATES / template).read_text().splitlines()
    return [shlex.split(line.strip()) for line in lines if line.strip().startswith(prefix)]


def _import_from(target: Path, tmp_path: Path) -> str:
    out = subprocess.run(
        [sys.executable, "-c", "import acme_utils, acme_core, publicdep, compiled; print(acme_utils.VALUE)"],
        env={**os.environ, "PYTHONPATH": str(target)}, cwd=tmp_path,
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return out.stdout.strip()


@pytest.mark.parametrize("template", ["azure-pipelines.yml", "github-actions.yml"])
def test_ci_template_commands(forge: Forge, tmp_path: Path, canary: str, template: str) -> None:
    app = _app(forge, tmp_path, canary)
    (vendor,) = _commands(template, "gitdeps vendor")
    assert "--locked" in vendor
    ran = run_gitdeps(*vendor[1:], cwd=app, env={"GITDEPS_TOKEN_127_0_0_1": canary})
    assert ran.returncode == 0, ran.output
    forge.server.stop()
    (install,) = _commands(template, "python -m pip install --target")
    assert install[:4] == ["python", "-m", "pip", "install"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITDEPS_")}
    proc = subprocess.run(
        [sys.executable, *install[1:]],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (
        _import_from(app / ".python_packages" / "lib" / "site-packages", tmp_path)
        == "acme-utils 1.2.0"
    )


def test_dockerfile_steps_install_from_the_context_alone(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    app = _app(forge, tmp_path, canary)
    ran = run_gitdeps("vendor", "-r", "requirements.txt", "-o", "wheelhouse", "--locked",
                      cwd=app, env={"GITDEPS_TOKEN_127_0_0_1": canary})  # fmt: skip
    assert ran.returncode == 0, ran.output
    forge.server.stop()
    image = tmp_path / "image" / "app"  # WORKDIR /app
    steps = [line.split(None, 1) for line in (TEMPLATES / "Dockerfile").read_text().splitlines()
             if line and not line.startswith("#")]  # fmt: skip
    python = fresh_venv(tmp_path / "image" / "venv")
    for instruction, argument in steps:
        if instruction == "COPY" and argument.startswith("wheelhouse/"):
            shutil.copytree(app / "wheelhouse", image / "wheelhouse")
        elif instruction == "RUN":
            words = shlex.split(argument)
            assert words[:4] == ["python", "-m", "pip", "install"]
            installed = pip_install(python, *words[4:], cwd=image)
            assert installed.returncode == 0, installed.output
    out = run_python(
        python, "import acme_utils, acme_core, compiled; print(acme_utils.VALUE)", cwd=tmp_path
    )
    assert out.strip() == "acme-utils 1.2.0"


def test_functions_local_build_for_linux_then_no_build_publish(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    """docs/howto/functions-local-build.md: fill .python_packages for the target's platform."""
    app = _app(forge, tmp_path, canary)
    platform = str(next(iter(sys_tags())).platform)  # stands in for manylinux2014_x86_64
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    abi = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    target = ["--platform", platform, "--python-version", version, "--implementation", "cp"]
    ran = run_gitdeps(
        "vendor", "-r", "requirements.txt", "-o", "wheelhouse", "--locked", "--include-public",
        *target, "--abi", abi,
        cwd=app, env={"GITDEPS_TOKEN_127_0_0_1": canary},
    )  # fmt: skip
    assert ran.returncode == 0, ran.output
    forge.server.stop()
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-index", "-r", "wheelhouse/requirements.txt",
         "--target", ".python_packages/lib/site-packages", "--only-binary=:all:", *target],
        cwd=app, capture_output=True, text=True, check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith(("GITDEPS_", "PIP_INDEX"))},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (
        _import_from(app / ".python_packages" / "lib" / "site-packages", tmp_path)
        == "acme-utils 1.2.0"
    )
