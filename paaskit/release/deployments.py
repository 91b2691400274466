"""The deploy check: after `pulumi up` updated a service, is its new task definition what runs?

pulumi-aws waits for a service to be steady (`wait_for_steady_state`), but a
service whose deployment the circuit breaker rolled back is steady too: on
its old task definition (terraform-provider-aws#20858). The App invokes this
check after each service update; it passes when the service's PRIMARY
deployment runs the requested task definition and its rollout COMPLETED, and
otherwise raises `DeployFailed`, which fails `pulumi up` with the rollout's
state and reason, the service's latest events (the circuit breaker's
messages) and why the new version's tasks stopped.

The event (built by the component):

    {"action": "verify", "cluster": "<cluster ARN>", "service": "<service name>",
     "taskDefinition": "<task definition ARN>", "timeoutSeconds": 600, "pollSeconds": 5}
"""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

__all__ = [
    "DeployFailed",
    "verify_deployment",
]

_EVENTS_SHOWN = 5
_STOPPED_SHOWN = 5


class DeployFailed(Exception):
    """The new version of a service is not what runs; the message says what happened."""


def _describe(ecs: Any, cluster: str, service: str) -> dict[str, Any]:
    try:
        found = ecs.describe_services(cluster=cluster, services=[service])
    except (BotoCoreError, ClientError) as exc:
        raise DeployFailed(f"cannot check service {service} on {cluster}: {exc}") from exc
    services = found.get("services") or []
    if not services:
        raise DeployFailed(f"service {service} not found on {cluster}: {found.get('failures')}")
    return dict(services[0])


def _stopped_reasons(ecs: Any, cluster: str, service: str, task_definition: str) -> list[str]:
    """Why the requested version's tasks stopped: the task's reason and each container's."""
    try:
        arns = ecs.list_tasks(cluster=cluster, serviceName=service, desiredStatus="STOPPED")[
            "taskArns"
        ]
        tasks = ecs.describe_tasks(cluster=cluster, tasks=arns[:100])["tasks"] if arns else []
    except (BotoCoreError, ClientError) as exc:
        return [f"(stopped tasks could not be read: {exc})"]
    reasons = []
    for task in tasks:
        if task.get("taskDefinitionArn") != task_definition:
            continue
        parts = [str(task.get("stoppedReason") or "no reason given")]
        for container in task.get("containers", []):
            detail = container.get("reason")
            code = container.get("exitCode")
            if detail or code not in (None, 0):
                parts.append(f"{container.get('name')}: exit code {code}, {detail or 'no reason'}")
        reasons.append("; ".join(parts))
    return reasons[:_STOPPED_SHOWN]


def _failure(
    ecs: Any, cluster: str, service: dict[str, Any], task_definition: str, summary: str
) -> DeployFailed:
    name = str(service.get("serviceName"))
    primary: dict[str, Any] = next(
        (d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"), {}
    )
    lines = [
        f"deploy of service {name} failed: {summary}",
        f"  requested task definition: {task_definition}",
        f"  running task definition:   {primary.get('taskDefinition')}",
        f"  rollout: {primary.get('rolloutState')} ({primary.get('rolloutStateReason') or 'no reason given'})",
    ]
    events = [str(e.get("message")) for e in service.get("events", [])[:_EVENTS_SHOWN]]
    if events:
        lines.append("  latest service events:")
        lines += [f"    - {message}" for message in events]
    stopped = _stopped_reasons(ecs, cluster, name, task_definition)
    if stopped:
        lines.append("  why the new version's tasks stopped:")
        lines += [f"    - {reason}" for reason in stopped]
    return DeployFailed("\n".join(lines))


def verify_deployment(
    event: dict[str, Any], *, ecs: Any, remaining_seconds: float
) -> dict[str, Any]:
    """Pass once the service's PRIMARY deployment runs the event's task definition and COMPLETED;
    raise `DeployFailed` when it was rolled back, failed or did not finish in time."""
    cluster, name, wanted = event["cluster"], event["service"], event["taskDefinition"]
    timeout = min(float(event.get("timeoutSeconds", 600)), remaining_seconds - 20)
    poll = float(event.get("pollSeconds", 5))
    deadline = time.monotonic() + timeout
    while True:
        service = _describe(ecs, cluster, name)
        deployments = service.get("deployments", [])
        primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
        if primary is None:
            raise _failure(ecs, cluster, service, wanted, "it has no PRIMARY deployment")
        if primary.get("taskDefinition") != wanted:
            raise _failure(
                ecs,
                cluster,
                service,
                wanted,
                "the new version is not what runs (the deployment circuit breaker rolled it "
                "back, or another deploy replaced it)",
            )
        state = primary.get("rolloutState")
        if state == "FAILED":
            raise _failure(ecs, cluster, service, wanted, "its rollout FAILED")
        settled = len(deployments) == 1 and primary.get("runningCount") == primary.get(
            "desiredCount"
        )
        if state == "COMPLETED" or (state is None and settled):
            return {
                "status": "verified",
                "service": name,
                "taskDefinition": wanted,
                "deployment": primary.get("id"),
            }
        if time.monotonic() >= deadline:
            raise _failure(
                ecs,
                cluster,
                service,
                wanted,
                f"its rollout is still {state} after {int(timeout)} s",
            )
        time.sleep(poll)
