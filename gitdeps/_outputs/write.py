"""Writing the outputs: vendored wheels, the requirements that pin them and the lock,
staged beside their places and switched together under the journal of ``journal``.

Each output file is the old one or the new one, whole; a wheelhouse that a failed run
made is removed again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name, parse_wheel_filename

from .._build.wheel import rewrite_wheel, sha256_file
from .._errors import GitDepsError
from .._fs import write_whole
from .journal import JOURNAL, STAGING, Plan, locked_outputs, publish, staged_path
from .lock import Lock, dump_lock
from .public_closure import Target, check_installable
from .pylock import check_pylock_name, public_from_report, public_in_wheelhouse, render_pylock
from .render import OutputFormat, Pin, Pinned, RequirementsFile, render_requirements
from .vendored import (
    VendoredWheel,
    compare_with_lock,
    pinned_requires,
    pinned_versions,
    stale_wheels,
)

if TYPE_CHECKING:
    from .._build.wheels import Built
    from .._inputs.requirements import GitRequirement, ParsedRequirements
    from .._resolve.graph import Package

__all__ = ["Destination", "check_writable", "write_outputs"]

progress = logging.getLogger("gitdeps.progress")


@dataclasses.dataclass(frozen=True)
class Destination:
    """Where a run writes, and what it was given."""

    wheelhouse: Path
    requirements: Path
    lock: Path | None
    sources: tuple[Path, ...]  # the input requirement files (relative paths are from here)
    # how `requirements` is written
    format: OutputFormat = dataclasses.field(default_factory=RequirementsFile)
    pylock: Path | None = None  # a PEP 751 pylock.toml of the wheelhouse, if asked

    @property
    def files(self) -> tuple[Path, ...]:
        """The output files besides the wheels."""
        return tuple(p for p in (self.requirements, self.lock, self.pylock) if p is not None)


def check_writable(to: Destination) -> None:
    """Refuse outputs that cannot be written before anything is fetched or built."""
    wheelhouse = to.wheelhouse
    if wheelhouse.exists() and not wheelhouse.is_dir():
        raise GitDepsError(
            f"the wheelhouse {wheelhouse} is a file", hint="name a folder for the wheels"
        )
    if to.pylock is not None:
        check_pylock_name(to.pylock)
    named = (
        (to.requirements, "--output-requirements"),
        (to.lock, "--lock"),
        (to.pylock, "--output-pylock"),
    )
    for path, what in named:
        if path is not None and path.is_dir():
            raise GitDepsError(f"{what} {path} is a folder", hint="name the file to write")
    parents = {wheelhouse.parent, *(p.parent for p in to.files)}
    for path in parents:
        existing = path
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
            raise GitDepsError(
                f"cannot write into {existing}: it is not a folder this user may write to",
                hint="choose other output paths, or fix the permissions",
            )


def write_outputs(
    packages: Sequence[Package[Built]],
    top: Mapping[GitRequirement, str],
    parsed: ParsedRequirements,
    to: Destination,
    *,
    previous: Lock | None,
    write_lock: bool,
    include_public: bool,
    target: Target,
) -> tuple[VendoredWheel, ...]:
    """Vendor ``packages`` (``top`` maps each input requirement to its package's key)
    and switch the outputs; return the vendored wheels."""
    wheelhouse = to.wheelhouse
    with _writing(to), _staging(wheelhouse) as staging:
        vendored = _vendor_wheels(packages, staging, wheelhouse, target)
        pinned = _pinned(packages, vendored, top, parsed)
        if include_public:
            pinned = _public_closure(pinned, to=to, staging=staging, target=target)
        text = to.format.render(
            pinned, output=to.requirements, wheelhouse=wheelhouse, sources=to.sources
        )
        new_lock = [v.lock_entry() for v in vendored]
        if previous is not None:
            compare_with_lock(previous, new_lock)
        # Everything is ready: stage the requirements and the lock beside their places,
        # then switch the whole set under a journal (see journal.py).
        digests = {v.path.name: v.sha256 for v in vendored}  # public wheels are not in it
        moves: list[tuple[Path, Path]] = []
        for staged in sorted(staging.glob("*.whl")):
            final = wheelhouse / staged.name
            digest = digests.get(staged.name) or sha256_file(staged)
            if not (final.exists() and sha256_file(final) == digest):
                moves.append((staged, final))
        write_whole(staged_path(to.requirements), text.encode("utf-8"), like=to.requirements)
        moves.append((staged_path(to.requirements), to.requirements))
        if to.pylock is not None:
            pylock = _pylock(vendored, pinned, to.pylock, to=to, staging=staging, target=target)
            write_whole(staged_path(to.pylock), pylock.encode("utf-8"), like=to.pylock)
            moves.append((staged_path(to.pylock), to.pylock))
        removals: list[Path] = []
        if to.lock is not None and write_lock:
            write_whole(staged_path(to.lock), dump_lock(new_lock).encode("utf-8"), like=to.lock)
            moves.append((staged_path(to.lock), to.lock))
            removals = stale_wheels(previous, new_lock, wheelhouse)
        publish(wheelhouse.parent, Plan(tuple(moves), tuple(removals)))
        return vendored


@contextlib.contextmanager
def _writing(to: Destination) -> Iterator[None]:
    """Hold the outputs' folder; a failure to write is said as what to do."""
    finals = list(to.files)
    try:
        with locked_outputs(to.wheelhouse.parent, finals, wheelhouse=to.wheelhouse):
            yield
    except OSError as exc:
        where = exc.filename or to.wheelhouse
        raise GitDepsError(
            f"writing the outputs failed at {where}: {exc.strerror or exc}",
            hint="free some space "
            "or fix the permissions and run again (each output file is the old one or the "
            "new one, whole)",
        ) from exc


def _vendor_wheels(
    packages: Sequence[Package[Built]], staging: Path, wheelhouse: Path, target: Target
) -> tuple[VendoredWheel, ...]:
    """Each built wheel rewritten into ``staging`` with its pinned version and pins."""
    versions = pinned_versions(packages)
    vendored = []
    for package in packages:
        built, node = package.built, package.node
        staged = rewrite_wheel(
            built.wheel,
            staging,
            version=versions[package.key],
            replace_requires=pinned_requires(built, versions),
        )
        url = node.requirement.url
        check_installable(staged, target, f"{built.info.name} ({url.requirement_url()})")
        vendored.append(
            VendoredWheel(
                name=built.info.name,
                version=versions[package.key],
                path=wheelhouse / staged.name,
                sha256=sha256_file(staged),
                url=url.repo,
                requested_revision=url.ref or "",
                commit=node.commit,
                subdirectory=url.subdirectory or "",
                requested_by=package.requested_by,
                source=url.requirement_url(),
                obtained=built.source,
            )
        )
    return tuple(vendored)


def _pinned(
    packages: Sequence[Package[Built]],
    vendored: Sequence[VendoredWheel],
    top: Mapping[GitRequirement, str],
    parsed: ParsedRequirements,
) -> Pinned:
    """The inputs with each git requirement's pin, and the private dependencies' pins
    (with the markers they were asked for under)."""
    pins = {package.key: wheel.pin() for package, wheel in zip(packages, vendored, strict=True)}
    markers: dict[str, list[str]] = {}
    for package in packages:
        for _value, child in package.built.private:
            markers.setdefault(child.key or "", []).append(child.marker or "")
    top_keys = set(top.values())
    transitive = tuple(
        dataclasses.replace(pin, markers=tuple(markers.get(key, ())))
        for key, pin in pins.items()
        if key not in top_keys
    )
    return Pinned(
        parsed,
        {requirement: pins[key] for requirement, key in top.items()},
        transitive,
        public_dependencies=any(
            _public_requires(package.built, extras=any(r.extras for r in top))
            for package in packages
        ),
    )


def _public_requires(built: Built, *, extras: bool) -> bool:
    """Whether ``built`` needs a public distribution (one for an extra counts when any
    extra is asked for)."""
    private = {value for value, _child in built.private}
    return any(
        value not in private and (extras or "extra" not in value.partition(";")[2])
        for value in built.info.requires_dist
    )


def _pylock(
    vendored: Sequence[VendoredWheel],
    pinned: Pinned,
    output: Path,
    *,
    to: Destination,
    staging: Path,
    target: Target,
) -> str:
    """The pylock.toml of the wheelhouse: the vendored wheels, and the public closure
    from the wheelhouse (--include-public) or as pip resolves it for the target."""
    private: set[str] = {canonicalize_name(v.name) for v in vendored}
    if pinned.closure is not None:
        public = public_in_wheelhouse(sorted(staging.glob("*.whl")), to.wheelhouse, private)
    else:
        from .public_closure import resolve_closure

        progress.info("public dependencies: resolving with pip for %s", target.describe())
        with _probe(pinned, to=to, staging=staging) as probe:
            public = public_from_report(resolve_closure(probe, target=target), private)
    return render_pylock(vendored, public, output=output, target=target)


@contextlib.contextmanager
def _probe(pinned: Pinned, *, to: Destination, staging: Path) -> Iterator[Path]:
    """The requirements as pip reads them, the private wheels found in ``staging``."""
    with tempfile.TemporaryDirectory(prefix="gitdeps-closure-") as temp:
        probe = Path(temp) / "requirements.txt"
        probe.write_text(  # pip's input, whatever the output's format
            render_requirements(
                pinned.parsed,
                pinned.top,
                pinned.transitive,
                output=probe,
                wheelhouse=staging,
                sources=to.sources,
            ),
            encoding="utf-8",
        )
        yield probe


def _public_closure(pinned: Pinned, *, to: Destination, staging: Path, target: Target) -> Pinned:
    """Download the whole closure into ``staging``; ``pinned`` with all of it pinned."""
    with _probe(pinned, to=to, staging=staging) as probe:
        from .public_closure import download_closure

        progress.info("public dependencies: resolving with pip for %s", target.describe())
        files = download_closure(probe, staging, target=target)
    private = {canonicalize_name(p.name): p for p in (*pinned.top.values(), *pinned.transitive)}
    pins: dict[tuple[str, str], Pin] = {}
    for wheel in files:
        name, version, _build, _tags = parse_wheel_filename(wheel.name)
        key = (str(name), str(version))
        private_pin = private.get(name)
        if private_pin is not None:
            pins[key] = private_pin
            continue
        digest = sha256_file(wheel)
        previous = pins.get(key)
        hashes = (previous.sha256 + " " if previous else "") + digest
        pins[key] = Pin(name=str(name), version=str(version), sha256=hashes, source="", commit="")
    public = sum(1 for p in pins.values() if not p.commit)
    progress.info("public dependencies: %d wheels", public)
    return dataclasses.replace(pinned, closure=tuple(pins.values()))


@contextlib.contextmanager
def _staging(wheelhouse: Path) -> Iterator[Path]:
    """A staging folder inside the wheelhouse: the same file system even when the
    wheelhouse is a mount of its own (a container volume), so each wheel moves in
    atomically. Removed afterwards unless a journal needs it (the next run finishes from
    it); a wheelhouse made for this run goes again if the run publishes nothing."""
    made = not wheelhouse.exists()
    wheelhouse.mkdir(exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING, dir=wheelhouse))
    try:
        yield staging
    finally:
        if not (wheelhouse.parent / JOURNAL).exists():
            shutil.rmtree(staging, ignore_errors=True)
            if made:
                with contextlib.suppress(OSError):  # not empty: something was published
                    wheelhouse.rmdir()
