"""How the manifest reports problems: `ManifestError`, key paths, and pydantic's errors in users' words."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from paaskit._pydantic import annotation_at, model_in
from paaskit._suggest import suggestions
from paaskit.errors import PaaskitError

__all__ = [
    "Loc",
    "ManifestError",
    "Problems",
    "problems_from",
    "render_path",
    "show",
]


class ManifestError(PaaskitError, ValueError):
    """A manifest is wrong. The message names the file and every bad key path.

    `problems` holds the same as `(key path, message)` pairs, in document order,
    for tools that want to point at each one.
    """

    def __init__(self, source: str, problems: Sequence[tuple[str, str]]) -> None:
        self.source = source
        self.problems: tuple[tuple[str, str], ...] = tuple(problems)
        lines = [f"{path}: {message}" if path else message for path, message in self.problems]
        if len(lines) == 1:
            text = f"{source}: {lines[0]}"
        else:
            text = f"{source}: {len(lines)} problems\n" + "\n".join(f"  {line}" for line in lines)
        super().__init__(text)


Loc = tuple[str | int, ...]


class Problems(PaaskitError, ValueError):
    """Raised inside validators to report several problems at key paths relative to the model.

    pydantic wraps it as a `value_error` at the model's own location and keeps the
    instance in the error's context, where `_problems_from` finds it again.
    """

    def __init__(self, items: Iterable[tuple[Loc, str]]) -> None:
        self.items = tuple(items)
        super().__init__("; ".join(f"{render_path(loc)}: {msg}" for loc, msg in self.items))


def render_path(loc: Loc) -> str:
    """A key path as users write it: `services.web.scale`, `environment[2]`."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


_LONGEST = 300
"""Characters of a value a message shows: a domain name (253), a command or URL, not a file."""


def show(value: Any) -> str:
    """A value as the user wrote it in YAML: strings quoted, booleans lower-case; a very
    long string by its start and length, a very long number by its length."""
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        if len(text) <= _LONGEST:
            return text
        return f'{text[: _LONGEST - 20]}..." ({len(value)} characters)'
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        # Python will not even write out a number of more than 4,300 digits.
        return f"a number of about {int(value.bit_length() * 0.30103) + 1} digits"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list" if value else "an empty list"
    return str(value)


def problems_from(error: ValidationError, root: type[BaseModel]) -> list[tuple[str, str]]:
    """Every problem of a failed validation of `root`, as (key path, message) in document order."""
    out: list[tuple[str, str]] = []
    for item in error.errors(include_url=False):
        loc: Loc = tuple(item["loc"])
        context = item.get("ctx") or {}
        cause = context.get("error")
        if isinstance(cause, Problems):
            out.extend((render_path(loc + rel), msg) for rel, msg in cause.items)
            continue
        if loc and loc[-1] == "[key]":
            # pydantic's location turns a key such as `true` into 1: show the input instead.
            key = item.get("input")
            if isinstance(key, str):
                out.append((render_path(loc[:-1]), _message(item, cause)))
            else:
                out.append((render_path(loc[:-2]), _NOT_A_STRING_KEY.format(show(key))))
            continue
        if item["type"] == "invalid_key":
            key = item.get("input")
            out.append((render_path(loc[:-1]), _NOT_A_STRING_KEY.format(show(key))))
            continue
        if item["type"] == "extra_forbidden":
            out.append((render_path(loc), _unknown_key(root, loc)))
            continue
        out.append((render_path(loc), _message(item, cause)))
    return out


_NOT_A_STRING_KEY = (
    "a key reads as {} rather than a name: quote it (YAML reads on, off, yes, no, true and "
    "false as booleans, and digits as numbers)"
)

_TYPE_MESSAGES = {
    "missing": "required",
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
    "dict_type": "expected a mapping",
    "tuple_type": "expected a list",
    "list_type": "expected a list",
    "string_type": "expected a string",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
}


def _message(item: Mapping[str, Any], cause: Any) -> str:
    kind = item["type"]
    context = item.get("ctx") or {}
    value = item.get("input")
    if isinstance(cause, ValueError):
        return str(cause)
    if kind == "literal_error":
        return f"expected one of {context.get('expected')} (got {show(value)})"
    # The manifest's bounds are all inclusive (ge, le); others fall to pydantic's own words.
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "less_than_equal": ("at most", "le"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"must be {words} {context.get(key)} (got {show(value)})"
    if kind in _TYPE_MESSAGES:
        message = _TYPE_MESSAGES[kind]
        return message if kind == "missing" else f"{message} (got {show(value)})"
    return f"{item['msg']} (got {show(value)})"


def _model_at(root: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """The model class validating the mapping at `loc`, found by walking field annotations."""
    try:
        return model_in(annotation_at(root, loc, by_alias=True))
    except KeyError:
        return None


def _unknown_key(root: type[BaseModel], loc: Loc) -> str:
    key = str(loc[-1])
    model = _model_at(root, loc[:-1])
    if model is None:
        return "unknown key"
    unsupported: Mapping[str, str] = getattr(model, "convox_unsupported", {})
    if key in unsupported:
        return f"not supported by paaskit: {unsupported[key]}"
    valid = sorted(f.alias or n for n, f in model.model_fields.items())
    close = suggestions(key, valid, ignore_case=True)
    if close:
        return f'unknown key (did you mean "{close[0]}"?)'
    hint = "; a key holding YAML anchors must start with x-" if len(loc) == 1 else ""
    return f"unknown key (expected one of: {', '.join(valid)}{hint})"
