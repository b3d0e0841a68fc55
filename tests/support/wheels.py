"""Hand-made wheels, for a package index (public packages, hostile look-alikes)."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["make_wheel"]


def _hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


def make_wheel(
    directory: Path,
    name: str,
    version: str,
    files: Mapping[str, str],
    *,
    requires: Sequence[str] = (),
    tag: str = "py3-none-any",
    build: str | None = None,
) -> Path:
    escaped = name.replace("-", "_")
    dist_info = f"{escaped}-{version}.dist-info"
    metadata = "\n".join(
        ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
        + [f"Requires-Dist: {r}" for r in requires]
    )
    wheel = f"Wheel-Version: 1.0\nGenerator: gitdeps-tests\nRoot-Is-Purelib: true\nTag: {tag}\n"
    if build:
        wheel += f"Build: {build}\n"
    entries = {**files, f"{dist_info}/METADATA": metadata + "\n", f"{dist_info}/WHEEL": wheel}
    record = [
        f"{path},{_hash(data.encode())},{len(data.encode())}" for path, data in entries.items()
    ]
    record.append(f"{dist_info}/RECORD,,")
    entries[f"{dist_info}/RECORD"] = "\n".join(record) + "\n"
    parts = [escaped, version, *([build] if build else []), tag]
    path = directory / ("-".join(parts) + ".whl")
    with zipfile.ZipFile(path, "w") as archive:
        for entry, data in entries.items():
            archive.writestr(entry, data)
    return path
