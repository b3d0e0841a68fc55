"""``check_auth()``: for each git host in the requirements, who answers and does the host agree."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

from ._config import load_config
from ._credentials.scope import Scope
from ._credentials.store import Credentials
from ._errors import GitDepsError
from ._fetch.git import list_refs
from ._inputs.giturl import GitURL
from ._inputs.requirements import parse_requirement_files

__all__ = ["HostReport", "check_auth"]


@dataclasses.dataclass(frozen=True)
class HostReport:
    host: str
    repository: str  # the one asked
    source: str | None  # which provider answered; None when none did
    expires_on: float | None
    accepted: bool
    detail: str  # why not, when not


def check_auth(
    requirements: Sequence[str | os.PathLike[str]],
    *,
    config: str | os.PathLike[str] | None = None,
) -> list[HostReport]:
    """One ``ls-remote`` per host with the credential gitdeps would use; no secret returned."""
    from ._prebuild import vendored_from

    parsed = parse_requirement_files([vendored_from(Path(r)) for r in requirements])
    settings = load_config(Path(config) if config else None)
    scope = Scope.of((r.url for r in parsed.git), settings)
    credentials = Credentials(parsed.credentials, config=settings, scope=scope)
    first: dict[str, GitURL] = {}
    for requirement in parsed.git:
        if requirement.url.scheme != "file":
            first.setdefault(requirement.url.hostport, requirement.url)
    reports = []
    for url in first.values():
        source = expires = None
        try:
            credential = credentials.for_url(url)
            if credential is not None:
                source, expires = credential.source, credential.expires_on
            list_refs(url, credentials)
        except GitDepsError as exc:
            reports.append(HostReport(url.hostport, url.repo, source, expires, False, str(exc)))
            continue
        reports.append(HostReport(url.hostport, url.repo, source, expires, True, ""))
    return reports
