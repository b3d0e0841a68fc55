"""Development sessions: ``nox -s tests``, ``lint``, ``typing``, ``docs``, ``demo``,
``bench``, ``build``."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import nox

nox.needs_version = ">=2024.4.15"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "typing", "tests"]

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml("pyproject.toml")
BACKEND_WHEELS = ROOT / ".backend-wheels"


def _group(name: str) -> list[str]:
    return list(nox.project.dependency_groups(PYPROJECT, name))


@nox.session
def tests(session: nox.Session) -> None:
    """The whole suite, against real git, pip and index servers on loopback."""
    session.install("-e", ".", *_group("test"))
    # Build backends are served to the tests from a loopback index: fetch them
    # once here, so no test reaches the internet.
    session.run("python", "-m", "tests.support.backends", str(BACKEND_WHEELS))
    session.run(
        "pytest",
        *(session.posargs or ["-n", "auto", "--durations=10"]),
        env={"GITDEPS_TEST_WHEELS": str(BACKEND_WHEELS)},
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint and format check."""
    session.install(*_group("lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typing(session: nox.Session) -> None:
    """mypy --strict over the package and the tests."""
    # filelock is a dependency on Windows only; mypy checks that branch too
    session.install("-e", ".", *_group("typing"), "filelock>=3.29.5")
    session.run("mypy")


@nox.session
def docs(session: nox.Session) -> None:
    """Regenerate the CLI reference from the parser; fail if the committed one is stale."""
    session.install("-e", ".")
    session.run("python", "docs/_generate.py", "--check" if os.environ.get("CI") else "--write")


@nox.session
def demo(session: nox.Session) -> None:
    """Vendor private packages from a token-guarded loopback git server, then install them."""
    session.install(".", *_group("demo"))
    session.run("python", "-m", "tests.support.backends", str(BACKEND_WHEELS))
    session.run("python", "tests/demo.py", env={"GITDEPS_TEST_WHEELS": str(BACKEND_WHEELS)})


@nox.session
def bench(session: nox.Session) -> None:
    """gitdeps against pip and uv on generated private repositories (ratios from one run)."""
    session.install(".", "uv", "trustme", *_group("demo"))
    session.run("python", "-m", "tests.support.backends", str(BACKEND_WHEELS))
    session.run(
        "python",
        "tests/bench.py",
        *session.posargs,
        env={"GITDEPS_TEST_WHEELS": str(BACKEND_WHEELS)},
    )


@nox.session
def build(session: nox.Session) -> None:
    """The release artefacts: sdist and wheel in dist/, checked by twine, installed into a
    fresh venv from the wheel and run there."""
    session.install("build", "twine")
    dist = ROOT / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    session.run("python", "-m", "build", "--outdir", str(dist), str(ROOT))
    artefacts = sorted(str(p) for p in dist.iterdir())
    session.run("twine", "check", "--strict", *artefacts)
    (wheel,) = dist.glob("*.whl")
    with tempfile.TemporaryDirectory(prefix="gitdeps-release-") as temp:
        venv = Path(temp) / "venv"
        session.run("python", "-m", "venv", str(venv))
        bindir = venv / ("Scripts" if os.name == "nt" else "bin")
        python = str(bindir / "python")
        session.run(python, "-m", "pip", "install", "-q", str(wheel), external=True)
        session.run(str(bindir / "gitdeps"), "--version", external=True)
        session.run(str(bindir / "gitdeps"), "vendor", "--help", external=True, silent=True)
        session.run(
            python, "-c", "import gitdeps, sys; sys.exit(not gitdeps.vendor)", external=True
        )
