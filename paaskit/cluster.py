"""SpotCluster: an ECS cluster on an Auto Scaling group that runs mostly on spot.

`SpotClusterSettings` (what a user sets), `SpotClusterArgs` (plus the VPC and
subnets a rack wires in) and `SpotCluster`, which also deploys the spot
handler (`paaskit.spot`, the Lambda that drains nodes and falls back to
on-demand). What it makes, its settings, costs and runbook: docs/cluster.md;
the handler's run-time: docs/spot.md.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Final, Literal, Self

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator, model_validator

from . import instance_types as catalogue
from ._aws import ECS_DYNAMIC_PORTS, assume_role_policy, lambda_code, policy_document
from ._component import Child, Component, each, named, one
from .config import ComponentArgs, ConfigError, Input, RetentionDays, derive
from .instance_types import Architecture
from .naming import aws_name
from .spot import wiring

__all__ = [
    "AMI_PARAMETERS",
    "CREATE_ECS_SERVICE_LINKED_ROLE",
    "DEFAULT_INSTANCE_TYPE",
    "DYNAMIC_PORTS",
    "ECS_CONFIG",
    "ECS_SERVICE_LINKED_ROLE",
    "MAX_OVERRIDES",
    "NODE_POLICIES",
    "SpotCluster",
    "SpotClusterArgs",
    "SpotClusterSettings",
    "require_ecs_service_linked_role",
]

DYNAMIC_PORTS: Final = ECS_DYNAMIC_PORTS
"""The host ports ECS gives bridge-mode containers: what the load balancer, and
tasks on other nodes, must be allowed to reach (see `ECS_DYNAMIC_PORTS`)."""

DEFAULT_INSTANCE_TYPE: Final = "t3.medium"

AMI_PARAMETERS: Final[Mapping[Architecture, str]] = {
    "x86_64": "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id",
    "arm64": "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id",
}
"""AWS's public SSM parameters holding the latest ECS-optimised Amazon Linux 2023 AMI."""

NODE_POLICIES: Final = (
    # The ECS agent: register, poll for tasks, pull from ECR, write container logs.
    "service-role/AmazonEC2ContainerServiceforEC2Role",
    # Session Manager: shell access without SSH keys or open ports.
    "AmazonSSMManagedInstanceCore",
)
"""The AWS-managed policies of the node role, and nothing else."""

ECS_CONFIG: Final[Mapping[str, str]] = {
    # Drain the node as soon as its spot interruption notice appears in its metadata.
    "ECS_ENABLE_SPOT_INSTANCE_DRAINING": "true",
    # Tasks get credentials from their task role (the node's are out of reach, see IMDS).
    "ECS_ENABLE_TASK_IAM_ROLE": "true",
    # Default for containers that set no stopTimeout: the load balancer's deregistration
    # and this must fit in the two minutes a spot interruption gives.
    "ECS_CONTAINER_STOP_TIMEOUT": "30s",
    # Stopped tasks and unused images leave the disk sooner than the agent's defaults
    # (3 h, 1 h), so frequent deploys do not fill a 30 GiB root volume.
    "ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION": "1h",
    "ECS_IMAGE_CLEANUP_INTERVAL": "10m",
    "ECS_IMAGE_MINIMUM_CLEANUP_AGE": "30m",
    "ECS_NUM_IMAGES_DELETE_PER_CYCLE": "10",
    # Memory kept for the OS and the agent, so a greedy task cannot starve them.
    "ECS_RESERVED_MEMORY": "256",
    "ECS_ENABLE_CONTAINER_METADATA": "true",
}
"""The agent settings (`/etc/ecs/ecs.config`) every node gets besides `ECS_CLUSTER`."""

MAX_OVERRIDES: Final = 40
"""The most instance types an Auto Scaling group accepts."""

_CANDIDATES = MAX_OVERRIDES  # types asked about in the region before choosing
_RESERVED_CAPACITY_PROVIDER_PREFIXES = ("aws", "ecs", "fargate")
_SPOT_DIR = Path(__file__).parent / "spot"
_LAMBDA_RUNTIME = "python3.13"
_HEALTH_CHECK_GRACE_SECONDS = 180  # boot, ECS agent start and registration take 1-2 minutes
_EVENT_MAX_AGE_SECONDS = 900  # older events describe a state long gone: to the DLQ
_DLQ_RETENTION_SECONDS = 14 * 24 * 3600  # SQS's longest: time to notice and read them


class SpotClusterSettings(ComponentArgs):
    """What a user sets on a SpotCluster; `SpotClusterArgs` adds what a rack wires in.

    Every field says its default and why. A rack's `cluster` section is one
    of these: its VPC and subnets come from the rack.
    """

    instance_type: str = DEFAULT_INSTANCE_TYPE
    """The type to run, e.g. `m6i.large`; the component adds equivalent types (never
    smaller, same architecture). Default `t3.medium`, the cheapest x86_64 node that
    holds a few small apps (see docs/cluster.md). Give this, or `vcpus` with
    `memory_mib`, or `instance_types`: one of the three."""

    vcpus: int | None = Field(None, ge=1, le=192)
    """Instead of a type: the fewest vCPUs a node must have (with `memory_mib`); the
    component chooses types of at least this size. Default: unset."""

    memory_mib: int | None = Field(None, ge=512)
    """Instead of a type: the least memory (MiB) a node must have (with `vcpus`).
    Default: unset."""

    architecture: Architecture = "x86_64"
    """CPU architecture of the types chosen for `vcpus`/`memory_mib`: `x86_64` or
    `arm64` (Graviton, ~20% cheaper, needs arm64 images). Default x86_64, what most
    images are built for. With `instance_type` or `instance_types` it follows the types."""

    instance_types: list[str] | None = None
    """Instead of a type or a size: the exact types to use, all of one architecture,
    the first preferred for on-demand capacity. Used as given. Default: unset."""

    max_instance_types: int = Field(10, ge=1, le=MAX_OVERRIDES)
    """How many types to choose for `instance_type` or a size, the requested one
    included. Default 10: AWS advises being flexible across at least 10 types for
    spot; the group accepts at most 40."""

    min_size: int = Field(2, ge=0)
    """Fewest nodes. Default 2: the on-demand base and one spot node, in two zones,
    so a spot interruption or a zone outage leaves one running."""

    max_size: int = Field(10, ge=1, le=1000)
    """Most nodes; ECS managed scaling adds nodes up to this as tasks need room.
    Default 10, a ceiling on what a runaway deploy can cost."""

    on_demand_base: int = Field(1, ge=0)
    """Nodes that are always on-demand, whatever spot does. Default 1: the rack keeps
    a node through a spot shortage. 0 runs everything on spot."""

    on_demand_percentage: int = Field(0, ge=0, le=100)
    """Share of the nodes above the base that is on-demand, in percent. Default 0:
    all spot, where the savings are. With the spot handler on, the handler owns the
    group's live value: it raises it while spot capacity is short, and otherwise
    keeps it at this setting (a change reaches the group within a minute)."""

    root_volume_gib: int = Field(30, ge=30, le=16384)
    """Size of each node's encrypted gp3 root volume, which also holds images and
    container logs. Default 30 GiB, the size of the ECS AMI's snapshot (the least
    allowed), billed per GiB-month."""

    ami_id: str | None = Field(None, pattern=r"^ami-[0-9a-f]{8,17}$")
    """Pin the node image. Default: the latest ECS-optimised Amazon Linux 2023 AMI
    from AWS's public SSM parameter, read at each `pulumi up`: a new AMI rolls out
    to the nodes by instance refresh, which is how nodes get patched."""

    target_capacity: int = Field(100, ge=1, le=100)
    """ECS managed scaling's target: the percentage of the nodes that tasks should
    fill. Default 100: no idle spare node (cheapest); lower it to keep headroom for
    fast scale-out."""

    container_insights: bool = True
    """Cluster and task CPU, memory and network metrics in CloudWatch. Default on:
    the only view of what tasks use; billed as CloudWatch metrics and logs (see
    `paaskit cost`)."""

    ecs_config: dict[str, str] = Field(default_factory=dict)
    """Extra ECS agent settings for `/etc/ecs/ecs.config` (e.g.
    `{"ECS_AVAILABLE_LOGGING_DRIVERS": '["json-file","awslogs","fluentd"]'}`),
    added to or replacing paaskit's (`ECS_CONFIG`). Not for secrets: user data is
    readable by anyone who may describe the launch template. Default: none."""

    spot_handler: bool = True
    """Deploy the spot handler (drain on interruption warnings, on-demand fallback
    while spot is short, back to spot after). Default on; costs nothing noticeable."""

    log_retention_days: RetentionDays = 30
    """Days to keep the spot handler's logs. Default 30, enough to see what it did
    during the last incident."""

    @field_validator("instance_type")
    @classmethod
    def _check_instance_type(cls, value: str) -> str:
        try:
            catalogue.equivalent_instance_types(value, limit=1)
        except catalogue.InstanceTypeError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("instance_types")
    @classmethod
    def _check_instance_types(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return value
        if len(value) > MAX_OVERRIDES:
            raise ValueError(
                f"{len(value)} types listed; an Auto Scaling group takes at most {MAX_OVERRIDES}"
            )
        try:
            catalogue.validate_instance_types(value)
        except catalogue.InstanceTypeError as exc:
            raise ValueError(str(exc)) from None
        no_spot = [name for name in value if not catalogue.instance_type(name).spot]
        if no_spot:
            raise ValueError(f"{', '.join(no_spot)}: not sold as spot; leave it out")
        return value

    @field_validator("ecs_config")
    @classmethod
    def _check_ecs_config(cls, value: dict[str, str]) -> dict[str, str]:
        for key, setting in value.items():
            if not re.fullmatch(r"ECS_[A-Z0-9_]+", key):
                raise ValueError(f"{key!r}: ECS agent settings are named ECS_UPPER_CASE")
            if key == "ECS_CLUSTER":
                raise ValueError("ECS_CLUSTER: set by the component, to this cluster")
            if "\n" in setting or "\r" in setting:
                raise ValueError(f"{key}: a value must fit on one line")
        return value

    @model_validator(mode="after")
    def _check_combination(self) -> Self:
        given = self.model_fields_set
        ways = [
            way
            for way, fields in (
                ("instance_type", {"instance_type"}),
                ("vcpus/memory_mib", {"vcpus", "memory_mib"}),
                ("instance_types", {"instance_types"}),
            )
            if fields & given
        ]
        if len(ways) > 1:
            raise ValueError(
                f"{ways[0].split('/')[0]}: give one of instance_type, vcpus with memory_mib, "
                f"or instance_types; got {' and '.join(ways)}"
            )
        if (self.vcpus is None) != (self.memory_mib is None):
            missing = "memory_mib" if self.memory_mib is None else "vcpus"
            raise ValueError(f"{missing}: a size needs both vcpus and memory_mib")
        if "architecture" in given and self.vcpus is None:
            raise ValueError(
                "architecture: only chooses among sizes (vcpus, memory_mib); "
                "with an instance type the architecture is the type's"
            )
        if self.vcpus is not None and self.memory_mib is not None:
            try:
                catalogue.instance_types_for_size(
                    self.vcpus, self.memory_mib, architecture=self.architecture, limit=1
                )
            except catalogue.InstanceTypeError as exc:
                raise ValueError(f"vcpus: {exc}") from None
        if self.min_size > self.max_size:
            raise ValueError(f"min_size: {self.min_size} is larger than max_size ({self.max_size})")
        if self.on_demand_base > self.max_size:
            raise ValueError(
                f"on_demand_base: {self.on_demand_base} is larger than max_size "
                f"({self.max_size}); the group could never have that many on-demand nodes"
            )
        return self

    # --- the instance choice, resolved ---------------------------------------------

    @property
    def chosen_architecture(self) -> Architecture:
        """The CPU architecture of every node."""
        if self.instance_types is not None:
            return catalogue.architecture(self.instance_types[0])
        if self.vcpus is not None:
            return self.architecture
        return catalogue.architecture(self.instance_type)

    def choose_instance_types(
        self, *, limit: int | None = None, available: Collection[str] | None = None
    ) -> list[str]:
        """The group's instance types, preferred first; `available` restricts the
        choice to what a region offers (a listed `instance_types` is used as given)."""
        if self.instance_types is not None:
            return list(self.instance_types)
        count = self.max_instance_types if limit is None else limit
        if self.vcpus is not None and self.memory_mib is not None:
            return catalogue.instance_types_for_size(
                self.vcpus,
                self.memory_mib,
                architecture=self.architecture,
                limit=count,
                available=available,
            )
        return catalogue.equivalent_instance_types(
            self.instance_type, limit=count, available=available
        )


class SpotClusterArgs(SpotClusterSettings):
    """Everything a SpotCluster is made from: the `SpotClusterSettings` and its wiring.

    The wiring is its network, both required; a Rack passes its own
    (`SpotClusterArgs.from_settings`).
    """

    vpc_id: Input
    """The VPC of the nodes (`Network.vpc_id`). Required."""

    subnet_ids: list[Input]
    """The private subnets the nodes run in, one per zone (`Network.private_subnets`'
    ids). Required, at least one; two or more so that losing a zone leaves nodes up."""

    @field_validator("subnet_ids")
    @classmethod
    def _check_subnets(cls, value: list[Input]) -> list[Input]:
        if not value:
            raise ValueError(
                "no subnets given; pass the private subnets of the network (one per zone)"
            )
        return value

    @classmethod
    def from_settings(
        cls, settings: SpotClusterSettings, *, vpc_id: Input, subnet_ids: Sequence[Input]
    ) -> SpotClusterArgs:
        """The Args of `settings` in a rack's network: its VPC and private subnets."""
        return derive(cls, settings, vpc_id=vpc_id, subnet_ids=list(subnet_ids))


ECS_SERVICE_LINKED_ROLE = "AWSServiceRoleForECS"
"""The role ECS acts through for capacity providers and services: one per account."""

CREATE_ECS_SERVICE_LINKED_ROLE = (
    "aws iam create-service-linked-role --aws-service-name ecs.amazonaws.com"
)
"""The one-time step a brand-new account needs before its first rack."""

_NOT_FOUND = re.compile(r"NoSuchEntity|cannot be found|couldn't find|not found", re.IGNORECASE)


def require_ecs_service_linked_role(parent: pulumi.Resource) -> None:
    """Stop before anything is deployed when the account lacks ECS's service-linked role.

    ECS creates the role itself only when the first cluster is made by someone
    allowed to (and eventually: the capacity provider may come first and fail), and
    `aws.iam.ServiceLinkedRole` fails in every account that already has it. So paaskit
    looks it up (`iam:GetRole`, during preview too) and, when it is missing, says
    what to run once per account. A lookup that fails otherwise (no `iam:GetRole`
    permission) is reported as a warning and the deploy goes on.
    """
    try:
        aws.iam.get_role(name=ECS_SERVICE_LINKED_ROLE, opts=pulumi.InvokeOptions(parent=parent))
    except Exception as exc:  # the provider's error, whatever its class
        text = str(exc)
        if _NOT_FOUND.search(text):
            raise ConfigError(
                f"this AWS account has no ECS service-linked role ({ECS_SERVICE_LINKED_ROLE}), "
                "which the cluster's capacity provider and every ECS service need. Create it "
                f"once per account: `{CREATE_ECS_SERVICE_LINKED_ROLE}`, then run again "
                "(paaskit does not make it: it exists in every account that used ECS, and "
                "making it again fails)"
            ) from None
        pulumi.log.warn(
            f"could not check for ECS's service-linked role {ECS_SERVICE_LINKED_ROLE} "
            f"({text.strip()[:300]}); if the account has never used ECS, run "
            f"`{CREATE_ECS_SERVICE_LINKED_ROLE}` once",
            resource=parent,
        )


class SpotCluster(Component):
    """An ECS cluster on a spot Auto Scaling group of equivalent instance types.

    Creates: the ECS cluster; the node security group (dynamic ports from the
    cluster itself, all egress) and its rules; the node role (ECS agent and
    Session Manager only) and instance profile; the launch template; the Auto
    Scaling group (mixed instances: on-demand base, spot above it,
    price-capacity-optimized, capacity rebalancing, instance refresh); the ECS
    capacity provider (managed scaling, termination protection and draining)
    and the cluster's default capacity provider strategy; and, with
    `spot_handler`, the Lambda function, its role, log group, dead-letter
    queue, EventBridge rules and targets.
    """

    TYPE = "paaskit:cluster:SpotCluster"
    CHILDREN: ClassVar[Mapping[str, Child]] = {
        "cluster": one(aws.ecs.Cluster),
        "node_security_group": one(aws.ec2.SecurityGroup),
        "node_security_group_ingress": one(aws.vpc.SecurityGroupIngressRule),
        "node_security_group_egress": each(aws.vpc.SecurityGroupEgressRule),
        "node_role": one(aws.iam.Role),
        "node_role_policy": each(aws.iam.RolePolicyAttachment),
        "node_instance_profile": one(aws.iam.InstanceProfile),
        "launch_template": one(aws.ec2.LaunchTemplate),
        "asg": one(aws.autoscaling.Group),
        "capacity_provider": one(aws.ecs.CapacityProvider),
        "cluster_capacity_providers": one(aws.ecs.ClusterCapacityProviders),
        "spot_handler_log_group": one(aws.cloudwatch.LogGroup),
        "spot_dead_letter_queue": one(aws.sqs.Queue),
        "spot_events_dead_letter_queue": one(aws.sqs.Queue),
        "spot_event_queue": one(aws.sqs.Queue),
        "spot_handler_role": one(aws.iam.Role),
        "spot_handler_role_policy": one(aws.iam.RolePolicy),
        "spot_handler": one(aws.lambda_.Function),
        "spot_handler_invoke_config": one(aws.lambda_.FunctionEventInvokeConfig),
        "spot_event_source": one(aws.lambda_.EventSourceMapping),
        "spot_event_rule": named(aws.cloudwatch.EventRule),
        "spot_handler_permission": named(aws.lambda_.Permission),
        "spot_event_target": named(aws.cloudwatch.EventTarget),
        "spot_event_queue_policy": one(aws.sqs.QueuePolicy),
        "spot_dead_letter_queue_policy": one(aws.sqs.QueuePolicy),
    }
    """Every child by key (the keys of `nodes` and `transform`); the spot handler's
    rules, permissions and targets by the event they handle."""

    def __init__(
        self, name: str, args: SpotClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if args.spot_handler and not (_SPOT_DIR / "handler.py").is_file():
            raise RuntimeError(
                f"spot_handler: the handler code is missing from {_SPOT_DIR}; reinstall paaskit"
            )
        super().__init__(name, args, opts)
        require_ecs_service_linked_role(self)
        self.args = args
        self.architecture: Architecture = args.chosen_architecture
        """The CPU architecture of every node: build images for it."""
        self.docker_platform: Literal["linux/amd64", "linux/arm64"] = (
            "linux/arm64" if self.architecture == "arm64" else "linux/amd64"
        )
        """The Docker platform of images that run here (`docker build --platform`)."""
        self.dynamic_ports = DYNAMIC_PORTS
        self.instance_types: pulumi.Output[list[str]] = self._instance_types()

        self.cluster = self._cluster()
        self.node_security_group = self._node_security_group()
        self.node_role, self.instance_profile = self._node_role()
        self.launch_template = self._launch_template()
        self.asg = self._asg()
        self.capacity_provider = self._capacity_provider()
        self.cluster_capacity_providers = self.child(
            "cluster_capacity_providers",
            aws.ecs.ClusterCapacityProviders,
            "capacity-providers",
            cluster_name=self.cluster.name,
            capacity_providers=[self.capacity_provider.name],
            default_capacity_provider_strategies=[
                {"capacity_provider": self.capacity_provider.name, "weight": 1, "base": 0}
            ],
        )

        self.spot_handler: aws.lambda_.Function | None = None
        self.spot_handler_role: aws.iam.Role | None = None
        self.spot_dead_letter_queue: aws.sqs.Queue | None = None
        self.spot_event_rules: dict[str, aws.cloudwatch.EventRule] = {}
        if args.spot_handler:
            self._spot_handler()

        self.cluster_name: pulumi.Output[str] = self.cluster.name
        self.cluster_arn: pulumi.Output[str] = self.cluster.arn
        self.capacity_provider_name: pulumi.Output[str] = self.capacity_provider.name
        self.node_security_group_id: pulumi.Output[str] = self.node_security_group.id
        self.asg_name: pulumi.Output[str] = self.asg.name
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "cluster_arn": self.cluster_arn,
                "capacity_provider_name": self.capacity_provider_name,
                "node_security_group_id": self.node_security_group_id,
                "node_role_arn": self.node_role.arn,
                "asg_name": self.asg_name,
                "architecture": self.architecture,
                "docker_platform": self.docker_platform,
                "instance_types": self.instance_types,
            }
        )

    # --- children, in the order they are made ----------------------------------

    def _instance_types(self) -> pulumi.Output[list[str]]:
        """The types of the group: listed ones as given, else chosen among those the region offers."""
        args = self.args
        if args.instance_types is not None:
            return pulumi.Output.from_input(list(args.instance_types))
        # Overrides must name types the region offers: ask about the candidates
        # (checked at construction, without regions), then choose among the offered.
        candidates = args.choose_instance_types(limit=_CANDIDATES)
        offered = aws.ec2.get_instance_type_offerings_output(
            location_type="region",
            filters=[{"name": "instance-type", "values": candidates}],
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        return offered.instance_types.apply(
            lambda names: args.choose_instance_types(available=set(names))
        )

    def _cluster(self) -> aws.ecs.Cluster:
        return self.child(
            "cluster",
            aws.ecs.Cluster,
            "cluster",
            settings=[
                {
                    "name": "containerInsights",
                    "value": "enabled" if self.args.container_insights else "disabled",
                }
            ],
        )

    def _node_security_group(self) -> aws.ec2.SecurityGroup:
        sg = self.child(
            "node_security_group",
            aws.ec2.SecurityGroup,
            "node-sg",
            vpc_id=self.args.vpc_id,
            description="ECS nodes: dynamic host ports from the cluster and its load balancer only",
        )
        low, high = DYNAMIC_PORTS
        self.child(
            "node_security_group_ingress",
            aws.vpc.SecurityGroupIngressRule,
            "node-sg-from-cluster",
            security_group_id=sg.id,
            referenced_security_group_id=sg.id,
            ip_protocol="tcp",
            from_port=low,
            to_port=high,
            description="tasks on other nodes of this cluster, on their dynamic host ports",
        )
        self.child(
            "node_security_group_egress",
            aws.vpc.SecurityGroupEgressRule,
            "node-sg-egress",
            security_group_id=sg.id,
            cidr_ipv4="0.0.0.0/0",
            ip_protocol="-1",
            description="ECS, ECR, logs, Session Manager, and what the apps call",
        )
        self.child(
            "node_security_group_egress",
            aws.vpc.SecurityGroupEgressRule,
            "node-sg-egress-ipv6",
            security_group_id=sg.id,
            cidr_ipv6="::/0",
            ip_protocol="-1",
            description="the same over IPv6, where the network has it",
        )
        return sg

    def _node_role(self) -> tuple[aws.iam.Role, aws.iam.InstanceProfile]:
        role = self.child(
            "node_role",
            aws.iam.Role,
            "node-role",
            assume_role_policy=assume_role_policy("ec2.amazonaws.com"),
            description="ECS nodes: the ECS agent and Session Manager, nothing else",
        )
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self))
        for policy in NODE_POLICIES:
            self.child(
                "node_role_policy",
                aws.iam.RolePolicyAttachment,
                f"node-role-{policy.rsplit('/', 1)[-1]}",
                role=role.name,
                policy_arn=partition.partition.apply(
                    functools.partial(_managed_policy_arn, policy=policy)
                ),
            )
        profile = self.child(
            "node_instance_profile", aws.iam.InstanceProfile, "node-profile", role=role.name
        )
        return role, profile

    def _user_data(self, cluster_name: str) -> str:
        settings = {"ECS_CLUSTER": cluster_name, **ECS_CONFIG, **self.args.ecs_config}
        lines = "\n".join(f"{key}={value}" for key, value in settings.items())
        script = (
            "#!/bin/bash\n"
            "# Written by paaskit: join the ECS cluster. No secrets here: user data is not secret.\n"
            "cat <<'EOF' >> /etc/ecs/ecs.config\n"
            f"{lines}\n"
            "EOF\n"
        )
        return base64.b64encode(script.encode()).decode()

    def _launch_template(self) -> aws.ec2.LaunchTemplate:
        args = self.args
        image: pulumi.Input[str]
        if args.ami_id is not None:
            image = args.ami_id
        else:
            image = aws.ssm.get_parameter_output(
                name=AMI_PARAMETERS[self.architecture],
                opts=pulumi.InvokeOutputOptions(parent=self),
            ).value
        return self.child(
            "launch_template",
            aws.ec2.LaunchTemplate,
            "launch-template",
            description="ECS node: ECS-optimised Amazon Linux 2023, IMDSv2 only, no public IP",
            image_id=image,
            update_default_version=True,
            iam_instance_profile={"arn": self.instance_profile.arn},
            user_data=self.cluster.name.apply(self._user_data),
            metadata_options={
                "http_endpoint": "enabled",
                "http_tokens": "required",
                # Containers on the bridge network are a hop further: they cannot
                # reach the node's credentials.
                "http_put_response_hop_limit": 1,
                "instance_metadata_tags": "disabled",
            },
            network_interfaces=[
                {
                    "device_index": 0,
                    "associate_public_ip_address": "false",
                    "delete_on_termination": "true",
                    "security_groups": [self.node_security_group.id],
                }
            ],
            block_device_mappings=[
                {
                    "device_name": "/dev/xvda",
                    "ebs": {
                        "volume_size": args.root_volume_gib,
                        "volume_type": "gp3",
                        "encrypted": "true",
                        "delete_on_termination": "true",
                    },
                }
            ],
            # Detailed (1-minute) EC2 monitoring costs per instance; ECS managed
            # scaling reads its own metric, so the free 5-minute one is enough.
            monitoring={"enabled": False},
            tag_specifications=[
                {
                    "resource_type": "volume",
                    "tags": {**self.tags, "Name": f"{self.component_name}-node"},
                },
            ],
        )

    def _asg(self) -> aws.autoscaling.Group:
        args = self.args
        tags = {
            **self.tags,
            "Name": f"{self.component_name}-node",
            # ECS managed scaling requires the tag; declaring it keeps Pulumi from removing it.
            "AmazonECSManaged": "true",
        }
        ignored = ["desiredCapacity"]
        if args.spot_handler:
            # The spot handler raises the on-demand share while spot is short, and
            # sets it back (to the value in its own environment, which Pulumi keeps
            # equal to `on_demand_percentage`).
            ignored.append(
                "mixedInstancesPolicy.instancesDistribution.onDemandPercentageAboveBaseCapacity"
            )
        return self.child(
            "asg",
            aws.autoscaling.Group,
            "asg",
            vpc_zone_identifiers=list(args.subnet_ids),
            min_size=args.min_size,
            max_size=args.max_size,
            capacity_rebalance=True,
            mixed_instances_policy={
                "instances_distribution": {
                    "on_demand_allocation_strategy": "prioritized",
                    "on_demand_base_capacity": args.on_demand_base,
                    "on_demand_percentage_above_base_capacity": args.on_demand_percentage,
                    "spot_allocation_strategy": "price-capacity-optimized",
                },
                "launch_template": {
                    "launch_template_specification": {
                        "launch_template_id": self.launch_template.id,
                        # The version number, not $Latest: a new version starts an instance refresh.
                        "version": self.launch_template.latest_version.apply(str),
                    },
                    "overrides": self.instance_types.apply(
                        lambda types: [{"instance_type": t} for t in types]
                    ),
                },
            },
            # Managed termination protection needs it: ECS lifts it from empty nodes.
            protect_from_scale_in=True,
            health_check_type="EC2",
            health_check_grace_period=_HEALTH_CHECK_GRACE_SECONDS,
            default_instance_warmup=_HEALTH_CHECK_GRACE_SECONDS,
            instance_refresh={
                "strategy": "Rolling",
                "preferences": {
                    # Launch before terminating: capacity never drops during a refresh.
                    "min_healthy_percentage": 100,
                    "max_healthy_percentage": 200,
                    "skip_matching": True,
                    # Nodes running tasks are protected from scale-in; replace them too
                    # (ECS managed draining moves their tasks first).
                    "scale_in_protected_instances": "Refresh",
                },
            },
            # The same launch-before-terminate for health and rebalancing replacements.
            instance_maintenance_policy={
                "min_healthy_percentage": 100,
                "max_healthy_percentage": 200,
            },
            # Group metrics at 1-minute granularity are free and show what the scalers did.
            enabled_metrics=[
                "GroupDesiredCapacity",
                "GroupInServiceInstances",
                "GroupPendingInstances",
                "GroupTerminatingInstances",
                "GroupTotalInstances",
            ],
            metrics_granularity="1Minute",
            # Protected nodes would block `pulumi destroy` forever; they are stateless.
            force_delete=True,
            # The capacity provider and the spot handler own capacity: a deploy does
            # not wait on the spot market.
            wait_for_capacity_timeout="0",
            tags=[
                {"key": key, "value": value, "propagate_at_launch": True}
                for key, value in sorted(tags.items())
            ],
            opts=pulumi.ResourceOptions(ignore_changes=ignored),
        )

    def _capacity_provider(self) -> aws.ecs.CapacityProvider:
        name: str | None = None
        if self.component_name.lower().startswith(_RESERVED_CAPACITY_PROVIDER_PREFIXES):
            # ECS refuses capacity provider names starting with aws, ecs or fargate,
            # which Pulumi's generated name would (it starts with the component's).
            name = aws_name("ecs_capacity_provider", "cp", self.component_name)
        return self.child(
            "capacity_provider",
            aws.ecs.CapacityProvider,
            "capacity",
            name=name,
            auto_scaling_group_provider={
                "auto_scaling_group_arn": self.asg.arn,
                "managed_termination_protection": "ENABLED",
                "managed_draining": "ENABLED",
                "managed_scaling": {
                    "status": "ENABLED",
                    "target_capacity": self.args.target_capacity,
                    "minimum_scaling_step_size": 1,
                    "maximum_scaling_step_size": 10,
                    "instance_warmup_period": _HEALTH_CHECK_GRACE_SECONDS,
                },
            },
            opts=pulumi.ResourceOptions(delete_before_replace=name is not None),
        )

    # --- the spot handler ------------------------------------------------------------

    def _spot_handler(self) -> None:
        args = self.args
        invoke = pulumi.InvokeOutputOptions(parent=self)
        caller = aws.get_caller_identity_output(opts=invoke)
        region = aws.get_region_output(opts=invoke).region
        partition = aws.get_partition_output(opts=invoke).partition

        log_group = self.child(
            "spot_handler_log_group",
            aws.cloudwatch.LogGroup,
            "spot-logs",
            # Under /aws/lambda/ like every function's log group; the function writes
            # here (logging_config) and never makes a group without retention.
            name_prefix=f"/aws/lambda/{aws_name('lambda', self.component_name)}-spot-",
            retention_in_days=args.log_retention_days,
        )
        # Failed asynchronous invocations (drains) and events EventBridge could not
        # deliver; EventBridge takes only standard queues as dead-letter queues.
        queue = self.child(
            "spot_dead_letter_queue",
            aws.sqs.Queue,
            "spot-dlq",
            sqs_managed_sse_enabled=True,
            message_retention_seconds=_DLQ_RETENTION_SECONDS,
        )
        # Launch failures and the schedule go through a FIFO queue, one message group
        # per group: SQS hands a group to one consumer at a time, so two reconciles of
        # the group never run at once, without reserved concurrency. EventBridge needs
        # content-based deduplication on a FIFO target (it sets no deduplication id);
        # it also drops EventBridge's duplicate deliveries within five minutes.
        events_dlq = self.child(
            "spot_events_dead_letter_queue",
            aws.sqs.Queue,
            "spot-events-dlq",
            fifo_queue=True,  # a FIFO queue's dead-letter queue must be FIFO too
            sqs_managed_sse_enabled=True,
            message_retention_seconds=_DLQ_RETENTION_SECONDS,
        )
        events = self.child(
            "spot_event_queue",
            aws.sqs.Queue,
            "spot-events",
            fifo_queue=True,
            content_based_deduplication=True,
            sqs_managed_sse_enabled=True,
            visibility_timeout_seconds=wiring.QUEUE_VISIBILITY_TIMEOUT_SECONDS,
            message_retention_seconds=wiring.QUEUE_RETENTION_SECONDS,
            redrive_policy=events_dlq.arn.apply(
                lambda arn: json.dumps(
                    {"deadLetterTargetArn": arn, "maxReceiveCount": wiring.QUEUE_MAX_RECEIVES}
                )
            ),
        )
        role = self.child(
            "spot_handler_role",
            aws.iam.Role,
            "spot-role",
            assume_role_policy=caller.account_id.apply(
                lambda account: assume_role_policy("lambda.amazonaws.com", source_account=account)
            ),
            description="paaskit spot handler: drain and rebalance one ECS cluster's group",
        )
        policy = pulumi.Output.all(
            partition, region, caller.account_id, self.cluster.name, self.asg.name,
            log_group.arn, queue.arn, events.arn, self.launch_template.arn, self.node_role.arn,
        ).apply(lambda v: json.dumps(_spot_policy(*v)))  # fmt: skip
        role_policy = self.child(
            "spot_handler_role_policy",
            aws.iam.RolePolicy,
            "spot-role-policy",
            role=role.id,
            policy=policy,
        )
        function = self.child(
            "spot_handler",
            aws.lambda_.Function,
            "spot-handler",
            description="paaskit spot handler: drain on interruption, on-demand fallback, back to spot",
            runtime=_LAMBDA_RUNTIME,
            architectures=["arm64"],
            handler=wiring.HANDLER,
            code=lambda_code(_SPOT_DIR),
            role=role.arn,
            timeout=wiring.TIMEOUT_SECONDS,
            memory_size=wiring.MEMORY_MB,
            # No reserved concurrency: the queue serialises the reconciles (above), and
            # drains are safe beside them; an account must keep 10 unreserved, so new
            # accounts with a quota of 10 could not reserve any.
            environment={
                "variables": pulumi.Output.all(self.cluster.name, self.asg.name).apply(
                    lambda v: wiring.environment(
                        cluster=v[0],
                        group=v[1],
                        on_demand_base=args.on_demand_base,
                        on_demand_percentage=args.on_demand_percentage,
                    )
                )
            },
            logging_config={"log_format": "Text", "log_group": log_group.name},
            # The role's policy must exist before the first invocation can use it.
            opts=pulumi.ResourceOptions(depends_on=[role_policy]),
        )
        # EventBridge invokes asynchronously: Lambda retries a failed invocation twice,
        # then sends the event to the dead-letter queue, as it does with events too old.
        self.child(
            "spot_handler_invoke_config",
            aws.lambda_.FunctionEventInvokeConfig,
            "spot-handler-async",
            function_name=function.name,
            maximum_retry_attempts=2,
            maximum_event_age_in_seconds=_EVENT_MAX_AGE_SECONDS,
            destination_config={"on_failure": {"destination": queue.arn}},
        )
        # Lambda polls the queue with the function's role (hence depends_on), and
        # redelivers only the messages a batch reports as failed.
        self.child(
            "spot_event_source",
            aws.lambda_.EventSourceMapping,
            "spot-events-source",
            event_source_arn=events.arn,
            function_name=function.arn,
            batch_size=wiring.BATCH_SIZE,
            function_response_types=["ReportBatchItemFailures"],
            opts=pulumi.ResourceOptions(depends_on=[role_policy]),
        )

        patterns = self.asg.name.apply(wiring.event_patterns)
        rules: dict[str, aws.cloudwatch.EventRule] = {}
        # The roles are the same whatever the group's name; every one gets a rule.
        for role_name in wiring.event_patterns(""):
            rules[role_name] = self.child(
                "spot_event_rule",
                aws.cloudwatch.EventRule,
                f"spot-{role_name}",
                at=role_name,
                description=_RULES.get(role_name, f"paaskit spot handler: {role_name} events"),
                event_pattern=patterns.apply(functools.partial(_pattern_json, role=role_name)),
            )
        rules["schedule"] = self.child(
            "spot_event_rule",
            aws.cloudwatch.EventRule,
            "spot-schedule",
            at="schedule",
            description=_RULES["schedule"],
            schedule_expression=wiring.SCHEDULE_EXPRESSION,
        )
        # Delivery failures (not function errors): retried for the event's useful
        # life, then kept in the standard dead-letter queue.
        delivery: dict[str, Any] = {
            "retry_policy": {
                "maximum_event_age_in_seconds": _EVENT_MAX_AGE_SECONDS,
                "maximum_retry_attempts": 10,
            },
            "dead_letter_config": {"arn": queue.arn},
        }
        for role_name, rule in rules.items():
            if role_name in wiring.QUEUED_ROLES:
                self.child(
                    "spot_event_target",
                    aws.cloudwatch.EventTarget,
                    f"spot-{role_name}-target",
                    at=role_name,
                    rule=rule.name,
                    arn=events.arn,
                    sqs_target={"message_group_id": self.asg.name.apply(wiring.message_group)},
                    **delivery,
                )
                continue
            permission = self.child(
                "spot_handler_permission",
                aws.lambda_.Permission,
                f"spot-{role_name}-invoke",
                at=role_name,
                action="lambda:InvokeFunction",
                function=function.name,
                principal="events.amazonaws.com",
                source_arn=rule.arn,
            )
            self.child(
                "spot_event_target",
                aws.cloudwatch.EventTarget,
                f"spot-{role_name}-target",
                at=role_name,
                rule=rule.name,
                arn=function.arn,
                **delivery,
                opts=pulumi.ResourceOptions(depends_on=[permission]),
            )
        queued = [rules[r] for r in wiring.QUEUED_ROLES]
        self.child(
            "spot_event_queue_policy",
            aws.sqs.QueuePolicy,
            "spot-events-policy",
            queue_url=events.url,
            policy=pulumi.Output.all(events.arn, *(r.arn for r in queued)).apply(
                lambda v: policy_document(
                    [
                        {
                            "Sid": "EventsOfThisGroup",
                            "Effect": "Allow",
                            "Principal": {"Service": "events.amazonaws.com"},
                            "Action": "sqs:SendMessage",
                            "Resource": v[0],
                            "Condition": {"ArnEquals": {"aws:SourceArn": sorted(v[1:])}},
                        }
                    ]
                )
            ),
        )
        self.child(
            "spot_dead_letter_queue_policy",
            aws.sqs.QueuePolicy,
            "spot-dlq-policy",
            queue_url=queue.url,
            policy=pulumi.Output.all(queue.arn, *(r.arn for r in rules.values())).apply(
                lambda v: _dlq_policy(v[0], v[1:])
            ),
        )
        self.spot_handler = function
        self.spot_handler_role = role
        self.spot_dead_letter_queue = queue
        self.spot_event_rules = rules


_RULES: Final[Mapping[str, str]] = {
    "interruption": "paaskit spot handler: drain a spot node two minutes before it is reclaimed",
    "rebalance": "paaskit spot handler: log rebalance recommendations",
    "launch-unsuccessful": "paaskit spot handler (queued): fall back to on-demand when spot "
    "launches keep failing",
    "schedule": "paaskit spot handler (queued): notice spot coming back, step replacements",
}
"""Descriptions of the event rules (`paaskit.spot.wiring.event_patterns` and the schedule), by role."""


def _managed_policy_arn(partition: str, policy: str) -> str:
    return f"arn:{partition}:iam::aws:policy/{policy}"


def _pattern_json(patterns: Mapping[str, Any], role: str) -> str:
    return json.dumps(patterns[role], sort_keys=True)


def _spot_policy(
    partition: str,
    region: str,
    account_id: str,
    cluster: str,
    group: str,
    log_group_arn: str,
    queue_arn: str,
    events_queue_arn: str,
    launch_template_arn: str,
    node_role_arn: str,
) -> dict[str, Any]:
    """The spot module's own least-privilege policy, plus its log group and queues."""
    document = wiring.policy_document(
        partition=partition,
        region=region,
        account_id=account_id,
        cluster=cluster,
        group=group,
        launch_template_arn=launch_template_arn,
        node_role_arn=node_role_arn,
    )
    statements: list[dict[str, Any]] = list(document["Statement"])
    statements += [
        {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{log_group_arn}:log-stream:*",
        },
        {
            "Sid": "FailedEventsToDeadLetterQueue",
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
        },
        {
            # What a Lambda event source mapping needs of the function's role.
            "Sid": "ConsumeTheEventQueue",
            "Effect": "Allow",
            "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
            "Resource": events_queue_arn,
        },
    ]
    return {**document, "Statement": statements}


def _dlq_policy(queue_arn: str, rule_arns: Collection[str]) -> str:
    """EventBridge may put undeliverable events of this cluster's rules in the queue, nothing else."""
    return policy_document(
        [
            {
                "Sid": "UndeliverableEvents",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": sorted(rule_arns)}},
            }
        ]
    )
