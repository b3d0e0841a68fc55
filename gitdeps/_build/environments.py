"""Isolated build environments, created once per distinct set of build requirements.

pip and uv create a fresh environment for every package, and that is most of a
cold build. Here packages whose build requirements agree share one, and with a
cache the environment outlives the run. Installs honour the user's index
settings (pip's configuration is carried over when uv does the installing) and
never see a git credential.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

from .._cache.local import Cache
from .._dirs import home
from .._errors import BuildError
from .._fs import disk_hint
from .._once import Once
from .._subprocess import clean_environ, run
from .._timing import phase

__all__ = [
    "BuildEnvironments",
    "Installer",
    "PipInstaller",
    "UvInstaller",
    "choose_installer",
    "find_uv",
    "pip_index_options",
    "uv_environment",
]

logger = logging.getLogger("gitdeps")

_COMPLETE = ".gitdeps-complete"


def find_uv() -> str | None:
    """The uv executable, from the ``uv`` package or PATH, if there is one."""
    try:
        import uv  # type: ignore[import-not-found,unused-ignore]

        path: str = uv.find_uv_bin()
        return path
    except (ImportError, FileNotFoundError):
        return shutil.which(os.environ.get("UV") or "uv")


def _outer_pip_usable() -> bool:
    """pip >= 22.3 beside us can install into another interpreter (``--python``)."""
    if importlib.util.find_spec("pip") is None:
        return False
    try:
        from importlib.metadata import version

        major, minor = (int(part) for part in version("pip").split(".")[:2])
    except (ImportError, ValueError):
        return False
    return (major, minor) >= (22, 3)


def _pip_config_files() -> list[Path]:
    """pip's configuration files, lowest precedence first, as pip 23-26 find them on
    POSIX (``pip._internal.configuration``): global (each ``$XDG_CONFIG_DIRS``/pip, then
    /etc), user (~/.pip, then ``$XDG_CONFIG_HOME``/pip; skipped when ``PIP_CONFIG_FILE``
    names a file that exists), site (this interpreter's prefix), then ``PIP_CONFIG_FILE``.
    ``PIP_CONFIG_FILE=/dev/null`` loads none."""
    explicit = os.environ.get("PIP_CONFIG_FILE")
    if explicit == os.devnull:
        return []
    user_home = home()
    dirs = os.environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
    files = [Path(d) / "pip" / "pip.conf" for d in dirs.split(os.pathsep) if d]
    files.append(Path("/etc/pip.conf"))
    if not (explicit and Path(explicit).exists()):
        xdg = os.environ.get("XDG_CONFIG_HOME")
        if user_home is not None:
            files.append(user_home / ".pip" / "pip.conf")
            files.append(Path(xdg or user_home / ".config") / "pip" / "pip.conf")
        elif xdg:
            files.append(Path(xdg) / "pip" / "pip.conf")
    files.append(Path(sys.prefix) / "pip.conf")
    if explicit:
        files.append(Path(explicit))
    return files


_PIP_KEYS = ("index-url", "extra-index-url", "find-links", "trusted-host", "no-index", "cert")


def _pip_settings() -> dict[str, str]:
    """pip's settings that installs need, as pip resolves them: its configuration files
    in pip's order (``[global]``, then ``[install]``, of each), then ``PIP_*``. Read in
    this process (a ``pip config list`` costs a Python start-up per run), once per set
    of files as they are on disk. Where pip finds its files elsewhere (Windows, macOS),
    ``pip config list`` itself is asked."""
    environment = tuple(
        (name, value)
        for name, value in sorted(os.environ.items())
        if name.startswith("PIP_") or name in ("HOME", "XDG_CONFIG_HOME", "XDG_CONFIG_DIRS")
    )
    if sys.platform in ("win32", "darwin"):  # pragma: no cover - pip's own paths there
        return dict(_pip_config_list(environment))
    stamps = []
    for path in _pip_config_files():
        try:
            info = path.stat()
            stamps.append((str(path), info.st_mtime_ns, info.st_size))
        except OSError:
            continue
    return dict(_pip_files_and_environment(tuple(stamps), environment))


@functools.lru_cache(maxsize=4)
def _pip_config_list(environment: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """``pip config list`` for this environment (the cache key), or () without pip."""
    if importlib.util.find_spec("pip") is None:
        return ()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "config", "list"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ()
    if proc.returncode != 0:
        return ()
    return tuple(parse_pip_config_list(proc.stdout).items())


def parse_pip_config_list(text: str) -> dict[str, str]:
    """``pip config list``'s output, its sections merged as pip applies them."""
    import ast

    sections: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        name, sep, quoted = line.partition("=")
        section, dot, option = name.rpartition(".")
        if not sep or not dot:
            continue
        try:
            value = ast.literal_eval(quoted)
        except (ValueError, SyntaxError):
            continue
        sections.setdefault(section, {})[option] = str(value)
    merged: dict[str, str] = {}
    for section in ("global", "install", ":env:"):  # later wins, as pip applies them
        merged.update(sections.get(section, {}))
    return merged


@functools.lru_cache(maxsize=8)
def _pip_files_and_environment(
    stamps: tuple[tuple[str, int, int], ...], environment: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, str], ...]:
    """The files ``stamps`` names, in order, then the ``PIP_*`` of ``environment``: the
    arguments are the cache key (a file that changes on disk is read again)."""
    import configparser

    files: dict[str, dict[str, str]] = {"global": {}, "install": {}}
    for path, _, _ in stamps:
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, OSError, UnicodeDecodeError):
            continue
        for section in ("global", "install"):
            if parser.has_section(section):
                files[section].update(dict(parser.items(section)))
    values = {**files["global"], **files["install"]}  # [install] wins, as pip applies it
    given = dict(environment)
    for key in _PIP_KEYS:
        env = given.get("PIP_" + key.upper().replace("-", "_"))
        if env is not None:
            values[key] = env
    return tuple(values.items())


def uv_environment(env: dict[str, str]) -> dict[str, str]:
    """What uv needs to trust and sign in as pip does: the OS store (pip 24.2+ uses it
    through truststore; uv 0.9+ reads UV_SYSTEM_CERTS, older uv UV_NATIVE_TLS), pip's
    ``cert`` bundle (uv takes it as SSL_CERT_FILE), and keyring where its command is
    installed (pip finds it by itself). The caller's own settings win."""
    env = dict(env)
    env.setdefault("UV_SYSTEM_CERTS", "1")
    env.setdefault("UV_NATIVE_TLS", "1")
    if shutil.which("keyring", path=env.get("PATH")):  # artifacts-keyring & co, as pip uses them
        env.setdefault("UV_KEYRING_PROVIDER", "subprocess")
    cert = _pip_settings().get("cert", "").strip()
    if cert and "SSL_CERT_FILE" not in env:
        env["SSL_CERT_FILE"] = cert
    return env


def pip_index_options() -> list[str]:
    """pip's index settings (environment, then configuration files) as options.

    uv reads neither; passing these keeps isolated builds on the index the user
    configured for pip (an Azure Artifacts feed, a mirror behind a firewall).
    """
    values = _pip_settings()
    options: list[str] = []
    if values.get("index-url"):
        options += ["--index-url", values["index-url"].strip()]
    for key in ("extra-index-url", "find-links", "trusted-host"):
        for value in values.get(key, "").split():
            options += [f"--{key}", value]
    if values.get("no-index", "").strip().lower() in ("1", "true", "yes", "on"):
        options.append("--no-index")
    return options


_URL_OPTIONS = ("--index-url", "--extra-index-url", "--find-links")


@contextlib.contextmanager
def options_in_a_file(options: Sequence[str]) -> Iterator[list[str]]:
    """``options`` for an installer's command line, with those that carry a URL (which
    may hold an index password) moved into a private requirements file that pip and uv
    both read: a password never reaches a child's argv. The file is removed after."""
    in_file: list[str] = []
    on_line: list[str] = []
    words = iter(options)
    for word in words:
        if word in _URL_OPTIONS:
            in_file.append(f"{word} {next(words, '')}")
        else:
            on_line.append(word)
    if not in_file:
        yield on_line
        return
    handle, name = tempfile.mkstemp(prefix="gitdeps-index-", suffix=".txt")  # owner-only
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write("\n".join(in_file) + "\n")
        yield ["-r", name, *on_line]
    finally:
        Path(name).unlink(missing_ok=True)


def _uv_options(options: Sequence[str]) -> list[str]:
    """pip's spelling to uv's: ``--trusted-host`` is ``--allow-insecure-host`` there."""
    return ["--allow-insecure-host" if o == "--trusted-host" else o for o in options]


def _env_python(path: Path) -> Path:
    scripts = "Scripts" if os.name == "nt" else "bin"
    exe = "python.exe" if os.name == "nt" else "python"
    return path / scripts / exe


class BuildEnvironments:
    """A pool of build environments keyed by their requirements.

    With ``cache``, environments live in the cache and are reused by later runs;
    otherwise under ``root`` for this run only. ``installer`` is an :class:`Installer`,
    or ``"auto"`` (uv when available, else pip), ``"uv"`` or ``"pip"``.
    """

    def __init__(
        self,
        root: Path,
        *,
        index_options: Sequence[str] = (),
        installer: Installer | str = "auto",
        cache: Cache | None = None,
    ) -> None:
        self._cache = cache
        self._root = cache.environments() if cache is not None else root
        self._index_options = list(index_options)
        self._requested = installer
        self._choice = Once()
        self._envs = Once()
        self._ahead: ThreadPoolExecutor | None = None
        self._ahead_lock = threading.Lock()
        # Before threads start: sysconfig's lazy init is not thread-safe on 3.11.
        sysconfig.get_config_vars()

    @property
    def _installer(self) -> Installer:
        """The installer, chosen when the first environment is made: looking for uv and
        pip costs start-up time that a run the cache covers does not need."""
        requested = self._requested
        if not isinstance(requested, str):
            return requested
        return self._choice.get(requested, lambda: choose_installer(requested))

    @property
    def installer(self) -> str:
        return self._installer.name

    def prepare(self, requirements: Iterable[str]) -> None:
        """Start making the environment for ``requirements`` in the background (a build
        that asks :meth:`python_for` them then waits for it, or gets its error)."""
        wanted = list(requirements)
        with self._ahead_lock:
            if self._ahead is None:
                self._ahead = ThreadPoolExecutor(
                    max_workers=os.cpu_count() or 1, thread_name_prefix="gitdeps-env"
                )
            self._ahead.submit(self._quietly, wanted)

    def _quietly(self, requirements: list[str]) -> None:
        with contextlib.suppress(BaseException):  # the build that needs it says what failed
            self.python_for(requirements)

    def close(self) -> None:
        """Wait for environments begun ahead (a stopping run's end at once: their
        installers are stopped with it) and let their threads go."""
        with self._ahead_lock:
            ahead, self._ahead = self._ahead, None
        if ahead is not None:
            ahead.shutdown(wait=True, cancel_futures=True)

    def python_for(self, requirements: Iterable[str]) -> Path:
        """The interpreter of an environment holding ``requirements`` (created once)."""
        wanted = sorted({r.strip() for r in requirements if r.strip()})
        key = Cache.environment_key(wanted)
        with phase("environment"):
            return self._envs.get(key, lambda: self._ensure(key, wanted))

    def _ensure(self, key: str, requirements: list[str]) -> Path:
        try:
            return self._ensure_on_disk(key, requirements)
        except OSError as exc:
            shutil.rmtree(self._root / key, ignore_errors=True)  # never left half-made
            raise BuildError(
                f"cannot make the build environment for {', '.join(requirements) or 'nothing'} "
                f"in {self._root}: {exc.strerror or exc}",
                hint=disk_hint(exc, "GITDEPS_CACHE_DIR" if self._cache is not None else "TMPDIR"),
            ) from None

    def _ensure_on_disk(self, key: str, requirements: list[str]) -> Path:
        path = self._root / key
        if self._cache is None:
            return self._create(path, requirements)
        with self._cache.locked(
            f"env-{key}", what=f"the build environment for {', '.join(requirements) or 'nothing'}"
        ):
            if (path / _COMPLETE).exists() and _env_python(path).exists():
                logger.debug("reusing build environment for %s", ", ".join(requirements))
                return _env_python(path)
            if path.exists():  # left half-made by a run that died
                shutil.rmtree(path)
            python = self._create(path, requirements)
            (path / _COMPLETE).write_text("\n".join(requirements) + "\n")
            return python

    def _create(self, path: Path, requirements: list[str]) -> Path:
        logger.debug(
            "creating build environment (%s) for %s",
            self.installer,
            ", ".join(requirements) or "nothing",
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        import venv  # here: a run the cache covers makes no environment

        try:
            builder = venv.EnvBuilder(symlinks=os.name != "nt", with_pip=self._installer.with_pip)
            builder.create(str(path))
        except subprocess.CalledProcessError as exc:
            raise BuildError(
                f"could not create a virtual environment in {path}: {exc}",
                hint="check that this Python's venv module works (python -m venv)",
            ) from None
        python = _env_python(path)
        if not requirements:
            return python
        digest = hashlib.sha256("\n".join(requirements).encode()).hexdigest()[:12]
        requirements_file = path / f"gitdeps-build-requirements-{digest}.txt"
        requirements_file.write_text("\n".join(requirements) + "\n", encoding="utf-8")
        self._installer.install(python, requirements_file, self._index_options)
        return python


class Installer(Protocol):
    """Installs a requirements file into a new virtual environment: a build environment.

    ``with_pip``: whether the environment needs a pip of its own to be installed into.
    """

    @property
    def name(self) -> str: ...

    @property
    def with_pip(self) -> bool: ...

    def install(self, python: Path, requirements: Path, index_options: Sequence[str]) -> None: ...


@dataclasses.dataclass(frozen=True)
class UvInstaller:
    """``uv pip install --python``: fast, and needs no pip in the environment."""

    uv: str
    name: str = "uv"
    with_pip: bool = False

    def install(self, python: Path, requirements: Path, index_options: Sequence[str]) -> None:
        env = uv_environment(_installer_environ())
        env["VIRTUAL_ENV"] = str(python.parent.parent)
        command = [self.uv, "pip", "install", "--python", str(python), "--quiet"]
        try:
            with options_in_a_file([*pip_index_options(), *index_options]) as words:
                run([*command, *_uv_options(words), "-r", str(requirements)], env=env)
        except OSError as exc:  # the binary cannot run here (another libc, no exec rights)
            _say_uv_cannot_run(self.uv, exc.strerror or str(exc))
            PipInstaller(_outer_pip_usable()).install(python, requirements, index_options)


@functools.lru_cache(maxsize=1)
def _say_uv_cannot_run(uv: str, reason: str) -> None:
    """Once per run: the fallback to pip is said, not silent."""
    logger.warning("uv (%s) cannot run here (%s); installing build environments with pip", uv, reason)


@dataclasses.dataclass(frozen=True)
class PipInstaller:
    """pip: this interpreter's (``pip --python``, pip 22.3+), else one in the environment."""

    outer_pip: bool
    name: str = "pip"

    @property
    def with_pip(self) -> bool:
        return not self.outer_pip

    def install(self, python: Path, requirements: Path, index_options: Sequence[str]) -> None:
        prefix = [sys.executable, "-m", "pip", "--python", str(python)]
        command = [*(prefix if self.outer_pip else [str(python), "-Im", "pip"]), "install"]
        command += ["--no-warn-script-location", "--no-compile", "--disable-pip-version-check"]
        with options_in_a_file(index_options) as words:
            run([*command, *words, "-r", str(requirements)], env=_installer_environ())


def _installer_environ() -> dict[str, str]:
    env = clean_environ(installer=True)
    env.pop("PYTHONPATH", None)
    return env


def choose_installer(requested: str) -> Installer:
    """``"auto"`` (uv when found, else pip), ``"uv"`` or ``"pip"``."""
    uv = find_uv() if requested in ("auto", "uv") else None
    if requested == "uv" and uv is None:
        logger.warning("uv was asked for as installer but not found; using pip")
    return UvInstaller(uv) if uv is not None else PipInstaller(_outer_pip_usable())
