"""The manifest's scalar types: what YAML gives, or the same as a string, coerced as Convox does."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator

from paaskit.command import command_argv as _argv

from ._errors import show

__all__ = [
    "ENV_NAME",
    "Bool",
    "Command",
    "Int",
    "Name",
    "Text",
    "boolean",
    "command_argv",
    "nonblank",
    "string",
    "whole_number",
]

# YAML already types scalars (3000 is an int, true a bool). The coercions below accept
# what YAML gives plus the same value as a string, because `${VAR}` interpolation always
# yields strings (`scale: ${COUNT}`); they refuse what pydantic's lax mode would let
# through by accident, such as `true` for a number.


def whole_number(value: Any) -> Any:
    """An int, or a string of one (interpolated values are strings); never a boolean."""
    if isinstance(value, bool):
        raise ValueError(f"expected a whole number (got {show(value)})")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    raise ValueError(f"expected a whole number (got {show(value)})")


_TRUE = frozenset({"true", "yes", "on"})
_FALSE = frozenset({"false", "no", "off"})


def boolean(value: Any) -> Any:
    """A boolean, or true/yes/on and false/no/off as strings."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(f"expected true or false (got {show(value)})")


def string(value: Any) -> Any:
    """A string, as written: no number or boolean turned into one."""
    if isinstance(value, str):
        return value
    raise ValueError(f"expected a string (got {show(value)})")


def nonblank(value: Any) -> Any:
    """A string that is not empty once stripped."""
    value = string(value).strip()
    if not value:
        raise ValueError("must not be empty")
    return value


def _command(value: Any) -> Any:
    """`command: bin/web` (split, or run by `sh -c` when it has shell syntax) or `command: [bin/web, --flag]` (run as is)."""
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError(
        f"expected a command string or a non-empty list of strings (got {show(value)})"
    )


Int = Annotated[int, BeforeValidator(whole_number)]
Bool = Annotated[bool, BeforeValidator(boolean)]
Text = Annotated[str, BeforeValidator(nonblank)]
Command = Annotated[str | tuple[str, ...], BeforeValidator(_command)]

_DNS_LABEL = re.compile(r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _check_name(value: Any) -> Any:
    """Service, resource and timer names become host names and parts of AWS names."""
    value = string(value)
    if not _DNS_LABEL.fullmatch(value):
        raise ValueError(
            f"invalid name {show(value)}: use 1-63 lower-case letters, digits and dashes, "
            "starting with a letter and not ending with a dash (it becomes a host name)"
        )
    return value


Name = Annotated[str, BeforeValidator(_check_name)]


def command_argv(command: str | tuple[str, ...] | None) -> tuple[str, ...] | None:
    """The argv a container runs for a manifest command: paaskit's one rule (`paaskit.command`).

    A string with shell syntax runs through `/bin/sh -c`, so that `$PORT` and `&&` work
    as in a Procfile; one without is split into words (Convox v3); a list runs as
    written. Either way it replaces the image's CMD and is passed to the image's
    ENTRYPOINT, if it has one.
    """
    if command is None:
        return None
    return _argv(command)
