"""The one redaction routine, and the Secret type."""

from __future__ import annotations

import pickle
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitdeps import GitDepsError, Secret, redact

_tokens = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="*"),
    min_size=8,
    max_size=40,
)


@given(token=_tokens, before=st.text(max_size=30), after=st.text(max_size=30))
def test_redact_never_returns_a_secret_raw_or_encoded(token: str, before: str, after: str) -> None:
    Secret(token)
    for text in (before + token + after, before + quote(token, safe="") + after):
        redacted = redact(text)
        assert token not in redacted
        assert quote(token, safe="") not in redacted


@given(st.text(max_size=80), st.lists(_tokens, max_size=3))
def test_redact_is_idempotent(text: str, tokens: list[str]) -> None:
    for token in tokens:
        Secret(token)
    once = redact(text + "".join(tokens))
    assert redact(once) == once


@given(
    user=st.text(alphabet="abcdefgh-_.", min_size=1, max_size=10),
    password=st.text(alphabet="abcdefgh0123456789@:%/", min_size=1, max_size=20),
)
def test_userinfo_in_any_url_is_masked(user: str, password: str) -> None:
    url = f"https://{quote(user, safe='')}:{quote(password, safe='')}@dev.azure.com/org/_git/r"
    assert redact(url) == "https://****@dev.azure.com/org/_git/r"


def test_secret_hides_itself() -> None:
    secret = Secret("tok-visible-nowhere")
    assert "visible" not in repr(secret) and "visible" not in str(secret)
    assert "visible" not in f"{secret!r} {secret}"
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    assert secret.reveal() == "tok-visible-nowhere"


def test_errors_are_redacted_when_raised() -> None:
    Secret("tok-in-an-error-message")
    error = GitDepsError("failed with tok-in-an-error-message at https://u:p@host/x")
    assert str(error) == "failed with **** at https://****@host/x"


@pytest.mark.parametrize(
    "pasted",
    [
        "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",  # a GitHub token
        "x" * 20 + "7q2ztq5b4m3k2j1h0g9f8d7s6a5p4o3i2u1y",  # an Azure DevOps PAT's shape
        "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=c2VjcmV0a2V5MTIzNA==",
    ],
)
def test_a_token_pasted_into_gitdeps_toml_is_never_echoed(tmp_path: Path, pasted: str) -> None:
    from gitdeps._cache.remote import remote_settings
    from gitdeps._config import ConfigError, load_config

    for table in (f'[hosts."h.test"]\nprovider = "{pasted}"\n',
                  f'[hosts."h.test"]\nprovider = "azure-identity"\ncredential = "{pasted}"\n',
                  f'[cache]\nremote = "{pasted}"\n'):  # fmt: skip
        (tmp_path / "gitdeps.toml").write_text(table)
        with pytest.raises(ConfigError) as caught:
            remote_settings(load_config(tmp_path / "gitdeps.toml").cache, url=None, read_only=None)
        said = caught.value.render(verbose=True)
        assert pasted not in said and pasted[4:16] not in said, said
        assert f"({len(pasted)} characters, not shown" in said, said


def test_an_ordinary_wrong_value_is_shown_to_be_corrected(tmp_path: Path) -> None:
    from gitdeps._config import ConfigError, load_config

    (tmp_path / "gitdeps.toml").write_text('[hosts."h.test"]\nprovider = "azure-identiy"\n')
    with pytest.raises(ConfigError, match="provider 'azure-identiy' is not one of"):
        load_config(tmp_path / "gitdeps.toml")
