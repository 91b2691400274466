"""Settings: the pydantic base every component's Args builds on, and reading Pulumi config.

Data flows one way: Pulumi config (or plain Python) -> these models -> the
components. Components never read Pulumi config themselves; stacks do, with
`load_settings`, and hand validated models in.

A wrong setting fails before any resource exists, with a message that names
the key, the value and what is allowed: `paaskit-rack:zones: must be 2 or 3 (got 5)`.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable, Mapping
from typing import Annotated, Any, TypeVar

import pulumi
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.errors import PydanticSchemaGenerationError

from ._pydantic import annotation_at, model_in, wants_json
from ._suggest import suggestions
from .errors import ConfigError

__all__ = [
    "RETENTION_DAYS",
    "ComponentArgs",
    "ConfigError",
    "Input",
    "RetentionDays",
    "Settings",
    "Tags",
    "Transform",
    "TransformHook",
    "default_at",
    "derive",
    "load_settings",
]


Input = str | pulumi.Output[Any]
"""A string known now, or one that another resource will provide (an id, an ARN)."""

TransformHook = Callable[[dict[str, Any], pulumi.ResourceOptions], None]
"""Changes a child's arguments (a dict of keyword arguments) or options in place before it is created."""

Transform = dict[str, Any] | TransformHook
"""A `transform` entry: a mapping merged into the child's keyword arguments (nested
mappings key by key, anything else replaced), or a `TransformHook`."""


class Settings(BaseModel):
    """Base of every settings model: unknown keys fail loudly, values are immutable."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        arbitrary_types_allowed=True,
        validate_default=True,
        use_attribute_docstrings=True,
    )


RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
"""The retention periods CloudWatch Logs accepts (PutRetentionPolicy)."""


def _retention(days: int) -> int:
    if days not in RETENTION_DAYS:
        nearest = min(RETENTION_DAYS, key=lambda d: abs(d - days))
        raise ValueError(
            f"CloudWatch Logs keeps logs for one of {list(RETENTION_DAYS)} days; nearest is {nearest}"
        )
    return days


RetentionDays = Annotated[int, AfterValidator(_retention)]


def _tags(tags: dict[str, str]) -> dict[str, str]:
    for key, value in tags.items():
        if key.lower().startswith("aws:"):
            raise ValueError(f"tag {key!r}: keys starting with 'aws:' are reserved by AWS")
        if not 1 <= len(key) <= 128:
            raise ValueError(f"tag {key!r}: keys are 1 to 128 characters")
        if len(value) > 256:
            raise ValueError(f"tag {key!r}: values are at most 256 characters")
    return tags


Tags = Annotated[dict[str, str], AfterValidator(_tags)]


class ComponentArgs(Settings):
    """Settings every component takes."""

    tags: Tags = Field(default_factory=dict)
    """Tags for every AWS resource the component makes, beside paaskit's own
    `paaskit:component`. Default: none."""

    transform: dict[str, Transform] = Field(default_factory=dict, exclude=True)
    """For what the component does not model, per child by its key in the
    component's `CHILDREN` (the keys of `nodes`): a mapping merged into the
    child's keyword arguments (`{"node_role": {"permissions_boundary": arn}}`), or
    a function that changes them or the resource options in place
    (`{"vpc": fn}`). It applies to every child of the key. An unknown key, or an
    argument the child's class does not take, is an error naming it. Default: none."""


M = TypeVar("M", bound=BaseModel)


def derive(cls: type[M], settings: BaseModel, /, **values: Any) -> M:
    """A validated `cls` made of the fields of `settings` that were set, then `values`.

    How a component's Args are made from its user's settings and a rack's
    wiring (`XArgs.from_settings`), and how a rack adds its own tags to a
    section. Only fields that were set are carried over, so a check that asks
    which way the user chose (an instance type, or a size) still sees that
    choice; the transform hooks, which never appear in a dump, come along too.
    """
    carried = {name: getattr(settings, name) for name in settings.model_fields_set}
    if isinstance(settings, ComponentArgs):
        carried["transform"] = settings.transform
    return cls.model_validate({**carried, **values})


def _all_config() -> dict[str, str]:
    """Every config value the program was given (Pulumi passes them in-process or by env)."""
    from pulumi.runtime import config as runtime_config

    values = dict(runtime_config.get_config_env())
    values.update(runtime_config.CONFIG.get())
    return {str(k): str(v) for k, v in values.items()}


def default_at(model: type[BaseModel], path: str) -> Any:
    """The default of the field at a dotted path (`network.zones`), as its model declares it.

    Sections that are off by default (`database: X | None = None`) are entered
    through their type, so `database.engine_version` has the default it would
    have once the section is on.
    """
    parts = path.split(".")
    cls = model_in(annotation_at(model, parts[:-1])) if len(parts) > 1 else model
    if cls is None:
        raise KeyError(path)
    return cls.model_fields[parts[-1]].get_default(call_default_factory=True)


def _is_default(model: type[BaseModel], path: str, annotation: Any, value: Any) -> bool:
    try:
        typed = TypeAdapter(annotation).validate_python(value)
    except (ValidationError, PydanticSchemaGenerationError):
        # A field that takes a Pulumi Input (`originSecret`, `webAclId`) has no schema:
        # a value given for it is a value set.
        return False
    return bool(typed == default_at(model, path))


def _parse(text: str, annotation: Any) -> Any:
    if not wants_json(annotation):
        return text
    try:
        return json.loads(text)
    except ValueError:
        # A bare word for a list setting is a list of one, as people write `-c endpoints=ecr`.
        return (
            [text] if typing.get_origin(annotation) is list or "list[" in str(annotation) else text
        )


def load_settings(
    model: type[M],
    namespace: str,
    *,
    keys: Mapping[str, str] | None = None,
    sections: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
) -> M:
    """Read a settings model from the Pulumi config of `namespace`.

    `keys` maps each config key (`vpcCidr`) to a dotted field path in the model
    (`network.cidr`); without it, each field is read from its own name. Lists
    and mappings are given as JSON, as a YAML list in the stack file or
    `pulumi config set --path` writes them. A key of the namespace that nothing
    reads is an error, so a typo never passes silently; every error names the
    full config key (`paaskit-rack:vpcCidr: ...`).

    `sections` maps a boolean config key (`database`) to an optional section of
    the model (`database`): true turns the section on with its defaults; keys
    that set fields inside a section that is off are an error.
    """
    if keys is None:
        keys = {(info.alias or name): name for name, info in model.model_fields.items()}
    all_values = values if values is not None else _all_config()
    prefix = namespace + ":"
    raw: dict[str, Any] = {}
    stored: list[str] = []
    for full_key in sorted(k for k in all_values if k.startswith(prefix)):
        key = full_key[len(prefix) :]
        if key in (sections or {}):
            continue
        if key not in keys:
            close = suggestions(key, [*keys, *(sections or {})])
            hint = (
                f"did you mean {prefix}{close[0]}?"
                if close
                else f"known keys: {', '.join(sorted(keys))}"
            )
            raise ConfigError(f"{full_key}: unknown config key; {hint}")
        path = keys[key].split(".")
        annotation = annotation_at(model, path)
        value = _parse(all_values[full_key], annotation)
        if _is_default(model, keys[key], annotation, value):
            # Pulumi hands a program the defaults its project file declares as
            # if they were set; a value equal to the field's own default is
            # treated as not set, so documenting a default changes nothing.
            continue
        node = raw
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
        stored.append(key)
    for key, section in (sections or {}).items():
        text = all_values.get(prefix + key, "false").strip().lower()
        if text not in ("true", "false"):
            raise ConfigError(f"{prefix}{key}: expected true or false (got {text!r})")
        if text == "true":
            raw.setdefault(section, {})
        elif section in raw:
            used = [k for k in stored if keys[k].startswith(section + ".")]
            raise ConfigError(
                f"{prefix}{used[0]}: sets the {section}, which is off; set {prefix}{key}: true"
            )
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(_config_error_text(err, namespace, keys)) from None


def _config_error_text(err: ValidationError, namespace: str, keys: Mapping[str, str]) -> str:
    by_path = {tuple(path.split(".")): key for key, path in keys.items()}
    lines = []
    for problem in err.errors():
        loc = tuple(str(p) for p in problem["loc"])
        message = problem["msg"].removeprefix("Value error, ")
        # The longest field path a config key reads, at the start of the error's location.
        cut = next((n for n in range(len(loc), 0, -1) if loc[:n] in by_path), 0)
        if cut:
            key = f"{namespace}:{by_path[loc[:cut]]}" + "".join(f"[{p}]" for p in loc[cut:])
        else:
            # A check across fields names its field first ("availability_zones: ..."):
            # name the config key that sets that field instead.
            field, sep, rest = message.partition(": ")
            target = (*loc, *field.split("."))
            if sep and target in by_path:
                key, message = f"{namespace}:{by_path[target]}", rest
            else:
                key = f"{namespace}:" + ".".join(loc) if loc else namespace
        got = problem.get("input")
        shown = "" if problem["type"] == "missing" or isinstance(got, dict) else f" (got {got!r})"
        lines.append(f"{key}: {message}{shown}")
    return "; ".join(lines)
