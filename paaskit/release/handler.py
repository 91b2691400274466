"""An app's deploy runner: run its release command (e.g. migrations), write its link secrets, check its deploys.

One Lambda function per app, invoked with an `action`:

- `release` (the default, for events without one): run the release command
  as a one-off ECS task and wait for it (below);
- `link`: write a linked resource's URL and password into the app's link
  secret, and on a rotation restart the services that read it (`links.py`);
- `verify`: check that a service's new task definition is what runs after
  `pulumi up` updated it (`deployments.py`);
- `record`: once every service's check passed, write the release record of
  the deploy (`recorder.py`, `records.py`).

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
      "networkConfiguration": {"awsvpcConfiguration": {...}},  (an internal service's only)
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
that it started for the same task definition and command
(`tasks.running_task`), and waits for that one instead.

The one-off task itself (start it on the rack's capacity, wait for it, stop it
when it runs too long, read how it ended) is `tasks.py`, which `paaskit run`
uses too. The action returns the release's result, which the `record` action
keeps in the deploy's release record:

    {"status": "succeeded", "taskArn": "...", "task": "<task id>", "exitCode": 0,
     "command": ["python", "manage.py", "migrate"], "attached": false}
"""

from __future__ import annotations

import json
import shlex
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from . import tasks
from .deployments import DeployFailed, verify_deployment
from .links import LinkFailed, write_link
from .recorder import RecordFailed, record_release

__all__ = [
    "STARTED_BY",
    "DeployFailed",
    "LinkFailed",
    "RecordFailed",
    "ReleaseFailed",
    "handler",
    "run_release",
]

STARTED_BY = tasks.RELEASE_STARTED_BY
_SAFETY_SECONDS = 20  # left to stop the task and report before Lambda's own timeout


class ReleaseFailed(Exception):
    """The release did not succeed; the message says why (shown by `pulumi up`)."""


def _log(message: str, **fields: Any) -> None:
    print(json.dumps({"message": message, **fields}, default=str))


def _remaining_seconds(context: Any, fallback: float) -> float:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining() / 1000.0 if callable(remaining) else fallback


def run_release(
    event: dict[str, Any], *, remaining_seconds: float, ecs: Any = None
) -> dict[str, Any]:
    """Start the release task (or join the one already running), wait until it stops, and
    return its result or raise `ReleaseFailed`."""
    ecs = ecs or boto3.client("ecs")
    cluster = event["cluster"]
    task_definition = event["taskDefinition"]
    container = event["container"]
    command = [str(word) for word in event["command"]]
    shown = shlex.join(command)
    try:
        task = tasks.running_task(
            ecs,
            cluster=cluster,
            task_definition=task_definition,
            container=container,
            command=command,
            started_by=STARTED_BY,
        )
    except (BotoCoreError, ClientError) as exc:
        raise ReleaseFailed(f"cannot look for a running release on {cluster}: {exc}") from exc
    attached = task is not None
    if task is None:
        capacity = event.get("capacityProvider")
        try:
            task = tasks.start_task(
                ecs,
                cluster=cluster,
                task_definition=task_definition,
                container=container,
                command=command,
                started_by=STARTED_BY,
                capacity_provider_strategy=(
                    [{"capacityProvider": capacity, "weight": 1}] if capacity else None
                ),
                # An internal service's task definition is awsvpc: RunTask must place it in
                # the service's network.
                network_configuration=event.get("networkConfiguration") or None,
            )
        except (tasks.TaskError, BotoCoreError, ClientError) as exc:
            raise ReleaseFailed(f"release {shown!r} could not start: {exc}") from exc
        _log("release started", task=task["taskArn"], command=command)
    else:
        _log("release already running: waiting for it", task=task["taskArn"], command=command)
    arn = str(task["taskArn"])
    timeout = min(float(event.get("timeoutSeconds", 840)), remaining_seconds - _SAFETY_SECONDS)
    seen = [task.get("lastStatus")]

    def progress(current: dict[str, Any]) -> None:
        # One line per change of state, in the runner's log group: where a stuck release shows.
        if current.get("lastStatus") != seen[0]:
            seen[0] = current.get("lastStatus")
            _log("release task " + str(seen[0]), task=arn)

    try:
        stopped = tasks.wait_for_task(
            ecs,
            cluster=cluster,
            task_arn=arn,
            timeout=timeout,
            poll_seconds=float(event.get("pollSeconds", 5)),
            on_poll=progress,
        )
    except tasks.TaskTimeout:
        tasks.stop_task(ecs, cluster=cluster, task_arn=arn, reason="paaskit: release timed out")
        raise ReleaseFailed(
            f"release {shown!r} did not finish within {int(timeout)} s and was stopped ({arn})"
        ) from None
    except (tasks.TaskError, BotoCoreError, ClientError) as exc:
        raise ReleaseFailed(f"release {shown!r}: lost track of its task {arn}: {exc}") from exc
    outcome = tasks.result(stopped, container)
    if not outcome.succeeded:
        raise ReleaseFailed(
            f"release {shown!r} failed with exit code {outcome.exit_code}: "
            f"{outcome.reason or 'no reason given'} ({arn})"
        )
    _log("release succeeded", task=arn)
    return {
        "status": "succeeded",
        "taskArn": arn,
        "task": tasks.task_id(arn),
        "exitCode": 0,
        "command": command,
        "attached": attached,
    }


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
    if action == "record":
        result = record_release(event, ssm=boto3.client("ssm"))
        _log("release record " + result["status"], **result)
        return result
    raise ValueError(f"unknown action {action!r} (known: release, link, verify, record)")
