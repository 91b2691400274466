"""The Lambda entry point: ``paaskit.spot.handler.handler(event, context)``.

One function serves every EventBridge rule of a rack's spot cluster
(``paaskit.spot.wiring.event_patterns``):

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
  DescribeScalingActivities may lag behind the event.

Configuration: environment variables, described with their defaults in
``paaskit.spot.config``: ``PAASKIT_CLUSTER`` and ``PAASKIT_ASG`` (required),
``PAASKIT_ON_DEMAND_BASE`` and ``PAASKIT_ON_DEMAND_PERCENTAGE`` (the configured
distribution), ``PAASKIT_FALLBACK_ON_DEMAND_PERCENTAGE``,
``PAASKIT_SPOT_COOLDOWN_SECONDS``, ``PAASKIT_REPLACEMENT_TIMEOUT_SECONDS``,
``PAASKIT_DRAIN_TIMEOUT_SECONDS``, ``PAASKIT_REPLACE_ON_DEMAND``. AWS credentials
and region come from the Lambda role and runtime. Logs: one JSON object per
line (``paaskit.spot.log``). Errors propagate, so Lambda's
retries of asynchronous events apply; a malformed event is logged and dropped.
"""

from __future__ import annotations

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


def handle(event: Mapping[str, Any], config: RuntimeConfig, clients: Clients) -> dict[str, Any]:
    """Dispatch one event; the Lambda handler without the environment plumbing."""
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
