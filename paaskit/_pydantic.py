"""Walking pydantic models by their annotations: the type of the field at a path.

Settings read from Pulumi config and manifest errors both need to know what a
key path leads to (a nested model, a list, a plain value); one walk serves both.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import BaseModel

__all__ = ["annotation_at", "model_in", "unwrap", "wants_json"]


def unwrap(annotation: Any) -> Any:
    """`annotation` without `Annotated[...]` and `None`; from a union, its model if it has one."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
            annotation = models[0] if models else members[0]
        else:
            return annotation


def model_in(annotation: Any) -> type[BaseModel] | None:
    """The model an annotation stands for (`X`, `X | None`, `Annotated[X, ...]`), or None."""
    found = unwrap(annotation)
    return found if isinstance(found, type) and issubclass(found, BaseModel) else None


def annotation_at(
    model: type[BaseModel], path: Sequence[str | int], *, by_alias: bool = False
) -> Any:
    """The annotation of what `path` leads to from `model`: through nested models (by field
    name, or by alias with `by_alias`), a mapping's values and a list's or tuple's items.
    A KeyError when the path leads nowhere."""
    current: Any = model
    for part in path:
        current = unwrap(current)
        origin = typing.get_origin(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            fields = {
                (info.alias or name) if by_alias else name: info
                for name, info in current.model_fields.items()
            }
            if part not in fields:
                raise KeyError(".".join(map(str, path)))
            current = fields[str(part)].annotation
        elif origin is dict:
            current = typing.get_args(current)[1]
        elif origin in (list, tuple):
            current = typing.get_args(current)[0]
        else:
            raise KeyError(".".join(map(str, path)))
    return current


def wants_json(annotation: Any) -> bool:
    """Whether a value of this type is written as JSON in a config string (a list, a mapping)."""
    origin = typing.get_origin(annotation)
    if origin in (list, dict, tuple, set, frozenset):
        return True
    if origin in (typing.Union, types.UnionType):
        return any(wants_json(arg) for arg in typing.get_args(annotation) if arg is not type(None))
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)
