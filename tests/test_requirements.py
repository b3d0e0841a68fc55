"""Requirement files read as pip reads them."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitdeps import RequirementError
from gitdeps._inputs.giturl import InvalidGitURL, host_env_key, parse_git_url
from gitdeps._inputs.requirements import (
    GitRequirement,
    IncludedFile,
    PassThrough,
    PathOption,
    parse_requirement_files,
)


def _parse(tmp_path: Path, text: str, name: str = "requirements.txt") -> list[object]:
    path = tmp_path / name
    path.write_text(text)
    return list(parse_requirement_files([path]).entries)


def test_pep508_and_egg_forms_with_refs_subdirectories_extras_and_markers(tmp_path: Path) -> None:
    entries = _parse(
        tmp_path,
        "acme-utils[fast] @ git+https://dev.azure.com/contoso/platform/_git/acme-utils@v1.2.0"
        ' ; python_version >= "3.9"\n'
        "git+https://dev.azure.com/contoso/platform/_git/monorepo@main"
        "#egg=acme-ml&subdirectory=packages/acme-ml\n"
        "-e git+https://github.com/org/tool.git#egg=tool\n"
        "plain @ git+http://127.0.0.1:8080/x/plain.git@0123456789abcdef0123456789abcdef01234567\n"
        "local @ git+file:///srv/git/local.git@feature/x%2By\n",
    )
    utils, ml, tool, plain, local = entries
    assert isinstance(utils, GitRequirement)
    assert (utils.name, utils.extras, utils.marker) == (
        "acme-utils",
        ("fast",),
        'python_version >= "3.9"',
    )
    assert utils.url.repo == "https://dev.azure.com/contoso/platform/_git/acme-utils"
    assert utils.url.ref == "v1.2.0"
    assert utils.requested_by.endswith("requirements.txt:1")
    assert isinstance(ml, GitRequirement)
    assert (ml.name, ml.url.ref, ml.url.subdirectory) == ("acme-ml", "main", "packages/acme-ml")
    assert isinstance(tool, GitRequirement) and tool.editable and tool.url.ref is None
    assert isinstance(plain, GitRequirement) and plain.url.port == 8080
    assert isinstance(local, GitRequirement)
    assert (local.url.scheme, local.url.ref) == ("file", "feature/x+y")


def test_comments_blank_lines_continuations_and_options_pass_through(tmp_path: Path) -> None:
    entries = _parse(
        tmp_path,
        "# a comment\n"
        "\n"
        "--index-url https://pkgs.example/simple\n"
        "--extra-index-url https://other.example/simple  # trailing comment\n"
        "requests>=2.31 \\\n"
        "    --hash=sha256:abc\n"
        "numpy ; sys_platform == 'linux'\n"
        "priv @ git+https://github.com/o/priv.git # comment after a URL\n",
    )
    texts = [e.text for e in entries if isinstance(e, PassThrough)]
    assert texts == [
        "--index-url https://pkgs.example/simple",
        "--extra-index-url https://other.example/simple",
        "requests>=2.31     --hash=sha256:abc",
        "numpy ; sys_platform == 'linux'",
    ]
    parsed = parse_requirement_files([tmp_path / "requirements.txt"])
    assert parsed.uses_hashes
    assert parsed.index_options == (
        "--index-url", "https://pkgs.example/simple",
        "--extra-index-url", "https://other.example/simple",
    )  # fmt: skip
    assert [g.name for g in parsed.git] == ["priv"]


def test_includes_are_relative_to_the_including_file(tmp_path: Path) -> None:
    (tmp_path / "reqs").mkdir()
    (tmp_path / "reqs" / "base.txt").write_text(
        "-c constraints.txt\nbase @ git+https://github.com/o/base.git@v1\n"
    )
    (tmp_path / "reqs" / "constraints.txt").write_text("requests<3\n")
    (tmp_path / "requirements.txt").write_text("-r reqs/base.txt\napp-extra==1\n")
    entries = _parse(tmp_path, (tmp_path / "requirements.txt").read_text())
    kinds = [type(e).__name__ for e in entries]
    assert kinds == ["IncludedFile", "PathOption", "GitRequirement", "PassThrough"]
    include, constraint, base = entries[0], entries[1], entries[2]
    assert isinstance(include, IncludedFile)
    assert isinstance(constraint, PathOption)
    assert constraint.path == (tmp_path / "reqs" / "constraints.txt").resolve()
    assert isinstance(base, GitRequirement) and base.requested_by.endswith("base.txt:2")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("acme @ git+ssh://git:pw@github.com/o/acme.git", "ssh URL takes no password"),
        ("git+git@github.com:#egg=acme", "not a git URL"),
        ("acme @ git://github.com/o/acme.git", "git:// protocol is not supported"),
        ("acme @ hg+https://example/acme", "hg repositories are not supported"),
        ("acme @ git+https://github.com/o/acme.git@", "empty ref"),
        ("git+https://github.com/o/a.git#egg=a&subdirectory=../up", "points outside"),
        ("acme >= 1 <<", "invalid requirement"),
        ("--frobnicate", "no such option: --frobnicate; pip refuses this line too"),
        ("-r missing.txt", "requirements file not found"),
        ("-c missing.txt", "constraints file not found"),
    ],
)
def test_bad_lines_name_the_file_and_line(tmp_path: Path, line: str, expected: str) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text(f"ok==1\n{line}\n")
    with pytest.raises(RequirementError) as caught:
        parse_requirement_files([path])
    message = str(caught.value)
    assert expected in message
    assert "requirements.txt:2" in message


def test_include_cycle_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("-r b.txt\n")
    (tmp_path / "b.txt").write_text("-r a.txt\n")
    with pytest.raises(RequirementError, match="includes itself"):
        parse_requirement_files([tmp_path / "a.txt"])


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(RequirementError, match=r"requirements file not found: .*nope\.txt"):
        parse_requirement_files([tmp_path / "nope.txt"])


def test_env_vars_expand_for_parsing_but_pass_through_unexpanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INDEX_HOST", "pkgs.example")
    monkeypatch.setenv("PAT", "s3cr3t-token-value")
    entries = _parse(
        tmp_path,
        "--extra-index-url https://${INDEX_HOST}/simple\n"
        "acme @ git+https://x:${PAT}@github.com/o/acme.git\n",
    )
    option, acme = entries
    assert isinstance(option, PassThrough) and "${INDEX_HOST}" in option.text
    parsed = parse_requirement_files([tmp_path / "requirements.txt"])
    (credential,) = parsed.credentials
    assert credential.token.reveal() == "s3cr3t-token-value"
    assert isinstance(acme, GitRequirement) and "s3cr3t" not in repr(acme)


@pytest.mark.parametrize(
    ("url", "user", "token"),
    [
        ("git+https://user:tok%40en@example.com/o/r.git", "user", "tok@en"),
        ("git+https://ghp_abcdefghijklmnop@github.com/o/r.git", None, "ghp_abcdefghijklmnop"),
        ("git+https://contoso@dev.azure.com/contoso/p/_git/r", None, None),
    ],
)
def test_embedded_credentials_are_split_off(url: str, user: str | None, token: str | None) -> None:
    parsed, credential = parse_git_url(url)
    assert "@" not in parsed.repo.split("//", 1)[1].split("/", 1)[0]
    if token is None:
        assert credential is None
    else:
        assert credential is not None
        assert (credential.username, credential.token.reveal()) == (user, token)


def test_host_env_key() -> None:
    assert host_env_key("dev.azure.com") == "DEV_AZURE_COM"
    assert host_env_key("127.0.0.1") == "127_0_0_1"
    assert host_env_key("my-ghe.example.org") == "MY_GHE_EXAMPLE_ORG"


_names = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,8}([-_.][A-Za-z0-9]{1,5}){0,2}", fullmatch=True)
_refs = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,20}", fullmatch=True).filter(
    lambda r: "//" not in r and not r.endswith((".", "/"))
)
_paths = st.lists(
    st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,10}", fullmatch=True), min_size=1, max_size=3
)


@given(name=_names, ref=st.none() | _refs, path=_paths, subdirectory=st.none() | _paths)
def test_parse_round_trips_through_requirement_url(
    name: str, ref: str | None, path: list[str], subdirectory: list[str] | None
) -> None:
    subdir = "/".join(subdirectory) if subdirectory else None
    url = f"git+https://git.example.com/{'/'.join(path)}" + (f"@{ref}" if ref else "")
    if subdir:
        url += f"#subdirectory={subdir}"
    parsed, credential = parse_git_url(url)
    assert credential is None
    assert parsed.ref == ref
    again, _ = parse_git_url(parsed.requirement_url())
    assert again == parsed


@given(st.text(max_size=60))
def test_parse_never_crashes_with_anything_but_its_own_error(text: str) -> None:
    try:
        parse_git_url("git+" + text)
    except InvalidGitURL:
        pass


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("pkg==1.0 --hash=somehash", "pip needs a hash name and a value"),
        ("pkg==1.0 --hash=md5:0123", "pip allows only sha256, sha384, sha512"),
        ("pkg==1.0 --hash=SHA256:ab", "pip allows only sha256, sha384, sha512"),
        ("invalid.whl", "invalid.whl is not a valid wheel filename"),
        ("./missing/pkg", "'./missing/pkg' looks like a path, and no file or folder is there"),
        ("./empty", "folder './empty' is not installable"),
        ("-r http://example.test/r.txt", "from URLs are not supported: http://example.test/r"),
        ("--use-feature=resolvelib", "invalid choice: 'resolvelib' (choose from 'fast-deps'"),
        ("./other.txt", "is a file here, not a requirement"),
        ("other.txt", "include it with '-r other.txt'"),
        ("./setup.cfg", "is a file but neither a wheel nor a source archive"),
        ("acme @ git+https://h.test/r.git#egg=acme[x]", "#egg=acme[x] is not a project name"),
        ("git+https://h.test/r.git#egg=acme==1", "#egg=acme==1 is not a project name"),
        ("acme @ git+https://h.test/r.git?tok=gdcanary12@v1", "a query string ('?...')"),
    ],
)
def test_a_line_pip_refuses_is_refused_here_not_on_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str, said: str
) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "other.txt").write_text("publicdep\n")
    (tmp_path / "setup.cfg").write_text("[metadata]\n")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "requirements.txt").write_text(line + "\n")
    with pytest.raises(RequirementError, match=r"requirements\.txt:1: ") as caught:
        parse_requirement_files([tmp_path / "requirements.txt"])
    assert said in str(caught.value) and "gdcanary12" not in str(caught.value)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("line", "pip_says"),
    [
        ("--use-feature=resolvelib", "invalid choice: 'resolvelib'"),
        ("./other.txt", "use the '-r' flag"),
        ("other.txt", "No matching distribution found for other.txt"),
        ("./setup.cfg", "Invalid requirement: './setup.cfg'"),
        ("acme @ git+https://h.test/r.git#egg=acme[x]", "invalid-egg-fragment"),
        ("pkg==1.0 --hash=somehash", "--hash"),
    ],
)
def test_real_pip_refuses_the_lines_refused_here(tmp_path: Path, line: str, pip_says: str) -> None:
    """What pip itself does with each line refused at vendor time: it fails too (here
    with no index, so that nothing is fetched), and for the reason the error gives."""
    import subprocess
    import sys

    (tmp_path / "other.txt").write_text("publicdep\n")
    (tmp_path / "setup.cfg").write_text("[metadata]\n")
    (tmp_path / "requirements.txt").write_text(line + "\n")
    ran = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", "-r",
         "requirements.txt"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert ran.returncode != 0
    assert pip_says in ran.stdout + ran.stderr


@pytest.mark.parametrize(
    "line",
    ["acme-1.0+local-py3-none-any.whl", "./pkg", "./pkg[extra]", "pkg==1.0 --hash=sha256:ab"],
)
def test_a_line_pip_takes_passes_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str
) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "pyproject.toml").write_text("")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "requirements.txt").write_text(line + "\n")
    (entry,) = parse_requirement_files([tmp_path / "requirements.txt"]).entries
    assert isinstance(entry, PassThrough) and entry.text == line


def test_a_find_links_folder_that_is_not_there_yet_passes_through_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pip reads a relative --find-links from the requirements file's folder when it is
    there, else from the working directory: one made later is left for pip to find."""
    (tmp_path / "reqs").mkdir()
    (tmp_path / "reqs" / "here").mkdir()
    (tmp_path / "reqs" / "r.txt").write_text("--find-links=./later\n--find-links ./here\n")
    monkeypatch.chdir(tmp_path)
    later, here = parse_requirement_files([tmp_path / "reqs" / "r.txt"]).entries
    assert isinstance(later, PassThrough) and later.text == "--find-links=./later"
    assert isinstance(here, PathOption) and here.path == (tmp_path / "reqs" / "here").resolve()
