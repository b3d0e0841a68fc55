"""The PEP 751 lock for the deploy target: ``pylock.toml``.

Every vendored wheel is a ``[[packages]]`` entry whose wheel is a path relative to the
file, with its sha256; where it came from (the credential-free repository URL, the
requested ref, the commit, the subdirectory) is in ``[packages.tool.gitdeps]``, because
the spec allows one source per package and the wheel is the one the target installs.
Public packages are wheel entries in the wheelhouse with ``--include-public``, else the
files pip chose for the target on its index, by URL and sha256.

``packaging.pylock`` (what pip reads the file with) checks the document before it is
written; ``pip install -r pylock.toml`` and ``uv pip install -r pylock.toml`` install it.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit, urlunsplit

from packaging.utils import canonicalize_name, parse_wheel_filename

from .._errors import GitDepsError
from .render import relative

if TYPE_CHECKING:
    from .public_closure import Target
    from .vendored import VendoredWheel

__all__ = ["PublicFile", "check_pylock_name", "render_pylock"]


@dataclasses.dataclass(frozen=True)
class PublicFile:
    """One file of a public distribution that the target installs."""

    name: str
    version: str
    filename: str
    sha256: str
    path: Path | None = None  # in the wheelhouse (--include-public)
    url: str | None = None  # on the index, with no credential
    requires_python: str | None = None


def check_pylock_name(path: Path) -> None:
    """PEP 751 names the file ``pylock.toml`` or ``pylock.<name>.toml``; installers
    refuse any other name."""
    from packaging.pylock import is_valid_pylock_path

    if not is_valid_pylock_path(path):
        raise GitDepsError(
            f"--output-pylock {path}: a PEP 751 lock is named pylock.toml or "
            "pylock.<name>.toml (pip and uv read no other name)",
            hint=f"name it {path.with_name('pylock.toml')}",
        )


def without_credential(url: str) -> str:
    """``url`` with any user or password taken out."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def render_pylock(
    vendored: Sequence[VendoredWheel],
    public: Sequence[PublicFile],
    *,
    output: Path,
    target: Target,
) -> str:
    """The text of ``output``: a pylock.toml of ``vendored`` and ``public``."""
    import tomli_w
    from packaging.pylock import Pylock

    base = output.parent.resolve()
    packages: list[dict[str, Any]] = []
    for wheel in sorted(vendored, key=lambda w: canonicalize_name(w.name)):
        origin = {
            "url": wheel.url,
            "requested-revision": wheel.requested_revision,
            "commit": wheel.commit,
        }
        if wheel.subdirectory:
            origin["subdirectory"] = wheel.subdirectory
        packages.append(
            {
                "name": canonicalize_name(wheel.name),
                "version": wheel.version,
                "wheels": [_wheel(wheel.path.name, wheel.sha256, path=wheel.path, base=base)],
                "tool": {"gitdeps": origin},
            }
        )
    by_release: dict[tuple[str, str], list[PublicFile]] = {}
    for file in public:
        by_release.setdefault((canonicalize_name(file.name), file.version), []).append(file)
    for (name, version), files in sorted(by_release.items()):
        entry: dict[str, Any] = {"name": name, "version": version}
        requires = next((f.requires_python for f in files if f.requires_python), None)
        if requires:
            entry["requires-python"] = requires
        wheels = [f for f in files if f.filename.endswith(".whl")]
        for file in sorted(wheels, key=lambda f: f.filename):
            entry.setdefault("wheels", []).append(
                _wheel(file.filename, file.sha256, path=file.path, url=file.url, base=base)
            )
        sdist = next((f for f in files if not f.filename.endswith(".whl")), None)
        if sdist is not None and not wheels:
            entry["sdist"] = _wheel(
                sdist.filename, sdist.sha256, path=sdist.path, url=sdist.url, base=base
            )
        packages.append(entry)
    document: dict[str, Any] = {"lock-version": "1.0", "created-by": "gitdeps"}
    if target.python_version:
        document["requires-python"] = f"=={target.python_version}.*"
    document["packages"] = packages
    Pylock.from_dict(document)  # what pip will read: refuse what it would refuse
    header = (
        "# Written by gitdeps: a PEP 751 lock of the wheelhouse. Install with\n"
        "#   pip install -r <this file>     (pip 26.1 or newer)\n"
        "#   uv pip install -r <this file>\n"
    )
    return header + tomli_w.dumps(document)


def _wheel(
    filename: str,
    sha256: str,
    *,
    path: Path | None = None,
    url: str | None = None,
    base: Path,
) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": filename}
    if path is not None:
        entry["path"] = relative(path.resolve(), base)
    elif url is not None:
        entry["url"] = without_credential(url)
    entry["hashes"] = {"sha256": sha256}
    return entry


def public_in_wheelhouse(
    staged: Sequence[Path], wheelhouse: Path, private: set[str]
) -> list[PublicFile]:
    """The public wheels among ``staged`` (bound for ``wheelhouse``)."""
    from .._build.wheel import sha256_file

    files = []
    for wheel in staged:
        name, version, _build, _tags = parse_wheel_filename(wheel.name)
        if name in private:
            continue
        files.append(
            PublicFile(
                name=str(name),
                version=str(version),
                filename=wheel.name,
                sha256=sha256_file(wheel),
                path=wheelhouse / wheel.name,
            )
        )
    return files


def public_from_report(report: dict[str, Any], private: set[str]) -> list[PublicFile]:
    """The public files of a ``pip install --dry-run --report`` (what pip chose)."""
    files = []
    for item in report.get("install", []):
        metadata = item.get("metadata", {})
        name = canonicalize_name(str(metadata.get("name", "")))
        if not name or name in private:
            continue
        info = item.get("download_info", {})
        url = str(info.get("url", ""))
        digest = (info.get("archive_info") or {}).get("hashes", {}).get("sha256")
        if not url or not digest or url.startswith("file:"):
            raise GitDepsError(
                f"--output-pylock: pip chose {name} {metadata.get('version')} from "
                f"{without_credential(url) or 'no URL'}, which a lock cannot name by URL "
                "and sha256",
                hint="use --include-public to vendor the public packages as well",
            )
        files.append(
            PublicFile(
                name=name,
                version=str(metadata.get("version")),
                filename=unquote(os.path.basename(urlsplit(url).path)),
                sha256=str(digest),
                url=without_credential(url),
                requires_python=metadata.get("requires_python"),
            )
        )
    return files
