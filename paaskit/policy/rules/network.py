"""Network rules: the default security group, what the world may reach, flow logs, subnets."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from paaskit.plan import PlanIndex, ResourceRecord
from paaskit.plan import types as t
from paaskit.plan.queries import ingress_rules, rule_world_sources
from paaskit.plan.values import flag, items, known, number
from paaskit.policy.model import RuleSet

__all__ = [
    "PUBLIC_PORTS",
    "default_security_group_adopted",
    "default_security_group_empty",
    "described",
    "flow_logs",
    "rules",
    "subnet_public_ips",
    "world_ingress",
]

rules = RuleSet()

PUBLIC_PORTS = (80, 443)
_ALL = ("-1", "all")
_NAMES = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}


def _protocol(value: Any) -> str:
    text = str(value).lower() if value is not None else "-1"
    return "all" if text in _ALL else _NAMES.get(text, text)


def _ports(rule: Mapping[str, Any]) -> str:
    low, high = number(rule.get("fromPort")), number(rule.get("toPort"))
    if low is None and high is None:
        return "all ports"
    if low == high or high is None:
        return f"port {int(low or 0)}"
    return f"ports {int(low or 0)}-{int(high)}"


def _public_only(protocol: str, rule: Mapping[str, Any]) -> bool:
    """Only tcp or udp to exactly 80 or 443."""
    if protocol not in ("tcp", "udp"):
        return False
    low, high = number(rule.get("fromPort")), number(rule.get("toPort"))
    return low is not None and low == high and int(low) in PUBLIC_PORTS


@rules.rule(
    "PK-NET-001",
    "The default security group has no rules",
    severity="error",
    sources=["EC2.2", "CKV2_AWS_12"],
    types=[t.DEFAULT_SECURITY_GROUP],
)
def default_security_group_empty(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Anything launched without a security group lands in the VPC's default one, so it
    must admit and send nothing. Adopt it with `aws.ec2.DefaultSecurityGroup` and
    `ingress=[]`, `egress=[]`."""
    for direction in ("ingress", "egress"):
        found = items(r.inputs.get(direction))
        if found:
            yield f"the default security group has {len(found)} {direction} rule(s); give it none"


@rules.rule(
    "PK-NET-002",
    "Every VPC's default security group is adopted and emptied",
    severity="warning",
    sources=["EC2.2", "CKV2_AWS_12"],
    types=[t.VPC],
    scope="stack",
)
def default_security_group_adopted(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """A new VPC's default security group lets its members talk to each other and send
    anywhere. Manage it with an `aws.ec2.DefaultSecurityGroup` that has no rules."""
    if not index.dependents(r, t.DEFAULT_SECURITY_GROUP):
        yield (
            "the VPC's default security group keeps AWS's rules (members talk to each other, "
            "all egress); adopt it with aws.ec2.DefaultSecurityGroup and no rules"
        )


@rules.rule(
    "PK-NET-003",
    "Only ports 80 and 443 are open to the world",
    severity="error",
    sources=["EC2.18", "EC2.19", "EC2.13", "EC2.14", "CKV_AWS_24", "CKV_AWS_25", "CKV_AWS_277"],
    types=[t.SG_INGRESS, t.SG_RULE, t.SECURITY_GROUP],
)
def world_ingress(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Nothing but a viewer-facing load balancer's HTTP and HTTPS listeners faces the
    internet (a rack's load balancer is internal: only CloudFront reaches it). SSH and
    databases are reached through Session Manager and private networking, never a
    world-open port."""
    for rule in ingress_rules(r):
        sources = rule_world_sources(r, rule)
        if not sources:
            continue
        protocol = _protocol(rule.get("ipProtocol", rule.get("protocol")))
        if _public_only(protocol, rule):
            continue
        what = "all traffic" if protocol == "all" else f"{protocol} {_ports(rule)}"
        yield f"admits {what} from {' and '.join(sources)}; only tcp 80 and 443 may be open to the world"


@rules.rule(
    "PK-NET-004",
    "Security groups and their rules say what they are for",
    severity="info",
    sources=["CKV_AWS_23"],
    types=[t.SECURITY_GROUP, t.SG_INGRESS, t.SG_EGRESS, t.SG_RULE],
)
def described(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """A reviewer reading a rule months later needs to know why it is there.
    pulumi-aws describes an undescribed group as "Managed by Pulumi", which says nothing."""
    description = r.inputs.get("description")
    if not known(description) or description in ("", "Managed by Pulumi"):
        yield "no description: say who uses it and why"


@rules.rule(
    "PK-NET-005",
    "VPC flow logs are on",
    severity="warning",
    sources=["EC2.6", "CKV2_AWS_11"],
    types=[t.VPC],
    scope="stack",
)
def flow_logs(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Flow logs are the only record of who talked to what after an incident."""
    logs = [f for f in index.dependents(r, t.FLOW_LOG) if known(f.inputs.get("vpcId"))]
    if not logs:
        yield "no flow log records this VPC's traffic (NetworkArgs.flow_logs)"


@rules.rule(
    "PK-NET-006",
    "Subnets do not give instances public IPs",
    severity="warning",
    sources=["EC2.15", "CKV_AWS_130"],
    types=[t.SUBNET],
)
def subnet_public_ips(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Only NAT (and a load balancer viewers reach directly) face the internet, through
    their own addresses; an instance launched into a subnet that maps public IPs is
    reachable by accident."""
    if flag(r.inputs.get("mapPublicIpOnLaunch")):
        yield "mapPublicIpOnLaunch is true: every instance launched here gets a public IPv4 address"
