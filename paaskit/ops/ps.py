"""`paaskit ps APP`: the app's running tasks, per service.

Every task of the app runs one of its services' task definition families: the
service's own tasks, release tasks, `paaskit run` tasks and timer tasks. They
are listed per family (ListTasks by family), and told apart by how they were
started: `group` `service:<ECS service>` for the service's own,
`startedBy` `paaskit-release` / `paaskit-run` for one-offs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from paaskit.release.tasks import RELEASE_STARTED_BY, RUN_STARTED_BY

from .aws import Aws
from .discovery import App
from .fields import family, iso, short_task_definition, task_id
from .releases import history, release_of_task_definition

__all__ = ["describe_tasks", "list_task_arns", "ps", "task_kind"]

_DESCRIBE_TASKS_BATCH = 100


def list_task_arns(aws: Aws, cluster: str, **filters: str) -> list[str]:
    """ListTasks on `cluster` with `filters` (family, serviceName, desiredStatus...), every page."""
    paginator = aws.client("ecs").get_paginator("list_tasks")
    arns: list[str] = []
    for page in paginator.paginate(cluster=cluster, **filters):
        arns.extend(page.get("taskArns", []))
    return arns


def describe_tasks(aws: Aws, cluster: str, arns: list[str]) -> list[dict[str, Any]]:
    """DescribeTasks for `arns`, 100 at a time."""
    ecs = aws.client("ecs")
    tasks: list[dict[str, Any]] = []
    for start in range(0, len(arns), _DESCRIBE_TASKS_BATCH):
        batch = arns[start : start + _DESCRIBE_TASKS_BATCH]
        tasks.extend(ecs.describe_tasks(cluster=cluster, tasks=batch).get("tasks", []))
    return tasks


def task_kind(task: dict[str, Any], ecs_service_name: str) -> str:
    """`service`, `release`, `run` or `one-off` (a timer's, or started by hand)."""
    if task.get("group") == f"service:{ecs_service_name}":
        return "service"
    started_by = task.get("startedBy") or ""
    if started_by == RELEASE_STARTED_BY:
        return "release"
    if started_by == RUN_STARTED_BY:
        return "run"
    return "one-off"


def _nodes(aws: Aws, cluster: str, tasks: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Container instance ARN -> its EC2 instance id and zone."""
    arns = sorted({t["containerInstanceArn"] for t in tasks if t.get("containerInstanceArn")})
    nodes: dict[str, dict[str, str]] = {}
    ecs = aws.client("ecs")
    for start in range(0, len(arns), 100):
        described = ecs.describe_container_instances(
            cluster=cluster, containerInstances=arns[start : start + 100]
        )
        for instance in described.get("containerInstances", []):
            attributes = {a["name"]: a.get("value") for a in instance.get("attributes", [])}
            nodes[instance["containerInstanceArn"]] = {
                "instance": instance.get("ec2InstanceId", ""),
                "zone": attributes.get("ecs.availability-zone") or "",
            }
    return nodes


def _container(task: dict[str, Any], name: str) -> dict[str, Any]:
    return next((c for c in task.get("containers", []) if c.get("name") == name), {})


def _service_tasks(aws: Aws, app: App) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(service name, ECS service name, task) for every running task of the app's families."""
    cluster = app.rack.cluster_arn
    for name, description in app.described.items():
        task_family = family(description.get("taskDefinition", ""))
        arns = list_task_arns(aws, cluster, family=task_family, desiredStatus="RUNNING")
        for task in describe_tasks(aws, cluster, arns):
            yield name, description.get("serviceName", ""), task


def ps(aws: Aws, app: App) -> dict[str, Any]:
    """The data of `paaskit ps APP`."""
    past = history(aws, app)
    found = list(_service_tasks(aws, app))
    nodes = _nodes(aws, app.rack.cluster_arn, [task for _, _, task in found])
    rows = []
    for service, ecs_name, task in found:
        container = _container(task, service)
        task_definition = short_task_definition(task.get("taskDefinitionArn", ""))
        node = nodes.get(task.get("containerInstanceArn", ""), {})
        rows.append(
            {
                "service": service,
                "id": task_id(task["taskArn"]),
                "arn": task["taskArn"],
                "kind": task_kind(task, ecs_name),
                "status": task.get("lastStatus"),
                "desiredStatus": task.get("desiredStatus"),
                "health": task.get("healthStatus") or container.get("healthStatus"),
                "startedAt": iso(task.get("startedAt")),
                "taskDefinition": task_definition,
                "release": release_of_task_definition(past, service, task_definition),
                "image": container.get("image"),
                "imageDigest": container.get("imageDigest"),
                "node": node.get("instance") or None,
                "zone": node.get("zone") or task.get("availabilityZone"),
                "capacityProvider": task.get("capacityProviderName"),
            }
        )
    rows.sort(key=lambda r: (r["service"], r["kind"] != "service", r["startedAt"] or "", r["id"]))
    return {"app": app.name, "rack": app.rack.name, "tasks": rows}
