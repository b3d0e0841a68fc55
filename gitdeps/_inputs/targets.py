"""The marker environment of each target a run vendors for (``--platform``,
``--python-version``, ``--implementation``), for choosing between sources by marker
the way uv chooses for the environment it installs into.

Only what a platform tag or a version says is set; the rest is this machine's, as
``packaging.markers.Marker.evaluate`` fills it in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["marker_environments"]

_IMPLEMENTATIONS = {"cp": "cpython", "pp": "pypy", "ip": "ironpython", "jy": "jython"}
_PYTHON_NAMES = {"cpython": "CPython", "pypy": "PyPy", "ironpython": "IronPython"}
_WINDOWS_MACHINES = {"win32": "x86", "win_amd64": "AMD64", "win_arm64": "ARM64"}


def marker_environments(
    platforms: Sequence[str], python_version: str | None, implementation: str | None
) -> tuple[dict[str, str], ...]:
    """One environment per platform tag (one in all when no tag is given); empty when
    nothing names a target, which means this machine."""
    if not platforms and python_version is None and implementation is None:
        return ()
    common: dict[str, str] = {}
    if python_version is not None:
        parts = python_version.split(".")
        common["python_version"] = ".".join(parts[:2])
        common["python_full_version"] = ".".join([*parts, "0", "0"][:3])
    if implementation is not None:
        name = _IMPLEMENTATIONS.get(implementation, implementation)
        common["implementation_name"] = name
        common["platform_python_implementation"] = _PYTHON_NAMES.get(name, name)
    if not platforms:
        return (common,)
    return tuple({**common, **_platform(tag)} for tag in platforms)


def _platform(tag: str) -> dict[str, str]:
    if tag in _WINDOWS_MACHINES:
        return {
            "sys_platform": "win32",
            "platform_system": "Windows",
            "os_name": "nt",
            "platform_machine": _WINDOWS_MACHINES[tag],
        }
    linux = re.match(r"^(?:many|musl)?linux(?:1|2010|2014|_\d+_\d+)?_(.+)$", tag)
    if linux:
        return {
            "sys_platform": "linux",
            "platform_system": "Linux",
            "os_name": "posix",
            "platform_machine": linux.group(1),
        }
    mac = re.match(r"^macosx_\d+_\d+_(.+)$", tag)
    if mac:
        found = {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix"}
        if mac.group(1) in ("arm64", "x86_64"):
            found["platform_machine"] = mac.group(1)
        return found
    return {}
