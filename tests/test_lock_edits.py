"""A hand-edited or damaged lock is refused, naming the entry, before anything is done.

gitdeps deletes wheels a lock no longer lists, by the name the lock gives: an entry
whose wheel was 'requirements.txt' made a run delete the requirements it had just
written.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gitdeps import LockError
from gitdeps._outputs.lock import read_lock
from tests.support.app import vendor_in

GOOD = {
    "name": "acme-utils",
    "version": "1.2.0+g1a2b3c4d5e6f",
    "url": "https://h.test/o/acme-utils.git",
    "requested-revision": "v1.2.0",
    "commit": "1a2b3c4d5e6f" + "0" * 28,
    "subdirectory": "",
    "wheel": "acme_utils-1.2.0+g1a2b3c4d5e6f-py3-none-any.whl",
    "sha256": "ab" * 32,
}


def _lock(path: Path, **changes: str) -> Path:
    entry = {**GOOD, **changes}
    body = "\n".join(f'{key} = "{value}"' for key, value in entry.items())
    path.write_text(f"version = 1\n\n[[package]]\n{body}\n", encoding="utf-8")
    return path


def test_a_good_entry_reads(tmp_path: Path) -> None:
    lock = read_lock(_lock(tmp_path / "gitdeps.lock"))
    assert lock is not None and lock.packages[0].name == "acme-utils"


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"wheel": "requirements.txt"}, "is not a wheel file name"),
        (
            {"wheel": "../elsewhere/acme_utils-1.2.0+g1a2b3c4d5e6f-py3-none-any.whl"},
            "is not a wheel file name",
        ),
        ({"wheel": "other-1.0-py3-none-any.whl"}, "is not acme-utils 1.2.0+g1a2b3c4d5e6f"),
        ({"wheel": "acme_utils-9.9-py3-none-any.whl"}, "is not acme-utils 1.2.0+g1a2b3c4d5e6f"),
        ({"commit": "ä" * 40}, "is not a full lower-case commit hash"),
        ({"commit": "1a2b3c4"}, "is not a full lower-case commit hash"),
        ({"sha256": "not-a-digest"}, "is not a SHA-256 digest"),
    ],
)
def test_an_edited_entry_is_refused_naming_it(
    tmp_path: Path, changes: dict[str, str], problem: str
) -> None:
    with pytest.raises(LockError) as caught:
        read_lock(_lock(tmp_path / "gitdeps.lock", **changes))
    message = str(caught.value)
    assert "[[package]] #1 ('acme-utils')" in message and problem in message
    assert "restore it from version control" in message


def test_an_edited_lock_never_deletes_an_output(tmp_path: Path) -> None:
    app = tmp_path / "app"
    (app / "wh").mkdir(parents=True)
    (app / "wh" / "requirements.txt").write_text("kept\n")
    _lock(app / "gitdeps.lock", wheel="requirements.txt")
    ran = vendor_in(app, "acme-utils @ git+https://h.test/o/acme-utils.git@v1.2.0", lock=True)
    assert ran.returncode == 7, ran.output
    assert "is not a wheel file name" in ran.stderr
    assert (app / "wh" / "requirements.txt").read_text() == "kept\n"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("# some notes\n", "this is not a gitdeps lock (it has no 'version = 1')"),
        ("version = 7\n", "lock format version 7 is not one this gitdeps reads"),
        ("version = \n", "cannot read the lock"),
    ],
)
def test_a_file_that_is_no_lock_of_ours_is_refused(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / "gitdeps.lock").write_text(text, encoding="utf-8")
    with pytest.raises(LockError, match=re.escape(problem)):
        read_lock(tmp_path / "gitdeps.lock")
