"""Node rules: instance metadata, public IPs, encrypted volumes, user data; autoscaling groups."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from paaskit.plan import PlanIndex, ResourceRecord
from paaskit.plan import types as t
from paaskit.plan.queries import subnet_zones
from paaskit.plan.values import dig, flag, items, known, number, strings, user_data_text
from paaskit.policy.model import RuleSet

__all__ = [
    "asg_instance_types",
    "asg_launch_template",
    "asg_zones",
    "encrypted_volumes",
    "hop_limit",
    "imdsv2",
    "no_public_ip",
    "rules",
    "secrets_in",
    "user_data_secrets",
]

rules = RuleSet()

_SECRETS = (
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "an AWS access key id"),
    (re.compile(r"(?i)aws_secret_access_key\s*[=:]"), "an AWS secret access key"),
    (
        re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----"),
        "a private key",
    ),
    (
        re.compile(
            r"(?i)\b[\w-]*(?:password|passwd|secret|api[_-]?key|token)\b\s*[=:]\s*['\"]?(?![$'\"{])[^\s'\"]{8,}"
        ),
        "a password or token",
    ),
)


def secrets_in(text: str) -> list[str]:
    """What looks like a secret in `text`, by line ("line 3: an AWS access key id"); never the value."""
    found = []
    for number_, line in enumerate(text.splitlines(), start=1):
        for pattern, what in _SECRETS:
            if pattern.search(line):
                found.append(f"line {number_}: {what}")
                break
    return found


def _metadata(r: ResourceRecord) -> Mapping[str, Any] | None:
    options = r.inputs.get("metadataOptions")
    return options if isinstance(options, Mapping) else None


@rules.rule(
    "PK-EC2-001",
    "Nodes require IMDSv2",
    severity="error",
    sources=["EC2.8", "EC2.170", "CKV_AWS_79"],
    types=[t.LAUNCH_TEMPLATE, t.INSTANCE],
)
def imdsv2(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """IMDSv1 hands the node's role credentials to anything that can make the node
    send a GET (server-side request forgery). Set `metadata_options.http_tokens` to
    `required`."""
    options = _metadata(r)
    if options is not None and options.get("httpEndpoint") == "disabled":
        return
    tokens = options.get("httpTokens") if options is not None else None
    if not known(tokens):
        if tokens is None:
            yield "metadataOptions.httpTokens is not set: the AMI decides whether IMDSv1 answers; set it to required"
        return
    if tokens != "required":
        yield f"metadataOptions.httpTokens is {tokens!r}: IMDSv1 answers; set it to required"


@rules.rule(
    "PK-EC2-002",
    "Instance metadata is one hop away: containers cannot reach it",
    severity="error",
    sources=["CKV_AWS_341"],
    types=[t.LAUNCH_TEMPLATE, t.INSTANCE],
)
def hop_limit(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """With a hop limit above 1, containers on the node's bridge network can read the
    node's role credentials from the metadata service. Tasks get their own role;
    set `metadata_options.http_put_response_hop_limit` to 1."""
    options = _metadata(r)
    if options is not None and options.get("httpEndpoint") == "disabled":
        return
    limit = number(options.get("httpPutResponseHopLimit")) if options is not None else None
    if limit is None:
        yield (
            "metadataOptions.httpPutResponseHopLimit is not set: the AMI decides "
            "(Amazon Linux 2023 says 2, which containers reach); set it to 1"
        )
    elif limit > 1:
        yield f"metadataOptions.httpPutResponseHopLimit is {int(limit)}: containers reach the node's credentials; set it to 1"


@rules.rule(
    "PK-EC2-003",
    "Nodes get no public IP",
    severity="error",
    sources=["EC2.9", "EC2.25", "CKV_AWS_88"],
    types=[t.LAUNCH_TEMPLATE, t.INSTANCE],
)
def no_public_ip(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Nodes live in private subnets and reach the internet through NAT; a public
    address makes every open port on them reachable. A NAT instance (source/dest
    check off) is the one instance that needs one, through its Elastic IP."""
    if r.type == t.INSTANCE:
        if (
            flag(r.inputs.get("associatePublicIpAddress"))
            and flag(r.inputs.get("sourceDestCheck")) is not False
        ):
            yield "associatePublicIpAddress is true: the instance is reachable from the internet"
        return
    for i, nic in enumerate(items(r.inputs.get("networkInterfaces"))):
        if flag(dig(nic, "associatePublicIpAddress")):
            yield f"networkInterfaces[{i}].associatePublicIpAddress is true: every node gets a public IPv4 address"


@rules.rule(
    "PK-EC2-004",
    "Node volumes are encrypted",
    severity="error",
    sources=["EC2.3", "CKV_AWS_8"],
    types=[t.LAUNCH_TEMPLATE, t.INSTANCE],
)
def encrypted_volumes(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Root volumes hold images, container logs and whatever the apps write to disk.
    Encryption costs nothing; without it a volume is encrypted only if the account
    turned on EBS encryption by default."""
    if r.type == t.INSTANCE:
        root = r.inputs.get("rootBlockDevice")
        if not isinstance(root, Mapping) or flag(root.get("encrypted")) is not True:
            yield "rootBlockDevice.encrypted is not true: the root volume is encrypted only if the account encrypts by default"
        for i, device in enumerate(items(r.inputs.get("ebsBlockDevices"))):
            if flag(dig(device, "encrypted")) is not True:
                yield f"ebsBlockDevices[{i}].encrypted is not true"
        return
    mappings = [m for m in items(r.inputs.get("blockDeviceMappings")) if isinstance(m, Mapping)]
    volumes = [m for m in mappings if isinstance(m.get("ebs"), Mapping)]
    if not volumes:
        yield (
            "no blockDeviceMappings: the AMI's root volume is encrypted only if the account "
            "encrypts by default; map it with ebs.encrypted = true"
        )
    for m in volumes:
        if flag(dig(m, "ebs", "encrypted")) is not True:
            yield f"{m.get('deviceName', 'a volume')}: ebs.encrypted is not true"


@rules.rule(
    "PK-EC2-005",
    "No secrets in user data",
    severity="error",
    sources=["CKV_AWS_46"],
    types=[t.LAUNCH_TEMPLATE, t.INSTANCE],
)
def user_data_secrets(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """User data is readable by anyone who can describe the instance or template, and by
    every process on the node through the metadata service. Pass secrets through
    Secrets Manager or SSM parameters the node's role may read."""
    if r.type == t.LAUNCH_TEMPLATE:
        text = user_data_text(r.inputs.get("userData"), encoded=True)
    else:
        text = user_data_text(r.inputs.get("userData"), encoded=False) or user_data_text(
            r.inputs.get("userDataBase64"), encoded=True
        )
    for where in secrets_in(text or ""):
        yield f"user data {where}; move it to Secrets Manager or SSM"


def _zones_of(r: ResourceRecord, index: PlanIndex) -> tuple[int, bool]:
    """How many zones a group spans, and whether that is known from its subnets' zones."""
    zones = subnet_zones(r, index)
    if zones is not None:
        return len(zones), True
    identifiers = r.inputs.get("vpcZoneIdentifiers")
    if isinstance(identifiers, list):
        return len(identifiers), False
    return len(strings(r.inputs.get("availabilityZones"))), False


@rules.rule(
    "PK-ASG-001",
    "Autoscaling groups span several zones",
    severity="warning",
    sources=["AutoScaling.2", "REL10-BP01"],
    types=[t.ASG],
    scope="stack",
)
def asg_zones(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """A group in one zone goes down with it; spot capacity is also per zone."""
    if not known(r.inputs.get("vpcZoneIdentifiers")) and "vpcZoneIdentifiers" in r.inputs:
        return
    count, from_subnets = _zones_of(r, index)
    if count < 2:
        what = "zone" if from_subnets else "subnet or zone"
        yield f"the group launches into {count} {what}(s); give it subnets in at least two zones"


@rules.rule(
    "PK-ASG-002",
    "Autoscaling groups use launch templates",
    severity="warning",
    sources=["AutoScaling.9", "CKV_AWS_315"],
    types=[t.ASG],
)
def asg_launch_template(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Launch configurations are deprecated: no IMDSv2 settings, no mixed instance
    types, no new instance families."""
    if r.inputs.get("launchConfiguration"):
        yield "uses a launch configuration; use a launch template"
    elif not r.inputs.get("launchTemplate") and not dig(
        r.inputs, "mixedInstancesPolicy", "launchTemplate"
    ):
        yield "names no launch template"


@rules.rule(
    "PK-ASG-003",
    "Autoscaling groups may use several instance types",
    severity="warning",
    sources=["AutoScaling.6"],
    types=[t.ASG],
)
def asg_instance_types(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Spot capacity comes in pools, one per instance type and zone; a group that can
    use several types survives one pool running dry (AWS advises ten or more)."""
    policy = r.inputs.get("mixedInstancesPolicy")
    overrides = dig(policy, "launchTemplate", "overrides")
    if not known(overrides):
        return
    listed = items(overrides)
    if any(isinstance(o, Mapping) and o.get("instanceRequirements") for o in listed):
        return
    if len(listed) < 2:
        yield f"the group may use {len(listed) or 1} instance type; list several interchangeable types (mixedInstancesPolicy overrides)"
