"""What every paaskit component has in common: its children, `nodes` and `transform`.

- type token `paaskit:<module>:<Name>`, constructed as `Name(name, args, opts=None)`;
- children named `f"{name}-<role>"`, parented to the component, tagged with
  `paaskit:component` and the user's tags;
- `CHILDREN`: every kind of child the component makes, declared once, each
  under one key with one resource class and a cardinality (one, a list, a map);
- `nodes[key]`: the child(ren) of that key, so nothing needs forking to read an id;
- `transform[key]`: a hook for what the component does not model, under the
  same key: a function that changes the child's arguments and options in
  place, or a mapping merged into its arguments.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar, Literal, TypeVar, cast

import pulumi

from ._suggest import suggestions
from .config import ComponentArgs, ConfigError, Input
from .tags import APP_TAG, COMPONENT_TAG, RACK_TAG, SERVICE_TAG

__all__ = [
    "Cardinality",
    "Child",
    "Component",
    "each",
    "keyword_arguments",
    "merged",
    "named",
    "one",
]

R = TypeVar("R", bound=pulumi.Resource)

Cardinality = Literal["one", "list", "map"]
"""How many children a key holds: one resource, a list (per zone, per index), or a
map (per service, per timer, per name)."""

# Types whose `tags` argument is not a plain mapping (the autoscaling group takes
# a list of {key, value, propagateAtLaunch}); their component tags them itself.
_LIST_TAGGED = {"aws:autoscaling/group:Group"}

_CONTRACT_TAGS = frozenset({RACK_TAG, APP_TAG, SERVICE_TAG})

_NOT_ARGUMENTS = {"__self__", "__props__", "resource_name", "opts"}
"""Parameters of a provider resource's `_internal_init` that are not keyword arguments."""


@dataclass(frozen=True)
class Child:
    """One key of a component's children: the resource class and how many there are."""

    cls: type[pulumi.Resource]
    cardinality: Cardinality = "one"
    tagged: bool = True
    """Whether the component's tags are added (when the class takes tags)."""


def one(cls: type[pulumi.Resource], *, tagged: bool = True) -> Child:
    """A key that holds one resource (or none, when the component does not make it)."""
    return Child(cls, "one", tagged)


def each(cls: type[pulumi.Resource], *, tagged: bool = True) -> Child:
    """A key that holds a list of resources (one per zone, per index...)."""
    return Child(cls, "list", tagged)


def named(cls: type[pulumi.Resource], *, tagged: bool = True) -> Child:
    """A key that holds a map of resources by name (per service, per timer...)."""
    return Child(cls, "map", tagged)


@cache
def keyword_arguments(cls: type) -> frozenset[str]:
    """The keyword arguments a resource class takes (for a component: its `args`)."""
    init = getattr(cls, "_internal_init", None)
    # A component's own `__init__(self, name, args, opts)`: what is not the name or opts.
    skipped = _NOT_ARGUMENTS if init is not None else {"self", "name", "opts"}
    parameters = inspect.signature(init or getattr(cls, "__init__")).parameters  # noqa: B009
    return frozenset(
        name
        for name, parameter in parameters.items()
        if name not in skipped
        and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
    )


@cache
def _takes_tags(cls: type) -> bool:
    return getattr(cls, "_internal_init", None) is not None and "tags" in keyword_arguments(cls)


def merged(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """`base` updated with `update`: mappings merged key by key, anything else replaced."""
    out = dict(base)
    for key, value in update.items():
        current = out.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            out[key] = merged(current, value)
        else:
            out[key] = value
    return out


def _unknown_arguments(component: str, key: str, cls: type, given: Any) -> ConfigError | None:
    known = keyword_arguments(cls)
    unknown = sorted(set(given) - known)
    if not unknown:
        return None
    close = suggestions(unknown[0], known)
    hint = f"; did you mean {close[0]}?" if close else ""
    return ConfigError(
        f"transform.{key}.{unknown[0]}: {cls.__name__} (the {key} of {component}) takes no "
        f"argument {unknown[0]!r}{hint}"
    )


class Component(pulumi.ComponentResource):
    """Base of paaskit's components."""

    TYPE: ClassVar[str]
    """The Pulumi type token, `paaskit:<module>:<Name>`."""

    CHILDREN: ClassVar[Mapping[str, Child]]
    """Every child the component may make, by key: the keys of `nodes` and `transform`."""

    def __init__(
        self, name: str, args: ComponentArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        self._check_transforms(args.transform)
        super().__init__(self.TYPE, name, None, opts)
        self.component_name = name
        self.nodes: dict[str, Any] = {
            key: [] if child.cardinality == "list" else {}
            for key, child in self.CHILDREN.items()
            if child.cardinality != "one"
        }
        """Every child by its key in `CHILDREN`: the resource, a list or a map of them."""
        self._transforms = dict(args.transform)
        # The tag contract (paaskit.tags): a component made inside another (an app's
        # database) carries its parent's rack, app and service tags.
        parent = opts.parent if opts is not None else None
        inherited = (
            {k: v for k, v in parent._tags.items() if k in _CONTRACT_TAGS}
            if isinstance(parent, Component)
            else {}
        )
        self._tags: dict[str, Any] = {**args.tags, **inherited, COMPONENT_TAG: name}

    @classmethod
    def _check_transforms(cls, transforms: Mapping[str, Any]) -> None:
        """Unknown keys, and arguments a mapping would set that the class has not, fail here:
        before anything is registered."""
        kind = cls.__name__
        for key in sorted(transforms):
            if key not in cls.CHILDREN:
                close = suggestions(key, cls.CHILDREN)
                hint = f"did you mean {close[0]}? " if close else ""
                raise ConfigError(
                    f"transform.{key}: no such child of {kind}; {hint}"
                    f"keys are {', '.join(sorted(cls.CHILDREN))}"
                )
            hook = transforms[key]
            if isinstance(hook, Mapping):
                problem = _unknown_arguments(kind, key, cls.CHILDREN[key].cls, hook)
                if problem is not None:
                    raise problem

    @property
    def tags(self) -> dict[str, str]:
        """The tags every child carries."""
        return dict(self._tags)

    def child(
        self,
        key: str,
        cls: type[R],
        role: str,
        /,
        *,
        at: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
        read: Input | None = None,
        **kwargs: Any,
    ) -> R:
        """Create a child `cls(f"{name}-{role}", **kwargs)` parented to this component.

        `key` is its key in `CHILDREN` (whose class must be `cls`): the child goes
        into `nodes[key]` (appended to a list, or at `at` in a map) and the
        `transform[key]` hook applies to it. Tags are merged in when the class
        takes tags and the key is `tagged`. With `read` (an id), the child is an
        existing resource read back (`cls.get(name, read, **kwargs)`, kwargs being
        state such as `region`), which Pulumi reads live on every run and never
        changes.
        """
        spec = self.CHILDREN.get(key)
        if spec is None or spec.cls is not cls:
            raise AssertionError(
                f"{type(self).__name__}: child {key!r} of {cls.__name__} is not declared in CHILDREN"
            )
        if (spec.cardinality == "map") != (at is not None):
            raise AssertionError(f"{type(self).__name__}: child {key!r}: `at` is for maps only")
        options = pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=self), opts)
        type_token = getattr(cls, "pulumi_type", "")
        taggable = spec.tagged and read is None and type_token not in _LIST_TAGGED
        if taggable and _takes_tags(cast(type, cls)):
            kwargs["tags"] = {**self._tags, **(kwargs.get("tags") or {})}
        hook = self._transforms.get(key)
        if isinstance(hook, Mapping):
            kwargs = merged(kwargs, hook)
        elif hook is not None:
            hook(kwargs, options)
            problem = _unknown_arguments(type(self).__name__, key, cls, kwargs)
            if problem is not None:
                raise problem
        if read is not None:
            getter = cast(Any, cls).get
            resource = cast(
                R, getter(f"{self.component_name}-{role}", read, opts=options, **kwargs)
            )
        else:
            resource = cls(f"{self.component_name}-{role}", opts=options, **kwargs)
        if spec.cardinality == "one":
            if key in self.nodes:
                raise AssertionError(f"{type(self).__name__}: child {key!r} is made twice")
            self.nodes[key] = resource
        elif spec.cardinality == "list":
            self.nodes[key].append(resource)
        else:
            if at in self.nodes[key]:
                raise AssertionError(f"{type(self).__name__}: child {key}[{at!r}] is made twice")
            self.nodes[key][at] = resource
        return resource
