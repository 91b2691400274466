"""`paaskit status APP`: how each service's deploy went, and why it failed if it did.

Per service, from ECS and the load balancer:

- the deployments (PRIMARY is the newest, ACTIVE ones are being replaced), each
  with its rollout state (IN_PROGRESS, COMPLETED, FAILED) and reason, and its
  failed-task count;
- the service's latest events, where ECS writes what the deployment circuit
  breaker did ("rolling back to deployment ...") and why tasks could not be
  placed;
- the tasks stopped recently (ECS keeps them about an hour), each with its stop
  code, reason and its containers' exit codes: the usual answer to "why";
- the targets of its target groups that are not healthy, with the load
  balancer's reason (failed health checks, timeouts).

A service is `failed` while its newest deployment has failed, `deploying`
while a rollout is in progress or tasks are missing, `stable` otherwise; once
the circuit breaker has rolled a failed deployment back the service is stable
again on the previous version, and `rolledBack` says so, with the event, for
as long as it is among the latest events. `healthy` is true when every service
is stable and none was rolled back.
"""

from __future__ import annotations

from typing import Any

from .aws import Aws
from .discovery import App
from .fields import iso, short_task_definition, task_id
from .ps import describe_tasks, list_task_arns

__all__ = ["rollback_event", "service_state", "status"]

EVENTS_SHOWN = 10
STOPPED_SHOWN = 10
_ROLLED_BACK = ("rolling back", "rolled back", "circuit breaker")


def _deployment(d: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": d.get("id"),
        "status": d.get("status"),
        "taskDefinition": short_task_definition(d.get("taskDefinition", "")),
        "rolloutState": d.get("rolloutState"),
        "rolloutStateReason": d.get("rolloutStateReason"),
        "desired": d.get("desiredCount", 0),
        "running": d.get("runningCount", 0),
        "pending": d.get("pendingCount", 0),
        "failedTasks": d.get("failedTasks", 0),
        "createdAt": iso(d.get("createdAt")),
        "updatedAt": iso(d.get("updatedAt")),
    }


def service_state(description: dict[str, Any]) -> str:
    """`stable`, `deploying` or `failed` (see the module's docstring)."""
    deployments = description.get("deployments", [])
    primary: dict[str, Any] = next((d for d in deployments if d.get("status") == "PRIMARY"), {})
    if primary.get("rolloutState") == "FAILED":
        return "failed"
    if primary.get("rolloutState") == "IN_PROGRESS" or len(deployments) > 1:
        return "deploying"
    if description.get("runningCount", 0) < description.get("desiredCount", 0):
        return "deploying"
    return "stable"


def rollback_event(description: dict[str, Any]) -> dict[str, Any] | None:
    """The newest of the latest events that says the circuit breaker rolled a deployment back."""
    for event in (description.get("events") or [])[:EVENTS_SHOWN]:
        if any(words in event.get("message", "").lower() for words in _ROLLED_BACK):
            return {"time": iso(event.get("createdAt")), "message": event.get("message")}
    return None


def _stopped_tasks(aws: Aws, app: App, ecs_service: str) -> list[dict[str, Any]]:
    cluster = app.rack.cluster_arn
    arns = list_task_arns(aws, cluster, serviceName=ecs_service, desiredStatus="STOPPED")
    group = f"service:{ecs_service}"
    stopped = [t for t in describe_tasks(aws, cluster, arns) if t.get("group") == group]
    stopped.sort(key=lambda t: t.get("stoppedAt") or t.get("createdAt") or 0, reverse=True)
    return [
        {
            "id": task_id(t["taskArn"]),
            "taskDefinition": short_task_definition(t.get("taskDefinitionArn", "")),
            "stoppedAt": iso(t.get("stoppedAt")),
            "stopCode": t.get("stopCode"),
            "stoppedReason": t.get("stoppedReason") or None,
            "containers": [
                {"name": c.get("name"), "exitCode": c.get("exitCode"), "reason": c.get("reason")}
                for c in t.get("containers", [])
            ],
        }
        for t in stopped[:STOPPED_SHOWN]
    ]


def _unhealthy_targets(aws: Aws, description: dict[str, Any]) -> list[dict[str, Any]]:
    elbv2 = aws.client("elbv2")
    targets = []
    for balancer in description.get("loadBalancers", []):
        group = balancer.get("targetGroupArn")
        if not group:
            continue
        for health in elbv2.describe_target_health(TargetGroupArn=group).get(
            "TargetHealthDescriptions", []
        ):
            state = health.get("TargetHealth", {})
            if state.get("State") == "healthy":
                continue
            targets.append(
                {
                    "targetGroup": group,
                    "target": health.get("Target", {}).get("Id"),
                    "port": health.get("Target", {}).get("Port"),
                    "state": state.get("State"),
                    "reason": state.get("Reason"),
                    "description": state.get("Description"),
                }
            )
    return targets


def status(aws: Aws, app: App) -> dict[str, Any]:
    """The data of `paaskit status APP`."""
    services = []
    for name, description in app.described.items():
        services.append(
            {
                "name": name,
                "state": service_state(description),
                "rolledBack": rollback_event(description),
                "desired": description.get("desiredCount", 0),
                "running": description.get("runningCount", 0),
                "pending": description.get("pendingCount", 0),
                "taskDefinition": short_task_definition(description.get("taskDefinition", "")),
                "deployments": [_deployment(d) for d in description.get("deployments", [])],
                "events": [
                    {"time": iso(e.get("createdAt")), "message": e.get("message")}
                    for e in (description.get("events") or [])[:EVENTS_SHOWN]
                ],
                "stoppedTasks": _stopped_tasks(aws, app, description.get("serviceName", "")),
                "unhealthyTargets": _unhealthy_targets(aws, description),
            }
        )
    return {
        "app": app.name,
        "rack": app.rack.name,
        "healthy": all(s["state"] == "stable" and not s["rolledBack"] for s in services),
        "services": services,
    }
