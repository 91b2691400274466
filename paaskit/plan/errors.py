"""Turning a failed program into a message a person can act on.

A settings mistake should read like `paaskit-rack:zones: must be 2 or 3 (got 5)`,
not like forty lines of asyncio traceback. Errors the program raised on
purpose (validation, missing config) are shown as their message; anything
else also gets the line of the program where it happened.
"""

from __future__ import annotations

import traceback
from pathlib import Path

import pulumi
from pydantic import ValidationError

__all__ = [
    "describe",
    "format_validation_error",
]

_SDK_DIRS = (str(Path(pulumi.__file__).parent), "site-packages", "asyncio", "concurrent")


def format_validation_error(err: ValidationError, prefix: str = "") -> str:
    """Each problem as `key.path: message (got value)`, one per line."""
    lines = []
    for problem in err.errors():
        loc = ".".join(str(p) for p in problem["loc"])
        key = f"{prefix}{loc}" if loc else prefix.rstrip(".") or err.title
        message = problem["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        shown = problem.get("input")
        got = (
            ""
            if problem["type"] in ("missing", "extra_forbidden") or isinstance(shown, dict)
            else f" (got {shown!r})"
        )
        if problem["type"] == "extra_forbidden":
            message = "unknown setting (check the spelling)"
        lines.append(f"{key}: {message}{got}")
    return "; ".join(lines)


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    for frame in reversed(frames):
        if not any(part in frame.filename for part in _SDK_DIRS):
            return f" (at {frame.filename}:{frame.lineno})"
    return ""


def _innermost(exc: BaseException) -> tuple[BaseException, str]:
    """The error the program raised, under the SDK's "While processing ..." wrappers.

    Returns it with the resource being registered when it happened, if any.
    """
    resource = ""
    while exc.__cause__ is not None:
        text = str(exc)
        if text.startswith("While processing resource: "):
            resource = text.split("\n", 1)[0].removeprefix("While processing resource: ")
        exc = exc.__cause__
    return exc, resource


def describe(exc: BaseException) -> str:
    """The message for one exception raised by a program under plan."""
    exc, resource = _innermost(exc)
    message = _describe_one(exc)
    return f"{message} (while registering {resource})" if resource else message


def _describe_one(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        return format_validation_error(exc)
    if isinstance(exc, (pulumi.ConfigMissingError, pulumi.ConfigTypeError)):
        return str(exc).strip()
    if isinstance(exc, pulumi.RunError):
        return str(exc)
    if isinstance(exc, ValueError) and type(exc).__module__.startswith("paaskit"):
        # paaskit's own setting errors already name the key, the value and the fix.
        return str(exc)
    return f"{type(exc).__name__}: {exc}{_where(exc)}"
