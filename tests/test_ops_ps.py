"""`paaskit ps` against moto: an app's running tasks, service and one-off alike.

A task's start time, health, image digest and the services' running counts are
set in moto's backend by the helper (moto's API cannot set them).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from paaskit.release.tasks import RELEASE_STARTED_BY, RUN_STARTED_BY
from tests.ops_helpers import (
    cli,
    client,
    deploy_app,
    ops_env,
    redeploy,
    start_service_task,
)

__all__ = ["ops_env"]

pytestmark = pytest.mark.usefixtures("ops_env")


def test_ps_lists_every_running_task_with_its_release_digest_and_node(aws, capsys):
    d = deploy_app(services=("web", "worker"))
    redeploy(d, "web", "web-2")  # release v2: web on revision 2
    start_service_task(
        d, "web", health="UNHEALTHY", started_at=datetime(2026, 5, 1, 12, 30, tzinfo=UTC)
    )
    ecs = client("ecs")
    ecs.run_task(
        cluster=d.cluster_arn,
        taskDefinition=d.task_definitions["web"][-1],
        startedBy=RUN_STARTED_BY,
    )
    ecs.run_task(
        cluster=d.cluster_arn,
        taskDefinition=d.task_definitions["worker"][-1],
        startedBy=RELEASE_STARTED_BY,
    )
    data = cli(capsys, "ps", "shop", "--json").json()
    assert (data["app"], data["rack"]) == ("shop", "dev")
    rows = [
        (t["service"], t["kind"], t["taskDefinition"], t["release"], t["health"])
        for t in data["tasks"]
    ]
    assert rows == [
        ("web", "service", "dev-shop-web:1", 1, "HEALTHY"),
        ("web", "service", "dev-shop-web:2", 2, "UNHEALTHY"),
        ("web", "run", "dev-shop-web:2", 2, "HEALTHY"),
        # worker's revision 1 is in both releases: the newest is shown.
        ("worker", "service", "dev-shop-worker:1", 2, "HEALTHY"),
        ("worker", "release", "dev-shop-worker:1", 2, "HEALTHY"),
    ]
    web = data["tasks"][1]
    assert web["status"] == "RUNNING"
    assert web["startedAt"] == "2026-05-01T12:30:00Z"
    assert web["imageDigest"] == d.images["web"][-1].partition("@")[2]
    assert web["image"] == d.images["web"][-1]
    assert web["node"].startswith("i-")
    assert web["zone"] == "us-east-1a"
    assert web["id"] == web["arn"].rsplit("/", 1)[-1]
    text = cli(capsys, "ps", "shop").out
    assert text.splitlines()[0].split()[:4] == ["SERVICE", "TASK", "KIND", "STATUS"]
    assert f"{web['id']}  service  RUNNING  UNHEALTHY  2026-05-01T12:30:00Z  v2" in text


def test_stopped_tasks_are_not_listed(aws, capsys):
    d = deploy_app(services=("web",))
    (arn,) = client("ecs").list_tasks(cluster=d.cluster_arn)["taskArns"]
    client("ecs").stop_task(cluster=d.cluster_arn, task=arn, reason="scaled in")
    ran = cli(capsys, "ps", "shop")
    assert (ran.code, ran.out) == (0, "No running tasks for app shop.\n")


def test_an_unknown_app_is_an_error_naming_it_and_the_racks(aws, capsys):
    deploy_app(app="shop")
    ran = cli(capsys, "ps", "shpo")
    assert ran.code == 1
    assert ran.err == "paaskit ps: error: no app named 'shpo' on the racks in us-east-1 (dev)\n"
