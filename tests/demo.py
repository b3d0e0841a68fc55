"""The gitdeps demo: private packages behind a token, vendored, then installed with no token.

Run it with ``nox -s demo``. Everything happens on 127.0.0.1 in a temporary
folder: a git server (real ``git http-backend``) that refuses requests without
the token, a package index for the public dependency and the build backends,
and a fresh virtual environment standing in for the deploy target.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import backends
from tests.support.gitserver import GitServer, commit_files, make_repo
from tests.support.index import serve_index
from tests.support.projects import project
from tests.support.wheels import make_wheel


def step(text: str) -> None:
    print(f"\n\033[1m==> {text}\033[0m" if sys.stdout.isatty() else f"\n==> {text}", flush=True)


def show(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    print("$ " + " ".join(c if " " not in c else repr(c) for c in command), flush=True)
    proc = subprocess.run(
        command,
        cwd=cwd,
        env=env,
        text=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        check=False,
    )
    print(textwrap.indent(proc.stdout.rstrip(), "  "), flush=True)
    return proc


def main() -> int:
    token = "demo-" + secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="gitdeps-demo-") as temp:
        root = Path(temp)
        (root / "git").mkdir()
        index = root / "index"
        index.mkdir()
        for wheel in backends.ensure(backends.wheels_dir()).glob("*.whl"):
            shutil.copy(wheel, index)
        make_wheel(index, "publicdep", "1.0", {"publicdep/__init__.py": "VALUE = 'public'\n"})

        with GitServer(root / "git", token=token) as server, serve_index(index) as index_url:
            base = server.url
            step(f"A private git host at {base} that demands a token, with three repositories")

            def push(repo: str, files: dict[str, str], tag: str | None = None) -> None:
                bare = make_repo(root / "git", repo)
                commit_files(bare, files, work=root / "work" / repo.replace("/", "_"), tag=tag)
                print(f"  {base}/{repo}" + (f" (tag {tag})" if tag else ""))

            push(
                "contoso/acme-core.git",
                project("acme-core", "0.3.0", backend="flit_core"),
                "v0.3.0",
            )
            push(
                "contoso/acme-utils.git",
                project(
                    "acme-utils",
                    "1.2.0",
                    backend="hatchling",
                    dependencies=[
                        f"acme-core @ git+{base}/contoso/acme-core.git@v0.3.0",
                        "publicdep",
                    ],
                ),
                "v1.2.0",
            )
            push(
                "contoso/monorepo.git",
                {f"packages/acme-ml/{k}": v for k, v in project("acme-ml", "2.0.0").items()},
            )

            app = root / "build-agent" / "app"
            app.mkdir(parents=True)
            (app / "requirements.txt").write_text(
                f"acme-utils @ git+{base}/contoso/acme-utils.git@v1.2.0\n"
                f"git+{base}/contoso/monorepo.git@main#egg=acme-ml&subdirectory=packages/acme-ml\n"
                "publicdep\n"
            )
            step("The app's requirements.txt, as teams write it")
            print(textwrap.indent((app / "requirements.txt").read_text(), "  "))

            env = {
                **os.environ,
                "PIP_CONFIG_FILE": os.devnull,
                "PIP_INDEX_URL": index_url,
                "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                # the demo's cache and sign-in state are its own, never the user's
                "GITDEPS_CACHE_DIR": str(root / "cache"),
                "GITDEPS_STATE_DIR": str(root / "state"),
            }
            env.pop("GITDEPS_TOKEN_127_0_0_1", None)
            gitdeps = [sys.executable, "-m", "gitdeps"]
            vendor = [*gitdeps, "vendor", "-r", "requirements.txt", "-o", "wheelhouse"]
            vendor += [
                "--output-requirements",
                "wheelhouse/requirements.txt",
                "--lock",
                "gitdeps.lock",
            ]

            step("Without a token, gitdeps says which variable to set")
            show(vendor, app, env)

            step("On the build agent, with the token in GITDEPS_TOKEN_127_0_0_1")
            proc = show(vendor, app, {**env, "GITDEPS_TOKEN_127_0_0_1": token})
            if proc.returncode != 0:
                return proc.returncode
            step("What the deploy target gets: wheelhouse/requirements.txt")
            print(textwrap.indent((app / "wheelhouse" / "requirements.txt").read_text(), "  "))

        step("The git server is gone. Ship the folder elsewhere and install with plain pip")
        target = root / "target" / "wwwroot"
        shutil.move(str(app), target)
        venv = root / "target" / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        with serve_index(index) as index_url:
            env["PIP_INDEX_URL"] = index_url
            proc = show(
                [str(python), "-m", "pip", "install", "-q", "-r", "wheelhouse/requirements.txt"],
                target,
                env,
            )
        if proc.returncode != 0:
            return proc.returncode
        show(
            [
                str(python),
                "-c",
                "import acme_ml, acme_utils, acme_core; print(acme_ml.VALUE, '|', acme_utils.VALUE, '|', acme_core.VALUE)",
            ],
            target,
            env,
        )

        step("Searching every file shipped and installed for the token")
        leaks = [
            p for base_dir in (target, venv) for p in base_dir.rglob("*")
            if p.is_file() and token.encode() in p.read_bytes()
        ]  # fmt: skip
        print(f"  token found in {len(leaks)} files")
        return 1 if leaks else 0


if __name__ == "__main__":
    sys.exit(main())
