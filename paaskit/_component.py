"""What every paaskit component has in common.

- type token `paaskit:<module>:<Name>`, constructed as `Name(name, args, opts=None)`;
- children named `f"{name}-<role>"`, parented to the component, tagged with
  `paaskit:component` and the user's tags;
- `nodes`: every child by role, so nothing needs forking to read an id;
- `transform`: a hook per kind of child for what the component does not model.
"""

from __future__ import annotations

import inspect
from functools import cache
from typing import Any, ClassVar, TypeVar, cast

import pulumi

from .config import ComponentArgs, ConfigError

__all__ = [
    "Component",
]

R = TypeVar("R", bound=pulumi.Resource)

# Types whose `tags` argument is not a plain mapping (the autoscaling group takes
# a list of {key, value, propagateAtLaunch}); their component tags them itself.
_LIST_TAGGED = {"aws:autoscaling/group:Group"}


@cache
def _takes_tags(cls: type) -> bool:
    init = getattr(cls, "_internal_init", None)
    if init is None:
        return False
    return "tags" in inspect.signature(init).parameters


class Component(pulumi.ComponentResource):
    """Base of paaskit's components."""

    TYPE: ClassVar[str]
    """The Pulumi type token, `paaskit:<module>:<Name>`."""

    CHILD_KINDS: ClassVar[frozenset[str]]
    """Every kind of child the component may create; the keys `transform` accepts."""

    def __init__(
        self, name: str, args: ComponentArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        unknown = sorted(set(args.transform) - self.CHILD_KINDS)
        if unknown:
            raise ConfigError(
                f"transform: {', '.join(unknown)}: no such child of {type(self).__name__}; "
                f"kinds are {', '.join(sorted(self.CHILD_KINDS))}"
            )
        super().__init__(self.TYPE, name, None, opts)
        self.component_name = name
        self.nodes: dict[str, pulumi.Resource] = {}
        self._transforms = dict(args.transform)
        self._tags = {**args.tags, "paaskit:component": name}

    @property
    def tags(self) -> dict[str, str]:
        """The tags every child carries."""
        return dict(self._tags)

    def child(
        self,
        kind: str,
        cls: type[R],
        role: str,
        /,
        opts: pulumi.ResourceOptions | None = None,
        **kwargs: Any,
    ) -> R:
        """Create a child `cls(f"{name}-{role}", **kwargs)` parented to this component.

        `kind` says which `transform` hook applies (several children may share a
        kind, such as one subnet per zone). Tags are merged in when the resource
        takes tags and the caller gave none of its own.
        """
        if kind not in self.CHILD_KINDS:
            raise AssertionError(
                f"{type(self).__name__}: child kind {kind!r} is not declared in CHILD_KINDS"
            )
        options = pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=self), opts)
        type_token = getattr(cls, "pulumi_type", "")
        if _takes_tags(cast(type, cls)) and type_token not in _LIST_TAGGED:
            kwargs["tags"] = {**self._tags, **(kwargs.get("tags") or {})}
        hook = self._transforms.get(kind)
        if hook is not None:
            hook(kwargs, options)
        resource = cls(f"{self.component_name}-{role}", opts=options, **kwargs)
        self.nodes[role] = resource
        return resource
