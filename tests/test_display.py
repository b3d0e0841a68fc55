"""What a person sees: a live display in a terminal (read from a real pseudo-terminal),
short plain lines in a log, and JSON for scripts."""

from __future__ import annotations

import json
import os
import re
import select
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.app import Forge, run_gitdeps

pytestmark = pytest.mark.slow

_CONTROL = re.compile(r"\x1b\[|\r")
_CURSOR = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _acme_app(forge: Forge, tmp_path: Path) -> Path:
    """An app folder whose requirements.txt names acme-utils (which needs acme-core)."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text(forge.push_acme() + "\n")
    return app


def _vendor_on_a_terminal(app: Path, canary: str) -> str:
    """A vendor run of ``app`` on a terminal, that succeeded; what it drew, as text."""
    code, screen = _on_a_terminal(
        ["vendor", "-r", "requirements.txt", "-o", "wh", "--no-build-isolation"],
        app,
        {"GITDEPS_TOKEN_127_0_0_1": canary},
    )
    assert code == 0, screen
    assert canary not in screen
    return _CURSOR.sub("", screen)


def _on_a_terminal(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    """Run gitdeps with stdin, stdout and stderr on a pseudo-terminal of 120x40; all it
    drew, and its exit code."""
    import fcntl
    import termios

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitdeps", *args],
        stdin=slave, stdout=slave, stderr=slave, cwd=cwd,
        env={**os.environ, "TERM": "xterm-256color", **env},
    )  # fmt: skip
    os.close(slave)
    drawn = bytearray()
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 300)  # a bound, not a timing
            if not ready:
                proc.kill()
                raise AssertionError("gitdeps drew nothing for 300 s")
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other side is closed
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(master)
    return proc.wait(timeout=60), drawn.decode("utf-8", "replace")


def test_a_terminal_sees_each_package_live_and_a_summary_table(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    app = _acme_app(forge, tmp_path)
    plain = _vendor_on_a_terminal(app, canary)
    assert "2/2 packages" in plain  # the bar, drawn once more as the run ends
    assert re.search(r"acme-(utils|core)\s+(fetching|environment|building)", plain), plain
    assert re.search(r"package\s+version\s+source\s+seconds", plain), plain
    assert re.search(r"acme-core\s+0\.3\.0\+g[0-9a-f]{12}\s+built\s+\d+\.\d", plain), plain

    # A second run: every wheel from the cache, said so in the table.
    plain = _vendor_on_a_terminal(app, canary)
    assert re.search(r"acme-utils\s+1\.2\.0\+g[0-9a-f]{12}\s+cache\s", plain), plain


def test_a_log_gets_at_most_two_plain_lines_per_package(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    app = _acme_app(forge, tmp_path)
    env = {"GITDEPS_TOKEN_127_0_0_1": canary, "FORCE_COLOR": "", "NO_COLOR": ""}
    ran = run_gitdeps(
        "vendor", "-r", "requirements.txt", "-o", "wh", "--no-build-isolation", cwd=app, env=env
    )
    assert ran.returncode == 0, ran.output
    assert not _CONTROL.search(ran.output), ran.output
    per_package = [row for row in ran.stderr.splitlines() if row.startswith("  acme-")]
    assert len(per_package) <= 4, ran.stderr  # two packages
    assert len(ran.stderr.splitlines()) <= 4 + 2, ran.stderr

    verbose = run_gitdeps(
        "-v", "vendor", "-r", "requirements.txt", "-o", "wh", "--no-build-isolation",
        cwd=app, env=env,
    )  # fmt: skip
    assert verbose.returncode == 0, verbose.output
    stamped = [row for row in verbose.stderr.splitlines() if row.strip()]
    assert stamped and all(re.match(r"^\s*\d+\.\d{2}s ", row) for row in stamped), stamped


def test_vendor_json_is_one_document_and_errors_are_json_too(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    app = _acme_app(forge, tmp_path)
    env = {"GITDEPS_TOKEN_127_0_0_1": canary}
    ran = run_gitdeps(
        "vendor", "-r", "requirements.txt", "-o", "wh", "--no-build-isolation", "--lock",
        "gitdeps.lock", "--json", cwd=app, env=env,
    )  # fmt: skip
    assert ran.returncode == 0, ran.output
    document = json.loads(ran.stdout)
    assert document["ok"] is True and document["command"] == "vendor"
    names = sorted(p["name"] for p in document["packages"])
    assert names == ["acme-core", "acme-utils"]
    (core,) = [p for p in document["packages"] if p["name"] == "acme-core"]
    assert core["source"] == "built" and len(core["sha256"]) == 64 and len(core["commit"]) == 40
    assert (app / "wh" / core["wheel"]).is_file()
    assert canary not in ran.output

    (app / "bad.txt").write_text("acme @ git+https://h.test/r.git#egg=acme[x]\n")
    failed = run_gitdeps("vendor", "-r", "bad.txt", "-o", "wh", "--json", cwd=app, env=env)
    assert failed.returncode == 3
    error = json.loads(failed.stdout)
    assert error["ok"] is False and error["exit_code"] == 3
    assert error["errors"][0]["input"] == "bad.txt:1"
    assert "is not a project name" in error["errors"][0]["message"]


def test_github_gets_a_job_summary_of_what_was_vendored_and_of_what_failed(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    app = _acme_app(forge, tmp_path)
    summary = tmp_path / "summary.md"
    env = {
        "GITDEPS_TOKEN_127_0_0_1": canary,
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    ran = run_gitdeps(
        "vendor", "-r", "requirements.txt", "-o", "wh", "--no-build-isolation", cwd=app, env=env
    )
    assert ran.returncode == 0, ran.output
    text = summary.read_text()
    assert text.startswith("### gitdeps vendored 2 packages")
    assert re.search(r"^\| acme-core \| 0\.3\.0\+g[0-9a-f]{12} \| built \| git\+http", text, re.M)

    (app / "bad.txt").write_text(f"acme @ git+http://x:{canary}@127.0.0.1:9/o/a.git#egg=a[x]\n")
    failed = run_gitdeps("vendor", "-r", "bad.txt", "-o", "wh", cwd=app, env=env)
    assert failed.returncode == 3
    text = summary.read_text()
    assert "### gitdeps vendor failed (exit 3)" in text and "| bad.txt:1 |" in text
    assert canary not in text + ran.output + failed.output


def test_auth_check_and_cache_info_speak_json(forge: Forge, tmp_path: Path, canary: str) -> None:
    app = _acme_app(forge, tmp_path)
    checked = run_gitdeps(
        "auth", "check", "--json", cwd=app, env={"GITDEPS_TOKEN_127_0_0_1": canary}
    )
    assert checked.returncode == 0, checked.output
    document = json.loads(checked.stdout)
    assert document["command"] == "auth check" and document["ok"] is True
    (host,) = document["hosts"]
    assert host["accepted"] is True and host["source"] and host["host"].startswith("127.0.0.1")
    refused = run_gitdeps(
        "auth", "check", "--json", cwd=app, env={"GITDEPS_TOKEN_127_0_0_1": "wrong-" + canary}
    )
    assert refused.returncode == 4 and json.loads(refused.stdout)["ok"] is False
    assert canary not in checked.output + refused.output

    info = run_gitdeps("cache", "info", "--json", cwd=app)
    assert info.returncode == 0, info.output
    stats = json.loads(info.stdout)
    assert stats["command"] == "cache info" and stats["wheels"] == 0 and "root" in stats
