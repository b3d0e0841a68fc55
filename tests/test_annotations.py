"""What a pipeline and a terminal see: errors and warnings in the pipeline's own format
(GitHub Actions, Azure Pipelines), escaped so that no message can end or start a
command and never with a token; colour as NO_COLOR and FORCE_COLOR say."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitdeps._annotations import annotation, pipeline
from tests.support.app import App


def test_the_pipeline_is_told_by_its_own_variables() -> None:
    assert pipeline({"GITHUB_ACTIONS": "true"}) == "github"
    assert pipeline({"TF_BUILD": "True"}) == "azure"
    assert pipeline({"CI": "true"}) is None


def test_a_message_cannot_break_out_of_its_command() -> None:
    text = "req.txt:3: 100% broken,\n::error::forged"
    github = annotation("error", text, "github")
    assert github == "::error file=req.txt,line=3::req.txt:3: 100%25 broken,%0A::error::forged"
    azure = annotation("warning", "a;b]c\n##vso[task.complete]", "azure")
    assert azure == "##vso[task.logissue type=warning]a;b]c%0A##vso[task.complete]"
    assert "\n" not in github + azure


@pytest.mark.slow
@pytest.mark.parametrize(
    ("variable", "prefix"),
    [("GITHUB_ACTIONS", "::error file=requirements.txt,line=1::"),
     ("TF_BUILD", "##vso[task.logissue type=error;sourcepath=requirements.txt;linenumber=1]")],
)  # fmt: skip
def test_an_error_in_ci_is_annotated_and_holds_no_token(
    tmp_path: Path, canary: str, variable: str, prefix: str
) -> None:
    app = App.make(tmp_path / "app", f"pkg @ git+http://u:{canary}@127.0.0.1:9/o/pkg.git")
    ran = app.vendor(env={variable: "true"}, lock=False)
    assert ran.returncode == 5, ran.output
    assert any(line.startswith(prefix) for line in ran.stderr.splitlines()), ran.stderr
    kind = "::warning" if variable == "GITHUB_ACTIONS" else "##vso[task.logissue type=warning"
    assert kind in ran.stderr  # the credential-in-URL warning
    assert canary not in ran.output


@pytest.mark.parametrize(
    ("environ", "tty", "color"),
    [
        ({}, True, True),
        ({}, False, False),
        ({"NO_COLOR": ""}, True, True),  # empty: does not count (no-color.org)
        ({"NO_COLOR": "1"}, True, False),
        ({"FORCE_COLOR": "1"}, False, True),
        ({"FORCE_COLOR": ""}, False, False),
        ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, True, False),
        ({"TERM": "dumb"}, True, False),
    ],
)
def test_colour_follows_no_color_and_force_color(
    environ: dict[str, str], tty: bool, color: bool
) -> None:
    from gitdeps.__main__ import use_color

    assert use_color(environ, tty) is color


@pytest.mark.parametrize(
    ("argv", "suggested"),
    [
        (["vendr"], "did you mean 'vendor'?"),
        (["vendor", "-r", "r.txt", "--installer", "uvv"], "did you mean 'uv'?"),
        (["vendor", "-r", "r.txt", "-o", "wh", "--wheelhose", "x"], "did you mean --wheelhouse?"),
    ],
)
def test_a_mistyped_command_choice_or_option_gets_a_suggestion(
    argv: list[str], suggested: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from gitdeps.__main__ import make_parser

    with pytest.raises(SystemExit) as exited:
        make_parser().parse_args(argv)
    assert exited.value.code == 2
    assert suggested in capsys.readouterr().err


def test_help_and_an_action_left_out_say_what_there_is(capsys: pytest.CaptureFixture[str]) -> None:
    from gitdeps.__main__ import main

    with pytest.raises(SystemExit) as exited:
        main(["help", "cache"])
    assert exited.value.code == 0 and "usage: gitdeps cache" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exited:
        main(["cache"])
    assert exited.value.code == 2
    assert "name an action: info, clean" in capsys.readouterr().err
