"""``pyproject.toml`` as an input: the dependencies a project declares, as requirement lines.

Read as uv and Poetry users declare them:

* ``[project].dependencies``, the ``[project.optional-dependencies]`` named with
  ``--extra``, and the PEP 735 ``[dependency-groups]`` named with ``--group``
  (``{include-group = "..."}`` followed);
* a dependency whose ``[tool.uv.sources]`` entry is a git source (``git`` with
  ``tag``, ``branch`` or ``rev``, and ``subdirectory``) becomes that git requirement,
  with the dependency's extras and markers;
* Poetry: ``[tool.poetry.dependencies]`` (and ``[tool.poetry.group.<name>]`` for
  ``--group``), git tables included, ``^``/``~`` constraints written as PEP 440; with a
  ``[project]`` table (Poetry 2), Poetry's git tables are sources for its dependencies.

Each becomes one line of a requirements file, so the rest of gitdeps reads them as it
reads ``requirements.txt``: lines that name git are vendored, the others passed on.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from .._errors import RequirementError
from .._toml import tomllib

logger = logging.getLogger("gitdeps")

__all__ = ["is_pyproject", "requirement_lines"]


def is_pyproject(path: Path) -> bool:
    return path.name == "pyproject.toml"


def requirement_lines(
    path: Path,
    text: str,
    *,
    extras: Sequence[str],
    groups: Sequence[str],
    environments: Sequence[Mapping[str, str]] = (),
) -> Iterator[tuple[int, str]]:
    """(line number in ``path``, requirement line) for every dependency selected; uv
    sources chosen by marker are chosen for ``environments`` (the targets' marker
    environments; none: this machine)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RequirementError.at(path, f"not valid TOML: {exc}") from None
    project = data.get("project")
    tool = data.get("tool", {})
    poetry = tool.get("poetry", {}) if isinstance(tool, dict) else {}
    if not isinstance(project, dict) and not poetry.get("dependencies"):
        raise RequirementError.at(
            path,
            "declares no dependencies ([project] or [tool.poetry.dependencies])",
            hint="pass the project's pyproject.toml, or a requirements file",
        )
    sources = _sources(tool, poetry, environments)
    if isinstance(project, dict):
        declared = list(_strings(path, project.get("dependencies", []), "[project].dependencies"))
        optional = project.get("optional-dependencies", {})
        for extra in extras:
            if extra not in optional:
                raise RequirementError.at(
                    path,
                    f"--extra {extra}: the project has no such extra "
                    f"({', '.join(sorted(optional)) or 'none'})",
                )
            where = f"[project.optional-dependencies].{extra}"
            declared += _strings(path, optional[extra], where)
        declared += _groups(path, data.get("dependency-groups", {}), poetry, groups)
        for value in declared:
            yield _line_number(text, value), _with_source(path, value, sources)
        return
    for name, spec in poetry.get("dependencies", {}).items():
        if name.lower() != "python":
            yield _line_number(text, name), _poetry_line(path, name, spec)
    yield from ((_line_number(text, v), v) for v in _groups(path, {}, poetry, groups))


def _strings(path: Path, values: Any, where: str) -> list[str]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise RequirementError.at(path, f"{where} must be a list of requirement strings")
    return list(values)


def _groups(
    path: Path, tables: Mapping[str, Any], poetry: Mapping[str, Any], wanted: Sequence[str]
) -> list[str]:
    """PEP 735 groups (following include-group), else Poetry's groups, by name."""
    lines: list[str] = []
    for group in wanted:
        if group in tables:
            lines += _pep735(path, tables, group, ())
            continue
        table = poetry.get("group", {}).get(group, {}).get("dependencies")
        if isinstance(table, dict):
            lines += [_poetry_line(path, n, s) for n, s in table.items() if n.lower() != "python"]
            continue
        known = sorted({*tables, *poetry.get("group", {})})
        raise RequirementError.at(
            path, f"--group {group}: the project has no such group ({', '.join(known) or 'none'})"
        )
    return lines


def _pep735(path: Path, tables: Mapping[str, Any], group: str, seen: tuple[str, ...]) -> list[str]:
    if group in seen:
        raise RequirementError.at(path, f"dependency group {group!r} includes itself")
    if group not in tables:
        raise RequirementError.at(path, f"include-group {group!r} names no dependency group")
    lines: list[str] = []
    for item in tables[group]:
        if isinstance(item, str):
            lines.append(item)
        elif isinstance(item, dict) and isinstance(item.get("include-group"), str):
            lines += _pep735(path, tables, item["include-group"], (*seen, group))
        else:
            raise RequirementError.at(path, f"[dependency-groups].{group} holds {item!r}")
    return lines


def _sources(
    tool: Mapping[str, Any], poetry: Mapping[str, Any], environments: Sequence[Mapping[str, str]]
) -> dict[str, Mapping[str, Any]]:
    """Git sources by canonical name: uv's, and Poetry's git tables."""
    found: dict[str, Mapping[str, Any]] = {}
    for name, source in (tool.get("uv", {}).get("sources", {}) or {}).items():
        if isinstance(source, list):
            source = _for_the_targets(name, source, environments)
        if isinstance(source, dict) and "git" in source:
            found[canonicalize_name(name)] = source
    for name, spec in (poetry.get("dependencies", {}) or {}).items():
        if isinstance(spec, dict) and "git" in spec:
            found.setdefault(canonicalize_name(name), spec)
    return found


def _for_the_targets(
    name: str, sources: list[Any], environments: Sequence[Mapping[str, str]]
) -> Mapping[str, Any]:
    """Of uv's marker-selected sources (``acme = [{git=..., marker="..."}, ...]``), the
    one uv would use for the targets (this machine when ``environments`` is empty): the
    first whose marker holds, or none (the index), as uv does. gitdeps vendors one
    commit per package, so targets that choose differently are an error."""
    targets: Sequence[Mapping[str, str] | None] = environments or [None]
    chosen = {_first_holding(name, sources, env) for env in targets}
    if len(chosen) > 1:
        raise RequirementError(
            f"[tool.uv.sources] {name}: the targets choose different sources by marker "
            f"({', '.join(_describe(sources, i) for i in sorted(chosen, key=_order))}), and "
            "gitdeps vendors one commit of a package per wheelhouse",
            hint="vendor each target into a wheelhouse of its own",
        )
    (index,) = chosen
    if index is None:
        logger.info("%s: none of its uv sources' markers holds for the target: the index's", name)
        return {}
    if len(sources) > 1:
        logger.info(
            "%s: of its %d uv sources, the one for the target (%s) is vendored",
            name,
            len(sources),
            sources[index].get("marker"),
        )
    return dict(sources[index])


def _first_holding(name: str, sources: list[Any], env: Mapping[str, str] | None) -> int | None:
    from packaging.markers import InvalidMarker, Marker

    for index, source in enumerate(sources):
        if not isinstance(source, dict):
            continue
        text = source.get("marker")
        if text is None:
            return index
        try:
            holds = Marker(str(text)).evaluate(dict(env) if env is not None else None)
        except InvalidMarker as exc:
            raise RequirementError(f"[tool.uv.sources] {name}: marker {text!r}: {exc}") from None
        if holds:
            return index
    return None


def _order(index: int | None) -> int:
    return -1 if index is None else index


def _describe(sources: list[Any], index: int | None) -> str:
    if index is None:
        return "the index"
    source = sources[index]
    ref = next((f"{k} {source[k]}" for k in ("tag", "branch", "rev") if k in source), "HEAD")
    return f"{ref} where {source.get('marker')}"


def _git_url(path: Path, name: str, source: Mapping[str, Any]) -> str:
    refs = [source[k] for k in ("tag", "branch", "rev") if k in source]
    if len(refs) > 1:
        raise RequirementError.at(path, f"the git source of {name} names more than one ref")
    url = str(source["git"])
    url = url if url.lower().startswith("git+") else "git+" + url
    if refs:
        url += f"@{refs[0]}"
    if source.get("subdirectory"):
        url += f"#subdirectory={source['subdirectory']}"
    return url


def _with_source(path: Path, value: str, sources: Mapping[str, Mapping[str, Any]]) -> str:
    try:
        requirement = Requirement(value)
    except InvalidRequirement:
        return value  # the requirements parser says what is wrong with it, and where
    source = sources.get(canonicalize_name(requirement.name))
    if source is None or requirement.url:
        return value
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    marker = f" ; {requirement.marker}" if requirement.marker else ""
    return f"{requirement.name}{extras} @ {_git_url(path, requirement.name, source)}{marker}"


_BARE_VERSION = re.compile(r"^\d+(\.\d+)*(\.\*)?$")


def _poetry_line(path: Path, name: str, spec: Any) -> str:
    """One Poetry dependency as a PEP 508 line."""
    if isinstance(spec, list):
        raise RequirementError.at(
            path,
            f"{name} has several Poetry constraints (per platform)",
            hint="write them as requirements with markers, or vendor the output of 'poetry export'",
        )
    table = spec if isinstance(spec, dict) else {"version": spec}
    extras = table.get("extras") or []
    extra = f"[{','.join(extras)}]" if extras else ""
    marker = f" ; {table['markers']}" if table.get("markers") else ""
    if "git" in table:
        return f"{name}{extra} @ {_git_url(path, name, table)}{marker}"
    if "path" in table or "url" in table:
        raise RequirementError.at(
            path,
            f"{name} comes from a {'path' if 'path' in table else 'url'}, which a deploy "
            "target cannot reach",
            hint="vendor the output of 'poetry export' instead",
        )
    return f"{name}{extra}{poetry_constraint(path, name, str(table.get('version', '*')))}{marker}"


def poetry_constraint(path: Path, name: str, text: str) -> str:
    """Poetry's version constraint in PEP 440: ``^1.2`` is ``>=1.2,<2.0``, ``~1.2`` is
    ``>=1.2,<1.3``, ``1.2.3`` is ``==1.2.3``; PEP 440 operators pass as they are."""
    parts = []
    for piece in (p.strip() for p in text.replace(" ", "").split(",")):
        if "||" in piece:
            raise RequirementError.at(
                path,
                f"{name} = {text!r}: '||' has no PEP 440 form",
                hint="vendor the output of 'poetry export' instead",
            )
        if piece in ("", "*"):
            continue
        if piece[0] in "^~" and not piece.startswith("~="):
            numbers = [int(n) for n in piece[1:].split(".") if n.isdigit()]
            if not numbers:
                raise RequirementError.at(path, f"{name} = {text!r} is not a version constraint")
            parts.append(f">={piece[1:]}")
            parts.append(f"<{_upper(numbers, caret=piece[0] == '^')}")
        elif _BARE_VERSION.match(piece):
            parts.append(f"=={piece}")
        else:
            parts.append(piece)
    return ",".join(parts)


def _upper(numbers: list[int], *, caret: bool) -> str:
    if caret:  # the first non-zero part may not change
        index = next((i for i, n in enumerate(numbers) if n), len(numbers) - 1)
    else:  # ~: the minor part (or the major, if only that is given) may not change
        index = min(1, len(numbers) - 1) if len(numbers) > 1 else 0
    bumped = [*numbers[:index], numbers[index] + 1]
    return ".".join(str(n) for n in bumped + [0] * max(0, 2 - len(bumped)))


def _line_number(text: str, needle: str) -> int:
    """Where ``needle`` first appears in ``text``, for messages (1 when not found)."""
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else 1
