"""The EventBridge events the spot Lambda receives, parsed into small typed records.

Shapes as AWS documents them (only the fields used here):

``EC2 Spot Instance Interruption Warning`` (source ``aws.ec2``), two minutes before
a spot instance is reclaimed::

    {"detail-type": "EC2 Spot Instance Interruption Warning", "source": "aws.ec2",
     "time": "...", "resources": ["arn:aws:ec2:...:instance/i-..."],
     "detail": {"instance-id": "i-...", "instance-action": "terminate|stop|hibernate"}}

``EC2 Instance Rebalance Recommendation`` (source ``aws.ec2``)::

    {"detail-type": "EC2 Instance Rebalance Recommendation", "source": "aws.ec2",
     "detail": {"instance-id": "i-..."}}

``EC2 Instance Launch Unsuccessful`` (source ``aws.autoscaling``)::

    {"detail-type": "EC2 Instance Launch Unsuccessful", "source": "aws.autoscaling",
     "detail": {"StatusCode": "Failed", "AutoScalingGroupName": "...", "ActivityId": "...",
                "StatusMessage": "Could not launch Spot Instances. InsufficientInstanceCapacity
                                  - There is no Spot capacity available that matches your
                                  request. Launching EC2 instance failed.",
                "StartTime": "...", "EndTime": "...", "Cause": "...", ...}}

``Scheduled Event`` (source ``aws.events``) from a ``rate(...)`` rule. An operator
may ask for a reconcile with ``{"action": "reconcile"}``: sent to the group's FIFO
queue (message group id: the group's name), it runs in turn with the others;
invoked directly, it runs at once, possibly beside a queued one, which is
only safe while the schedule and launch failures are not flowing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from paaskit.spot.decision import Activity

__all__ = [
    "INTERRUPTION",
    "LAUNCH_UNSUCCESSFUL",
    "REBALANCE",
    "SCHEDULED",
    "Event",
    "EventError",
    "InterruptionWarning",
    "LaunchUnsuccessful",
    "RebalanceRecommendation",
    "Reconcile",
    "Unrecognised",
    "parse_event",
    "parse_time",
]

INTERRUPTION = "EC2 Spot Instance Interruption Warning"
REBALANCE = "EC2 Instance Rebalance Recommendation"
LAUNCH_UNSUCCESSFUL = "EC2 Instance Launch Unsuccessful"
SCHEDULED = "Scheduled Event"

_INSTANCE_ID = re.compile(r"^i-[0-9a-f]{8,17}$")


class EventError(ValueError):
    """An event of a known type that lacks what it should carry."""


@dataclass(frozen=True)
class InterruptionWarning:
    instance_id: str
    action: str
    time: datetime | None


@dataclass(frozen=True)
class RebalanceRecommendation:
    instance_id: str


@dataclass(frozen=True)
class LaunchUnsuccessful:
    group_name: str
    activity: Activity


@dataclass(frozen=True)
class Reconcile:
    """A scheduled or manual run."""

    time: datetime | None


@dataclass(frozen=True)
class Unrecognised:
    source: str
    detail_type: str


Event = (
    InterruptionWarning | RebalanceRecommendation | LaunchUnsuccessful | Reconcile | Unrecognised
)


def parse_time(value: object) -> datetime | None:
    """An EventBridge / Auto Scaling timestamp ("2024-05-01T12:00:00Z" or with offset)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _instance_id(detail: Mapping[str, Any], detail_type: str) -> str:
    instance_id = detail.get("instance-id")
    # Validated because it goes into an ECS cluster query ("ec2InstanceId == ...").
    if not isinstance(instance_id, str) or not _INSTANCE_ID.match(instance_id):
        raise EventError(f"{detail_type} event without a valid instance-id: {instance_id!r}")
    return instance_id


def parse_event(event: Mapping[str, Any]) -> Event:
    """Recognise one of the events above; anything else is ``Unrecognised``."""
    source = str(event.get("source", ""))
    detail_type = str(event.get("detail-type", ""))
    raw_detail = event.get("detail")
    detail: Mapping[str, Any] = raw_detail if isinstance(raw_detail, Mapping) else {}
    time = parse_time(event.get("time"))
    if source == "aws.ec2" and detail_type == INTERRUPTION:
        return InterruptionWarning(
            instance_id=_instance_id(detail, detail_type),
            action=str(detail.get("instance-action", "terminate")),
            time=time,
        )
    if source == "aws.ec2" and detail_type == REBALANCE:
        return RebalanceRecommendation(instance_id=_instance_id(detail, detail_type))
    if source == "aws.autoscaling" and detail_type == LAUNCH_UNSUCCESSFUL:
        group_name = detail.get("AutoScalingGroupName")
        if not isinstance(group_name, str) or not group_name:
            raise EventError(f"{detail_type} event without an AutoScalingGroupName")
        start = parse_time(detail.get("StartTime")) or time or datetime.now(UTC)
        message = " ".join(
            str(detail[k]) for k in ("StatusMessage", "Description") if detail.get(k)
        )
        activity = Activity(
            activity_id=str(detail.get("ActivityId") or event.get("id") or ""),
            status_code=str(detail.get("StatusCode", "Failed")),
            message=message,
            start_time=start,
        )
        return LaunchUnsuccessful(group_name=group_name, activity=activity)
    if (source == "aws.events" and detail_type == SCHEDULED) or event.get("action") == "reconcile":
        return Reconcile(time=time)
    return Unrecognised(source=source, detail_type=detail_type)
