"""Fast unit tests of single stages, no server and no build: the lock and requirements
formats round-trip, the output requirements keep what each line says, host kinds come
from one table."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement

from gitdeps._credentials.hosts import HOST_KINDS, HostKind, ci_secret_variables, host_kind
from gitdeps._credentials.store import Credentials
from gitdeps._inputs.giturl import parse_git_url
from gitdeps._inputs.requirements import PassThrough, parse_requirement_files
from gitdeps._outputs.lock import LockedPackage, dump_lock, read_lock
from gitdeps._outputs.render import Pin, Pinned, RequirementsFile, render_requirements
from gitdeps._subprocess import clean_environ

_hex = st.text(alphabet="0123456789abcdef", min_size=40, max_size=40)
_name = st.from_regex(r"[a-z][a-z0-9]{0,10}", fullmatch=True)
_version = st.from_regex(r"[1-9][0-9]?\.(0|[1-9][0-9]?)(\+g[0-9a-f]{12})?", fullmatch=True)
_text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40)


@st.composite
def _packages(draw: st.DrawFn) -> LockedPackage:
    name, version = draw(_name), draw(_version)
    return LockedPackage(
        name=name,
        version=version,
        url="https://h.test/" + draw(_text).replace("\\", "/"),
        requested_revision=draw(_text),
        commit=draw(_hex),
        subdirectory=draw(_text),
        wheel=f"{name}-{version}-py3-none-any.whl",
        sha256=draw(_hex) + draw(_hex)[:24],
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(_packages(), max_size=5))
def test_the_lock_format_round_trips(
    tmp_path_factory: pytest.TempPathFactory, packages: list[LockedPackage]
) -> None:
    path = tmp_path_factory.mktemp("lock") / "gitdeps.lock"
    path.write_text(dump_lock(packages), encoding="utf-8")
    lock = read_lock(path)
    assert lock is not None
    assert sorted(lock.packages, key=repr) == sorted(packages, key=repr)


_markers = st.sampled_from(
    ["", "sys_platform == 'win32'", "python_version >= '3.10'", "os_name != 'nt'"]
)


@st.composite
def _git_lines(draw: st.DrawFn) -> list[tuple[str, tuple[str, ...], str, str]]:
    """Git requirement lines as (name, extras, marker, version): names repeat, so one
    name may come with several extras and markers, and lines repeat exactly."""
    names = draw(st.lists(_name, min_size=1, max_size=4, unique=True))
    versions = {name: draw(_version) for name in names}
    lines = []
    for _ in range(draw(st.integers(1, 6))):
        name = draw(st.sampled_from(names))
        extras = tuple(sorted(draw(st.sets(st.sampled_from(["a", "b"])))))
        lines.append((name, extras, draw(_markers), versions[name]))
    return lines


@settings(max_examples=100, deadline=None)
@given(lines=_git_lines(), hashes=st.booleans())
def test_the_requirements_format_round_trips_through_pips_grammar(
    tmp_path_factory: pytest.TempPathFactory,
    lines: list[tuple[str, tuple[str, ...], str, str]],
    hashes: bool,
) -> None:
    """What RequirementsFile writes, read back as a requirements file, says each input
    line's name, extras and marker at the vendored version (with its hash), once."""
    folder = tmp_path_factory.mktemp("round")
    source = folder / "requirements.txt"
    text = ""
    for name, extras, marker, _version in lines:
        extra = f"[{','.join(extras)}]" if extras else ""
        text += f"{name}{extra} @ git+https://h.test/o/{name}.git@v1"
        text += (f" ; {marker}" if marker else "") + "\n"
    text += "publicdep>=1" + (" --hash=sha256:" + "1" * 64 if hashes else "") + "\n"
    source.write_text(text)
    parsed = parse_requirement_files([source])
    versions = {name: version for name, _extras, _marker, version in lines}
    pins = {
        requirement: Pin(
            requirement.name or "",
            versions[requirement.name or ""],
            (requirement.name or "").ljust(64, "0"),
            requirement.url.requirement_url(),
            "a" * 40,
        )
        for requirement in parsed.git
    }
    output = folder / "out" / "requirements.txt"
    written = RequirementsFile().render(
        Pinned(parsed, pins, ()), output=output, wheelhouse=folder / "out" / "wh", sources=[source]
    )
    output.parent.mkdir()
    output.write_text(written)
    again = parse_requirement_files([output])
    assert again.git == ()  # no git URL reaches the deploy target
    assert "--find-links ./wh" in written.splitlines()
    read = [Requirement(line.text.split(" --hash")[0].split("  #")[0]) for line in again.entries
            if isinstance(line, PassThrough) and not line.text.startswith("-")]  # fmt: skip
    expected = []
    for name, extras, marker, version in lines:
        wanted = Requirement(
            f"{name}{'[' + ','.join(extras) + ']' if extras else ''}=={version}"
            + (f" ; {marker}" if marker else "")
        )
        if wanted not in expected:
            expected.append(wanted)
    assert read == [*expected, Requirement("publicdep>=1")]
    if hashes:
        for name in versions:
            assert f"--hash=sha256:{name.ljust(64, '0')}" in written


def test_rendering_keeps_each_lines_extras_and_marker(tmp_path: Path) -> None:
    source = tmp_path / "requirements.txt"
    source.write_text(
        "lib[a] @ git+https://h.test/o/lib.git@v1 ; sys_platform == 'win32'\n"
        "lib @ git+https://h.test/o/lib.git@v1;sys_platform != 'win32'\n"
        "lib[a] @ git+https://h.test/o/lib.git@v1 ; sys_platform == 'win32'\n"
        "publicdep>=1\n"
        "--no-binary :all:\n"
    )
    parsed = parse_requirement_files([source])
    pin = Pin("lib", "1.0+gabcdef012345", "0" * 64, "git+https://h.test/o/lib.git@v1", "a" * 40)
    text = render_requirements(
        parsed,
        dict.fromkeys(parsed.git, pin),
        [],
        output=tmp_path / "out" / "requirements.txt",
        wheelhouse=tmp_path / "out",
        sources=[source],
    )
    lines = [line.split("  #")[0] for line in text.splitlines() if line.startswith("lib")]
    assert [Requirement(line) for line in lines] == [
        Requirement('lib[a]==1.0+gabcdef012345; sys_platform == "win32"'),
        Requirement('lib==1.0+gabcdef012345; sys_platform != "win32"'),
    ]  # the repeated line once, each marker and extra kept
    assert "publicdep>=1" in text.splitlines()
    assert text.splitlines()[-1] == "--only-binary lib"
    assert "--find-links ." in text


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("dev.azure.com", HostKind.AZURE_DEVOPS),
        ("contoso.visualstudio.com", HostKind.AZURE_DEVOPS),
        ("GitHub.com", HostKind.GITHUB),
        ("acme.ghe.com", HostKind.GITHUB),
        ("gitlab.com", HostKind.GITLAB),
        ("bitbucket.org", HostKind.BITBUCKET),
        ("git.corp.example", HostKind.GENERIC),
        ("notgithub.com", HostKind.GENERIC),
    ],
)
def test_host_kinds_come_from_the_table(host: str, kind: HostKind) -> None:
    assert host_kind(host) is kind


def test_every_ci_variable_of_the_table_is_used_and_scrubbed() -> None:
    environ = {name: f"value-of-{name.lower()}-0123456789" for name in ci_secret_variables()}
    assert clean_environ(environ).keys() == {"GIT_TERMINAL_PROMPT", "PIP_NO_INPUT"}
    for kind, info in HOST_KINDS.items():
        for variable, _user in info.ci_variables:
            host = next(iter(info.hosts))
            url, _ = parse_git_url(f"git+https://{host}/o/r.git")
            credential = Credentials(environ={variable: "t0ken-" + variable}).for_url(url)
            assert credential is not None and credential.source == variable, kind
            break  # the first of each kind wins when it is set


def test_vendor_options_refuse_what_contradicts_and_normalise_what_they_hold() -> None:
    from gitdeps import GitDepsError, VendorOptions

    options = VendorOptions(platform=["win_amd64"], cache_dir="c", jobs=2)  # type: ignore[arg-type]
    assert options.platform == ("win_amd64",) and options.cache_dir == Path("c")
    for bad in (
        {"locked": True, "upgrade": True},
        {"locked": True, "upgrade_packages": ("a",)},
        {"jobs": 0},
        {"installer": "poetry"},
        {"extras": "viz"},  # a string, not a list of them
    ):
        with pytest.raises(GitDepsError):
            VendorOptions(**bad)


def test_vendor_takes_options_or_keywords_not_both(tmp_path: Path) -> None:
    import gitdeps

    with pytest.raises(gitdeps.GitDepsError, match="options= or its fields as keywords"):
        gitdeps.vendor(
            [tmp_path / "r.txt"], tmp_path / "wh", tmp_path / "o.txt",
            options=gitdeps.VendorOptions(), locked=True,
        )  # fmt: skip


@pytest.mark.parametrize(
    ("markers", "expected"),
    [
        (("sys_platform == 'win32'",), "dep==2.0 ; sys_platform == 'win32'"),
        (
            ("sys_platform == 'win32'", "sys_platform == 'win32'"),
            "dep==2.0 ; sys_platform == 'win32'",
        ),
        (
            ("sys_platform == 'win32'", "os_name == 'posix'"),
            "dep==2.0 ; (os_name == 'posix') or (sys_platform == 'win32')",
        ),
        (("sys_platform == 'win32'", ""), "dep==2.0"),  # one edge asks for it everywhere
        (("extra == 'cli'",), "dep==2.0"),  # an extra's marker means nothing at the top level
    ],
)
def test_a_private_dependency_is_pinned_under_the_markers_of_the_edges_to_it(
    tmp_path: Path, markers: tuple[str, ...], expected: str
) -> None:
    """With --require-hashes every package is listed: a dependency that no line names is
    pinned under the markers it was asked for with, joined, so pip installs it exactly
    where the package that needs it does."""
    source = tmp_path / "requirements.txt"
    source.write_text("--require-hashes\nlib @ git+https://h.test/o/lib.git@v1\n")
    parsed = parse_requirement_files([source])
    pin = Pin("lib", "1.0", "0" * 64, "git+https://h.test/o/lib.git@v1", "a" * 40)
    dep = Pin("dep", "2.0", "1" * 64, "git+https://h.test/o/dep.git@v2", "b" * 40, markers)
    text = RequirementsFile().render(
        Pinned(parsed, dict.fromkeys(parsed.git, pin), (dep,)),
        output=tmp_path / "out.txt",
        wheelhouse=tmp_path / "wh",
        sources=[source],
    )
    (line,) = [line for line in text.splitlines() if line.startswith("dep")]
    assert line.split(" --hash")[0] == expected
    assert Requirement(expected)  # and pip's grammar takes it


_PIPS_OWN_RESOLUTION = """
import json
from pip._internal.configuration import Configuration
config = Configuration(isolated=False)
config.load()
items = {}
for key, value in config.items():  # pip 24+: (file, its values), in override order
    items.update(value if isinstance(value, dict) else {key: value})
keys = {key for key in items}
items = {key: config.get_value(key) for key in keys}  # what pip resolves for each
out = {}
for section in ("global", "install", ":env:"):
    for key, value in items.items():
        name, _, option = key.rpartition(".")
        if name == section:
            out[option] = value
print(json.dumps(out))
"""


@pytest.mark.parametrize("case", ["user-and-global", "config-file", "devnull"])
def test_pips_settings_are_read_as_pip_config_list_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    """Read in-process (no ``pip config list`` per run), and the same as pip's answer."""
    import subprocess
    import sys

    from gitdeps._build import environments

    home, xdg_dirs = tmp_path / "home", tmp_path / "xdg"
    (home / ".config" / "pip").mkdir(parents=True)
    (home / ".pip").mkdir()
    (xdg_dirs / "pip").mkdir(parents=True)
    (xdg_dirs / "pip" / "pip.conf").write_text(
        "[global]\nfind-links = /from/global\nindex-url = https://global.test/simple\n"
    )
    (home / ".pip" / "pip.conf").write_text("[global]\nindex-url = https://legacy.test/simple\n")
    (home / ".config" / "pip" / "pip.conf").write_text(
        "[global]\nindex-url = https://user.test/simple\n"
        "[install]\nextra-index-url = https://a.test/simple https://b.test/simple\n"
    )
    for name in list(os.environ):
        if name.startswith("PIP_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(xdg_dirs))
    monkeypatch.setenv("PIP_TRUSTED_HOST", "mirror.test")
    if case == "config-file":
        named = tmp_path / "named.conf"
        named.write_text("[install]\nindex-url = https://named.test/simple\n")
        monkeypatch.setenv("PIP_CONFIG_FILE", str(named))
    elif case == "devnull":
        monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    # What pip's install command takes: its merged configuration, sections in its order
    # (``pip config list`` prints a key once per file that sets it, in no telling order).
    resolved = subprocess.run(
        [sys.executable, "-c", _PIPS_OWN_RESOLUTION], capture_output=True, text=True, check=True
    ).stdout
    keys = environments._PIP_KEYS
    pips = {k: v for k, v in json.loads(resolved).items() if k in keys}
    ours = {k: v for k, v in environments._pip_settings().items() if k in keys}
    assert ours == pips
    assert ours["trusted-host"] == "mirror.test"


@pytest.fixture
def _no_home(monkeypatch: pytest.MonkeyPatch) -> None:
    """A build step run under a uid with no password entry and no $HOME (as CI runners
    and containers started with ``--user 1234`` do): '~' expands to nothing."""
    import pwd

    def no_entry(uid: int) -> pwd.struct_passwd:
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    for name in ("HOME", "NETRC", "GITDEPS_CACHE_DIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(pwd, "getpwuid", no_entry)
    assert os.path.expanduser("~") == "~"  # noqa: PTH111 -- what Path.home() fails on


@pytest.mark.usefixtures("_no_home")
def test_without_a_home_gitdeps_skips_what_lives_there_and_says_where_to_cache(
    tmp_path: Path,
) -> None:
    from gitdeps import GitDepsError
    from gitdeps._build import environments
    from gitdeps._credentials import netrc_file
    from gitdeps._dirs import cache_dir
    from gitdeps._inputs.requirements import parse_requirement_files

    assert not [f for f in environments._pip_config_files() if "~" in str(f)]
    assert netrc_file.provide(parse_git_url("git+https://a.test/r")[0], None) is None
    with pytest.raises(GitDepsError, match="GITDEPS_CACHE_DIR"):
        cache_dir()
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("~/nowhere/pkg\n~=\n")
    with pytest.raises(GitDepsError, match=r"requirements.txt:1: .*no file or folder"):
        parse_requirement_files([requirements])


def test_a_uv_that_cannot_run_falls_back_to_pip_with_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """uv comes with gitdeps; where its binary cannot run, pip installs, and says so once."""
    import subprocess
    import sys

    from gitdeps._build.environments import UvInstaller
    from tests.support.wheels import make_wheel

    wheels = tmp_path / "wheels"
    wheels.mkdir()
    make_wheel(wheels, "tool", "1.0", {"tool.py": "X = 1\n"})
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "env")], check=True
    )
    python = tmp_path / "env" / "bin" / "python"
    (tmp_path / "req.txt").write_text("tool==1.0\n")
    broken = tmp_path / "uv"
    broken.write_bytes(b"\x7fELF not a binary for this machine")
    broken.chmod(0o755)
    installer = UvInstaller(str(broken))
    for _ in range(2):
        installer.install(python, tmp_path / "req.txt", ["--no-index", "--find-links", str(wheels)])
    said = [r.getMessage() for r in caplog.records if "cannot run here" in r.getMessage()]
    assert len(said) == 1 and "installing build environments with pip" in said[0]
    assert subprocess.run([python, "-c", "import tool"], check=False).returncode == 0
