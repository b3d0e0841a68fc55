"""Fuzzing the two doors user input comes through, the requirements parser and the CLI:
whatever comes in, the answer is a result or a GitDepsError, never an internal error."""

from __future__ import annotations

import contextlib
import io
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gitdeps import GitDepsError
from gitdeps.__main__ import EXIT_INTERNAL, main
from gitdeps._inputs.requirements import parse_requirement_files

# Pieces real requirement lines are made of, and the faults found in them so far.
_PIECES = st.sampled_from(
    [
        "git+https://", "git+http://", "git+ssh://", "gi-t+https://", "git+file://", "://",
        "h.test", "[::1]", "::1]", "[", "]", ":99", ":0", ":99999", "@", "#", "#egg=",
        "#subdirectory=", "&", "/", "..", "./x", "r.git", "@v1", "@refs/heads/x",
        " ", "  ", "\t", "\\", "\0", "${X}", "%00", "%", ";", " ; python_version<'3'",
        "-r", "-c", "-e", "-f", "-i", "--hash=sha256:", "--config-settings", "-C", "k=v",
        "--index-url", "--extra", "--no-binary", ":all:", "pkg", "pkg[", "pkg[a]", "==",
        ">=1", "~=", "name @ ", "user:tok@", "é", "\u202e", "\x7f", "'", '"',
    ]
)  # fmt: skip
_FREE = st.lists(st.one_of(_PIECES, st.text(max_size=6)), max_size=12).map("".join)
_URLS = st.tuples(
    st.sampled_from(["git+https://", "git+http://", "gi-t+https://", "git+ssh://", "git+"]),
    st.sampled_from(["", "u:t@", "-o", "@"]),
    st.sampled_from(["h.test", "[::1]", "::1]", "[::1", "-oProxyCommand=x", "", "h.test."]),
    st.sampled_from(["", ":99", ":", ":x", ":1]:99", ":99999"]),
    st.lists(_PIECES, max_size=3).map("".join),
    st.sampled_from(["", "@v", "@", "#egg=x", "#subdirectory=..", "@v#subdirectory=a"]),
).map("".join)
_OPTION_LINES = st.tuples(
    st.sampled_from(["-r", "-c", "-e", "-f", "-i", "--find-links", "--extra-index-url", "-C"]),
    st.sampled_from([" ", "=", "", "  "]),
    st.one_of(_URLS, _FREE),
).map("".join)
_LINES = st.one_of(
    _FREE, _OPTION_LINES, _URLS, st.tuples(st.sampled_from(["pkg @ ", ""]), _URLS).map("".join)
)
_FILES = st.lists(_LINES, min_size=1, max_size=4).map("\n".join)

_SETTINGS = settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_SETTINGS
@given(text=_FILES)
@example(text="-f \0./x")  # faults found before: each was an internal error
@example(text="~=")  # Path.expanduser raised where no home is known (CI)
@example(text="gi-t+https://::1]:99/:1]:99/r@v")
def test_the_requirements_parser_answers_or_raises_its_own_error(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "requirements.txt"
        path.write_text(text, encoding="utf-8", errors="surrogateescape")
        with contextlib.suppress(GitDepsError):
            parse_requirement_files([path])


@pytest.fixture
def _signals_kept() -> Iterator[None]:
    """main() takes SIGINT and SIGTERM for the run; the suite gets them back."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


_WORDS = st.sampled_from(
    [
        "-r", "requirements.txt", "--project", ".", "-o", "wh", "--output-requirements",
        "out.txt", "--platform", "manylinux2014_x86_64", "--python-version", "3.11", "3.x",
        "--implementation", "cp", "--abi", "none", "--jobs", "0", "-1", "2", "--timeout",
        "nan", "inf", "0", "--upgrade-package", "x", "--extra", "--group", "--config",
        "gitdeps.toml", "--installer", "uv", "pip", "-v", "-vv", "-q", "--no-cache",
        "--include-public", "--", "-", "",
    ]
)  # fmt: skip


@pytest.mark.usefixtures("_signals_kept")
@_SETTINGS
@given(words=st.lists(st.one_of(_WORDS, st.text(max_size=8)), max_size=8), text=_FILES)
def test_the_cli_answers_or_says_what_is_wrong(
    words: list[str], text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``vendor`` with any options over any requirements file; ``--locked`` with no lock
    ends every run before the network, after the inputs are read."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "requirements.txt").write_text(text, encoding="utf-8", errors="surrogateescape")
        (root / "gitdeps.toml").write_text("")
        monkeypatch.chdir(root)
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            try:
                code = main(["vendor", *words, "--locked", "--lock", "missing.lock"])
            except SystemExit as exit:  # argparse: a usage error, exit 2
                code = exit.code if isinstance(exit.code, int) else 2
        said = stderr.getvalue()
        assert code != EXIT_INTERNAL and "internal error" not in said, (words, text, said)
        assert "Traceback" not in said or "-vv" in words, said
