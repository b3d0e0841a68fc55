"""Bad input: a short message naming the input, a documented exit code, no traceback,
no token, and every output already written left exactly as it was."""

from __future__ import annotations

import hashlib
import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.app import App, Forge, run_gitdeps
from tests.support.gitserver import GitServer, commit_files, make_repo
from tests.support.index import free_port
from tests.support.projects import project

pytestmark = pytest.mark.slow


@dataclass
class Baseline:
    server: GitServer
    token: str
    app: Path  # an app folder already vendored once, successfully

    def copy(self, dest: Path) -> Path:
        shutil.copytree(self.app, dest)
        return dest


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Baseline]:
    root = tmp_path_factory.mktemp("errors")
    token = "gdcanary" + secrets.token_hex(16)
    (root / "srv").mkdir()

    def push(repo: str, files: dict[str, str], **kwargs: object) -> None:
        bare = root / "srv" / repo
        if not bare.exists():
            make_repo(root / "srv", repo)
        commit_files(bare, files, work=root / "w" / repo.replace("/", "_"), **kwargs)  # type: ignore[arg-type]

    with GitServer(root / "srv", token=token) as server:
        push("o/good.git", project("good", "1.0.0"), tag="v1.0.0")
        push("o/docs.git", {"README.md": "only docs here\n"})
        push(
            "o/broken.git",
            {
                "setup.py": "import sys\nprint('compiling the frobnicator')\n"
                "raise SystemExit('frobnicator missing: install libfrob')\n"
            },
        )
        push("o/named.git", project("actual-name", "1.0.0"))
        push("o/other.git", project("good", "2.0.0"), tag="v2.0.0")
        app = root / "app"
        app.mkdir()
        (app / "requirements.txt").write_text(f"good @ git+{server.url}/o/good.git@v1.0.0\n")
        ran = run_gitdeps(
            "vendor", "-r", "requirements.txt", "-o", "wheelhouse", "--lock", "gitdeps.lock",
            "--no-build-isolation",
            cwd=app, env={"GITDEPS_TOKEN_127_0_0_1": token},
        )  # fmt: skip
        assert ran.returncode == 0, ran.output
        yield Baseline(server, token, app)


def _snapshot(app: Path) -> dict[str, str]:
    return {
        str(p.relative_to(app)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(app.rglob("*"))
        if p.is_file() and p.name != "requirements.txt"
    } | {
        "requirements.txt(out)": hashlib.sha256(
            (app / "wheelhouse/requirements.txt").read_bytes()
        ).hexdigest()
    }


@dataclass(frozen=True)
class Case:
    line: Callable[[str], str]  # server URL -> requirements line
    exit_code: int
    expected: tuple[str, ...]
    token: str | None = "good"  # "good", "bad", or None
    hook: tuple[int, bytes] | None = None


CASES = {
    "missing token": Case(
        lambda u: f"good @ git+{u}/o/good.git@v1.0.0", 4,
        ("requirements.txt:1", "127.0.0.1", "asks for credentials", "set GITDEPS_TOKEN_127_0_0_1"),
        token=None,
    ),
    "rejected token": Case(
        lambda u: f"good @ git+{u}/o/good.git@v1.0.0", 4,
        ("requirements.txt:1", "rejected the token from GITDEPS_TOKEN_127_0_0_1 (401)"),
        token="bad",
    ),
    "forbidden": Case(
        lambda u: f"good @ git+{u}/o/good.git@v1.0.0", 4,
        ("requirements.txt:1", "refused access (403)", "GITDEPS_TOKEN_127_0_0_1"),
        hook=(403, b"forbidden"),
    ),
    "server error": Case(
        lambda u: f"good @ git+{u}/o/good.git@v1.0.0", 5,
        ("requirements.txt:1", "HTTP 500"),
        hook=(500, b"oops"),
    ),
    "unknown ref": Case(
        lambda u: f"good @ git+{u}/o/good.git@v1.0.1", 5,
        ("requirements.txt:1", "ref 'v1.0.1' not found", "did you mean v1.0.0"),
    ),
    "unknown repo": Case(
        lambda u: f"good @ git+{u}/o/nothing.git@v1", 5,
        ("requirements.txt:1", "repository not found (404)", "/o/nothing.git"),
    ),
    "unreachable host": Case(
        lambda u: f"good @ git+http://127.0.0.1:{free_port()}/o/good.git@v1", 5,
        ("requirements.txt:1", "cannot reach 127.0.0.1:"),
    ),
    "not a python project": Case(
        lambda u: f"docs @ git+{u}/o/docs.git", 6,
        ("requirements.txt:1", "is not a Python project", "#subdirectory="),
    ),
    "missing subdirectory": Case(
        lambda u: f"good @ git+{u}/o/good.git@v1.0.0#subdirectory=pkg", 6,
        ("requirements.txt:1", "no directory 'pkg'"),
    ),
    "failed build": Case(
        lambda u: f"broken @ git+{u}/o/broken.git", 6,
        ("requirements.txt:1", "build backend failed", "frobnicator missing: install libfrob"),
    ),
    "name mismatch": Case(
        lambda u: f"wanted-name @ git+{u}/o/named.git", 6,
        ("requirements.txt:1", "asks for 'wanted-name'", "builds 'actual-name'"),
    ),
    "malformed line": Case(
        lambda u: "good @@ nonsense", 3, ("requirements.txt:1", "invalid requirement"),
    ),
    "ssh password": Case(
        lambda u: "good @ git+ssh://git:pw@example.com/o/good.git", 3,
        ("requirements.txt:1", "ssh URL takes no password", "ssh-agent"),
    ),
    "unreachable ssh host": Case(
        lambda u: f"good @ git+ssh://git@127.0.0.1:{free_port()}/o/good.git", 5,
        ("requirements.txt:1", "cannot reach 127.0.0.1:", "over ssh"),
    ),
    "same name at two commits": Case(
        lambda u: f"good @ git+{u}/o/good.git@v1.0.0\ngood @ git+{u}/o/other.git@v2.0.0", 1,
        ("two different commits", "requirements.txt:1", "requirements.txt:2"),
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_fails_cleanly_and_leaves_outputs_alone(
    baseline: Baseline, tmp_path: Path, case: Case
) -> None:
    app = baseline.copy(tmp_path / "app")
    before = _snapshot(app)
    (app / "requirements.txt").write_text(case.line(baseline.server.url) + "\n")
    env = {}
    if case.token == "good":
        env["GITDEPS_TOKEN_127_0_0_1"] = baseline.token
    elif case.token == "bad":
        env["GITDEPS_TOKEN_127_0_0_1"] = "gdcanary-wrong-" + baseline.token[::-1]
    if case.hook is not None:
        status, body = case.hook
        baseline.server.hook = lambda method, path: (status, {}, body)
    try:
        ran = run_gitdeps(
            "vendor", "-r", "requirements.txt", "-o", "wheelhouse", "--lock", "gitdeps.lock",
            "--no-build-isolation",
            cwd=app, env=env,
        )  # fmt: skip
    finally:
        baseline.server.hook = None
    assert ran.returncode == case.exit_code, ran.output
    for fragment in case.expected:
        assert fragment in ran.stderr, ran.stderr
    assert "Traceback" not in ran.output
    assert ran.stderr.startswith("error: ") or "\nerror: " in ran.stderr
    assert baseline.token not in ran.output and "gdcanary-wrong" not in ran.output
    assert _snapshot(app) == before
    assert not [p for p in app.rglob("*") if ".gitdeps-staging" in p.name or p.suffix == ".tmp"]


def test_traceback_only_with_vv(baseline: Baseline, tmp_path: Path) -> None:
    app = baseline.copy(tmp_path / "app")
    (app / "requirements.txt").write_text(f"good @ git+{baseline.server.url}/o/good.git@nope\n")
    args = ["vendor", "-r", "requirements.txt", "-o", "wheelhouse", "--no-build-isolation"]
    quiet = run_gitdeps(*args, cwd=app, env={"GITDEPS_TOKEN_127_0_0_1": baseline.token})
    loud = run_gitdeps("-vv", *args, cwd=app, env={"GITDEPS_TOKEN_127_0_0_1": baseline.token})
    assert quiet.returncode == loud.returncode == 5
    assert "Traceback" not in quiet.stderr
    assert "Traceback" in loud.stderr and "ref 'nope' not found" in loud.stderr
    assert baseline.token not in loud.output


def test_missing_requirements_file(tmp_path: Path) -> None:
    ran = run_gitdeps("vendor", "-r", "nope.txt", "-o", "wheelhouse", cwd=tmp_path)
    assert ran.returncode == 3
    assert ran.stderr.strip() == "error: requirements file not found: nope.txt; check the path"
    assert not (tmp_path / "wheelhouse").exists()


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    ran = run_gitdeps("vendor", "-o", "wheelhouse", cwd=tmp_path)
    assert ran.returncode == 2
    assert "-r/--requirement" in ran.stderr
    ran = run_gitdeps("vendor", "-r", "x", "-o", "w", "--locked", "--upgrade", cwd=tmp_path)
    assert ran.returncode == 2 and "not allowed with argument" in ran.stderr


def test_a_backend_that_cannot_be_imported_is_named(baseline: Baseline, tmp_path: Path) -> None:
    root = baseline.server.root
    commit_files(
        make_repo(root, "o/nobackend.git"),
        {
            "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "no_such_backend"\n'
            '[project]\nname = "nb"\nversion = "1"\n'
        },
        work=tmp_path / "w",
    )
    app = baseline.copy(tmp_path / "app")
    (app / "requirements.txt").write_text(f"nb @ git+{baseline.server.url}/o/nobackend.git\n")
    ran = run_gitdeps(
        "vendor", "-r", "requirements.txt", "-o", "wheelhouse",
        cwd=app, env={"GITDEPS_TOKEN_127_0_0_1": baseline.token},
    )  # fmt: skip
    assert ran.returncode == 6, ran.output
    assert "could not be imported (no_such_backend: ModuleNotFoundError" in ran.stderr
    assert "Traceback" not in ran.stderr


def test_no_build_isolation_names_the_missing_build_requirements(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    files = project("needs", "1.0")
    files["pyproject.toml"] = files["pyproject.toml"].replace(
        "requires = [", 'requires = ["gitdeps-absent-backend>=1", ', 1
    )
    forge.push("o/needs.git", files, tag="v1")
    app = App.make(
        tmp_path / "app", f"needs @ {forge.url('o/needs.git', 'v1')}",
        {"GITDEPS_TOKEN_127_0_0_1": canary},
    )  # fmt: skip
    ran = app.vendor("--no-build-isolation")
    assert ran.returncode == 6, ran.output
    (line,) = ran.stderr.strip().splitlines()[-1:]
    assert "--no-build-isolation needs these build requirements installed: " in line
    assert "gitdeps-absent-backend>=1" in line
    assert line.endswith("; install them, or drop --no-build-isolation")
    assert not app.wheelhouse.exists()
