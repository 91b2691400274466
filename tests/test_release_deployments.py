"""The deploy runner's `verify` action against moto's ECS.

moto keeps services, their deployments, events and tasks, and answers
describe_services, list_tasks and describe_tasks as ECS does; it does not run
a deployment (an updated service keeps its first deployment) nor a circuit
breaker. So each test plays ECS's part where it must, in moto's in-process
backend: it sets the service's deployments and events to what ECS reports
after a deploy completed, was rolled back or failed, and stops the new
version's tasks with the reasons ECS gives. The check's reading and decisions
are real. (moto also ignores list_tasks' serviceName filter; the check keeps
only the tasks of the requested task definition anyway.)
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from paaskit.release.deployments import DeployFailed
from paaskit.release.handler import handler

CLUSTER = "rack"


def _backend():
    from moto.ecs.models import ecs_backends

    return ecs_backends["123456789012"]["us-east-1"]


def _service(name: str = "shop-web-1") -> tuple[str, str, str]:
    """A service on its old version (td 1), updated by `pulumi up` to the new one (td 2)."""
    ecs = boto3.client("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    old, new = (
        ecs.register_task_definition(
            family="shop-web",
            containerDefinitions=[{"name": "web", "image": f"shop:{n}", "memory": 256}],
        )["taskDefinition"]["taskDefinitionArn"]
        for n in (1, 2)
    )
    ecs.create_service(cluster=CLUSTER, serviceName=name, taskDefinition=old, desiredCount=2)
    ecs.update_service(cluster=CLUSTER, service=name, taskDefinition=new)
    return name, old, new


def _ecs_reports(
    name: str, deployments: list[dict[str, Any]], events: list[str] | tuple[str, ...] = ()
) -> None:
    service = _backend().services[f"{CLUSTER}:{name}"]
    service.deployments = [
        {"id": f"ecs-svc/{i}", "desiredCount": 2, "runningCount": 2, "pendingCount": 0, **d}
        for i, d in enumerate(deployments)
    ]
    service.events = [{"id": str(i), "message": m} for i, m in enumerate(events)]


def _stopped_task(task_definition: str, reason: str, exit_code: int, detail: str) -> None:
    """A task of the new version, stopped as the circuit breaker saw it."""
    ecs = boto3.client("ecs")
    ec2 = boto3.client("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0][
        "InstanceId"
    ]
    ecs.register_container_instance(
        cluster=CLUSTER, instanceIdentityDocument=json.dumps({"instanceId": instance})
    )
    (task,) = ecs.run_task(cluster=CLUSTER, taskDefinition=task_definition, startedBy="ecs-svc/1")[
        "tasks"
    ]
    container = _backend().tasks[CLUSTER][task["taskArn"]].containers[0]
    container.exitCode = exit_code
    container.reason = detail
    ecs.stop_task(cluster=CLUSTER, task=task["taskArn"], reason=reason)


def _verify(name: str, task_definition: str, **extra: Any) -> dict[str, Any]:
    event = {
        "action": "verify",
        "cluster": CLUSTER,
        "service": name,
        "taskDefinition": task_definition,
        "timeoutSeconds": 2,
        "pollSeconds": 0.05,
        **extra,
    }
    return dict(handler(event, None))


def test_a_completed_deploy_of_the_new_version_passes(aws):
    name, _old, new = _service()
    _ecs_reports(name, [{"status": "PRIMARY", "taskDefinition": new, "rolloutState": "COMPLETED"}])
    assert _verify(name, new) == {
        "status": "verified",
        "service": name,
        "taskDefinition": new,
        "deployment": "ecs-svc/0",
    }


def test_a_deploy_the_circuit_breaker_rolled_back_fails_and_says_why(aws):
    """What wait_for_steady_state reports as steady: one deployment, all running, old version."""
    name, old, new = _service()
    _ecs_reports(
        name,
        [
            {
                "status": "PRIMARY",
                "taskDefinition": old,
                "rolloutState": "COMPLETED",
                "rolloutStateReason": "ECS deployment ecs-svc/0 completed.",
            }
        ],
        [
            f"(service {name}) has reached a steady state.",
            f"(service {name}) rolling back to deployment ecs-svc/0.",
            f"(service {name}) deployment ecs-svc/1 deployment failed: tasks failed to start.",
        ],
    )
    _stopped_task(new, "Essential container in task exited", 3, "django.db: connection refused")
    with pytest.raises(DeployFailed) as failed:
        _verify(name, new)
    message = str(failed.value)
    assert "the new version is not what runs" in message
    assert f"requested task definition: {new}" in message
    assert f"running task definition:   {old}" in message
    assert "deployment ecs-svc/1 deployment failed: tasks failed to start" in message
    assert "rolling back to deployment ecs-svc/0" in message
    assert (
        "Essential container in task exited; web: exit code 3, django.db: connection refused"
        in message
    )


def test_a_failed_rollout_fails(aws):
    name, _old, new = _service()
    _ecs_reports(
        name,
        [
            {
                "status": "PRIMARY",
                "taskDefinition": new,
                "rolloutState": "FAILED",
                "rolloutStateReason": "ECS deployment circuit breaker: tasks failed to start.",
            }
        ],
    )
    with pytest.raises(DeployFailed, match=r"rollout FAILED[\s\S]*circuit breaker: tasks failed"):
        _verify(name, new)


def test_a_rollout_still_in_progress_when_time_is_up_fails(aws):
    name, old, new = _service()
    _ecs_reports(
        name,
        [
            {"status": "PRIMARY", "taskDefinition": new, "rolloutState": "IN_PROGRESS"},
            {"status": "ACTIVE", "taskDefinition": old, "rolloutState": "COMPLETED"},
        ],
    )
    with pytest.raises(DeployFailed, match="still IN_PROGRESS after 1 s"):
        _verify(name, new, timeoutSeconds=1)


def test_a_rollout_that_completes_while_the_check_waits_passes(aws):
    import threading
    import time

    name, old, new = _service()
    _ecs_reports(
        name,
        [
            {"status": "PRIMARY", "taskDefinition": new, "rolloutState": "IN_PROGRESS"},
            {"status": "ACTIVE", "taskDefinition": old, "rolloutState": "COMPLETED"},
        ],
    )

    def complete() -> None:
        time.sleep(0.3)
        _ecs_reports(
            name, [{"status": "PRIMARY", "taskDefinition": new, "rolloutState": "COMPLETED"}]
        )

    thread = threading.Thread(target=complete)
    thread.start()
    assert _verify(name, new, timeoutSeconds=10)["status"] == "verified"
    thread.join()


def test_a_missing_service_fails_naming_it(aws):
    boto3.client("ecs").create_cluster(clusterName=CLUSTER)
    with pytest.raises(DeployFailed, match="shop-gone"):
        _verify("shop-gone", "arn:aws:ecs:us-east-1:123456789012:task-definition/x:1")
