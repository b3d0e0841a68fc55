"""Running other programs: never with a secret in argv or the environment, never
waiting for input, output kept for the error message and shown only with ``-v``."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from . import _stop
from ._credentials.hosts import ci_secret_variables
from ._secret import holds_secret, redact
from ._settings import env_seconds

__all__ = [
    "ProcessFailed",
    "ProcessTimedOut",
    "adopt",
    "build_timeout",
    "clean_environ",
    "run",
    "stop_builds",
    "stop_children",
]

logger = logging.getLogger("gitdeps.subprocess")

# Names that hold credentials gitdeps or the CI may have handed us. Build
# backends run the package's own code: none of these may reach them.
_SECRET_NAMES = re.compile(
    r"^(GITDEPS_TOKEN_.*|"
    + "|".join(ci_secret_variables())  # each host kind's CI token variables
    + r"|BITBUCKET_.*|IDENTITY_HEADER|MSI_SECRET|AZURE_CLIENT_SECRET"
    r"|AZURE_CLIENT_CERTIFICATE_.*|AZURE_PASSWORD|AZURE_USERNAME|AZURE_FEDERATED_TOKEN.*"
    r"|ACTIONS_ID_TOKEN_REQUEST_.*|ACTIONS_RUNTIME_TOKEN|VSS_NUGET_.*|NETRC"
    r"|.*(TOKEN|SECRET|PASSWORD|PASSWD|_PAT|CREDENTIAL|_KEY)S?)$",
    re.IGNORECASE,
)
# Installer settings are the user's own and needed to reach their index: pip's and
# uv's, and what keyring backends read to sign in to a feed (artifacts-keyring takes
# VSS_NUGET_* in Azure Pipelines; pip and uv read NETRC).
_KEEP = re.compile(r"^(PIP_|UV_|VSS_NUGET_|ARTIFACTS_KEYRING_|KEYRING_|PYTHON_KEYRING_).*|NETRC$")
# Where git looks for a repository: set by a git hook or a CI step that runs
# gitdeps, they would point a build's own ``git describe`` at the wrong one.
_GIT_LOCATION = re.compile(
    r"^GIT_(DIR|WORK_TREE|INDEX_FILE|OBJECT_DIRECTORY|ALTERNATE_OBJECT_DIRECTORIES"
    r"|COMMON_DIR|NAMESPACE|CEILING_DIRECTORIES|DISCOVERY_ACROSS_FILESYSTEM)$"
)


def clean_environ(
    environ: Mapping[str, str] | None = None, *, installer: bool = False
) -> dict[str, str]:
    """The environment minus every credential-looking variable and known secret.

    With ``installer``, pip's and uv's own settings and what feed sign-in needs
    (``VSS_NUGET_*`` for artifacts-keyring, ``NETRC``) stay even when they hold a
    credential: the installer needs them, and it runs no package code when it
    installs wheels. Git tokens never stay.
    """
    environ = os.environ if environ is None else environ
    cleaned = {}
    for name, value in environ.items():
        if _GIT_LOCATION.match(name):
            continue
        if (installer and _KEEP.match(name)) or (
            not _SECRET_NAMES.match(name) and not holds_secret(value)
        ):
            cleaned[name] = value
    cleaned["GIT_TERMINAL_PROMPT"] = "0"
    cleaned["PIP_NO_INPUT"] = "1"
    return cleaned


class ProcessFailed(Exception):
    def __init__(self, command: Sequence[str], returncode: int, output: str) -> None:
        super().__init__(f"{command[0]} exited with {returncode}")
        self.command = list(command)
        self.returncode = returncode
        self.output = output

    def tail(self, lines: int = 15) -> str:
        kept = [line for line in self.output.splitlines() if line.strip()][-lines:]
        return "\n".join("    " + line for line in kept)


class ProcessTimedOut(ProcessFailed):
    """The command ran longer than it may, and was stopped."""

    def __init__(self, command: Sequence[str], seconds: float, output: str) -> None:
        super().__init__(command, -1, output)
        self.seconds = seconds


_DEFAULT_BUILD_TIMEOUT = 3600.0


def build_timeout() -> float:
    """Seconds a build step may take: ``$GITDEPS_BUILD_TIMEOUT``, default an hour."""
    return env_seconds("GITDEPS_BUILD_TIMEOUT", _DEFAULT_BUILD_TIMEOUT)


def run(
    command: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: str | os.PathLike[str] | None = None,
) -> str:
    """Run ``command``; return its combined output, or raise :class:`ProcessFailed`.

    The output goes to a file, not a pipe: gitdeps waits for the process, not for
    the end of its output, so a child it leaves running (a daemon holding stdout)
    cannot hold the run. The command runs in its own process group, and whatever
    of that group is still running when it exits, or when it overruns
    ``GITDEPS_BUILD_TIMEOUT``, is stopped.
    """
    timeout = build_timeout()
    started = time.monotonic()
    with tempfile.TemporaryFile() as captured:
        proc = _spawn(
            command,
            building=True,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=captured,
            stderr=subprocess.STDOUT,
        )
        timed_out = False
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            _reap(proc)
        captured.seek(0)
        output = redact(captured.read().decode("utf-8", "replace"))
    logger.debug(
        "ran %s (%.2f s, exit %s)",
        redact(" ".join(str(c) for c in command))[:300],
        time.monotonic() - started,
        "timed out" if timed_out else proc.returncode,
    )
    if output.strip():
        logger.debug("%s", output.rstrip())
    # killed by stop() or fail(): its failure is no news
    _stop.check("using what it made", building=True)
    if timed_out:
        raise ProcessTimedOut(command, timeout, output)
    if proc.returncode:
        raise ProcessFailed(command, proc.returncode, output)
    return output


# Each command run() or tracked() started and has not reaped, and whether it builds
# (a backend, an installer: run()) rather than fetches (tracked()).
_live: dict[subprocess.Popen[bytes], bool] = {}
# Processes another library started (dulwich's ssh), in gitdeps' own process group: a
# SIGTERM sent to gitdeps alone would not reach them.
_adopted: weakref.WeakSet[subprocess.Popen[bytes]] = weakref.WeakSet()
_live_lock = threading.Lock()


def _spawn(command: Sequence[str], *, building: bool, **kwargs: Any) -> subprocess.Popen[bytes]:
    """``command`` started in a process group of its own and known to :func:`stop_children`;
    refused once the run is stopping, or (``building``) once part of it failed: the
    hooks kill under the same lock, so no command starts after them."""
    with _live_lock:
        _stop.check(f"running {Path(str(command[0])).name}", building=building)
        proc: subprocess.Popen[bytes] = subprocess.Popen(
            list(command), start_new_session=os.name != "nt", **kwargs
        )
        _live[proc] = building
    return proc


def _reap(proc: subprocess.Popen[bytes]) -> None:
    """``proc`` and what it left in its group stopped, and forgotten."""
    _stop_group(proc)
    with _live_lock:
        _live.pop(proc, None)


def adopt(proc: subprocess.Popen[bytes]) -> None:
    """A process started elsewhere (not in a group of its own) ends with the run too."""
    with _live_lock:
        _adopted.add(proc)


def stop_children() -> None:
    """Stop every command run() is waiting for (and what each left in its group), and
    every adopted process: on Ctrl-C the threads that wait for them then end at once."""
    with _live_lock:
        for proc in _live:
            _kill_group(proc)
        for proc in _adopted:
            with contextlib.suppress(OSError):
                if proc.poll() is None:
                    proc.kill()


def stop_builds() -> None:
    """Stop every build and installer run() is waiting for: part of the run failed."""
    with _live_lock:
        for proc, building in _live.items():
            if building:
                _kill_group(proc)


_stop.on_stop(stop_children)
_stop.on_fail(stop_builds)


@contextlib.contextmanager
def tracked() -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Processes started by the function this yields (``subprocess.Popen``'s arguments)
    are stopped with the run, and killed (each its own process group) on the way out."""
    started: list[subprocess.Popen[bytes]] = []

    def start(command: Sequence[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        proc = _spawn(command, building=False, **kwargs)
        started.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in started:
            _reap(proc)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill ``proc`` and everything in its process group; never waits."""
    if os.name == "nt":  # pragma: no cover - no process groups: the command alone
        if proc.poll() is None:
            proc.kill()
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # the group is gone already


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop the command (if it still runs) and every process it left in its group."""
    _kill_group(proc)
    proc.wait()
