"""The release runner against moto's ECS on 127.0.0.1.

moto runs no containers. Each task is held RUNNING (moto's state manager is
told not to advance it) until the test, playing the container, stops it from
another thread as a finished command would. A stopped task's container always
reports exit code 0 in moto; for a failing command the test sets the exit
code in moto's own in-process backend (the emulator runs in this process),
which its API cannot do. Everything else — run_task, describe_tasks,
stop_task and the handler's decisions — is real.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator

import boto3
import pytest

from paaskit.release.handler import STARTED_BY, ReleaseFailed, handler, run_release


def _moto_api(server: str, path: str, body: dict[str, object]) -> None:
    request = urllib.request.Request(  # noqa: S310 - the loopback emulator only
        f"{server}/moto-api/state-manager/{path}", data=json.dumps(body).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310
        pass


@pytest.fixture(autouse=True)
def tasks_keep_running(aws: str) -> Iterator[None]:
    """Tasks stay RUNNING until stopped, as a real command's task does until it exits."""
    _moto_api(
        aws,
        "set-transition",
        {"model_name": "ecs::task", "transition": {"progression": "manual", "times": 10**6}},
    )
    yield
    _moto_api(aws, "unset-transition", {"model_name": "ecs::task"})


def _cluster_with_a_node() -> tuple[str, str]:
    ecs = boto3.client("ecs")
    ec2 = boto3.client("ec2")
    cluster = ecs.create_cluster(clusterName="rack")["cluster"]["clusterArn"]
    image = ec2.describe_images()["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0][
        "InstanceId"
    ]
    ecs.register_container_instance(
        cluster="rack", instanceIdentityDocument=json.dumps({"instanceId": instance})
    )
    task_def = ecs.register_task_definition(
        family="shop-web",
        containerDefinitions=[
            {"name": "web", "image": "shop:1", "memory": 256, "command": ["gunicorn"]}
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    return cluster, task_def


def _event(cluster: str, task_def: str, **extra):
    return {
        "cluster": cluster,
        "taskDefinition": task_def,
        "container": "web",
        "command": ["python", "manage.py", "migrate"],
        "timeoutSeconds": 10,
        "pollSeconds": 0.05,
        **extra,
    }


def _finish_the_release(cluster: str, *, exit_code: int = 0) -> threading.Thread:
    """Act as the container: wait for the release task, then stop it (with `exit_code`)."""

    def finish() -> None:
        ecs = boto3.client("ecs")
        for _ in range(200):
            arns = ecs.list_tasks(cluster=cluster, startedBy=STARTED_BY)["taskArns"]
            if arns:
                if exit_code:
                    from moto.ecs.models import ecs_backends

                    task = ecs_backends["123456789012"]["us-east-1"].tasks["rack"][arns[0]]
                    task.containers[0].exitCode = exit_code
                ecs.stop_task(
                    cluster=cluster, task=arns[0], reason="Essential container in task exited"
                )
                return
            time.sleep(0.05)

    thread = threading.Thread(target=finish)
    thread.start()
    return thread


def test_a_successful_release_returns_after_the_task_stops_with_exit_0(aws):
    cluster, task_def = _cluster_with_a_node()
    finisher = _finish_the_release(cluster)
    result = run_release(_event(cluster, task_def), remaining_seconds=60)
    finisher.join()
    assert result["status"] == "succeeded"
    assert result["exitCode"] == 0
    (task,) = boto3.client("ecs").describe_tasks(cluster=cluster, tasks=[result["taskArn"]])[
        "tasks"
    ]
    assert task["startedBy"] == STARTED_BY
    assert task["overrides"]["containerOverrides"] == [
        {"name": "web", "command": ["python", "manage.py", "migrate"]}
    ]


def test_a_failing_release_raises_with_the_exit_code_and_reason(aws):
    cluster, task_def = _cluster_with_a_node()
    finisher = _finish_the_release(cluster, exit_code=3)
    with pytest.raises(ReleaseFailed, match=r"exit code 3: Essential container in task exited"):
        run_release(_event(cluster, task_def), remaining_seconds=60)
    finisher.join()


def test_a_release_that_runs_too_long_is_stopped_and_fails(aws):
    cluster, task_def = _cluster_with_a_node()
    with pytest.raises(ReleaseFailed, match="did not finish within 1 s and was stopped"):
        run_release(_event(cluster, task_def, timeoutSeconds=1), remaining_seconds=60)
    ecs = boto3.client("ecs")
    (arn,) = ecs.list_tasks(cluster=cluster, startedBy=STARTED_BY, desiredStatus="STOPPED")[
        "taskArns"
    ]
    (task,) = ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"]
    assert task["stoppedReason"] == "paaskit: release timed out"


def test_the_timeout_leaves_room_before_lambdas_own(aws):
    cluster, task_def = _cluster_with_a_node()

    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 21_000  # 20 s are kept back, so the release gets one second

    with pytest.raises(ReleaseFailed, match="within 1 s"):
        handler(_event(cluster, task_def, timeoutSeconds=600), Context())


def test_a_release_that_cannot_start_says_why(aws):
    """No node has room for the task: moto places nothing and gives no reason (AWS gives one)."""
    cluster, _ = _cluster_with_a_node()
    huge = boto3.client("ecs").register_task_definition(
        family="shop-web",
        containerDefinitions=[{"name": "web", "image": "shop:1", "memory": 100_000}],
    )["taskDefinition"]["taskDefinitionArn"]
    with pytest.raises(
        ReleaseFailed,
        match=r"release 'python manage.py migrate' could not start: no task started on .*rack",
    ):
        run_release(_event(cluster, huge), remaining_seconds=60)


def test_a_retried_invocation_waits_for_the_release_already_running(aws):
    """The SDK may send a long Invoke again (terraform-provider-aws#45773): no second migration."""
    cluster, task_def = _cluster_with_a_node()
    ecs = boto3.client("ecs")
    event = _event(cluster, task_def)
    # The first invocation's task, as run_release starts it, still running.
    (first,) = ecs.run_task(
        cluster=cluster,
        taskDefinition=task_def,
        startedBy=STARTED_BY,
        overrides={"containerOverrides": [{"name": "web", "command": event["command"]}]},
    )["tasks"]
    finisher = _finish_the_release(cluster)
    result = run_release(event, remaining_seconds=60)
    finisher.join()
    assert result == {
        "status": "succeeded",
        "taskArn": first["taskArn"],
        "task": first["taskArn"].rsplit("/", 1)[-1],
        "exitCode": 0,
        "command": ["python", "manage.py", "migrate"],
        "attached": True,
    }
    started = ecs.list_tasks(cluster=cluster, startedBy=STARTED_BY, desiredStatus="STOPPED")
    assert started["taskArns"] == [first["taskArn"]]


def test_a_running_release_of_another_version_or_command_is_not_joined(aws):
    cluster, task_def = _cluster_with_a_node()
    ecs = boto3.client("ecs")
    (other,) = ecs.run_task(
        cluster=cluster,
        taskDefinition=task_def,
        startedBy=STARTED_BY,
        overrides={"containerOverrides": [{"name": "web", "command": ["python", "seed.py"]}]},
    )["tasks"]
    with pytest.raises(ReleaseFailed, match="did not finish within 1 s"):
        run_release(_event(cluster, task_def, timeoutSeconds=1), remaining_seconds=60)
    (stopped,) = ecs.list_tasks(cluster=cluster, startedBy=STARTED_BY, desiredStatus="STOPPED")[
        "taskArns"
    ]
    assert stopped != other["taskArn"]  # its own task, started and stopped; the other runs on
    running = ecs.list_tasks(cluster=cluster, startedBy=STARTED_BY, desiredStatus="RUNNING")
    assert running["taskArns"] == [other["taskArn"]]


def test_an_unknown_action_is_refused():
    with pytest.raises(ValueError, match="unknown action 'deploy'"):
        handler({"action": "deploy"}, None)


def test_an_internal_services_release_runs_in_its_network(aws, monkeypatch):
    # moto 5.2 fails describing an awsvpc task's network interface (no private_dns_name):
    # give its in-process model one; ECS's own answer carries it.
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface

    monkeypatch.setattr(
        NetworkInterface, "private_dns_name", "ip-10-0-1-9.ec2.internal", raising=False
    )
    cluster, _ = _cluster_with_a_node()
    ecs, ec2 = boto3.client("ecs"), boto3.client("ec2")
    task_def = ecs.register_task_definition(
        family="shop-api",
        networkMode="awsvpc",
        containerDefinitions=[{"name": "web", "image": "api:1", "memory": 256}],
    )["taskDefinition"]["taskDefinitionArn"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="internal", Description="d", VpcId=vpc)["GroupId"]
    # Without the service's network, ECS refuses an awsvpc task: what a release would hit.
    with pytest.raises(ReleaseFailed, match="Network Configuration must be provided"):
        run_release(_event(cluster, task_def), remaining_seconds=60)
    network = {
        "awsvpcConfiguration": {
            "subnets": [subnet],
            "securityGroups": [group],
            "assignPublicIp": "DISABLED",
        }
    }
    finisher = _finish_the_release(cluster)
    result = run_release(
        _event(cluster, task_def, networkConfiguration=network), remaining_seconds=60
    )
    finisher.join()
    assert result["status"] == "succeeded"
    (task,) = ecs.describe_tasks(cluster=cluster, tasks=[result["taskArn"]])["tasks"]
    (attachment,) = task["attachments"]
    details = {d["name"]: d["value"] for d in attachment["details"]}
    assert details["subnetId"] == subnet
