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
    """Base class of every error gitdeps raises. ``exit_code`` is the CLI's."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))

    @property
    def message(self) -> str:
        return str(self.args[0])

    def __str__(self) -> str:
        return self.message


class RequirementError(ValueError, GitDepsError):
    """A requirements file or a requirement in it cannot be used."""

    exit_code = 3

    def __init__(self, message: str) -> None:
        GitDepsError.__init__(self, message)


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
