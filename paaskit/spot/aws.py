"""The thin boto3 layer: read the group's state, apply a Decision, drain a node.

Calls made, and why each is needed (the IAM policy in ``paaskit.spot.wiring``
grants exactly these):

- ``autoscaling:DescribeAutoScalingGroups``: sizes, instances, distribution, state tags.
- ``autoscaling:DescribeScalingActivities``: recent launch failures.
- ``ec2:DescribeInstances``: spot or on-demand (``InstanceLifecycle``), launch time;
  the ASG's own instance list does not say which market an instance is on.
- ``ecs:ListContainerInstances`` / ``ecs:DescribeContainerInstances``: ECS status and
  running task count of each node.
- ``autoscaling:UpdateAutoScalingGroup`` with only ``MixedInstancesPolicy.InstancesDistribution``:
  AWS leaves the rest of the policy unchanged, and sending no launch template keeps
  the Lambda from needing ``ec2:RunInstances`` and ``iam:PassRole``.
- ``autoscaling:SetDesiredCapacity``, ``autoscaling:SetInstanceProtection``,
  ``autoscaling:TerminateInstanceInAutoScalingGroup``: the replacement steps.
- ``autoscaling:CreateOrUpdateTags``: the state tags (never propagated to instances).
- ``ecs:UpdateContainerInstancesState``: DRAINING.

Order of the changes: capacity handed back (a lower desired capacity, a
termination) is done before the state tags are written, capacity asked for
(a higher desired capacity) and drains after. Should an invocation fail half
way, the next one then finds either the work done and recorded, or recorded
and not done yet, which ``decide`` handles; never an unrecorded extra node
that it would replace again.
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
            found.append(
                ContainerInstance(
                    arn=ci["containerInstanceArn"],
                    ec2_instance_id=ci.get("ec2InstanceId", ""),
                    status=ci.get("status", ""),
                    running_tasks=int(ci.get("runningTasksCount", 0)),
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


def set_draining(clients: Clients, cluster: str, arns: Sequence[str]) -> None:
    for batch in _batches(arns, _UPDATE_BATCH):
        response = clients.ecs.update_container_instances_state(
            cluster=cluster, containerInstances=list(batch), status="DRAINING"
        )
        for failure in response.get("failures", []):
            log("warning", "could not drain a container instance", cluster=cluster, failure=failure)


def apply(clients: Clients, config: RuntimeConfig, group: Group, decision: Decision) -> list[str]:
    """Carry out ``decision`` on ``group`` (as read); returns what was done, in words."""
    asg = clients.autoscaling
    done: list[str] = []
    nodes = {n.instance_id: n for n in group.nodes}

    if decision.distribution is not None:
        d = decision.distribution
        asg.update_auto_scaling_group(
            AutoScalingGroupName=group.name,
            MixedInstancesPolicy={
                "InstancesDistribution": {
                    "OnDemandBaseCapacity": d.on_demand_base,
                    "OnDemandPercentageAboveBaseCapacity": d.on_demand_percentage,
                }
            },
        )
        done.append(f"on-demand {d.on_demand_base} + {d.on_demand_percentage}% above base")

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
        # ECS managed termination protection may still protect it; the explicit
        # request below is ours, after the drain, so the protection has done its job.
        asg.set_instance_protection(
            AutoScalingGroupName=group.name, InstanceIds=[instance_id], ProtectedFromScaleIn=False
        )
        asg.terminate_instance_in_auto_scaling_group(
            InstanceId=instance_id, ShouldDecrementDesiredCapacity=True
        )
        done.append(f"terminated {instance_id}")

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

    # Capacity asked for and drains: after the state is recorded.
    if decision.desired_capacity is not None and not lower:
        asg.set_desired_capacity(
            AutoScalingGroupName=group.name,
            DesiredCapacity=decision.desired_capacity,
            HonorCooldown=False,
        )
        done.append(f"desired capacity {group.desired} -> {decision.desired_capacity}")
    arns = []
    for instance_id in decision.drain:
        node = nodes.get(instance_id)
        if node is not None and node.container_instance_arn and node.ecs_status == "ACTIVE":
            arns.append(node.container_instance_arn)
            done.append(f"draining {instance_id}")
    set_draining(clients, config.cluster, arns)
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
