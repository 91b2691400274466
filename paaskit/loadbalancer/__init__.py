"""LoadBalancer: the rack's Application Load Balancer, its certificates and the apps' routes.

`LoadBalancerSettings` and `LoadBalancerArgs` (`_settings.py`), the
`LoadBalancer` component (`_loadbalancer.py`), routes and their priorities
(`_routes.py`: `RuleBook`, `listener_rule_args`, `attach_route`, `app_host`)
and the access-log bucket's policy (`_policies.py`). What it makes, its
settings, costs and runbook: docs/loadbalancer.md.
"""

from __future__ import annotations

from ._loadbalancer import LoadBalancer
from ._policies import access_log_policy
from ._routes import (
    MAX_CONDITION_VALUES,
    MAX_CONDITION_WILDCARDS,
    MAX_PRIORITY,
    ORIGIN_HEADER,
    ROUTE_HEADER,
    RuleBook,
    app_host,
    attach_route,
    listener_rule_args,
    route_priority,
)
from ._settings import (
    CLOUDFRONT_PREFIX_LIST,
    NODE_PORTS,
    TLS_POLICY,
    LoadBalancerArgs,
    LoadBalancerSettings,
)

__all__ = [
    "CLOUDFRONT_PREFIX_LIST",
    "MAX_CONDITION_VALUES",
    "MAX_CONDITION_WILDCARDS",
    "MAX_PRIORITY",
    "NODE_PORTS",
    "ORIGIN_HEADER",
    "ROUTE_HEADER",
    "TLS_POLICY",
    "LoadBalancer",
    "LoadBalancerArgs",
    "LoadBalancerSettings",
    "RuleBook",
    "access_log_policy",
    "app_host",
    "attach_route",
    "listener_rule_args",
    "route_priority",
]
