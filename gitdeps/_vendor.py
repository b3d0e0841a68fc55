"""``vendor()``: requirements in, wheelhouse + rewritten requirements + lock out.

The algorithm, one stage per line of ``_vendor()``: read the inputs; resolve each git
requirement to a commit (the lock first); get its wheel (cache, or fetch and build);
follow the private dependencies its wheel names, the same way; with ``--locked`` hold
every wheel to the lock's SHA-256; then vendor the wheels and switch the outputs
together. Work for different packages runs in parallel; each repository is listed once
and each commit fetched and built once per run. Nothing is written unless everything
succeeded.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import ParamSpec, TypeVar

from packaging.utils import canonicalize_name

from . import _progress
from . import _stop as stop
from ._build.builders import PyPABuilder, WheelBuilder
from ._build.environments import BuildEnvironments
from ._build.wheels import Built, Wheels
from ._cache.local import Cache
from ._cache.remote import RemoteCache, RemoteStats, remote_settings
from ._config import load_config
from ._credentials.scope import Scope
from ._credentials.store import Credentials
from ._dirs import _NoHome, cache_dir
from ._errors import GitDepsError, LockError
from ._fetch.client import DulwichClient
from ._inputs.requirements import GitRequirement, ParsedRequirements, parse_requirement_files
from ._inputs.targets import marker_environments
from ._locks import lock_timeout
from ._options import VendorOptions
from ._outputs.lock import read_lock
from ._outputs.public_closure import Target
from ._outputs.vendored import VendoredWheel, hold_to_the_lock
from ._outputs.write import Destination, check_writable, write_outputs
from ._resolve.graph import Graph, Node, walk
from ._resolve.resolver import LockPolicy, Resolver
from ._settings import limits
from ._subprocess import build_timeout
from ._timing import phase

__all__ = ["VendorResult", "VendoredWheel", "vendor"]

logger = logging.getLogger("gitdeps")
progress = logging.getLogger("gitdeps.progress")


@dataclasses.dataclass(frozen=True)
class VendorResult:
    packages: tuple[VendoredWheel, ...]
    wheelhouse: Path
    output_requirements: Path
    lock: Path | None
    seconds: float
    remote_cache: RemoteStats | None = None  # what the shared cache gave and took, if used
    pylock: Path | None = None  # the PEP 751 lock, if one was asked for

    @property
    def wheels(self) -> tuple[Path, ...]:
        return tuple(p.path for p in self.packages)


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
                "(from code that gitdeps' own work imported or ran)",
                hint="call it once, from your script's top level",
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
    pylock: str | os.PathLike[str] | None = None,
) -> VendorResult:
    """Vendor the git requirements of ``requirements`` into ``wheelhouse``.

    Writes the wheels, ``output_requirements`` (installable with plain pip, no
    credentials, no git), unless ``locked`` the ``lock``, and a PEP 751 ``pylock``
    (``pylock.toml``) of the wheelhouse when one is named. Raises a
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
        raise GitDepsError("no requirements file given", hint="pass -r requirements.txt")
    if isinstance(requirements, (str, os.PathLike)):
        requirements = [requirements]
    return _vendor(
        [Path(r) for r in requirements],
        Path(wheelhouse),
        Path(output_requirements),
        Path(lock) if lock is not None else None,
        options or from_keywords,
        pylock=Path(pylock) if pylock is not None else None,
    )


def _vendor(
    sources: list[Path],
    wheelhouse: Path,
    output: Path,
    lock_path: Path | None,
    options: VendorOptions,
    *,
    pylock: Path | None = None,
) -> VendorResult:
    """The pipeline: inputs, then the graph (resolve, fetch, build), then the outputs."""
    started = time.monotonic()
    stop.reset()
    target = _target(options)
    build_timeout()  # invalid limits are refused before any work
    limits()
    lock_timeout()
    if options.locked and lock_path is None:
        raise LockError("--locked needs --lock FILE")
    settings = load_config(options.config, root=options.config_root)
    remote = remote_settings(
        settings.cache, url=options.remote_cache, read_only=options.remote_cache_read_only
    )
    to = Destination(wheelhouse, output, lock_path, tuple(sources), pylock=pylock)
    check_writable(to)
    parsed = parse_requirement_files(
        sources,
        extras=options.extras,
        groups=options.groups,
        environments=marker_environments(
            options.platform, options.python_version, options.implementation
        ),
    )
    previous = read_lock(lock_path) if lock_path is not None else None
    if options.locked and previous is None:
        raise LockError(
            f"--locked: the lock {lock_path} does not exist",
            hint="run without --locked first",
        )
    policy = LockPolicy(
        lock=None if options.upgrade else previous,
        path=lock_path,
        locked=options.locked,
        upgrade=frozenset(canonicalize_name(n) for n in options.upgrade_packages),
    )

    with contextlib.ExitStack() as held:
        scratch = Path(
            held.enter_context(
                tempfile.TemporaryDirectory(prefix="gitdeps-", ignore_cleanup_errors=True)
            )
        )
        cache = None
        if options.use_cache:
            cache = _cache(options)
        if cache is not None:
            held.enter_context(cache.in_use())
        shared = RemoteCache(remote) if remote is not None and cache is not None else None
        if shared is not None:
            held.callback(shared.close)
        scope = Scope.of(
            (r.url for r in parsed.git),
            settings,
            locked=(p.url for p in previous.packages) if previous is not None else (),
        )
        client = DulwichClient(Credentials(parsed.credentials, config=settings, scope=scope))
        resolver = Resolver(policy, client, scratch)
        wheels = Wheels(
            client=client,
            resolver=resolver,
            builder=_builder(options, parsed, cache, scratch, held),
            cache=cache,
            remote=shared,
            scratch=scratch,
            jobs=options.jobs or os.cpu_count() or 1,
        )
        graph: Graph[Built] = Graph()
        walk(
            parsed.git,
            lambda requirement: _visit(requirement, resolver, wheels, graph),
            on_fail=stop.fail,
            on_stop=stop.stop,
        )
        packages = graph.packages()
        if options.locked and previous is not None:
            packages = hold_to_the_lock(packages, previous, wheels)
        with phase("outputs"):
            vendored = write_outputs(
                packages,
                {requirement: graph.key_of(requirement) for requirement in parsed.git},
                parsed,
                to,
                previous=previous,
                write_lock=not options.locked,
                include_public=options.include_public,
                target=target,
            )
        return VendorResult(
            packages=vendored,
            wheelhouse=wheelhouse,
            output_requirements=output,
            lock=lock_path,
            pylock=pylock,
            seconds=time.monotonic() - started,
            remote_cache=shared.stats if shared is not None else None,
        )


def _visit(
    requirement: GitRequirement, resolver: Resolver, wheels: Wheels, graph: Graph[Built]
) -> tuple[GitRequirement, ...]:
    """Resolve, fetch and build one requirement; return its private dependencies (none
    when its distribution is in the graph already)."""
    try:
        url = requirement.url
        label = requirement.name or url.requirement_url()
        _progress.stage(label, "resolving")
        node = Node(requirement, resolver.commit(requirement))
        if requirement.key is not None and not graph.add(requirement.key, node):
            _progress.forget(label)
            return ()
        shown = url.ref[:12] if url.ref and url.ref.lower() == node.commit else url.ref or "HEAD"
        progress.info("%s: %s -> %s", node.label, shown, node.commit[:12])
        built = wheels.get(node)  # of the distribution the requirement names, if it names one
        key = canonicalize_name(built.info.name)
        if requirement.key is None and not graph.add(key, node):
            _progress.forget(label)
            return ()
        graph.set_built(key, built)
        return built.children
    except GitDepsError as exc:
        said = str(exc)
        if not said.startswith(f"{requirement.requested_by}: "):
            if requirement.name and not said.startswith(requirement.name):
                exc.add_context(requirement.name)
            exc.add_context(requirement.requested_by)
        raise


def _cache(options: VendorOptions) -> Cache | None:
    """The run's cache; none, with one warning, where no directory is set and no home is
    known (a build step under an arbitrary uid): the run goes on as with ``--no-cache``."""
    if options.cache_dir is not None:
        return Cache(options.cache_dir)
    try:
        return Cache(cache_dir())
    except _NoHome as exc:
        logger.warning("%s; running without a cache", exc)
        return None


def _target(options: VendorOptions) -> Target:
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
    return target


def _builder(
    options: VendorOptions,
    parsed: ParsedRequirements,
    cache: Cache | None,
    scratch: Path,
    held: contextlib.ExitStack,
) -> WheelBuilder:
    """The build frontend: PyPA build, isolated (environments shared per requirement set,
    made with the chosen installer) unless --no-build-isolation."""
    if not options.build_isolation:
        return PyPABuilder(None)
    environments = BuildEnvironments(
        scratch / "envs",
        index_options=parsed.index_options,
        installer=options.installer,
        cache=cache,
    )
    held.callback(environments.close)
    return PyPABuilder(environments)
