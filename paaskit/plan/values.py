"""Reading a plan record's wire-format inputs: nested values, booleans spelled two ways, JSON documents.

The same rule reads a record of the offline plan and the props Pulumi's engine
hands a policy pack, so these helpers accept both: unknown values (`[unknown]`
offline, the engine's sentinels once the pack has converted them) mean "cannot
tell yet", and a rule says nothing about them rather than guess.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from .engine import UNKNOWN_MARKER
from .fakes import SECRET_MARKER

__all__ = [
    "SECRET",
    "UNKNOWN",
    "dig",
    "document",
    "flag",
    "items",
    "known",
    "number",
    "principals",
    "statements",
    "strings",
    "tag_map",
    "user_data_text",
]

UNKNOWN = UNKNOWN_MARKER
SECRET = SECRET_MARKER


def known(value: Any) -> bool:
    """False for a value that is not known at plan time, or a masked secret."""
    return value is not None and value not in (UNKNOWN, SECRET)


def dig(value: Any, *path: str | int) -> Any:
    """`dig(inputs, "metadataOptions", "httpTokens")`: None where any step is missing."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(value, list) or not -len(value) <= step < len(value):
                return None
            value = value[step]
        elif isinstance(value, Mapping):
            value = value.get(step)
        else:
            return None
    return value


def flag(value: Any) -> bool | None:
    """A boolean input: True/False, or "true"/"false" as launch templates spell them."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def items(value: Any) -> list[Any]:
    """A list input, or a single nested block (some resources take one), as a list."""
    if isinstance(value, list):
        return value
    if isinstance(value, Mapping):
        return [value]
    return []


def strings(value: Any) -> list[str]:
    """A string or a list of strings, as IAM policies write `Action` and `Resource`."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def document(value: Any) -> Any:
    """A JSON document input (IAM policies, container definitions): parsed, or None."""
    if isinstance(value, (Mapping, list)):
        return value
    if isinstance(value, str) and known(value):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return None


def statements(policy: Any) -> list[dict[str, Any]]:
    """The statements of an IAM policy document (a string or a parsed document)."""
    doc = document(policy)
    if not isinstance(doc, Mapping):
        return []
    return [s for s in items(doc.get("Statement")) if isinstance(s, dict)]


def principals(statement: Mapping[str, Any]) -> list[str]:
    """Every principal a statement names ("*" for `"Principal": "*"` or `{"AWS": "*"}`)."""
    principal = statement.get("Principal")
    if isinstance(principal, str):
        return [principal]
    if isinstance(principal, Mapping):
        return [p for v in principal.values() for p in strings(v)]
    return []


def user_data_text(value: Any, *, encoded: bool) -> str | None:
    """User data as text: launch templates take it base64-encoded, instances in plain text."""
    if not isinstance(value, str) or not known(value):
        return None
    if not encoded:
        return value
    try:
        return base64.b64decode(value, validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return value


def tag_map(value: Any) -> dict[str, str]:
    """Tags as a mapping, from `{key: value}` or the autoscaling group's `[{key, value}]`."""
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items() if isinstance(v, str)}
    out: dict[str, str] = {}
    for tag in items(value):
        if isinstance(tag, Mapping) and isinstance(tag.get("key"), str):
            out[tag["key"]] = str(tag.get("value", ""))
    return out
