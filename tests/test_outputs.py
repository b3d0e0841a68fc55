"""The outputs switch together; what a killed run left is finished or cleared by the
next; Ctrl-C and SIGTERM stop a run promptly and say truly what was written."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gitdeps._outputs.journal import JOURNAL, Plan, locked_outputs, publish, staged_path
from tests.support.app import Forge, vendor_in


def _killed_mid_switch(app: Path) -> None:
    """The state a run leaves when it is killed after its first rename: a journal, a
    staged wheel and staged requirements not yet moved, a stale wheel not yet removed."""
    wh = app / "wh"
    wh.mkdir(parents=True)
    (wh / "old-1.0-py3-none-any.whl").write_bytes(b"old wheel")
    (wh / "moved-2.0-py3-none-any.whl").write_bytes(b"already moved")
    staging = app / ".gitdeps-staging-abc123"
    staging.mkdir()
    (staging / "new-2.0-py3-none-any.whl").write_bytes(b"new wheel")
    (app / "out.txt").write_text("old requirements\n")
    staged_path(app / "out.txt").write_text("new requirements\n")
    plan = {
        "moves": [
            [
                str(app / ".gitdeps-staging-abc123" / "moved-2.0-py3-none-any.whl"),
                str(wh / "moved-2.0-py3-none-any.whl"),
            ],
            [str(staging / "new-2.0-py3-none-any.whl"), str(wh / "new-2.0-py3-none-any.whl")],
            [str(staged_path(app / "out.txt")), str(app / "out.txt")],
        ],
        "removals": [str(wh / "old-1.0-py3-none-any.whl")],
    }
    (app / JOURNAL).write_text(json.dumps(plan))
    (app / ".out.txt.x1y2.tmp").write_text("half")  # a temporary file of a dead write


def test_the_next_run_finishes_a_switch_that_was_killed(tmp_path: Path) -> None:
    app = tmp_path / "app"
    _killed_mid_switch(app)
    with locked_outputs(app, [app / "out.txt"]):
        pass
    wh = app / "wh"
    assert (app / "out.txt").read_text() == "new requirements\n"
    assert (wh / "new-2.0-py3-none-any.whl").read_bytes() == b"new wheel"
    assert (wh / "moved-2.0-py3-none-any.whl").read_bytes() == b"already moved"
    assert not (wh / "old-1.0-py3-none-any.whl").exists()
    leftovers = [
        p.name
        for p in app.iterdir()
        if p.name.startswith(".") and p.name != ".gitdeps-outputs.lock"
    ]
    assert leftovers == []


def test_a_journal_never_moves_what_gitdeps_did_not_stage(tmp_path: Path) -> None:
    precious = tmp_path / "precious.txt"
    precious.write_text("mine\n")
    plan = {
        "moves": [[str(precious), str(tmp_path / "elsewhere.txt")]],
        "removals": [str(precious)],
    }
    (tmp_path / JOURNAL).write_text(json.dumps(plan))
    with locked_outputs(tmp_path, []):
        pass
    assert precious.read_text() == "mine\n"  # neither moved nor removed: no gitdeps file


def test_publish_switches_everything_and_leaves_no_journal(tmp_path: Path) -> None:
    final = tmp_path / "out.txt"
    final.write_text("old\n")
    staged_path(final).write_text("new\n")
    publish(tmp_path, Plan(((staged_path(final), final),)))
    assert final.read_text() == "new\n" and not (tmp_path / JOURNAL).exists()


def test_a_real_run_completes_what_a_killed_one_left(tmp_path: Path) -> None:
    app = tmp_path / "app"
    _killed_mid_switch(app)
    ran = vendor_in(app, "publicdep")
    assert ran.returncode == 0, ran.output
    assert "a run was stopped while switching the outputs; completing it" in ran.stderr
    assert not list(app.glob(".gitdeps-staging-*")) and not (app / JOURNAL).exists()


_SLOW = """\
import os, time
from setuptools.build_meta import *  # noqa: F403


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    open(os.environ["GITDEPS_TEST_MARKER"], "w").close()
    time.sleep(600)
"""


def _start_a_long_build(forge: Forge, app: Path, canary: str, *flags: str) -> subprocess.Popen[str]:
    """`gitdeps vendor` in ``app`` of a package whose build never ends; returned once
    the backend is running."""
    forge.push(
        "o/slow.git",
        {
            "pyproject.toml": (
                '[build-system]\nrequires = ["setuptools>=70"]\nbuild-backend = "backend"\n'
                'backend-path = ["_build"]\n[project]\nname = "slow"\nversion = "1.0"\n'
            ),
            "_build/backend.py": _SLOW,
        },
    )
    (app / "requirements.txt").write_text(f"slow @ {forge.url('o/slow.git')}\n")
    marker = app.parent / "building"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitdeps", *flags, "vendor", "-r", "requirements.txt", "-o", "wh",
         "--output-requirements", "out.txt"],
        cwd=app,
        env={**os.environ, "GITDEPS_TOKEN_127_0_0_1": canary, "GITDEPS_TEST_MARKER": str(marker)},
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    if not marker.exists():
        proc.kill()
        raise AssertionError("the build never started: " + proc.communicate()[1])
    return proc


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_a_signal_during_a_build_stops_it_promptly_and_writes_nothing(
    forge: Forge, tmp_path: Path, canary: str, sig: signal.Signals
) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "out.txt").write_text("the previous requirements\n")
    proc = _start_a_long_build(forge, app, canary, "-v")
    try:
        sent = time.monotonic()
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=60)
        assert time.monotonic() - sent < 30
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, stderr
    assert "interrupted; nothing was written" in stderr and "Traceback" not in stderr
    assert (app / "out.txt").read_text() == "the previous requirements\n"
    assert not list(app.glob(".gitdeps-staging-*")) and not (app / "wh").exists()
    assert _processes_under(tmp_path) == [], "the build backend outlived gitdeps"


def _processes_under(folder: Path) -> list[str]:
    """Command lines of running processes that mention ``folder`` (a test's own)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(folder) in command:
            found.append(command[:200])
    return found


@pytest.mark.slow
def test_cache_clean_waits_for_a_run_and_never_pulls_files_from_under_it(
    forge: Forge, tmp_path: Path, canary: str, _own_cache: Path
) -> None:
    """`gitdeps cache clean` during a run: it waits (bounded), then says why it did not."""
    from tests.support.app import run_gitdeps

    app = tmp_path / "app"
    app.mkdir()
    proc = _start_a_long_build(forge, app, canary)
    try:
        environments = list((_own_cache / "envs-v1").iterdir())
        assert environments  # the build environment the running build uses
        cleaned = run_gitdeps("cache", "clean", "--wait", "1", cwd=tmp_path)
        assert cleaned.returncode == 1, cleaned.output
        assert "is in use by a gitdeps run" in cleaned.stderr
        assert list((_own_cache / "envs-v1").iterdir()) == environments
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    cleaned = run_gitdeps("cache", "clean", "--wait", "5", cwd=tmp_path)
    assert cleaned.returncode == 0, cleaned.output
    assert not (_own_cache / "envs-v1").exists()
