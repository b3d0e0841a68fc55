"""Settings read from the environment: checked, and refused when wrong, never replaced."""

from __future__ import annotations

import dataclasses
import os

from ._errors import GitDepsError

__all__ = ["Limits", "env_count", "env_seconds", "limits"]


def env_seconds(variable: str, default: float) -> float:
    """``$variable`` as a number of seconds above 0; ``default`` when it is unset or empty."""
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):  # also refuses nan
        raise GitDepsError(f"{variable} must be a number of seconds above 0, not {text!r}")
    return seconds


def env_count(variable: str, default: int) -> int:
    """``$variable`` as a whole number above 0; ``default`` when it is unset or empty."""
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    if not text.isdecimal() or int(text) < 1:
        raise GitDepsError(f"{variable} must be a whole number above 0, not {text!r}")
    return int(text)


@dataclasses.dataclass(frozen=True)
class Limits:
    """How long gitdeps waits for a host, and how often it tries again."""

    connect: float  # GITDEPS_CONNECT_TIMEOUT: to open a connection
    read: float  # GITDEPS_HTTP_TIMEOUT (--timeout): silence while waiting for data
    deadline: float  # GITDEPS_FETCH_DEADLINE: one listing or fetch of a repository, all in
    retry_after_max: float  # GITDEPS_RETRY_AFTER_MAX: the most a Retry-After makes us wait
    max_refs: int = 200_000  # GITDEPS_MAX_REFS: branches and tags one listing may hold
    retries: int = 3  # connection failures, resets, 429 and 5xx answers
    # a host silent for ``read`` seconds is tried this many more times: 3 tries of 30 s
    read_retries: int = 2


def limits() -> Limits:
    """The limits in force; an invalid setting is refused, never silently replaced."""
    return Limits(
        connect=env_seconds("GITDEPS_CONNECT_TIMEOUT", 15.0),
        read=env_seconds("GITDEPS_HTTP_TIMEOUT", 30.0),
        deadline=env_seconds("GITDEPS_FETCH_DEADLINE", 900.0),
        retry_after_max=env_seconds("GITDEPS_RETRY_AFTER_MAX", 30.0),
        max_refs=env_count("GITDEPS_MAX_REFS", 200_000),
    )
