"""Network: a VPC over two or three zones, public and private subnets, a choice of NAT.

`NetworkArgs` (the settings), `Network` (the component) and `subnet_layout`
(each zone's subnets, fixed by its index). What it makes, its settings, costs
and runbook: docs/network.md.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable, Mapping
from typing import ClassVar, Literal

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator, model_validator

from ._aws import assume_role_policy, policy_document
from ._component import Child, Component, each, named, one
from .config import ComponentArgs, RetentionDays
from .instance_types import InstanceTypeError
from .instance_types import architecture as instance_architecture

__all__ = [
    "ENDPOINT_SERVICES",
    "NatMode",
    "Network",
    "NetworkArgs",
    "endpoint_services",
    "subnet_layout",
]

NatMode = Literal["none", "instance", "single", "per_az"]

ENDPOINT_SERVICES: dict[str, tuple[str, ...]] = {
    "ecr": ("ecr.api", "ecr.dkr"),
    "logs": ("logs",),
    "ssm": ("ssm", "ssmmessages", "ec2messages"),
    # ECS Exec's sessions only (`paaskit exec`): the SSM agent ECS runs in a task needs
    # ssmmessages and nothing else of Systems Manager.
    "ssmmessages": ("ssmmessages",),
    "ecs": ("ecs", "ecs-agent", "ecs-telemetry"),
    "secretsmanager": ("secretsmanager",),
    "sts": ("sts",),
}
"""Interface endpoints by the name used in settings, and the AWS services each covers."""

_PRIVATE_RANGES: list[ipaddress.IPv4Network] = [
    ipaddress.IPv4Network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
]
_MAX_ZONES = 4  # what the layout has room for; settings allow 2 or 3 today


def endpoint_services(endpoints: Iterable[str]) -> list[str]:
    """The AWS services the interface endpoints named in settings cover, each once (`ssm`
    covers `ssmmessages` too), by name then service, as they are made."""
    services: list[str] = []
    for name in sorted(set(endpoints)):
        services += [s for s in ENDPOINT_SERVICES[name] if s not in services]
    return services


def subnet_layout(cidr: str, zones: int) -> list[tuple[str, str]]:
    """(public, private) CIDRs for zone indexes 0..zones-1, each fixed by its index."""
    net = ipaddress.IPv4Network(cidr)
    eighths = list(net.subnets(prefixlen_diff=3))
    publics = list(eighths[4].subnets(prefixlen_diff=3))
    return [(str(publics[i]), str(eighths[i])) for i in range(zones)]


class NetworkArgs(ComponentArgs):
    """Settings of a Network. Every field says its default and why."""

    cidr: str = "10.0.0.0/16"
    """The VPC's IPv4 block: a private range from /16 (the largest AWS allows) to
    /22 (the smallest that still gives each public subnet a /28). Default
    10.0.0.0/16, room for thousands of tasks."""

    zones: int = Field(2, ge=2, le=3)
    """How many availability zones to span: 2 or 3. Default 2, the fewest that
    survive the loss of a zone; 3 costs more only with `nat: per_az` or endpoints."""

    availability_zones: list[str] | None = None
    """Pin the zones by name (e.g. `["us-east-1a", "us-east-1b"]`). Default: the
    first `zones` zones the region reports, which a new zone could reorder."""

    nat: NatMode = "single"
    """Egress for the private subnets: `none`, `instance`, `single` or `per_az`
    (see docs/network.md). Default `single`."""

    nat_instance_type: str = "t4g.nano"
    """Instance type of the NAT instance (`nat: instance`). Default t4g.nano, the
    cheapest type with enough bandwidth for a small rack's image pulls."""

    private_subnets: bool = True
    """Make private subnets. Default on: nodes and databases live there, never
    reachable from the internet."""

    endpoints: list[
        Literal["ecr", "logs", "ssm", "ssmmessages", "ecs", "secretsmanager", "sts"]
    ] = Field(default_factory=list)
    """Interface endpoints in the private subnets, for racks that avoid NAT (each
    billed per zone and hour: `paaskit cost` shows it). Default none; the S3
    gateway endpoint is always made, and is free."""

    ipv6: bool = False
    """Give the VPC an Amazon IPv6 block and each subnet a /64, with an
    egress-only gateway for the private ones. Default off."""

    flow_logs: bool = True
    """Record accepted and rejected traffic to CloudWatch Logs. Default on: the
    only record of who talked to what after an incident."""

    flow_logs_retention_days: RetentionDays = 30
    """Days to keep flow logs. Default 30, enough to investigate an incident
    without paying to store months of packets."""

    @field_validator("cidr")
    @classmethod
    def _check_cidr(cls, value: str) -> str:
        try:
            net = ipaddress.ip_network(value, strict=True)
        except ValueError as exc:
            # ipaddress repeats the value; a long one is shown, shortened, by the caller.
            detail = f": {exc}" if len(value) <= 64 else ""
            raise ValueError(
                f"not an IPv4 network in CIDR notation (like 10.0.0.0/16){detail}"
            ) from None
        if not isinstance(net, ipaddress.IPv4Network):
            raise ValueError(
                "the VPC block must be IPv4 (set ipv6: true for an IPv6 block as well)"
            )
        if net.prefixlen < 16:
            raise ValueError(
                f"/{net.prefixlen} is larger than AWS allows for a VPC; use /16 to /22"
            )
        if net.prefixlen > 22:
            raise ValueError(
                f"/{net.prefixlen} is too small for public and private subnets in every zone; use /16 to /22"
            )
        if not any(net.subnet_of(r) for r in _PRIVATE_RANGES):
            raise ValueError(
                "use a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10)"
            )
        return value

    @field_validator("nat_instance_type")
    @classmethod
    def _check_nat_instance_type(cls, value: str) -> str:
        # The catalogue (paaskit/data) knows every Linux, HVM, EBS-backed type AWS sells.
        try:
            instance_architecture(value)
        except InstanceTypeError as exc:
            raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _check_combination(self) -> NetworkArgs:
        if self.availability_zones is not None and len(self.availability_zones) != self.zones:
            raise ValueError(
                f"availability_zones: {len(self.availability_zones)} zones named but zones is {self.zones}; "
                "name as many zones as `zones` says"
            )
        if self.availability_zones is not None and len(set(self.availability_zones)) != len(
            self.availability_zones
        ):
            raise ValueError("availability_zones: a zone is named twice")
        if self.nat != "none" and not self.private_subnets:
            raise ValueError(
                f"nat: {self.nat!r} serves private subnets, but private_subnets is off; set nat to 'none'"
            )
        if self.endpoints and not self.private_subnets:
            raise ValueError(
                "endpoints: interface endpoints live in the private subnets, but private_subnets is off"
            )
        return self


class Network(Component):
    """A VPC with public and private subnets across zones, routes, NAT and endpoints.

    Creates: the VPC (DNS on); per zone a public and a private subnet (no public
    IPs on launch in either: only the load balancer and NAT face the internet,
    through their own addresses); an internet gateway and a public route table;
    a private route table per zone routed through the chosen NAT; the S3
    gateway endpoint; optional interface endpoints with their security group;
    flow logs with their log group and a role that can only write to it; and
    the default security group with no rules.
    """

    TYPE = "paaskit:network:Network"
    CHILDREN: ClassVar[Mapping[str, Child]] = {
        "vpc": one(aws.ec2.Vpc),
        "default_security_group": one(aws.ec2.DefaultSecurityGroup),
        "internet_gateway": one(aws.ec2.InternetGateway),
        "public_subnet": each(aws.ec2.Subnet),
        "private_subnet": each(aws.ec2.Subnet),
        "public_route_table": one(aws.ec2.RouteTable),
        "public_route": each(aws.ec2.Route),
        "public_route_table_association": each(aws.ec2.RouteTableAssociation),
        "egress_only_gateway": one(aws.ec2.EgressOnlyInternetGateway),
        "private_route_table": each(aws.ec2.RouteTable),
        "private_route_table_association": each(aws.ec2.RouteTableAssociation),
        "private_route": each(aws.ec2.Route),
        "nat_eip": each(aws.ec2.Eip),
        "nat_gateway": each(aws.ec2.NatGateway),
        "nat_security_group": one(aws.ec2.SecurityGroup),
        "nat_security_group_ingress": one(aws.vpc.SecurityGroupIngressRule),
        "nat_security_group_egress": one(aws.vpc.SecurityGroupEgressRule),
        "nat_role": one(aws.iam.Role),
        "nat_role_policy": one(aws.iam.RolePolicyAttachment),
        "nat_instance_profile": one(aws.iam.InstanceProfile),
        "nat_instance": one(aws.ec2.Instance),
        "s3_endpoint": one(aws.ec2.VpcEndpoint),
        "endpoint_security_group": one(aws.ec2.SecurityGroup),
        "endpoint_security_group_ingress": one(aws.vpc.SecurityGroupIngressRule),
        "endpoint": named(aws.ec2.VpcEndpoint),
        "flow_log_group": one(aws.cloudwatch.LogGroup),
        "flow_log_role": one(aws.iam.Role),
        "flow_log_role_policy": one(aws.iam.RolePolicy),
        "flow_log": one(aws.ec2.FlowLog),
    }
    """Every child by key (the keys of `nodes` and `transform`); lists are per zone."""

    def __init__(
        self, name: str, args: NetworkArgs | None = None, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = args or NetworkArgs()
        super().__init__(name, args, opts)
        self.args = args
        zones = self._zones(args)
        layout = subnet_layout(args.cidr, args.zones)
        # Zones read from the region's list are fixed once deployed: a later change in
        # the list (a zone added, or no longer offered to new accounts) must never
        # replace a subnet and all that lives in it. Named zones change when you say so.
        self._zones_pinned = args.availability_zones is not None

        self.vpc = self.child(
            "vpc",
            aws.ec2.Vpc,
            "vpc",
            cidr_block=args.cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            assign_generated_ipv6_cidr_block=args.ipv6 or None,
        )
        self.default_security_group = self.child(
            "default_security_group",
            aws.ec2.DefaultSecurityGroup,
            "default-sg",
            vpc_id=self.vpc.id,
            ingress=[],
            egress=[],
        )
        self.internet_gateway = self.child(
            "internet_gateway", aws.ec2.InternetGateway, "igw", vpc_id=self.vpc.id
        )

        self.public_subnets = [
            self._subnet("public", i, zone, cidr)
            for i, (zone, (cidr, _)) in enumerate(zip(zones, layout, strict=True))
        ]
        self.private_subnets = (
            [
                self._subnet("private", i, zone, cidr)
                for i, (zone, (_, cidr)) in enumerate(zip(zones, layout, strict=True))
            ]
            if args.private_subnets
            else []
        )

        self.public_route_table = self._public_routes()
        self.nat_gateways: list[aws.ec2.NatGateway] = []
        self.nat_instance: aws.ec2.Instance | None = None
        self.private_route_tables = self._private_routes()
        self.s3_endpoint = self.child(
            "s3_endpoint",
            aws.ec2.VpcEndpoint,
            "s3-endpoint",
            vpc_id=self.vpc.id,
            service_name=self._service("s3"),
            vpc_endpoint_type="Gateway",
            route_table_ids=[
                self.public_route_table.id,
                *(t.id for t in self.private_route_tables),
            ],
        )
        self.endpoints = self._interface_endpoints()
        self.flow_log = self._flow_logs() if args.flow_logs else None

        self.vpc_id: pulumi.Output[str] = self.vpc.id
        self.cidr_block = args.cidr
        # The subnets' own zones: what is deployed, not what the region lists today.
        self.availability_zones: pulumi.Output[list[str]] = pulumi.Output.all(
            *(s.availability_zone for s in self.public_subnets)
        )
        self.public_subnet_ids: pulumi.Output[list[str]] = pulumi.Output.all(
            *(s.id for s in self.public_subnets)
        )
        self.private_subnet_ids: pulumi.Output[list[str]] = pulumi.Output.all(
            *(s.id for s in self.private_subnets)
        )
        egress: list[pulumi.CustomResource] = [self.s3_endpoint, *self.endpoints]
        self.routed_private_subnet_ids: list[pulumi.Output[str]] = [
            pulumi.Output.all(subnet.id, *(r.id for r in [*routes, *egress])).apply(
                lambda v: str(v[0])
            )
            for subnet, routes in zip(self.private_subnets, self._private_zone_routes, strict=True)
        ]
        """The private subnets' ids, each known only once its zone's routes (and the VPC's
        endpoints) exist: what to place instances in that must reach AWS when they boot,
        as ECS nodes must to register. Resources given these depend on the routes."""
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "cidr_block": self.cidr_block,
                "availability_zones": self.availability_zones,
                "public_subnet_ids": self.public_subnet_ids,
                "private_subnet_ids": self.private_subnet_ids,
            }
        )

    # --- children, in the order they are made ----------------------------------

    def _zones(self, args: NetworkArgs) -> list[pulumi.Input[str]]:
        if args.availability_zones is not None:
            return list(args.availability_zones)
        found = aws.get_availability_zones_output(
            state="available",
            filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        return [found.names.apply(functools.partial(_zone_at, index=i)) for i in range(args.zones)]

    def _service(self, suffix: str) -> pulumi.Output[str]:
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        return region.apply(lambda r: f"com.amazonaws.{r}.{suffix}")

    def _subnet(self, tier: str, index: int, zone: pulumi.Input[str], cidr: str) -> aws.ec2.Subnet:
        ipv6 = self.args.ipv6
        # IPv6 /64s are numbered like the IPv4 subnets: public from 0, private from 8.
        ipv6_index = index if tier == "public" else index + 8
        return self.child(
            f"{tier}_subnet",
            aws.ec2.Subnet,
            f"{tier}-{index}",
            vpc_id=self.vpc.id,
            availability_zone=zone,
            cidr_block=cidr,
            map_public_ip_on_launch=False,
            opts=None
            if self._zones_pinned
            else pulumi.ResourceOptions(ignore_changes=["availabilityZone"]),
            ipv6_cidr_block=self.vpc.ipv6_cidr_block.apply(
                lambda block: _ipv6_subnet(block, ipv6_index)
            )
            if ipv6
            else None,
            assign_ipv6_address_on_creation=True if ipv6 else None,
            tags={"paaskit:tier": tier},
        )

    def _public_routes(self) -> aws.ec2.RouteTable:
        table = self.child(
            "public_route_table", aws.ec2.RouteTable, "public-rt", vpc_id=self.vpc.id
        )
        self.child(
            "public_route",
            aws.ec2.Route,
            "public-default",
            route_table_id=table.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=self.internet_gateway.id,
        )
        if self.args.ipv6:
            self.child(
                "public_route",
                aws.ec2.Route,
                "public-default-ipv6",
                route_table_id=table.id,
                destination_ipv6_cidr_block="::/0",
                gateway_id=self.internet_gateway.id,
            )
        for i, subnet in enumerate(self.public_subnets):
            self.child(
                "public_route_table_association",
                aws.ec2.RouteTableAssociation,
                f"public-{i}-rt",
                route_table_id=table.id,
                subnet_id=subnet.id,
            )
        return table

    def _private_routes(self) -> list[aws.ec2.RouteTable]:
        # One table per zone whatever the NAT mode, so that changing the mode
        # changes routes only, never tables or their associations.
        nat = self.args.nat
        targets = self._nat_targets()
        eigw = (
            self.child(
                "egress_only_gateway", aws.ec2.EgressOnlyInternetGateway, "eigw", vpc_id=self.vpc.id
            )
            if self.args.ipv6 and self.private_subnets
            else None
        )
        tables = []
        self._private_zone_routes: list[list[pulumi.CustomResource]] = []
        for i, subnet in enumerate(self.private_subnets):
            table = self.child(
                "private_route_table", aws.ec2.RouteTable, f"private-{i}-rt", vpc_id=self.vpc.id
            )
            routes: list[pulumi.CustomResource] = []
            self._private_zone_routes.append(routes)
            association = self.child(
                "private_route_table_association",
                aws.ec2.RouteTableAssociation,
                f"private-{i}-rta",
                route_table_id=table.id,
                subnet_id=subnet.id,
            )
            routes.append(association)
            if nat in ("single", "per_az"):
                gateway = targets[i if nat == "per_az" else 0]
                route = self.child(
                    "private_route",
                    aws.ec2.Route,
                    f"private-{i}-default",
                    route_table_id=table.id,
                    destination_cidr_block="0.0.0.0/0",
                    nat_gateway_id=gateway,
                )
                routes.append(route)
            elif nat == "instance":
                route = self.child(
                    "private_route",
                    aws.ec2.Route,
                    f"private-{i}-default",
                    route_table_id=table.id,
                    destination_cidr_block="0.0.0.0/0",
                    network_interface_id=targets[0],
                )
                routes.append(route)
            if eigw is not None:
                route = self.child(
                    "private_route",
                    aws.ec2.Route,
                    f"private-{i}-default-ipv6",
                    route_table_id=table.id,
                    destination_ipv6_cidr_block="::/0",
                    egress_only_gateway_id=eigw.id,
                )
                routes.append(route)
            tables.append(table)
        return tables

    def _nat_targets(self) -> list[pulumi.Output[str]]:
        """What the private default routes point at: NAT gateway ids, or the NAT instance's interface."""
        nat = self.args.nat
        if nat in ("single", "per_az"):
            count = len(self.public_subnets) if nat == "per_az" else 1
            for i in range(count):
                eip = self.child("nat_eip", aws.ec2.Eip, f"nat-{i}-eip", domain="vpc")
                self.nat_gateways.append(
                    self.child(
                        "nat_gateway",
                        aws.ec2.NatGateway,
                        f"nat-{i}",
                        allocation_id=eip.id,
                        subnet_id=self.public_subnets[i].id,
                        connectivity_type="public",
                        opts=pulumi.ResourceOptions(depends_on=[self.internet_gateway]),
                    )
                )
            return [g.id for g in self.nat_gateways]
        if nat == "instance":
            instance = self._nat_instance()
            return [instance.primary_network_interface_id]
        return []

    def _nat_instance(self) -> aws.ec2.Instance:
        sg = self.child(
            "nat_security_group",
            aws.ec2.SecurityGroup,
            "nat-sg",
            vpc_id=self.vpc.id,
            description="NAT instance: forwards traffic from the private subnets to the internet",
        )
        self.child(
            "nat_security_group_ingress",
            aws.vpc.SecurityGroupIngressRule,
            "nat-sg-from-vpc",
            security_group_id=sg.id,
            cidr_ipv4=self.args.cidr,
            ip_protocol="-1",
            description="everything from inside the VPC, to be forwarded",
        )
        self.child(
            "nat_security_group_egress",
            aws.vpc.SecurityGroupEgressRule,
            "nat-sg-to-internet",
            security_group_id=sg.id,
            cidr_ipv4="0.0.0.0/0",
            ip_protocol="-1",
            description="forwarded traffic to the internet",
        )
        role = self.child(
            "nat_role",
            aws.iam.Role,
            "nat-role",
            assume_role_policy=assume_role_policy("ec2.amazonaws.com"),
            description="NAT instance: Session Manager access only",
        )
        self.child(
            "nat_role_policy",
            aws.iam.RolePolicyAttachment,
            "nat-role-ssm",
            role=role.name,
            policy_arn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
        )
        profile = self.child(
            "nat_instance_profile", aws.iam.InstanceProfile, "nat-profile", role=role.name
        )
        arch = instance_architecture(self.args.nat_instance_type)
        ami = aws.ssm.get_parameter_output(
            name=f"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}",
            opts=pulumi.InvokeOutputOptions(parent=self),
        ).value
        instance = self.child(
            "nat_instance",
            aws.ec2.Instance,
            "nat-instance",
            ami=ami,
            instance_type=self.args.nat_instance_type,
            subnet_id=self.public_subnets[0].id,
            vpc_security_group_ids=[sg.id],
            source_dest_check=False,
            iam_instance_profile=profile.name,
            metadata_options={
                "http_tokens": "required",
                "http_put_response_hop_limit": 1,
                "http_endpoint": "enabled",
            },
            root_block_device={"encrypted": True, "volume_type": "gp3", "volume_size": 8},
            user_data=_NAT_USER_DATA,
            user_data_replace_on_change=True,
            monitoring=False,
            # A newer AMI must not replace the NAT (and cut egress) on an unrelated
            # `pulumi up`; the instance patches itself (dnf-automatic in user data).
            opts=pulumi.ResourceOptions(ignore_changes=["ami"]),
        )
        self.child(
            "nat_eip",
            aws.ec2.Eip,
            "nat-instance-eip",
            domain="vpc",
            instance=instance.id,
            # An address associates with an instance only once the VPC has its internet gateway.
            opts=pulumi.ResourceOptions(depends_on=[self.internet_gateway]),
        )
        self.nat_instance = instance
        return instance

    def _interface_endpoints(self) -> list[aws.ec2.VpcEndpoint]:
        if not self.args.endpoints:
            return []
        sg = self.child(
            "endpoint_security_group",
            aws.ec2.SecurityGroup,
            "endpoints-sg",
            vpc_id=self.vpc.id,
            description="Interface endpoints: HTTPS from inside the VPC",
        )
        self.child(
            "endpoint_security_group_ingress",
            aws.vpc.SecurityGroupIngressRule,
            "endpoints-sg-https",
            security_group_id=sg.id,
            cidr_ipv4=self.args.cidr,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            description="HTTPS to AWS APIs from inside the VPC",
        )
        made = []
        for service in endpoint_services(self.args.endpoints):
            made.append(
                self.child(
                    "endpoint",
                    aws.ec2.VpcEndpoint,
                    f"{service.replace('.', '-')}-endpoint",
                    at=service,
                    vpc_id=self.vpc.id,
                    service_name=self._service(service),
                    vpc_endpoint_type="Interface",
                    private_dns_enabled=True,
                    subnet_ids=[s.id for s in self.private_subnets],
                    security_group_ids=[sg.id],
                )
            )
        return made

    def _flow_logs(self) -> aws.ec2.FlowLog:
        group = self.child(
            "flow_log_group",
            aws.cloudwatch.LogGroup,
            "flow-logs",
            retention_in_days=self.args.flow_logs_retention_days,
        )
        caller = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        role = self.child(
            "flow_log_role",
            aws.iam.Role,
            "flow-logs-role",
            assume_role_policy=caller.account_id.apply(
                lambda account: assume_role_policy(
                    "vpc-flow-logs.amazonaws.com", source_account=account
                )
            ),
            description="VPC flow logs: write to this network's flow log group only",
        )
        policy = self.child(
            "flow_log_role_policy",
            aws.iam.RolePolicy,
            "flow-logs-write",
            role=role.id,
            policy=group.arn.apply(
                lambda arn: policy_document(
                    [
                        {
                            "Effect": "Allow",
                            "Action": [
                                "logs:CreateLogStream",
                                "logs:PutLogEvents",
                                "logs:DescribeLogGroups",
                                "logs:DescribeLogStreams",
                            ],
                            "Resource": [arn, f"{arn}:*"],
                        }
                    ]
                )
            ),
        )
        return self.child(
            "flow_log",
            aws.ec2.FlowLog,
            "flow-log",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=600,
            # Flow logs deliver through the role from the start: its policy must be there.
            opts=pulumi.ResourceOptions(depends_on=[policy]),
        )


def _zone_at(names: list[str], index: int) -> str:
    if index >= len(names):
        raise ValueError(
            f"zones: the region has only {len(names)} usable zones ({', '.join(names)})"
        )
    return names[index]


def _ipv6_subnet(block: str | None, index: int) -> str:
    """The index-th /64 of the VPC's Amazon-provided /56."""
    if not block:
        raise ValueError("ipv6: the VPC has no IPv6 block yet")
    net = ipaddress.IPv6Network(block)
    return str(ipaddress.IPv6Network((int(net.network_address) + (index << 64), 64)))


_NAT_USER_DATA = """#!/bin/bash
# NAT instance: forward and masquerade traffic from the private subnets.
# Forwarding comes first: it needs no network. The packages come from the internet,
# which this instance reaches only once its Elastic IP is associated, after launch,
# so every step that needs the network is retried until it succeeds.
set -uo pipefail
log() { echo "paaskit-nat: $*"; }
retry() {
  attempt=1
  until "$@"; do
    if [ "$attempt" -ge 40 ]; then
      log "giving up: $*"
      return 1
    fi
    wait=$((attempt < 6 ? attempt * 5 : 30))
    log "retrying in $wait s: $*"
    sleep "$wait"
    attempt=$((attempt + 1))
  done
}
cat > /etc/sysctl.d/90-paaskit-nat.conf <<'EOF'
net.ipv4.ip_forward = 1
EOF
sysctl -w net.ipv4.ip_forward=1
iface=""
default_interface() {
  iface=$(ip route show default | awk '{print $5; exit}')
  [ -n "$iface" ]
}
retry default_interface || exit 1
masquerade() {
  iptables -t nat -C POSTROUTING -o "$iface" -j MASQUERADE 2>/dev/null \\
    || iptables -t nat -A POSTROUTING -o "$iface" -j MASQUERADE
}
# Masquerade at once where the image has iptables; Amazon Linux 2023 gets it below.
if command -v iptables >/dev/null 2>&1; then
  masquerade || log "masquerading waits for iptables-services"
fi
retry dnf install -y iptables-services dnf-automatic || exit 1
masquerade || exit 1
iptables -F FORWARD
service iptables save
systemctl enable --now iptables
# Security updates install themselves: the instance is never replaced for a new AMI.
sed -i 's/^apply_updates = .*/apply_updates = yes/' /etc/dnf/automatic.conf
systemctl enable --now dnf-automatic.timer
log "forwarding and masquerading on $iface"
"""
