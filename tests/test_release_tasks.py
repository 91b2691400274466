"""One-off tasks (paaskit.release.tasks) against moto's ECS and CloudWatch Logs on 127.0.0.1.

moto runs no containers: tasks stay RUNNING until a thread playing the
container stops them (see tests/ops_helpers.py), and a failing container's exit
code is set in moto's in-process backend, which its API cannot do.
"""

from __future__ import annotations

import time

import boto3
import pytest

from paaskit.release import tasks
from tests.ops_helpers import deploy_app, finish_one_off, ops_env, put_logs

__all__ = ["ops_env"]

pytestmark = pytest.mark.usefixtures("ops_env")


def _definition(d, service="web"):
    arn = d.task_definitions[service][-1]
    return arn, boto3.client("ecs").describe_task_definition(taskDefinition=arn)["taskDefinition"]


def test_a_task_runs_the_command_in_the_container_and_reports_its_exit_code(aws):
    d = deploy_app(services=("web",))
    arn, _ = _definition(d)
    ecs = boto3.client("ecs")
    finisher = finish_one_off(d, exit_code=3, started_by=tasks.RELEASE_STARTED_BY)
    task = tasks.start_task(
        ecs,
        cluster=d.cluster_arn,
        task_definition=arn,
        container="web",
        command=["python", "manage.py", "migrate"],
        started_by=tasks.RELEASE_STARTED_BY,
        launch_type="EC2",
    )
    seen: list[dict[str, object]] = []
    stopped = tasks.wait_for_task(
        ecs, cluster=d.cluster_arn, task_arn=task["taskArn"], poll_seconds=0.02, on_poll=seen.append
    )
    finisher.join()
    outcome = tasks.result(stopped, "web")
    assert (outcome.exit_code, outcome.succeeded) == (3, False)
    assert outcome.reason == "Essential container in task exited"
    assert seen[-1]["lastStatus"] == "STOPPED"
    assert stopped["overrides"]["containerOverrides"] == [
        {"name": "web", "command": ["python", "manage.py", "migrate"]}
    ]
    assert stopped["startedBy"] == tasks.RELEASE_STARTED_BY


def test_waiting_past_the_deadline_raises_and_leaves_the_task_to_the_caller(aws):
    d = deploy_app(services=("web",))
    arn, _ = _definition(d)
    ecs = boto3.client("ecs")
    task = tasks.start_task(
        ecs,
        cluster=d.cluster_arn,
        task_definition=arn,
        container="web",
        command=["sleep", "1d"],
        started_by=tasks.RUN_STARTED_BY,
    )
    with pytest.raises(tasks.TaskTimeout, match=r"did not finish within 0.1 s") as caught:
        tasks.wait_for_task(
            ecs, cluster=d.cluster_arn, task_arn=task["taskArn"], timeout=0.1, poll_seconds=0.02
        )
    assert caught.value.task["lastStatus"] == "RUNNING"
    tasks.stop_task(ecs, cluster=d.cluster_arn, task_arn=task["taskArn"], reason="test over")
    assert (
        tasks.describe_task(ecs, cluster=d.cluster_arn, task_arn=task["taskArn"])["stoppedReason"]
        == "test over"
    )


def test_a_task_that_cannot_be_placed_says_so(aws):
    """moto places nothing when no node has room, and gives no failure reason (AWS would)."""
    d = deploy_app(services=("web",))
    ecs = boto3.client("ecs")
    huge = ecs.register_task_definition(
        family="dev-shop-huge",
        containerDefinitions=[{"name": "web", "image": "x", "memory": 100_000}],
    )["taskDefinition"]["taskDefinitionArn"]
    with pytest.raises(tasks.TaskError, match=r"no task started on .*dev-cluster"):
        tasks.start_task(
            ecs,
            cluster=d.cluster_arn,
            task_definition=huge,
            container="web",
            command=["true"],
            started_by=tasks.RUN_STARTED_BY,
        )


def test_the_log_stream_is_the_awslogs_prefix_the_container_and_the_task_id():
    definition = {
        "containerDefinitions": [
            {
                "name": "web",
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": "/paaskit/dev/shop",
                        "awslogs-stream-prefix": "web",
                    },
                },
            }
        ]
    }
    arn = "arn:aws:ecs:us-east-1:123456789012:task/dev-cluster/0f1e2d3c4b5a"
    assert tasks.log_location(definition, "web", arn) == tasks.LogLocation(
        "/paaskit/dev/shop", "web/web/0f1e2d3c4b5a"
    )
    assert tasks.log_location(definition, "worker", arn) is None
    no_prefix = {
        "containerDefinitions": [
            {
                "name": "web",
                "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "g"}},
            }
        ]
    }
    assert tasks.log_location(no_prefix, "web", arn) is None


def test_the_log_reader_returns_each_line_once_and_nothing_before_the_stream_exists(aws):
    d = deploy_app(services=("web",))
    reader = tasks.LogReader(boto3.client("logs"), tasks.LogLocation(d.log_group, "web/web/abc"))
    assert reader.read() == []
    now = int(time.time() * 1000)
    put_logs(d, "web", "abc", [(now, "one"), (now + 1, "two")])
    assert [e["message"] for e in reader.read()] == ["one", "two"]
    assert reader.read() == []
    put_logs(d, "web", "abc", [(now + 2, "three")])
    assert [e["message"] for e in reader.read()] == ["three"]


def test_an_awsvpc_task_is_started_in_the_network_given(aws, monkeypatch):
    # moto 5.2 fails describing an awsvpc task's network interface (no private_dns_name).
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface

    monkeypatch.setattr(
        NetworkInterface, "private_dns_name", "ip-10-0-1-9.ec2.internal", raising=False
    )
    d = deploy_app(services=("web",))
    ecs, ec2 = boto3.client("ecs"), boto3.client("ec2")
    arn = ecs.register_task_definition(
        family="dev-shop-api",
        networkMode="awsvpc",
        containerDefinitions=[{"name": "api", "image": "api:1", "memory": 256}],
    )["taskDefinition"]["taskDefinitionArn"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="internal", Description="d", VpcId=vpc)["GroupId"]
    network = {
        "awsvpcConfiguration": {
            "subnets": [subnet],
            "securityGroups": [group],
            "assignPublicIp": "DISABLED",
        }
    }
    start = {
        "cluster": d.cluster_arn,
        "task_definition": arn,
        "container": "api",
        "command": ["./migrate"],
        "started_by": tasks.RUN_STARTED_BY,
        "launch_type": "EC2",
    }
    with pytest.raises(Exception, match="Network Configuration must be provided"):
        tasks.start_task(ecs, **start)
    task = tasks.start_task(ecs, **start, network_configuration=network)
    (attachment,) = task["attachments"]
    assert {x["name"]: x["value"] for x in attachment["details"]}["subnetId"] == subnet
