"""`paaskit run` against moto: a one-off task of the service's release, its logs and exit code.

moto runs no containers: a thread plays the container (tests/ops_helpers.py
`finish_one_off`): it writes the task's log lines and stops it, after setting
the container's exit code in moto's backend (moto's API always reports 0).
"""

from __future__ import annotations

import pytest

from paaskit.ops import run as run_module
from paaskit.ops.aws import Aws
from paaskit.ops.discovery import find_app
from paaskit.ops.errors import OpsError
from paaskit.release.tasks import RUN_STARTED_BY
from tests.ops_helpers import (
    capacity_provider,
    cli,
    client,
    deploy_app,
    finish_one_off,
    ops_env,
    redeploy,
)

__all__ = ["ops_env"]

pytestmark = pytest.mark.usefixtures("ops_env")


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch):
    monkeypatch.setattr(run_module, "run", _fast(run_module.run))


def _fast(real):
    def run(*args, **kwargs):
        kwargs["poll_seconds"] = 0.02
        kwargs["timeout"] = kwargs.get("timeout") or 30  # a test that goes wrong fails, not hangs
        return real(*args, **kwargs)

    return run


def _the_run_task(d):
    ecs = client("ecs")
    (arn,) = ecs.list_tasks(
        cluster=d.cluster_arn, startedBy=RUN_STARTED_BY, desiredStatus="STOPPED"
    )["taskArns"]
    return ecs.describe_tasks(cluster=d.cluster_arn, tasks=[arn])["tasks"][0]


def test_run_starts_the_services_release_with_the_command_and_prints_its_logs(aws, capsys):
    d = deploy_app(services=("web", "worker"))
    redeploy(d, "web", "web-2")
    finisher = finish_one_off(d, lines=("Superuser created.", "bye"))
    ran = cli(
        capsys, "run", "shop", "web", "--", "python", "manage.py", "createsuperuser", "--noinput"
    )
    finisher.join()
    assert ran.code == 0
    assert ran.out == "Superuser created.\nbye\n"
    assert "paaskit: started task" in ran.err
    assert "of dev-shop-web:2: python manage.py createsuperuser --noinput" in ran.err
    task = _the_run_task(d)
    assert task["taskDefinitionArn"] == d.task_definitions["web"][-1]
    assert task["overrides"]["containerOverrides"] == [
        {"name": "web", "command": ["python", "manage.py", "createsuperuser", "--noinput"]}
    ]
    assert task["capacityProviderName"] == capacity_provider("dev")


def test_the_exit_code_is_the_commands_and_json_goes_to_stdout_logs_to_stderr(aws, capsys):
    d = deploy_app(services=("web",))
    finisher = finish_one_off(d, exit_code=3, lines=("Traceback ...", "boom"))
    ran = cli(capsys, "run", "shop", "web", "--json", "--", "python manage.py check --deploy")
    finisher.join()
    assert ran.code == 3
    data = ran.json()
    assert (data["exitCode"], data["service"], data["taskDefinition"]) == (
        3,
        "web",
        "dev-shop-web:1",
    )
    assert data["command"] == ["python", "manage.py", "check", "--deploy"]
    assert data["reason"] == "Essential container in task exited"
    assert data["logStream"] == f"web/web/{data['task']}"
    assert "Traceback ...\nboom\n" in ran.err
    assert "task " + data["task"] + " exited 3" in ran.err


def test_ctrl_c_stops_the_task(aws, monkeypatch):
    d = deploy_app(services=("web",))
    aws_ = Aws()
    app = find_app(aws_, "shop")

    def interrupt(message: str) -> None:
        if message.startswith("started task"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_module.run(aws_, app, "web", ["sleep", "1000"], on_status=interrupt)
    (arn,) = client("ecs").list_tasks(cluster=d.cluster_arn, startedBy=RUN_STARTED_BY)["taskArns"]
    task = client("ecs").describe_tasks(cluster=d.cluster_arn, tasks=[arn])["tasks"][0]
    assert task["stoppedReason"] == "paaskit run: interrupted"


def test_a_command_that_never_ran_exits_1_with_the_reason(aws, capsys):
    d = deploy_app(services=("web",))
    # ECS reports no exit code when the container never started.
    finisher = finish_one_off(
        d, exit_code=None, reason="CannotPullContainerError: pull access denied"
    )
    ran = cli(capsys, "run", "shop", "web", "--", "true")
    finisher.join()
    assert ran.code == 1
    assert "did not run the command: CannotPullContainerError: pull access denied" in ran.err


@pytest.mark.parametrize(
    ("typed", "argv"),
    [
        # Several words: the argv as the shell split them, as a YAML list runs.
        (["python", "manage.py", "shell"], ["python", "manage.py", "shell"]),
        (["sh", "-c", "echo $HOME"], ["sh", "-c", "echo $HOME"]),
        # One word: a command line, composed as a manifest's command or release is.
        (["python manage.py shell"], ["python", "manage.py", "shell"]),
        (["bin/migrate && echo ok"], ["/bin/sh", "-c", "bin/migrate && echo ok"]),
        (["echo $HOME"], ["/bin/sh", "-c", "exec echo $HOME"]),
        (["bash"], ["bash"]),
        (["python -c 'print(1)'"], ["python", "-c", "print(1)"]),
        (["echo 'a b'"], ["echo", "a b"]),
    ],
)
def test_one_command_line_is_composed_by_the_rule_of_releases_and_timers(typed, argv):
    from paaskit.command import command_argv

    assert run_module.command_argv(typed) == argv
    if len(typed) == 1:
        # The very rule the App applies to `release:` and a timer's `command:`.
        assert tuple(argv) == command_argv(typed[0])


@pytest.mark.parametrize("typed", [[], [""], ["   "]])
def test_no_command_is_an_error_saying_how_to_give_one(typed):
    with pytest.raises(
        OpsError, match=r"(no command: give it after --|the command after -- is empty)"
    ):
        run_module.command_argv(typed)


def test_an_unknown_service_is_an_error_naming_the_services(aws, capsys):
    deploy_app(services=("web", "worker"))
    ran = cli(capsys, "run", "shop", "wrk", "--", "true")
    assert ran.code == 1
    assert (
        ran.err == "paaskit run: error: app shop has no service 'wrk' (its services: web, worker)\n"
    )


def test_options_after_the_service_are_options_and_the_rest_is_the_command(aws, capsys):
    d = deploy_app(services=("web",))
    finisher = finish_one_off(d)
    ran = cli(
        capsys, "run", "shop", "web", "--timeout", "60", "--json", "python", "manage.py", "check"
    )
    finisher.join()
    assert ran.code == 0
    assert ran.json()["command"] == ["python", "manage.py", "check"]
    finisher = finish_one_off(d)
    ran = cli(capsys, "run", "shop", "web", "--json", "--", "ls", "--json")
    finisher.join()
    assert ran.json()["command"] == ["ls", "--json"]


def test_an_internal_services_one_off_task_joins_the_services_network():
    network = {
        "awsvpcConfiguration": {
            "subnets": ["subnet-0aaa"],
            "securityGroups": ["sg-0nodes", "sg-0internal"],
            "assignPublicIp": "DISABLED",
        }
    }
    strategy = [{"capacityProvider": "dev-cp", "weight": 1, "base": 0}]
    described = {"capacityProviderStrategy": strategy, "networkConfiguration": network}
    assert run_module._placement(described) == {
        "capacity_provider_strategy": strategy,
        "network_configuration": network,
    }
    assert run_module._placement({"launchType": "EC2"}) == {"launch_type": "EC2"}
