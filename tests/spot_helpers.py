"""Helpers for the spot tests: state builders, a small decide-level ASG simulator, moto set-up.

(The model of AWS that drives the whole handler is ``tests/spot_model.py``.)
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from paaskit.spot.decision import (
    ON_DEMAND,
    SPOT,
    Activity,
    Decision,
    Distribution,
    Group,
    Node,
    SpotState,
)

T0 = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)

# Real Auto Scaling activity texts (StatusMessage / Description) as users report them.
SPOT_SHORTAGE = (
    "Could not launch Spot Instances. InsufficientInstanceCapacity - There is no Spot capacity "
    "available that matches your request. Launching EC2 instance failed."
)
SPOT_UNFULFILLABLE = (
    "Could not launch Spot Instances. UnfulfillableCapacity - Unable to fulfill capacity due to "
    "your request configuration. Please adjust your request and try again. Launching EC2 "
    "instance failed."
)
SPOT_QUOTA = (
    "Could not launch Spot Instances. MaxSpotInstanceCountExceeded - Max spot instance count "
    "exceeded. Launching EC2 instance failed."
)
ON_DEMAND_SHORTAGE = (
    "We currently do not have sufficient m6i.large capacity in the Availability Zone you "
    "requested (us-east-1a). Our system will be working on provisioning additional capacity. "
    "Launching EC2 instance failed."
)
ON_DEMAND_ICE = (
    "Could not launch On-Demand Instances. InsufficientInstanceCapacity - We currently do not "
    "have sufficient m6i.large capacity in the Availability Zone you requested (us-east-1a). "
    "Launching EC2 instance failed."
)
BAD_PROFILE = "Invalid IamInstanceProfile: rack-node. Launching EC2 instance failed."
SPOT_BAD_REQUEST = (
    "Could not launch Spot Instances. InvalidParameterValue - The requested instance type is "
    "not supported in this configuration. Launching EC2 instance failed."
)


def failure(message: str = SPOT_SHORTAGE, at: datetime = T0, activity_id: str = "a-1") -> Activity:
    return Activity(activity_id=activity_id, status_code="Failed", message=message, start_time=at)


def node(
    instance_id: str,
    lifecycle: str = SPOT,
    *,
    state: str = "InService",
    healthy: bool = True,
    ecs: str | None = "ACTIVE",
    tasks: int = 1,
    launched: datetime | None = None,
    used: tuple[int, int] | None = None,
    free: tuple[int, int] | None = None,
) -> Node:
    """A node; ``used`` / ``free``: (CPU units, MiB) its tasks reserve / it has left (ECS)."""
    resources: dict[str, int] = {}
    if used is not None:
        resources.update(cpu_used=used[0], memory_used=used[1])
    if free is not None:
        resources.update(cpu_free=free[0], memory_free=free[1])
    return Node(
        instance_id=instance_id,
        lifecycle=lifecycle,  # type: ignore[arg-type]
        lifecycle_state=state,
        healthy=healthy,
        launch_time=launched or T0 - timedelta(days=1),
        ecs_status=ecs,
        running_tasks=tasks,
        container_instance_arn=None if ecs is None else f"arn:ci/{instance_id}",
        **resources,
    )


def group(
    *nodes: Node,
    desired: int | None = None,
    min_size: int = 0,
    max_size: int = 10,
    base: int = 0,
    percentage: int = 0,
    state: SpotState | None = None,
) -> Group:
    return Group(
        name="rack",
        min_size=min_size,
        max_size=max_size,
        desired=len(nodes) if desired is None else desired,
        nodes=tuple(nodes),
        distribution=Distribution(base, percentage),
        state=state or SpotState(),
    )


def simulate(g: Group, d: Decision) -> Group:
    """What the world looks like right after ``d`` was applied, before the ASG or ECS react.

    Mirrors the guards of paaskit.spot.aws.apply: a termination only hits an
    in-service node, a drain only an ACTIVE one, an activation only a DRAINING one.
    """
    nodes = []
    desired = g.desired if d.desired_capacity is None else d.desired_capacity
    for n in g.nodes:
        if n.instance_id in d.terminate and n.lifecycle_state == "InService":
            desired -= 1 if getattr(d, "decrement", True) else 0
            nodes.append(replace(n, lifecycle_state="Terminating"))
        elif n.instance_id in d.drain and n.ecs_status == "ACTIVE":
            nodes.append(replace(n, ecs_status="DRAINING"))
        elif n.instance_id in getattr(d, "activate", ()) and n.ecs_status == "DRAINING":
            nodes.append(replace(n, ecs_status="ACTIVE"))
        else:
            nodes.append(n)
    return replace(
        g,
        nodes=tuple(nodes),
        desired=desired,
        distribution=d.distribution or g.distribution,
        state=d.state,
    )


@dataclass
class FakeAsg:
    """A minute-by-minute model of an ASG with a mixed instances policy on a spot market.

    Enough of AWS's behaviour to run the decision through whole episodes: launches
    take one tick (Pending, then InService and ACTIVE in ECS); a spot launch fails
    with a real failure activity while ``spot_available`` is False; on-demand
    launches always succeed; a DRAINING node's tasks move away after one tick;
    terminated nodes disappear after one tick; a lower desired capacity makes the
    ASG remove nodes, on-demand first when the distribution has too many.
    """

    group: Group
    spot_available: bool = True
    activities: list[Activity] = field(default_factory=list)
    now: datetime = T0
    serial: int = 100

    def _new_id(self) -> str:
        self.serial += 1
        return f"i-{self.serial:017x}"

    def tick(self, minutes: int = 1) -> None:
        """Let AWS act for a while (before the next invocation)."""
        self.now += timedelta(minutes=minutes)
        g = self.group
        nodes: list[Node] = []
        for n in g.nodes:
            if n.lifecycle_state == "Terminating":
                continue
            if n.lifecycle_state == "Pending":
                n = replace(n, lifecycle_state="InService", ecs_status="ACTIVE")
            if n.ecs_status == "DRAINING":
                n = replace(n, running_tasks=0)
            nodes.append(n)
        distribution = g.distribution or Distribution(0, 100)
        while len(nodes) > g.desired:
            wanted = distribution.on_demand_count(g.desired)
            od = [n for n in nodes if n.lifecycle == ON_DEMAND]
            pool = od if len(od) > wanted else [n for n in nodes if n.lifecycle == SPOT] or od
            victim = min(pool, key=lambda n: (n.running_tasks, n.instance_id))
            nodes.remove(victim)
        while len(nodes) < g.desired:
            wanted = distribution.on_demand_count(g.desired)
            on_demand = sum(1 for n in nodes if n.lifecycle == ON_DEMAND)
            market = ON_DEMAND if on_demand < wanted else SPOT
            if market == SPOT and not self.spot_available:
                self.activities.append(
                    failure(at=self.now, activity_id=f"a-{len(self.activities)}")
                )
                break
            nodes.append(
                Node(
                    self._new_id(),
                    market,
                    lifecycle_state="Pending",
                    launch_time=self.now,
                    ecs_status=None,
                    running_tasks=0,
                )
            )
        self.group = replace(g, nodes=tuple(nodes))

    def interrupt(self, instance_id: str) -> None:
        """A spot node is reclaimed."""
        self.group = replace(
            self.group, nodes=tuple(n for n in self.group.nodes if n.instance_id != instance_id)
        )

    def apply(self, d: Decision) -> None:
        self.group = simulate(self.group, d)

    def serving(self) -> int:
        return sum(1 for n in self.group.nodes if n.serving)

    def count(self, lifecycle: str) -> int:
        return sum(1 for n in self.group.nodes if n.lifecycle == lifecycle)


# --- moto -------------------------------------------------------------------------------


def emulate_partial_policy_updates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Teach moto AWS's documented handling of a MixedInstancesPolicy update without a LaunchTemplate.

    AWS: "Any properties that you don't specify are not changed by this update
    request", so paaskit sends only InstancesDistribution (no launch template).
    But an InstancesDistribution "uses default values for unspecified
    parameters, except for SpotMaxPrice": the one sent *replaces* the stored one,
    which is why paaskit sends it whole. moto 5 instead replaces the whole policy
    and rejects one without a LaunchTemplate. This keeps the stored LaunchTemplate
    and replaces InstancesDistribution with the one sent, as is (so a field left
    out is gone, where AWS would put its default); everything else stays moto's
    own code. The server runs in this process, so patching the backend class
    reaches it.
    """
    from moto.autoscaling.models import AutoScalingBackend

    original = AutoScalingBackend.update_auto_scaling_group

    def update(self: Any, **kwargs: Any) -> Any:
        policy = kwargs.get("mixed_instances_policy")
        current = self.autoscaling_groups.get(kwargs.get("name"))
        if policy and "LaunchTemplate" not in policy and current is not None:
            merged = copy.deepcopy(current.mixed_instances_policy or {})
            merged.update(copy.deepcopy(policy))
            spec = merged.get("LaunchTemplate", {}).get("LaunchTemplateSpecification", {})
            if spec.get("LaunchTemplateId"):
                spec.pop("LaunchTemplateName", None)  # moto stores both, accepts one
            kwargs["mixed_instances_policy"] = merged
        return original(self, **kwargs)

    monkeypatch.setattr(AutoScalingBackend, "update_auto_scaling_group", update)


def identity_document(instance_id: str, instance_type: str = "m6i.large") -> str:
    """An EC2 instance identity document, as the ECS agent sends on registration."""
    return json.dumps(
        {
            "accountId": "123456789012",
            "architecture": "x86_64",
            "availabilityZone": "us-east-1a",
            "imageId": "ami-12c6146b",
            "instanceId": instance_id,
            "instanceType": instance_type,
            "pendingTime": "2025-06-02T11:00:00Z",
            "privateIp": "10.0.0.10",
            "region": "us-east-1",
            "version": "2017-09-30",
        }
    )


@dataclass
class MotoRack:
    """An ECS cluster on a mixed-instances ASG in moto, nodes registered as ECS would."""

    cluster: str
    group: str
    subnet: str
    ec2: Any
    autoscaling: Any
    ecs: Any
    calls: set[str] = field(default_factory=set)
    """IAM actions of every call the code under test made (see ``record_calls``)."""
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """Every call the code under test made, in order: (operation, parameters)."""

    def record_calls(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Note the IAM action of each API call made through ``Clients.create()``."""
        from paaskit.spot.aws import Clients

        original = Clients.create

        def record(model: Any, params: Any = None, **_: Any) -> None:
            self.calls.add(f"{model.service_model.signing_name}:{model.name}")
            self.requests.append((model.name, copy.deepcopy(params or {})))

        def create(cls: type[Clients]) -> Clients:
            clients = original()
            for client in (clients.autoscaling, clients.ec2, clients.ecs):
                client.meta.events.register("provide-client-params", record)
            return clients

        monkeypatch.setattr(Clients, "create", classmethod(create))

    def describe(self) -> dict[str, Any]:
        groups = self.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[self.group])
        return dict(groups["AutoScalingGroups"][0])

    def distribution(self) -> dict[str, Any]:
        return dict(self.describe()["MixedInstancesPolicy"]["InstancesDistribution"])

    def tags(self) -> dict[str, str]:
        return {t["Key"]: t["Value"] for t in self.describe()["Tags"]}

    def instance_ids(self) -> list[str]:
        return [i["InstanceId"] for i in self.describe()["Instances"]]

    def writes(self) -> list[str]:
        """The changes the code under test asked for (not the reads), in order."""
        reads = ("Describe", "List", "Get")
        return [name for name, _ in self.requests if not name.startswith(reads)]

    def register(self, instance_id: str, cluster: str | None = None) -> str:
        response = self.ecs.register_container_instance(
            cluster=cluster or self.cluster,
            instanceIdentityDocument=identity_document(instance_id),
            instanceIdentityDocumentSignature="signature",
        )
        return str(response["containerInstance"]["containerInstanceArn"])

    def container_instances(self, cluster: str | None = None) -> dict[str, dict[str, Any]]:
        """Container instances by EC2 instance id."""
        name = cluster or self.cluster
        arns = self.ecs.list_container_instances(cluster=name)["containerInstanceArns"]
        if not arns:
            return {}
        described = self.ecs.describe_container_instances(cluster=name, containerInstances=arns)
        return {ci["ec2InstanceId"]: ci for ci in described["containerInstances"]}

    def run_task_on(self, instance_id: str) -> str:
        arn = self.container_instances()[instance_id]["containerInstanceArn"]
        started = self.ecs.start_task(
            cluster=self.cluster, taskDefinition="web", containerInstances=[arn]
        )
        return str(started["tasks"][0]["taskArn"])

    def spot_instance(self) -> str:
        """A spot instance outside the group, as the ASG would launch one."""
        run = self.ec2.run_instances(
            ImageId="ami-12c6146b",
            MinCount=1,
            MaxCount=1,
            InstanceType="m6a.large",
            SubnetId=self.subnet,
            InstanceMarketOptions={"MarketType": "spot"},
        )
        return str(run["Instances"][0]["InstanceId"])


def make_moto_rack(desired: int = 3, base: int = 1, percentage: int = 0) -> MotoRack:
    ec2 = boto3.client("ec2")
    autoscaling = boto3.client("autoscaling")
    ecs = boto3.client("ecs")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24", AvailabilityZone="us-east-1a")
    subnet_id = subnet["Subnet"]["SubnetId"]
    ec2.create_launch_template(
        LaunchTemplateName="rack-nodes",
        LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "m6i.large"},
    )
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="rack-nodes",
        MinSize=1,
        MaxSize=6,
        DesiredCapacity=desired,
        VPCZoneIdentifier=subnet_id,
        NewInstancesProtectedFromScaleIn=True,
        CapacityRebalance=True,
        MixedInstancesPolicy={
            "LaunchTemplate": {
                "LaunchTemplateSpecification": {
                    "LaunchTemplateName": "rack-nodes",
                    "Version": "$Latest",
                },
                "Overrides": [{"InstanceType": t} for t in ("m6i.large", "m6a.large", "m7i.large")],
            },
            "InstancesDistribution": {
                "OnDemandAllocationStrategy": "prioritized",  # as paaskit.cluster sets it
                "OnDemandBaseCapacity": base,
                "OnDemandPercentageAboveBaseCapacity": percentage,
                "SpotAllocationStrategy": "price-capacity-optimized",
            },
        },
    )
    ecs.create_cluster(clusterName="rack")
    ecs.register_task_definition(
        family="web", containerDefinitions=[{"name": "web", "image": "nginx", "memory": 256}]
    )
    rack = MotoRack("rack", "rack-nodes", subnet_id, ec2, autoscaling, ecs)
    for instance_id in rack.instance_ids():
        rack.register(instance_id)
    return rack


def interruption_event(instance_id: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "1e5527d7-bb36-4607-3370-4164db56a40e",
        "detail-type": "EC2 Spot Instance Interruption Warning",
        "source": "aws.ec2",
        "account": "123456789012",
        "time": "2025-06-02T12:00:00Z",
        "region": "us-east-1",
        "resources": [f"arn:aws:ec2:us-east-1a:instance/{instance_id}"],
        "detail": {"instance-id": instance_id, "instance-action": "terminate"},
    }


def rebalance_event(instance_id: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "26d6f1bf-4f1f-4fd6-9bd3-66b4c6a4a7b9",
        "detail-type": "EC2 Instance Rebalance Recommendation",
        "source": "aws.ec2",
        "account": "123456789012",
        "time": "2025-06-02T12:00:00Z",
        "region": "us-east-1",
        "resources": [f"arn:aws:ec2:us-east-1a:instance/{instance_id}"],
        "detail": {"instance-id": instance_id},
    }


def launch_unsuccessful_event(
    group_name: str, message: str = SPOT_SHORTAGE, at: str | None = None
) -> dict[str, Any]:
    """The event as Auto Scaling sends it; by default for a failure just now."""
    at = at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "version": "0",
        "id": "12345678-1234-1234-1234-123456789012",
        "detail-type": "EC2 Instance Launch Unsuccessful",
        "source": "aws.autoscaling",
        "account": "123456789012",
        "time": at,
        "region": "us-east-1",
        "resources": [
            f"arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:x:autoScalingGroupName/{group_name}"
        ],
        "detail": {
            "StatusCode": "Failed",
            "AutoScalingGroupName": group_name,
            "ActivityId": "87654321-4321-4321-4321-210987654321",
            "Details": {"Availability Zone": "us-east-1a", "Subnet ID": "subnet-12345678"},
            "RequestId": "12345678-1234-1234-1234-123456789012",
            "StatusMessage": message,
            "EndTime": at,
            "EC2InstanceId": "",
            "StartTime": at,
            "Cause": "At 2025-06-02T11:59:50Z an instance was started in response to a "
            "difference between desired and actual capacity, increasing the capacity from 2 to 3.",
        },
    }


def scheduled_event(at: str = "2025-06-02T12:00:00Z") -> dict[str, Any]:
    return {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": at,
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/rack-spot-schedule"],
        "detail": {},
    }
