"""Rack: the platform apps run on, composed from paaskit's components.

A rack is what Convox calls a rack and Heroku a private space: one network,
one cluster of nodes, one load balancer and CDN in front, optionally a shared
database. It is made once per environment by a platform team; apps are then
deployed onto it, from the same stack or from their own.
"""

from __future__ import annotations

from typing import ClassVar

import pulumi
from pydantic import Field

from ._component import Component
from .config import ComponentArgs
from .network import Network, NetworkArgs


class RackArgs(ComponentArgs):
    """Settings of a Rack: one section per component."""

    network: NetworkArgs = Field(default_factory=lambda: NetworkArgs())
    """The VPC, subnets and NAT. Default: 10.0.0.0/16 over two zones with one NAT gateway."""


class Rack(Component):
    """A self-contained platform: network (and, as paaskit grows, cluster, edge, database).

    Creates: a `Network`.
    """

    TYPE = "paaskit:rack:Rack"
    CHILD_KINDS: ClassVar[frozenset[str]] = frozenset({"network"})

    def __init__(
        self, name: str, args: RackArgs | None = None, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = args or RackArgs()
        super().__init__(name, args, opts)
        self.args = args
        # Every resource of the rack carries its name, whichever component made it.
        shared_tags = {**args.tags, "paaskit:rack": name}
        network_args = args.network.model_copy(
            update={"tags": {**shared_tags, **args.network.tags}}
        )
        self.network = self.child("network", Network, "network", args=network_args)
        self.outputs: dict[str, pulumi.Input[object]] = {
            "vpcId": self.network.vpc_id,
            "vpcCidr": self.network.cidr_block,
            "availabilityZones": self.network.availability_zones,
            "publicSubnetIds": self.network.public_subnet_ids,
            "privateSubnetIds": self.network.private_subnet_ids,
        }
        """Everything an app needs from the rack, by the names `RackRef` reads."""
        self.register_outputs(self.outputs)
