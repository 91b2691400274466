"""How the reference rack's Pulumi config keys map onto `RackArgs`.

One line per key: the key as it appears in `Pulumi.yaml` and the stack files
(`paaskit-rack:<key>`), and the field of `RackArgs` it sets. Defaults are the
components' own; `Pulumi.yaml` documents them and a test keeps the two equal.
Fork this file to expose more settings (or fewer) without touching the library.
"""

from __future__ import annotations

import pulumi

from paaskit import RackArgs
from paaskit.config import load_settings

CONFIG_KEYS: dict[str, str] = {
    # network
    "vpcCidr": "network.cidr",
    "zones": "network.zones",
    "availabilityZones": "network.availability_zones",
    "natMode": "network.nat",
    "natInstanceType": "network.nat_instance_type",
    "endpoints": "network.endpoints",
    "ipv6": "network.ipv6",
    "flowLogs": "network.flow_logs",
    "flowLogsRetentionDays": "network.flow_logs_retention_days",
    # every resource
    "tags": "tags",
}


def load(namespace: str | None = None) -> RackArgs:
    """The rack's settings from this stack's config; errors name the config key."""
    return load_settings(RackArgs, namespace or pulumi.get_project(), keys=CONFIG_KEYS)
