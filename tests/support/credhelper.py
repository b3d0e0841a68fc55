"""A git credential helper for tests, run by the real ``git credential``.

It answers ``get`` only for the origins it was given (``protocol://host[:port]``,
as git keys them), slowly, so concurrent requests overlap; and logs every call
git makes (the action and the attributes, never the password) to a JSON-lines
file the test reads.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

__all__ = ["install_helper", "read_log"]

_SCRIPT = """\
#!{python}
import json, sys, time
ANSWERS = {answers!r}
action = sys.argv[1]
attrs = dict(l.split("=", 1) for l in sys.stdin.read().splitlines() if "=" in l)
logged = {{k: v for k, v in attrs.items() if k != "password"}}
logged["action"] = action
logged["password_given"] = "password" in attrs
with open({log!r}, "a") as log:
    log.write(json.dumps(logged) + "\\n")
if action == "get":
    time.sleep(0.3)
    answer = ANSWERS.get(attrs.get("protocol", "") + "://" + attrs.get("host", ""))
    if answer:
        print("username=" + answer[0])
        print("password=" + answer[1])
"""


def install_helper(directory: Path, answers: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Write the helper and a git config using it; return the environment to run with."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "helper.py"
    log = directory / "helper.log"
    script.write_text(_SCRIPT.format(python=sys.executable, answers=answers, log=str(log)))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    config = directory / "gitconfig"
    config.write_text(f"[credential]\n\thelper = {script}\n")
    return {"GIT_CONFIG_GLOBAL": str(config), "GIT_CONFIG_NOSYSTEM": "1"}


def read_log(directory: Path) -> list[dict[str, object]]:
    log = directory / "helper.log"
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


if os.name == "nt":  # pragma: no cover
    raise ImportError("the test credential helper is a POSIX script")
