"""Every wait on a host is bounded: connect and read timeouts, a deadline per listing
or fetch, retries with backoff for 429/5xx, and a Retry-After that cannot stall a run."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitdeps import FetchError
from gitdeps._credentials.store import Credentials
from gitdeps._fetch.git import list_refs
from gitdeps._inputs.giturl import parse_git_url
from tests.support.app import Forge, vendor_in
from tests.support.projects import project
from tests.support.rawhost import ADVERTISEMENT_HEAD, raw_host


def _refs(url: str) -> int:
    return len(list_refs(parse_git_url(url)[0], Credentials(environ={})).refs)


@pytest.fixture
def public(forge: Forge) -> Forge:
    forge.server.token = None  # a public host: these tests are about waiting, not auth
    forge.push("o/lib.git", project("lib", "1.0"))
    return forge


def test_a_long_retry_after_is_cut_short_and_the_request_retried(
    public: Forge, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    def busy_twice(method: str, path: str) -> tuple[int, dict[str, str], bytes] | None:
        seen.append(path)
        return (503, {"Retry-After": "21600"}, b"busy") if len(seen) <= 2 else None

    public.server.hook = busy_twice
    monkeypatch.setenv("GITDEPS_RETRY_AFTER_MAX", "1")
    started = time.monotonic()
    assert _refs(public.url("o/lib.git")) >= 1
    assert time.monotonic() - started < 15  # not six hours
    assert seen[0] == seen[1] == seen[2]  # the same request, three times


def test_retries_end_and_name_the_status(public: Forge, monkeypatch: pytest.MonkeyPatch) -> None:
    answered: list[str] = []

    def always_busy(method: str, path: str) -> tuple[int, dict[str, str], bytes]:
        answered.append(path)
        return (502, {}, b"bad gateway")

    public.server.hook = always_busy
    with pytest.raises(FetchError, match="answered HTTP 502"):
        _refs(public.url("o/lib.git"))
    assert len(answered) == 4  # the first try and three retries


@pytest.fixture
def trickle() -> Iterator[int]:
    """A host that answers one byte at a time, forever: no read timeout ever trips."""

    def drip(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(ADVERTISEMENT_HEAD + b"00ff")  # a 251-byte packet line, byte by byte
        while not stop.wait(0.2):
            conn.sendall(b"a")

    with raw_host(drip) as port:
        yield port


def test_a_trickling_host_is_stopped_at_the_deadline(
    trickle: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITDEPS_FETCH_DEADLINE", "3")
    started = time.monotonic()
    with pytest.raises(FetchError, match="took longer than 3 s, so it was stopped"):
        _refs(f"git+http://127.0.0.1:{trickle}/o/lib.git")
    assert time.monotonic() - started < 15


@pytest.fixture
def silent() -> Iterator[int]:
    """A host that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    yield listener.getsockname()[1]
    listener.close()


def test_timeout_bounds_a_silent_host(silent: int, tmp_path: Path) -> None:
    started = time.monotonic()
    app = tmp_path / "app"
    app.mkdir()
    from tests.support.app import run_gitdeps

    (app / "requirements.txt").write_text(f"pkg @ git+http://127.0.0.1:{silent}/o/pkg.git\n")
    ran = run_gitdeps(
        "vendor", "-r", "requirements.txt", "-o", "wh", "--timeout", "1", cwd=app, timeout=120
    )
    assert ran.returncode == 5, ran.output
    assert time.monotonic() - started < 60  # four tries of one second, with backoff
    assert "Traceback" not in ran.output


@pytest.mark.parametrize(
    "variable",
    [
        "GITDEPS_HTTP_TIMEOUT",
        "GITDEPS_CONNECT_TIMEOUT",
        "GITDEPS_FETCH_DEADLINE",
        "GITDEPS_RETRY_AFTER_MAX",
        "GITDEPS_LOCK_TIMEOUT",
    ],
)
def test_an_invalid_limit_is_refused_before_any_work(tmp_path: Path, variable: str) -> None:
    ran = vendor_in(
        tmp_path / "app", "pkg @ git+http://127.0.0.1:9/o/pkg.git", env={variable: "ten"}
    )
    assert ran.returncode == 1
    assert f"{variable} must be a number of seconds above 0, not 'ten'" in ran.stderr
