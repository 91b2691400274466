"""The Lambda entry point: ``paaskit.spot.handler.handler(event, context)``.

One function serves every EventBridge rule of a rack's spot cluster
(``paaskit.spot.wiring.event_patterns``). Interruption warnings and rebalance
recommendations invoke it directly (asynchronously: a drain must not wait
behind anything). Launch failures and the schedule reach it through an SQS
FIFO queue with one message group per group (``wiring.QUEUED_ROLES``), so that
no two invocations ever decide on the same group at once: SQS hands a message
group to one consumer at a time, and the event source mapping delivers it
in batches (``handle_batch``). Every reconcile-type message of a batch (a
schedule tick, a launch failure) means "look at the group now": the batch
makes one reconcile, with the launch failures' activities added.

- ``EC2 Spot Instance Interruption Warning``: the node has two minutes left.
  Its ECS container instance (looked up by EC2 instance id in this cluster) is
  set to DRAINING at once, so ECS starts replacement tasks elsewhere and takes
  the old ones out of the load balancer before the node dies. Idempotent; an
  instance of another cluster is logged and ignored (the rule cannot filter by
  cluster: the event carries only the instance id).
- ``EC2 Instance Rebalance Recommendation``: logged only. The group's capacity
  rebalancing already launches a replacement; draining on a mere
  recommendation would move tasks for nothing most of the time.
- ``EC2 Instance Launch Unsuccessful`` for this group, and a schedule: read the
  group, decide (``paaskit.spot.decision``), apply (``paaskit.spot.aws``). The
  event's own activity is added to the ones the group reports, as
  DescribeScalingActivities may lag behind the event. (Invoked directly, as
  in tests, they reconcile too; in a deployed rack they come through the queue.)

Configuration: environment variables, described with their defaults in
``paaskit.spot.config``: ``PAASKIT_CLUSTER`` and ``PAASKIT_ASG`` (required),
``PAASKIT_ON_DEMAND_BASE`` and ``PAASKIT_ON_DEMAND_PERCENTAGE`` (the configured
distribution), ``PAASKIT_FALLBACK_ON_DEMAND_PERCENTAGE``,
``PAASKIT_SPOT_COOLDOWN_SECONDS``, ``PAASKIT_REPLACEMENT_TIMEOUT_SECONDS``,
``PAASKIT_DRAIN_TIMEOUT_SECONDS``, ``PAASKIT_REPLACE_ON_DEMAND``. AWS credentials
and region come from the Lambda role and runtime. Logs: one JSON object per
line (``paaskit.spot.log``). Errors of a direct invocation propagate, so
Lambda's retries of asynchronous events apply; in a batch, a failed reconcile
reports its messages as failed (``batchItemFailures``: they come back after the
queue's visibility timeout, then go to its dead-letter queue). A malformed
event is logged and dropped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from paaskit.spot.aws import Clients, apply, drain_instance, read_activities, read_group
from paaskit.spot.config import RuntimeConfig
from paaskit.spot.decision import Activity, decide, merge_activities
from paaskit.spot.events import (
    EventError,
    InterruptionWarning,
    LaunchUnsuccessful,
    RebalanceRecommendation,
    Reconcile,
    parse_event,
)
from paaskit.spot.log import log

__all__ = ["handle", "handle_batch", "handler", "is_batch", "reconcile"]


def reconcile(
    clients: Clients,
    config: RuntimeConfig,
    *,
    now: datetime | None = None,
    extra_activities: Sequence[Activity] = (),
) -> dict[str, Any]:
    """Read the group, decide its next step, apply it. Returns a summary (also logged)."""
    now = now or datetime.now(UTC)
    group = read_group(clients, config)
    activities = merge_activities(read_activities(clients, config.group), extra_activities)
    decision = decide(group, activities, config.settings, now)
    done = apply(clients, config, group, decision)
    summary: dict[str, Any] = {
        "result": "reconciled",
        "group": group.name,
        "desired": group.desired,
        "nodes": len(group.nodes),
        "on_demand_nodes": sum(1 for n in group.nodes if n.lifecycle == "on-demand"),
        "in_fallback": decision.state.fallback_since is not None,
        "reasons": list(decision.reasons),
        "actions": done,
    }
    # A group running on its on-demand fallback is worth a warning: it costs more.
    log("warning" if summary["in_fallback"] else "info", "reconciled", **summary)
    return summary


def is_batch(event: Mapping[str, Any]) -> bool:
    """An SQS event source mapping's batch (``{"Records": [{"eventSource": "aws:sqs", ...}]}``)."""
    records = event.get("Records")
    return isinstance(records, list) and all(
        isinstance(r, Mapping) and r.get("eventSource") == "aws:sqs" for r in records
    )


def handle_batch(
    event: Mapping[str, Any], config: RuntimeConfig, clients: Clients
) -> dict[str, Any]:
    """A batch from the FIFO queue: one reconcile for all its reconcile-type messages.

    Returns the partial batch response (``ReportBatchItemFailures``): the ids of
    the messages to deliver again, those whose work failed.
    """
    failed: list[str] = []
    reconciling: list[str] = []
    activities: list[Activity] = []
    for record in event["Records"]:
        message_id = str(record.get("messageId", ""))
        try:
            body = json.loads(record.get("body") or "")
        except ValueError:
            body = None
        if not isinstance(body, Mapping):
            log("error", "malformed message dropped", message_id=message_id)
            continue
        try:
            parsed = parse_event(body)
        except EventError as error:
            log("error", "malformed event dropped", error=str(error), message_id=message_id)
            continue
        if isinstance(parsed, LaunchUnsuccessful) and parsed.group_name == config.group:
            log(
                "info",
                "launch unsuccessful",
                group=parsed.group_name,
                activity_id=parsed.activity.activity_id,
                status_message=parsed.activity.message,
            )
            activities.append(parsed.activity)
            reconciling.append(message_id)
        elif isinstance(parsed, Reconcile):
            reconciling.append(message_id)
        else:
            try:
                handle(body, config, clients)
            except Exception as error:  # reported as a failed message
                log("error", "message failed", error=f"{type(error).__name__}: {error}")
                failed.append(message_id)
    if reconciling:
        try:
            reconcile(clients, config, extra_activities=activities)
        except Exception as error:  # reported as failed messages
            log(
                "error",
                "reconcile failed; its messages come back after the visibility timeout",
                error=f"{type(error).__name__}: {error}",
                group=config.group,
            )
            failed.extend(reconciling)
    return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}


def handle(event: Mapping[str, Any], config: RuntimeConfig, clients: Clients) -> dict[str, Any]:
    """Dispatch one event or batch; the Lambda handler without the environment plumbing."""
    if is_batch(event):
        return handle_batch(event, config, clients)
    try:
        parsed = parse_event(event)
    except EventError as error:
        log("error", "malformed event dropped", error=str(error), event_id=event.get("id"))
        return {"result": "dropped", "error": str(error)}

    if isinstance(parsed, InterruptionWarning):
        outcome = drain_instance(clients, config.cluster, parsed.instance_id)
        log(
            "info" if outcome != "not-in-cluster" else "debug",
            "spot interruption warning",
            instance_id=parsed.instance_id,
            instance_action=parsed.action,
            cluster=config.cluster,
            outcome=outcome,
        )
        return {"result": outcome, "instance_id": parsed.instance_id}

    if isinstance(parsed, RebalanceRecommendation):
        log(
            "info",
            "rebalance recommendation (capacity rebalancing acts on it; not draining)",
            instance_id=parsed.instance_id,
        )
        return {"result": "logged", "instance_id": parsed.instance_id}

    if isinstance(parsed, LaunchUnsuccessful):
        if parsed.group_name != config.group:
            log("debug", "launch failure of another group ignored", group=parsed.group_name)
            return {"result": "ignored", "group": parsed.group_name}
        log(
            "info",
            "launch unsuccessful",
            group=parsed.group_name,
            activity_id=parsed.activity.activity_id,
            status_message=parsed.activity.message,
        )
        return reconcile(clients, config, extra_activities=[parsed.activity])

    if isinstance(parsed, Reconcile):
        return reconcile(clients, config)

    log(
        "warning",
        "unrecognised event ignored",
        source=parsed.source,
        detail_type=parsed.detail_type,
    )
    return {"result": "ignored", "source": parsed.source, "detail_type": parsed.detail_type}


def handler(event: Mapping[str, Any], context: object = None) -> dict[str, Any]:
    """AWS Lambda entry point."""
    config = RuntimeConfig.from_env()
    try:
        return handle(event, config, Clients.create())
    except Exception as error:
        log(
            "error",
            "invocation failed",
            error=f"{type(error).__name__}: {error}",
            detail_type=event.get("detail-type"),
            group=config.group,
        )
        raise
