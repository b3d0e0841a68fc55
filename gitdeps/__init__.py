"""gitdeps: vendor private git requirements into a wheelhouse at build time.

The deploy target installs with plain pip and never sees a token or a git URL.
"""

from ._authcheck import HostReport, check_auth
from ._check import CheckReport, RefState, check
from ._errors import (
    AuthError,
    BuildError,
    FetchError,
    GitDepsError,
    LockError,
    RequirementError,
    UnsafeRepositoryError,
)
from ._prebuild import prebuild
from ._publish import publish
from ._rewrite import rewrite
from ._secret import Secret, redact
from ._vendor import VendoredWheel, VendorResult, vendor

__version__ = "0.2.0"

__all__ = [
    "AuthError",
    "BuildError",
    "CheckReport",
    "FetchError",
    "GitDepsError",
    "LockError",
    "RequirementError",
    "Secret",
    "UnsafeRepositoryError",
    "VendorResult",
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
]
