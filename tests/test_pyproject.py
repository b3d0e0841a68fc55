"""pyproject.toml as an input: PEP 621, PEP 735 groups, uv's git sources, Poetry."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitdeps import RequirementError
from gitdeps._inputs.pyproject import poetry_constraint
from gitdeps._inputs.requirements import GitRequirement, PassThrough, parse_requirement_files
from tests.support.app import Forge, fresh_venv, pip_install, run_gitdeps, run_python
from tests.support.projects import project

UV_PROJECT = """\
[project]
name = "app"
version = "1.0"
dependencies = [
    "acme-core[fast]>=1 ; python_version >= '3.10'",
    "acme-ml @ git+https://h.test/o/ml.git@v2",
    "publicdep>=1",
]

[project.optional-dependencies]
viz = ["acme-viz"]

[dependency-groups]
test = ["pytest>=8", {include-group = "lint"}]
lint = ["ruff"]

[tool.uv.sources]
acme-core = { git = "https://h.test/o/core.git", tag = "v1.4.0", subdirectory = "python" }
acme-viz = { git = "https://h.test/o/viz.git", branch = "main" }
"""


def _entries(
    tmp_path: Path, text: str, *, extras: tuple[str, ...] = (), groups: tuple[str, ...] = ()
) -> list[object]:
    path = tmp_path / "pyproject.toml"
    path.write_text(text)
    return list(parse_requirement_files([path], extras=extras, groups=groups).entries)


def _label(entry: object) -> str:
    if isinstance(entry, GitRequirement):
        return entry.name or ""
    assert isinstance(entry, PassThrough)
    return entry.text


def test_pep621_dependencies_with_uv_git_sources(tmp_path: Path) -> None:
    core, ml, public = _entries(tmp_path, UV_PROJECT)
    assert isinstance(core, GitRequirement) and isinstance(ml, GitRequirement)
    assert core.name == "acme-core" and core.extras == ("fast",)
    assert core.url.repo == "https://h.test/o/core.git" and core.url.ref == "v1.4.0"
    assert core.url.subdirectory == "python" and core.marker == 'python_version >= "3.10"'
    assert core.requested_by.endswith("pyproject.toml:5")  # the line that declares it
    assert ml.url.ref == "v2"
    assert isinstance(public, PassThrough) and public.text == "publicdep>=1"


def test_extras_and_groups_are_chosen_by_name(tmp_path: Path) -> None:
    entries = _entries(tmp_path, UV_PROJECT, extras=("viz",), groups=("test",))
    names = [_label(e) for e in entries]
    assert names == ["acme-core", "acme-ml", "publicdep>=1", "acme-viz", "pytest>=8", "ruff"]
    viz = entries[3]
    assert isinstance(viz, GitRequirement) and viz.url.ref == "main"


@pytest.mark.parametrize(
    ("choices", "message"),
    [
        ({"extras": ("nope",)}, "--extra nope: the project has no such extra (viz)"),
        ({"groups": ("nope",)}, "--group nope: the project has no such group (lint, test)"),
    ],
)
def test_an_unknown_extra_or_group_is_named(
    tmp_path: Path, choices: dict[str, tuple[str, ...]], message: str
) -> None:
    with pytest.raises(RequirementError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _entries(tmp_path, UV_PROJECT, **choices)


POETRY_PROJECT = """\
[tool.poetry]
name = "app"
version = "1.0"

[tool.poetry.dependencies]
python = "^3.10"
acme-core = { git = "https://h.test/o/core.git", tag = "v1.4.0" }
requests = "^2.31"
attrs = { version = "~23.1", extras = ["tests"] }
six = "1.16.0"

[tool.poetry.group.dev.dependencies]
pytest = ">=8,<9"
"""


def test_poetry_dependencies_and_groups(tmp_path: Path) -> None:
    entries = _entries(tmp_path, POETRY_PROJECT, groups=("dev",))
    core = entries[0]
    assert isinstance(core, GitRequirement) and core.url.ref == "v1.4.0"
    assert [_label(e) for e in entries[1:]] == [
        "requests>=2.31,<3.0",
        "attrs[tests]>=23.1,<23.2",
        "six==1.16.0",
        "pytest>=8,<9",
    ]


@pytest.mark.parametrize(
    ("poetry", "pep440"),
    [
        ("^1.2.3", ">=1.2.3,<2.0"),
        ("^0.2.3", ">=0.2.3,<0.3"),
        ("^0.0.3", ">=0.0.3,<0.0.4"),
        ("~1.2.3", ">=1.2.3,<1.3"),
        ("~1", ">=1,<2.0"),
        ("1.2.*", "==1.2.*"),
        ("*", ""),
        (">=1.0,<2.0", ">=1.0,<2.0"),
        ("~=1.4", "~=1.4"),
    ],
)
def test_poetry_constraints_in_pep440(poetry: str, pep440: str) -> None:
    assert poetry_constraint(Path("pyproject.toml"), "x", poetry) == pep440


def test_or_constraints_are_refused_with_advice() -> None:
    with pytest.raises(RequirementError, match="poetry export"):
        poetry_constraint(Path("pyproject.toml"), "x", "^1.0 || ^2.0")


@pytest.mark.slow
def test_vendor_a_project_declared_in_pyproject(forge: Forge, tmp_path: Path, canary: str) -> None:
    forge.push("o/core.git", project("acme-core", "1.4.0"), tag="v1.4.0")
    app = tmp_path / "app"
    app.mkdir()
    (app / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1.0"\n'
        'dependencies = ["acme-core", "publicdep"]\n'
        "[tool.uv.sources]\n"
        f'acme-core = {{ git = "{forge.server.url}/o/core.git", tag = "v1.4.0" }}\n'
    )
    ran = run_gitdeps(
        "vendor", "--project", ".", "-o", "wh",
        cwd=app, env={"GITDEPS_TOKEN_127_0_0_1": canary},
    )  # fmt: skip
    assert ran.returncode == 0, ran.output
    forge.server.stop()
    python = fresh_venv(tmp_path / "venv")
    installed = pip_install(python, "-r", "wh/requirements.txt", cwd=app)
    assert installed.returncode == 0, installed.output
    assert run_python(
        python, "import acme_core, publicdep; print(acme_core.VALUE)", cwd=app
    ).strip() == ("acme-core 1.4.0")


@pytest.mark.parametrize("holds", [True, False], ids=["one-holds", "none-holds"])
def test_uv_sources_selected_by_markers_take_the_one_uv_would_take_here(
    tmp_path: Path, holds: bool
) -> None:
    """uv takes the first source whose marker holds; gitdeps vendors that one (not the
    first of the list), and none when no marker holds (the package is the index's)."""
    import sys

    this = sys.platform
    other = "definitely-not-" + this
    wanted = this if holds else other
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0"\ndependencies = ["acme", "tool>=1"]\n'
        "[tool.uv.sources]\nacme = [\n"
        f'  {{ git = "https://h.test/o/acme.git", tag = "v1", marker = "sys_platform == \'{other}\'" }},\n'
        f'  {{ git = "https://h.test/o/acme.git", branch = "dev", marker = "sys_platform == \'{wanted}\'" }},\n'
        "]\n"
        f'tool = [{{ git = "https://h.test/o/tool.git", marker = "sys_platform == \'{other}\'" }}]\n'
    )
    entries = parse_requirement_files([tmp_path / "pyproject.toml"]).entries
    git = [e for e in entries if isinstance(e, GitRequirement)]
    passed = [e.text for e in entries if isinstance(e, PassThrough)]
    if wanted == this:
        assert [(g.name, g.url.ref) for g in git] == [("acme", "dev")]
        assert passed == ["tool>=1"]
    else:
        assert git == [] and passed == ["acme", "tool>=1"]


def test_uv_sources_selected_by_markers_are_chosen_for_the_target(tmp_path: Path) -> None:
    """With --platform / --python-version the markers are read for the target, as uv
    reads them for the environment it installs into; targets that choose different
    sources are an error (one commit per package per wheelhouse)."""
    from gitdeps import RequirementError
    from gitdeps._inputs.targets import marker_environments

    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0"\ndependencies = ["acme", "new"]\n'
        "[tool.uv.sources]\nacme = [\n"
        '  { git = "https://h.test/o/acme.git", tag = "v1", marker = "sys_platform == \'win32\'" },\n'
        '  { git = "https://h.test/o/acme.git", branch = "dev", marker = "sys_platform != \'win32\'" },\n'
        "]\n"
        'new = [{ git = "https://h.test/o/new.git", marker = "python_version >= \'3.12\'" }]\n'
    )

    def chosen(platforms: list[str], python: str | None) -> list[tuple[str | None, str | None]]:
        environments = marker_environments(platforms, python, None)
        parsed = parse_requirement_files([tmp_path / "pyproject.toml"], environments=environments)
        return [(g.name, g.url.ref) for g in parsed.git]

    assert chosen(["win_amd64"], "3.11") == [("acme", "v1")]
    assert chosen(["manylinux_2_17_x86_64"], "3.12") == [("acme", "dev"), ("new", None)]
    assert chosen(["macosx_11_0_arm64"], "3.13") == [("acme", "dev"), ("new", None)]
    with pytest.raises(RequirementError, match=r"acme: the targets choose different sources"):
        chosen(["win_amd64", "manylinux_2_17_x86_64"], None)


def test_marker_environments_of_platform_tags() -> None:
    from gitdeps._inputs.targets import marker_environments

    assert marker_environments([], None, None) == ()
    (windows, linux, arm) = marker_environments(
        ["win_amd64", "musllinux_1_2_x86_64", "manylinux2014_aarch64"], "3.12", "cp"
    )
    assert windows["sys_platform"] == "win32" and windows["platform_machine"] == "AMD64"
    assert linux["platform_system"] == "Linux" and linux["platform_machine"] == "x86_64"
    assert arm["platform_machine"] == "aarch64" and arm["python_full_version"] == "3.12.0"
    assert arm["implementation_name"] == "cpython"
