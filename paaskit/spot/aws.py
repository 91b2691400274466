"""The thin boto3 layer: read the group's state, apply a Decision, drain a node.

Calls made, and why each is needed (the IAM policy in ``paaskit.spot.wiring``
grants exactly these):

- ``autoscaling:DescribeAutoScalingGroups``: sizes, instances, distribution, state tags.
- ``autoscaling:DescribeScalingActivities``: recent launch failures.
- ``ec2:DescribeInstances``: spot or on-demand (``InstanceLifecycle``), launch time;
  the ASG's own instance list does not say which market an instance is on.
- ``ecs:ListContainerInstances`` / ``ecs:DescribeContainerInstances``: ECS status,
  running task count and registered / remaining CPU and memory of each node.
- ``autoscaling:UpdateAutoScalingGroup`` with ``MixedInstancesPolicy.InstancesDistribution``
  only, but the *whole* distribution as read back from the group with the two
  managed fields changed: AWS documents that an InstancesDistribution "uses
  default values for unspecified parameters, except for SpotMaxPrice", so a
  partial one could reset the allocation strategies. No launch template is sent
  (AWS leaves what is not specified unchanged); AWS may still check the caller's
  launch permissions on such an update, so the role has them, scoped to the
  group's launch template and node role (``paaskit.spot.wiring``).
- ``autoscaling:SetDesiredCapacity``, ``autoscaling:SetInstanceProtection``,
  ``autoscaling:TerminateInstanceInAutoScalingGroup``: the replacement steps.
- ``autoscaling:CreateOrUpdateTags``: the state tags (never propagated to instances).
- ``ecs:UpdateContainerInstancesState``: DRAINING, and ACTIVE again for a drain undone.

Order of the changes: capacity handed back (a lower desired capacity, a
termination) is done before the state tags are written; the purchase option,
capacity asked for (a higher desired capacity), drains and reactivations after.
Should an invocation fail half way, the next one then finds either the work
done and recorded, or recorded and not done yet, which ``decide`` handles:
never an unrecorded extra node that it would replace again, and never a
purchase option the state does not explain (which ``decide`` would take for
drift and turn straight back).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

from paaskit.spot.config import RuntimeConfig
from paaskit.spot.decision import (
    ON_DEMAND,
    SPOT,
    Activity,
    Decision,
    Distribution,
    Group,
    Lifecycle,
    Node,
    SpotState,
    normalise,
    state_from_tags,
    state_to_tags,
)
from paaskit.spot.log import log

__all__ = [
    "Clients",
    "ContainerInstance",
    "GroupNotFoundError",
    "apply",
    "container_instances",
    "drain_instance",
    "read_activities",
    "read_group",
    "set_draining",
    "set_status",
    "whole_distribution",
]

# Standard retry mode backs off on throttling; the timeouts keep a stuck call from
# eating the two minutes an interruption warning gives.
_BOTO_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=15
)
_DESCRIBE_BATCH = 100  # DescribeContainerInstances takes at most 100 ARNs
_UPDATE_BATCH = 10  # UpdateContainerInstancesState at most 10


class GroupNotFoundError(LookupError):
    pass


@dataclass(frozen=True)
class Clients:
    """The three boto3 clients the Lambda uses."""

    autoscaling: Any
    ec2: Any
    ecs: Any

    @classmethod
    def create(cls) -> Clients:
        session = _session()
        return cls(
            autoscaling=session.client("autoscaling", config=_BOTO_CONFIG),
            ec2=session.client("ec2", config=_BOTO_CONFIG),
            ecs=session.client("ecs", config=_BOTO_CONFIG),
        )


@functools.cache
def _session() -> boto3.session.Session:
    # One per Lambda container: loading the service models is most of the cost of a
    # client (~0.1 s each), and warm invocations reuse them.
    return boto3.session.Session()


def _batches(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContainerInstance:
    arn: str
    ec2_instance_id: str
    status: str
    running_tasks: int
    cpu_used: int = 0
    memory_used: int = 0
    cpu_free: int = 0
    memory_free: int = 0


def _resource(resources: Sequence[dict[str, Any]], name: str) -> int:
    for resource in resources:
        if resource.get("name") == name:
            return int(resource.get("integerValue", 0))
    return 0


def container_instances(
    clients: Clients, cluster: str, ec2_instance_id: str | None = None
) -> list[ContainerInstance]:
    """The cluster's container instances; only the one on ``ec2_instance_id`` if given."""
    kwargs: dict[str, str] = {"cluster": cluster}
    if ec2_instance_id is not None:
        kwargs["filter"] = f"ec2InstanceId == {ec2_instance_id}"
    arns: list[str] = []
    for page in clients.ecs.get_paginator("list_container_instances").paginate(**kwargs):
        arns.extend(page.get("containerInstanceArns", []))
    found = []
    for batch in _batches(arns, _DESCRIBE_BATCH):
        response = clients.ecs.describe_container_instances(
            cluster=cluster, containerInstances=list(batch)
        )
        for ci in response.get("containerInstances", []):
            registered = ci.get("registeredResources", [])
            remaining = ci.get("remainingResources", [])
            cpu_free, memory_free = _resource(remaining, "CPU"), _resource(remaining, "MEMORY")
            found.append(
                ContainerInstance(
                    arn=ci["containerInstanceArn"],
                    ec2_instance_id=ci.get("ec2InstanceId", ""),
                    status=ci.get("status", ""),
                    running_tasks=int(ci.get("runningTasksCount", 0)),
                    cpu_used=max(0, _resource(registered, "CPU") - cpu_free),
                    memory_used=max(0, _resource(registered, "MEMORY") - memory_free),
                    cpu_free=cpu_free,
                    memory_free=memory_free,
                )
            )
    if ec2_instance_id is not None:
        # The filter is not trusted to have been applied (older APIs and emulators ignore it).
        found = [ci for ci in found if ci.ec2_instance_id == ec2_instance_id]
    return found


def _lifecycle(instance: dict[str, Any]) -> Lifecycle:
    market = instance.get("InstanceLifecycle")
    if market is None:
        return ON_DEMAND
    return SPOT if market == "spot" else "other"  # scheduled, capacity-block


def _ec2_instances(clients: Clients, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    paginator = clients.ec2.get_paginator("describe_instances")
    # A filter rather than InstanceIds: an id that just disappeared is then skipped,
    # not an error.
    for batch in _batches(ids, 100):
        filters = [{"Name": "instance-id", "Values": list(batch)}]
        for page in paginator.paginate(Filters=filters):
            for reservation in page.get("Reservations", []):
                for instance in reservation.get("Instances", []):
                    found[instance["InstanceId"]] = instance
    return found


def _group_description(clients: Clients, name: str) -> dict[str, Any]:
    groups = clients.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])
    for group in groups.get("AutoScalingGroups", []):
        if group.get("AutoScalingGroupName") == name:
            return dict(group)
    raise GroupNotFoundError(f"Auto Scaling group {name!r} not found")


def _state(tags: dict[str, str], group_name: str) -> SpotState:
    try:
        return state_from_tags(tags)
    except (ValueError, KeyError, TypeError) as error:
        # A hand-edited or truncated tag must not wedge the group: start afresh.
        log(
            "warning",
            "unreadable spot state tags; starting afresh",
            group=group_name,
            error=str(error),
        )
        return SpotState()


def read_group(clients: Clients, config: RuntimeConfig) -> Group:
    """The group, its nodes (market, ASG and ECS state) and the state kept in its tags."""
    description = _group_description(clients, config.group)
    distribution = None
    policy = description.get("MixedInstancesPolicy")
    if policy:
        spread = policy.get("InstancesDistribution", {})
        distribution = Distribution(
            on_demand_base=int(spread.get("OnDemandBaseCapacity", 0)),
            # AWS's default when the field is absent is 100 (all on-demand).
            on_demand_percentage=int(spread.get("OnDemandPercentageAboveBaseCapacity", 100)),
            others=dict(spread),
        )
    members = description.get("Instances", [])
    ec2 = _ec2_instances(clients, [m["InstanceId"] for m in members])
    ecs = {ci.ec2_instance_id: ci for ci in container_instances(clients, config.cluster)}
    nodes = []
    for member in members:
        instance_id = member["InstanceId"]
        instance = ec2.get(instance_id, {})
        ci = ecs.get(instance_id)
        nodes.append(
            Node(
                instance_id=instance_id,
                lifecycle=_lifecycle(instance) if instance else "other",
                lifecycle_state=member.get("LifecycleState", ""),
                healthy=member.get("HealthStatus", "Healthy") == "Healthy",
                launch_time=instance.get("LaunchTime"),
                ecs_status=ci.status if ci else None,
                running_tasks=ci.running_tasks if ci else 0,
                container_instance_arn=ci.arn if ci else None,
                cpu_used=ci.cpu_used if ci else 0,
                memory_used=ci.memory_used if ci else 0,
                cpu_free=ci.cpu_free if ci else 0,
                memory_free=ci.memory_free if ci else 0,
            )
        )
    tags = {t["Key"]: t.get("Value", "") for t in description.get("Tags", [])}
    return Group(
        name=config.group,
        min_size=int(description["MinSize"]),
        max_size=int(description["MaxSize"]),
        desired=int(description["DesiredCapacity"]),
        nodes=tuple(nodes),
        distribution=distribution,
        state=_state(tags, config.group),
    )


def read_activities(clients: Clients, group_name: str) -> list[Activity]:
    """The group's latest scaling activities (one page: the cool-down window is short)."""
    response = clients.autoscaling.describe_scaling_activities(
        AutoScalingGroupName=group_name, MaxRecords=50
    )
    return [
        Activity(
            activity_id=a["ActivityId"],
            status_code=a.get("StatusCode", ""),
            message=" ".join(str(a[k]) for k in ("StatusMessage", "Description") if a.get(k)),
            start_time=a["StartTime"],
        )
        for a in response.get("Activities", [])
    ]


# --- changing --------------------------------------------------------------------------------


def set_status(clients: Clients, cluster: str, arns: Sequence[str], status: str) -> None:
    """Set container instances to DRAINING or back to ACTIVE (at most 10 per call)."""
    for batch in _batches(arns, _UPDATE_BATCH):
        response = clients.ecs.update_container_instances_state(
            cluster=cluster, containerInstances=list(batch), status=status
        )
        for failure in response.get("failures", []):
            log(
                "warning",
                f"could not set a container instance {status}",
                cluster=cluster,
                failure=failure,
            )


def set_draining(clients: Clients, cluster: str, arns: Sequence[str]) -> None:
    set_status(clients, cluster, arns, "DRAINING")


#: Fields of an InstancesDistribution sent back as read; DistributionSegments are
#: left out (setting the two managed fields removes them, AWS documents).
_DISTRIBUTION_FIELDS = (
    "OnDemandAllocationStrategy",
    "OnDemandBaseCapacity",
    "OnDemandPercentageAboveBaseCapacity",
    "SpotAllocationStrategy",
    "SpotInstancePools",
    "SpotMaxPrice",
)


def whole_distribution(distribution: Distribution) -> dict[str, Any]:
    """The InstancesDistribution to send: every field as read, the two managed ones set."""
    sent = {k: v for k, v in distribution.others.items() if k in _DISTRIBUTION_FIELDS}
    if sent.get("SpotAllocationStrategy", "lowest-price") != "lowest-price":
        # Valid only with lowest-price (1-20); DescribeAutoScalingGroups may report one anyway.
        sent.pop("SpotInstancePools", None)
    if not sent.get("SpotMaxPrice"):
        sent.pop("SpotMaxPrice", None)  # absent: no max price; "" would mean "remove it"
    sent["OnDemandBaseCapacity"] = distribution.on_demand_base
    sent["OnDemandPercentageAboveBaseCapacity"] = distribution.on_demand_percentage
    return sent


def apply(clients: Clients, config: RuntimeConfig, group: Group, decision: Decision) -> list[str]:
    """Carry out ``decision`` on ``group`` (as read); returns what was done, in words."""
    asg = clients.autoscaling
    done: list[str] = []
    nodes = {n.instance_id: n for n in group.nodes}

    # Capacity handed back: before the state is recorded (see the module docstring).
    lower = decision.desired_capacity is not None and decision.desired_capacity < group.desired
    if lower:
        asg.set_desired_capacity(
            AutoScalingGroupName=group.name,
            DesiredCapacity=decision.desired_capacity,
            HonorCooldown=False,
        )
        done.append(f"desired capacity {group.desired} -> {decision.desired_capacity}")
    for instance_id in decision.terminate:
        node = nodes.get(instance_id)
        if node is None or node.lifecycle_state != "InService":
            continue  # already on its way out: a second decrement would remove a good node
        if node.running_tasks:
            # decide never asks this; should it, no task is killed for it.
            log("error", "refusing to terminate a node that runs tasks", instance_id=instance_id)
            continue
        # ECS managed termination protection may still protect it; the explicit
        # request below is ours, after the drain, so the protection has done its job.
        asg.set_instance_protection(
            AutoScalingGroupName=group.name, InstanceIds=[instance_id], ProtectedFromScaleIn=False
        )
        asg.terminate_instance_in_auto_scaling_group(
            InstanceId=instance_id, ShouldDecrementDesiredCapacity=decision.decrement
        )
        done.append(f"terminated {instance_id}" + ("" if decision.decrement else " (replaced)"))

    if normalise(decision.state) != normalise(group.state):
        asg.create_or_update_tags(
            Tags=[
                {
                    "ResourceId": group.name,
                    "ResourceType": "auto-scaling-group",
                    "Key": key,
                    "Value": value,
                    "PropagateAtLaunch": False,
                }
                for key, value in state_to_tags(decision.state).items()
            ]
        )
        done.append("recorded state")

    # The purchase option, capacity asked for, drains: after the state is recorded.
    if decision.distribution is not None:
        d = decision.distribution
        read = group.distribution or d
        asg.update_auto_scaling_group(
            AutoScalingGroupName=group.name,
            MixedInstancesPolicy={
                "InstancesDistribution": whole_distribution(
                    Distribution(d.on_demand_base, d.on_demand_percentage, read.others)
                )
            },
        )
        done.append(f"on-demand {d.on_demand_base} + {d.on_demand_percentage}% above base")
    if decision.desired_capacity is not None and not lower:
        asg.set_desired_capacity(
            AutoScalingGroupName=group.name,
            DesiredCapacity=decision.desired_capacity,
            HonorCooldown=False,
        )
        done.append(f"desired capacity {group.desired} -> {decision.desired_capacity}")
    for ids, current, status, verb in (
        (decision.drain, "ACTIVE", "DRAINING", "draining"),
        (decision.activate, "DRAINING", "ACTIVE", "activating"),
    ):
        arns = []
        for instance_id in ids:
            node = nodes.get(instance_id)
            if node is not None and node.container_instance_arn and node.ecs_status == current:
                arns.append(node.container_instance_arn)
                done.append(f"{verb} {instance_id}")
        set_status(clients, config.cluster, arns, status)
    return done


def drain_instance(clients: Clients, cluster: str, instance_id: str) -> str:
    """Set the container instance on ``instance_id`` to DRAINING.

    Returns "draining" (done now), "already-draining" (e.g. by the ECS agent's own
    spot handling, ``ECS_ENABLE_SPOT_INSTANCE_DRAINING``), "not-active" (being
    deregistered) or "not-in-cluster".
    """
    found = container_instances(clients, cluster, ec2_instance_id=instance_id)
    if not found:
        return "not-in-cluster"
    todo = [ci.arn for ci in found if ci.status == "ACTIVE"]
    if todo:
        set_draining(clients, cluster, todo)
        return "draining"
    if any(ci.status == "DRAINING" for ci in found):
        return "already-draining"
    return "not-active"
