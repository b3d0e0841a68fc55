"""``rewrite()``: a copy of the requirements with each git URL carrying its host's token.

For the flows where pip itself must clone (a build service that only accepts a
requirements file). The output holds secrets: it is written owner-only, says so
at the top, and nothing gitdeps prints shows its content. Prefer ``vendor``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from ._config import load_config
from ._credentials.scope import Scope
from ._credentials.store import Credentials
from ._fs import atomic_write
from ._inputs.giturl import GitURL
from ._inputs.requirements import GitRequirement, parse_requirement_files
from ._outputs.render import other_line

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


def rewrite(
    requirements: Sequence[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    *,
    config: str | os.PathLike[str] | None = None,
) -> int:
    """Write ``output``; return how many git requirements got a token."""
    parsed = parse_requirement_files([Path(r) for r in requirements])
    settings = load_config(Path(config) if config else None)
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
    atomic_write(out, ("\n".join(lines) + "\n").encode("utf-8"), mode=0o600)
    logger.warning(
        "%s contains tokens for %d git requirement(s): do not commit, print or ship it; delete it "
        "after the build",
        out,
        injected,
    )
    return injected
