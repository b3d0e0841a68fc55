"""The one error hierarchy. Every error gitdeps raises is a :class:`GitDepsError`.

Messages are written for the person at the terminal: they name the input (a
``file:line``, a host, a ref, a package) and say what to do. They pass through
:func:`gitdeps.redact` so no secret can ride along in one.
"""

from __future__ import annotations

from ._secret import redact

__all__ = [
    "AuthError",
    "BuildError",
    "FetchError",
    "GitDepsError",
    "LockError",
    "RequirementError",
    "UnsafeRepositoryError",
]


class GitDepsError(Exception):
    """Base class of every error gitdeps raises. ``exit_code`` is the CLI's.

    ``str(error)`` is one line: what went wrong, where, and what to do. ``detail``
    holds the context that does not fit on it (a build's output, the offending line
    with a caret), which the CLI shows with ``-v``.
    """

    exit_code = 1

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        first, newline, rest = message.partition("\n")
        if newline:  # one line means one line: the rest is context
            detail = rest + ("\n" + detail if detail else "")
        super().__init__(redact(first))
        self.detail = redact(detail) if detail else None

    @property
    def message(self) -> str:
        return str(self.args[0])

    def add_context(self, where: str) -> None:
        """Say where this happened (``requirements.txt:3: acme: ``), once; the type,
        the detail and the chain of causes stay as they are."""
        if not self.message.startswith(where):
            self.args = (redact(where + self.message),)

    def __str__(self) -> str:
        return self.message


class RequirementError(ValueError, GitDepsError):
    """A requirements file or a requirement in it cannot be used."""

    exit_code = 3

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        GitDepsError.__init__(self, message, detail=detail)


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
