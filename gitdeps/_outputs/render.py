"""The output formats: what the deploy target's installer reads, every git requirement
pinned to its vendored wheel.

An :class:`OutputFormat` turns :class:`Pinned` (the inputs and the pins) into the text
of the output file. Today there is one, :class:`RequirementsFile`, pip's requirements
format: public lines and options pass through as written; relative paths in ``-c`` and
``--find-links`` are rebased onto the output file's directory; ``-r`` includes are
inlined. The wheelhouse is named by a ``--find-links`` path relative to the file
itself (pip resolves it so), so the folder can move.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from packaging.utils import canonicalize_name

from .._inputs.requirements import (
    GitRequirement,
    IncludedFile,
    ParsedRequirements,
    PassThrough,
    PathOption,
)

__all__ = [
    "HEADER",
    "OutputFormat",
    "Pin",
    "Pinned",
    "RequirementsFile",
    "other_line",
    "relative",
    "render_closure",
    "render_requirements",
]

HEADER = "# Written by gitdeps from "


@dataclasses.dataclass(frozen=True)
class Pin:
    name: str
    version: str
    sha256: str
    source: str  # credential-free git+URL@ref, for the comment
    commit: str
    markers: tuple[str, ...] = ()  # for transitive pins: the markers of the edges to it


@dataclasses.dataclass(frozen=True)
class Pinned:
    """What the output says: the inputs, the pin of each git requirement in them, and the
    private dependencies that no line names; with ``--include-public``, ``closure`` is
    every distribution to install, each with its hashes."""

    parsed: ParsedRequirements
    top: Mapping[GitRequirement, Pin]
    transitive: tuple[Pin, ...]
    closure: tuple[Pin, ...] | None = None
    # a vendored wheel needs a public distribution, which the file cannot hash
    public_dependencies: bool = True

    @property
    def hashable(self) -> bool:
        """Whether every line pip installs from the file can carry a hash: then each
        vendored line does, and `pip install --require-hashes` works. One --hash turns
        pip's hash-checking mode on for every line and every dependency, so a public
        line or dependency with none would be refused."""
        parsed = self.parsed
        return parsed.uses_hashes or not (parsed.unhashed_public or self.public_dependencies)


class OutputFormat(Protocol):
    """Writes :class:`Pinned` as a file at ``output`` that names ``wheelhouse``."""

    def render(
        self, pinned: Pinned, *, output: Path, wheelhouse: Path, sources: Sequence[Path]
    ) -> str:
        """The file's text (``sources``: the input files, named in its header)."""
        ...


@dataclasses.dataclass(frozen=True)
class RequirementsFile:
    """pip's requirements format, as ``pip install -r`` (and uv's) reads it."""

    def render(
        self, pinned: Pinned, *, output: Path, wheelhouse: Path, sources: Sequence[Path]
    ) -> str:
        if pinned.closure is not None:
            return render_closure(
                pinned.closure, output=output, wheelhouse=wheelhouse, sources=sources
            )
        return render_requirements(
            pinned.parsed,
            pinned.top,
            pinned.transitive,
            output=output,
            wheelhouse=wheelhouse,
            sources=sources,
            hashes=pinned.hashable,
        )


def relative(target: Path, start: Path) -> str:
    try:
        rel = os.path.relpath(target, start)
    except ValueError:  # another drive on Windows
        return target.as_posix()
    rel = Path(rel).as_posix()
    return rel if rel in (".", "..") or rel.startswith("../") else f"./{rel}"


def _requirement_text(name: str, extras: Sequence[str], version: str, marker: str | None) -> str:
    text = name + (f"[{','.join(extras)}]" if extras else "") + f"=={version}"
    return text + (f" ; {marker}" if marker else "")


def other_line(entry: PassThrough | PathOption | IncludedFile, base: Path) -> str:
    """A line that is not a git requirement, as it reads from a file in ``base``."""
    if isinstance(entry, PassThrough):
        return entry.text
    if isinstance(entry, PathOption):
        return f"{entry.option} {relative(entry.path, base)}"
    return f"# -r {relative(entry.path.resolve(), base)} ({entry.location})"


def _header(output: Path, sources: Sequence[Path]) -> list[str]:
    base = output.parent.resolve()
    return [
        HEADER + ", ".join(relative(s.resolve(), base) for s in sources) + ".",
        "# Private packages are pinned to the wheels vendored beside this file; install with",
        "#   pip install -r <this file>",
    ]


def render_closure(
    pins: Sequence[Pin], *, output: Path, wheelhouse: Path, sources: Sequence[Path]
) -> str:
    """Every distribution pinned with its hashes; installs with no index at all."""
    base = output.parent.resolve()
    lines = _header(output, sources)
    lines[-1] = "#   pip install --no-index -r <this file>   (from any directory)"
    lines += ["--no-index", f"--find-links {relative(wheelhouse.resolve(), base)}"]
    for pin in sorted(pins, key=lambda p: canonicalize_name(p.name)):
        hashes = " ".join(f"--hash=sha256:{h}" for h in pin.sha256.split())
        text = f"{canonicalize_name(pin.name)}=={pin.version} {hashes}"
        if pin.commit:
            text += f"  # {pin.source} @ {pin.commit[:12]}"
        lines.append(text)
    return "\n".join(lines) + "\n"


def render_requirements(
    parsed: ParsedRequirements,
    pins: Mapping[GitRequirement, Pin],
    transitive: Sequence[Pin],
    *,
    output: Path,
    wheelhouse: Path,
    sources: Sequence[Path],
    hashes: bool = False,
) -> str:
    """``pins`` gives the vendored wheel of each git requirement in ``parsed``;
    ``transitive`` those of private dependencies that no line names. Each vendored line
    has its ``--hash`` when the inputs use hashes, or with ``hashes`` (see
    :attr:`Pinned.hashable`)."""
    base = output.parent.resolve()
    hashes = hashes or parsed.uses_hashes
    lines = [*_header(output, sources), f"--find-links {relative(wheelhouse.resolve(), base)}"]
    listed: set[str] = set()
    written: set[str] = set()
    for entry in parsed.entries:
        if not isinstance(entry, GitRequirement):
            lines.append(other_line(entry, base))
            continue
        # Every line keeps its own extras and marker (one line per platform, or an extra
        # added in another -r file); only a line that says the same thing again is dropped.
        pin = pins[entry]
        listed.add(canonicalize_name(pin.name))
        text = _requirement_text(pin.name, entry.extras, pin.version, entry.marker)
        if text in written:
            continue
        written.add(text)
        if hashes:
            text += f" --hash=sha256:{pin.sha256}"
        note = " (was -e, vendored as a normal wheel)" if entry.editable else ""
        lines.append(f"{text}  # {pin.source} @ {pin.commit[:12]}{note}")
    transitive = [pin for pin in transitive if canonicalize_name(pin.name) not in listed]
    if transitive and hashes:
        # --require-hashes wants every package listed, dependencies included.
        lines.append("# private dependencies of the packages above")
        for pin in transitive:
            marker = _join_markers(pin.markers)
            text = _requirement_text(pin.name, (), pin.version, marker)
            lines.append(f"{text} --hash=sha256:{pin.sha256}  # {pin.source} @ {pin.commit[:12]}")
    vendored = listed | {canonicalize_name(pin.name) for pin in transitive}
    if parsed.no_binary and vendored:
        # --no-binary (a vendored name, or :all:) would refuse the vendored wheels: a later
        # --only-binary for exactly those names wins over it (pip's format control).
        lines.append("# the vendored packages install from their wheels, whatever --no-binary says")
        lines.append(f"--only-binary {','.join(sorted(vendored))}")
    return "\n".join(lines) + "\n"


def _join_markers(markers: Sequence[str]) -> str | None:
    if not markers or any(not m or "extra" in m for m in markers):
        return None
    unique = sorted(set(markers))
    return unique[0] if len(unique) == 1 else " or ".join(f"({m})" for m in unique)
