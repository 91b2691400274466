"""Routes: listener rules for hosts and paths, their priorities and AWS's limits on them."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from paaskit._aws import (
    ORIGIN_HEADER,
    check_origin_header_name,
)
from paaskit.config import ConfigError, Input

__all__ = [
    "MAX_CONDITION_VALUES",
    "MAX_CONDITION_WILDCARDS",
    "MAX_PRIORITY",
    "ORIGIN_HEADER",
    "ROUTE_HEADER",
    "RuleBook",
    "app_host",
    "attach_route",
    "listener_rule_args",
    "route_priority",
]


MAX_PRIORITY = 50_000
"""The highest listener rule priority AWS accepts."""

MAX_CONDITION_VALUES = 5
"""AWS: condition values per rule (every host, path and header value counts)."""

MAX_CONDITION_WILDCARDS = 5
"""AWS: wildcards (`*` and `?`) per rule."""

ROUTE_HEADER = "X-Paaskit-Route"
"""The header a distribution adds to name the route (`<app>.<service>`) its requests take on
the rack's load balancer: rules match it, never the Host, so a custom domain never touches
the rack's rules. CloudFront overwrites a viewer's own header of that name."""

_BAND_SIZE = MAX_PRIORITY // 3
_ROUTE_VALUE = re.compile(r"^[a-z0-9][a-z0-9.-]{0,127}$")

_ROUTE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_HOST_PATTERN = re.compile(r"^[A-Za-z0-9.*?-]{1,128}$")
_PATH_PATTERN = re.compile(r"^/[A-Za-z0-9_\-.$/~\"'@:+&*?]{0,127}$")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def route_priority(name: str, hosts: Sequence[str] = (), paths: Sequence[str] = ()) -> int:
    """The listener rule priority of a route, from its name and kind alone.

    Host-and-path rules get 1-16666, path-only rules 16667-33332, host-only rules (and
    rules on the route header alone) 33333-49998; within its band a rule's place is a
    hash of its name, so no other route's arrival or departure ever moves it.
    """
    band = 0 if hosts and paths else 1 if paths else 2
    offset = int(hashlib.sha256(name.encode()).hexdigest(), 16) % _BAND_SIZE
    return band * _BAND_SIZE + offset + 1


class RuleBook:
    """The rules a program attaches to one load balancer: priorities and the quota, checked before deploy.

    A `LoadBalancer` keeps one (`lb.rules`); a stack that attaches routes with
    `attach_route` may keep its own. Rules attached from other stacks are not
    seen here: their priorities come from their own names, so they stay apart
    unless two names hash alike (AWS then refuses the second; give it `priority`).
    """

    def __init__(self, limit: int = 100, *, owner: str = "the load balancer") -> None:
        self.limit = limit
        self.owner = owner
        self._priority_of: dict[str, int] = {}
        self._name_at: dict[int, str] = {}
        self._conditions: dict[tuple[tuple[str, ...], tuple[str, ...], str | None], str] = {}

    def __len__(self) -> int:
        return len(self._priority_of)

    @property
    def priorities(self) -> dict[str, int]:
        """Priority by route name."""
        return dict(self._priority_of)

    def book(
        self,
        name: str,
        hosts: Sequence[str],
        paths: Sequence[str],
        priority: int | None = None,
        *,
        route: str | None = None,
    ) -> int:
        """Reserve a priority for a route; an error if it would break a limit or collide."""
        if name in self._priority_of:
            raise ConfigError(f"route {name!r}: a route of that name is already attached")
        if len(self) + 1 > self.limit:
            raise ConfigError(
                f"max_rules: route {name!r} would be listener rule {len(self) + 1} on {self.owner}, "
                f"but the limit is {self.limit} (AWS's quota of rules per Application Load "
                "Balancer, 100 unless raised, default rules excluded); request a quota increase "
                "and raise max_rules, or route several services through one rule"
            )
        key = (tuple(sorted(hosts)), tuple(sorted(paths)), route)
        if key in self._conditions:
            what = f"hosts {list(key[0])} and paths {list(key[1])}"
            if route is not None:
                what += f" and route {route!r}"
            raise ConfigError(
                f"route {name!r}: route {self._conditions[key]!r} already matches exactly {what}"
            )
        chosen = route_priority(name, hosts, paths) if priority is None else priority
        if chosen in self._name_at:
            raise ConfigError(
                f"priority: route {name!r} and route {self._name_at[chosen]!r} both take "
                f"priority {chosen}; give one of them priority={self._free_near(chosen)}"
            )
        self._priority_of[name] = chosen
        self._name_at[chosen] = name
        self._conditions[key] = name
        return chosen

    def _free_near(self, priority: int) -> int:
        candidate = priority
        while candidate in self._name_at:
            candidate = candidate % MAX_PRIORITY + 1
        return candidate


def _check_route(
    name: str,
    hosts: Sequence[Input],
    paths: Sequence[str],
    *,
    with_header: bool,
    priority: int | None,
    route: str | None = None,
) -> tuple[list[Any], list[str]]:
    if not _ROUTE_NAME.match(name):
        raise ConfigError(
            f"route {name!r}: name it with letters, digits, '.', '_' or '-' (at most 128)"
        )
    hosts, paths = list(hosts), list(paths)
    if not hosts and not paths and route is None:
        raise ConfigError(f"route {name!r}: give hosts, paths, a route header value, or several")
    if route is not None and not _ROUTE_VALUE.match(route):
        raise ConfigError(
            f"route {name!r}: route {route!r}: use lowercase letters, digits, '.' and '-' "
            "(at most 128; the load balancer reads '*' and '?' as wildcards)"
        )
    for host in hosts:
        # A host known only at deploy time (an Output from another stack) is checked there.
        if not isinstance(host, str):
            continue
        if not _HOST_PATTERN.match(host) or "." not in host or not host.rsplit(".", 1)[1].isalpha():
            raise ConfigError(
                f"route {name!r}: hosts: {host!r} is not a host pattern (letters, digits, "
                "'-', '.', wildcards '*' and '?', at least one dot, up to 128 characters)"
            )
    for path in paths:
        if not _PATH_PATTERN.match(path):
            raise ConfigError(
                f"route {name!r}: paths: {path!r} is not a path pattern (starts with '/', up to "
                "128 of A-Z a-z 0-9 _ - . $ / ~ \" ' @ : + & and wildcards '*' '?')"
            )
    values = len(hosts) + len(paths) + (1 if with_header else 0) + (1 if route else 0)
    if values > MAX_CONDITION_VALUES:
        header = " plus the origin header" if with_header else ""
        header += " plus the route header" if route else ""
        raise ConfigError(
            f"route {name!r}: {len(hosts)} hosts and {len(paths)} paths{header} make {values} "
            f"condition values; AWS allows {MAX_CONDITION_VALUES} per rule, so split the route"
        )
    wildcards = sum(v.count("*") + v.count("?") for v in (*hosts, *paths) if isinstance(v, str))
    if wildcards > MAX_CONDITION_WILDCARDS:
        raise ConfigError(
            f"route {name!r}: {wildcards} wildcards; AWS allows {MAX_CONDITION_WILDCARDS} per rule"
        )
    if isinstance(priority, int) and not 1 <= priority <= MAX_PRIORITY:
        raise ConfigError(f"route {name!r}: priority {priority} is outside 1-{MAX_PRIORITY}")
    return hosts, paths


def listener_rule_args(
    name: str,
    listener_arn: Input,
    target_group_arn: Input,
    *,
    hosts: Sequence[Input] = (),
    paths: Sequence[str] = (),
    origin_secret: Input | None = None,
    origin_header_name: Input = ORIGIN_HEADER,
    route: str | None = None,
    priority: int | pulumi.Output[int] | None = None,
    rules: RuleBook | None = None,
) -> dict[str, Any]:
    """The keyword arguments of the `aws.lb.ListenerRule` that routes `hosts`, `paths` and/or `route`.

    `route` is a value of the route header (`ROUTE_HEADER`) that a CloudFront
    distribution adds (`shop.web`): a rule on it routes whatever that
    distribution sends, whatever the viewer's host. Every check happens here,
    before anything is registered: names and patterns, AWS's limits on
    condition values and wildcards, and, given `rules`, the priority's
    collisions and the quota of rules. The rule requires the secret origin
    header when `origin_secret` is given. A `priority` known only at deploy
    time (an Output: one the rack's claims registry allocated) is not booked.
    `LoadBalancer.add_route`, `attach_route` and an App's routes all make their
    rules from this.
    """
    fixed = priority if isinstance(priority, int) else None
    hosts, paths = _check_route(
        name, hosts, paths, with_header=origin_secret is not None, priority=fixed, route=route
    )
    chosen: int | pulumi.Output[int]
    if isinstance(priority, pulumi.Output):
        chosen = priority
    elif rules is not None:
        chosen = rules.book(name, hosts, paths, priority, route=route)
    else:
        chosen = route_priority(name, hosts, paths) if priority is None else priority
    conditions: list[dict[str, Any]] = []
    if hosts:
        conditions.append({"host_header": {"values": hosts}})
    if paths:
        conditions.append({"path_pattern": {"values": paths}})
    if route is not None:
        # http-header conditions may repeat in one rule (unlike host and path).
        conditions.append({"http_header": {"http_header_name": ROUTE_HEADER, "values": [route]}})
    if origin_secret is not None:
        conditions.append(
            {
                "http_header": {
                    "http_header_name": origin_header_name,
                    "values": [pulumi.Output.secret(origin_secret)],
                }
            }
        )
    return {
        "listener_arn": listener_arn,
        "priority": chosen,
        "conditions": conditions,
        "actions": [{"type": "forward", "target_group_arn": target_group_arn}],
    }


def attach_route(
    name: str,
    listener_arn: Input,
    target_group_arn: Input,
    *,
    hosts: Sequence[Input] = (),
    paths: Sequence[str] = (),
    origin_secret: Input | None = None,
    origin_header_name: Input = ORIGIN_HEADER,
    route: str | None = None,
    priority: int | None = None,
    rules: RuleBook | None = None,
    tags: dict[str, str] | None = None,
    opts: pulumi.ResourceOptions | None = None,
) -> aws.lb.ListenerRule:
    """Route requests for `hosts` and/or `paths` on a listener to a target group.

    For apps in other stacks, which know the rack only by its outputs (the
    listener ARN and origin secret). The rule is the Pulumi resource `name`;
    its priority is `route_priority(name, hosts, paths)` unless `priority` is
    given. With `origin_secret` (the rack's, when it admits only CloudFront)
    the rule also requires the secret origin header. Pass a `RuleBook` to
    check collisions and the quota across several routes of one program.
    """
    if isinstance(origin_header_name, str):
        # One read from another stack's outputs is checked where it was set: in that rack.
        check_origin_header_name(origin_header_name)
    kwargs = listener_rule_args(
        name,
        listener_arn,
        target_group_arn,
        hosts=hosts,
        paths=paths,
        origin_secret=origin_secret,
        origin_header_name=origin_header_name,
        route=route,
        priority=priority,
        rules=rules,
    )
    return aws.lb.ListenerRule(name, opts=opts, tags=tags, **kwargs)


def app_host(domain: str, app: str, service: str) -> str:
    """The host of an app's service under a rack domain: `<app>-<service>.<domain>`."""
    label = f"{app}-{service}".lower()
    if not _LABEL.match(label):
        raise ConfigError(
            f"host {label!r}: an app and service name must make one DNS label "
            "(letters, digits and '-', at most 63 characters)"
        )
    return f"{label}.{domain}"
