"""Rewriting wheels: pins instead of git URLs, a local label, a valid RECORD, same bytes twice."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from gitdeps._build.wheel import pinned_version, read_wheel, rewrite_wheel
from tests.support.app import Forge, run_gitdeps
from tests.support.projects import project
from tests.support.wheels import make_wheel


def _record_ok(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        (record_name,) = [n for n in names if n.endswith(".dist-info/RECORD")]
        rows = list(csv.reader(io.StringIO(archive.read(record_name).decode())))
        listed = {row[0] for row in rows}
        assert listed == {n for n in names if not n.endswith("/")}
        for name, digest, size in rows:
            if name == record_name:
                assert digest == size == ""
                continue
            data = archive.read(name)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert digest == f"sha256={expected}" and int(size) == len(data)
        return names


def test_rewrite_replaces_git_requirements_and_renames_everything(tmp_path: Path) -> None:
    source = make_wheel(
        tmp_path,
        "acme-ml",
        "2.0.0",
        {"acme_ml/__init__.py": "X = 1\n", "acme_ml-2.0.0.data/scripts/run": "#!python\n"},
        requires=[
            "acme-utils[fast] @ git+https://dev.azure.com/c/p/_git/acme-utils@v1.2.0 ; python_version >= '3.9'",
            "requests>=2",
        ],
    )
    out = tmp_path / "out"
    out.mkdir()
    value = "acme-utils[fast] @ git+https://dev.azure.com/c/p/_git/acme-utils@v1.2.0 ; python_version >= '3.9'"
    rewritten = rewrite_wheel(
        source,
        out,
        version="2.0.0+gabc",
        replace_requires={value: 'acme-utils[fast]==1.2.0+gdef ; python_version >= "3.9"'},
    )
    assert rewritten.name == "acme_ml-2.0.0+gabc-py3-none-any.whl"
    names = _record_ok(rewritten)
    assert "acme_ml-2.0.0+gabc.dist-info/METADATA" in names
    assert "acme_ml-2.0.0+gabc.data/scripts/run" in names
    assert not any(n.startswith("acme_ml-2.0.0.") for n in names)
    info = read_wheel(rewritten)
    assert info.version == "2.0.0+gabc"
    assert info.requires_dist == (
        'acme-utils[fast]==1.2.0+gdef ; python_version >= "3.9"',
        "requests>=2",
    )
    again = rewrite_wheel(source, tmp_path, version="2.0.0+gabc", replace_requires={value: "x==1"})
    assert again.read_bytes() != rewritten.read_bytes()
    third = out / "third"
    third.mkdir()
    same = rewrite_wheel(
        source,
        third,
        version="2.0.0+gabc",
        replace_requires={value: 'acme-utils[fast]==1.2.0+gdef ; python_version >= "3.9"'},
    )
    assert same.read_bytes() == rewritten.read_bytes()


def test_pinned_version_keeps_an_existing_local_label() -> None:
    assert pinned_version("1.2.0", "0123456789abcdef" * 2 + "01234567") == "1.2.0+g0123456789ab"
    assert pinned_version("1.2.1.dev3+g1a2b3c4", "f" * 40) == "1.2.1.dev3+g1a2b3c4"
    assert pinned_version("01.2", "0" * 40) == "1.2+g000000000000"


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["setuptools", "hatchling", "flit_core"])
def test_the_same_commit_builds_the_same_bytes(
    forge: Forge, tmp_path: Path, canary: str, backend: str
) -> None:
    forge.push("o/repro.git", project("repro", "1.0", backend=backend), date="2021-05-06T07:08:09Z")
    digests = []
    for attempt in ("one", "two"):
        app = tmp_path / attempt
        app.mkdir()
        (app / "requirements.txt").write_text(f"repro @ {forge.url('o/repro.git')}\n")
        ran = run_gitdeps(
            "vendor", "-r", "requirements.txt", "-o", "wh", "--no-build-isolation", "--no-cache",
            cwd=app, env={"GITDEPS_TOKEN_127_0_0_1": canary},
        )  # fmt: skip
        assert ran.returncode == 0, ran.output
        (wheel,) = (app / "wh").glob("*.whl")
        _record_ok(wheel)
        digests.append(hashlib.sha256(wheel.read_bytes()).hexdigest())
        with zipfile.ZipFile(wheel) as archive:
            assert all(info.date_time[:3] == (2021, 5, 6) for info in archive.infolist())
    assert digests[0] == digests[1]
