"""`paaskit exec APP SERVICE [-- CMD]`: a shell (or a command) in a running task, through ECS Exec.

ECS Exec opens a Session Manager session to the ECS agent's exec helper in the
container. What it needs, and what paaskit gives it:

- the service's tasks started with `enableExecuteCommand` (the App component
  sets it on every service), and a task role allowed
  `ssmmessages:CreateControlChannel`, `CreateDataChannel`,
  `OpenControlChannel` and `OpenDataChannel` (the App component grants them);
- on the user's machine, AWS's `session-manager-plugin`, which carries the
  interactive session; paaskit starts it exactly as the AWS CLI does for
  `aws ecs execute-command` (awscli/customizations/ecs/executecommand.py): the
  session returned by ExecuteCommand as JSON, the region, `StartSession`, the
  profile (or ''), `{"Target": "ecs:<cluster>_<task id>_<container runtime id>"}`
  as JSON, and the ECS endpoint URL, with Ctrl-C, Ctrl-\\ and Ctrl-Z left to the
  plugin;
- the caller's `ecs:ExecuteCommand` and `ecs:DescribeTasks` permissions.

The command is a string (ECS Exec takes one); several words after `--` are
joined with shell quoting. Default: `/bin/sh`.
"""

from __future__ import annotations

import contextlib
import json
import shlex
import shutil
import signal
import subprocess
from collections.abc import Iterator, Sequence
from typing import Any

from botocore.exceptions import ClientError

from .aws import Aws
from .discovery import App
from .errors import OpsError
from .fields import task_id
from .ps import describe_tasks, list_task_arns

__all__ = ["INSTALL_URL", "PLUGIN", "choose_task", "exec_command", "find_plugin", "session_argv"]

PLUGIN = "session-manager-plugin"
INSTALL_URL = (
    "https://docs.aws.amazon.com/systems-manager/latest/userguide/"
    "session-manager-working-with-install-plugin.html"
)


def find_plugin() -> str:
    """The path of `session-manager-plugin`; `OpsError` saying how to install it otherwise."""
    path = shutil.which(PLUGIN)
    if path is None:
        raise OpsError(
            f"paaskit exec needs AWS's {PLUGIN}, which is not on PATH: install it "
            f"({INSTALL_URL}), then run the command again"
        )
    return path


def choose_task(aws: Aws, app: App, service: str, task: str | None = None) -> dict[str, Any]:
    """The task to open the session in: `task` (an id), or the service's newest running task."""
    app.service_arn(service)
    description = app.described[service]
    cluster = app.rack.cluster_arn
    group = f"service:{description.get('serviceName', '')}"
    if task is not None:
        found = describe_tasks(aws, cluster, [task])
        if not found or found[0].get("lastStatus") != "RUNNING" or found[0].get("group") != group:
            raise OpsError(
                f"app {app.name}, service {service}: no running task {task} of this service"
            )
        return found[0]
    arns = list_task_arns(
        aws, cluster, serviceName=description.get("serviceName", ""), desiredStatus="RUNNING"
    )
    running = [
        t
        for t in describe_tasks(aws, cluster, arns)
        if t.get("group") == group and t.get("lastStatus") == "RUNNING"
    ]
    if not running:
        raise OpsError(f"app {app.name}, service {service}: no running task to open a shell in")
    return max(running, key=lambda t: (t.get("startedAt") or t.get("createdAt") or 0, t["taskArn"]))


def session_argv(
    plugin: str,
    response: dict[str, Any],
    task: dict[str, Any],
    *,
    region: str,
    profile: str | None,
    endpoint: str,
) -> list[str]:
    """The plugin's command line for an ExecuteCommand `response`, as the AWS CLI builds it."""
    container: dict[str, Any] = next(
        (c for c in task.get("containers", []) if c.get("name") == response["containerName"]), {}
    )
    runtime_id = container.get("runtimeId")
    if not runtime_id:
        raise OpsError(
            f"task {task_id(task['taskArn'])}: ECS reports no runtime id for container "
            f"{response['containerName']} yet; try again in a moment"
        )
    cluster_name = response["clusterArn"].rsplit("/", 1)[-1]
    target = f"ecs:{cluster_name}_{task_id(response['taskArn'])}_{runtime_id}"
    return [
        plugin,
        json.dumps(response["session"]),
        region,
        "StartSession",
        profile or "",
        json.dumps({"Target": target}),
        endpoint,
    ]


@contextlib.contextmanager
def _signals_to_the_plugin() -> Iterator[None]:
    """Ignore Ctrl-C, Ctrl-\\ and Ctrl-Z here while the plugin runs: they are the session's."""
    names = ("SIGINT", "SIGQUIT", "SIGTSTP")
    saved = {}
    for name in names:
        number = getattr(signal, name, None)
        if number is not None:
            saved[number] = signal.signal(number, signal.SIG_IGN)
    try:
        yield
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)


def _explain(exc: ClientError, app: App, service: str, task: str) -> OpsError | None:
    code = exc.response.get("Error", {}).get("Code", "")
    message = exc.response.get("Error", {}).get("Message", "")
    where = f"app {app.name}, service {service}, task {task}"
    if code == "InvalidParameterException" and "execute command" in message.lower():
        return OpsError(
            f"{where}: ECS Exec is not enabled on this task (it was started without "
            "enableExecuteCommand); tasks started after the app is deployed with it are reachable"
        )
    if code == "TargetNotConnectedException":
        return OpsError(
            f"{where}: the task's exec agent is not connected; its task role needs the "
            "ssmmessages:CreateControlChannel, CreateDataChannel, OpenControlChannel and "
            "OpenDataChannel permissions, and the node must reach the ssmmessages endpoint"
        )
    return None


def exec_command(
    aws: Aws,
    app: App,
    service: str,
    words: Sequence[str] = (),
    *,
    task: str | None = None,
) -> dict[str, Any]:
    """Open the session and hand the terminal to the plugin until it ends; return what happened."""
    plugin = find_plugin()
    chosen = choose_task(aws, app, service, task)
    command = shlex.join(words) if words else "/bin/sh"
    ecs = aws.client("ecs")
    try:
        response = ecs.execute_command(
            cluster=app.rack.cluster_arn,
            task=chosen["taskArn"],
            container=service,
            interactive=True,
            command=command,
        )
    except ClientError as exc:
        explained = _explain(exc, app, service, task_id(chosen["taskArn"]))
        if explained is None:
            raise
        raise explained from None
    argv = session_argv(
        plugin,
        response,
        chosen,
        region=aws.region,
        profile=aws.profile,
        endpoint=ecs.meta.endpoint_url,
    )
    with _signals_to_the_plugin():
        exit_code = subprocess.call(argv)
    return {
        "app": app.name,
        "rack": app.rack.name,
        "service": service,
        "task": task_id(chosen["taskArn"]),
        "container": service,
        "command": command,
        "session": response["session"].get("sessionId"),
        "exitCode": exit_code,
    }
