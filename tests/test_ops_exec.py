"""`paaskit exec` against moto, with a fake session-manager-plugin on PATH.

moto has no ECS ExecuteCommand (its server answers 500), so its answer is given
in place of moto's (tests/ops_helpers.py `replies`), in the shape of botocore's
ExecuteCommandResponse model (clusterArn, containerArn, containerName,
interactive, session {sessionId, streamUrl, tokenValue}, taskArn), built from
the real task; it is not a recording of AWS. Everything else (finding the app,
its running task, the container's runtime id set in moto's backend by the
helper) goes through moto. The plugin is a script that records its argv.
"""

from __future__ import annotations

import json
import os
import stat

import pytest

from paaskit.ops.shell import INSTALL_URL
from tests.ops_helpers import cli, client, deploy_app, ops_env, replies

__all__ = ["ops_env", "replies"]

pytestmark = pytest.mark.usefixtures("ops_env")


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """A `session-manager-plugin` on PATH that writes its argv to argv.json and exits 0."""
    record = tmp_path / "argv.json"
    script = tmp_path / "bin" / "session-manager-plugin"
    script.parent.mkdir()
    script.write_text(
        "#!/usr/bin/env python3\n"
        "import json, sys\n"
        f"open({str(record)!r}, 'w').write(json.dumps(sys.argv[1:]))\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{script.parent}{os.pathsep}{os.environ['PATH']}")
    return record


def _session_for(d, service="web"):
    ecs = client("ecs")
    (arn,) = [
        t["taskArn"]
        for t in ecs.describe_tasks(
            cluster=d.cluster_arn, tasks=ecs.list_tasks(cluster=d.cluster_arn)["taskArns"]
        )["tasks"]
        if t["group"] == f"service:{d.ecs_names[service]}"
    ]
    return arn, {
        "clusterArn": d.cluster_arn,
        "containerArn": f"{arn}/container",
        "containerName": service,
        "interactive": True,
        "session": {
            "sessionId": "ecs-execute-command-0a1b2c3d4e5f",
            "streamUrl": "wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/ecs-execute-command-0a1b2c3d4e5f",
            "tokenValue": "AAEAA...",
        },
        "taskArn": arn,
    }


def test_exec_hands_the_session_to_the_plugin_as_the_aws_cli_does(aws, capsys, plugin, replies):
    d = deploy_app(services=("web", "worker"))
    task_arn, response = _session_for(d)
    replies.answer("ecs.ExecuteCommand", response)
    ran = cli(capsys, "exec", "shop", "web")
    assert ran.code == 0
    ((operation, request),) = replies.calls
    assert operation == "ecs.ExecuteCommand"
    assert request == {
        "cluster": d.cluster_arn,
        "task": task_arn,
        "container": "web",
        "interactive": True,
        "command": "/bin/sh",
    }
    task_id = task_arn.rsplit("/", 1)[-1]
    argv = json.loads(plugin.read_text())
    assert argv == [
        json.dumps(response["session"]),
        "us-east-1",
        "StartSession",
        "",
        json.dumps(
            {"Target": f"ecs:{d.cluster_arn.rsplit('/', 1)[-1]}_{task_id}_{task_id}-web-runtime"}
        ),
        os.environ["AWS_ENDPOINT_URL"],
    ]


def test_a_command_after_dashes_runs_instead_of_a_shell_and_json_reports_it(
    aws, capsys, plugin, replies
):
    d = deploy_app(services=("web",))
    _, response = _session_for(d)
    replies.answer("ecs.ExecuteCommand", response)
    ran = cli(capsys, "exec", "shop", "web", "--json", "--", "python", "manage.py", "dbshell")
    assert ran.code == 0
    assert replies.calls[0][1]["command"] == "python manage.py dbshell"
    data = ran.json()
    assert (data["service"], data["command"], data["exitCode"]) == (
        "web",
        "python manage.py dbshell",
        0,
    )
    assert data["session"] == "ecs-execute-command-0a1b2c3d4e5f"


def test_without_the_plugin_exec_says_how_to_install_it(aws, capsys, monkeypatch, tmp_path):
    deploy_app(services=("web",))
    monkeypatch.setenv("PATH", str(tmp_path))
    ran = cli(capsys, "exec", "shop", "web")
    assert ran.code == 1
    assert ran.err == (
        "paaskit exec: error: paaskit exec needs AWS's session-manager-plugin, which is not on "
        f"PATH: install it ({INSTALL_URL}), then run the command again\n"
    )


def test_a_task_started_without_exec_enabled_is_named(aws, capsys, plugin, replies):
    d = deploy_app(services=("web",))
    task_arn, _ = _session_for(d)
    replies.answer(
        "ecs.ExecuteCommand",
        {
            "Error": {
                "Code": "InvalidParameterException",
                "Message": "The execute command failed because execute command was not enabled when the task was run or the execute command agent isn't running. Wait and try again or run a new task with execute command enabled and try again.",
            }
        },
        status=400,
    )
    ran = cli(capsys, "exec", "shop", "web")
    assert ran.code == 1
    assert ran.err.startswith(
        f"paaskit exec: error: app shop, service web, task {task_arn.rsplit('/', 1)[-1]}: ECS Exec is not enabled"
    )
    assert not plugin.exists()


def test_a_service_without_running_tasks_is_an_error(aws, capsys, plugin):
    d = deploy_app(services=("web",))
    ecs = client("ecs")
    for arn in ecs.list_tasks(cluster=d.cluster_arn)["taskArns"]:
        ecs.stop_task(cluster=d.cluster_arn, task=arn, reason="scaled in")
    ran = cli(capsys, "exec", "shop", "web")
    assert (ran.code, ran.err) == (
        1,
        "paaskit exec: error: app shop, service web: no running task to open a shell in\n",
    )


def test_task_chooses_the_task_and_must_be_one_of_the_services(aws, capsys, plugin, replies):
    d = deploy_app(services=("web", "worker"))
    web_task, response = _session_for(d, "web")
    worker_task, _ = _session_for(d, "worker")
    replies.answer("ecs.ExecuteCommand", response)
    web_id = web_task.rsplit("/", 1)[-1]
    assert cli(capsys, "exec", "shop", "web", "--task", web_id).code == 0
    assert replies.calls[0][1]["task"] == web_task
    worker_id = worker_task.rsplit("/", 1)[-1]
    ran = cli(capsys, "exec", "shop", "web", "--task", worker_id)
    assert (ran.code, ran.err) == (
        1,
        f"paaskit exec: error: app shop, service web: no running task {worker_id} of this service\n",
    )


def test_the_profile_in_use_is_passed_to_the_plugin(
    aws, capsys, plugin, replies, monkeypatch, tmp_path
):
    d = deploy_app(services=("web",))
    _, response = _session_for(d)
    replies.answer("ecs.ExecuteCommand", response)
    (tmp_path / "config").write_text("[profile ops]\nregion = us-east-1\n")
    (tmp_path / "credentials").write_text(
        "[ops]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_PROFILE", "ops")
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var)
    assert cli(capsys, "exec", "shop", "web").code == 0
    assert json.loads(plugin.read_text())[3] == "ops"
