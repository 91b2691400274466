"""One-off ECS tasks: start one with a command, wait for it, read its logs, stop it.

The release runner (in AWS Lambda) and `paaskit run` (on a user's machine) both
run an app's command as a task of a service's task definition; this module is
what they share. Standard library and boto3 only: it is packaged into the
release function as it is.

What a one-off task is, and why each choice:

- The task definition is the service's own (same image, settings, roles, log
  group); only the container's `command` is overridden. RunTask cannot override
  `entryPoint`, so the image's ENTRYPOINT still runs, as it does for the
  service.
- It is placed on the rack's capacity provider (or the service's launch type),
  so it lands on the rack's nodes like the service's tasks, and in the
  service's network when the service runs in awsvpc mode (an internal one).
- `startedBy` says who started it (`paaskit-release`, `paaskit-run`), so
  `paaskit ps` and the release runner can tell one-off tasks apart, and tags are
  propagated from the task definition (`paaskit:rack/app/service`) with ECS's
  managed tags, so the task is found by the same tags as the rest of the app.
- Its logs are the awslogs stream `<prefix>/<container>/<task id>` in the
  task definition's log group: read with GetLogEvents, forward, from the head.

The caller decides about time: `wait_for_task` polls until the task stops or a
deadline passes and calls back on every poll (progress, logs); stopping a task
that runs too long, or on Ctrl-C, is `stop_task`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "RELEASE_STARTED_BY",
    "RUN_STARTED_BY",
    "STOPPED",
    "LogLocation",
    "LogReader",
    "TaskError",
    "TaskResult",
    "TaskTimeout",
    "describe_task",
    "log_location",
    "result",
    "running_task",
    "start_task",
    "stop_task",
    "task_id",
    "wait_for_task",
]

RELEASE_STARTED_BY = "paaskit-release"
"""`startedBy` of release tasks (the release runner)."""

RUN_STARTED_BY = "paaskit-run"
"""`startedBy` of tasks started by `paaskit run`."""

STOPPED = "STOPPED"


class TaskError(Exception):
    """A one-off task could not be started or waited for; the message says why."""


class TaskTimeout(TaskError):
    """The task was still running at the deadline (it is not stopped: the caller decides)."""

    def __init__(self, message: str, task: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.task = dict(task)


@dataclass(frozen=True)
class TaskResult:
    """How a stopped task ended."""

    arn: str
    exit_code: int | None
    """The container's exit code; None when it never ran (e.g. its image could not be pulled)."""
    reason: str
    """The container's reason, else the task's stopped reason, else ''."""
    stop_code: str | None
    task: dict[str, Any] = field(repr=False, compare=False)

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0


@dataclass(frozen=True)
class LogLocation:
    """Where a task's container writes its logs (the awslogs driver's group and stream)."""

    group: str
    stream: str


def task_id(task_arn: str) -> str:
    """The id at the end of a task ARN (`arn:...:task/<cluster>/<id>` -> `<id>`)."""
    return task_arn.rsplit("/", 1)[-1]


def start_task(
    ecs: Any,
    *,
    cluster: str,
    task_definition: str,
    container: str,
    command: Sequence[str],
    started_by: str,
    capacity_provider_strategy: Sequence[Mapping[str, Any]] | None = None,
    launch_type: str | None = None,
    network_configuration: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Start one task of `task_definition` running `command` in `container`; return the task.

    `capacity_provider_strategy` (e.g. the service's own) or `launch_type`
    places it; with neither, the cluster's default strategy applies.
    `network_configuration` is RunTask's (an awsvpc task definition needs one:
    the service's own). Raises
    `TaskError` with ECS's reason when the task cannot be placed (no capacity,
    no such task definition...).
    """
    request: dict[str, Any] = {
        "cluster": cluster,
        "taskDefinition": task_definition,
        "count": 1,
        "startedBy": started_by,
        "overrides": {"containerOverrides": [{"name": container, "command": list(command)}]},
        "enableECSManagedTags": True,
        "propagateTags": "TASK_DEFINITION",
    }
    if capacity_provider_strategy:
        request["capacityProviderStrategy"] = [
            {
                key: entry[key]
                for key in ("capacityProvider", "weight", "base")
                if entry.get(key) is not None
            }
            for entry in capacity_provider_strategy
        ]
    elif launch_type:
        request["launchType"] = launch_type
    if network_configuration:
        request["networkConfiguration"] = dict(network_configuration)
    started = ecs.run_task(**request)
    failures = started.get("failures") or []
    if failures or not started.get("tasks"):
        reasons = "; ".join(
            f"{f.get('reason', 'unknown')}" + (f" ({f['detail']})" if f.get("detail") else "")
            for f in failures
        )
        raise TaskError(f"no task started on {cluster}: {reasons or 'ECS gave no reason'}")
    return dict(started["tasks"][0])


def running_task(
    ecs: Any,
    *,
    cluster: str,
    task_definition: str,
    container: str,
    command: Sequence[str],
    started_by: str,
) -> dict[str, Any] | None:
    """A task `started_by` started on `cluster` for `task_definition` with `command` in
    `container`, still running; None when there is none.

    What makes a one-off task idempotent: the AWS SDK in pulumi-aws may send a long
    synchronous Invoke of the release runner again after a transport error
    (terraform-provider-aws#45773), and the retried invocation must join the release
    task already running rather than start a second migration beside it. Only the
    first 100 running tasks of `started_by` are looked at (one DescribeTasks call):
    an app has a release task per service at most.
    """
    arns = ecs.list_tasks(cluster=cluster, startedBy=started_by, desiredStatus="RUNNING")[
        "taskArns"
    ]
    if not arns:
        return None
    wanted = list(command)
    for task in ecs.describe_tasks(cluster=cluster, tasks=arns[:100])["tasks"]:
        overrides = (task.get("overrides") or {}).get("containerOverrides") or []
        same_command = any(
            o.get("name") == container and list(o.get("command") or []) == wanted for o in overrides
        )
        if task.get("taskDefinitionArn") == task_definition and same_command:
            return dict(task)
    return None


def describe_task(ecs: Any, *, cluster: str, task_arn: str) -> dict[str, Any]:
    """The task as ECS describes it now."""
    described = ecs.describe_tasks(cluster=cluster, tasks=[task_arn])
    tasks = described.get("tasks") or []
    if not tasks:
        raise TaskError(f"task {task_id(task_arn)} is not known to {cluster}")
    return dict(tasks[0])


def wait_for_task(
    ecs: Any,
    *,
    cluster: str,
    task_arn: str,
    timeout: float | None = None,
    poll_seconds: float = 5.0,
    on_poll: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Poll the task until it is STOPPED and return it; `on_poll(task)` after every poll.

    Raises `TaskTimeout` (with the last state seen) when `timeout` seconds pass
    first; the task keeps running then.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        task = describe_task(ecs, cluster=cluster, task_arn=task_arn)
        if on_poll is not None:
            on_poll(task)
        if task.get("lastStatus") == STOPPED:
            return task
        if deadline is not None and time.monotonic() >= deadline:
            raise TaskTimeout(f"task {task_id(task_arn)} did not finish within {timeout:g} s", task)
        time.sleep(poll_seconds)


def stop_task(ecs: Any, *, cluster: str, task_arn: str, reason: str) -> None:
    """Ask ECS to stop the task (SIGTERM, then SIGKILL after the container's stop timeout)."""
    ecs.stop_task(cluster=cluster, task=task_arn, reason=reason[:255])


def result(task: Mapping[str, Any], container: str) -> TaskResult:
    """How the stopped `task` ended, read from its container `container`."""
    found: Mapping[str, Any] = next(
        (c for c in task.get("containers", []) if c.get("name") == container), {}
    )
    exit_code = found.get("exitCode")
    reason = found.get("reason") or task.get("stoppedReason") or ""
    return TaskResult(
        arn=str(task.get("taskArn", "")),
        exit_code=int(exit_code) if exit_code is not None else None,
        reason=str(reason),
        stop_code=task.get("stopCode"),
        task=dict(task),
    )


def log_location(
    task_definition: Mapping[str, Any], container: str, task_arn: str
) -> LogLocation | None:
    """The awslogs group and stream of `container` in a task of `task_definition`.

    None when the container does not log with awslogs, or without a stream
    prefix (then ECS names the stream after the container's id, which is not
    known from the task).
    """
    definitions = task_definition.get("containerDefinitions", [])
    found = next((c for c in definitions if c.get("name") == container), None)
    config = (found or {}).get("logConfiguration") or {}
    options = config.get("options") or {}
    if config.get("logDriver") != "awslogs" or not options.get("awslogs-stream-prefix"):
        return None
    group = options.get("awslogs-group")
    if not group:
        return None
    prefix = options["awslogs-stream-prefix"]
    return LogLocation(group=group, stream=f"{prefix}/{container}/{task_id(task_arn)}")


class LogReader:
    """Reads a task's log stream forward, from the head, a page at a time.

    The stream exists only once the container has started and written; until
    then `read` returns nothing. CloudWatch may hold the last lines back a few
    seconds after the task stops: call `read` until it returns nothing.
    """

    def __init__(self, logs: Any, location: LogLocation) -> None:
        self._logs = logs
        self.location = location
        self._token: str | None = None

    def read(self) -> list[dict[str, Any]]:
        """The events written since the last call (each with `timestamp` and `message`)."""
        events: list[dict[str, Any]] = []
        while True:
            request: dict[str, Any] = {
                "logGroupName": self.location.group,
                "logStreamName": self.location.stream,
                "startFromHead": True,
            }
            if self._token is not None:
                request["nextToken"] = self._token
            try:
                page = self._logs.get_log_events(**request)
            except self._logs.exceptions.ResourceNotFoundException:
                return events  # not written yet
            events.extend(page.get("events", []))
            token = page.get("nextForwardToken")
            if token is None or token == self._token:
                return events
            self._token = token
            if not page.get("events"):
                return events
