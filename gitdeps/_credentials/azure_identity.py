"""Entra ID tokens through azure-identity: managed identity, workload identity, the
Azure CLI's sign-in, the environment. For Azure DevOps, sent as Bearer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._errors import AuthError
from .._secret import Secret, redact
from .base import Credential, HostConfig

if TYPE_CHECKING:
    from .._inputs.giturl import GitURL

__all__ = ["AZURE_DEVOPS_SCOPE", "azure_token_credential", "provide"]

# Azure DevOps' resource id: an Entra token for it, sent as Bearer, opens its git repos.
AZURE_DEVOPS_SCOPE = "499b84ac-1321-427f-aa17-267ca6975798/.default"


def azure_token_credential(kind: str, client_id: str | None) -> Any:
    """The azure-identity credential that ``kind`` names (``credential =`` in gitdeps.toml)."""
    import azure.identity as ai

    if kind == "managed-identity":
        return ai.ManagedIdentityCredential(client_id=client_id)
    if kind == "workload-identity":
        return ai.WorkloadIdentityCredential(client_id=client_id)
    if kind == "azure-cli":
        return ai.AzureCliCredential()
    if kind == "environment":
        return ai.EnvironmentCredential()
    return ai.DefaultAzureCredential(
        managed_identity_client_id=client_id, exclude_interactive_browser_credential=True
    )


def provide(url: GitURL, config: HostConfig | None) -> Credential:
    """An Entra ID token for Azure DevOps from azure-identity (managed identity & co)."""
    host = url.host
    from azure.core.exceptions import AzureError

    credential = azure_token_credential(
        config.credential if config else "default", config.client_id if config else None
    )
    name = type(credential).__name__
    try:
        token = credential.get_token(AZURE_DEVOPS_SCOPE)
    except (AzureError, ValueError, OSError) as exc:
        # ClientAuthenticationError, and what an endpoint's empty or non-JSON answer or a
        # broken connection raise from inside azure-identity (JSONDecodeError, ...).
        text = redact(str(exc)).strip()
        first = text.splitlines()[0][:300] if text else type(exc).__name__
        raise AuthError.at(
            host,
            f"azure-identity ({name}) could not get a token: {first}",
            hint="check the identity (managed identity enabled? client-id right? az login done?)",
        ) from None
    finally:
        close = getattr(credential, "close", None)
        if close is not None:
            close()
    return Credential(
        host,
        Secret(token.token),
        source=f"azure-identity ({name})",
        scheme="bearer",
        expires_on=float(token.expires_on),
    )
