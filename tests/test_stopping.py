"""Every wait ends: a host that dribbles its headers, SIGTERM and Ctrl-C while a worker
waits on one, a second Ctrl-C; and a stopped run keeps nothing half-made in the cache."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitdeps import BuildError, FetchError, RequirementError
from gitdeps._cache.local import Cache
from gitdeps._credentials.store import Credentials
from gitdeps._fetch.git import list_refs
from gitdeps._inputs.giturl import parse_git_url
from tests.support.app import App, Forge
from tests.support.wheels import make_wheel


@dataclasses.dataclass
class Dribbler:
    """A host that answers every request with a status line, then one header byte every
    ``every`` seconds, for ever: no read timeout of a socket ever trips."""

    port: int
    requests: list[bytes]  # the request line of each connection
    hung_up: threading.Event  # a client closed a connection while it dribbled


@contextlib.contextmanager
def dribbler(every: float = 0.1) -> Iterator[Dribbler]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    stop = threading.Event()
    host = Dribbler(listener.getsockname()[1], [], threading.Event())

    def dribble(conn: socket.socket) -> None:
        with conn:
            host.requests.append(conn.recv(65536).split(b"\r\n", 1)[0])
            try:
                conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                while not stop.wait(every):
                    conn.sendall(b"a")
            except OSError:
                host.hung_up.set()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            threading.Thread(target=dribble, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield host
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def test_headers_that_never_end_are_cut_each_try_and_never_retried_as_dumb_http(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITDEPS_HTTP_TIMEOUT", "1")
    with dribbler() as host:
        url = parse_git_url(f"git+http://127.0.0.1:{host.port}/o/r.git")[0]
        failed: list[BaseException] = []

        def ls_remote() -> None:
            try:
                list_refs(url, Credentials(environ={}))
            except BaseException as exc:
                failed.append(exc)

        worker = threading.Thread(target=ls_remote, daemon=True)
        worker.start()
        worker.join(120)  # a guard against a hang, far beyond the three 1 s tries
        assert not worker.is_alive(), "the dribbled headers held the request"
    (error,) = failed
    assert isinstance(error, FetchError) and "timed out" in str(error), error
    # The first try and two more (GITDEPS_HTTP_TIMEOUT each), all of the smart protocol.
    assert len(host.requests) == 3, host.requests
    assert all(b"?service=git-upload-pack" in r for r in host.requests), host.requests


def _vendor(app: Path, *args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "gitdeps", "vendor", "-r", "requirements.txt", "-o", "wh",
         "--output-requirements", "out.txt", "--no-build-isolation", *args],
        cwd=app, env={**os.environ, **env},
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _ended(proc: subprocess.Popen[str]) -> str:
    """The process's standard error, once it has ended (killed after a guard's bound)."""
    try:
        return proc.communicate(timeout=60)[1]
    except subprocess.TimeoutExpired:
        proc.kill()
        return "STILL RUNNING 60 s after the signal\n" + proc.communicate()[1]


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_a_signal_ends_a_run_whose_worker_waits_on_a_dribbling_host(
    tmp_path: Path, sig: signal.Signals
) -> None:
    """With a read timeout of 600 s only the signal can end the wait."""
    with dribbler(every=0.5) as host:
        app = App.make(tmp_path / "app", f"pkg @ git+http://127.0.0.1:{host.port}/o/pkg.git")
        proc = _vendor(app.root, env={"GITDEPS_HTTP_TIMEOUT": "600"})
        for _ in range(1200):
            if host.requests or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert host.requests, "the run never reached the host"
        proc.send_signal(sig)
        stderr = _ended(proc)
        assert host.hung_up.wait(5), "the connection was left open"
    assert proc.returncode == 130, stderr
    assert "interrupted; nothing was written" in stderr and "Traceback" not in stderr
    assert len(host.requests) == 1  # not tried again once stopping


_SLOW_WHEN_ASKED = """\
import os, time
from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    marker = os.environ.get("GITDEPS_TEST_MARKER")
    if marker:
        with open(marker + "-" + os.path.basename(os.getcwd()), "w") as said:
            said.write(str(os.getpid()))
        time.sleep(600)
    return _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)
"""


def _slow_package(forge: Forge, name: str) -> str:
    files = {
        "pyproject.toml": (
            '[build-system]\nrequires = ["setuptools>=70"]\nbuild-backend = "backend"\n'
            f'backend-path = ["_build"]\n[project]\nname = "{name}"\nversion = "1.0"\n'
            f'[tool.setuptools]\npackages = ["{name}"]\n'
        ),
        "_build/backend.py": _SLOW_WHEN_ASKED,
        f"{name}/__init__.py": f"NAME = {name!r}\n",
    }
    forge.push(f"o/{name}.git", files)
    return f"{name} @ {forge.url(f'o/{name}.git')}"


@pytest.mark.slow
def test_a_double_ctrl_c_starts_no_build_and_leaves_nothing_the_cache_trusts(
    forge: Forge, tmp_path: Path, canary: str, _own_cache: Path
) -> None:
    """Two packages, one build at a time: Ctrl-C, Ctrl-C while the first builds. The
    second build never starts, no wheel enters the cache, and the next run is whole."""
    app = App.make(
        tmp_path / "app",
        "\n".join(_slow_package(forge, n) for n in ("slowa", "slowb")),
        {"GITDEPS_TOKEN_127_0_0_1": canary},
    )
    marker = tmp_path / "building"
    proc = _vendor(app.root, "--jobs", "1", env={**app.env, "GITDEPS_TEST_MARKER": str(marker)})
    for _ in range(2400):
        if list(tmp_path.glob("building-*")) or proc.poll() is not None:
            break
        time.sleep(0.05)
    assert len(list(tmp_path.glob("building-*"))) == 1, proc.communicate()[1]
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGINT)
    stderr = _ended(proc)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr
    time.sleep(0.5)  # anything the stopped run had left running would show itself here
    assert len(list(tmp_path.glob("building-*"))) == 1, "a build started after the stop"
    assert not list(_own_cache.rglob("*.whl")), "a wheel of the stopped run was kept"

    again = app.vendor("--no-build-isolation", lock=False)
    assert again.returncode == 0, again.output
    assert [w.split("-")[0] for w in app.wheels()] == ["slowa", "slowb"]


@pytest.mark.slow
def test_a_wrong_wheel_in_the_cache_is_rebuilt_with_one_warning(
    forge: Forge, tmp_path: Path, canary: str, _own_cache: Path
) -> None:
    """A cache entry that is not the requirement's distribution (what an interrupted run
    of an older gitdeps could leave) is healed, never 'correct the name'."""
    from tests.support.projects import project

    commit = forge.push("o/lib.git", project("lib", "1.0"))
    url = parse_git_url(forge.url("o/lib.git"))[0]
    key = Cache.wheel_key(url.repo, commit, "", isolated=False)
    wrong = make_wheel(tmp_path, "UNKNOWN", "0.0.0", {"unknown/__init__.py": ""})
    cache = Cache(_own_cache)
    with cache.locked(key, what="lib"):
        cache.put_wheel(key, wrong)
    app = App.make(
        tmp_path / "app", f"lib @ {forge.url('o/lib.git')}", {"GITDEPS_TOKEN_127_0_0_1": canary}
    )
    ran = app.vendor("--no-build-isolation", lock=False)
    assert ran.returncode == 0, ran.output
    assert ran.stderr.count("which is not its wheel") == 1, ran.stderr
    assert [w.split("-")[0] for w in app.wheels()] == ["lib"]
    again = app.vendor("--no-build-isolation", lock=False)
    assert again.returncode == 0 and "not its wheel" not in again.stderr, again.output
    assert "cached lib-1.0-" in again.stderr


@pytest.mark.slow
def test_a_signal_ends_a_run_waiting_for_the_cache_another_run_holds(
    tmp_path: Path, _own_cache: Path
) -> None:
    """The wait for a lock another run holds ends with the run, although
    GITDEPS_LOCK_TIMEOUT is an hour."""
    from gitdeps._locks import exclusive_within

    _own_cache.mkdir(parents=True, exist_ok=True)
    app = App.make(tmp_path / "app", "publicdep")
    with exclusive_within(_own_cache / "in-use.lock", 5) as held:  # as `cache clean` does
        assert held
        proc = _vendor(app.root, env={"GITDEPS_LOCK_TIMEOUT": "3600"})
        stream = proc.stderr
        assert stream is not None
        first: list[str] = []
        reader = threading.Thread(target=lambda: first.append(stream.readline()), daemon=True)
        reader.start()
        reader.join(120)
        assert first and "waiting for another gitdeps run" in first[0], first
        proc.send_signal(signal.SIGTERM)
        stderr = first[0] + _ended(proc)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr


_FAILS_ONCE_ANOTHER_BUILDS = """\
import glob, os, time


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    marker = os.environ["GITDEPS_TEST_MARKER"]
    for _ in range(2400):  # until the slow package's build is under way
        if glob.glob(marker + "-*"):
            break
        time.sleep(0.05)
    raise RuntimeError("broken on purpose")
"""


@pytest.mark.slow
def test_a_failed_build_stops_the_build_under_way_and_names_itself(
    forge: Forge, tmp_path: Path, canary: str, _own_cache: Path
) -> None:
    """Fail fast: a build fails while another runs for ten minutes. The other is killed
    at once, the run ends with the failed package's own reason and last lines, and no
    wheel of the run is kept."""
    broken = {
        "pyproject.toml": (
            '[build-system]\nrequires = []\nbuild-backend = "backend"\n'
            'backend-path = ["_build"]\n[project]\nname = "broken"\nversion = "1.0"\n'
        ),
        "_build/backend.py": _FAILS_ONCE_ANOTHER_BUILDS,
    }
    forge.push("o/broken.git", broken)
    app = App.make(
        tmp_path / "app",
        f"{_slow_package(forge, 'slowa')}\nbroken @ {forge.url('o/broken.git')}",
        {"GITDEPS_TOKEN_127_0_0_1": canary},
    )
    marker = tmp_path / "building"
    proc = _vendor(app.root, "--jobs", "2", env={**app.env, "GITDEPS_TEST_MARKER": str(marker)})
    stderr = _ended(proc)
    assert proc.returncode == BuildError.exit_code, stderr
    assert "requirements.txt:2: broken" in stderr and "broken on purpose" in stderr, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    assert canary not in stderr
    (started,) = tmp_path.glob("building-*")
    pid = int(started.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the slow build was killed, not left to run on
    assert not app.wheelhouse.exists()
    assert not list(_own_cache.rglob("*.whl"))


@pytest.mark.slow
def test_every_requirement_that_fails_is_named_with_its_reason(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    """Report all: three lines that cannot be resolved (two refs that do not exist, a
    repository that does not) are each named with their file:line and reason, beside a
    line that can; the exit code is one of theirs, and nothing is written."""
    from tests.support.projects import project

    forge.push("o/good.git", project("good", "1.0"), tag="v1")
    forge.push("o/other.git", project("other", "1.0"), tag="v1")
    app = App.make(
        tmp_path / "app",
        "\n".join(
            [
                f"good @ {forge.url('o/good.git', 'v1')}",
                f"good2 @ {forge.url('o/good.git', 'v9-typo')}",
                f"other @ {forge.url('o/other.git', 'no-such-branch')}",
                f"gone @ {forge.url('o/gone.git')}",
            ]
        ),
        {"GITDEPS_TOKEN_127_0_0_1": canary},
    )
    ran = app.vendor("--no-build-isolation", env={"GITHUB_ACTIONS": "true"})
    assert ran.returncode in (RequirementError.exit_code, FetchError.exit_code), ran.output
    for line in (2, 3, 4):  # each its own annotation, on its own line of the file
        assert f"::error file=requirements.txt,line={line}::" in ran.output, ran.output
    errors = [line for line in ran.stderr.splitlines() if line.startswith("error: ")]
    for line, says in ((2, "v9-typo"), (3, "no-such-branch"), (4, "gone")):
        assert any(f"requirements.txt:{line}:" in e and says in e for e in errors), ran.stderr
    assert "requirements.txt:1:" not in ran.stderr
    last = errors[-1]  # the line with good may have been stopped
    assert re.fullmatch(r"error: 3 requirements failed(, and 1 stopped .*)?", last), last
    assert "Traceback" not in ran.stderr and canary not in ran.output
    assert not app.wheelhouse.exists() and not app.lock.exists()
