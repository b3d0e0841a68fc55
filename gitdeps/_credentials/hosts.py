"""Kinds of git host, in one table: how each is recognised, the user name it expects
beside a token, and the CI variables that hold one (which are also the variables no
build may see). Pure data: everything that knows about hosts reads it from here."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping

__all__ = ["HOST_KINDS", "HostKind", "HostKindInfo", "ci_secret_variables", "host_kind"]


class HostKind(enum.Enum):
    AZURE_DEVOPS = "Azure DevOps"
    GITHUB = "GitHub"
    GITLAB = "GitLab"
    BITBUCKET = "Bitbucket"
    GENERIC = "git host"


@dataclasses.dataclass(frozen=True)
class HostKindInfo:
    username: str  # beside a token in Basic auth
    # (variable, user name, or None for Bearer), in order: the first one set wins
    ci_variables: tuple[tuple[str, str | None], ...] = ()
    hosts: tuple[str, ...] = ()  # exact host names
    suffixes: tuple[str, ...] = ()  # and every host ending so


HOST_KINDS: Mapping[HostKind, HostKindInfo] = {
    HostKind.AZURE_DEVOPS: HostKindInfo(
        username="gitdeps",  # any non-empty name works
        ci_variables=(("SYSTEM_ACCESSTOKEN", None), ("AZURE_DEVOPS_EXT_PAT", "gitdeps")),
        hosts=("dev.azure.com",),
        suffixes=(".visualstudio.com", ".dev.azure.com"),
    ),
    HostKind.GITHUB: HostKindInfo(
        username="x-access-token",
        ci_variables=(("GH_TOKEN", "x-access-token"), ("GITHUB_TOKEN", "x-access-token")),
        hosts=("github.com",),
        suffixes=(".ghe.com",),
    ),
    HostKind.GITLAB: HostKindInfo(
        username="oauth2",
        ci_variables=(("CI_JOB_TOKEN", "gitlab-ci-token"), ("GITLAB_TOKEN", "oauth2")),
        hosts=("gitlab.com",),
    ),
    HostKind.BITBUCKET: HostKindInfo(username="x-token-auth", hosts=("bitbucket.org",)),
    HostKind.GENERIC: HostKindInfo(username="x-access-token"),
}


def host_kind(host: str) -> HostKind:
    host = host.lower()
    for kind, info in HOST_KINDS.items():
        if host in info.hosts or (info.suffixes and host.endswith(info.suffixes)):
            return kind
    return HostKind.GENERIC


def ci_secret_variables() -> tuple[str, ...]:
    """Every CI variable of the table: each holds a token, so no build may see it."""
    return tuple(name for info in HOST_KINDS.values() for name, _ in info.ci_variables)
