"""The canary matrix: a planted token, every way a run can end, every place it could leak.

Failure points: success, 401, 403, 404, 500, timeout, unreachable host, bad ref,
build failure. The token sits in ``GITDEPS_TOKEN_127_0_0_1`` or in the
requirement URL. Each run is at ``-vv`` (debug logs and tracebacks: a superset
of what lower verbosities print). Searched afterwards: stdout and stderr, every
file and file name under the app (wheelhouse, lock, output requirements), the
cache, the temporary directory gitdeps worked in (checkouts and their
``.git``), and, through a build backend that reads ``/proc``, the command line
of every process running during the build.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.app import files_containing, run_gitdeps
from tests.support.gitserver import GitServer, commit_files, make_repo
from tests.support.index import free_port

pytestmark = pytest.mark.slow

# A build that looks for the token in every process's argv, and prints its own
# environment, as a malicious package would.
SPY = """\
import os, setuptools
token = os.environ.get("CANARY_PROBE", "")
hits = 0
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            hits += PLANT.encode() in f.read()
    except OSError:
        pass
os.makedirs("spy", exist_ok=True)
open("spy/__init__.py", "w").write(f"ARGV_HITS = {hits}\\nENV = {dict(os.environ)!r}\\n")
print("environment seen by the backend:", dict(os.environ))
FAIL
setuptools.setup(name="spy", version="1.0", packages=["spy"])
"""


@dataclass(frozen=True)
class Point:
    line: Callable[[str, int], str]  # (server URL, free port) -> requirement
    exit_code: int
    hook: Callable[[str, str], tuple[int, dict[str, str], bytes] | None] | None = None


def _slow(method: str, path: str) -> tuple[int, dict[str, str], bytes] | None:
    time.sleep(3)
    return None


POINTS = {
    "success": Point(lambda u, p: f"spy @ git+{u}/o/spy.git", 0),
    "401": Point(lambda u, p: f"spy @ git+{u}/o/spy.git", 4),
    "403": Point(lambda u, p: f"spy @ git+{u}/o/spy.git", 4, lambda m, p: (403, {}, b"no")),
    "404": Point(lambda u, p: f"spy @ git+{u}/o/missing.git", 5),
    "500": Point(lambda u, p: f"spy @ git+{u}/o/spy.git", 5, lambda m, p: (500, {}, b"oops")),
    "timeout": Point(lambda u, p: f"spy @ git+{u}/o/spy.git", 5, _slow),
    "unreachable": Point(lambda u, p: f"spy @ git+http://127.0.0.1:{p}/o/spy.git", 5),
    "bad ref": Point(lambda u, p: f"spy @ git+{u}/o/spy.git@no-such-ref", 5),
    "build failure": Point(lambda u, p: f"broken @ git+{u}/o/broken.git", 6),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GitServer, str]]:
    root = tmp_path_factory.mktemp("canary")
    token = "gdcanary-matrix-0123456789abcdef"
    for name, fail in (("spy", ""), ("broken", "raise SystemExit('broken on purpose')")):
        bare = make_repo(root / "srv", f"o/{name}.git")
        setup = SPY.replace("PLANT", repr(token)).replace("FAIL", fail)
        commit_files(bare, {"setup.py": setup}, work=root / f"w-{name}")
    with GitServer(root / "srv", token=token) as git_server:
        yield git_server, token


@pytest.mark.parametrize("placement", ["environment", "url"])
@pytest.mark.parametrize("point", POINTS.values(), ids=POINTS.keys())
def test_the_token_appears_nowhere(
    server: tuple[GitServer, str], tmp_path: Path, point: Point, placement: str, _own_cache: Path
) -> None:
    git_server, real = server
    canary = real if point.exit_code != 4 or point.hook else "gdcanary-wrong-fedcba9876543210"
    line = point.line(git_server.url, free_port())
    env = {"GITDEPS_HTTP_TIMEOUT": "1", "TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()
    if placement == "environment":
        env["GITDEPS_TOKEN_127_0_0_1"] = canary
    else:
        line = line.replace("http://127.0.0.1", f"http://user:{canary}@127.0.0.1")
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text(line + "\n")
    git_server.hook = point.hook
    try:
        ran = run_gitdeps(
            "-vv", "vendor", "-r", "requirements.txt", "-o", "wheelhouse", "--lock", "gitdeps.lock",
            "--no-build-isolation",
            cwd=app, env=env,
        )  # fmt: skip
    finally:
        git_server.hook = None
    assert ran.returncode == point.exit_code, ran.output
    assert canary not in ran.output
    leaks = files_containing(app, canary) + files_containing(_own_cache, canary)
    leaks += files_containing(tmp_path / "tmp", canary)
    allowed = [app / "requirements.txt"] if placement == "url" else []
    assert leaks == allowed
    if point.exit_code == 0:
        import zipfile

        (wheel,) = (app / "wheelhouse").glob("spy-*.whl")
        with zipfile.ZipFile(wheel) as archive:
            spy = archive.read("spy/__init__.py").decode()
        assert "ARGV_HITS = 0" in spy
        assert canary not in spy
