"""The wheel of one commit: from the local cache, from the remote cache, or fetched and
built (then kept in both).

Each (repository, subdirectory, commit, config settings) is built once per run and
each (repository, commit) fetched once, whichever thread asks first; at most
``jobs`` builds run at once (they are CPU-bound; fetches are not).
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from .. import _progress
from .. import _stop as stop
from .._progress import Source
from .._cache.local import Cache
from .._errors import BuildError
from .._fs import disk_hint
from .._inputs.requirements import GitRequirement, requirement_from_metadata
from .._once import Once
from .builders import BuildRequest, WheelBuilder
from .wheel import WheelInfo, read_wheel, sha256_file

if TYPE_CHECKING:
    from .._cache.remote import RemoteCache
    from .._fetch.checkout import Checkout
    from .._fetch.client import GitClient
    from .._resolve.graph import Node
    from .._resolve.resolver import Resolver

__all__ = ["Built", "Wheels"]

logger = logging.getLogger("gitdeps")
progress = logging.getLogger("gitdeps.progress")


def _mismatch(node: Node, built: Built) -> bool:
    """Whether ``built`` is not the distribution ``node``'s requirement names."""
    key = node.requirement.key
    return key is not None and canonicalize_name(built.info.name) != key


def _checked(node: Node, wheel: Path) -> Built:
    """``wheel``, read, if it is the distribution the requirement names; else the error."""
    built = Built.read(wheel, node.what)
    if _mismatch(node, built):
        requirement = node.requirement
        raise BuildError(
            f"asks for {requirement.name!r} but {requirement.url.requirement_url()} builds "
            f"{built.info.name!r}",
            hint="correct the name in the requirement",
        )
    return built


@dataclasses.dataclass(frozen=True)
class Built:
    """A wheel as its backend built it (not yet vendored), read once."""

    wheel: Path
    info: WheelInfo
    # each Requires-Dist value that names git, with its requirement: parsed once, here
    private: tuple[tuple[str, GitRequirement], ...]
    source: Source = "built"  # where this run took it from

    @property
    def children(self) -> tuple[GitRequirement, ...]:
        return tuple(child for _value, child in self.private)

    @classmethod
    def read(cls, wheel: Path, what: str) -> Built:
        try:
            info = read_wheel(wheel)
        except (ValueError, KeyError, OSError, zipfile.BadZipFile) as exc:
            raise BuildError.at(what, f"the backend produced an unreadable wheel: {exc}") from exc
        try:
            Version(info.version)
        except InvalidVersion:
            raise BuildError.at(
                what,
                f"the backend produced a wheel whose version {info.version!r} is not a "
                "valid version (PEP 440)",
                hint="check the project's version or its version plugin",
            ) from None
        requested_by = f"{info.name} {info.version}"
        private = []
        for value in info.requires_dist:
            child = requirement_from_metadata(value, requested_by)
            if child is not None:
                private.append((value, child))
        return cls(wheel=wheel, info=info, private=tuple(private))


class Wheels:
    def __init__(
        self,
        *,
        client: GitClient,
        resolver: Resolver,
        builder: WheelBuilder,
        cache: Cache | None,
        remote: RemoteCache | None,
        scratch: Path,
        jobs: int,
    ) -> None:
        self.client = client
        self.resolver = resolver
        self.builder = builder
        self.cache = cache
        self.remote = remote
        self.scratch = scratch
        self._fetches = Once()
        self._builds = Once()
        self._build_slots = threading.Semaphore(jobs)
        self._cache_full_said = False

    def get(self, node: Node) -> Built:
        """The wheel of ``node``, built at most once per run (per ``node.identity``)."""
        return self._builds.get(node.identity, lambda: self._shown(node, self._get(node)))

    def _shown(self, node: Node, built: Built) -> Built:
        _progress.done(node.label, built.info.version, built.source)
        return built

    def rebuild(self, node: Node) -> Built:
        """Built again from its commit, never from the cache (whose entry it replaces)."""
        wheel, tags = self._build(node)
        built = _checked(node, wheel)
        if self.cache is None:
            return built
        key = self._key(node)
        with self.cache.locked(key, what=node.what):
            return self._keep(node, key, built, tags)

    def _get(self, node: Node) -> Built:
        label, what = node.label, node.what
        if node.requirement.editable:
            progress.info("%s: -e is vendored as a normal wheel", label)
        if self.cache is None:
            return _checked(node, self._build(node)[0])
        key = self._key(node)
        tags_now = self.resolver.tags_at(node.requirement.url, node.commit)
        with self.cache.locked(key, what=what):
            cached = self.cache.get_wheel(key, tags=tags_now)
            if cached is not None:
                built = Built.read(cached, what)
                if not _mismatch(node, built):
                    progress.info("%s: cached %s", label, cached.name)
                    return dataclasses.replace(built, source="cache")
                logger.warning(
                    "%s: the cache held %s for it, which is not its wheel (an interrupted "
                    "run, or a change to the cache by hand); building it again",
                    label,
                    cached.name,
                )
            if (found := self._from_remote(node, key, tags_now)) is not None:
                progress.info("%s: from the remote cache %s", label, found.wheel.name)
                return dataclasses.replace(found, source="remote cache")
            wheel, tags = self._build(node)
            built = self._keep(node, key, _checked(node, wheel), tags)  # never a wrong wheel
            if self.remote is not None:
                self.remote.put(key, built.wheel, digest=sha256_file(built.wheel), tags=tags)
            return built

    def _key(self, node: Node) -> str:
        url = node.requirement.url
        return Cache.wheel_key(
            url.repo,
            node.commit,
            url.subdirectory or "",
            isolated=self.builder.isolated,
            config_settings=node.requirement.config_settings,
        )

    def _from_remote(self, node: Node, key: str, tags: tuple[str, ...] | None) -> Built | None:
        """The remote cache's wheel for ``key``, verified and kept in the local cache."""
        if self.remote is None or self.cache is None:
            return None
        found = self.remote.get(key, tags=tags, into=self._workdir("built"))
        if found is None:
            return None
        wheel, built_with = found
        built = Built.read(wheel, node.what)
        if _mismatch(node, built):
            logger.warning(
                "%s: the remote cache holds %s for it, which is not its wheel; building it",
                node.label,
                wheel.name,
            )
            return None
        return self._keep(node, key, built, built_with)

    def _keep(self, node: Node, key: str, built: Built, tags: tuple[str, ...]) -> Built:
        """``built`` put in the local cache (the cached copy, same bytes, is returned), not
        once the run is stopping; when the cache's disk cannot take it (full, read-only,
        over quota), the run goes on with the wheel where it is, said once."""
        assert self.cache is not None
        stop.check(f"keeping the wheel of {node.label}")
        try:
            kept = self.cache.put_wheel(key, built.wheel, tags=tags)
        except OSError as exc:
            if not self._cache_full_said:
                self._cache_full_said = True
                logger.warning(
                    "cannot keep %s in the cache %s (%s); going on without caching it: %s",
                    built.wheel.name,
                    self.cache.root,
                    exc.strerror or exc,
                    disk_hint(exc, "GITDEPS_CACHE_DIR"),
                )
            return built
        return dataclasses.replace(built, wheel=kept)

    def _checkout(self, node: Node) -> Checkout:
        url, commit = node.requirement.url, node.commit

        def ahead(root: Path) -> None:  # the build environment, beside the history
            _progress.stage(node.label, "environment")
            self.builder.prepare(root / url.subdirectory if url.subdirectory else root)

        def fetch() -> Checkout:
            started = time.monotonic()
            _progress.stage(node.label, "fetching")
            tree = self.client.fetch_tree(url, commit, self._workdir("src"), on_tree=ahead)
            logger.debug("%s: fetched (%.1f s)", node.label, time.monotonic() - started)
            return tree

        return self._fetches.get((url.repo, commit), fetch)

    def _build(self, node: Node) -> tuple[Path, tuple[str, ...]]:
        """A new wheel, and the tags at its commit that the build saw."""
        requirement, what = node.requirement, node.what
        url = requirement.url
        stop.check(f"fetching {node.label}", building=True)  # not once another part failed
        tree = self._checkout(node)
        source = tree.root / url.subdirectory if url.subdirectory else tree.root
        if not source.is_dir():
            raise BuildError.at(
                what,
                f"the repository has no directory {url.subdirectory!r} at that commit",
                hint="check #subdirectory=",
            )
        request = BuildRequest(
            source=source,
            outdir=self._workdir("built"),
            what=what,
            source_date_epoch=tree.commit_time,
            config_settings=requirement.backend_config(),
        )
        with self._build_slots:
            stop.check(f"building {node.label}", building=True)
            _progress.stage(node.label, "building")
            started = time.monotonic()
            wheel = self.builder.build(request)
        stop.check(f"keeping the wheel of {node.label}")  # what a stopped build left is not kept
        progress.info(
            "%s: built %s (%.1f s)", node.label, wheel.name, time.monotonic() - started
        )
        return wheel, tree.tags

    def _workdir(self, kind: str) -> Path:
        where = self.scratch / kind
        where.mkdir(exist_ok=True)
        return Path(tempfile.mkdtemp(dir=where))
