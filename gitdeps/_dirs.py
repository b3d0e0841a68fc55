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
from pathlib import Path

__all__ = ["cache_dir", "state_dir"]


def cache_dir() -> Path:
    explicit = os.environ.get("GITDEPS_CACHE_DIR")
    if explicit:
        return Path(explicit)
    import platformdirs  # ~10 ms: only when no directory is set

    return platformdirs.user_cache_path("gitdeps", appauthor=False)


def state_dir() -> Path:
    explicit = os.environ.get("GITDEPS_STATE_DIR")
    if explicit:
        return Path(explicit)
    import platformdirs

    return platformdirs.user_state_path("gitdeps", appauthor=False)
