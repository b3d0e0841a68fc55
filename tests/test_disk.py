"""Output folders as they are on real machines: a wheelhouse that is a file system of its
own (a container volume, another disk), and one that fills up mid-run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.app import Forge
from tests.support.projects import project

pytestmark = pytest.mark.slow


def _in_small_fs(
    app: Path, size: str, env: dict[str, str], *args: str, at: str = "wh"
) -> tuple[int, str, str]:
    """``gitdeps *args`` in ``app`` with ``app/<at>`` a new tmpfs (mount options ``size``), in a
    mount namespace of its own (nothing stays mounted); returns the exit status, standard
    error, and what the tmpfs held afterwards."""
    script = (
        'mount -t tmpfs -o "$1" tmpfs "$2" || exit 99; d="$2"; shift 2; "$@"; c=$?; '
        'echo "#wh"; ls -A "$d"; exit $c'
    )
    unshare = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-Urm"]
    command = [*unshare, "sh", "-c", script, "sh", size, at, sys.executable, "-m", "gitdeps", *args]
    proc = subprocess.run(command, cwd=app, env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=300, check=False)  # fmt: skip
    if proc.returncode == 99 or "unshare failed" in proc.stderr:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
        pytest.skip("no mount namespace here (unshare/mount not permitted)")
    return proc.returncode, proc.stderr, proc.stdout.rpartition("#wh\n")[2]


def _app(forge: Forge, tmp_path: Path, kilobytes: int) -> Path:
    files: dict[str, str | bytes] = {**project("pkg", "1.0", backend="flit_core")}
    files["pkg/data.bin"] = os.urandom(kilobytes << 10)
    forge.push("o/pkg.git", files, tag="v1")
    app = tmp_path / "app"
    (app / "wh").mkdir(parents=True)
    (app / "requirements.txt").write_text(f"pkg @ {forge.url('o/pkg.git', 'v1')}\n")
    return app


VENDOR = ("vendor", "-r", "requirements.txt", "-o", "wh", "--output-requirements", "out.txt",
          "--lock", "gitdeps.lock")  # fmt: skip


def test_a_wheelhouse_on_a_file_system_of_its_own(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    """Wheels are staged inside the wheelhouse, so they move in with a rename even when it
    is a mount point (staged beside it, the rename failed: 'Invalid cross-device link')."""
    app = _app(forge, tmp_path, 100)
    env = {"GITDEPS_TOKEN_127_0_0_1": canary}
    code, stderr, listing = _in_small_fs(app, "size=20m", env, *VENDOR)
    assert code == 0, stderr
    [wheel] = listing.split()  # one wheel, no staging folder left
    assert wheel.startswith("pkg-1.0+g") and wheel.endswith(".whl")
    assert "pkg==1.0+g" in (app / "out.txt").read_text()
    assert not list(app.glob(".*gitdeps*"))  # no journal, no staged files beside


def test_a_full_disk_is_one_line_and_leaves_the_old_outputs(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    app = _app(forge, tmp_path, 600)
    (app / "out.txt").write_text("# the outputs of an earlier run\n")
    env = {"GITDEPS_TOKEN_127_0_0_1": canary}
    code, stderr, listing = _in_small_fs(app, "size=200k", env, *VENDOR)
    assert code != 0
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "No space left on device" in errors[0], stderr
    assert "Traceback" not in stderr and canary not in stderr
    assert (app / "out.txt").read_text() == "# the outputs of an earlier run\n"
    assert not (app / "gitdeps.lock").exists()
    assert listing.split() == []  # no half-written wheel, no staging folder
    assert not list(app.glob(".*gitdeps*"))


def test_a_read_only_wheelhouse_is_refused_before_any_fetch(tmp_path: Path) -> None:
    """Read-only as a file system is (root ignores permission bits; EROFS it cannot)."""
    app = tmp_path / "app"
    (app / "wh").mkdir(parents=True)
    (app / "requirements.txt").write_text("pkg @ git+http://127.0.0.1:9/o/pkg.git\n")
    code, stderr, listing = _in_small_fs(app, "size=1m,ro", {}, "vendor", "-r",
                                         "requirements.txt", "-o", "wh")  # fmt: skip
    assert code == 1, stderr
    assert "error: cannot write into wh" in stderr and "127.0.0.1:9" not in stderr
    assert "Traceback" not in stderr and listing.split() == []


@pytest.mark.parametrize("isolated", [False, True], ids=["no-isolation", "isolated"])
def test_a_full_cache_disk_is_a_warning_or_one_line_never_an_internal_error(
    forge: Forge, tmp_path: Path, canary: str, isolated: bool
) -> None:
    """The cache on a disk too small for the wheel: it is vendored without being cached,
    with one warning that says what to do."""
    app = _app(forge, tmp_path, 600)
    (app / "cache").mkdir()
    env = {"GITDEPS_TOKEN_127_0_0_1": canary, "GITDEPS_CACHE_DIR": str(app / "cache")}
    flags = () if isolated else ("--no-build-isolation",)
    code, stderr, _ = _in_small_fs(app, "size=300k", env, *VENDOR, *flags, at="cache")
    assert "internal error" not in stderr and "Traceback" not in stderr, stderr
    assert code == 0, stderr
    assert stderr.count("going on without caching it") == 1, stderr
    assert [w.split("-")[0] for w in os.listdir(app / "wh")] == ["pkg"]
    assert canary not in stderr


def test_a_read_only_cache_is_one_line(forge: Forge, tmp_path: Path, canary: str) -> None:
    app = _app(forge, tmp_path, 10)
    (app / "cache").mkdir()
    env = {"GITDEPS_TOKEN_127_0_0_1": canary, "GITDEPS_CACHE_DIR": str(app / "cache")}
    code, stderr, _ = _in_small_fs(
        app, "size=1m,ro", env, *VENDOR, "--no-build-isolation", at="cache"
    )
    assert "internal error" not in stderr and "Traceback" not in stderr, stderr
    (error,) = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert code == 1 and "Read-only file system" in error and "--no-cache" in error
