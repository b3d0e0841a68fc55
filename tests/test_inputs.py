"""Requirement files as pip reads them: every encoding pip decodes, any case of scheme."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from gitdeps import RequirementError
from gitdeps._inputs.requirements import GitRequirement, parse_requirement_files

LINES = "# bibliothèques privées\nacme @ git+https://h.test/o/r.git@grün\npublicdep>=1\n"


@pytest.mark.parametrize(
    "encoded",
    [
        LINES.encode("utf-8"),
        codecs.BOM_UTF8 + LINES.encode("utf-8"),
        codecs.BOM_UTF16_LE + LINES.encode("utf-16-le"),  # PowerShell 5's pip freeze >
        codecs.BOM_UTF16_BE + LINES.encode("utf-16-be"),
        codecs.BOM_UTF32_LE + LINES.encode("utf-32-le"),
        codecs.BOM_UTF32_BE + LINES.encode("utf-32-be"),
        ("# -*- coding: latin-1 -*-\n" + LINES).encode("latin-1"),
        ("#!/usr/bin/env pip\n# vim: set fileencoding=cp1252 :\n" + LINES).encode("cp1252"),
    ],
    ids=[
        "utf-8",
        "utf-8-bom",
        "utf-16-le",
        "utf-16-be",
        "utf-32-le",
        "utf-32-be",
        "pep263",
        "pep263-line-2",
    ],
)
def test_every_encoding_pip_reads(tmp_path: Path, encoded: bytes) -> None:
    path = tmp_path / "requirements.txt"
    path.write_bytes(encoded)
    (git,) = parse_requirement_files([path]).git
    assert isinstance(git, GitRequirement) and git.name == "acme" and git.url.ref == "grün"


def test_an_undecodable_file_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_bytes("acme @ git+https://h.test/o/r.git@grün\n".encode("latin-1"))
    with pytest.raises(RequirementError, match="save it as UTF-8, or declare its encoding"):
        parse_requirement_files([path])


@pytest.mark.parametrize(
    "line",
    [
        "acme @ GIT+HTTPS://h.test/o/r.git@v1",
        "acme @ Git+https://h.test/o/r.git@v1",
        "GIT+HTTPS://h.test/o/r.git@v1#egg=acme",
        "-e Git+Https://h.test/o/r.git@v1#egg=acme",
    ],
)
def test_a_scheme_in_any_case_is_a_git_requirement(tmp_path: Path, line: str) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text(line + "\n")
    (git,) = parse_requirement_files([path]).git
    assert git.name == "acme" and git.url.scheme == "https" and git.url.ref == "v1"
    assert git.url.repo == "https://h.test/o/r.git"
