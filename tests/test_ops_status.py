"""`paaskit status` against moto: why a deploy failed.

moto keeps no deployment events, rollout failures or container exit codes: the
test sets them in moto's backend as ECS would leave them after a failed deploy
(the messages are ECS's own wording). Unhealthy targets come from moto's
load balancer itself: a target on a stopped instance is not healthy.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.ops_helpers import (
    cli,
    client,
    deploy_app,
    ecs_backend,
    ops_env,
    redeploy,
    start_service_task,
)

__all__ = ["ops_env"]

pytestmark = pytest.mark.usefixtures("ops_env")


def _stored_service(d, service):
    return ecs_backend().services[f"{d.cluster_arn.rsplit('/', 1)[-1]}:{d.ecs_names[service]}"]


def test_a_stable_app_is_healthy(aws, capsys):
    deploy_app(services=("web", "worker"))
    data = cli(capsys, "status", "shop", "--json").json()
    assert data["healthy"] is True
    assert [(s["name"], s["state"], s["rolledBack"]) for s in data["services"]] == [
        ("web", "stable", None),
        ("worker", "stable", None),
    ]
    assert "App shop on rack dev: healthy" in cli(capsys, "status", "shop").out


def test_a_failed_rollout_shows_the_circuit_breaker_the_stopped_tasks_and_their_exit_codes(
    aws, capsys
):
    d = deploy_app(services=("web",))
    redeploy(d, "web", "web-2", write_record=False)
    crashed = start_service_task(d, "web")
    client("ecs").stop_task(
        cluster=d.cluster_arn, task=crashed, reason="Essential container in task exited"
    )
    stored_task = ecs_backend().tasks[d.cluster_arn.rsplit("/", 1)[-1]][crashed]
    stored_task.containers[0].exitCode = 1
    stored_task.stop_code = "EssentialContainerExited"
    stored_task.stopped_at = datetime(2026, 5, 1, 12, 5, tzinfo=UTC)
    service = _stored_service(d, "web")
    service.deployments[0].update(
        taskDefinition=d.task_definitions["web"][-1],  # moto leaves the deployment on the old one
        rolloutState="FAILED",
        rolloutStateReason="ECS deployment circuit breaker: tasks failed to start.",
        failedTasks=3,
        runningCount=0,
    )
    service.events = [
        {
            "id": "e2",
            "createdAt": datetime(2026, 5, 1, 12, 6, tzinfo=UTC),
            "message": f"(service {d.ecs_names['web']}) (deployment ecs-svc/1) deployment failed: tasks failed to start.",
        },
        {
            "id": "e1",
            "createdAt": datetime(2026, 5, 1, 12, 1, tzinfo=UTC),
            "message": f"(service {d.ecs_names['web']}) has started 1 tasks: (task {crashed.rsplit('/', 1)[-1]}).",
        },
    ]
    data = cli(capsys, "status", "shop", "--json").json()
    assert data["healthy"] is False
    (web,) = data["services"]
    assert web["state"] == "failed"
    assert web["deployments"][0]["rolloutState"] == "FAILED"
    assert web["deployments"][0]["failedTasks"] == 3
    assert web["events"][0] == {
        "time": "2026-05-01T12:06:00Z",
        "message": service.events[0]["message"],
    }
    (stopped,) = web["stoppedTasks"]
    assert stopped == {
        "id": crashed.rsplit("/", 1)[-1],
        "taskDefinition": "dev-shop-web:2",
        "stoppedAt": "2026-05-01T12:05:00Z",
        "stopCode": "EssentialContainerExited",
        "stoppedReason": "Essential container in task exited",
        "containers": [{"name": "web", "exitCode": 1, "reason": None}],
    }
    text = cli(capsys, "status", "shop").out
    assert "web: failed, 1/1 running, dev-shop-web:2" in text
    assert (
        "PRIMARY  dev-shop-web:2  FAILED  0/1 running  failed tasks: 3  ECS deployment circuit breaker"
        in text
    )
    assert "EssentialContainerExited: Essential container in task exited; web exit 1" in text


def test_a_rollback_by_the_circuit_breaker_is_reported_after_the_service_settles(aws, capsys):
    d = deploy_app(services=("web",))
    _stored_service(d, "web").events = [
        {
            "id": "e3",
            "createdAt": datetime(2026, 5, 1, 12, 9, tzinfo=UTC),
            "message": "(service shop-web) has reached a steady state.",
        },
        {
            "id": "e2",
            "createdAt": datetime(2026, 5, 1, 12, 7, tzinfo=UTC),
            "message": "(service shop-web) rolling back to deployment ecs-svc/1.",
        },
    ]
    data = cli(capsys, "status", "shop", "--json").json()
    (web,) = data["services"]
    assert web["state"] == "stable"
    assert web["rolledBack"] == {
        "time": "2026-05-01T12:07:00Z",
        "message": "(service shop-web) rolling back to deployment ecs-svc/1.",
    }
    assert data["healthy"] is False


def test_unhealthy_targets_are_listed_with_the_load_balancers_reason(aws, capsys):
    d = deploy_app(services=("web",))
    ec2, elbv2 = client("ec2"), client("elbv2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    group = elbv2.create_target_group(
        Name="shop-web-tg", Protocol="HTTP", Port=8000, VpcId=vpc, TargetType="instance"
    )["TargetGroups"][0]["TargetGroupArn"]
    nodes = [
        i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]
    ]
    node = nodes[0]
    elbv2.register_targets(TargetGroupArn=group, Targets=[{"Id": node, "Port": 32768}])
    ec2.stop_instances(InstanceIds=[node])
    _stored_service(d, "web").load_balancers = [
        {"targetGroupArn": group, "containerName": "web", "containerPort": 8000}
    ]
    (web,) = cli(capsys, "status", "shop", "--json").json()["services"]
    assert web["unhealthyTargets"] == [
        {
            "targetGroup": group,
            "target": node,
            "port": 32768,
            "state": "unused",
            "reason": "Target.InvalidState",
            "description": "Target is in the stopped state",
        }
    ]
