"""Building a wheel from a checkout with PyPA ``build`` (PEP 517).

Hooks run in a subprocess with a scrubbed environment (the package's own code
runs there), ``SOURCE_DATE_EPOCH`` from the commit for reproducible archives,
and no standard input. Output is shown with ``-v`` and quoted on failure.
"""

from __future__ import annotations

import json
import logging
import warnings
import os
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from .imports import genuine

# The installed packages, even when a build.py or pyproject_hooks.py beside the
# caller's script comes first on sys.path (see _imports).
genuine("pyproject_hooks", "pyproject_hooks")
genuine("build", "build")

import build  # noqa: E402 - after genuine() has put the installed package in sys.modules
import pyproject_hooks  # noqa: E402

from .environments import BuildEnvironments  # noqa: E402
from .._errors import BuildError  # noqa: E402
from .pep517_driver import DRIVER, backend_of, read_answer  # noqa: E402
from .._inputs.requirements import ConfigSettings  # noqa: E402
from .._subprocess import ProcessFailed, ProcessTimedOut, clean_environ, run  # noqa: E402
from .._timing import phase  # noqa: E402

__all__ = ["build_requirements", "build_wheel"]

logger = logging.getLogger("gitdeps")

# A backend's warnings (setuptools' deprecation banners: a hundred lines for one pbr
# package) are build output, shown with -v like the rest of it. pyproject_hooks re-emits
# them with the backend's own file as their location, so only their category tells them.
warnings.filterwarnings(
    "default" if logger.isEnabledFor(logging.DEBUG) else "ignore",
    category=pyproject_hooks.BuildBackendWarning,
)

# Zip archives cannot hold dates before 1980.
_ZIP_EPOCH = 315532800


class _Runner:
    """A pyproject_hooks runner: scrubbed environment, captured output."""

    def __init__(self, source_date_epoch: int) -> None:
        self._env = clean_environ()
        self._env["SOURCE_DATE_EPOCH"] = str(max(source_date_epoch, _ZIP_EPOCH))
        self._env.pop("PYTHONPATH", None)
        self.output: list[str] = []

    def text(self) -> str:
        return "\n".join(self.output)

    def prefer_scripts_of(self, python: str) -> None:
        """Put the build environment's scripts first on PATH, as PyPA build does."""
        scripts = str(Path(python).parent)
        self._env["PATH"] = scripts + os.pathsep + self._env.get("PATH", "")

    def __call__(
        self,
        cmd: Sequence[str],
        cwd: str | None = None,
        extra_environ: Mapping[str, str] | None = None,
    ) -> None:
        env = {**self._env, **(extra_environ or {})}
        try:
            with phase("backend"):
                self.output.append(run(cmd, env=env, cwd=cwd))
        except ProcessFailed as exc:
            self.output.append(exc.output)
            raise


def _check_installed(unmet: Iterable[Sequence[str]], what: str) -> None:
    """Refuse a --no-build-isolation build whose requirements (``unmet``: chains, as
    build reports them) are not all installed here."""
    missing = sorted({" -> ".join(chain) for chain in unmet})
    if missing:
        raise BuildError.at(
            what,
            "--no-build-isolation needs these build requirements installed: "
            f"{', '.join(missing)}",
            hint="install them, or drop --no-build-isolation",
        )


def _one_process_build(
    runner: _Runner, python: str, source: Path, outdir: Path, what: str, *, config: ConfigSettings
) -> tuple[Path | None, list[str]]:
    """Build with one backend process when the environment holds what the backend asks
    for; the wheel (None when it did not build) and what the backend asked for."""
    backend, backend_path = backend_of(source)
    with tempfile.TemporaryDirectory(dir=outdir) as scratch:
        answer = Path(scratch) / "answer.json"
        wheels = Path(scratch) / "wheels"
        wheels.mkdir()
        command = [python, "-c", DRIVER, str(source), str(wheels), backend]
        command += [json.dumps(backend_path), str(answer), json.dumps(config)]
        try:
            runner(command, cwd=str(source))
        except ProcessTimedOut as exc:
            raise _overran(what, "the build backend", exc) from None
        except ProcessFailed:
            raise _failed(what, f"the build backend failed ({backend})", runner.text()) from None
        requires, wheel, unavailable = read_answer(answer)
        if unavailable:
            raise BuildError.at(
                what,
                f"the build backend could not be imported ({backend}: {unavailable})",
                hint="check build-system in pyproject.toml",
            )
        if wheel is None:
            logger.debug("%s: the backend asks for %s too", what, ", ".join(requires))
            return None, requires
        final = outdir / wheel
        os.replace(wheels / wheel, final)
        return final, requires


def _overran(what: str, step: str, exc: ProcessTimedOut) -> BuildError:
    return BuildError(
        f"{what}: {step} was stopped after {exc.seconds:.0f} s; if it needs longer, set "
        "GITDEPS_BUILD_TIMEOUT (seconds)",
        detail=_tail(exc.output),
    )


def _failed(what: str, reason: str, output: str) -> BuildError:
    """One line with the output's last line (usually the error itself); the tail, for -v."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    last = f": {lines[-1][:300]}" if lines else ""
    return BuildError(f"{what}: {reason}{last}", detail=_tail(output))


def _tail(output: str, lines: int = 30) -> str:
    kept = [line for line in output.splitlines() if line.strip()][-lines:]
    return "the output ends with:\n" + "\n".join(kept)


def build_requirements(source: Path) -> list[str]:
    """``build-system.requires`` of the project at ``source``, as PyPA build reads it
    (its default for a setup.py project): the static part of its build environment."""
    return sorted(build.ProjectBuilder(source, python_executable=sys.executable).build_system_requires)


def build_wheel(
    source: Path,
    outdir: Path,
    *,
    what: str,
    environments: BuildEnvironments | None,
    source_date_epoch: int,
    config_settings: ConfigSettings = None,
) -> Path:
    """Build one wheel of the project at ``source`` into ``outdir``; return its path.

    ``environments`` None means ``--no-build-isolation``: the backend must be
    importable by this interpreter. ``config_settings`` go to the backend's hooks.
    """
    if not any((source / name).is_file() for name in ("pyproject.toml", "setup.py")):
        raise BuildError(
            f"{what} is not a Python project: no pyproject.toml or setup.py there",
            hint="check the URL's #subdirectory=",
        )
    runner = _Runner(source_date_epoch)
    try:
        requires = build_requirements(source)  # and validates pyproject.toml
        if environments is None:
            _check_installed((c for r in requires for c in build.check_dependency(r)), what)
            python = sys.executable
        else:
            python = str(environments.python_for(requires))
            runner.prefer_scripts_of(python)
        outdir.mkdir(parents=True, exist_ok=True)
        built, asked = _one_process_build(
            runner, python, source, outdir, what, config=config_settings
        )
        if built is not None:
            return built
        if environments is None:
            _check_installed((c for r in asked for c in build.check_dependency(r)), what)
        else:
            # The backend asked for more; an environment with both, shared likewise, and
            # the driver once more there (it builds when it finds them all).
            python = str(environments.python_for([*requires, *asked]))
            built, _ = _one_process_build(
                runner, python, source, outdir, what, config=config_settings
            )
            if built is not None:
                return built
        # Not built: no packaging in the environment to tell what is met; PyPA build.
        builder = build.ProjectBuilder(source, python_executable=python, runner=runner)
        with tempfile.TemporaryDirectory(dir=outdir) as scratch:
            built = Path(builder.build("wheel", scratch, config_settings))
            final = outdir / built.name
            os.replace(built, final)
        return final
    except build.BuildBackendException as exc:
        cause = exc.exception
        if isinstance(cause, ProcessTimedOut):
            raise _overran(what, "the build backend", cause) from None
        if isinstance(cause, pyproject_hooks.BackendUnavailable):
            reason = f"the build backend could not be imported ({cause.backend_name})"
        elif isinstance(cause, pyproject_hooks.HookMissing):
            reason = f"the build backend has no {cause.hook_name} hook"
        else:
            reason = "the build backend failed"
        raise _failed(what, reason, runner.text()) from None
    except build.BuildException as exc:
        raise BuildError.at(what, f"cannot build: {exc}") from None
    except ProcessTimedOut as exc:
        raise _overran(what, "installing the build requirements", exc) from None
    except ProcessFailed as exc:
        raise _failed(
            what, "installing the build requirements failed (check your index settings)", exc.output
        ) from None
