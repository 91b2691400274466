"""`paaskit run APP SERVICE -- CMD...`: a one-off task of the service's current release.

The task runs the task definition the service runs now (its image, settings,
secrets, roles and log group), with only the container's command replaced:
the image's ENTRYPOINT still runs, as for the service. It is placed like the
service's own tasks (the service's capacity provider strategy, or its launch
type; an internal service's awsvpc network), started with
`startedBy=paaskit-run`, and its log stream is printed as it runs. The result
is the container's exit code; Ctrl-C stops the task.

The task-level work (start, wait, logs, stop) is `paaskit.release.tasks`, which
the release runner uses too.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Sequence
from typing import Any

from paaskit.command import command_argv as one_rule
from paaskit.release import tasks
from paaskit.release.tasks import RUN_STARTED_BY, LogReader

from .aws import Aws
from .discovery import App
from .errors import OpsError
from .fields import iso, short_task_definition, task_id

__all__ = ["command_argv", "run"]


def command_argv(words: Sequence[str]) -> list[str]:
    """The container command for what was typed after `--`.

    Several words are the argv as typed (the shell already split them), as a
    manifest's YAML list runs as written. One word is a command line as a
    manifest or a Procfile writes it, composed by the one rule every container
    of an app follows (`paaskit.command.command_argv`): split into words when it
    has no shell syntax, else run by `/bin/sh -c` (with `exec` before a single
    command, so the program gets the task's SIGTERM). Either way it runs through
    the image's ENTRYPOINT, as releases and timers do.
    """
    if not words:
        raise OpsError(
            "no command: give it after --, e.g. paaskit run APP SERVICE -- python manage.py shell"
        )
    if len(words) > 1:
        return list(words)
    try:
        return list(one_rule(words[0]))
    except ValueError:
        raise OpsError(
            "the command after -- is empty: give one, e.g. paaskit run APP SERVICE -- python manage.py shell"
        ) from None


def _placement(description: dict[str, Any]) -> dict[str, Any]:
    strategy = description.get("capacityProviderStrategy") or []
    placement: dict[str, Any] = (
        {"capacity_provider_strategy": strategy}
        if strategy
        else {"launch_type": description.get("launchType") or None}
    )
    # An internal service runs in awsvpc mode: its one-off task joins the same network.
    if description.get("networkConfiguration"):
        placement["network_configuration"] = description["networkConfiguration"]
    return placement


def run(
    aws: Aws,
    app: App,
    service: str,
    words: Sequence[str],
    *,
    on_status: Callable[[str], None] = lambda _: None,
    on_log: Callable[[dict[str, Any]], None] = lambda _: None,
    poll_seconds: float = 2.0,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Run the command, report status and log lines as they come, return the result."""
    app.service_arn(service)
    description = app.described[service]
    command = command_argv(words)
    ecs = aws.client("ecs")
    cluster = app.rack.cluster_arn
    task_definition_arn = description["taskDefinition"]
    definition = ecs.describe_task_definition(taskDefinition=task_definition_arn)["taskDefinition"]
    try:
        task = tasks.start_task(
            ecs,
            cluster=cluster,
            task_definition=task_definition_arn,
            container=service,
            command=command,
            started_by=RUN_STARTED_BY,
            **_placement(description),
        )
    except tasks.TaskError as exc:
        raise OpsError(f"app {app.name}, service {service}: {exc}") from None
    arn = task["taskArn"]
    try:
        return _follow(
            aws, app, service, task, definition, command, on_status, on_log, poll_seconds, timeout
        )
    except KeyboardInterrupt:
        on_status(f"stopping task {task_id(arn)}")
        tasks.stop_task(ecs, cluster=cluster, task_arn=arn, reason="paaskit run: interrupted")
        raise


def _follow(
    aws: Aws,
    app: App,
    service: str,
    task: dict[str, Any],
    definition: dict[str, Any],
    command: list[str],
    on_status: Callable[[str], None],
    on_log: Callable[[dict[str, Any]], None],
    poll_seconds: float,
    timeout: float | None,
) -> dict[str, Any]:
    """Report the started task's progress and logs until it stops; return its result."""
    ecs = aws.client("ecs")
    cluster = app.rack.cluster_arn
    arn = task["taskArn"]
    task_definition_arn = task["taskDefinitionArn"]
    on_status(
        f"started task {task_id(arn)} of {short_task_definition(task_definition_arn)}: {shlex.join(command)}"
    )
    location = tasks.log_location(definition, service, arn)
    reader = LogReader(aws.client("logs"), location) if location else None
    if reader is None:
        on_status(
            f"service {service} does not log to CloudWatch with a stream prefix: no logs shown"
        )
    last_status = [task.get("lastStatus")]

    def poll(current: dict[str, Any]) -> None:
        if current.get("lastStatus") != last_status[0]:
            last_status[0] = current.get("lastStatus")
            on_status(f"task {task_id(arn)}: {last_status[0]}")
        if reader is not None:
            for event in reader.read():
                on_log(event)

    try:
        stopped = tasks.wait_for_task(
            ecs,
            cluster=cluster,
            task_arn=arn,
            timeout=timeout,
            poll_seconds=poll_seconds,
            on_poll=poll,
        )
    except tasks.TaskTimeout as exc:
        tasks.stop_task(ecs, cluster=cluster, task_arn=arn, reason="paaskit run: timed out")
        raise OpsError(f"app {app.name}, service {service}: {exc}, and was stopped") from None
    if reader is not None:
        # CloudWatch may hold the last lines back a moment after the task stops.
        for _ in range(3):
            time.sleep(min(poll_seconds, 1.0))
            late = reader.read()
            for event in late:
                on_log(event)
            if not late:
                break
    outcome = tasks.result(stopped, service)
    return {
        "app": app.name,
        "rack": app.rack.name,
        "service": service,
        "task": task_id(arn),
        "arn": arn,
        "taskDefinition": short_task_definition(task_definition_arn),
        "command": command,
        "exitCode": outcome.exit_code,
        "reason": outcome.reason or None,
        "stopCode": outcome.stop_code,
        "startedAt": iso(stopped.get("startedAt")),
        "stoppedAt": iso(stopped.get("stoppedAt")),
        "logGroup": location.group if location else None,
        "logStream": location.stream if location else None,
    }
