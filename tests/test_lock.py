"""The lock: plain runs reuse it, --upgrade refreshes it, --locked obeys it and never writes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitdeps._outputs.lock import read_lock
from tests.support.app import App, Forge
from tests.support.cli import Ran
from tests.support.projects import project

pytestmark = pytest.mark.slow


def _vendor(app: App, *extra: str) -> Ran:
    return app.vendor("--no-build-isolation", *extra)


def _app(tmp_path: Path, canary: str, requirements: str) -> App:
    return App.make(tmp_path / "app", requirements, {"GITDEPS_TOKEN_127_0_0_1": canary})


def _locked_commits(app: App) -> dict[str, str]:
    lock = read_lock(app.lock)
    assert lock is not None
    return {p.name: p.commit for p in lock.packages}


def test_plain_reuses_upgrade_moves_locked_obeys(forge: Forge, tmp_path: Path, canary: str) -> None:
    base = forge.server.url
    dep_first = forge.push("o/dep.git", project("dep", "1.0.0", value="dep first"))
    first = forge.push(
        "o/app-lib.git",
        project(
            "app-lib", "1.0.0", dependencies=[f"dep @ git+{base}/o/dep.git@main"], value="first"
        ),
    )
    app = _app(tmp_path, canary, f"app-lib @ git+{base}/o/app-lib.git@main\n")
    ran = _vendor(app)
    assert ran.returncode == 0, ran.output
    assert _locked_commits(app) == {"app-lib": first, "dep": dep_first}
    first_wheels = app.wheels()

    # The branches move on.
    second = forge.push(
        "o/app-lib.git",
        project(
            "app-lib", "1.0.0", dependencies=[f"dep @ git+{base}/o/dep.git@main"], value="second"
        ),
    )
    dep_second = forge.push("o/dep.git", project("dep", "1.0.0", value="dep second"))

    ran = _vendor(app)
    assert ran.returncode == 0, ran.output
    assert _locked_commits(app) == {"app-lib": first, "dep": dep_first}
    assert app.wheels() == first_wheels

    ran = _vendor(app, "--upgrade")
    assert ran.returncode == 0, ran.output
    assert _locked_commits(app) == {"app-lib": second, "dep": dep_second}
    wheels = app.wheels()
    assert len(wheels) == 2 and not set(wheels) & set(first_wheels)  # old ones removed

    lock_bytes = app.lock.read_bytes()
    (app.wheelhouse / wheels[0]).unlink()
    ran = _vendor(app, "--locked")
    assert ran.returncode == 0, ran.output
    assert app.lock.read_bytes() == lock_bytes
    assert app.wheels() == wheels


def test_locked_fails_on_an_uncovered_requirement_and_writes_nothing(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    forge.push("o/one.git", project("one", "1.0.0"), tag="v1")
    forge.push("o/two.git", project("two", "1.0.0"), tag="v1")
    app = _app(tmp_path, canary, f"one @ {forge.url('o/one.git', 'v1')}\n")
    assert _vendor(app).returncode == 0
    before = {
        p: p.read_bytes()
        for p in app.root.rglob("*")
        if p.is_file() and p.name != "requirements.txt"
    }
    app.require(f"one @ {forge.url('o/one.git', 'v1')}\ntwo @ {forge.url('o/two.git', 'v1')}\n")
    ran = _vendor(app, "--locked")
    assert ran.returncode == 7
    assert "requirements.txt:2: two:" in ran.stderr and "is not in the lock" in ran.stderr
    assert "run without --locked" in ran.stderr
    after = {
        p: p.read_bytes()
        for p in app.root.rglob("*")
        if p.is_file() and p.name != "requirements.txt"
    }
    assert after == before


def test_locked_without_a_lock_and_a_corrupt_lock(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    forge.push("o/one.git", project("one", "1.0.0"), tag="v1")
    app = _app(tmp_path, canary, f"one @ {forge.url('o/one.git', 'v1')}\n")
    ran = _vendor(app, "--locked")
    assert ran.returncode == 7 and "does not exist; run without --locked first" in ran.stderr
    app.lock.write_text("version = 1\n[[package]]\nname = 3\n")
    ran = _vendor(app)
    assert (
        ran.returncode == 7 and "gitdeps.lock" in ran.stderr and "re-create the lock" in ran.stderr
    )
    app.lock.write_text("version = 99\n")
    ran = _vendor(app)
    assert ran.returncode == 7 and "format version 99" in ran.stderr
    assert app.lock.read_text() == "version = 99\n"


def test_moved_tag_is_reported_and_upgrade_package_takes_one(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    one_v1 = forge.push("o/one.git", project("one", "1.0.0", value="one v1"), tag="v1")
    two_v1 = forge.push("o/two.git", project("two", "1.0.0", value="two v1"), tag="v1")
    app = _app(
        tmp_path,
        canary,
        f"one @ {forge.url('o/one.git', 'v1')}\ntwo @ {forge.url('o/two.git', 'v1')}\n",
    )
    assert _vendor(app).returncode == 0
    # Someone force-pushes both tags.
    one_moved = forge.push("o/one.git", project("one", "1.0.0", value="one moved"), tag="v1")
    two_moved = forge.push("o/two.git", project("two", "1.0.0", value="two moved"), tag="v1")

    checked = app.run("check", "-r", "requirements.txt")
    assert checked.returncode == 8, checked.output
    assert f"one: tag v1 has moved: locked {one_v1[:12]}, now {one_moved[:12]}" in checked.stdout
    assert f"two: tag v1 has moved: locked {two_v1[:12]}, now {two_moved[:12]}" in checked.stdout
    for extra in ((), ("--locked",)):  # the lock holds: both keep the locked commits
        ran = _vendor(app, *extra)
        assert ran.returncode == 0, ran.output
        assert _locked_commits(app) == {"one": one_v1, "two": two_v1}

    ran = _vendor(app, "--upgrade-package", "ONE")
    assert ran.returncode == 0, ran.output
    assert _locked_commits(app) == {"one": one_moved, "two": two_v1}


def test_locked_rebuild_that_differs_stops_the_run(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    setup = (
        "import time, setuptools\n"
        "open('stamp.py', 'w').write(f'BUILT = {time.time_ns()}\\n')\n"
        "setuptools.setup(name='stamp', version='1.0', py_modules=['stamp'])\n"
    )
    forge.push("o/stamp.git", {"setup.py": setup}, tag="v1")
    app = _app(tmp_path, canary, f"stamp @ {forge.url('o/stamp.git', 'v1')}\n")
    assert _vendor(app).returncode == 0
    lock_bytes = app.lock.read_bytes()
    wheels = sorted(p.name for p in app.wheelhouse.iterdir())
    ran = _vendor(app, "--locked", "--no-cache")
    assert ran.returncode == 7, ran.output
    assert "does not match the lock" in ran.stderr and "not reproducible" in ran.stderr
    assert app.lock.read_bytes() == lock_bytes
    assert sorted(p.name for p in app.wheelhouse.iterdir()) == wheels


def test_a_poisoned_cache_entry_is_rebuilt_under_locked(
    forge: Forge, tmp_path: Path, canary: str, _own_cache: Path
) -> None:
    """A cached wheel replaced together with its recorded hash: the lock's sha256 is
    the truth, so the wheel is built again from the commit and the entry replaced."""
    import hashlib
    import zipfile

    forge.push("o/good.git", project("good", "1.0"), tag="v1")
    app = _app(tmp_path, canary, f"good @ {forge.url('o/good.git', 'v1')}\n")
    assert _vendor(app).returncode == 0
    locked = app.lock.read_text()
    (cached,) = _own_cache.glob("wheels-v1/*/*/*.whl")
    with zipfile.ZipFile(cached, "a") as archive:
        archive.writestr("good/evil.py", "print('owned')\n")
    (cached.parent / "sha256").write_text(hashlib.sha256(cached.read_bytes()).hexdigest() + "\n")

    ran = _vendor(app, "--locked")
    assert ran.returncode == 0, ran.output
    assert "the cached wheel does not match the lock's sha256; building it again" in ran.stderr
    (shipped,) = app.wheelhouse.glob("good-*.whl")
    assert f'sha256 = "{hashlib.sha256(shipped.read_bytes()).hexdigest()}"' in locked
    with zipfile.ZipFile(shipped) as archive:
        assert "good/evil.py" not in archive.namelist()
    with zipfile.ZipFile(next(_own_cache.glob("wheels-v1/*/*/*.whl"))) as archive:
        assert "good/evil.py" not in archive.namelist()  # the entry was replaced
