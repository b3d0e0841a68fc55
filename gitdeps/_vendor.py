"""``vendor()``: requirements in, wheelhouse + rewritten requirements + lock out.

Per git requirement: resolve the ref to a commit (or take it from the lock),
fetch that commit alone, build a wheel, read its ``Requires-Dist`` and do the
same for every private dependency found there. Work for different packages runs
in parallel; each repository is listed once and each commit fetched once per
run. Only when everything has succeeded is anything written, and then each file
appears whole.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import os
import shutil
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from ._build.builders import BuildRequest, PyPABuilder, WheelBuilder
from ._build.environments import BuildEnvironments
from ._build.wheel import WheelInfo, pinned_version, read_wheel, rewrite_wheel, sha256_file
from ._cache.local import Cache, default_cache_dir
from ._cache.remote import RemoteCache, RemoteStats, remote_settings
from ._config import load_config
from ._credentials.store import Credentials
from ._errors import BuildError, GitDepsError, LockError
from ._fs import write_whole
from ._inputs.giturl import GitURL
from ._inputs.requirements import (
    GitRequirement,
    ParsedRequirements,
    parse_requirement_files,
    requirement_from_metadata,
)
from ._once import Once
from ._options import VendorOptions
from ._outputs.journal import JOURNAL, STAGING, Plan, locked_outputs, publish, staged_path
from ._outputs.lock import Lock, LockedPackage, dump_lock, read_lock
from ._outputs.public_closure import Target, check_installable
from ._outputs.render import Pin, render_closure, render_requirements
from ._resolve.refs import RemoteRefs, is_full_commit, listing_key, resolve_ref
from ._settings import limits
from ._subprocess import build_timeout, stop_children

if TYPE_CHECKING:
    from ._fetch.checkout import Checkout

# Fetching, checking out and building are imported where they happen: a warm
# run (everything cached) never needs dulwich's object store, build or
# pyproject_hooks, and start-up time is most of what it costs.

__all__ = ["VendorResult", "VendoredWheel", "vendor"]

logger = logging.getLogger("gitdeps")
progress = logging.getLogger("gitdeps.progress")

_NETWORK_THREADS = 16


@dataclasses.dataclass(frozen=True)
class VendoredWheel:
    """One private distribution in the wheelhouse, and where it came from."""

    name: str
    version: str  # the vendored (pinned) version
    path: Path
    sha256: str
    url: str  # credential-free repository URL
    requested_revision: str
    commit: str
    subdirectory: str
    requested_by: tuple[str, ...]
    source: str = ""  # credential-free git+URL@ref, as requirements name it

    def lock_entry(self) -> LockedPackage:
        """This package as the lock records it."""
        return LockedPackage(
            name=self.name,
            version=self.version,
            url=self.url,
            requested_revision=self.requested_revision,
            commit=self.commit,
            subdirectory=self.subdirectory,
            wheel=self.path.name,
            sha256=self.sha256,
        )

    def pin(self) -> Pin:
        """This package as the output requirements pin it."""
        return Pin(self.name, self.version, self.sha256, self.source, self.commit)


@dataclasses.dataclass(frozen=True)
class VendorResult:
    packages: tuple[VendoredWheel, ...]
    wheelhouse: Path
    output_requirements: Path
    lock: Path | None
    seconds: float
    remote_cache: RemoteStats | None = None  # what the shared cache gave and took, if used

    @property
    def wheels(self) -> tuple[Path, ...]:
        return tuple(p.path for p in self.packages)


@dataclasses.dataclass
class _Node:
    """A distribution in the graph, keyed by its canonical name."""

    requirement: GitRequirement
    commit: str
    requested_by: list[str]
    built: _Built | None = None

    @property
    def identity(self) -> tuple[str, str, str, tuple[tuple[str, str], ...]]:
        url = self.requirement.url
        return (url.repo, url.subdirectory or "", self.commit, self.requirement.config_settings)


@dataclasses.dataclass(frozen=True)
class _Built:
    wheel: Path
    info: WheelInfo
    # each Requires-Dist value that names git, with its requirement: parsed once, here
    private: tuple[tuple[str, GitRequirement], ...]

    @property
    def children(self) -> tuple[GitRequirement, ...]:
        return tuple(child for _value, child in self.private)


class _Run:
    def __init__(
        self,
        *,
        scratch: Path,
        credentials: Credentials,
        lock: Lock | None,
        lock_path: Path | None,
        locked: bool,
        upgrade_packages: frozenset[str],
        builder: WheelBuilder,
        cache: Cache | None,
        remote: RemoteCache | None,
        jobs: int,
    ) -> None:
        self.scratch = scratch
        self.cache = cache
        self.remote = remote
        self.upgrade_packages = upgrade_packages
        self.credentials = credentials
        self.lock = lock
        self.lock_path = lock_path
        self.locked = locked
        self.builder = builder
        self.nodes: dict[str, _Node] = {}
        self.keys: dict[GitRequirement, str] = {}  # requirement -> key of its node
        self._nodes_lock = threading.Lock()
        self._refs = Once()
        self._fetches = Once()
        self._builds = Once()
        self._build_slots = threading.Semaphore(jobs)

    # -- one requirement ------------------------------------------------------
    def process(self, requirement: GitRequirement) -> list[GitRequirement]:
        """Resolve, fetch and build one requirement; return its private dependencies."""
        label = requirement.name or requirement.url.requirement_url()
        try:
            return self._process(requirement, label)
        except GitDepsError as exc:
            prefix = f"{requirement.requested_by}: "
            if not exc.message.startswith(prefix):
                if requirement.name and not exc.message.startswith(requirement.name):
                    prefix += f"{requirement.name}: "
                exc.add_context(prefix)
            raise

    def _process(self, requirement: GitRequirement, label: str) -> list[GitRequirement]:
        url = requirement.url
        commit = self._commit(requirement)
        node = _Node(requirement, commit, [requirement.requested_by])
        if requirement.key is not None and not self._register(requirement.key, node, requirement):
            return []
        shown = url.ref[:12] if url.ref and url.ref.lower() == commit else url.ref or "HEAD"
        progress.info("%s: %s -> %s", label, shown, commit[:12])
        built = self._builds.get(node.identity, lambda: self._build(node, label))
        name = built.info.name
        if requirement.key is None:
            if not self._register(canonicalize_name(name), node, requirement):
                return []
        elif canonicalize_name(name) != requirement.key:
            raise BuildError(
                f"asks for {requirement.name!r} but {url.requirement_url()} builds {name!r}; "
                "correct the name in the requirement"
            )
        node.built = built
        return list(built.children)

    def _register(self, key: str, node: _Node, requirement: GitRequirement) -> bool:
        """Add ``node`` under ``key``; False when it is there already (same commit)."""
        with self._nodes_lock:
            self.keys[requirement] = key
            existing = self.nodes.get(key)
            if existing is None:
                self.nodes[key] = node
                return True
            if existing.identity != node.identity:
                first, second = existing.requirement, node.requirement
                if existing.identity[:3] == node.identity[:3]:
                    raise GitDepsError(
                        f"{first.name or key} is asked for with different --config-settings by "
                        f"{', '.join(existing.requested_by)} and by {second.requested_by}; "
                        "one build serves both: make them agree"
                    )
                raise GitDepsError(
                    f"{first.name or key} is asked for at two different commits: "
                    f"{first.url.requirement_url()} ({existing.commit[:12]}) by "
                    f"{', '.join(existing.requested_by)}, and {second.url.requirement_url()} "
                    f"({node.commit[:12]}) by {second.requested_by}; make them agree"
                )
            existing.requested_by.append(node.requirement.requested_by)
            return False

    def _commit(self, requirement: GitRequirement) -> str:
        url = requirement.url
        entry = self.lock.find(url.repo, url.ref, url.subdirectory) if self.lock else None
        if entry is not None and canonicalize_name(entry.name) not in self.upgrade_packages:
            # Asks no host anything: whether the ref has moved since is `gitdeps check`'s
            # question, so a locked run works with the host unreachable.
            return entry.commit
        if self.locked:
            raise LockError(
                f"{url.requirement_url()} is not in the lock {self.lock_path}; run without "
                "--locked to add it"
            )
        if url.ref is not None and is_full_commit(url.ref):
            return url.ref.lower()
        from ._fetch.git import list_refs  # the git client loads only when a host is asked

        refs: RemoteRefs = self._refs.get(
            listing_key(url), lambda: list_refs(url, self.credentials)
        )
        return resolve_ref(url, url.ref, refs, search=lambda prefix: self._search(url, prefix))

    def _search(self, url: GitURL, prefix: str) -> list[str]:
        from ._fetch.git import find_commits

        progress.info("%s: %s is no branch or tag tip; searching the history", url.repo, prefix)
        where = Path(tempfile.mkdtemp(dir=self.scratch / "src")) / "search.git"
        try:
            return find_commits(url, prefix, self.credentials, where)
        finally:
            shutil.rmtree(where.parent, ignore_errors=True)

    def _checkout(self, url: GitURL, commit: str, label: str) -> Checkout:
        def fetch() -> Checkout:
            from ._fetch.source import fetch_tree

            started = time.monotonic()
            tree = fetch_tree(
                url, commit, self.credentials, Path(tempfile.mkdtemp(dir=self.scratch / "src"))
            )
            progress.info("%s: fetched (%.1f s)", label, time.monotonic() - started)
            return tree

        return self._fetches.get((url.repo, commit), fetch)

    def _build(self, node: _Node, label: str) -> _Built:
        """The wheel of ``node``: from the cache, or fetched and built (then cached)."""
        url = node.requirement.url
        what = f"{url.requirement_url()} at {node.commit[:12]}"
        if node.requirement.editable:
            progress.info("%s: -e is vendored as a normal wheel", label)
        if self.cache is None:
            return self._inspect(self._build_fresh(node, label, what)[0], what)
        key = self._wheel_key(node)
        tags_now = self._tags_at(url, node.commit)
        with self.cache.locked(key):
            wheel = self.cache.get_wheel(key, tags=tags_now)
            if wheel is not None:
                progress.info("%s: cached %s", label, wheel.name)
            elif (wheel := self._from_remote(key, tags_now)) is not None:
                progress.info("%s: from the remote cache %s", label, wheel.name)
            else:
                built, tags = self._build_fresh(node, label, what)
                wheel = self.cache.put_wheel(key, built, tags=tags)
                if self.remote is not None:
                    self.remote.put(key, wheel, digest=sha256_file(wheel), tags=tags)
        return self._inspect(wheel, what)

    def _from_remote(self, key: str, tags: tuple[str, ...] | None) -> Path | None:
        """The remote cache's wheel for ``key``, verified and kept in the local cache."""
        if self.remote is None or self.cache is None:
            return None
        where = Path(tempfile.mkdtemp(dir=self.scratch / "built"))
        found = self.remote.get(key, tags=tags, into=where)
        if found is None:
            return None
        wheel, built_with = found
        return self.cache.put_wheel(key, wheel, tags=built_with)

    def rebuild(self, node: _Node) -> _Built:
        """``node`` built again from its commit, never from the cache (whose entry the new
        wheel replaces)."""
        url = node.requirement.url
        label = node.requirement.name or url.requirement_url()
        what = f"{url.requirement_url()} at {node.commit[:12]}"
        built, tags = self._build_fresh(node, label, what)
        if self.cache is not None:
            key = self._wheel_key(node)
            with self.cache.locked(key):
                built = self.cache.put_wheel(key, built, tags=tags)
        return self._inspect(built, what)

    def _wheel_key(self, node: _Node) -> str:
        url = node.requirement.url
        return Cache.wheel_key(
            url.repo,
            node.commit,
            url.subdirectory or "",
            isolated=self.builder.isolated,
            config_settings=node.requirement.config_settings,
        )

    def _inspect(self, wheel: Path, what: str) -> _Built:
        try:
            info = read_wheel(wheel)
        except (ValueError, KeyError, OSError, zipfile.BadZipFile) as exc:
            raise BuildError(f"{what}: the backend produced an unreadable wheel: {exc}") from None
        try:
            Version(info.version)
        except InvalidVersion:
            raise BuildError(
                f"{what}: the backend produced a wheel whose version {info.version!r} is not a "
                "valid version (PEP 440); check the project's version or its version plugin"
            ) from None
        requested_by = f"{info.name} {info.version}"
        private = []
        for value in info.requires_dist:
            child = requirement_from_metadata(value, requested_by)
            if child is not None:
                private.append((value, child))
        return _Built(wheel=wheel, info=info, private=tuple(private))

    def _tags_at(self, url: GitURL, commit: str) -> tuple[str, ...] | None:
        """The tags at ``commit`` if this run has listed the repository's refs."""
        refs = self._refs.peek(listing_key(url))
        return refs.tags_at(commit) if isinstance(refs, RemoteRefs) else None

    def _build_fresh(self, node: _Node, label: str, what: str) -> tuple[Path, tuple[str, ...]]:
        """A new wheel, and the tags at its commit that the build saw."""
        url = node.requirement.url
        tree = self._checkout(url, node.commit, label)
        source = tree.root / url.subdirectory if url.subdirectory else tree.root
        if not source.is_dir():
            raise BuildError(
                f"{what}: the repository has no directory {url.subdirectory!r} at that commit; "
                "check #subdirectory="
            )
        out = Path(tempfile.mkdtemp(dir=self.scratch / "built"))
        with self._build_slots:  # builds are CPU-bound: at most --jobs at once
            started = time.monotonic()
            wheel = self.builder.build(
                BuildRequest(
                    source=source,
                    outdir=out,
                    what=what,
                    source_date_epoch=tree.commit_time,
                    config_settings=node.requirement.backend_config(),
                )
            )
        progress.info("%s: built %s (%.1f s)", label, wheel.name, time.monotonic() - started)
        return wheel, tree.tags

    # -- the whole graph ------------------------------------------------------
    def run(self, top: Sequence[GitRequirement]) -> dict[GitRequirement, _Node]:
        # Threads wait on the network most of the time; builds take a slot each.
        with ThreadPoolExecutor(max_workers=_NETWORK_THREADS, thread_name_prefix="gitdeps") as pool:
            pending: set[Future[list[GitRequirement]]] = set()
            for requirement in top:
                pending.add(pool.submit(self.process, requirement))
            try:
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        for child in future.result():
                            pending.add(pool.submit(self.process, child))
            except BaseException:
                # Ctrl-C, SIGTERM or a failure: start nothing new, and stop the builds
                # under way, or leaving this block would wait for them to finish.
                pool.shutdown(wait=False, cancel_futures=True)
                stop_children()
                raise
        return {req: self.nodes[self.keys[req]] for req in top}


def _pin_requirement(value: str, pins: Mapping[str, str]) -> str:
    req = Requirement(value)
    extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
    marker = f" ; {req.marker}" if req.marker else ""
    return f"{req.name}{extras}=={pins[canonicalize_name(req.name)]}{marker}"


_active = threading.local()
P = ParamSpec("P")
R = TypeVar("R")


def _not_reentrant(function: Callable[P, R]) -> Callable[P, R]:
    """A vendor() inside a vendor() would wait for ever on the outer one's locks."""

    @functools.wraps(function)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        inside = getattr(_active, "running", False) or threading.current_thread().name.startswith(
            "gitdeps"
        )
        if inside:
            raise GitDepsError(
                "gitdeps.vendor() was called while a vendor() is running in this process "
                "(from code that gitdeps' own work imported or ran); call it once, from "
                "your script's top level"
            )
        _active.running = True
        try:
            return function(*args, **kwargs)
        finally:
            _active.running = False

    return guarded


@_not_reentrant
def vendor(
    requirements: Sequence[str | os.PathLike[str]],
    wheelhouse: str | os.PathLike[str],
    output_requirements: str | os.PathLike[str],
    lock: str | os.PathLike[str] | None = None,
    *,
    options: VendorOptions | None = None,
    locked: bool = False,
    upgrade: bool = False,
    upgrade_packages: Sequence[str] = (),
    include_public: bool = False,
    platform: Sequence[str] = (),
    python_version: str | None = None,
    implementation: str | None = None,
    abi: Sequence[str] = (),
    jobs: int | None = None,
    build_isolation: bool = True,
    installer: str = "auto",
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
    config: str | os.PathLike[str] | None = None,
    config_root: str | os.PathLike[str] | None = None,
    extras: Sequence[str] = (),
    groups: Sequence[str] = (),
    remote_cache: str | None = None,
    remote_cache_read_only: bool | None = None,
) -> VendorResult:
    """Vendor the git requirements of ``requirements`` into ``wheelhouse``.

    Writes the wheels, ``output_requirements`` (installable with plain pip, no
    credentials, no git) and, unless ``locked``, the ``lock``. Raises a
    :class:`GitDepsError` and leaves every existing output as it was on failure.

    How to vendor is one :class:`VendorOptions`: pass it as ``options``, or its fields
    as keywords (not both). ``remote_cache`` is the URL of an Azure Blob container shared
    by every machine (else ``GITDEPS_REMOTE_CACHE``, else ``[cache] remote`` in
    gitdeps.toml); see docs/remote-cache.md.
    """
    from_keywords = VendorOptions(
        locked=locked,
        upgrade=upgrade,
        upgrade_packages=tuple(upgrade_packages),
        include_public=include_public,
        platform=tuple(platform),
        python_version=python_version,
        implementation=implementation,
        abi=tuple(abi),
        jobs=jobs,
        build_isolation=build_isolation,
        installer=installer,
        cache_dir=Path(cache_dir) if cache_dir is not None else None,
        use_cache=use_cache,
        config=Path(config) if config is not None else None,
        config_root=Path(config_root) if config_root is not None else None,
        extras=tuple(extras),
        groups=tuple(groups),
        remote_cache=remote_cache,
        remote_cache_read_only=remote_cache_read_only,
    )
    if options is not None and from_keywords != VendorOptions():
        raise GitDepsError("vendor(): pass options= or its fields as keywords, not both")
    if not requirements:
        raise GitDepsError("no requirements file given; pass -r requirements.txt")
    if isinstance(requirements, (str, os.PathLike)):
        requirements = [requirements]
    return _vendor(
        [Path(r) for r in requirements],
        Path(wheelhouse),
        Path(output_requirements),
        Path(lock) if lock is not None else None,
        options or from_keywords,
    )


def _vendor(
    sources: list[Path],
    wheelhouse: Path,
    output: Path,
    lock_path: Path | None,
    options: VendorOptions,
) -> VendorResult:
    """The pipeline: inputs, then the graph (resolve, fetch, build, rewrite), then the
    outputs, switched together."""
    started = time.monotonic()
    build_timeout()  # invalid limits are refused before any work
    limits()
    target = Target(
        platforms=options.platform,
        python_version=options.python_version,
        implementation=options.implementation,
        abis=options.abi,
    )
    if target.foreign and not options.include_public:
        logger.info(
            "--platform and friends check the private wheels; add --include-public to "
            "vendor the public dependencies for that target too"
        )
    if options.locked and lock_path is None:
        raise LockError("--locked needs --lock FILE")
    settings = load_config(options.config, root=options.config_root)
    remote = remote_settings(
        settings.cache, url=options.remote_cache, read_only=options.remote_cache_read_only
    )
    _check_outputs(wheelhouse, output, lock_path)
    parsed = parse_requirement_files(sources, extras=options.extras, groups=options.groups)
    previous = read_lock(lock_path) if lock_path is not None else None
    if options.locked and previous is None:
        raise LockError(
            f"--locked: the lock {lock_path} does not exist; run without --locked first"
        )

    with (
        contextlib.ExitStack() as held,
        tempfile.TemporaryDirectory(prefix="gitdeps-") as scratch_dir,
    ):
        scratch = Path(scratch_dir)
        (scratch / "src").mkdir()
        (scratch / "built").mkdir()
        cache = None
        if options.use_cache:
            cache = Cache(options.cache_dir or default_cache_dir())
            held.enter_context(cache.in_use())
        shared = RemoteCache(remote) if remote is not None and cache is not None else None
        if shared is not None:
            held.callback(shared.close)
        builder = PyPABuilder(
            BuildEnvironments(
                scratch / "envs",
                index_options=parsed.index_options,
                installer=options.installer,
                cache=cache,
            )
            if options.build_isolation
            else None
        )
        run = _Run(
            scratch=scratch,
            credentials=Credentials(parsed.credentials, config=settings),
            lock=None if options.upgrade else previous,
            lock_path=lock_path,
            locked=options.locked,
            upgrade_packages=frozenset(canonicalize_name(n) for n in options.upgrade_packages),
            builder=builder,
            cache=cache,
            remote=shared,
            jobs=options.jobs or os.cpu_count() or 1,
        )
        top_nodes = run.run(parsed.git)
        try:
            return _write_outputs(
                run,
                parsed=parsed,
                top_nodes=top_nodes,
                sources=sources,
                wheelhouse=wheelhouse,
                output=output,
                lock_path=lock_path,
                previous=previous,
                locked=options.locked,
                started=started,
                include_public=options.include_public,
                target=target,
            )
        except OSError as exc:
            where = exc.filename or wheelhouse
            raise GitDepsError(
                f"writing the outputs failed at {where}: {exc.strerror or exc}; free some space "
                "or fix the permissions and run again (each output file is the old one or the "
                "new one, whole)"
            ) from exc


def _check_outputs(wheelhouse: Path, output: Path, lock: Path | None) -> None:
    """Refuse outputs that cannot be written before anything is fetched or built."""
    if wheelhouse.exists() and not wheelhouse.is_dir():
        raise GitDepsError(f"the wheelhouse {wheelhouse} is a file; name a folder for the wheels")
    for path, what in ((output, "--output-requirements"), (lock, "--lock")):
        if path is not None and path.is_dir():
            raise GitDepsError(f"{what} {path} is a folder; name the file to write")
    for path in {wheelhouse.parent, output.parent, *([lock.parent] if lock else [])}:
        existing = path
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
            raise GitDepsError(
                f"cannot write into {existing}: it is not a folder this user may write to; "
                "choose other output paths, or fix the permissions"
            )


def _write_outputs(
    run: _Run,
    *,
    parsed: ParsedRequirements,
    top_nodes: Mapping[GitRequirement, _Node],
    sources: Sequence[Path],
    wheelhouse: Path,
    output: Path,
    lock_path: Path | None,
    previous: Lock | None,
    locked: bool,
    started: float,
    include_public: bool,
    target: Target,
) -> VendorResult:
    versions = {
        key: pinned_version(node.built.info.version, node.commit)
        for key, node in run.nodes.items()
        if node.built is not None
    }
    if locked and previous is not None:
        _hold_to_the_lock(run, previous, versions)
    finals = [output, *([lock_path] if lock_path is not None else [])]
    with locked_outputs(wheelhouse.parent, finals, wheelhouse=wheelhouse):
        # Inside the wheelhouse: the same file system even when the wheelhouse is a mount
        # of its own (a container volume), so each wheel moves in atomically. A wheelhouse
        # made for this run goes again if the run publishes nothing.
        made = not wheelhouse.exists()
        wheelhouse.mkdir(exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=STAGING, dir=wheelhouse))
        try:
            packages: list[VendoredWheel] = []
            pins: dict[str, Pin] = {}
            edges: dict[str, list[str]] = {}
            for key, node in sorted(run.nodes.items()):
                built = node.built
                if built is None:  # pragma: no cover - run() returns only after every build
                    raise RuntimeError(f"{key} was never built")
                for _value, child in built.private:
                    edges.setdefault(child.key or "", []).append(child.marker or "")
                staged = rewrite_wheel(
                    built.wheel,
                    staging,
                    version=versions[key],
                    replace_requires=_pinned_requires(built, versions),
                )
                url = node.requirement.url
                check_installable(staged, target, f"{built.info.name} ({url.requirement_url()})")
                vendored = VendoredWheel(
                    name=built.info.name,
                    version=versions[key],
                    path=wheelhouse / staged.name,
                    sha256=sha256_file(staged),
                    url=url.repo,
                    requested_revision=url.ref or "",
                    commit=node.commit,
                    subdirectory=url.subdirectory or "",
                    requested_by=tuple(node.requested_by),
                    source=url.requirement_url(),
                )
                packages.append(vendored)
                pins[key] = vendored.pin()
            top_keys = {canonicalize_name(n.built.info.name) for n in top_nodes.values() if n.built}
            by_requirement = {
                req: pins[canonicalize_name(node.built.info.name)]
                for req, node in top_nodes.items()
                if node.built is not None
            }
            transitive = [
                dataclasses.replace(pin, markers=tuple(edges.get(key, ())))
                for key, pin in pins.items()
                if key not in top_keys
            ]
            if include_public:
                text = _public_closure(
                    parsed,
                    by_requirement=by_requirement,
                    transitive=transitive,
                    private=pins,
                    staging=staging,
                    target=target,
                    output=output,
                    wheelhouse=wheelhouse,
                    sources=sources,
                )
            else:
                text = render_requirements(
                    parsed,
                    by_requirement,
                    transitive,
                    output=output,
                    wheelhouse=wheelhouse,
                    sources=sources,
                )
            new_lock = [p.lock_entry() for p in packages]
            if previous is not None:
                _compare_with_lock(previous, new_lock)
            # Everything is ready: stage the requirements and the lock beside their places,
            # then switch the whole set under a journal (see _outputs).
            moves: list[tuple[Path, Path]] = []
            for staged in sorted(staging.glob("*.whl")):
                final = wheelhouse / staged.name
                if not (final.exists() and sha256_file(final) == sha256_file(staged)):
                    moves.append((staged, final))
            write_whole(staged_path(output), text.encode("utf-8"), like=output)
            moves.append((staged_path(output), output))
            removals: list[Path] = []
            if lock_path is not None and not locked:
                write_whole(
                    staged_path(lock_path), dump_lock(new_lock).encode("utf-8"), like=lock_path
                )
                moves.append((staged_path(lock_path), lock_path))
                removals = _stale_wheels(previous, new_lock, wheelhouse)
            publish(wheelhouse.parent, Plan(tuple(moves), tuple(removals)))
        finally:
            if not (wheelhouse.parent / JOURNAL).exists():  # else the next run finishes from it
                shutil.rmtree(staging, ignore_errors=True)
                if made:
                    with contextlib.suppress(OSError):  # not empty: something was published
                        wheelhouse.rmdir()
        return VendorResult(
            packages=tuple(packages),
            wheelhouse=wheelhouse,
            output_requirements=output,
            lock=lock_path,
            seconds=time.monotonic() - started,
            remote_cache=run.remote.stats if run.remote is not None else None,
        )


def _public_closure(
    parsed: ParsedRequirements,
    *,
    by_requirement: Mapping[GitRequirement, Pin],
    transitive: Sequence[Pin],
    private: Mapping[str, Pin],
    staging: Path,
    target: Target,
    output: Path,
    wheelhouse: Path,
    sources: Sequence[Path],
) -> str:
    """Download the whole closure into ``staging``; the requirements that pin all of it."""
    with tempfile.TemporaryDirectory(prefix="gitdeps-closure-") as temp:
        probe = Path(temp) / "requirements.txt"
        probe.write_text(
            render_requirements(
                parsed,
                by_requirement,
                transitive,
                output=probe,
                wheelhouse=staging,
                sources=sources,
            ),
            encoding="utf-8",
        )
        from ._outputs.public_closure import download_closure

        progress.info("public dependencies: resolving with pip for %s", target.describe())
        files = download_closure(probe, staging, target=target)
    pins: dict[tuple[str, str], Pin] = {}
    for wheel in files:
        name, version, _build, _tags = parse_wheel_filename(wheel.name)
        key = (str(name), str(version))
        private_pin = private.get(str(name))
        if private_pin is not None:
            pins[key] = private_pin
            continue
        digest = sha256_file(wheel)
        previous = pins.get(key)
        hashes = (previous.sha256 + " " if previous else "") + digest
        pins[key] = Pin(name=str(name), version=str(version), sha256=hashes, source="", commit="")
    public = sum(1 for p in pins.values() if not p.commit)
    progress.info("public dependencies: %d wheels", public)
    return render_closure(
        list(pins.values()), output=output, wheelhouse=wheelhouse, sources=sources
    )


def _pinned_requires(built: _Built, versions: Mapping[str, str]) -> dict[str, str]:
    """Each Requires-Dist value that names git, and the pin the vendored wheel says instead."""
    return {value: _pin_requirement(value, versions) for value, _child in built.private}


def _vendored_digest(built: _Built, version: str, versions: Mapping[str, str], where: Path) -> str:
    """The SHA-256 the vendored (rewritten) wheel of ``built`` would have."""
    for value, child in built.private:
        if child.key not in versions:
            raise LockError(
                f"{built.info.name} now asks for {value!r}, which the lock does not cover; "
                "run without --locked to re-lock"
            )
    replace = _pinned_requires(built, versions)
    staged = rewrite_wheel(built.wheel, where, version=version, replace_requires=replace)
    try:
        return sha256_file(staged)
    finally:
        staged.unlink()


def _hold_to_the_lock(run: _Run, previous: Lock, versions: dict[str, str]) -> None:
    """With --locked the lock's SHA-256 is the truth: a wheel that does not match it (a
    damaged or poisoned cache entry) is built again from its commit; one that still does
    not match stops the run."""
    with tempfile.TemporaryDirectory(prefix="gitdeps-verify-") as scratch:
        for key, node in sorted(run.nodes.items()):
            url = node.requirement.url
            entry = previous.find(url.repo, url.ref, url.subdirectory)
            built = node.built
            if entry is None or built is None or entry.commit != node.commit:
                continue
            if _vendored_digest(built, versions[key], versions, Path(scratch)) == entry.sha256:
                continue
            logger.warning(
                "%s %s: the cached wheel does not match the lock's sha256; building it again "
                "from commit %s",
                entry.name,
                entry.version,
                node.commit[:12],
            )
            node.built = built = run.rebuild(node)
            versions[key] = pinned_version(built.info.version, node.commit)
            digest = _vendored_digest(built, versions[key], versions, Path(scratch))
            if digest != entry.sha256:
                raise LockError(
                    f"{entry.name} {entry.version}: the wheel built from commit "
                    f"{node.commit[:12]} does not match the lock (sha256 {digest[:12]}, locked "
                    f"{entry.sha256[:12]}), also built again without the cache: its build is "
                    "not reproducible, or the lock was changed; find out which, then run "
                    "without --locked to lock what builds now"
                )


def _compare_with_lock(previous: Lock, built: Iterable[LockedPackage]) -> None:
    recorded = {p.key: p for p in previous.packages}
    for package in built:
        old = recorded.get(package.key)
        if old is not None and old.commit == package.commit and old.sha256 != package.sha256:
            logger.warning(
                "%s %s: the wheel built from commit %s differs from the locked one (sha256 %s, "
                "locked %s); its build backend is not reproducible",
                package.name,
                package.version,
                package.commit[:12],
                package.sha256[:12],
                old.sha256[:12],
            )


def _stale_wheels(
    previous: Lock | None, current: Iterable[LockedPackage], wheelhouse: Path
) -> list[Path]:
    """Wheels the previous lock listed and this one does not: gitdeps' own, to remove.
    read_lock checked that each name is a wheel of its package, with no path in it."""
    if previous is None:
        return []
    keep = {p.wheel for p in current}
    return [wheelhouse / p.wheel for p in previous.packages if p.wheel not in keep]
