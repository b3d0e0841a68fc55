"""Where gitdeps keeps things between runs, as the platform says (platformdirs).

* the **cache** (wheels, build environments): safe to delete, rebuilt on demand;
  ``$GITDEPS_CACHE_DIR``, else the user cache directory (``~/.cache/gitdeps``,
  ``~/Library/Caches/gitdeps``, ``%LOCALAPPDATA%\\gitdeps\\Cache``);
* the **state** (the msal sign-in's token cache): not to be lost with a cache clean;
  ``$GITDEPS_STATE_DIR``, else the user state directory (``~/.local/state/gitdeps``,
  ``~/Library/Application Support/gitdeps``, ``%LOCALAPPDATA%\\gitdeps``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ._errors import GitDepsError

__all__ = ["cache_dir", "expand_user", "home", "state_dir"]


class _NoHome(GitDepsError):
    """No directory is set for gitdeps' cache or state, and no home is known to put it in."""


def expand_user(path: str) -> str:
    """``path`` with a leading '~' made the home directory, or left as it is where no home
    is known (``$HOME`` unset and no password entry, as for a build step run under an
    arbitrary uid). ``Path.expanduser()`` raises there instead."""
    return os.path.expanduser(path)  # noqa: PTH111 -- on purpose: it does not raise


def home() -> Path | None:
    """The user's home directory, or None where none is known; the callers skip what
    lives in a home then."""
    found = expand_user("~")
    return None if found.startswith("~") else Path(found)


def cache_dir() -> Path:
    explicit = os.environ.get("GITDEPS_CACHE_DIR")
    if explicit:
        return Path(explicit)
    import platformdirs  # ~10 ms: only when no directory is set

    return _placed(platformdirs.user_cache_path, "GITDEPS_CACHE_DIR")


def state_dir() -> Path:
    explicit = os.environ.get("GITDEPS_STATE_DIR")
    if explicit:
        return Path(explicit)
    import platformdirs

    return _placed(platformdirs.user_state_path, "GITDEPS_STATE_DIR")


def _placed(where: Callable[..., Path], variable: str) -> Path:
    """The platform's directory for gitdeps. Where no home is known, platformdirs raises
    (4.3 and later) or gives '~/.cache' as it is, which would put the cache under the
    working directory: either way, one line that says what to set."""
    try:
        path = where("gitdeps", appauthor=False)
    except RuntimeError:
        path = None
    if path is not None and path.is_absolute():
        return path
    raise _NoHome(
        "no home directory is known to keep gitdeps' cache and state in",
        hint=f"set {variable} (or HOME) to a directory",
    )
