"""Requirement-file options in every spelling pip 26 takes, read with the same grammar
(optparse, pip's option set); what passes through never carries a secret in clear."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitdeps import RequirementError
from gitdeps._inputs.requirements import parse_requirement_files, pip_options
from tests.support.app import Forge, fresh_venv, pip_install, run_gitdeps, vendor_in
from tests.support.projects import project


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["-rother.txt"], [("-r", "other.txt")]),
        (["--requirement=other.txt"], [("-r", "other.txt")]),
        (["--requirem", "other.txt"], [("-r", "other.txt")]),  # a unique abbreviation
        (["-ihttps://idx.test/simple"], [("--index-url", "https://idx.test/simple")]),
        (["--index", "https://idx.test/simple"], [("--index-url", "https://idx.test/simple")]),
        (["--pypi-url", "https://idx.test/simple"], [("--index-url", "https://idx.test/simple")]),
        (
            ["--extra", "https://a.test/simple", "--extra-index-url=https://b.test/simple"],
            [
                ("--extra-index-url", "https://a.test/simple"),
                ("--extra-index-url", "https://b.test/simple"),
            ],
        ),
        (
            ["--trusted-host", "a.test", "--trusted-host=b.test"],
            [("--trusted-host", "a.test"), ("--trusted-host", "b.test")],
        ),
        (["--no-require-hashes"], [("--no-require-hashes", None)]),
        (["--all-releases", ":all:"], [("--all-releases", ":all:")]),
        (["--only-final=:all:"], [("--only-final", ":all:")]),
        (["-"], []),  # a lone dash: pip ignores it
        (
            ["-Ckey=value", "-C", "k2=v2"],
            [("--config-settings", "key=value"), ("--config-settings", "k2=v2")],
        ),
    ],
)
def test_every_spelling_pip_takes(words: list[str], expected: list[tuple[str, str]]) -> None:
    assert pip_options(words) == expected


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("--global-option=--x", "no such option: --global-option"),  # gone in pip 26
        ("--frob", "no such option: --frob"),
        ("-i", "-i option requires 1 argument"),
        ("--no", "ambiguous option: --no"),
        ("--req x.txt", "ambiguous option: --req"),  # --requirement or --require-hashes
        ("--hash=sha256:00", "--hash belongs on a requirement's line"),
    ],
)
def test_a_line_pip_refuses_is_refused_with_pips_reason(
    tmp_path: Path, line: str, reason: str
) -> None:
    (tmp_path / "r.txt").write_text(f"publicdep\n{line}\n")
    with pytest.raises(RequirementError, match=r"r\.txt:2: ") as caught:
        parse_requirement_files([tmp_path / "r.txt"])
    assert reason in str(caught.value)


def test_two_index_options_on_one_line_both_reach_the_build_environments(tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_text(
        "--extra-index-url https://a.test/simple --extra-index-url https://b.test/simple "
        "--trusted-host a.test\n"
    )
    parsed = parse_requirement_files([tmp_path / "r.txt"])
    assert parsed.index_options == (
        "--extra-index-url", "https://a.test/simple",
        "--extra-index-url", "https://b.test/simple",
        "--trusted-host", "a.test",
    )  # fmt: skip


@pytest.mark.parametrize(
    "line",
    [
        "--index-url https://user:hunter2secret@idx.test/simple",
        "-i https://user:hunter2secret@idx.test/simple",
        "--extra-index-url=https://__token__:hunter2secret@idx.test/simple",
        "pkg @ https://user:hunter2secret@files.test/pkg-1.0-py3-none-any.whl",
    ],
)
def test_a_password_in_clear_is_refused_with_advice(tmp_path: Path, line: str) -> None:
    (tmp_path / "r.txt").write_text(line + "\n")
    with pytest.raises(RequirementError) as caught:
        parse_requirement_files([tmp_path / "r.txt"])
    assert "r.txt:1: a URL carries a password in clear" in str(caught.value)
    assert "${VARIABLE}" in str(caught.value)
    assert "hunter2secret" not in str(caught.value)


@pytest.mark.slow
def test_duplicate_git_lines_and_no_binary_give_an_output_real_pip_installs(
    forge: Forge, tmp_path: Path, canary: str, monkeypatch: pytest.MonkeyPatch, index_url: str
) -> None:
    forge.push("o/lib.git", project("lib", "1.0"), tag="v1")
    url = forge.url("o/lib.git", "v1")
    monkeypatch.setenv("INDEX_PASSWORD", canary)
    # The build environments install from this index: its password reaches pip and uv
    # through a private file, never their command line.
    with_password = index_url.replace("http://", "http://reader:${INDEX_PASSWORD}@")
    requirements = (
        f"lib @ {url} ; sys_platform == 'win32'\n"
        f"lib @ {url};sys_platform != 'win32'\n"
        "--no-binary :all:\n"
        f"--extra-index-url {with_password}\n"
    )
    app = tmp_path / "app"
    ran = vendor_in(app, requirements, env={"GITDEPS_TOKEN_127_0_0_1": canary})
    assert ran.returncode == 0, ran.output
    out = (app / "out.txt").read_text()
    assert "lib==1.0+g" in out
    assert '; sys_platform == "win32"' in out and '; sys_platform != "win32"' in out
    assert "--only-binary lib" in out
    assert with_password in out  # kept as written
    assert canary not in out + ran.output

    python = fresh_venv(tmp_path / "venv")
    (app / "target.txt").write_text(
        "\n".join(line for line in out.splitlines() if "extra-index-url" not in line) + "\n"
    )
    installed = pip_install(python, "--no-index", "-r", "target.txt", cwd=app)
    assert installed.returncode == 0, installed.output


def test_options_after_the_command_and_uvs_requirements_spelling(tmp_path: Path) -> None:
    ran = run_gitdeps("vendor", "--requirements", "missing.txt", "-o", "wh", "-q", cwd=tmp_path)
    assert ran.returncode == 3
    assert ran.stderr.startswith("error: requirements file not found: missing.txt")
    quiet = run_gitdeps("cache", "info", "-q", cwd=tmp_path)
    loud = run_gitdeps("-v", "cache", "info", cwd=tmp_path)
    assert quiet.returncode == loud.returncode == 0


@pytest.mark.parametrize(
    ("fragment", "egg", "subdirectory"),
    [
        ("egg=a&subdirectory=x&subdirectory=y", "a", "x"),  # the first one wins
        ("egg=x&egg=y", "x", None),
        ("subdirectory=a+b%20c&egg=n", "n", "a+b%20c"),  # taken as written, as pip does
        ("other=1&subdirectory=pkgs/one", None, "pkgs/one"),
        ("subdirectory=", None, None),
    ],
)
def test_fragments_are_split_as_pip_splits_them(
    fragment: str, egg: str | None, subdirectory: str | None
) -> None:
    from gitdeps._inputs.giturl import parse_git_url

    url, _ = parse_git_url(f"git+https://h.test/o/r.git@v1#{fragment}")
    assert (url.egg, url.subdirectory) == (egg, subdirectory)


def test_a_git_url_in_a_constraints_file_is_refused_naming_both_files(tmp_path: Path) -> None:
    (tmp_path / "nested.txt").write_text("lib @ git+https://h.test/o/lib.git@v1\n")
    (tmp_path / "constraints.txt").write_text("publicdep==1.0\n-cnested.txt\n")
    (tmp_path / "r.txt").write_text("publicdep\n-c constraints.txt\n")
    with pytest.raises(RequirementError) as caught:
        parse_requirement_files([tmp_path / "r.txt"])
    message = str(caught.value)
    assert "nested.txt:1: a constraints file (-c, from " in message
    assert "constraints.txt:2)" in message
    assert "pins lib to a git URL" in message
    assert "move that line into the requirements file" in message
