"""Settings read from the environment: checked, and refused when wrong, never replaced."""

from __future__ import annotations

import os

from ._errors import GitDepsError

__all__ = ["env_seconds"]


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
