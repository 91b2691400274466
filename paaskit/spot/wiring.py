"""What the ``SpotCluster`` component needs to deploy the spot Lambda: plain data, no AWS calls.

- ``HANDLER``: the Lambda handler string; the zip holds an empty
  ``paaskit/__init__.py`` and ``paaskit/spot/*.py``, nothing else.
- ``event_patterns(group)``: one EventBridge rule per entry, plus the schedule
  (``SCHEDULE_EXPRESSION``: notices recovery and drives replacements; ~43,000
  invocations a month, inside Lambda's free tier).
- ``DIRECT_ROLES`` target the function itself (asynchronous invocation: a drain
  must not wait behind anything, and is safe beside a reconcile).
  ``QUEUED_ROLES`` target an SQS FIFO queue with content-based deduplication,
  message group ``message_group(group)``: SQS hands one message group to one
  consumer at a time, so reconciles of a group never run at once, with no
  reserved concurrency (which accounts with a concurrency quota of 10 cannot
  set). The function consumes the queue through an event source mapping
  (``BATCH_SIZE``, partial batch responses), ``QUEUE_VISIBILITY_TIMEOUT_SECONDS``
  and ``QUEUE_MAX_RECEIVES`` before the queue's FIFO dead-letter queue.
- ``environment(...)``: the function's environment variables.
- ``policy_document(...)``: the least-privilege IAM policy of its role for what
  the code calls (the component adds its log group and queues).

Also: give the function a timeout of ``TIMEOUT_SECONDS`` and ``MEMORY_MB`` MB.
Keep ``paaskit:spot:*`` tags out of the group's Pulumi-managed tags (they are
the function's state), and ignore changes to
``mixedInstancesPolicy.instancesDistribution.onDemandPercentageAboveBaseCapacity``
(the function raises it during a spot shortage; it also restores it, so a
``pulumi up`` during a shortage only delays the fallback by a minute).
"""

from __future__ import annotations

from typing import Any

from paaskit.spot import config
from paaskit.spot.decision import STATE_TAGS
from paaskit.spot.events import INTERRUPTION, LAUNCH_UNSUCCESSFUL, REBALANCE

__all__ = [
    "BATCH_SIZE",
    "DIRECT_ROLES",
    "HANDLER",
    "MEMORY_MB",
    "QUEUED_ROLES",
    "QUEUE_MAX_RECEIVES",
    "QUEUE_RETENTION_SECONDS",
    "QUEUE_VISIBILITY_TIMEOUT_SECONDS",
    "SCHEDULE_EXPRESSION",
    "TIMEOUT_SECONDS",
    "environment",
    "event_patterns",
    "message_group",
    "policy_document",
]

HANDLER = "paaskit.spot.handler.handler"

#: Every minute: a replacement step or the end of a fallback is noticed within a minute.
SCHEDULE_EXPRESSION = "rate(1 minute)"

#: A reconcile makes a handful of API calls (~1-2 s); 60 s leaves room for retries.
TIMEOUT_SECONDS = 60
MEMORY_MB = 128

#: Rules that invoke the function directly, and rules whose events go through the queue.
DIRECT_ROLES = ("interruption", "rebalance")
QUEUED_ROLES = ("launch-unsuccessful", "schedule")

#: Messages per invocation: the most a FIFO event source mapping takes. A batch makes
#: one reconcile, so a backlog (after a failure) drains in one go.
BATCH_SIZE = 10
#: AWS requires at least the function's timeout. Three times it: a failed batch
#: comes back (and blocks its message group) for three minutes at most, while the
#: function has time to finish a slow, throttled invocation first. (AWS suggests
#: six times for functions that are throttled; this one runs alone.)
QUEUE_VISIBILITY_TIMEOUT_SECONDS = 3 * TIMEOUT_SECONDS
#: Deliveries of a message before it goes to the dead-letter queue: five failed
#: reconciles in a row (over ~15 minutes) are worth an operator's look, and
#: nothing is lost by dropping a tick (the next one reconciles from scratch).
QUEUE_MAX_RECEIVES = 5
#: An hour: a tick older than that describes nothing current.
QUEUE_RETENTION_SECONDS = 3600


def message_group(group: str) -> str:
    """The FIFO message group of a group's events: one per group, so one reconcile at a time."""
    return group


def event_patterns(group: str) -> dict[str, dict[str, Any]]:
    """EventBridge event patterns by rule role (name suffix)."""
    return {
        # Any spot instance of the account and region: the event carries only the
        # instance id, so the function checks the cluster itself.
        "interruption": {"source": ["aws.ec2"], "detail-type": [INTERRUPTION]},
        # Only logged; the component may leave this rule out.
        "rebalance": {"source": ["aws.ec2"], "detail-type": [REBALANCE]},
        "launch-unsuccessful": {
            "source": ["aws.autoscaling"],
            "detail-type": [LAUNCH_UNSUCCESSFUL],
            "detail": {"AutoScalingGroupName": [group]},
        },
    }


def environment(
    *,
    cluster: str,
    group: str,
    on_demand_base: int = 0,
    on_demand_percentage: int = 0,
    fallback_percentage: int = 100,
    fallback_grace_seconds: int = 180,
    cooldown_seconds: int = 900,
    replacement_timeout_seconds: int = 600,
    drain_timeout_seconds: int = 600,
    replace_on_demand: bool = True,
) -> dict[str, str]:
    """The function's environment variables (meanings and defaults: ``paaskit.spot.config``)."""
    return {
        config.CLUSTER: cluster,
        config.GROUP: group,
        config.ON_DEMAND_BASE: str(on_demand_base),
        config.ON_DEMAND_PERCENTAGE: str(on_demand_percentage),
        config.FALLBACK_PERCENTAGE: str(fallback_percentage),
        config.FALLBACK_GRACE: str(fallback_grace_seconds),
        config.COOLDOWN: str(cooldown_seconds),
        config.REPLACEMENT_TIMEOUT: str(replacement_timeout_seconds),
        config.DRAIN_TIMEOUT: str(drain_timeout_seconds),
        config.REPLACE_ON_DEMAND: "true" if replace_on_demand else "false",
    }


def policy_document(
    *,
    partition: str,
    region: str,
    account_id: str,
    cluster: str,
    group: str,
    launch_template_arn: str,
    node_role_arn: str,
) -> dict[str, Any]:
    """The IAM policy of the function's role, scoped to one cluster and one group.

    Besides the calls the code makes, what AWS checks when a group's mixed
    instances policy is updated: the caller's permission to launch from the
    group's launch template ("Permissions ... are checked when an Auto Scaling
    group is created or updated using a launch template":
    ec2:RunInstances, ec2:CreateTags for the template's tag specifications, and
    iam:PassRole for its instance profile; AWS: Control Amazon EC2 launch template
    usage in Auto Scaling groups, and Amazon EC2 Auto Scaling API permissions).
    Each is scoped: RunInstances only from this launch template, CreateTags only
    as part of a launch, PassRole only of the node role, only to EC2.
    """
    cluster_arn = f"arn:{partition}:ecs:{region}:{account_id}:cluster/{cluster}"
    container_instances = (
        f"arn:{partition}:ecs:{region}:{account_id}:container-instance/{cluster}/*"
    )
    group_arn = (
        f"arn:{partition}:autoscaling:{region}:{account_id}:autoScalingGroup:*"
        f":autoScalingGroupName/{group}"
    )
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                # These Describe calls support no resource-level permissions.
                "Sid": "ReadGroupAndInstances",
                "Effect": "Allow",
                "Action": [
                    "autoscaling:DescribeAutoScalingGroups",
                    "autoscaling:DescribeScalingActivities",
                    "ec2:DescribeInstances",
                ],
                "Resource": "*",
            },
            {
                "Sid": "AdjustTheGroup",
                "Effect": "Allow",
                "Action": [
                    "autoscaling:UpdateAutoScalingGroup",
                    "autoscaling:SetDesiredCapacity",
                    "autoscaling:SetInstanceProtection",
                    "autoscaling:TerminateInstanceInAutoScalingGroup",
                ],
                "Resource": group_arn,
            },
            {
                "Sid": "KeepStateInGroupTags",
                "Effect": "Allow",
                "Action": "autoscaling:CreateOrUpdateTags",
                "Resource": group_arn,
                "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": list(STATE_TAGS)}},
            },
            {
                # The function never launches; AWS checks these on UpdateAutoScalingGroup.
                "Sid": "LaunchFromTheGroupsTemplate",
                "Effect": "Allow",
                "Action": "ec2:RunInstances",
                "Resource": "*",
                "Condition": {"ArnEquals": {"ec2:LaunchTemplate": launch_template_arn}},
            },
            {
                "Sid": "TagAtLaunch",
                "Effect": "Allow",
                "Action": "ec2:CreateTags",
                "Resource": "*",
                "Condition": {"StringEquals": {"ec2:CreateAction": "RunInstances"}},
            },
            {
                "Sid": "PassTheNodeRole",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": node_role_arn,
                "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
            },
            {
                "Sid": "ListContainerInstances",
                "Effect": "Allow",
                "Action": "ecs:ListContainerInstances",
                "Resource": cluster_arn,
            },
            {
                "Sid": "DrainContainerInstances",
                "Effect": "Allow",
                "Action": ["ecs:DescribeContainerInstances", "ecs:UpdateContainerInstancesState"],
                "Resource": container_instances,
                "Condition": {"ArnEquals": {"ecs:cluster": cluster_arn}},
            },
        ],
    }
