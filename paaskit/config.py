"""Settings: the pydantic base every component's Args builds on, and reading Pulumi config.

Data flows one way: Pulumi config (or plain Python) -> these models -> the
components. Components never read Pulumi config themselves; stacks do, with
`load_settings`, and hand validated models in.

A wrong setting fails before any resource exists, with a message that names
the key, the value and what is allowed: `paaskit-rack:zones: must be 2 or 3 (got 5)`.
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Annotated, Any, TypeVar

import pulumi
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    PydanticUserError,
    TypeAdapter,
    ValidationError,
)
from pydantic_core import core_schema

from ._pydantic import annotation_at, model_in, wants_json
from ._suggest import suggestions
from .aws_api import tag_rules
from .errors import ConfigError

__all__ = [
    "PAASKIT_TAGS",
    "RETENTION_DAYS",
    "ComponentArgs",
    "ConfigError",
    "Input",
    "RetentionDays",
    "Settings",
    "Tags",
    "Transform",
    "TransformHook",
    "check_keys",
    "config_error_text",
    "default_at",
    "derive",
    "key_path",
    "load_settings",
    "shown",
]


class _AnOutput:
    """A pydantic schema for `pulumi.Output`: any Output, taken as it is (its value is not
    known until the engine resolves it), in any model, without `arbitrary_types_allowed`."""

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.is_instance_schema(pulumi.Output)


Input = str | Annotated[pulumi.Output[Any], _AnOutput]
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


PAASKIT_TAGS = 4
"""Tags paaskit itself may put on one resource beside the user's: `paaskit:component`
and the contract's `paaskit:rack`, `paaskit:app`, `paaskit:service` (a rack's nodes
carry `Name` and its distribution a `paaskit:waive:` tag instead of the last two)."""


def _tags(tags: dict[str, str]) -> dict[str, str]:
    rules = tag_rules()
    for key, value in tags.items():
        problems = rules.problems(key, value)
        if problems:
            raise ValueError(problems[0])
    own = [k for k in tags if not k.startswith("paaskit:") and k != "Name"]
    allowed = rules.per_resource - PAASKIT_TAGS
    if len(own) > allowed:
        raise ValueError(
            f"{len(own)} tags; AWS allows {rules.per_resource} on a resource and paaskit "
            f"puts up to {PAASKIT_TAGS} of its own there (paaskit:rack, paaskit:app, "
            f"paaskit:service, paaskit:component), so at most {allowed}"
        )
    return tags


Tags = Annotated[dict[str, str], AfterValidator(_tags)]


class ComponentArgs(Settings):
    """Settings every component takes."""

    tags: Tags = Field(default_factory=dict)
    """Tags for every AWS resource the component makes, beside paaskit's own
    `paaskit:component` (and the rack, app and service tags). Checked against the
    rules botocore's models state for every tagging API paaskit's resources go
    through (`paaskit.aws_api`): keys of 1-128 and values of up to 256 letters,
    digits, spaces and `_ . : / = + - @`, no `aws:` prefix, and at most 50 tags
    on a resource, paaskit's own counted. Default: none."""

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


def _is_secret(full_key: str) -> bool:
    """Whether Pulumi marked a config value secret (a `secure:` value, or `secret: true`)."""
    from pulumi.runtime import config as runtime_config

    return runtime_config.is_config_secret(full_key) or (
        full_key in runtime_config.get_config_secret_keys_env()
    )


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


def _adapter(annotation: Any) -> TypeAdapter[Any]:
    """A validator for one field's type; Pulumi Outputs and other classes are taken as they are."""
    try:
        return TypeAdapter(annotation, config=ConfigDict(arbitrary_types_allowed=True))
    except PydanticUserError:
        # A model (or a type with a config of its own) cannot be given another config.
        return TypeAdapter(annotation)


def _holds_output(value: Any) -> bool:
    if isinstance(value, pulumi.Output):
        return True
    if isinstance(value, dict):
        return any(_holds_output(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_output(v) for v in value)
    return False


def _is_default(model: type[BaseModel], path: str, annotation: Any, value: Any) -> bool:
    if _holds_output(value):
        return False
    try:
        typed = _adapter(annotation).validate_python(value)
    except ValidationError:
        return False
    return bool(typed == default_at(model, path))


def _members(annotation: Any) -> list[Any]:
    """The alternatives an annotation allows: `Annotated` and `None` removed, unions flattened."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _members(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [member for arg in typing.get_args(annotation) for member in _members(arg)]
    return [] if annotation is type(None) else [annotation]


def _scalar_text(value: bool | int | float) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def _coerce(value: Any, annotation: Any) -> Any:
    """YAML scalars inside a list or mapping as the text a string field expects.

    A stack file's `ecsConfig: {ECS_RESERVED_MEMORY: 256}` or `tags: {cost: 100}`
    reaches the program as JSON with a number in it, where the field holds
    strings: the number is taken as the text it was written as ("256"), and
    `true` as "true". `null`, lists and mappings are left for validation to refuse.
    """
    members = _members(annotation)
    if isinstance(value, dict):
        for member in members:
            if typing.get_origin(member) is dict:
                inner = typing.get_args(member)[1]
                return {k: _coerce(v, inner) for k, v in value.items()}
            model = model_in(member)
            if model is not None:
                fields = {
                    (info.alias or name): info.annotation
                    for name, info in model.model_fields.items()
                }
                return {k: _coerce(v, fields[k]) if k in fields else v for k, v in value.items()}
        return value
    if isinstance(value, list):
        for member in members:
            if typing.get_origin(member) in (list, tuple, set, frozenset):
                inner = typing.get_args(member)[0]
                return [_coerce(v, inner) for v in value]
        return value
    scalar_types = (bool, int, float)
    if (
        isinstance(value, scalar_types)
        and str in members
        and not any(m in scalar_types for m in members)
    ):
        return _scalar_text(value)
    return value


def _takes_outputs(annotation: Any) -> bool:
    return any(
        member is pulumi.Output or typing.get_origin(member) is pulumi.Output
        for member in _members(annotation)
    )


def _as_secret(value: Any, annotation: Any) -> Any:
    """A secret config value as Pulumi secrets wherever its field takes an Output, so it is
    encrypted in the state and masked in every plan; elsewhere as it is."""
    members = _members(annotation)
    if isinstance(value, str) and _takes_outputs(annotation):
        return pulumi.Output.secret(value)
    if isinstance(value, dict):
        for member in members:
            if typing.get_origin(member) is dict:
                inner = typing.get_args(member)[1]
                return {k: _as_secret(v, inner) for k, v in value.items()}
    if isinstance(value, list):
        for member in members:
            if typing.get_origin(member) is list:
                inner = typing.get_args(member)[0]
                return [_as_secret(v, inner) for v in value]
    return value


def _parse(text: str, annotation: Any) -> Any:
    if not wants_json(annotation):
        return text
    try:
        return _coerce(json.loads(text), annotation)
    except ValueError:
        # A bare word for a list setting is a list of one, as people write `-c endpoints=ecr`.
        return (
            [text] if typing.get_origin(annotation) is list or "list[" in str(annotation) else text
        )


def key_path(key: str, parts: Sequence[str | int]) -> str:
    """A config key and a path inside its value, as `pulumi config set --path` writes it:
    `paaskit-rack:endpoints[0]`, `paaskit-app:environment.SECRET_KEY`."""
    out = key
    for part in parts:
        text = str(part)
        if isinstance(part, int) or text.isdigit():
            out += f"[{text}]"
        elif re.fullmatch(r"[A-Za-z0-9_-]+", text):
            out += f".{text}"
        else:
            out += f"[{json.dumps(text)}]"
    return out


def shown(value: Any, *, limit: int = 60) -> str:
    """A value for an error message: its repr, shortened when long (a 5,000-digit number
    reads as its first digits and its length, never as five thousand digits)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        digits = int(value.bit_length() * 0.30103) + 1
        return f"a number of about {digits} digits"
    try:
        text = repr(value)
    except ValueError:
        return f"a {type(value).__name__} too large to show"
    if len(text) <= limit:
        return text
    size = len(value) if isinstance(value, (str, list, dict)) else len(text)
    unit = "characters" if isinstance(value, str) else "items"
    return f"{text[: limit - 10]}... ({size} {unit})"


def check_keys(
    namespace: str,
    known: Collection[str],
    *,
    values: Mapping[str, str] | None = None,
) -> None:
    """Refuse a key of `namespace` that no setting reads, suggesting the closest known one.

    A stack calls this before it reads anything, so a misspelt key
    (`paaskit-app:manifst`) is reported as that, not as the missing key it meant.
    """
    all_values = values if values is not None else _all_config()
    prefix = namespace + ":"
    for full_key in sorted(k for k in all_values if k.startswith(prefix)):
        key = full_key[len(prefix) :]
        if key not in known:
            close = suggestions(key, known, ignore_case=True)
            hint = (
                f"did you mean {prefix}{close[0]}?"
                if close
                else f"known keys: {', '.join(sorted(known))}"
            )
            raise ConfigError(f"{full_key}: unknown config key; {hint}")


def load_settings(
    model: type[M],
    namespace: str,
    *,
    keys: Mapping[str, str | None] | None = None,
    sections: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    secret_keys: Collection[str] | None = None,
    given: Mapping[str, Any] | None = None,
) -> M:
    """Read a settings model from the Pulumi config of `namespace`.

    `keys` maps each config key (`vpcCidr`) to a dotted field path in the model
    (`network.cidr`), or to None for a key the stack reads itself (an app's
    `name`); without it, each field is read from its own name. Lists and
    mappings are given as JSON, as a YAML list in the stack file or `pulumi
    config set --path` writes them; numbers and booleans inside them are taken
    as text where a field holds text. A key of the namespace that nothing reads
    is an error with a did-you-mean, so a typo never passes silently; every
    error names the full config key (`paaskit-rack:vpcCidr: ...`), and a field
    an error mentions by its Python name is named by its key too.

    `sections` maps a boolean config key (`database`) to an optional section of
    the model (`database`): true turns the section on with its defaults; keys
    that set fields inside a section that is off are an error.

    Values Pulumi marks secret (`secure:` in the stack file, `secret: true` in
    the project file; `secret_keys` when `values` are given) become Pulumi
    secrets wherever their field takes an Output. `given` holds fields the
    stack supplies itself (an app's manifest and rack): their keys are known
    but not read here.
    """
    if keys is None:
        keys = {(info.alias or name): name for name, info in model.model_fields.items()}
    all_values = values if values is not None else _all_config()
    supplied = dict(given or {})
    check_keys(namespace, [*keys, *(sections or {})], values=all_values)
    prefix = namespace + ":"
    raw: dict[str, Any] = {}
    stored: list[str] = []
    for full_key in sorted(k for k in all_values if k.startswith(prefix)):
        key = full_key[len(prefix) :]
        field_path = keys.get(key)
        if key in (sections or {}) or field_path is None:
            continue
        path = field_path.split(".")
        if path[0] in supplied:
            continue
        annotation = annotation_at(model, path)
        value = _parse(all_values[full_key], annotation)
        is_secret = full_key in secret_keys if secret_keys is not None else _is_secret(full_key)
        if is_secret:
            value = _as_secret(value, annotation)
        if _is_default(model, field_path, annotation, value):
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
            raise ConfigError(f"{prefix}{key}: expected true or false (got {shown(text)})")
        if text == "true":
            raw.setdefault(section, {})
        elif section in raw:
            used = [k for k in stored if str(keys[k]).startswith(section + ".")]
            raise ConfigError(
                f"{prefix}{used[0]}: sets the {section}, which is off; set {prefix}{key}: true"
            )
    try:
        return model.model_validate({**raw, **supplied})
    except ValidationError as err:
        raise ConfigError(config_error_text(err, namespace, keys)) from None


_FIELD_REFERENCE = re.compile(
    r"(?<![\w'\".:-])([a-z][a-z0-9]*(?:[._][a-z0-9]+)+)(?![\w'\"/:-])|`([a-z][a-z0-9]*)`"
)
"""A field named in a message: a dotted or snake_case path (`zone_name`,
`loadbalancer.certificate_arn`), or a single word in backquotes (`zones`);
not inside a quoted value, a file name or a key that already has a namespace."""


def _user_words(
    message: str, loc: tuple[str, ...], namespace: str, by_path: Mapping[tuple[str, ...], str]
) -> str:
    """`message` with each field it names by its Python path named by its config key instead."""

    def config_key(path: str) -> str | None:
        parts = tuple(path.split("."))
        for base in (loc, ()):
            if (*base, *parts) in by_path:
                return f"{namespace}:{by_path[(*base, *parts)]}"
        return None

    def replace(match: re.Match[str]) -> str:
        if match.group(1):
            found = config_key(match.group(1))
            return found if found is not None else match.group(0)
        found = config_key(match.group(2))
        return f"`{found}`" if found is not None else match.group(0)

    return _FIELD_REFERENCE.sub(replace, message)


def config_error_text(err: ValidationError, namespace: str, keys: Mapping[str, str | None]) -> str:
    """A validation error of a model read from config, in the words of its config keys.

    Each problem is named by the config key that sets the field (`paaskit-app:releaseTimeoutSeconds`,
    `paaskit-rack:endpoints[0]`), and the fields its message mentions are too.
    """
    by_path = {tuple(path.split(".")): key for key, path in keys.items() if path is not None}
    lines = []
    for problem in err.errors():
        loc = tuple(str(p) for p in problem["loc"])
        message = problem["msg"].removeprefix("Value error, ")
        # The longest field path a config key reads, at the start of the error's location.
        cut = next((n for n in range(len(loc), 0, -1) if loc[:n] in by_path), 0)
        context = loc
        if cut:
            key = key_path(f"{namespace}:{by_path[loc[:cut]]}", problem["loc"][cut:])
        else:
            # A check across fields names its field first ("availability_zones: ..."):
            # name the config key that sets that field instead.
            field, sep, rest = message.partition(": ")
            target = (*loc, *field.split("."))
            if sep and target in by_path:
                key, message = f"{namespace}:{by_path[target]}", rest
                context = target[:-1]
            else:
                key = f"{namespace}:" + ".".join(loc) if loc else namespace
        message = _user_words(message, context, namespace, by_path)
        got = problem.get("input")
        show = problem["type"] not in ("missing", "extra_forbidden") and not isinstance(
            got, (dict, pulumi.Output)
        )
        if problem["type"] == "extra_forbidden":
            message = "unknown setting (check the spelling)"
        lines.append(f"{key}: {message}" + (f" (got {shown(got)})" if show else ""))
    return "; ".join(lines)
