"""Benchmark: gitdeps against ``pip wheel`` and ``uv pip install --target``, in one run.

``nox -s bench`` (or ``nox -s bench -- --packages 50``). Everything is on
127.0.0.1: N private repositories with history and a large deleted blob,
three build backends, served by ``git http-backend`` behind a token check;
the backends come from a loopback index for every tool; each tool gets its own
empty cache for the cold run and keeps it for the warm one.

Reports wall time, peak memory (the largest single process of the tool's
process tree), the git requests, connections and bytes the server answered, and
the ratios, from the same run.

The user's world: ``--delay-ms 25 --mbit 50`` shapes the link (each answer waits,
bodies go out at that rate), ``--https`` serves git over TLS from a test CA that
every tool is told to trust, ``--commits 2000`` gives each repository a long
history. ``gitdeps --locked`` runs last, with every git request answered 503: it
must need none.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import ssl
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import backends
from tests.support.azurite import KEY, Azurite
from tests.support.gitserver import GitServer, git, make_repo
from tests.support.index import serve_index
from tests.support.projects import project

BACKENDS = ("setuptools", "hatchling", "flit_core")

# Runs a command and reports its wall time and the peak RSS of its largest descendant.
_MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, capture_output=True, text=True)
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": elapsed, "peak_kb": peak, "rc": proc.returncode,
                  "tail": (proc.stdout + proc.stderr)[-2000:]}))
"""


def make_repos(root: Path, count: int, work: Path, commits: int) -> list[str]:
    names = []
    blob = os.urandom(4 << 20)  # committed once, deleted later: history weight
    for index in range(count):
        name = f"bench-pkg-{index:02d}"
        bare = make_repo(root, f"org/{name}.git")
        tree = work / name
        git(work, "clone", "-q", str(bare), str(tree))
        if commits > 12:  # a long history first, cheaply, with fast-import
            _long_history(tree, commits - 12)
        for commit in range(12):
            files = project(name, f"1.0.{commit}", backend=BACKENDS[index % 3])
            for rel, text in files.items():
                target = tree / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text)
            (tree / "history.txt").write_text("x" * 4096 * (commit + 1))
            if commit == 3:
                (tree / "data.bin").write_bytes(blob + name.encode())
            if commit == 6:
                (tree / "data.bin").unlink()
            git(tree, "add", "-A", ".")
            git(tree, "commit", "-q", "-m", f"change {commit}")
        git(tree, "tag", "v1.0")
        git(tree, "push", "-q", "origin", "HEAD:refs/heads/main", "refs/tags/v1.0")
        names.append(name)
    return names


def make_real_repos(root: Path, work: Path) -> list[str]:
    """One repository per version plugin (tests/support/scm.py), as real projects use
    them: the plugin's configuration, a version file written at build time, five commits
    with tags. Returns the repository names."""
    from tests.support.gitserver import commit_files
    from tests.support.scm import PLUGINS, push_history

    def push(repo: str, files: dict[str, str], **kwargs: object) -> str:
        bare = root / repo
        if not bare.exists():
            make_repo(root, repo)
        return commit_files(bare, files, work=work / repo.replace("/", "_"), **kwargs)  # type: ignore[arg-type]

    names = []
    for plugin, make in PLUGINS.items():
        name = f"real-{plugin.replace('_', '-')}"
        push_history(push, f"org/{name}.git", make(name, name.replace("-", "_")))
        names.append(name)
    return names


def real_bench(
    root: Path,
    names: list[str],
    tools: dict[str, tuple[list[str], str, dict[str, str]]],
    where: dict[str, str],
    base_env: dict[str, str],
    server: GitServer,
    rounds: int,
) -> dict[str, dict[str, list[float]]]:
    """Each real-style package alone, cold (every tool with an empty cache), the tools
    taking turns in an order that rotates each round. Seconds per package per tool."""
    token, host, scheme = where["127_0_0_1"], where["host"], where["scheme"]
    seconds: dict[str, dict[str, list[float]]] = {name: {} for name in names}
    order = list(tools)
    for round_ in range(rounds):
        for name in names:
            print(f"real, round {round_ + 1}/{rounds}: {name} ...", flush=True)
            for tool in order[round_ % len(order) :] + order[: round_ % len(order)]:
                command, _, extra = tools[tool]
                url = f"{scheme}://{host}/org/{name}.git@2.3.2"
                line = (
                    f"{name} @ git+{url}"
                    if tool == "gitdeps"
                    else (f"{name} @ git+{scheme}://x:{token}@{url.split('://', 1)[1]}")
                )
                work = root / "real" / f"{tool.split()[0]}-{name}-{round_}"
                work.mkdir(parents=True)
                (work / "requirements.txt").write_text(line + "\n")
                env = {**base_env, **extra}
                # Cold: empty caches, all of them (gitdeps installs build environments
                # with uv or pip, whose caches would otherwise be warm after a round).
                for key in ("GITDEPS_CACHE_DIR", "PIP_CACHE_DIR", "UV_CACHE_DIR"):
                    env[key] = str(work / "cache" / key)
                run = measure(command, cwd=work, env=env, server=server)
                seconds[name].setdefault(tool, []).append(run["seconds"])
    return seconds


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def report_real(results: dict[str, dict[str, list[float]]]) -> None:
    """Per package: each tool's median seconds and gitdeps' median ratio to each other
    tool (ratios taken round by round); then the median of those over the packages."""
    others = [tool for tool in next(iter(results.values())) if tool != "gitdeps"]
    print("\none real-style package at a time, cold (medians; ratios round by round)\n")
    header = f"{'package':<34}" + "".join(
        f"{t.split()[0] + ' s':>10}" for t in ["gitdeps", *others]
    )
    print(header + "".join(f"{'/' + t.split()[0]:>10}" for t in others))
    ratios: dict[str, list[float]] = {tool: [] for tool in others}
    for name, runs in results.items():
        cells = "".join(f"{_median(runs[t]):>10.2f}" for t in ["gitdeps", *others])
        mine = []
        for tool in others:
            ratio = _median([a / b for a, b in zip(runs["gitdeps"], runs[tool], strict=True)])
            ratios[tool].append(ratio)
            mine.append(f"{ratio:>10.2f}")
        print(f"{name:<34}{cells}{''.join(mine)}")
    print(
        f"{'median over packages':<34}{'':>{10 * (len(others) + 1)}}"
        + "".join(f"{_median(ratios[t]):>10.2f}" for t in others)
        + "\n"
    )


def _long_history(tree: Path, count: int) -> None:
    stream = []
    for number in range(1, count + 1):
        body = f"change {number}\n" * 20
        message = f"history {number}"
        stream.append(
            f"commit refs/heads/main\nmark :{number}\n"
            f"committer Bench <bench@example.invalid> {1_600_000_000 + number} +0000\n"
            f"data {len(message)}\n{message}\n"
            + (f"from :{number - 1}\n" if number > 1 else "")
            + f"M 644 inline old/{number % 50}.txt\ndata {len(body)}\n{body}\n"
        )
    subprocess.run(
        ["git", "fast-import", "--quiet"], cwd=tree, input="".join(stream).encode(), check=True
    )
    git(tree, "checkout", "-q", "main")


_PARSE = {
    "gitdeps": (
        "from gitdeps._inputs.requirements import parse_requirement_files as parse\n"
        "print(len(parse([sys.argv[1]]).entries))"
    ),
    "pip": (
        "from pip._internal.network.session import PipSession\n"
        "from pip._internal.req.req_file import parse_requirements\n"
        "print(sum(1 for _ in parse_requirements(sys.argv[1], session=PipSession())))"
    ),
}


def parse_bench(root: Path, megabytes: float) -> dict[str, float]:
    """Seconds each of gitdeps and pip takes to parse one requirements file of
    ``megabytes`` (hashed pins, options, comments and continuations, as lock exports have)."""
    lines, size, n = [], 0, 0
    while size < megabytes * 1e6:
        line = (
            f"package-{n}=={n % 9}.{n % 7}.0 ; python_version >= '3.8' \\\n"
            f"    --hash=sha256:{secrets.token_hex(32)}  # via app-{n % 13}"
        )
        if n % 50 == 0:
            line = f"# group {n}\n--extra-index-url https://feed{n % 3}.example/simple\n" + line
        lines.append(line)
        size += len(line) + 1
        n += 1
    path = root / "big-requirements.txt"
    path.write_text("\n".join(lines) + "\n")
    seconds = {}
    for tool, code in _PARSE.items():
        timed = subprocess.run(
            [sys.executable, "-c", _MEASURE, sys.executable, "-c", "import sys\n" + code, str(path)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        result = json.loads(timed.stdout)
        if result["rc"] != 0:
            raise SystemExit(f"parsing with {tool} failed:\n{result['tail']}")
        seconds[tool] = result["seconds"]
    return seconds


def measure(
    command: list[str], *, cwd: Path, env: dict[str, str], server: GitServer
) -> dict[str, float]:
    server.requests.clear()
    connections = server.connections
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command],
        cwd=cwd, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    result = json.loads(out.stdout)
    if result["rc"] != 0:
        raise SystemExit(f"{command[0]} failed:\n{result['tail']}")
    return {
        "seconds": result["seconds"],
        "peak_mb": result["peak_kb"] / 1024,
        "requests": len(server.requests),
        "connections": server.connections - connections,
        "mb_sent": sum(r.sent for r in server.requests) / 1e6,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--packages", type=int, default=10)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--delay-ms", type=float, default=0, help="per-request delay (shaped)")
    parser.add_argument("--mbit", type=float, default=0, help="link bandwidth (shaped)")
    parser.add_argument("--https", action="store_true", help="git over TLS from a test CA")
    parser.add_argument("--commits", type=int, default=12, help="history per repository")
    parser.add_argument(
        "--tools", default="gitdeps,pip,uv", help="which tools to run (default: all three)"
    )
    parser.add_argument("--jobs", type=int, help="gitdeps --jobs (default: the CPU count)")
    parser.add_argument(
        "--remote-cache", action="store_true",
        help="also gitdeps on a fresh agent with a warm remote cache (Azurite)",
    )  # fmt: skip
    parser.add_argument(
        "--real", action="store_true",
        help="also one real-style package per version plugin, cold, tools interleaved",
    )  # fmt: skip
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of the --real cases (median of ratios)"
    )
    parser.add_argument(
        "--parse-mb", type=float, default=10,
        help="also parse a requirements file this large with gitdeps and pip (0: skip)",
    )  # fmt: skip
    args = parser.parse_args()

    if args.parse_mb:
        with tempfile.TemporaryDirectory(prefix="gitdeps-bench-parse-") as temp:
            print(f"parsing a {args.parse_mb:g} MB requirements file ...", flush=True)
            parsed = parse_bench(Path(temp), args.parse_mb)
        print(
            f"parse {args.parse_mb:g} MB: gitdeps {parsed['gitdeps']:.1f} s, pip "
            f"{parsed['pip']:.1f} s: gitdeps takes {parsed['gitdeps'] / parsed['pip']:.2f}x "
            "pip's time\n",
            flush=True,
        )

    uv = shutil.which("uv")
    token = "bench-" + secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="gitdeps-bench-") as temp:
        root = Path(temp)
        index_dir = root / "index"
        index_dir.mkdir()
        for wheel in backends.ensure(backends.wheels_dir()).glob("*.whl"):
            shutil.copy(wheel, index_dir)
        (root / "work").mkdir()
        print(f"generating {args.packages} repositories with history ...", flush=True)
        names = make_repos(root / "git", args.packages, root / "work", args.commits)
        real = make_real_repos(root / "git", root / "work") if args.real else []
        tls, ca_env = _tls(root) if args.https else (None, {})

        with (
            GitServer(root / "git", token=token, tls=tls) as server,
            serve_index(index_dir) as index,
        ):
            server.delay = args.delay_ms / 1000
            server.bandwidth = args.mbit * 1e6 / 8 or None
            scheme, host = server.url.split("://")
            plain = "".join(f"{n} @ git+{scheme}://{host}/org/{n}.git@v1.0\n" for n in names)
            with_token = "".join(
                f"{n} @ git+{scheme}://x:{token}@{host}/org/{n}.git@v1.0\n" for n in names
            )
            base_env = {
                "PATH": os.environ["PATH"],
                "HOME": str(root / "home"),
                "PIP_CONFIG_FILE": os.devnull,
                "PIP_INDEX_URL": index,
                "UV_INDEX_URL": index,
                "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                "GIT_TERMINAL_PROMPT": "0",
                "GIT_CONFIG_GLOBAL": os.devnull,
                "GIT_CONFIG_NOSYSTEM": "1",
                **ca_env,
            }
            tools: dict[str, tuple[list[str], str, dict[str, str]]] = {
                "gitdeps": (
                    [sys.executable, "-m", "gitdeps", "-q", "vendor", "-r", "requirements.txt",
                     "-o", "out", "--lock", "gitdeps.lock"],
                    plain,
                    {"GITDEPS_TOKEN_127_0_0_1": token, "GITDEPS_CACHE_DIR": str(root / "cache-gitdeps")},
                ),
                "pip wheel": (
                    [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", "out",
                     "-r", "requirements.txt"],
                    with_token,
                    {"PIP_CACHE_DIR": str(root / "cache-pip")},
                ),
            }  # fmt: skip
            if uv:
                tools["uv pip install --target"] = (
                    [uv, "pip", "install", "-q", "--no-deps", "--target", "out",
                     "--python", sys.executable, "-r", "requirements.txt"],
                    with_token,
                    {"UV_CACHE_DIR": str(root / "cache-uv")},
                )  # fmt: skip
            wanted = set(args.tools.split(","))
            tools = {name: tool for name, tool in tools.items() if name.split()[0] in wanted}
            if args.jobs:
                tools["gitdeps"][0].extend(["--jobs", str(args.jobs)])
            if real:
                real_results = real_bench(
                    root, real, tools, {"127_0_0_1": token, "host": host, "scheme": scheme},
                    base_env, server, args.rounds,
                )  # fmt: skip
                report_real(real_results)
            results: dict[str, dict[str, dict[str, float]]] = {}
            azurite = _start_azurite(root) if args.remote_cache else None
            for tool, (command, requirements, extra) in tools.items():
                work = root / "runs" / tool.split()[0]
                work.mkdir(parents=True)
                (work / "requirements.txt").write_text(requirements)
                env = {**base_env, **extra}
                runs: dict[str, dict[str, float]] = {}
                print(f"{tool}: cold ...", flush=True)
                runs["cold"] = measure(command, cwd=work, env=env, server=server)
                shutil.rmtree(work / "out", ignore_errors=True)
                (work / "gitdeps.lock").unlink(missing_ok=True)  # refs are checked again
                print(f"{tool}: warm ...", flush=True)
                runs["warm"] = measure(command, cwd=work, env=env, server=server)
                if tool == "gitdeps":
                    shutil.rmtree(work / "out", ignore_errors=True)
                    print(f"{tool}: locked ...", flush=True)
                    server.hook = lambda method, path: (503, {}, b"the git host is down\n")
                    runs["locked"] = measure(
                        [*command, "--locked"], cwd=work, env=env, server=server
                    )
                    server.hook = None
                    if azurite is not None:
                        _remote_runs(runs, command, work, env, server, azurite, root)
                results[tool] = runs

    if azurite is not None:
        azurite.stop()
    link = "loopback"
    if args.delay_ms or args.mbit:
        link = f"shaped link ({args.delay_ms:g} ms per request, {args.mbit or 'unlimited'} Mbit/s)"
    link += ", git over HTTPS" if args.https else ", git over HTTP"
    if args.commits > 12:
        link += f", {args.commits} commits per repository"
    report(results, args.packages, link)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


def _start_azurite(root: Path) -> Azurite:
    return Azurite(root / "azurite").start()


def _remote_runs(
    runs: dict[str, dict[str, float]],
    command: list[str],
    work: Path,
    env: dict[str, str],
    server: GitServer,
    azurite: Azurite,
    root: Path,
) -> None:
    """A first agent fills the remote cache; fresh agents (empty local caches) use it."""
    from azure.storage.blob import ContainerClient

    ContainerClient.from_connection_string(azurite.connection_string, "bench").create_container()
    remote = {
        "GITDEPS_REMOTE_CACHE": azurite.container_url("bench"),
        "AZURE_STORAGE_KEY": KEY,
    }
    for run, agent in (("fill", "agent-1"), ("remote", "agent-2"), ("remote locked", "agent-3")):
        shutil.rmtree(work / "out", ignore_errors=True)
        if run != "remote locked":  # a fresh agent without a lock: refs are resolved
            (work / "gitdeps.lock").unlink(missing_ok=True)
        agent_env = {**env, **remote, "GITDEPS_CACHE_DIR": str(root / f"cache-{agent}")}
        extra = ["--locked"] if run == "remote locked" else []
        print(f"gitdeps: {run} ({agent}, empty local cache) ...", flush=True)
        runs[run] = measure([*command, *extra], cwd=work, env=agent_env, server=server)


def _tls(root: Path) -> tuple[ssl.SSLContext, dict[str, str]]:
    """A server context from a new test CA, and what tells every tool to trust it."""
    import trustme

    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    bundle = root / "test-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    # git (for pip and uv) reads GIT_SSL_CAINFO; gitdeps too; SSL_CERT_FILE for the rest.
    return context, {"GIT_SSL_CAINFO": str(bundle), "SSL_CERT_FILE": str(bundle)}


def report(results: dict[str, dict[str, dict[str, float]]], packages: int, link: str) -> None:
    print(f"\n{packages} private packages, {os.cpu_count()} CPUs, {link}\n")
    print(
        f"{'tool':<26}{'cold s':>9}{'warm s':>9}{'locked s':>10}{'peak MB':>9}"
        f"{'cold req':>10}{'cold conn':>10}{'cold git MB':>13}{'warm req':>10}{'locked req':>11}"
    )
    for tool, runs in results.items():
        locked = f"{runs['locked']['seconds']:.2f}" if "locked" in runs else "-"
        peak = max(r["peak_mb"] for r in runs.values())
        cold, warm = runs["cold"], runs["warm"]
        locked_requests = f"{runs['locked']['requests']:.0f}" if "locked" in runs else "-"
        print(
            f"{tool:<26}{cold['seconds']:>9.2f}{warm['seconds']:>9.2f}{locked:>10}{peak:>9.0f}"
            f"{cold['requests']:>10.0f}{cold['connections']:>10.0f}{cold['mb_sent']:>13.2f}"
            f"{warm['requests']:>10.0f}{locked_requests:>11}"
        )
    ours = results["gitdeps"]
    if "remote" in ours:
        print("\ngitdeps on fresh agents (empty local cache) sharing an Azurite remote cache:")
        for run in ("fill", "remote", "remote locked"):
            data = ours[run]
            print(f"  {run:<15}{data['seconds']:>7.2f} s  {data['requests']:>4.0f} git requests")
    print()
    for tool, runs in results.items():
        if tool == "gitdeps":
            continue
        faster_cold = runs["cold"]["seconds"] / ours["cold"]["seconds"]
        faster_warm = runs["warm"]["seconds"] / ours["warm"]["seconds"]
        print(f"gitdeps vs {tool}: {faster_cold:.1f}x faster cold, {faster_warm:.1f}x faster warm")


if __name__ == "__main__":
    sys.exit(main())
