"""Questions about a plan that more than one reader asks: what the world may reach, which zones.

The policy rules, the cost estimate and the diagram all need to know whether
a load balancer faces viewers or which zones a group's subnets are in; the
answers are worked out once here, from records and their dependencies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import types as t
from .index import PlanIndex
from .model import ResourceRecord
from .values import flag, items, known, strings

__all__ = [
    "WORLD",
    "ingress_rules",
    "rule_world_sources",
    "subnet_zones",
    "viewer_facing",
    "world_sources",
]

WORLD = ("0.0.0.0/0", "::/0")
"""The blocks that mean "anyone on the internet"."""


def rule_world_sources(record: ResourceRecord, rule: Mapping[str, Any]) -> list[str]:
    """The world-wide blocks one ingress rule (of `ingress_rules(record)`) admits."""
    if record.type == t.SG_INGRESS:
        return [c for c in (rule.get("cidrIpv4"), rule.get("cidrIpv6")) if c in WORLD]
    return [
        c
        for c in strings(rule.get("cidrBlocks")) + strings(rule.get("ipv6CidrBlocks"))
        if c in WORLD
    ]


def ingress_rules(record: ResourceRecord) -> list[Mapping[str, Any]]:
    """The ingress rules of a security group (inline) or of a rule resource, as mappings."""
    if record.type == t.SG_INGRESS:
        return [record.inputs]
    if record.type == t.SG_RULE:
        return [record.inputs] if record.inputs.get("type") == "ingress" else []
    return [r for r in items(record.inputs.get("ingress")) if isinstance(r, Mapping)]


def world_sources(record: ResourceRecord) -> list[str]:
    """The world-wide blocks (0.0.0.0/0, ::/0) any ingress rule of a security-group
    resource (a group with inline rules, or a rule resource) admits."""
    return [c for rule in ingress_rules(record) for c in rule_world_sources(record, rule)]


def subnet_zones(r: ResourceRecord, index: PlanIndex) -> list[str] | None:
    """The zones of the subnets a resource is placed in, when the plan knows them all."""
    subnets = index.dependencies(r, t.SUBNET)
    zones = [s.inputs.get("availabilityZone") for s in subnets]
    if not subnets or not all(isinstance(z, str) and known(z) for z in zones):
        return None
    return sorted({str(z) for z in zones})


def viewer_facing(lb: ResourceRecord, index: PlanIndex) -> bool:
    """Whether viewers reach the load balancer directly: not internal, and a security
    group of its own admits the world (not only CloudFront's prefix list).

    Without its security groups in the plan, assume they do.
    """
    if flag(lb.inputs.get("internal")) is True:
        return False
    groups = index.dependencies(lb, t.SECURITY_GROUP)
    if not groups:
        return True
    return any(
        world_sources(holder)
        for group in groups
        for holder in [
            group,
            *index.attached(group, t.SG_INGRESS, "securityGroupId"),
            *index.attached(group, t.SG_RULE, "securityGroupId"),
        ]
    )
