"""The build stage's seam: a :class:`WheelBuilder` turns a checkout into one wheel.

``Wheels`` (``wheels.py``, which drives the stage) knows only this protocol. Today's
builder is :class:`PyPABuilder` (PyPA ``build`` in isolated build environments, one
backend process where PEP 517 allows, or this interpreter with
``--no-build-isolation``); a uv build frontend would be one more class here.
Importing this module is cheap: the PEP 517 machinery loads on the first build, so a
run the cache covers never loads it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from .._inputs.requirements import ConfigSettings

if TYPE_CHECKING:
    from .environments import BuildEnvironments

__all__ = ["BuildRequest", "PyPABuilder", "WheelBuilder"]


@dataclasses.dataclass(frozen=True)
class BuildRequest:
    """One wheel to build."""

    source: Path  # the project: the checkout, or its #subdirectory=
    outdir: Path  # where the wheel goes
    what: str  # how errors name it: "requirements.txt:3: acme (git+https://...@v1)"
    source_date_epoch: int  # the commit's time, for reproducible archives
    config_settings: ConfigSettings = None


class WheelBuilder(Protocol):
    """Builds one wheel of a project; raises :class:`gitdeps.BuildError` when it cannot."""

    @property
    def isolated(self) -> bool:
        """Whether builds run in environments of their own (part of the cache key)."""
        ...

    def build(self, request: BuildRequest) -> Path:
        """Build the wheel into ``request.outdir``; its path."""
        ...

    def prepare(self, source: Path) -> None:
        """Start, in the background, on what building ``source`` will need (its build
        environment), while the rest of its checkout comes. Best effort: may raise, and
        the build then meets the fault and says it."""
        ...


@dataclasses.dataclass(frozen=True)
class PyPABuilder:
    """PyPA ``build``: in ``environments`` (build isolation), or in this interpreter when
    None (``--no-build-isolation``: the backend must be installed here)."""

    environments: BuildEnvironments | None

    @property
    def isolated(self) -> bool:
        return self.environments is not None

    def prepare(self, source: Path) -> None:
        if self.environments is not None:
            from .pypa import build_requirements

            self.environments.prepare(build_requirements(source))

    def build(self, request: BuildRequest) -> Path:
        from .pypa import build_wheel

        return build_wheel(
            request.source,
            request.outdir,
            what=request.what,
            environments=self.environments,
            source_date_epoch=request.source_date_epoch,
            config_settings=request.config_settings,
        )
