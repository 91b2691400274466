"""What the ``SpotCluster`` component needs to deploy the spot Lambda: plain data, no AWS calls.

- ``HANDLER``: the Lambda handler string; the zip holds an empty
  ``paaskit/__init__.py`` and ``paaskit/spot/*.py``, nothing else.
- ``event_patterns(group)``: one EventBridge rule per entry, all targeting the function.
- ``SCHEDULE_EXPRESSION``: the periodic rule that notices recovery and drives
  replacements (the Lambda costs nothing noticeable at this rate: ~43,000
  invocations a month, inside the free tier).
- ``environment(...)``: the function's environment variables.
- ``policy_document(...)``: the least-privilege IAM policy of its role (plus the
  usual CloudWatch Logs permissions for its own log group).

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

HANDLER = "paaskit.spot.handler.handler"

#: Every minute: a replacement step or the end of a fallback is noticed within a minute.
SCHEDULE_EXPRESSION = "rate(1 minute)"

#: A reconcile makes a handful of API calls (~1-2 s); 60 s leaves room for retries.
TIMEOUT_SECONDS = 60
MEMORY_MB = 128


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
    cooldown_seconds: int = 900,
    replacement_timeout_seconds: int = 600,
    drain_timeout_seconds: int = 300,
    replace_on_demand: bool = True,
) -> dict[str, str]:
    """The function's environment variables (meanings and defaults: ``paaskit.spot.config``)."""
    return {
        config.CLUSTER: cluster,
        config.GROUP: group,
        config.ON_DEMAND_BASE: str(on_demand_base),
        config.ON_DEMAND_PERCENTAGE: str(on_demand_percentage),
        config.FALLBACK_PERCENTAGE: str(fallback_percentage),
        config.COOLDOWN: str(cooldown_seconds),
        config.REPLACEMENT_TIMEOUT: str(replacement_timeout_seconds),
        config.DRAIN_TIMEOUT: str(drain_timeout_seconds),
        config.REPLACE_ON_DEMAND: "true" if replace_on_demand else "false",
    }


def policy_document(
    *, partition: str, region: str, account_id: str, cluster: str, group: str
) -> dict[str, Any]:
    """The IAM policy of the function's role, scoped to one cluster and one group."""
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
