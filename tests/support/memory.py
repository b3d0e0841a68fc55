"""Running the CLI and reading how much memory it held at its peak."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

from tests.support.cli import run_command

__all__ = ["run_measured"]

# The CLI as ``python -m gitdeps`` runs it, then its own peak resident set size, read
# from the kernel at exit: VmHWM, which starts afresh at exec (getrusage's maxrss would
# carry the forking test process's), and counts no child (a build backend is not gitdeps).
_MEASURED = """\
import runpy, sys
sys.argv[0] = "gitdeps"
try:
    runpy.run_module("gitdeps", run_name="__main__", alter_sys=True)
finally:
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    sys.stderr.write(f"\\npeak-rss-kb: {peak}\\n")
"""


def run_measured(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None
) -> tuple[int, str, float]:
    """``gitdeps *args`` in ``cwd``: exit status, standard error, peak memory in MB."""
    ran = run_command([sys.executable, "-c", _MEASURED, *args], cwd=cwd, env=env)
    text, _, peak = ran.stderr.rpartition("peak-rss-kb: ")
    return ran.returncode, text, int(peak) / 1024
