"""What a build's environment keeps and loses."""

from __future__ import annotations

from gitdeps._subprocess import clean_environ


def test_a_callers_git_location_never_reaches_a_build() -> None:
    """Run from a git hook or a CI step, GIT_DIR and friends would point the build's
    own ``git describe`` at the caller's repository instead of the checkout."""
    caller = {
        "GIT_DIR": "/srv/app/.git",
        "GIT_WORK_TREE": "/srv/app",
        "GIT_INDEX_FILE": "/srv/app/.git/index",
        "GIT_OBJECT_DIRECTORY": "/srv/app/.git/objects",
        "GIT_CEILING_DIRECTORIES": "/tmp",
        "GIT_AUTHOR_NAME": "kept",
        "PATH": "/usr/bin",
    }
    cleaned = clean_environ(caller)
    assert {k for k in cleaned if k.startswith("GIT_")} == {
        "GIT_AUTHOR_NAME",
        "GIT_TERMINAL_PROMPT",
    }
    assert cleaned["PATH"] == "/usr/bin"
