"""gitdeps: vendor private git requirements into a wheelhouse at build time.

The deploy target installs with plain pip and never sees a token or a git URL.
"""

from typing import TYPE_CHECKING, Any

from ._config import ConfigError
from ._errors import (
    AuthError,
    BuildError,
    FetchError,
    GitDepsError,
    Interrupted,
    InUseError,
    LockError,
    RequirementError,
    SeveralErrors,
    UnsafeRepositoryError,
)
from ._options import VendorOptions
from ._secret import Secret, redact
from ._vendor import VendoredWheel, VendorResult, vendor

__version__ = "0.2.0"

__all__ = [
    "AuthError",
    "BuildError",
    "CheckReport",
    "ConfigError",
    "FetchError",
    "GitDepsError",
    "InUseError",
    "Interrupted",
    "LockError",
    "RequirementError",
    "Secret",
    "SeveralErrors",
    "UnsafeRepositoryError",
    "VendorOptions",
    "VendorResult",
    "VerifyReport",
    "VendoredWheel",
    "__version__",
    "HostReport",
    "RefState",
    "check",
    "check_auth",
    "prebuild",
    "publish",
    "redact",
    "rewrite",
    "vendor",
    "verify",
]


if TYPE_CHECKING:
    from ._authcheck import HostReport, check_auth
    from ._check import CheckReport, RefState, check
    from ._prebuild import prebuild
    from ._publish import publish
    from ._token_rewrite import rewrite
    from ._verify import VerifyReport, verify

# Loaded when first used: the other commands' code costs start-up time that a vendor
# run does not need.
_LAZY = {
    "CheckReport": "._check",
    "HostReport": "._authcheck",
    "RefState": "._check",
    "check": "._check",
    "check_auth": "._authcheck",
    "prebuild": "._prebuild",
    "publish": "._publish",
    "rewrite": "._token_rewrite",
    "VerifyReport": "._verify",
    "verify": "._verify",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
