"""Reading a built wheel's metadata, and rewriting it for the wheelhouse.

A vendored wheel must not name a git URL (pip on the target would try to clone)
and must not lose to a same-named package on a public index. So it gets:

* its version with a local label from the commit, ``1.2.0+g1a2b3c4d5e6f``,
  which no public index accepts and which ``==`` matches exactly;
* every ``name @ git+...`` in ``Requires-Dist`` replaced by ``name==<that pin>``;
* a new ``RECORD``. Entry order and timestamps are kept, so the same input
  wheel always gives the same bytes.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import dataclasses
import hashlib
import io
import os
import tempfile
import zipfile
from collections.abc import Mapping
from email.parser import HeaderParser
from pathlib import Path

from packaging.utils import parse_wheel_filename
from packaging.version import InvalidVersion, Version

__all__ = ["WheelInfo", "pinned_version", "read_wheel", "rewrite_wheel", "sha256_file"]


@dataclasses.dataclass(frozen=True)
class WheelInfo:
    name: str
    version: str
    requires_dist: tuple[str, ...]
    tags: tuple[str, ...]  # "py3-none-any", ...


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pinned_version(version: str, commit: str) -> str:
    """The vendored version: a local label from the commit unless one is there."""
    parsed = Version(version)
    if parsed.local is not None:
        return str(parsed)
    return f"{parsed}+g{commit[:12]}"


def _dist_info(archive: zipfile.ZipFile) -> str:
    names = {n.split("/", 1)[0] for n in archive.namelist() if n.endswith(".dist-info/METADATA")}
    candidates = [n for n in names if n.count("/") == 0 and n.endswith(".dist-info")]
    if len(candidates) != 1:
        raise ValueError(f"expected one .dist-info directory, found {sorted(candidates)}")
    return candidates[0]


def read_wheel(path: Path) -> WheelInfo:
    with zipfile.ZipFile(path) as archive:
        dist_info = _dist_info(archive)
        text = archive.read(f"{dist_info}/METADATA").decode("utf-8")
    headers = HeaderParser().parsestr(text)
    _name, _version, _build, tags = parse_wheel_filename(path.name)
    return WheelInfo(
        name=str(headers["Name"]),
        version=str(headers["Version"]),
        requires_dist=tuple(str(v) for v in headers.get_all("Requires-Dist") or ()),
        tags=tuple(sorted(str(tag) for tag in tags)),
    )


def _rewrite_metadata(text: str, version: str, requires_dist: list[str]) -> str:
    """Edit METADATA line by line so everything else stays byte for byte."""
    head, sep, body = text.partition("\n\n")
    out: list[str] = []
    skipping = False
    placed = False
    for line in head.split("\n"):
        if skipping and line[:1] in (" ", "\t"):
            continue  # continuation of a header we dropped
        skipping = False
        field = line.split(":", 1)[0].lower()
        if field == "version":
            out.append(f"Version: {version}")
        elif field == "requires-dist":
            skipping = True
            if not placed:
                out.extend(f"Requires-Dist: {r}" for r in requires_dist)
                placed = True
        else:
            out.append(line)
    if not placed and requires_dist:
        out.extend(f"Requires-Dist: {r}" for r in requires_dist)
    return "\n".join(out) + sep + body


def _record_hash(digest: hashlib._Hash) -> str:
    encoded = base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode("ascii")
    return "sha256=" + encoded


def _renamed(name: str, moves: tuple[tuple[str, str], ...]) -> str:
    """A member's name in the rewritten wheel: its .dist-info and .data at the new version."""
    for old, new in moves:
        if name.startswith(old):
            return new + name[len(old) :]
    return name


def _copy_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, out: zipfile.ZipFile, name: str
) -> tuple[hashlib._Hash, int]:
    """Copy one member a megabyte at a time; its sha256 and size, for RECORD."""
    clone = _clone_info(info, name)
    clone.file_size = info.file_size  # so zipfile picks ZIP64 for a member over 2 GiB
    digest, size = hashlib.sha256(), 0
    with archive.open(info) as source, out.open(clone, "w") as target:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
            target.write(block)
    return digest, size


def rewrite_wheel(
    source: Path,
    outdir: Path,
    *,
    version: str,
    replace_requires: Mapping[str, str],
) -> Path:
    """Write a copy of ``source`` into ``outdir`` at ``version``.

    ``replace_requires`` maps a ``Requires-Dist`` value (as in the source
    METADATA) to the value that replaces it. Returns the new wheel's path.
    """
    try:
        Version(version)
    except InvalidVersion:
        raise ValueError(f"invalid version {version!r}") from None
    stem_parts = source.name[: -len(".whl")].split("-")
    old_version = stem_parts[1]
    stem_parts[1] = version
    target = outdir / ("-".join(stem_parts) + ".whl")
    with zipfile.ZipFile(source) as archive:
        old_dist_info = _dist_info(archive)
        escaped = old_dist_info[: -len(".dist-info")].rsplit("-", 1)[0]
        new_dist_info = f"{escaped}-{version}.dist-info"
        old_data, new_data = f"{escaped}-{old_version}.data/", f"{escaped}-{version}.data/"
        metadata = archive.read(f"{old_dist_info}/METADATA").decode("utf-8")
        headers = HeaderParser().parsestr(metadata)
        requires = [
            replace_requires.get(str(r), str(r)) for r in headers.get_all("Requires-Dist") or ()
        ]
        new_metadata = _rewrite_metadata(metadata, version, requires).encode("utf-8")

        moves = ((f"{old_dist_info}/", f"{new_dist_info}/"), (old_data, new_data))
        signatures = {f"{new_dist_info}/RECORD.jws", f"{new_dist_info}/RECORD.p7s"}
        # Member by member through a small buffer, into a file renamed into place: a
        # wheel can hold files of hundreds of megabytes.
        handle, partial = tempfile.mkstemp(dir=outdir, prefix=".rewrite-", suffix=".whl")
        try:
            with (
                os.fdopen(handle, "wb") as raw,
                zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as out,
            ):
                records: list[tuple[str, str, str]] = []
                record_info: zipfile.ZipInfo | None = None
                for info in archive.infolist():
                    name = _renamed(info.filename, moves)
                    if name in signatures:
                        continue  # signatures over the old RECORD
                    if name == f"{new_dist_info}/RECORD":
                        record_info = info
                        continue
                    if name == f"{new_dist_info}/METADATA":
                        out.writestr(_clone_info(info, name), new_metadata)
                        digest, size = hashlib.sha256(new_metadata), len(new_metadata)
                    else:
                        digest, size = _copy_member(archive, info, out, name)
                    if not name.endswith("/"):
                        records.append((name, _record_hash(digest), str(size)))
                record_name = f"{new_dist_info}/RECORD"
                text = io.StringIO()
                writer = csv.writer(text, lineterminator="\n")
                writer.writerows(records)
                writer.writerow((record_name, "", ""))
                template = record_info or zipfile.ZipInfo(record_name, (1980, 1, 1, 0, 0, 0))
                out.writestr(_clone_info(template, record_name), text.getvalue().encode("utf-8"))
            os.replace(partial, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(partial)
            raise
    return target


def _clone_info(info: zipfile.ZipInfo, name: str) -> zipfile.ZipInfo:
    clone = zipfile.ZipInfo(name, info.date_time)
    clone.external_attr = info.external_attr
    clone.create_system = info.create_system
    clone.compress_type = zipfile.ZIP_STORED if name.endswith("/") else zipfile.ZIP_DEFLATED
    return clone
