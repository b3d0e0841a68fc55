"""``prebuild()``: the pre-build hook for Oryx (Azure Functions remote build, App Service).

Run in the app root as ``PRE_BUILD_COMMAND``, it vendors the app's requirements
file into a wheelhouse inside the app and rewrites that file in place, so Oryx's
own ``pip install -r requirements.txt`` needs no git and no credential. The
original is kept beside it, and a second run works from the kept original.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ._fs import atomic_write
from ._inputs.requirements import parse_requirement_files
from ._options import VendorOptions
from ._outputs.render import HEADER
from ._vendor import VendorResult, vendor

__all__ = ["WHEELHOUSE", "original_path", "prebuild", "vendored_from"]

logger = logging.getLogger("gitdeps")
progress = logging.getLogger("gitdeps.progress")

WHEELHOUSE = Path(".gitdeps") / "wheelhouse"


def original_path(requirements: Path) -> Path:
    """``requirements.txt`` -> ``requirements.gitdeps-original.txt``."""
    return requirements.with_name(f"{requirements.stem}.gitdeps-original{requirements.suffix}")


def prebuild(
    app_dir: str | os.PathLike[str] = ".",
    requirements: str | os.PathLike[str] | None = None,
    *,
    locked: bool = False,
    jobs: int | None = None,
    use_cache: bool = True,
    config: str | os.PathLike[str] | None = None,
) -> VendorResult | None:
    """Vendor the app's requirements in place; None when there was nothing to vendor.

    ``requirements`` defaults to ``$CUSTOM_REQUIREMENTSTXT_PATH`` (Oryx's
    setting), else ``requirements.txt``, relative to ``app_dir``.
    """
    app = Path(app_dir)
    name = requirements or os.environ.get("CUSTOM_REQUIREMENTSTXT_PATH") or "requirements.txt"
    target = app / name
    original = original_path(target)
    current = target.read_bytes() if target.exists() else None
    ours = current is not None and current.startswith(HEADER.encode())
    if ours and original.exists():
        logger.info("%s was written by gitdeps; vendoring from %s", target, original.name)
    elif current is not None:
        atomic_write(original, current)
    else:
        from ._errors import RequirementError

        raise RequirementError.at(
            target,
            "no requirements file in the app root",
            hint="run gitdeps prebuild there, or set CUSTOM_REQUIREMENTSTXT_PATH",
        )
    try:
        if not parse_requirement_files([original]).git:
            progress.info("%s has no git requirements: nothing to vendor", original.name)
            if not ours:
                original.unlink()  # leave the app exactly as it was
            return None
        options = VendorOptions(
            locked=locked,
            jobs=jobs,
            use_cache=use_cache,
            config=Path(config) if config is not None else None,
            config_root=app,
        )
        return vendor([original], app / WHEELHOUSE, target, app / "gitdeps.lock", options=options)
    except BaseException:
        if not ours:  # the requirements file is as it was: so is the app
            original.unlink(missing_ok=True)
        raise


def vendored_from(requirements: Path) -> Path:
    """The file to read for ``requirements``: the kept original when gitdeps prebuild
    rewrote it (the rewritten one names no git host), else itself."""
    original = original_path(requirements)
    try:
        with requirements.open("rb") as handle:
            written_by_us = handle.read(len(HEADER)) == HEADER.encode()
    except OSError:
        return requirements
    return original if written_by_us and original.exists() else requirements
