"""Locks between runs: held across processes, every wait bounded and said, lock folders private."""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gitdeps import GitDepsError, InUseError
from gitdeps._locks import exclusive, exclusive_within, shared

_HOLDER = """
import sys
from pathlib import Path
from gitdeps._locks import exclusive, exclusive_within, shared

kind, path = sys.argv[1], Path(sys.argv[2])
if kind == "exclusive":
    held = exclusive(path, what="the test's lock")
elif kind == "shared":
    held = shared(path, what="the test's lock")
else:
    held = exclusive_within(path, 5)
with held:
    print("held", flush=True)
    sys.stdin.readline()
"""


Holder = Callable[[str, Path], "subprocess.Popen[str]"]


@pytest.fixture
def holder() -> Iterator[Holder]:
    """Start another process holding a lock; it lets go when the test ends."""
    started: list[subprocess.Popen[str]] = []

    def hold(kind: str, path: Path) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, kind, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        started.append(proc)
        assert proc.stdout is not None and proc.stdout.readline() == "held\n"
        return proc

    yield hold
    for proc in started:
        if proc.returncode is None:
            proc.communicate("\n", timeout=30)


def test_an_exclusive_lock_held_elsewhere_ends_the_wait_with_an_error_that_says_what(
    holder: Holder, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lock = tmp_path / "entry.lock"
    holder("exclusive", lock)
    caplog.set_level(logging.INFO, logger="gitdeps.progress")
    started = time.monotonic()
    with pytest.raises(InUseError) as caught, exclusive(lock, what="acme in the cache", seconds=2):
        pytest.fail("held a lock another process holds")
    assert 1.5 < time.monotonic() - started < 10
    error = caught.value
    assert isinstance(error, GitDepsError)
    assert error.input == str(lock)
    assert "another gitdeps run held acme in the cache for 2 s" in str(error)
    assert error.hint is not None and "GITDEPS_LOCK_TIMEOUT" in error.hint
    assert "waiting for another gitdeps run to finish with acme in the cache" in caplog.text


def test_the_wait_is_bounded_by_gitdeps_lock_timeout(
    holder: Holder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock = tmp_path / "entry.lock"
    holder("exclusive", lock)
    monkeypatch.setenv("GITDEPS_LOCK_TIMEOUT", "1.5")
    started = time.monotonic()
    with pytest.raises(InUseError), exclusive(lock, what="x"):
        pass
    assert time.monotonic() - started < 10
    monkeypatch.setenv("GITDEPS_LOCK_TIMEOUT", "soon")
    with (
        pytest.raises(GitDepsError, match="GITDEPS_LOCK_TIMEOUT must be a number"),
        exclusive(lock, what="x"),
    ):
        pass


def test_an_exclusive_lock_is_had_once_its_holder_lets_go(holder: Holder, tmp_path: Path) -> None:
    lock = tmp_path / "entry.lock"
    proc = holder("exclusive", lock)
    proc.communicate("\n", timeout=30)
    with exclusive(lock, what="x", seconds=5):
        assert lock.exists()
    # left in place: unlinking it would let a waiter on the old inode and a newcomer on a
    # new one both hold it (filelock 3.20.4 to 3.29.4 did; this fails with those)
    assert lock.exists()


def test_a_second_holder_in_the_same_process_waits_too(tmp_path: Path) -> None:
    """Builds run on a thread pool: two threads of one run must not share an entry."""
    lock = tmp_path / "entry.lock"
    with (
        exclusive(lock, what="x"),
        pytest.raises(InUseError),
        exclusive(lock, what="x", seconds=1.2),
    ):
        pass


def test_runs_share_the_cache_and_clean_waits_for_all_of_them(
    holder: Holder, tmp_path: Path
) -> None:
    in_use = tmp_path / "in-use.lock"
    first = holder("shared", in_use)
    with shared(in_use, what="the cache"), exclusive_within(in_use, 1) as held:
        assert not held  # a second run alongside the first, and clean waits for both
    with exclusive_within(in_use, 1) as held:
        assert not held  # the other process still holds it
    first.communicate("\n", timeout=30)
    with exclusive_within(in_use, 5) as held:
        assert held


def test_a_run_waits_bounded_while_clean_holds_the_cache(
    holder: Holder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_use = tmp_path / "in-use.lock"
    holder("clean", in_use)
    monkeypatch.setenv("GITDEPS_LOCK_TIMEOUT", "1.5")
    with (
        pytest.raises(InUseError, match="held the cache for 2 s"),
        shared(in_use, what="the cache"),
    ):
        pass


@pytest.mark.skipif(os.name != "posix", reason="ownership and modes are POSIX")
@pytest.mark.parametrize("make", ["group-writable", "symlink"])
def test_a_shared_lock_folder_that_is_not_private_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make: str
) -> None:
    from gitdeps._outputs.journal import locked_outputs

    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    folder = temp / f"gitdeps-{os.getuid()}"
    if make == "symlink":
        elsewhere = tmp_path / "theirs"
        elsewhere.mkdir(mode=0o700)
        folder.symlink_to(elsewhere)
    else:
        folder.mkdir()
        folder.chmod(0o777)
    out = tmp_path / "out"
    with pytest.raises(GitDepsError) as caught, locked_outputs(out, []):
        pytest.fail("used a lock folder another user could have made")
    assert caught.value.input == str(folder)
    assert "not a private folder" in str(caught.value) and "TMPDIR" in str(caught.value)


@pytest.mark.parametrize("kind", ["shared", "exclusive", "clean"])
def test_a_lock_file_that_cannot_be_made_is_said_as_what_to_do(tmp_path: Path, kind: str) -> None:
    blocked = tmp_path / "in-use.lock"
    blocked.mkdir()  # a directory where the lock file goes
    held: contextlib.AbstractContextManager[object]
    if kind == "shared":
        held = shared(blocked, what="the cache")
    elif kind == "exclusive":
        held = exclusive(blocked, what="the cache")
    else:
        held = exclusive_within(blocked, 1)
    with pytest.raises(GitDepsError) as caught, held:
        pytest.fail("held a lock on a directory")
    assert caught.value.input == str(blocked)
    assert "cannot take the lock file" in str(caught.value)
    assert caught.value.hint is not None and "--no-cache" in caught.value.hint


def test_a_cache_whose_lock_cannot_be_taken_fails_in_one_line(tmp_path: Path) -> None:
    from tests.support.app import vendor_in

    cache = tmp_path / "cache"
    (cache / "in-use.lock").mkdir(parents=True)
    ran = vendor_in(
        tmp_path / "app",
        "pkg @ git+http://127.0.0.1:9/o/pkg.git",
        env={"GITDEPS_CACHE_DIR": str(cache)},
    )
    assert ran.returncode == 1, ran.output
    (line,) = ran.stderr.strip().splitlines()
    assert line.startswith(f"error: {cache / 'in-use.lock'}: cannot take the lock file")
