"""The project's own promises: README commands, CI script, docs in step with the CLI."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import gitdeps
from gitdeps.__main__ import make_parser

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```sh\n(.*?)```", text, re.S)
    assert block is not None
    return [line.split("#", 1)[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_demo_and_test_commands_and_ci_runs_the_test_one() -> None:
    demo, tests = _readme_commands()
    assert demo.endswith("nox -s demo")
    assert tests.endswith("nox -s lint typing tests")
    ci = (ROOT / ".ci" / "run").read_text()
    assert tests in [line.strip() for line in ci.splitlines()]


def test_cli_reference_documents_every_option() -> None:
    reference = (ROOT / "docs" / "cli.md").read_text()
    parser = make_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                assert f"## gitdeps {name}" in reference
                for option in sub._actions:
                    if option.help != argparse.SUPPRESS:
                        for flag in option.option_strings:
                            assert flag in reference, flag


def test_every_error_class_has_a_documented_exit_code() -> None:
    reference = (ROOT / "docs" / "cli.md").read_text()
    for name in gitdeps.__all__:
        cls = getattr(gitdeps, name)
        if isinstance(cls, type) and issubclass(cls, gitdeps.GitDepsError):
            assert f"| {cls.exit_code} |" in reference, name


def test_python_dash_m_and_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "gitdeps", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"gitdeps {gitdeps.__version__}"


def test_every_public_error_is_a_gitdeps_error() -> None:
    assert issubclass(gitdeps.RequirementError, ValueError)
    for name in (
        "AuthError", "BuildError", "ConfigError", "FetchError", "LockError",
        "UnsafeRepositoryError",
    ):  # fmt: skip
        assert issubclass(getattr(gitdeps, name), gitdeps.GitDepsError)


def test_relative_links_in_the_docs_resolve() -> None:
    broken = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert broken == []


def test_the_install_commands_name_this_version_with_its_hashes() -> None:
    readme = (ROOT / "README.md").read_text()
    assert f'echo "gitdeps=={gitdeps.__version__}" | uv pip compile - --generate-hashes' in readme
    assert "pip install --require-hashes -r build-tools.txt" in readme
    changelog = (ROOT / "docs" / "changelog.md").read_text()
    assert f"## {gitdeps.__version__}\n" in changelog
