"""The one error hierarchy. Every error gitdeps raises is a :class:`GitDepsError`.

Messages are written for the person at the terminal: they name the input (a
``file:line``, a host, a ref, a package) and say what to do. They pass through
:func:`gitdeps.redact` so no secret can ride along in one.
"""

from __future__ import annotations

import textwrap
from typing import TypeVar

from ._secret import redact

__all__ = [
    "AuthError",
    "BuildError",
    "FetchError",
    "GitDepsError",
    "InUseError",
    "Interrupted",
    "LockError",
    "RequirementError",
    "SeveralErrors",
    "UnsafeRepositoryError",
]


_E = TypeVar("_E", bound="GitDepsError")


class GitDepsError(Exception):
    """Base class of every error gitdeps raises. ``exit_code`` is the CLI's.

    An error carries its facts apart: ``message`` (what went wrong), ``input`` (what it
    concerns: ``requirements.txt:3: acme``, a host, a commit), ``hint`` (what to do) and
    ``detail`` (context that does not fit on one line: a build's output, the offending
    line with a caret). ``str(error)`` joins the first three into the one line the CLI
    prints; ``render()`` adds the detail. Every part passes through :func:`redact`.
    """

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        input: str | None = None,
        hint: str | None = None,
        detail: str | None = None,
    ) -> None:
        first, newline, rest = message.partition("\n")
        if newline:  # one line means one line: the rest is context
            detail = rest + ("\n" + detail if detail else "")
        super().__init__(redact(first))
        self.input = redact(input) if input else None
        self.hint = redact(hint) if hint else None
        self.detail = redact(detail) if detail else None

    @classmethod
    def at(cls: type[_E], input: object, message: str, **facts: str | None) -> _E:
        """This error about ``input`` (a ``Location``, a host, a commit)."""
        return cls(message, input=str(input), **facts)

    @property
    def message(self) -> str:
        """What went wrong, without the input and the hint."""
        return str(self.args[0])

    def add_context(self, where: str) -> None:
        """Say where this happened (``requirements.txt:3``, then ``acme``): the outer
        context goes first. The type, the detail and the chain of causes stay."""
        where = redact(where.rstrip(": "))
        if not str(self).startswith(where):
            self.input = f"{where}: {self.input}" if self.input else where

    def render(self, *, verbose: bool = False) -> str:
        """The one line, and with ``verbose`` the detail set apart below it."""
        if self.detail and verbose:
            return f"{self}\n" + textwrap.indent(self.detail.rstrip(), "    | ")
        return f"{self} (-v shows more)" if self.detail else str(self)

    def __str__(self) -> str:
        text = f"{self.input}: {self.message}" if self.input else self.message
        return f"{text}; {self.hint}" if self.hint else text


class RequirementError(GitDepsError, ValueError):
    """A requirements file or a requirement in it cannot be used (a ValueError too)."""

    exit_code = 3


class AuthError(GitDepsError):
    """A host wants credentials that were not found, or refused the ones sent."""

    exit_code = 4


class FetchError(GitDepsError):
    """A repository, ref or host could not be reached or read."""

    exit_code = 5


class UnsafeRepositoryError(FetchError):
    """A repository's tree would write outside its checkout."""


class BuildError(GitDepsError):
    """A checkout is not a Python project, or its build backend failed."""

    exit_code = 6


class LockError(GitDepsError):
    """The lock file is unreadable, or ``--locked`` found it does not cover a requirement."""

    exit_code = 7


class InUseError(GitDepsError):
    """Another gitdeps run held a cache entry, the cache or an output folder longer than
    this one would wait."""


class Interrupted(GitDepsError):
    """The run was stopped (Ctrl-C, SIGTERM, or another part of it failing): work that
    was under way ends with this, and nothing it made is kept."""

    exit_code = 130


class SeveralErrors(GitDepsError):
    """More than one part of a run failed (two requirement lines naming refs that do not
    exist, a host refusing the token of three repositories): ``errors`` holds each, in
    the order they happened, and ``stopped`` counts the work cut short because of them.

    ``str()`` is the one-line summary; ``render()`` adds each error's own line below it.
    The exit code is the first error's. A run that fails once raises that error itself.
    """

    def __init__(self, errors: tuple[GitDepsError, ...], *, stopped: int = 0) -> None:
        said = f"{len(errors)} requirements failed"
        if stopped:
            said += f", and {stopped} stopped unfinished because of them"
        super().__init__(said)
        self.errors = errors
        self.stopped = stopped
        self.exit_code = errors[0].exit_code

    def render(self, *, verbose: bool = False) -> str:
        """Each error's own line (with ``verbose``, its detail), then the summary."""
        return "\n".join([*(e.render(verbose=verbose) for e in self.errors), str(self)])
