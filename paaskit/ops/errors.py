"""What can go wrong in an operation, said in one line that names the thing.

`OpsError` is raised by paaskit's own checks (no such app, service or release;
several racks; a missing tool). AWS's own errors arrive as botocore
exceptions; `describe` turns each into one line a user can act on (no
credentials, access denied with the action AWS names, an unreachable
endpoint). The CLI prints either, prefixed with the verb and the app, and
exits 1 without a traceback.
"""

from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

from paaskit.errors import PaaskitError

__all__ = ["AWS_ERRORS", "OpsError", "describe"]

AWS_ERRORS = (BotoCoreError, ClientError)
"""The exceptions boto3 raises for AWS's refusals and for missing settings."""

_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedException",
    "AuthorizationError",
}
_BAD_CREDENTIALS = {
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
    "AuthFailure",
}


class OpsError(PaaskitError):
    """An operation cannot be done; the message names the app, service, release or setting."""


def describe(exc: BotoCoreError | ClientError) -> str:
    """One line for an AWS error: what failed and what to do about it."""
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return (
            "no AWS credentials found: set AWS_PROFILE (after `aws configure` or `aws sso login`) "
            "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    if isinstance(exc, ProfileNotFound):
        return f"{exc}: check AWS_PROFILE against your ~/.aws/config"
    if isinstance(exc, NoRegionError):
        return "no AWS region: set AWS_REGION (or a region in your AWS profile)"
    if isinstance(exc, EndpointConnectionError):
        return f"cannot reach AWS at {exc.kwargs.get('endpoint_url')}: check your network and AWS_ENDPOINT_URL"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "Error")
        message = error.get("Message", "").strip()
        if code in _DENIED:
            return f"AWS denied {exc.operation_name} ({code}): {message}"
        if code in _BAD_CREDENTIALS:
            return (
                f"AWS refused the credentials ({code}): {message}; renew them "
                "(`aws sso login`, or new access keys)"
            )
        return f"{exc.operation_name} failed ({code}): {message}"
    return str(exc)
