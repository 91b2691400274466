"""An app's deploy runner: run its release command (e.g. migrations), write its link secrets, check its deploys.

One Lambda function per app, invoked with an `action`:

- `release` (the default, for events without one): run the release command
  as a one-off ECS task and wait for it (below);
- `link`: write a linked resource's URL and password into the app's link
  secret, and on a rotation restart the services that read it (`links.py`);
- `verify`: check that a service's new task definition is what runs after
  `pulumi up` updated it (`deployments.py`).

Why a Lambda function: `pulumi up` must run the release after the new image
and task definition exist and before any service moves to them, and stop the
deploy if it fails, without extra plugins or tools on the deployer's machine.
The App component invokes this function through `aws.lambda_.Invocation`
(pulumi-aws), re-invoked whenever the task definition changes; its services
depend on that invocation. When this function raises, the invocation fails,
the services are not updated, and `pulumi up` shows the message raised here:
the exit code and stop reason of the release task.

The release event (built by the component):

    {
      "action": "release",
      "cluster": "<cluster ARN>",
      "taskDefinition": "<task definition ARN>",
      "container": "<container name>",
      "command": ["python", "manage.py", "migrate"],
      "capacityProvider": "<name>" | null,
      "timeoutSeconds": 840,
      "pollSeconds": 5
    }

Limits: Lambda runs at most 15 minutes, so a release must finish in about 14
(`timeoutSeconds`); a longer one is stopped and the deploy fails, saying so.
Long data migrations belong in a timer or a one-off task, not in a release.

A release is started at most once at a time: the AWS SDK in pulumi-aws may
send a long synchronous Invoke again after a transport error
(terraform-provider-aws#45773), and a second migration must not run beside
the first. So before starting a task, the runner looks for a running task
that it started for the same task definition and command, and waits for
that one instead.
"""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from .deployments import DeployFailed, verify_deployment
from .links import LinkFailed, write_link

__all__ = [
    "STARTED_BY",
    "DeployFailed",
    "LinkFailed",
    "ReleaseFailed",
    "handler",
    "run_release",
]

STARTED_BY = "paaskit-release"
_SAFETY_SECONDS = 20  # left to stop the task and report before Lambda's own timeout


class ReleaseFailed(Exception):
    """The release did not succeed; the message says why (shown by `pulumi up`)."""


def _log(message: str, **fields: Any) -> None:
    print(json.dumps({"message": message, **fields}, default=str))


def _remaining_seconds(context: Any, fallback: float) -> float:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining() / 1000.0 if callable(remaining) else fallback


def _running_release(
    ecs: Any, cluster: str, task_definition: str, container: str, command: list[str]
) -> str | None:
    """A release task this runner already started for the same task definition and command,
    still running (a retried invocation must attach to it, not start another)."""
    try:
        arns = ecs.list_tasks(cluster=cluster, startedBy=STARTED_BY, desiredStatus="RUNNING")[
            "taskArns"
        ]
        tasks = ecs.describe_tasks(cluster=cluster, tasks=arns[:100])["tasks"] if arns else []
    except (BotoCoreError, ClientError) as exc:
        raise ReleaseFailed(f"cannot look for a running release on {cluster}: {exc}") from exc
    for task in tasks:
        overrides = task.get("overrides", {}).get("containerOverrides", [])
        same_command = any(
            o.get("name") == container and list(o.get("command") or []) == command
            for o in overrides
        )
        if task.get("taskDefinitionArn") == task_definition and same_command:
            return str(task["taskArn"])
    return None


def run_release(
    event: dict[str, Any], *, remaining_seconds: float, ecs: Any = None
) -> dict[str, Any]:
    """Start the task (or attach to the one already running), wait until it stops, and return
    its result or raise `ReleaseFailed`."""
    ecs = ecs or boto3.client("ecs")
    cluster = event["cluster"]
    container = event["container"]
    command = list(event["command"])
    running = _running_release(ecs, cluster, event["taskDefinition"], container, command)
    if running is not None:
        _log("release already running: waiting for it", task=running, command=command)
        return _wait(ecs, event, running, remaining_seconds=remaining_seconds, attached=True)
    request: dict[str, Any] = {
        "cluster": cluster,
        "taskDefinition": event["taskDefinition"],
        "count": 1,
        "startedBy": STARTED_BY,
        "overrides": {"containerOverrides": [{"name": container, "command": command}]},
        "enableECSManagedTags": True,
        "propagateTags": "TASK_DEFINITION",
    }
    if event.get("capacityProvider"):
        request["capacityProviderStrategy"] = [
            {"capacityProvider": event["capacityProvider"], "weight": 1}
        ]
    if event.get("networkConfiguration"):
        # An internal service's task definition is awsvpc: RunTask must place it in a network.
        request["networkConfiguration"] = event["networkConfiguration"]
    try:
        started = ecs.run_task(**request)
    except (BotoCoreError, ClientError) as exc:
        raise ReleaseFailed(f"release could not start on {cluster}: {exc}") from exc
    if started.get("failures") or not started.get("tasks"):
        raise ReleaseFailed(f"release could not start on {cluster}: {started.get('failures')}")
    task_arn = started["tasks"][0]["taskArn"]
    _log("release started", task=task_arn, command=command)
    return _wait(ecs, event, task_arn, remaining_seconds=remaining_seconds, attached=False)


def _wait(
    ecs: Any, event: dict[str, Any], task_arn: str, *, remaining_seconds: float, attached: bool
) -> dict[str, Any]:
    """Wait for the release task to stop; its result, or `ReleaseFailed`."""
    cluster = event["cluster"]
    container = event["container"]
    command = list(event["command"])
    timeout = min(float(event.get("timeoutSeconds", 840)), remaining_seconds - _SAFETY_SECONDS)
    poll = float(event.get("pollSeconds", 5))
    deadline = time.monotonic() + timeout
    task: dict[str, Any] = {}
    while time.monotonic() < deadline:
        described = ecs.describe_tasks(cluster=cluster, tasks=[task_arn])
        task = (described.get("tasks") or [{}])[0]
        if task.get("lastStatus") == "STOPPED":
            break
        time.sleep(poll)
    else:
        ecs.stop_task(cluster=cluster, task=task_arn, reason="paaskit: release timed out")
        raise ReleaseFailed(
            f"release {' '.join(command)!r} did not finish within {int(timeout)} s and was stopped ({task_arn})"
        )

    result: dict[str, Any] = next(
        (c for c in task.get("containers", []) if c.get("name") == container), {}
    )
    exit_code = result.get("exitCode")
    if exit_code == 0:
        _log("release succeeded", task=task_arn)
        return {"status": "succeeded", "taskArn": task_arn, "exitCode": 0, "attached": attached}
    reason = result.get("reason") or task.get("stoppedReason") or "no reason given"
    raise ReleaseFailed(
        f"release {' '.join(command)!r} failed with exit code {exit_code}: {reason} ({task_arn})"
    )


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point: the event's `action` (`release` when it names none)."""
    action = event.get("action", "release")
    remaining = _remaining_seconds(context, 900.0)
    if action == "release":
        return run_release(event, remaining_seconds=remaining)
    if action == "link":
        result = write_link(event, secrets=boto3.client("secretsmanager"), ecs=boto3.client("ecs"))
        _log("link secret " + result["status"], **result)
        return result
    if action == "verify":
        result = verify_deployment(event, ecs=boto3.client("ecs"), remaining_seconds=remaining)
        _log("deploy verified", **result)
        return result
    raise ValueError(f"unknown action {action!r} (known: release, link, verify)")
