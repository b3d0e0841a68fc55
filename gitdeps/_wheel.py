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
import csv
import dataclasses
import hashlib
import io
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


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


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

        buffer = io.BytesIO()
        records: list[tuple[str, str, str]] = []
        record_info: zipfile.ZipInfo | None = None
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as out:
            for info in archive.infolist():
                name = info.filename
                if name.startswith(old_dist_info + "/"):
                    name = new_dist_info + name[len(old_dist_info) :]
                elif name.startswith(old_data):
                    name = new_data + name[len(old_data) :]
                base = name.rsplit("/", 1)[-1]
                if name.startswith(new_dist_info + "/") and base in ("RECORD.jws", "RECORD.p7s"):
                    continue  # signatures over the old RECORD
                if name == f"{new_dist_info}/RECORD":
                    record_info = info
                    continue
                data = new_metadata if name == f"{new_dist_info}/METADATA" else archive.read(info)
                out.writestr(_clone_info(info, name), data)
                if not name.endswith("/"):
                    records.append((name, _record_hash(data), str(len(data))))
            record_name = f"{new_dist_info}/RECORD"
            text = io.StringIO()
            writer = csv.writer(text, lineterminator="\n")
            writer.writerows(records)
            writer.writerow((record_name, "", ""))
            template = record_info or zipfile.ZipInfo(record_name, (1980, 1, 1, 0, 0, 0))
            out.writestr(_clone_info(template, record_name), text.getvalue().encode("utf-8"))
    target.write_bytes(buffer.getvalue())
    return target


def _clone_info(info: zipfile.ZipInfo, name: str) -> zipfile.ZipInfo:
    clone = zipfile.ZipInfo(name, info.date_time)
    clone.external_attr = info.external_attr
    clone.create_system = info.create_system
    clone.compress_type = zipfile.ZIP_STORED if name.endswith("/") else zipfile.ZIP_DEFLATED
    return clone
