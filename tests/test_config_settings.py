"""Per-requirement ``--config-settings`` reach that package's build backend, as with pip."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from gitdeps import RequirementError
from gitdeps._inputs.requirements import GitRequirement, parse_requirement_files
from tests.support.app import Forge, vendor_in

URL = "git+https://h.test/o/r.git@v1"


@pytest.mark.parametrize(
    ("line", "settings"),
    [
        (f"r @ {URL} --config-settings a=b", (("a", "b"),)),
        (f"r @ {URL} --config-settings=a=b -C c=d", (("a", "b"), ("c", "d"))),
        (f"r @ {URL} -Cc=d --config-settings a=x=y", (("c", "d"), ("a", "x=y"))),
        (f"r @ {URL} --config-settings 'k=with space'", (("k", "with space"),)),
        (f"-e {URL}#egg=r --config-settings editable_mode=compat", (("editable_mode", "compat"),)),
        (f"{URL}#egg=r --config-settings a=b", (("a", "b"),)),
        (f"r @ {URL}", ()),
    ],
)
def test_config_settings_are_read_in_every_spelling_pip_takes(
    tmp_path: Path, line: str, settings: tuple[tuple[str, str], ...]
) -> None:
    (tmp_path / "r.txt").write_text(line + "\n")
    (requirement,) = parse_requirement_files([tmp_path / "r.txt"]).git
    assert requirement.config_settings == settings


def test_a_repeated_key_becomes_a_list_as_pip_passes_it(tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_text(f"r @ {URL} -C a=1 -C b=2 -C a=3\n")
    (requirement,) = parse_requirement_files([tmp_path / "r.txt"]).git
    assert isinstance(requirement, GitRequirement)
    assert requirement.backend_config() == {"a": ["1", "3"], "b": "2"}


def test_a_setting_without_a_value_is_refused_naming_the_line(tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_text(f"\nr @ {URL} --config-settings novalue\n")
    with pytest.raises(RequirementError, match=r"r\.txt:2: --config-settings takes KEY=VALUE"):
        parse_requirement_files([tmp_path / "r.txt"])


# A real setuptools build, through an in-tree backend that records what it was given.
_BACKEND = """\
from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    with open("cfgpkg/_settings.py", "w") as handle:
        handle.write(f"SETTINGS = {config_settings!r}\\n")
    return _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)
"""


@pytest.mark.slow
def test_settings_reach_the_backend_and_key_the_cache(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    forge.push(
        "o/cfg.git",
        {
            "pyproject.toml": (
                '[build-system]\nrequires = ["setuptools>=70"]\n'
                'build-backend = "backend"\nbackend-path = ["_build"]\n'
                '[project]\nname = "cfgpkg"\nversion = "1.0"\n'
                '[tool.setuptools]\npackages = ["cfgpkg"]\n'
            ),
            "_build/backend.py": _BACKEND,
            "cfgpkg/__init__.py": "",
        },
    )
    app = tmp_path / "app"
    seen = []
    for settings in ("-C mode=fast -C flag=1 -C flag=2", "-C mode=slow", "-C mode=slow"):
        requirement = f"cfgpkg @ {forge.url('o/cfg.git')} {settings}"
        ran = vendor_in(app, requirement, env={"GITDEPS_TOKEN_127_0_0_1": canary})
        assert ran.returncode == 0, ran.output
        (wheel,) = (app / "wh").glob("cfgpkg-*.whl")
        with zipfile.ZipFile(wheel) as archive:
            seen.append(archive.read("cfgpkg/_settings.py").decode())
        # New settings are a new build; the same settings again, the cached wheel.
        assert ("cfgpkg: cached" in ran.stderr) == (len(seen) == 3), ran.stderr
    assert seen == [
        "SETTINGS = {'mode': 'fast', 'flag': ['1', '2']}\n",
        "SETTINGS = {'mode': 'slow'}\n",
        "SETTINGS = {'mode': 'slow'}\n",
    ]
