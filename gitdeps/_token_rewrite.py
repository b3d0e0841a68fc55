"""``rewrite()``: a copy of the requirements with each git URL carrying its host's token.

For the flows where pip itself must clone (a build service that only accepts a
requirements file). The output holds secrets: it is written owner-only, says so
at the top, and nothing gitdeps prints shows its content. Prefer ``vendor``.

A private package may depend on another private one. pip clones that one from the
URL in the first one's metadata, which carries no token, and fails ("could not read
Username"), whatever lines this file adds. uv reuses a URL's credential for every
URL of the same origin, so for uv the dependencies get lines of their own. To know
them, ``rewrite`` resolves as ``vendor`` does (into a scratch folder; the cache makes
a later ``vendor`` free), and for pip refuses, naming them, rather than write a file
that fails on the build service.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from ._config import load_config
from ._credentials.scope import Scope
from ._credentials.store import Credentials
from ._errors import RequirementError
from ._fs import atomic_write
from ._inputs.giturl import GitURL, parse_git_url
from ._inputs.requirements import (
    GitRequirement,
    ParsedRequirements,
    parse_requirement_files,
)
from ._outputs.render import other_line
from ._outputs.vendored import VendoredWheel

__all__ = ["rewrite"]

logger = logging.getLogger("gitdeps")

_WARNING = """\
# WARNING: written by `gitdeps rewrite`. This file CONTAINS TOKENS for the git hosts below.
# Do not commit it, print it or ship it; delete it as soon as the build that needs it is done.
# `gitdeps vendor` gives a deploy target wheels instead, with no token anywhere.
"""


def _url_with_token(url: GitURL, credentials: Credentials) -> tuple[str, bool]:
    credential = credentials.for_url(url)
    netloc = url.netloc
    if credential is not None:
        user = quote(credential.username or "x-access-token", safe="")
        netloc = f"{user}:{quote(credential.token.reveal(), safe='')}@{netloc}"
    text = f"git+{url.scheme}://{netloc}{url.path}"
    if url.ref:
        text += "@" + quote(url.ref, safe="/:.-_~+")
    return text, credential is not None


def _line(requirement: GitRequirement, credentials: Credentials) -> tuple[str, bool]:
    url, injected = _url_with_token(requirement.url, credentials)
    fragment = []
    if requirement.name and not requirement.editable and requirement.url.egg is None:
        extras = f"[{','.join(requirement.extras)}]" if requirement.extras else ""
        text = f"{requirement.name}{extras} @ {url}"
    else:
        text = url
        if requirement.name:
            fragment.append(f"egg={requirement.name}")
    if requirement.url.subdirectory:
        fragment.append(f"subdirectory={requirement.url.subdirectory}")
    if fragment:
        text += "#" + "&".join(fragment)
    if requirement.marker:
        text += f" ; {requirement.marker}"
    return ("-e " if requirement.editable else "") + text, injected


Installer = Literal["pip", "uv"]


def _private_dependencies(
    requirements: Sequence[Path], parsed: ParsedRequirements, config: Path | None
) -> list[VendoredWheel]:
    """The private packages that only other private packages require, found by
    vendoring into a scratch folder."""
    from ._vendor import vendor

    named = {(r.url.repo, r.url.ref or "", r.url.subdirectory or "") for r in parsed.git}
    with tempfile.TemporaryDirectory(prefix="gitdeps-rewrite-") as scratch:
        result = vendor(
            requirements,
            Path(scratch) / "wheelhouse",
            Path(scratch) / "requirements.txt",
            None,
            config=config,
        )
    return [
        p
        for p in result.packages
        if (p.url, p.requested_revision, p.subdirectory) not in named and p.source
    ]


def _refuse_for_pip(dependencies: Sequence[VendoredWheel]) -> RequirementError:
    first = dependencies[0]
    more = f" (and {len(dependencies) - 1} more)" if len(dependencies) > 1 else ""
    return RequirementError(
        f"is a private dependency of {', '.join(first.requested_by)}{more}: pip clones it from "
        "the URL in that package's metadata, which carries no token, so pip would fail on it",
        input=f"{first.name} ({first.source})",
        hint="deploy with `gitdeps vendor` (no token on the target at all), or install with "
        "uv, which reuses a host's token for every URL of that host: `gitdeps rewrite --for uv`",
    )


def rewrite(
    requirements: Sequence[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    *,
    config: str | os.PathLike[str] | None = None,
    installer: Installer = "pip",
) -> int:
    """Write ``output`` for ``installer`` to clone from; return how many git requirements
    got a token.

    Raises :class:`RequirementError`, writing nothing, when a private package depends on
    another private one and ``installer`` is pip, which cannot be given that one's token.
    """
    paths = [Path(r) for r in requirements]
    parsed = parse_requirement_files(paths)
    config_path = Path(config) if config else None
    settings = load_config(config_path)
    dependencies = _private_dependencies(paths, parsed, config_path) if parsed.git else []
    if dependencies and installer == "pip":
        raise _refuse_for_pip(dependencies)
    scope = Scope.of((r.url for r in parsed.git), settings)
    credentials = Credentials(parsed.credentials, config=settings, scope=scope)
    out = Path(output)
    base = out.parent.resolve()
    lines = [_WARNING.rstrip("\n")]
    injected = 0
    for entry in parsed.entries:
        if not isinstance(entry, GitRequirement):
            lines.append(other_line(entry, base))
        else:
            text, done = _line(entry, credentials)
            injected += done
            lines.append(text)
    if dependencies:
        lines.append("# private dependencies of the packages above, for uv:")
    for dependency in dependencies:
        url, _ = parse_git_url(dependency.source)
        requested = GitRequirement(dependency.name, url, requested_by=dependency.name)
        text, done = _line(requested, credentials)
        injected += done
        lines.append(text)
    atomic_write(out, ("\n".join(lines) + "\n").encode("utf-8"), mode=0o600)
    logger.warning(
        "%s contains tokens for %d git requirement(s): do not commit, print or ship it; delete it "
        "after the build",
        out,
        injected,
    )
    return injected
