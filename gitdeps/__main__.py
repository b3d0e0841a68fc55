"""The ``gitdeps`` command: parses arguments, calls the library, renders the result."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from packaging.utils import canonicalize_name

from . import __version__
from ._cache.local import Cache
from ._dirs import cache_dir
from ._errors import AuthError, GitDepsError, SeveralErrors
from ._options import VendorOptions
from ._outputs.journal import OutputsSwitched
from ._secret import redact
from ._vendor import VendorResult, vendor

__all__ = ["main", "make_parser"]

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_OUT_OF_DATE = 8  # gitdeps check: a locked ref moved, or a requirement is not locked
EXIT_NOT_AS_LOCKED = 9  # gitdeps verify: the wheelhouse is not what the lock records
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130


class _Formatter(logging.Formatter):
    """``warning: ...`` / ``error: ...`` prefixes, progress lines indented; all redacted."""

    def __init__(self, color: bool, *, stamp: bool = False) -> None:
        super().__init__()
        self._color = color
        self._stamp = stamp  # -v: progress lines start with the seconds since the start

    def format(self, record: logging.LogRecord) -> str:
        line = self._line(record)
        if not self._stamp or record.levelno >= logging.WARNING:
            return line  # errors and warnings start their line, as annotations expect
        stamp = f"{record.relativeCreated / 1000:6.2f}s "
        return "\n".join(stamp + part for part in line.split("\n"))

    def _line(self, record: logging.LogRecord) -> str:
        message = redact(record.getMessage())
        if record.name == "gitdeps.progress" and record.levelno == logging.INFO:
            return f"  {message}"
        if record.levelno >= logging.ERROR:
            return self._paint("error", "31") + f": {message}"
        if record.levelno >= logging.WARNING:
            return self._paint("warning", "33") + f": {message}"
        return message

    def _paint(self, word: str, code: str) -> str:
        return f"\033[{code}m{word}\033[0m" if self._color else word


def use_color(environ: Mapping[str, str], tty: bool) -> bool:
    """no-color.org and force-color.org: a non-empty ``NO_COLOR`` turns colour off, a
    non-empty ``FORCE_COLOR`` on (also without a terminal); empty values do not count."""
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    return tty and environ.get("TERM") != "dumb"


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity < 0 else logging.INFO if verbosity == 0 else logging.DEBUG
    color = use_color(os.environ, sys.stderr.isatty())
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter(color, stamp=verbosity >= 1))
    root = logging.getLogger("gitdeps")
    root.handlers[:] = [handler]
    from ._annotations import AnnotationHandler, pipeline

    where = pipeline()
    if where is not None:  # errors and warnings also where the pipeline shows problems
        root.addHandler(AnnotationHandler(where, sys.stderr))
    root.setLevel(level)
    root.propagate = False
    # Warnings are log lines (build backends' are filtered by category in _build/pypa.py,
    # which imports pyproject_hooks: importing it here would slow every start-up).
    logging.captureWarnings(True)
    # azure-identity explains its failures at length; gitdeps says it in one line.
    azure = logging.getLogger("azure")
    azure.handlers[:] = [handler]
    azure.setLevel(logging.DEBUG if verbosity >= 2 else logging.CRITICAL)
    azure.propagate = False
    py_warnings = logging.getLogger("py.warnings")
    py_warnings.handlers[:] = [handler]
    py_warnings.propagate = False


class _Parser(argparse.ArgumentParser):
    """argparse, with "did you mean" for a mistyped command, choice or option."""

    def error(self, message: str) -> NoReturn:
        import difflib
        import re

        hint = ""
        if "the following arguments are required: action" in message:
            actions = next(
                (a.choices for a in self._actions if a.dest == "action" and a.choices), ()
            )
            message = f"name an action: {', '.join(map(str, actions))} (see {self.prog} --help)"
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        unknown = re.match(r"unrecognized arguments: (\S+)", message)
        if choice:
            options = re.findall(r"'([^']*)'", choice[2]) or [
                c.strip() for c in choice[2].split(",")
            ]
            close = difflib.get_close_matches(choice[1], options, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
        elif unknown:
            close = difflib.get_close_matches(unknown[1].split("=")[0], self._all_options(), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
        super().error(message + hint)

    def _all_options(self) -> list[str]:
        """This parser's option strings and those of its commands."""
        found: list[str] = []
        for action in self._actions:
            found += [o for o in action.option_strings if o.startswith("--")]
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    found += [
                        o for a in sub._actions for o in a.option_strings if o.startswith("--")
                    ]
        return sorted(set(found))


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="gitdeps",
        description=(
            "Vendor private git requirements into a wheelhouse at build time, so the deploy "
            "target installs with plain pip and never needs a git credential."
        ),
    )
    parser.add_argument("--version", action="version", version=f"gitdeps {__version__}")
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument(
        "-v", "--verbose", action="count", default=0,
        help="show more: -v adds build output and debug detail, -vv tracebacks too",
    )  # fmt: skip
    verbosity.add_argument(
        "-q", "--quiet", action="store_true", help="show only warnings and errors"
    )
    # -v and -q after the command too (`gitdeps vendor -q ...`), as users type them.
    common = _Parser(add_help=False)
    again = common.add_mutually_exclusive_group()
    again.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=argparse.SUPPRESS,
        help="show more (also before the command)",
    )
    again.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show only warnings and errors (also before the command)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    def command(name: str, **kwargs: Any) -> argparse.ArgumentParser:
        return commands.add_parser(name, parents=[common], **kwargs)

    v = command(
        "vendor",
        help="build the git requirements into a wheelhouse, rewrite requirements, write a lock",
        description=(
            "Resolve each git requirement to a commit, fetch it, build a wheel, follow private "
            "dependencies, and write the wheelhouse, a requirements file that installs from it "
            "with plain pip, and a lock of the commits."
        ),
    )
    v.add_argument(
        "-r", "--requirement", "--requirements", dest="requirements", action="append", default=[],
        metavar="FILE",
        help="a requirements file or a pyproject.toml (repeatable); -r/-c includes inside "
        "a requirements file are followed",
    )  # fmt: skip
    v.add_argument(
        "--project", type=Path, metavar="DIR",
        help="the project whose pyproject.toml declares the dependencies (same as "
        "-r DIR/pyproject.toml)",
    )  # fmt: skip
    v.add_argument(
        "--extra", dest="extras", action="append", default=[], metavar="NAME",
        help="pyproject.toml: also the dependencies of this extra (repeatable)",
    )  # fmt: skip
    v.add_argument(
        "--group", dest="groups", action="append", default=[], metavar="NAME",
        help="pyproject.toml: also this dependency group, PEP 735 or Poetry's (repeatable)",
    )  # fmt: skip
    v.add_argument(
        "-o", "--wheelhouse", required=True, type=Path, metavar="DIR",
        help="directory the vendored wheels go into (created if missing)",
    )  # fmt: skip
    v.add_argument(
        "--output-requirements", type=Path, metavar="FILE",
        help="the rewritten requirements file to write (default: DIR/requirements.txt)",
    )  # fmt: skip
    v.add_argument(
        "--lock", type=Path, metavar="FILE",
        help="the lock of commits to read and write "
        "(default: gitdeps.lock beside the first -r file)",
    )  # fmt: skip
    v.add_argument(
        "--output-pylock", type=Path, metavar="FILE",
        help="also write a PEP 751 lock of the wheelhouse (pylock.toml or pylock.NAME.toml) "
        "that pip 26.1+ and uv install with -r",
    )  # fmt: skip
    mode = v.add_mutually_exclusive_group()
    mode.add_argument(
        "--locked", action="store_true",
        help="use exactly the locked commits; fail if the lock does not cover a requirement; "
        "never write the lock",
    )  # fmt: skip
    mode.add_argument(
        "--upgrade", action="store_true", help="re-resolve every ref, ignoring the lock"
    )
    mode.add_argument(
        "-P", "--upgrade-package", action="append", default=[], metavar="NAME",
        help="re-resolve this package's ref and keep the other locked commits (repeatable)",
    )  # fmt: skip
    target = v.add_argument_group(
        "offline targets",
        "Put the public dependencies into the wheelhouse too, resolved by pip for this machine "
        "or the target described, so the target installs with --no-index; every line is then "
        "pinned with hashes.",
    )
    target.add_argument(
        "--include-public", action="store_true",
        help="also vendor the public dependency closure (wheels only)",
    )  # fmt: skip
    target.add_argument(
        "--platform", action="append", default=[], metavar="TAG",
        help="the target's platform tag, e.g. manylinux2014_x86_64 or win_amd64 (repeatable)",
    )  # fmt: skip
    target.add_argument("--python-version", metavar="X.Y", help="the target's Python, e.g. 3.11")
    target.add_argument(
        "--implementation", metavar="IMPL", help="the target's Python implementation: cp, pp, py"
    )
    target.add_argument(
        "--abi", action="append", default=[], metavar="ABI",
        help="the target's ABI tag, e.g. cp311 (repeatable)",
    )  # fmt: skip
    v.add_argument(
        "-j", "--jobs", type=int, metavar="N",
        help="builds at once (default: the CPU count); fetches overlap them regardless",
    )  # fmt: skip
    v.add_argument(
        "--timeout", metavar="SECONDS",
        help="how long a git host may take to answer a request, or stay silent in a body, "
        "before gitdeps tries again (default 30, three tries; also $GITDEPS_HTTP_TIMEOUT)",
    )  # fmt: skip
    _json_option(v)
    v.add_argument(
        "--no-build-isolation", dest="build_isolation", action="store_false",
        help="build with the backends installed in this environment instead of isolated ones",
    )  # fmt: skip
    v.add_argument(
        "--installer", choices=("auto", "pip", "uv"),
        default=os.environ.get("GITDEPS_INSTALLER", "auto"),
        help="what installs build requirements into isolated environments (default: auto: the "
        "uv that comes with gitdeps, pip where it cannot run; or $GITDEPS_INSTALLER)",
    )  # fmt: skip
    _cache_options(v)
    _config_option(v)
    v.add_argument(
        "--no-cache", dest="use_cache", action="store_false",
        help="neither read nor write the cache of built wheels and build environments",
    )  # fmt: skip
    v.add_argument(
        "--remote-cache", metavar="URL",
        help="a wheel cache shared by every machine: an Azure Blob container URL (default: "
        "$GITDEPS_REMOTE_CACHE, else [cache] remote in gitdeps.toml; 'none' turns it off)",
    )  # fmt: skip
    v.add_argument(
        "--remote-cache-read-only", action="store_true", default=None,
        help="download from the remote cache, never upload (for untrusted builds such as "
        "pull requests)",
    )  # fmt: skip

    ch = command(
        "check",
        help="is the lock up to date? which locked branches have new commits, which tags moved",
        description="Asks each locked repository what its refs name now (one ls-remote each; "
        "vendor --locked asks nothing). Prints what changed; exits 0 when the lock is up to "
        f"date, {EXIT_OUT_OF_DATE} when a ref moved or a requirement is not locked.",
    )
    ch.add_argument(
        "--lock", type=Path, metavar="FILE",
        help="the lock to check (default: gitdeps.lock beside the first -r file, else ./)",
    )  # fmt: skip
    ch.add_argument(
        "-r", "--requirement", "--requirements", dest="requirements", action="append", default=[],
        metavar="FILE",
        help="also report this file's git requirements that the lock does not cover "
        "(repeatable)",
    )  # fmt: skip
    _json_option(ch)
    _config_option(ch)

    ve = command(
        "verify",
        help="is the wheelhouse exactly what the lock records? offline, on the target or in CI",
        description="Checks, reading files only: every wheel the lock names is in the "
        "wheelhouse with its sha256, no wheel is there that nothing names, no wheel's metadata "
        "still names a git URL, and the output requirements (and the pylock) pin the same "
        f"wheels. One line per problem, naming the wheel; exits 0 when whole, "
        f"{EXIT_NOT_AS_LOCKED} otherwise.",
    )
    ve.add_argument(
        "-o", "--wheelhouse", required=True, type=Path, metavar="DIR",
        help="the vendored wheelhouse to check",
    )  # fmt: skip
    ve.add_argument(
        "--lock", required=True, type=Path, metavar="FILE", help="the gitdeps lock it was made with"
    )
    ve.add_argument(
        "--output-requirements", type=Path, metavar="FILE",
        help="also check the requirements file written with it",
    )  # fmt: skip
    ve.add_argument(
        "--pylock", type=Path, metavar="FILE", help="also check the pylock.toml written with it"
    )
    _json_option(ve)

    p = command(
        "prebuild",
        help="the pre-build hook: vendor the app's requirements.txt in place (Oryx)",
        description="Run in the app root, e.g. as Oryx's PRE_BUILD_COMMAND on Azure Functions "
        "(remote build) or App Service: vendors requirements.txt (or "
        "$CUSTOM_REQUIREMENTSTXT_PATH) into .gitdeps/wheelhouse and rewrites the file in place, "
        "keeping the original as requirements.gitdeps-original.txt, so the build's own pip "
        "install needs no git credential. Running it twice is harmless.",
    )
    p.add_argument(
        "--app-dir", type=Path, default=Path(), metavar="DIR", help="the app root (default: .)"
    )
    p.add_argument(
        "-r", "--requirement", "--requirements", dest="requirements", metavar="FILE",
        help="the requirements file, relative to the app root (default: "
        "$CUSTOM_REQUIREMENTSTXT_PATH, else requirements.txt)",
    )  # fmt: skip
    p.add_argument("--locked", action="store_true", help="use exactly the commits in gitdeps.lock")
    p.add_argument(
        "-j", "--jobs", type=int, metavar="N", help="builds at once (default: CPU count)"
    )
    p.add_argument("--no-cache", dest="use_cache", action="store_false", help="bypass the cache")
    _config_option(p)

    a = command(
        "auth",
        help="check the credentials for every git host in the requirements",
        description="For each git host in the requirements: which provider answers, when its "
        "token expires (where known), and whether the host accepts it (one ls-remote). Prints "
        "no secret. Exits 4 when a host does not accept what gitdeps would send.",
    )
    a.add_argument("action", choices=("check",), help="check: ask each host once")
    a.add_argument(
        "-r", "--requirement", "--requirements", dest="requirements", action="append",
        metavar="FILE", help="a requirements file (repeatable; default: requirements.txt)",
    )  # fmt: skip
    _json_option(a)
    _config_option(a)

    w = command(
        "rewrite",
        help="copy requirements with each git URL carrying its host's token (for pip to clone)",
        description="For flows where pip itself must clone: writes OUT with a token in each git "
        "URL, owner-only, with a warning at the top; nothing printed shows a token. Prefer "
        "`gitdeps vendor`, which gives the target wheels and no token at all.",
    )
    w.add_argument(
        "-r", "--requirement", "--requirements", dest="requirements", action="append",
        required=True, metavar="FILE", help="a requirements file (repeatable)",
    )  # fmt: skip
    w.add_argument(
        "-o", "--output", required=True, type=Path, metavar="OUT", help="the file to write"
    )
    w.add_argument(
        "--for", dest="installer", choices=("pip", "uv"), default="pip",
        help="who clones from OUT (default: pip). pip cannot be given a token for a private "
        "package that only another private package requires, so for pip such a package is an "
        "error; uv reuses a host's token, so for uv it gets a line of its own",
    )  # fmt: skip
    _config_option(w)

    li = command(
        "login",
        help="sign in to Azure DevOps once on this machine (device code); later runs are silent",
        description="Signs in with Microsoft Entra ID through msal's device-code flow: open the "
        "page shown, enter the code. The token cache is kept owner-only in gitdeps' state "
        "directory and refreshed silently; hosts use it when they have no token from the "
        'environment, or when configured with provider = "msal".',
    )
    li.add_argument("host", nargs="?", default="dev.azure.com", help="default: dev.azure.com")
    _config_option(li)
    lo = command("logout", help="forget the accounts gitdeps login signed in")
    _config_option(lo)

    pub = command(
        "publish",
        help="upload vendored wheels to a package index or Azure Artifacts feed",
        description="Uploads wheels (by default every wheel of the wheelhouse) with twine's "
        "upload protocol. The index's token comes from the same places as a git host's: "
        "GITDEPS_TOKEN_<HOST>, a provider in gitdeps.toml (azure-identity for "
        "pkgs.dev.azure.com), ...",
    )
    pub.add_argument("--repository-url", required=True, metavar="URL", help="the upload URL")
    pub.add_argument("-o", "--wheelhouse", type=Path, default=Path("wheelhouse"), metavar="DIR")
    pub.add_argument("wheels", nargs="*", type=Path, metavar="WHEEL", help="default: DIR/*.whl")
    pub.add_argument(
        "--skip-existing", action="store_true",
        help="a wheel the feed answers 409 for is fine, once its index shows the same sha256 "
        "(a wheel listed there with the same sha256 is always skipped; with another, never)",
    )  # fmt: skip
    pub.add_argument(
        "--public-versions", action="store_true",
        help="publish each wheel at its version without the +g<commit> label, the pins between "
        "the wheels rewritten to match (for feeds that refuse local versions: Azure Artifacts)",
    )  # fmt: skip
    pub.add_argument(
        "--index-url", metavar="URL",
        help="where the feed lists its files (default: beside the upload URL, .../simple/)",
    )  # fmt: skip
    _config_option(pub)

    h = command("help", help="show the help of gitdeps, or of one command")
    h.add_argument("topic", nargs="?", metavar="COMMAND", help="the command to explain")

    c = command(
        "cache",
        help="show or empty the cache of built wheels and build environments",
        description="The cache keeps built wheels by commit and build environments by "
        "requirements, so later runs need no fetch or build for commits seen before.",
    )
    c.add_argument(
        "action", choices=("info", "clean"), help="info: where and how big; clean: empty it"
    )
    c.add_argument(
        "--wait", type=float, metavar="SECONDS",
        help="clean: how long to wait for runs using the cache to finish (default 30)",
    )  # fmt: skip
    _json_option(c)
    _cache_options(c)
    return parser


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, metavar="FILE",
        help="credential providers per host (default: gitdeps.toml, else [tool.gitdeps] in "
        "pyproject.toml, in the working directory)",
    )  # fmt: skip


def _cache_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cache-dir", type=Path, metavar="DIR",
        help="the cache (default: $GITDEPS_CACHE_DIR, else the user cache directory)",
    )  # fmt: skip


def _prebuild(args: argparse.Namespace) -> int:
    from ._prebuild import prebuild

    result = prebuild(
        app_dir=args.app_dir,
        requirements=args.requirements,
        locked=args.locked,
        jobs=args.jobs,
        use_cache=args.use_cache,
        config=args.config,
    )
    if result is not None and not args.quiet:
        _summary(result, live=None)
    return EXIT_OK


def _json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true",
        help="print one JSON document on stdout (errors too; see docs/cli.md for the schema)",
    )  # fmt: skip


def _auth(args: argparse.Namespace) -> int:
    from ._authcheck import check_auth

    reports = check_auth(args.requirements or ["requirements.txt"], config=args.config)
    accepted = all(r.accepted for r in reports)
    if args.json:
        hosts = [{**dataclasses.asdict(r), "detail": redact(r.detail)} for r in reports]
        _write_json({"command": "auth check", "ok": accepted, "hosts": hosts})
        return EXIT_OK if accepted else AuthError.exit_code
    if not reports:
        sys.stdout.write("no git hosts in the requirements\n")
        return EXIT_OK
    for report in reports:
        who = report.source or "no credential (anonymous)"
        when = ""
        if report.expires_on is not None:
            minutes = (report.expires_on - time.time()) / 60
            when = f", expires in {minutes:.0f} min"
        verdict = "accepted" if report.accepted else "NOT accepted"
        sys.stdout.write(f"{report.host}: {who}{when}: {verdict} ({report.repository})\n")
        if not report.accepted:
            sys.stdout.write(f"  {redact(report.detail)}\n")
    return EXIT_OK if all(r.accepted for r in reports) else AuthError.exit_code


def _rewrite(args: argparse.Namespace) -> int:
    from ._token_rewrite import rewrite

    count = rewrite(args.requirements, args.output, config=args.config, installer=args.installer)
    if not args.quiet:
        sys.stdout.write(f"wrote {args.output} ({count} git requirements with a token)\n")
    return EXIT_OK


def _login(args: argparse.Namespace) -> int:
    from ._config import load_config
    from ._credentials.msal_login import login

    host_config = load_config(args.config).for_host(args.host)
    user = login(host_config, show=lambda message: sys.stderr.write(message + "\n"))
    sys.stdout.write(f"signed in as {user}; gitdeps will use this account for {args.host}\n")
    return EXIT_OK


def _logout(args: argparse.Namespace) -> int:
    from ._credentials.msal_login import logout

    count = logout()
    sys.stdout.write(f"forgot {count} account{'s' if count != 1 else ''}\n")
    return EXIT_OK


def _publish(args: argparse.Namespace) -> int:
    from ._publish import publish

    wheels = args.wheels or sorted(args.wheelhouse.glob("*.whl"))
    if not wheels:
        raise GitDepsError.at(
            args.wheelhouse, "no wheels to publish", hint="run gitdeps vendor first"
        )
    done = publish(
        wheels,
        args.repository_url,
        config=args.config,
        skip_existing=args.skip_existing,
        public_versions=args.public_versions,
        index_url=args.index_url,
    )
    if not args.quiet:
        there = len(wheels) - len(done)
        sys.stdout.write(
            f"uploaded {len(done)} wheel{'s' if len(done) != 1 else ''}"
            + (f" ({there} already there)" if there else "")
            + "\n"
        )
    return EXIT_OK


def _cache(args: argparse.Namespace) -> int:
    cache = Cache(args.cache_dir or cache_dir())
    if args.wait is not None and not 0 <= args.wait < float("inf"):
        raise GitDepsError(f"--wait {args.wait}: give a number of seconds, 0 or more")
    wait = 30.0 if args.wait is None else args.wait
    stats = cache.clean(wait=wait) if args.action == "clean" else cache.stats()
    if args.json:
        _write_json(
            {
                "command": f"cache {args.action}",
                "ok": True,
                "root": str(stats.root),
                "wheels": stats.wheels,
                "environments": stats.environments,
                "bytes": stats.bytes,
            }
        )
        return EXIT_OK
    verb = "removed" if args.action == "clean" else "holds"
    sys.stdout.write(
        f"{stats.root} {verb} {stats.wheels} wheels and {stats.environments} build environments "
        f"({stats.bytes / 1e6:.1f} MB)\n"
    )
    return EXIT_OK


def _verify(args: argparse.Namespace) -> int:
    from ._verify import verify

    report = verify(
        args.wheelhouse,
        args.lock,
        output_requirements=args.output_requirements,
        pylock=args.pylock,
    )
    if args.json:
        _write_json(report.as_json())
    else:
        for problem in report.problems:
            sys.stdout.write(f"{problem}\n")
        if not args.quiet:
            sys.stdout.write(
                f"{report.wheelhouse}: {report.wheels} wheels as locked in {report.lock}\n"
                if report.ok
                else f"{report.wheelhouse}: {len(report.problems)} problems\n"
            )
    return EXIT_OK if report.ok else EXIT_NOT_AS_LOCKED


def _check(args: argparse.Namespace) -> int:
    from ._check import check

    lock = args.lock or (
        Path(args.requirements[0]).parent / "gitdeps.lock" if args.requirements else None
    )
    report = check(lock or Path("gitdeps.lock"), args.requirements, config=args.config)
    if args.json:
        sys.stdout.write(json.dumps(report.as_json(), indent=2) + "\n")
    else:
        for package in report.packages:
            if not package.up_to_date:
                sys.stdout.write(package.describe() + "\n")
        if not args.quiet:
            behind = sum(not p.up_to_date for p in report.packages)
            sys.stdout.write(
                f"{report.lock}: up to date ({len(report.packages)} packages)\n"
                if not behind
                else f"{report.lock}: {behind} of {len(report.packages)} out of date; "
                "gitdeps vendor --upgrade-package NAME takes the new commit\n"
            )
    return EXIT_OK if report.up_to_date else EXIT_OUT_OF_DATE


def _vendor(args: argparse.Namespace) -> int:
    requirements = [*args.requirements]
    if args.project is not None:
        requirements.append(str(args.project / "pyproject.toml"))
    wheelhouse: Path = args.wheelhouse
    output = args.output_requirements or wheelhouse / "requirements.txt"
    lock = args.lock or Path(requirements[0]).parent / "gitdeps.lock"
    if args.timeout is not None:
        try:
            seconds = float(args.timeout)
        except ValueError:
            seconds = -1.0
        if not 0 < seconds < float("inf"):
            raise GitDepsError(f"--timeout {args.timeout}: give a number of seconds above 0")
        os.environ["GITDEPS_HTTP_TIMEOUT"] = str(seconds)  # this process is the CLI's own
    options = VendorOptions(
        locked=args.locked,
        upgrade=args.upgrade,
        upgrade_packages=tuple(args.upgrade_package),
        include_public=args.include_public,
        platform=tuple(args.platform),
        python_version=args.python_version,
        implementation=args.implementation,
        abi=tuple(args.abi),
        jobs=args.jobs,
        build_isolation=args.build_isolation,
        installer=args.installer,
        cache_dir=args.cache_dir,
        use_cache=args.use_cache,
        config=args.config,
        extras=tuple(args.extras),
        groups=tuple(args.groups),
        remote_cache=args.remote_cache,
        remote_cache_read_only=args.remote_cache_read_only,
    )
    from . import _timing

    _timing.reset()
    if (up := _timing.since_process_start()) is not None:
        _timing.add("start-up", up)  # the interpreter, imports and parsing the command line
    live = _live(args)
    try:
        with live if live is not None else contextlib.nullcontext():
            result = vendor(
                requirements, wheelhouse, output, lock, options=options, pylock=args.output_pylock
            )
    finally:
        spent = _timing.split()
        logging.getLogger("gitdeps").debug(
            "time: %s", ", ".join(f"{name} {s:.2f} s" for name, s in spent.items())
        )
    if args.json:
        _write_json(vendor_json(result))
    elif not args.quiet:
        _summary(result, live=live)
    _job_summary(result)
    return EXIT_OK


def _job_summary(result: VendorResult) -> None:
    from ._annotations import job_summary

    job_summary(
        f"gitdeps vendored {len(result.packages)} packages into {result.wheelhouse}",
        [
            (p.name, p.version, p.obtained, f"{redact(p.source)} @ {p.commit[:12]}")
            for p in result.packages
        ],
        header=("package", "version", "wheel from", "source"),
    )


class _Live:
    """The live display of a vendor run, with the log's lines printed above it."""

    def __init__(self, color: bool) -> None:
        from ._live import LiveDisplay

        self.color = color
        self.display = LiveDisplay(sys.stderr, color=color)
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> _Live:
        from ._progress import shown_on

        root = logging.getLogger("gitdeps")
        plain = [h for h in root.handlers if type(h) is logging.StreamHandler]
        formatter = _Formatter(self.color)
        above = self.display.handler(formatter.format)
        for handler in plain:
            root.removeHandler(handler)
        root.addHandler(above)

        def restore() -> None:
            root.removeHandler(above)
            for handler in plain:
                root.addHandler(handler)

        self._stack.callback(restore)
        self._stack.enter_context(self.display)
        self._stack.enter_context(shown_on(self.display))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()


def _live(args: argparse.Namespace) -> _Live | None:
    """A live display when a person watches: stderr a terminal, no -v, -q or --json, and
    not inside a pipeline's log."""
    from ._annotations import pipeline

    if args.verbose or args.quiet or args.json or not sys.stderr.isatty():
        return None
    if os.environ.get("TERM") == "dumb" or pipeline() is not None:
        return None
    return _Live(use_color(os.environ, True))


def vendor_json(result: VendorResult) -> dict[str, object]:
    """The report of a vendor run for scripts (``--json``; the schema is in docs/cli.md)."""
    remote = result.remote_cache
    return {
        "command": "vendor",
        "ok": True,
        "wheelhouse": str(result.wheelhouse),
        "output_requirements": str(result.output_requirements),
        "lock": str(result.lock) if result.lock is not None else None,
        "pylock": str(result.pylock) if result.pylock is not None else None,
        "seconds": round(result.seconds, 3),
        "packages": [
            {
                "name": p.name,
                "version": p.version,
                "wheel": p.path.name,
                "sha256": p.sha256,
                "url": p.url,
                "requested_revision": p.requested_revision,
                "commit": p.commit,
                "subdirectory": p.subdirectory,
                "requested_by": list(p.requested_by),
                "source": p.obtained,
            }
            for p in result.packages
        ],
        "remote_cache": dataclasses.asdict(remote) if remote is not None else None,
    }


def _write_json(document: object) -> None:
    sys.stdout.write(redact(json.dumps(document, indent=2)) + "\n")


def _error_json(command: str, exc: GitDepsError) -> dict[str, object]:
    errors = exc.errors if isinstance(exc, SeveralErrors) else (exc,)
    return {
        "command": command,
        "ok": False,
        "exit_code": exc.exit_code,
        "errors": [
            {
                "kind": type(error).__name__,
                "message": error.message,
                "input": error.input,
                "hint": error.hint,
                "exit_code": error.exit_code,
            }
            for error in errors
        ],
    }


def _summary(result: VendorResult, *, live: _Live | None) -> None:
    out = sys.stdout
    count = len(result.packages)
    out.write(
        f"vendored {count} package{'s' if count != 1 else ''} into {result.wheelhouse} "
        f"in {result.seconds:.1f} s\n"
    )
    if live is not None:
        from ._live import summary_table
        from ._progress import Finished

        seconds = {canonicalize_name(f.package): f.seconds for f in live.display.finished}
        rows = [
            Finished(p.name, p.version, p.obtained, seconds.get(canonicalize_name(p.name), 0.0))
            for p in result.packages
        ]
        summary_table(rows, out, color=live.color and out.isatty())
    else:
        width = max((len(p.name) for p in result.packages), default=0)
        for package in result.packages:
            out.write(
                f"  {package.name:<{width}}  {package.version}  from {package.commit[:12]} "
                f"({package.obtained})\n"
            )
    if result.remote_cache is not None:
        remote = result.remote_cache
        failed = f", {remote.failed} not answered" if remote.failed else ""
        out.write(
            f"remote cache: {remote.hits} downloaded, {remote.uploads} uploaded, "
            f"{remote.misses} not there{failed}\n"
        )
    out.write(f"install with: pip install -r {result.output_requirements}\n")


_interrupted = threading.Event()


def _terminate(signum: int, frame: object) -> None:
    """Ctrl-C or SIGTERM: the first stops the run cleanly (what is under way is cut short
    and nothing half-made is kept); a second ends the process at once."""
    if _interrupted.is_set():
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write("gitdeps: interrupted again; stopping now\n")
            sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)
    _interrupted.set()
    raise KeyboardInterrupt


def _leave(code: int) -> int:
    """After an interrupt: the workers get a moment to end (their waits are cut); one
    still busy after that does not hold the process (the interpreter would join it)."""
    from . import _stop

    _stop.stop()
    give_up = time.monotonic() + _EXIT_GRACE
    others = [
        t for t in threading.enumerate() if t is not threading.current_thread() and not t.daemon
    ]
    for thread in others:
        thread.join(max(0.0, give_up - time.monotonic()))
    if any(thread.is_alive() for thread in others):
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)
    return code


_EXIT_GRACE = 5.0


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    if args.command == "help":  # exits, as --help does
        parser.parse_args([args.topic, "--help"] if args.topic else ["--help"])
    if args.command == "vendor" and not args.requirements and args.project is None:
        parser.error("vendor: the following arguments are required: -r/--requirement or --project")
    verbosity = -1 if args.quiet else args.verbose
    if threading.current_thread() is threading.main_thread():
        _interrupted.clear()
        signal.signal(signal.SIGTERM, _terminate)  # cleaned up like Ctrl-C, not cut off
        signal.signal(signal.SIGINT, _terminate)
    _configure_logging(verbosity)
    log = logging.getLogger("gitdeps")
    commands = {
        "vendor": _vendor,
        "check": _check,
        "verify": _verify,
        "prebuild": _prebuild,
        "auth": _auth,
        "rewrite": _rewrite,
        "publish": _publish,
        "login": _login,
        "logout": _logout,
        "cache": _cache,
    }
    try:
        return commands[args.command](args)
    except GitDepsError as exc:
        if getattr(args, "json", False):
            _write_json(_error_json(args.command, exc))
        from ._annotations import job_summary

        failed = exc.errors if isinstance(exc, SeveralErrors) else (exc,)
        job_summary(
            f"gitdeps {args.command} failed (exit {exc.exit_code})",
            [(e.input or "", e.message, e.hint or "") for e in failed],
            header=("input", "error", "what to do"),
        )
        if verbosity >= 2:
            log.error("%s", redact("".join(traceback.format_exception(exc))).rstrip())
        else:  # the one line, then (-v) its context set apart; each, when several
            for error in (*exc.errors, exc) if isinstance(exc, SeveralErrors) else (exc,):
                log.error("%s", GitDepsError.render(error, verbose=verbosity >= 1))
        return exc.exit_code
    except OutputsSwitched:
        log.error("interrupted while the outputs were being replaced; the new set was completed")
        return _leave(EXIT_INTERRUPTED)
    except KeyboardInterrupt:
        log.error("interrupted; nothing was written")
        return _leave(EXIT_INTERRUPTED)
    except Exception as exc:  # a bug: say so, briefly, unless asked for more
        if verbosity >= 2:
            log.error("%s", redact("".join(traceback.format_exception(exc))).rstrip())
        else:
            log.error(
                "internal error: %s: %s (run with -vv for the traceback, and please report it)",
                type(exc).__name__,
                exc,
            )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
