"""What a security team asks of a deploy: pylock.toml, hashes, and `gitdeps verify`.

Each file is read by the real consumer: pip and uv install the pylock with the git
host stopped, pip installs the hashed requirements with --require-hashes.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from gitdeps._build.wheel import sha256_file
from gitdeps._toml import tomllib
from tests.support.app import App, Forge, fresh_venv, pip_install, run_python
from tests.support.cli import Ran
from tests.support.projects import project

pytestmark = pytest.mark.slow


def _acme(forge: Forge, tmp_path: Path, canary: str) -> App:
    return App.make(tmp_path / "app", forge.push_acme(), {"GITDEPS_TOKEN_127_0_0_1": canary})


def _installs(python: Path, tmp_path: Path) -> str:
    return run_python(
        python, "import acme_utils, acme_core, publicdep; print(acme_utils.VALUE)", cwd=tmp_path
    )


def test_pylock_names_every_wheel_by_path_and_hash_and_its_commit(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    app = _acme(forge, tmp_path, canary)
    ran = app.vendor("--no-build-isolation", "--output-pylock", "wh/pylock.toml")
    assert ran.returncode == 0, ran.output
    text = (app.wheelhouse / "pylock.toml").read_text()
    assert canary not in text
    lock = tomllib.loads(text)
    assert lock["lock-version"] == "1.0" and lock["created-by"] == "gitdeps"
    packages = {p["name"]: p for p in lock["packages"]}
    assert sorted(packages) == ["acme-core", "acme-utils", "publicdep"]
    locked = tomllib.loads(app.lock.read_text())["package"]
    for entry in locked:
        package = packages[entry["name"]]
        assert package["version"] == entry["version"]
        (wheel,) = package["wheels"]
        assert wheel["path"] == f"./{entry['wheel']}"
        assert wheel["hashes"] == {"sha256": entry["sha256"]}
        origin = package["tool"]["gitdeps"]
        assert origin["commit"] == entry["commit"]
        assert origin["url"] == entry["url"] and "@" not in origin["url"].split("//")[1]
        assert origin["requested-revision"] == "v1"
    (public,) = packages["publicdep"]["wheels"]
    assert public["url"].startswith("http://127.0.0.1:") and "path" not in public
    assert len(public["hashes"]["sha256"]) == 64


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_pip_and_uv_install_the_pylock_with_the_git_host_down(
    forge: Forge, tmp_path: Path, canary: str, installer: str
) -> None:
    app = _acme(forge, tmp_path, canary)
    ran = app.vendor("--no-build-isolation", "--output-pylock", "wh/pylock.toml")
    assert ran.returncode == 0, ran.output
    forge.server.stop()
    shipped = tmp_path / "elsewhere"
    shutil.move(str(app.wheelhouse), shipped)
    python = fresh_venv(tmp_path / "venv")
    pylock = str(shipped / "pylock.toml")
    if installer == "pip":
        installed = pip_install(python, "-r", pylock, cwd=Path("/"))
        assert installed.returncode == 0, installed.output
    else:
        from uv import find_uv_bin

        done = subprocess.run(
            [find_uv_bin(), "pip", "install", "--python", str(python), "--no-cache", "-r", pylock],
            cwd="/", capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    assert _installs(python, tmp_path).strip() == "acme-utils 1.2.0"


def test_pylock_of_the_whole_closure_installs_with_no_index(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    app = _acme(forge, tmp_path, canary)
    ran = app.vendor(
        "--no-build-isolation", "--include-public", "--output-pylock", "pylock.deploy.toml"
    )
    assert ran.returncode == 0, ran.output
    lock = tomllib.loads((app.root / "pylock.deploy.toml").read_text())
    (public,) = next(p for p in lock["packages"] if p["name"] == "publicdep")["wheels"]
    assert public["path"].startswith("./wh/publicdep-") and "url" not in public
    forge.server.stop()
    python = fresh_venv(tmp_path / "venv")
    installed = pip_install(
        python, "--no-index", "-r", str(app.root / "pylock.deploy.toml"), cwd=Path("/"),
        env={"PIP_INDEX_URL": "http://127.0.0.1:9/nothing-here/"},
    )  # fmt: skip
    assert installed.returncode == 0, installed.output
    assert _installs(python, tmp_path).strip() == "acme-utils 1.2.0"


def test_a_pylock_name_installers_would_not_read_is_refused_before_any_work(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    app = _acme(forge, tmp_path, canary)
    ran = app.vendor("--output-pylock", "wh/lock.toml")
    assert ran.returncode != 0
    assert "--output-pylock wh/lock.toml" in ran.stderr and "pylock.toml" in ran.stderr
    assert "Traceback" not in ran.output
    assert not app.wheelhouse.exists() and not app.lock.exists()
    assert forge.server.requests == []


def test_vendored_lines_carry_their_hash_when_the_whole_file_can(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    """Private packages with no public dependency: every line hashed, and pip installs
    with --require-hashes. Once a public line or dependency has no hash, none is added
    (one --hash would make pip refuse it)."""
    base = forge.server.url
    forge.push("o/core.git", project("acme-core", "0.3.0", backend="flit_core"), tag="v1")
    utils = project("acme-utils", "1.2.0", dependencies=[f"acme-core @ git+{base}/o/core.git@v1"])
    forge.push("o/utils.git", utils, tag="v1")
    app = App.make(
        tmp_path / "app",
        f"acme-utils @ git+{base}/o/utils.git@v1",
        {"GITDEPS_TOKEN_127_0_0_1": canary},
    )
    mixed = App.make(
        tmp_path / "mixed",
        f"acme-utils @ git+{base}/o/utils.git@v1\npublicdep\n",
        {"GITDEPS_TOKEN_127_0_0_1": canary},
    )
    ran = mixed.vendor("--no-build-isolation")
    assert ran.returncode == 0, ran.output
    assert "--hash" not in mixed.output.read_text()
    ran = app.vendor("--no-build-isolation")
    assert ran.returncode == 0, ran.output
    pins = [line for line in app.output.read_text().splitlines() if "==" in line]
    assert [line.split("==")[0] for line in pins] == ["acme-utils", "acme-core"]
    assert all("--hash=sha256:" in line for line in pins)
    forge.server.stop()
    python = fresh_venv(tmp_path / "venv")
    installed = pip_install(python, "--require-hashes", "-r", str(app.output), cwd=tmp_path)
    assert installed.returncode == 0, installed.output


def _verify(app: App, *extra: str) -> Ran:
    return app.run("verify", "-o", "wh", "--lock", "gitdeps.lock", *extra)


def test_verify_names_a_changed_an_extra_and_a_missing_wheel(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    app = _acme(forge, tmp_path, canary)
    ran = app.vendor("--no-build-isolation", "--output-pylock", "wh/pylock.toml")
    assert ran.returncode == 0, ran.output
    forge.server.stop()  # verify is offline
    whole = ("--output-requirements", "out.txt", "--pylock", "wh/pylock.toml")
    ran = _verify(app, *whole)
    assert ran.returncode == 0, ran.output
    assert "2 wheels as locked" in ran.stdout

    core, utils = (app.wheelhouse / w for w in app.wheels())
    data = bytearray(core.read_bytes())
    data[len(data) // 2] ^= 0x01
    core.write_bytes(bytes(data))
    shutil.copy(utils, app.wheelhouse / "intruder-1.0-py3-none-any.whl")
    utils.unlink()
    ran = _verify(app, *whole, "--json")
    assert ran.returncode == 9, ran.output
    report = json.loads(ran.stdout)
    assert report["ok"] is False
    found = {p["subject"]: p["message"] for p in report["problems"]}
    assert found[core.name].startswith("sha256 is ")
    assert found[utils.name] == "missing from the wheelhouse"
    assert "no lock, requirement or pylock names it" in found["intruder-1.0-py3-none-any.whl"]
    ran = _verify(app)
    assert ran.returncode == 9 and "Traceback" not in ran.output
    lines = ran.stdout.splitlines()
    assert any(line.startswith(f"{core.name}: sha256 is") for line in lines)
    assert lines[-1].endswith("3 problems")


def test_verify_finds_a_git_url_left_in_a_wheel_and_in_the_requirements(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    app = _acme(forge, tmp_path, canary)
    ran = app.vendor("--no-build-isolation")
    assert ran.returncode == 0, ran.output
    utils = next(p for p in app.wheelhouse.glob("acme_utils-*.whl"))
    # a wheel whose METADATA names git again, re-hashed into the lock so only that shows
    with zipfile.ZipFile(utils) as archive:
        items = [(i, archive.read(i)) for i in archive.infolist()]
    with zipfile.ZipFile(utils, "w") as archive:
        for info, body in items:
            if info.filename.endswith(".dist-info/METADATA"):
                body = body.replace(
                    b"\nName:", b"\nRequires-Dist: evil @ git+https://h/evil\nName:", 1
                )
            archive.writestr(info, body)
    lock = app.lock.read_text()
    text = re.sub(
        r'(wheel = "' + re.escape(utils.name) + r'"\nsha256 = ")[0-9a-f]{64}',
        lambda m: m.group(1) + sha256_file(utils),
        lock,
    )
    app.lock.write_text(text)
    out = app.output.read_text()
    app.output.write_text(out + f"other @ git+{forge.server.url}/o/other.git\n")
    ran = _verify(app, "--output-requirements", "out.txt")
    assert ran.returncode == 9, ran.output
    assert (
        f"{utils.name}: Requires-Dist 'evil @ git+https://h/evil' still names a URL" in ran.stdout
    )
    assert "out.txt:" in ran.stdout and "still names a git URL" in ran.stdout
    assert canary not in ran.output


def test_verify_accepts_the_whole_closure_and_checks_its_public_wheels(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    app = _acme(forge, tmp_path, canary)
    ran = app.vendor("--no-build-isolation", "--include-public")
    assert ran.returncode == 0, ran.output
    ran = _verify(app, "--output-requirements", "out.txt")
    assert ran.returncode == 0, ran.output
    (public,) = app.wheelhouse.glob("publicdep-*.whl")
    public.write_bytes(public.read_bytes() + b"\0")
    ran = _verify(app, "--output-requirements", "out.txt")
    assert ran.returncode == 9
    assert f"{public.name}: sha256 is none of the output requirements' hashes" in ran.stdout
