"""gitdeps publish: vendored wheels into a feed (pypiserver with upload auth), then pip from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.app import Forge, fresh_venv, pip_install, run_gitdeps, run_python
from tests.support.gitserver import GitServer
from tests.support.index import serve_index
from tests.support.wheels import make_wheel

pytestmark = pytest.mark.slow


def _vendored_acme(forge: Forge, tmp_path: Path, canary: str) -> Path:
    """An app whose acme-utils and acme-core are vendored into app/wheelhouse, the git
    host then stopped: publishing needs none of it."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text(forge.push_acme() + "\n")
    ran = run_gitdeps(
        "vendor", "-r", "requirements.txt", "-o", "wheelhouse", "--no-build-isolation",
        cwd=app, env={"GITDEPS_TOKEN_127_0_0_1": canary},
    )  # fmt: skip
    assert ran.returncode == 0, ran.output
    forge.server.stop()
    return app


def test_publish_to_a_feed_then_install_from_it(forge: Forge, tmp_path: Path, canary: str) -> None:
    app = _vendored_acme(forge, tmp_path, canary)

    feed_dir = tmp_path / "feed"
    feed_dir.mkdir()
    feed_password = "feed-" + canary[::-1]
    with serve_index(feed_dir, upload_auth=("feed", feed_password)) as simple:
        upload_url = simple.removesuffix("simple/")
        env = {"GITDEPS_TOKEN_127_0_0_1": feed_password, "GITDEPS_USERNAME_127_0_0_1": "feed"}
        refused = run_gitdeps(
            "publish", "--repository-url", upload_url,
            cwd=app, env={**env, "GITDEPS_TOKEN_127_0_0_1": "feed-wrong-password"},
        )  # fmt: skip
        assert refused.returncode == 4 and "refused the upload" in refused.stderr
        assert "feed-wrong-password" not in refused.output

        published = run_gitdeps("publish", "--repository-url", upload_url, cwd=app, env=env)
        assert published.returncode == 0, published.output
        assert "uploaded 2 wheels" in published.stdout
        assert sorted(p.name.split("-")[0] for p in feed_dir.glob("*.whl")) == [
            "acme_core",
            "acme_utils",
        ]
        again = run_gitdeps(
            "publish", "--repository-url", upload_url, "--skip-existing", cwd=app, env=env
        )
        assert again.returncode == 0, again.output
        assert feed_password not in published.output + again.output

        # A VM that only knows the feed (and the public index, for publicdep).
        (pinned,) = [
            line.split()[0]
            for line in (app / "wheelhouse" / "requirements.txt").read_text().splitlines()
            if line.startswith("acme-utils==")
        ]
        python = fresh_venv(tmp_path / "vm")
        installed = pip_install(python, "--extra-index-url", simple, pinned, cwd=tmp_path)
        assert installed.returncode == 0, installed.output
    out = run_python(
        python, "import acme_utils, acme_core, publicdep; print(acme_utils.VALUE)", cwd=tmp_path
    )
    assert out.strip() == "acme-utils 1.2.0"


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirected_upload_is_no_upload_and_the_token_stays_home(
    tmp_path: Path, canary: str, status: int
) -> None:
    """The feed answers with a redirect to another origin (a real second server): the
    token is not sent there, and the run fails instead of reporting an upload."""
    wheel = make_wheel(tmp_path, "acme-core", "1.0", {"acme_core/__init__.py": ""})
    empty = tmp_path / "empty"
    empty.mkdir()
    with (
        GitServer(empty, token=None, allow_anonymous=True, host="localhost") as elsewhere,
        GitServer(empty, token=canary) as feed,
    ):
        elsewhere.hook = lambda method, path: (201, {}, b"stored\n")
        feed.hook = lambda method, path: (status, {"Location": f"{elsewhere.url}/upload/"}, b"")
        ran = run_gitdeps(
            "publish", "--repository-url", f"{feed.url}/upload/", wheel,
            cwd=tmp_path, env={"GITDEPS_TOKEN_127_0_0_1": canary, "GITDEPS_USERNAME_127_0_0_1": "u"},
        )  # fmt: skip
        # The feed's index, read first, redirects too: neither is followed.
        assert [(r.method, r.authorization is not None) for r in feed.requests] == [
            ("GET", True),
            ("POST", True),
        ]
        assert elsewhere.requests == []
    assert ran.returncode != 0 and "Traceback" not in ran.output
    assert f"with a redirect (HTTP {status}) to localhost:" in ran.stderr
    assert "nothing was uploaded" in ran.stderr and "uploaded 1" not in ran.stdout
    assert canary not in ran.output


def test_azure_artifacts_is_not_sent_a_local_version_it_would_refuse(tmp_path: Path) -> None:
    from gitdeps import GitDepsError
    from gitdeps._publish import publish

    tagged = make_wheel(tmp_path, "acme-core", "1.0", {"acme_core/__init__.py": ""})
    branch = make_wheel(tmp_path, "acme-utils", "1.2+gabc123", {"acme_utils/__init__.py": ""})
    feed = "https://pkgs.dev.azure.com/org/_packaging/feed/pypi/upload/"
    with pytest.raises(GitDepsError, match=r"acme_utils-1\.2\+gabc123.*Azure Artifacts refuses"):
        publish([tagged, branch], feed)  # refused before any upload: no request is made


def test_a_feed_that_refuses_local_versions_takes_public_ones_and_never_another_build(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    """A loopback feed that refuses local versions as Azure Artifacts does: the vendored
    wheels go up with --public-versions, pins between them rewritten; a VM installs them;
    publishing again skips what is there byte for byte, and another build under a
    version the feed holds is refused by name, the feed's file left as it was."""
    import zipfile

    app = _vendored_acme(forge, tmp_path, canary)

    feed_dir = tmp_path / "feed"
    feed_dir.mkdir()
    password = "feed-" + canary[::-1]
    env = {"GITDEPS_TOKEN_127_0_0_1": password, "GITDEPS_USERNAME_127_0_0_1": "feed"}
    with serve_index(
        feed_dir, upload_auth=("feed", password), refuse_local_versions=True
    ) as simple:
        upload = simple.removesuffix("simple/")
        refused = run_gitdeps("publish", "--repository-url", upload, cwd=app, env=env)
        assert refused.returncode != 0 and "HTTP 400" in refused.stderr, refused.output
        assert list(feed_dir.glob("*.whl")) == []

        published = run_gitdeps(
            "publish", "--repository-url", upload, "--public-versions", cwd=app, env=env
        )
        assert published.returncode == 0, published.output
        assert "uploaded 2 wheels" in published.stdout
        names = sorted(p.name for p in feed_dir.glob("*.whl"))
        assert [n.split("-")[:2] for n in names] == [
            ["acme_core", "0.3.0"],
            ["acme_utils", "1.2.0"],
        ]
        with zipfile.ZipFile(feed_dir / names[1]) as wheel:
            metadata = wheel.read("acme_utils-1.2.0.dist-info/METADATA").decode()
        assert "Requires-Dist: acme-core==0.3.0\n" in metadata and "+g" not in metadata

        python = fresh_venv(tmp_path / "vm")
        installed = pip_install(
            python, "--extra-index-url", simple, "acme-utils==1.2.0", cwd=tmp_path
        )
        assert installed.returncode == 0, installed.output
        code = "import acme_utils, acme_core; print(acme_utils.VALUE)"
        assert run_python(python, code, cwd=tmp_path).strip() == "acme-utils 1.2.0"

        again = run_gitdeps(
            "publish", "--repository-url", upload, "--public-versions", cwd=app, env=env
        )
        assert again.returncode == 0, again.output
        assert "uploaded 0 wheels (2 already there)" in again.stdout

        held = (feed_dir / names[0]).read_bytes()
        (tmp_path / "other").mkdir()
        other = make_wheel(
            tmp_path / "other", "acme-core", "0.3.0", {"acme_core/__init__.py": "X = 2\n"}
        )
        clash = run_gitdeps(
            "publish", "--repository-url", upload, "--skip-existing", other, cwd=app, env=env
        )
        assert clash.returncode != 0 and "Traceback" not in clash.output
        (said,) = [row for row in clash.stderr.splitlines() if row.startswith("error:")]
        assert "acme_core-0.3.0-py3-none-any.whl" in said and names[0] in said
        assert "another sha256" in said and "not replaced" in said
        assert (feed_dir / names[0]).read_bytes() == held
    for output in (refused, published, again, clash):
        assert password not in output.output and canary not in output.output


def test_public_versions_need_the_wheels_they_pin(tmp_path: Path) -> None:
    from gitdeps import GitDepsError
    from gitdeps._publish import publish

    utils = make_wheel(
        tmp_path, "acme-utils", "1.2+gabc123", {"acme_utils/__init__.py": ""},
        requires=["acme-core==0.3+gdef456", "publicdep>=1"],
    )  # fmt: skip
    with pytest.raises(GitDepsError, match=r"pins acme-core==0\.3\+gdef456, which is not among"):
        publish([utils], "http://127.0.0.1:9/", public_versions=True)


def test_a_clash_is_a_file_an_installer_could_take_instead() -> None:
    from gitdeps._publish import _clash

    on_feed: dict[str, str | None] = {
        "acme-1.0.tar.gz": None,
        "acme-1.0-cp311-cp311-manylinux_2_17_x86_64.whl": "a" * 64,
        "acme-0.9-py3-none-any.whl": "b" * 64,
    }
    assert _clash("acme-1.0-cp312-cp312-manylinux_2_17_x86_64.whl", on_feed) is None
    assert _clash("acme-1.0-py3-none-any.whl", on_feed) is None
    on_feed["acme-1.0-py2.py3-none-any.whl"] = "c" * 64
    assert _clash("acme-1.0-py3-none-any.whl", on_feed) == "acme-1.0-py2.py3-none-any.whl"
    assert _clash("acme-0.9-py3-none-any.whl", on_feed) == "acme-0.9-py3-none-any.whl"
