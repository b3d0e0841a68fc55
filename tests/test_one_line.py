"""One line means one line: an error is a single 'error:' line by default; its context
(the backend's output, the line with a caret) follows, set apart, with -v."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.app import Forge, run_gitdeps

_NOISY_FAILURE = (
    "import sys\n"
    "for n in range(20):\n"
    "    print(f'compiling step {n}')\n"
    "raise RuntimeError('frobnicator missing: install libfrob')\n"
)


def _run(app: Path, canary: str, *flags: str) -> list[str]:
    ran = run_gitdeps(
        *flags, "vendor", "-r", "requirements.txt", "-o", "wh", "--output-requirements", "out.txt",
        cwd=app, env={"GITDEPS_TOKEN_127_0_0_1": canary},
    )  # fmt: skip
    assert ran.returncode != 0
    return ran.stderr.splitlines()


@pytest.mark.slow
def test_a_failed_build_is_one_line_with_its_reason(
    forge: Forge, tmp_path: Path, canary: str
) -> None:
    forge.push("o/broken.git", {"setup.py": _NOISY_FAILURE})
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text(f"broken @ {forge.url('o/broken.git')}\n")

    lines = _run(app, canary)
    errors = [i for i, line in enumerate(lines) if line.startswith("error:")]
    assert len(errors) == 1 and errors[0] == len(lines) - 1, lines
    assert "RuntimeError: frobnicator missing: install libfrob" in lines[-1]
    assert lines[-1].endswith("(-v shows more)")
    assert not any("compiling step" in line for line in lines)

    lines = _run(app, canary, "-v")
    at = next(i for i, line in enumerate(lines) if line.startswith("error:"))
    block = lines[at + 1 :]
    assert block and all(line.startswith("    | ") for line in block), block
    assert any("compiling step 19" in line for line in block)


def test_an_invalid_requirement_is_one_line_and_its_caret_with_v(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text("acme >= 1 <<\n")
    lines = _run(app, "unused")
    assert len(lines) == 1 and lines[0].startswith("error: requirements.txt:1: invalid requirement")
    lines = _run(app, "unused", "-v")
    caret = [line for line in lines if line.startswith("    | ")]
    assert any(line.strip().endswith("^") for line in caret), lines
