"""Requirement files, read as pip reads them.

Comments, blank lines, ``\\`` continuations, ``${VAR}`` expansion, ``-r``/``-c``
includes relative to the including file, option lines and per-line options all
follow pip. Lines gitdeps does not vendor are kept as written, so they can be
passed through to the output unchanged.
"""

from __future__ import annotations

import codecs
import dataclasses
import locale
import optparse
import os
import re
import shlex
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import NoReturn, Union
from urllib.parse import urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from .._dirs import expand_user
from .._errors import RequirementError
from .._secret import redact
from .giturl import EmbeddedCredential, GitURL, InvalidGitURL, parse_git_url
from .pyproject import is_pyproject, requirement_lines

__all__ = [
    "ConfigSettings",
    "Entry",
    "GitRequirement",
    "Location",
    "ParsedRequirements",
    "PassThrough",
    "PathOption",
    "parse_requirement_files",
    "requirement_from_metadata",
]

# PEP 517's config_settings as pip passes them to a backend: a repeated key is a list.
ConfigSettings = Mapping[str, str | list[str]] | None

# Deeper is a generated chain or a mistake, and would exhaust Python's stack.
_MAX_INCLUDE_DEPTH = 64
_URL_WORDS = re.compile(r"[\s'\"=]+")  # what separates a URL from the words around it
_ENV_VAR = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)\}")
_OTHER_VCS = ("hg+", "svn+", "bzr+")
# Options whose value is a local path that pip resolves against the requirement
# file: rebased when the output file lives elsewhere.
_PATH_OPTIONS = {"-c": "-c", "--find-links": "--find-links"}
# Options pip passes on to the installs of isolated build environments.
_INDEX_OPTIONS = ("--index-url", "--extra-index-url", "--no-index", "--trusted-host")
# The options pip 26 takes in a requirements file (pip's req_file.SUPPORTED_OPTIONS and
# SUPPORTED_OPTIONS_REQ), by every name pip gives them, each to one canonical spelling;
# True when it takes a value. Parsed with optparse, as pip parses them, so every spelling
# pip accepts is accepted: ``-rFILE``, ``-iURL``, ``--index-url=URL``, and unique
# abbreviations such as ``--index`` or ``--extra``.
_PIP_OPTIONS: tuple[tuple[tuple[str, ...], str, bool], ...] = (
    (("-i", "--index-url", "--pypi-url"), "--index-url", True),
    (("--extra-index-url",), "--extra-index-url", True),
    (("--no-index",), "--no-index", False),
    (("-c", "--constraint"), "-c", True),
    (("-r", "--requirement"), "-r", True),
    (("-e", "--editable"), "-e", True),
    (("-f", "--find-links"), "--find-links", True),
    (("--no-binary",), "--no-binary", True),
    (("--only-binary",), "--only-binary", True),
    (("--prefer-binary",), "--prefer-binary", False),
    (("--require-hashes",), "--require-hashes", False),
    (("--no-require-hashes",), "--no-require-hashes", False),
    (("--pre",), "--pre", False),
    (("--all-releases",), "--all-releases", True),
    (("--only-final",), "--only-final", True),
    (("--trusted-host",), "--trusted-host", True),
    (("--use-feature",), "--use-feature", True),
    (("--hash",), "--hash", True),
    (("-C", "--config-settings"), "--config-settings", True),
)


_Opt = tuple[str, "str | None"]  # one option of a line: canonical name, value


class _OptionError(Exception):
    pass


class _Parsers(threading.local):
    """One option parser per thread, built once (building one costs more than a line's
    parse), and the options the current parse found."""

    parser: optparse.OptionParser | None = None
    found: list[tuple[str, str | None]]


_parsers = _Parsers()


def _option_parser() -> optparse.OptionParser:
    if _parsers.parser is not None:
        return _parsers.parser

    def record(
        option: optparse.Option, flag: str, value: str | None, parser: optparse.OptionParser
    ) -> None:
        _parsers.found.append((str(option.dest), value))

    parser = optparse.OptionParser(add_help_option=False)
    for names, canonical, takes_value in _PIP_OPTIONS:
        parser.add_option(
            optparse.Option(
                *names,
                dest=canonical,
                action="callback",
                callback=record,
                type="string" if takes_value else None,
            )
        )

    def refuse(status: int = 2, msg: str | None = None) -> NoReturn:
        raise _OptionError((msg or "invalid option").strip().removeprefix("error: "))

    parser.exit = refuse  # type: ignore[method-assign]
    parser.error = lambda msg: refuse(2, msg)  # type: ignore[method-assign]
    _parsers.parser = parser
    return parser


def pip_options(words: Sequence[str]) -> list[tuple[str, str | None]]:
    """The options among ``words`` as pip reads them, in order: (canonical name, value).
    Words that are no option (a lone ``-``) are ignored, as pip ignores them."""
    found: list[tuple[str, str | None]] = []
    _parsers.found = found
    _option_parser().parse_args(list(words))
    return found


@dataclasses.dataclass(frozen=True)
class Location:
    """Where a line came from: ``requirements.txt:3``."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclasses.dataclass(frozen=True)
class GitRequirement:
    """A requirement gitdeps vendors: a distribution from a git repository."""

    name: str | None  # as written; None for a bare URL without #egg=
    url: GitURL
    requested_by: str  # "requirements.txt:3" or "acme-ml 1.0"
    extras: tuple[str, ...] = ()
    marker: str | None = None
    editable: bool = False
    # ``--config-settings KEY=VALUE`` on the line, in order, for the build backend
    config_settings: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str | None:
        return canonicalize_name(self.name) if self.name else None

    def backend_config(self) -> dict[str, str | list[str]] | None:
        """The PEP 517 ``config_settings`` as pip builds them: a repeated key is a list."""
        if not self.config_settings:
            return None
        merged: dict[str, str | list[str]] = {}
        for key, value in self.config_settings:
            previous = merged.get(key)
            if previous is None:
                merged[key] = value
            elif isinstance(previous, list):
                previous.append(value)
            else:
                merged[key] = [previous, value]
        return merged


@dataclasses.dataclass(frozen=True)
class PassThrough:
    """A line copied to the output unchanged (public requirements, most options)."""

    text: str
    location: Location


@dataclasses.dataclass(frozen=True)
class PathOption:
    """``-c FILE`` or ``--find-links DIR`` with a relative local path, rebased on output."""

    option: str
    path: Path  # absolute
    location: Location


@dataclasses.dataclass(frozen=True)
class IncludedFile:
    """Marks where the lines of a ``-r`` include start, for a comment in the output."""

    path: Path
    location: Location


Entry = Union[GitRequirement, PassThrough, PathOption, IncludedFile]  # noqa: UP007 - a runtime alias on 3.10


@dataclasses.dataclass(frozen=True)
class ParsedRequirements:
    entries: tuple[Entry, ...]
    credentials: tuple[EmbeddedCredential, ...]
    index_options: tuple[str, ...]  # for installs into build environments
    uses_hashes: bool
    no_binary: bool = False  # a --no-binary option appears
    # a public requirement with no --hash: pip's hash-checking mode (which one --hash
    # turns on for every line) would refuse it
    unhashed_public: bool = False

    @property
    def git(self) -> tuple[GitRequirement, ...]:
        return tuple(e for e in self.entries if isinstance(e, GitRequirement))


def parse_requirement_files(
    files: Sequence[str | os.PathLike[str]],
    *,
    extras: Sequence[str] = (),
    groups: Sequence[str] = (),
    environments: Sequence[Mapping[str, str]] = (),
) -> ParsedRequirements:
    """Requirements files and ``pyproject.toml`` files (with its ``extras`` and ``groups``;
    sources chosen by marker chosen for ``environments``, the targets' marker
    environments, or for this machine when there are none)."""
    paths = [Path(file) for file in files]
    if (extras or groups) and not any(is_pyproject(p) for p in paths):
        raise RequirementError(
            "--extra and --group choose from a pyproject.toml",
            hint="pass it with -r pyproject.toml or --project DIR",
        )
    parser = _Parser(extras=extras, groups=groups, environments=environments)
    for path in paths:
        parser.read(path, included_from=None)
    return ParsedRequirements(
        entries=tuple(parser.entries),
        credentials=tuple(parser.credentials),
        index_options=tuple(parser.index_options),
        no_binary=parser.no_binary,
        uses_hashes=parser.uses_hashes,
        unhashed_public=parser.unhashed_public,
    )


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


# UTF-32 before UTF-16: the UTF-32-LE mark begins with the UTF-16-LE one (pip checks
# UTF-16 first and so misreads UTF-32-LE files; gitdeps reads them).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_CODING = re.compile(rb"coding[:=]\s*([-\w.]+)")


def decode_requirements(data: bytes) -> str:
    """A requirements file's text as pip decodes it: by its byte-order mark (what
    PowerShell 5's ``pip freeze > requirements.txt`` writes), else a PEP 263 coding
    line among the first two, else the locale's encoding."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding)
    for line in data.split(b"\n", 2)[:2]:
        if line.startswith(b"#"):
            declared = _CODING.search(line[:1000])
            if declared:
                return data.decode(declared.group(1).decode("ascii"))
    return data.decode(locale.getpreferredencoding(False) or sys.getdefaultencoding())


def _starts_with_comment(line: str) -> bool:
    """pip's ``COMMENT_RE.match``: optional white space, then ``#``, at the start."""
    return line.lstrip().startswith("#")


def _strip_comment(line: str) -> str:
    """pip's ``COMMENT_RE.sub("", line)``: cut at the first ``#`` that starts the line
    or follows white space, with that white space. Linear, where the regex is not:
    a long run of spaces took a minute to be refused."""
    at = line.find("#")
    while at != -1:
        if at == 0:
            return ""
        if line[at - 1].isspace():
            start = at - 1
            while start > 0 and line[start - 1].isspace():
                start -= 1
            return line[:start]
        at = line.find("#", at + 1)
    return line


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Yield (first line number, joined line) as pip's ``join_lines`` and
    ``ignore_comments`` do: a line ending in ``\\`` continues on the next unless it
    is a comment line, and only then are comments cut, so ``pkg # note \\`` swallows
    the line after it, as it does in pip."""
    pending: list[str] = []
    start = 0
    joined: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.endswith("\\") or _starts_with_comment(line):
            if _starts_with_comment(line):
                line = " " + line
            if pending:
                joined.append((start, "".join([*pending, line])))
                pending = []
            else:
                joined.append((number, line))
        else:
            if not pending:
                start = number
            pending.append(line.strip("\\"))
    if pending:
        joined.append((start, "".join(pending)))
    for number, line in joined:
        line = _strip_comment(line).strip()
        if line:
            yield number, line


def _split_args_options(line: str) -> tuple[str, str]:
    """pip's ``break_args_options``: the requirement, then its ``--options``."""
    tokens = line.split(" ")
    args: list[str] = []
    for index, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(args), " ".join(tokens[index:])
        args.append(token)
    return " ".join(args), ""


def _split(text: str, location: Location, raw: str) -> list[str]:
    """``text`` split into words as a shell would; a line it cannot split is refused."""
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise RequirementError.at(location, f"cannot split the line: {exc}", detail=raw) from None


def _expand(text: str) -> str:
    return _ENV_VAR.sub(lambda m: os.environ.get(m["name"], m.group(0)), text)


class _Parser:
    def __init__(
        self,
        *,
        extras: Sequence[str] = (),
        groups: Sequence[str] = (),
        environments: Sequence[Mapping[str, str]] = (),
    ) -> None:
        self._extras = extras
        self._groups = groups
        self._environments = environments
        self.entries: list[Entry] = []
        self.credentials: list[EmbeddedCredential] = []
        self.index_options: list[str] = []
        self.uses_hashes = False
        self.unhashed_public = False
        self.no_binary = False
        self._stack: list[Path] = []

    def read(self, path: Path, included_from: Location | None) -> None:
        where = f"{included_from}: " if included_from else ""
        if "\0" in str(path):
            raise RequirementError(
                f"{where}the requirements file name {str(path)!r} holds a NUL byte",
                hint="check it",
            )
        if len(self._stack) >= _MAX_INCLUDE_DEPTH:
            raise RequirementError(
                f"{where}-r includes nest deeper than {_MAX_INCLUDE_DEPTH} files",
                hint="flatten them",
            )
        if "://" in str(path):
            raise RequirementError(
                f"{where}requirement files from URLs are not supported: {path}",
                hint="download it first and pass the local file",
            )
        resolved = path.resolve()
        if resolved in self._stack:
            raise RequirementError(f"{where}{_display(path)} includes itself (an -r cycle)")
        try:
            text = decode_requirements(resolved.read_bytes())
        except FileNotFoundError:
            raise RequirementError(
                f"{where}requirements file not found: {_display(path)}",
                hint="check the path",
            ) from None
        except (OSError, UnicodeDecodeError, ValueError, LookupError) as exc:
            raise RequirementError(
                f"{where}cannot read requirements file {_display(path)}: {exc}",
                hint="save it as "
                "UTF-8, or declare its encoding in a first-line '# -*- coding: ... -*-'",
            ) from None
        self._stack.append(resolved)
        try:
            if is_pyproject(path) and included_from is None:
                lines = requirement_lines(
                    path,
                    text,
                    extras=self._extras,
                    groups=self._groups,
                    environments=self._environments,
                )
            else:
                lines = _logical_lines(text)
            for number, line in lines:
                location = Location(_display(path), number)
                try:
                    self._line(location, resolved.parent, line)
                except RequirementError:
                    raise
                except (ValueError, OSError) as exc:  # a URL or path Python cannot read
                    raise RequirementError.at(
                        location, f"cannot read this line: {exc}", hint="correct it"
                    ) from None
        finally:
            self._stack.pop()

    def _line(self, location: Location, base: Path, line: str) -> None:
        raw = line
        line = _expand(line)
        if line.startswith("-"):
            self._option_line(location, base, raw, line)
            return
        requirement, words = _split_args_options(line)
        options = self._options(_split(words, location, raw), location, raw)
        hashed = any(name == "--hash" for name, _ in options)
        self.uses_hashes |= hashed
        entry = _requirement(requirement, location, editable=False)
        if entry is None:
            self.unhashed_public |= not hashed
            self._check_no_password(location, raw)
            _check_local(requirement, location, base)
            self.entries.append(PassThrough(raw, location))
            return
        self._add_git(entry, options, location)

    def _add_git(
        self,
        entry: tuple[GitRequirement, EmbeddedCredential | None],
        options: Sequence[_Opt],
        location: Location,
    ) -> None:
        requirement, credential = entry
        if credential is not None:
            self.credentials.append(credential)
        settings = _config_settings(options, location)
        if settings:
            requirement = dataclasses.replace(requirement, config_settings=settings)
        self.entries.append(requirement)

    def _options(self, words: Sequence[str], location: Location, raw: str) -> list[_Opt]:
        try:
            found = pip_options(words)
        except _OptionError as exc:
            raise RequirementError.at(
                location,
                f"{exc}; pip refuses this line too (pip 26's requirement-file "
                "options: -r -c -e -i --extra-index-url --no-index -f --no-binary "
                "--only-binary --prefer-binary --require-hashes --no-require-hashes --pre "
                "--all-releases --only-final --trusted-host --use-feature, and --hash and "
                "-C on a requirement)",
                detail=raw,
            ) from None
        for name, value in found:
            if name == "--hash":
                _check_hash(value or "", location)
            elif name == "--use-feature" and value not in _PIP_FEATURES:
                choices = ", ".join(repr(f) for f in _PIP_FEATURES)
                raise RequirementError.at(
                    location,
                    f"option --use-feature: invalid choice: {value!r} (choose from {choices}); "
                    "pip refuses this line too",
                )
        return found

    def _option_line(self, location: Location, base: Path, raw: str, line: str) -> None:
        options = self._options(_split(line, location, raw), location, raw)
        editable = any(name == "-e" for name, _ in options)
        for name, _value in options:
            if name == "--hash" or (name == "--config-settings" and not editable):
                raise RequirementError.at(
                    location,
                    f"{name} belongs on a requirement's line, after it; pip "
                    "refuses it on a line of its own",
                    detail=raw,
                )
        passed = False
        for index, (name, value) in enumerate(options):
            if name == "-r":
                self._include(location, base, value or "")
            elif name == "-e":
                entry = _requirement(value or "", location, editable=True)
                if entry is None:
                    raise RequirementError.at(
                        location,
                        f"editable requirement {value!r} is not a git URL",
                        hint="gitdeps "
                        "vendors only git requirements, and a deploy target cannot install a "
                        "local editable: install it as a normal requirement",
                    )
                self._add_git(entry, options[index + 1 :], location)
                return
            elif name in _PATH_OPTIONS:
                self._path_option(location, base, raw, _PATH_OPTIONS[name], value or "")
            else:
                self.uses_hashes |= name == "--require-hashes"
                self.no_binary |= name == "--no-binary"
                if name in _INDEX_OPTIONS:
                    self.index_options.extend([name, *([value] if value is not None else [])])
                passed = True
        if passed:
            self._check_no_password(location, raw)
            self.entries.append(PassThrough(raw, location))

    @staticmethod
    def _check_no_password(location: Location, raw: str) -> None:
        """A password in an index URL or a URL requirement that passes through to the
        output may come from ``${VAR}`` (kept as written), never in clear: the output
        file goes to the deploy target."""
        for word in _URL_WORDS.split(raw):
            parts = urlsplit(word) if "://" in word and "@" in word else None
            if parts is None or not parts.password:
                continue
            if not _ENV_VAR.fullmatch(parts.password):
                raise RequirementError.at(
                    location,
                    "a URL carries a password in clear; put the password in an "
                    "environment variable and write ${VARIABLE} in its place in the URL (pip "
                    "expands it; gitdeps keeps the variable in the output), or use keyring or "
                    ".netrc for the index",
                )

    def _no_git_constraints(self, path: Path, included_from: Location) -> None:
        """A git URL in a constraints file would reach the target, which would have to
        clone it: refused, with where it belongs. (Constraints pass through as a file.)"""
        resolved = path.resolve()
        if resolved in self._stack or len(self._stack) >= _MAX_INCLUDE_DEPTH:
            return  # a cycle or a deep chain: read() says so where it matters
        try:
            text = decode_requirements(resolved.read_bytes())
        except (OSError, UnicodeDecodeError, ValueError, LookupError):
            return  # pip will say; nothing of it is vendored
        self._stack.append(resolved)
        try:
            for number, line in _logical_lines(_expand(text)):
                location = Location(_display(path), number)
                if line.startswith("-"):  # includes, in any spelling pip takes
                    try:
                        options = pip_options(shlex.split(line))
                    except (ValueError, _OptionError):
                        continue  # pip's to refuse on the target; nothing here is vendored
                    for name, value in options:
                        if name in ("-c", "-r") and value:
                            self._no_git_constraints(resolved.parent / value, location)
                    continue
                try:
                    git = _requirement(_split_args_options(line)[0], location, editable=False)
                except RequirementError:
                    continue  # pip's business: the constraint is passed on as it is
                if git is not None:
                    raise RequirementError.at(
                        location,
                        f"a constraints file (-c, from {included_from}) pins "
                        f"{git[0].name or 'a package'} to a git URL, which the deploy target "
                        "would have to clone",
                        hint="move that line into the requirements file, where gitdeps vendors it",
                    )
        finally:
            self._stack.pop()

    def _include(self, location: Location, base: Path, value: str) -> None:
        if not value:
            raise RequirementError.at(location, "-r needs a file name")
        if "://" in value:  # a Path would make http:// of it http:/
            raise RequirementError.at(
                location,
                f"requirement files from URLs are not supported: {redact(value)}",
                hint="download it first and pass the local file",
            )
        path = Path(value) if os.path.isabs(value) else base / value
        self.entries.append(IncludedFile(path, location))
        self.read(path, included_from=location)

    def _path_option(
        self, location: Location, base: Path, raw: str, option: str, value: str
    ) -> None:
        if not value:
            raise RequirementError.at(location, f"{option} needs a value")
        if "\0" in value:
            raise ValueError("embedded null byte")
        is_url = "://" in value
        if option == "--find-links":
            if is_url:
                self.index_options.extend([option, value])
                self.entries.append(PassThrough(raw, location))
                return
            # pip: relative to the requirement file when that exists, else to the cwd.
            candidate = base / value
            if not candidate.exists() and not os.path.isabs(value):
                # Not there yet (a later step makes it): pip on the output reads it as
                # it would read it here, from the working directory, so it stays as is.
                self.index_options.extend([option, str(Path(value).absolute())])
                self.entries.append(PassThrough(raw, location))
                return
            path = candidate if candidate.exists() else Path(value)
            self.index_options.extend([option, str(path)])
        else:
            if is_url:
                self.entries.append(PassThrough(raw, location))
                return
            path = Path(value) if os.path.isabs(value) else base / value
            if not path.exists():
                raise RequirementError.at(
                    location,
                    f"constraints file not found: {_display(path)}",
                    hint="check the path",
                )
            self._no_git_constraints(path, location)
        if os.path.isabs(value):
            self.entries.append(PassThrough(raw, location))
        else:
            self.entries.append(PathOption(option, path.resolve(), location))


def _config_settings(options: Sequence[_Opt], location: Location) -> tuple[tuple[str, str], ...]:
    """The ``--config-settings KEY=VALUE`` (or ``-C``) pairs among a git line's options."""
    settings: list[tuple[str, str]] = []
    for name, value in options:
        if name != "--config-settings" or value is None:
            continue
        key, sep, setting = value.partition("=")
        if not sep or not key:
            raise RequirementError.at(location, f"--config-settings takes KEY=VALUE, not {value!r}")
        settings.append((key, setting))
    return tuple(settings)


_STRONG_HASHES = ("sha256", "sha384", "sha512")  # pip's STRONG_HASHES
_PIP_FEATURES = (  # pip 26's --use-feature choices, ALWAYS_ENABLED_FEATURES included
    "fast-deps",
    "inprocess-build-deps",
    "venv-isolation",
    "truststore",
    "no-binary-enable-wheel-cache",
    "build-constraint",
)
_ARCHIVES = (".whl", ".tar.gz", ".tgz", ".tar", ".zip", ".tar.bz2", ".tbz", ".tar.xz", ".txz")


def _check_hash(value: str, location: Location) -> None:
    """``--hash`` as pip's option callback reads it: ``name:value``, a strong hash."""
    name, sep, digest = value.partition(":")
    if not sep or not digest:
        raise RequirementError.at(
            location,
            f"--hash={value}: pip needs a hash name and a value, like --hash=sha256:abcde...",
        )
    if name not in _STRONG_HASHES:  # as pip compares it: SHA256 is refused
        raise RequirementError.at(
            location,
            f"--hash={name}:...: pip allows only {', '.join(_STRONG_HASHES)} for --hash",
        )


def _is_archive(text: str) -> bool:
    return "://" not in text and text.lower().endswith(_ARCHIVES)


def _check_local(text: str, location: Location, base: Path) -> None:
    """A local path or archive that passes through, checked as pip checks it when it
    reads the line (``parse_req_from_line``), so that it fails here, not on the target:
    a wheel file name must be one; a path that is no archive must exist, and a folder
    must hold a project."""
    path_text = text.partition(" ;")[0].partition("; ")[0].strip()
    if "://" in path_text or not path_text:
        return
    path_text = re.sub(r"\[[^\]]*\]$", "", path_text)  # extras: ./pkg[extra]
    name = Path(path_text).name
    if path_text.lower().endswith(".whl"):
        from packaging.utils import InvalidWheelFilename, parse_wheel_filename

        try:
            parse_wheel_filename(name)
        except InvalidWheelFilename:
            raise RequirementError.at(
                location, f"{name} is not a valid wheel filename; pip refuses it too"
            ) from None
        return
    if path_text.lower().endswith(".txt") and any(
        c.is_file() for c in (Path(expand_user(path_text)), base / path_text)
    ):
        raise RequirementError.at(
            location,
            f"{path_text!r} is a file here, not a requirement (pip would look for a "
            "project of that name, or refuse a path)",
            hint=f"if it is a requirements file, include it with '-r {path_text}'",
        )
    if _is_archive(path_text) or (
        not path_text.startswith((".", "/", "~")) and "/" not in path_text
    ):
        return
    expanded = Path(expand_user(path_text))
    candidates = [expanded, base / expanded]
    found = next((c for c in candidates if c.exists()), None)
    if found is None:
        raise RequirementError.at(
            location,
            f"{path_text!r} looks like a path, and no file or folder is there; pip refuses it too",
            hint="check the path (relative paths are read from the working directory)",
        )
    if found.is_file() and not _is_archive(path_text):
        raise RequirementError.at(
            location,
            f"{path_text!r} is a file but neither a wheel nor a source archive; pip refuses "
            "it too (it looks like a path, and is no requirement)",
        )
    if found.is_dir() and not any((found / f).is_file() for f in ("pyproject.toml", "setup.py")):
        raise RequirementError.at(
            location,
            f"folder {path_text!r} is not installable: it has neither pyproject.toml nor setup.py",
        )


def _requirement(
    text: str, location: Location, *, editable: bool
) -> tuple[GitRequirement, EmbeddedCredential | None] | None:
    """A git requirement from one line, or None when the line is not one."""
    marker: str | None = None
    lowered = text[:8].lower()
    if lowered.startswith(("git+", "git://")) or lowered.startswith(_OTHER_VCS):
        # A bare URL; pip separates a marker with whitespace and ';'.
        url_text, sep, marker_text = text.partition(" ;")
        if not sep:
            url_text, sep, marker_text = text.partition("; ")
        url_text = url_text.strip()
        marker = marker_text.strip() or None
        if marker:
            _check_marker(marker, location, text)
        _refuse_other_vcs(url_text, location)
        url, credential = _parse_url(url_text, location)
        name, extras = _egg(url.egg, location)
        requirement = GitRequirement(
            name=name,
            url=url,
            requested_by=str(location),
            extras=extras,
            marker=marker,
            editable=editable,
        )
        return requirement, credential
    looks_like_path = (
        text.startswith((".", "/", "~"))
        or ("/" in text and "@" not in text and " " not in text)
        or _is_archive(text.partition(";")[0].strip())
    )
    if looks_like_path or "://" in text.split("@", 1)[0]:
        return None  # a local path or archive URL: pip's business, passed through
    # pip splits the marker off at the first ';' of a line that does not start with a
    # URL, with or without whitespace around it: `name @ git+URL@v1;marker` is a marker.
    text, sep, marker_text = text.partition(";")
    if sep and marker_text.strip():
        _check_marker(marker_text.strip(), location, text)
    try:
        req = Requirement(text + (f" ; {marker_text.strip()}" if marker_text.strip() else ""))
    except InvalidRequirement as exc:
        reason, _, caret = str(exc).partition("\n")
        raise RequirementError.at(
            location,
            f"invalid requirement {text[:200]!r}: {reason}",
            hint="write 'name @ git+https://host/repo@ref' or a PEP 508 requirement",
            detail=caret or None,
        ) from None
    if req.url is None:
        return None
    if not req.url[:6].lower().startswith(("git+", "git://")):
        _refuse_other_vcs(req.url, location)
        return None
    url, credential = _parse_url(req.url, location)
    requirement = GitRequirement(
        name=req.name,
        url=url,
        requested_by=str(location),
        extras=tuple(sorted(req.extras)),
        marker=str(req.marker) if req.marker else None,
        editable=editable,
    )
    return requirement, credential


def _parse_url(text: str, location: Location) -> tuple[GitURL, EmbeddedCredential | None]:
    try:
        return parse_git_url(text)
    except InvalidGitURL as exc:
        raise RequirementError.at(location, f"{exc}") from None


def _refuse_other_vcs(url: str, location: Location) -> None:
    for prefix in _OTHER_VCS:
        if url[:5].lower().startswith(prefix):
            raise RequirementError.at(
                location,
                f"{prefix[:-1]} repositories are not supported; gitdeps vendors git "
                "requirements only",
            )


def _check_marker(marker: str, location: Location, text: str) -> None:
    try:
        Requirement(f"placeholder; {marker}")
    except InvalidRequirement as exc:
        raise RequirementError.at(location, f"invalid marker in {text!r}: {exc}") from None


def _egg(egg: str | None, location: Location) -> tuple[str | None, tuple[str, ...]]:
    if not egg:
        return None, ()
    try:
        req = Requirement(egg)
    except InvalidRequirement:
        raise RequirementError.at(
            location,
            f"#egg={egg!r} is not a project name",
            hint="write #egg=my-package",
        ) from None
    if req.url or req.specifier or req.marker:
        raise RequirementError.at(location, f"#egg= takes a bare project name, not {egg!r}")
    return req.name, tuple(sorted(req.extras))


def requirement_from_metadata(text: str, requested_by: str) -> GitRequirement | None:
    """A ``Requires-Dist`` value that points at git, as a requirement; else None."""
    try:
        req = Requirement(text)
    except InvalidRequirement:
        return None
    if req.url is None or req.url[:4].lower() != "git+":
        return None
    try:
        url, _credential = parse_git_url(req.url)
    except InvalidGitURL as exc:
        raise RequirementError.at(requested_by, f"Requires-Dist {req.name}: {exc}") from None
    return GitRequirement(
        name=req.name,
        url=url,
        requested_by=requested_by,
        extras=tuple(sorted(req.extras)),
        marker=str(req.marker) if req.marker else None,
    )
