"""The runner's `record` action against moto's SSM on 127.0.0.1: a deploy's release, written once.

The event is shaped as the App builds it (tests/test_app.py checks the App's side); what
is written is read back with `paaskit.release.records`, as `paaskit releases` reads it.
Where SSM must refuse (AccessDenied, which moto's server does not play without IAM
enforcement), a botocore hook answers PutParameter in place of moto, in the shape of
botocore's response model.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from paaskit.release import records
from paaskit.release.handler import handler
from paaskit.release.recorder import RecordFailed, record_release
from paaskit.release.records import ReleaseCommand

DIGEST = "sha256:" + "cd" * 32
IMAGE = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/dev-shop-images@{DIGEST}"
TASK_DEFINITION = "arn:aws:ecs:us-east-1:123456789012:task-definition/dev-shop-{}:{}"
RELEASE_TASK = (
    "arn:aws:ecs:us-east-1:123456789012:task/dev-cluster/0f1e2d3c4b5a69788796a5b4c3d2e1f0"
)
WHEN = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _event(web: int = 12, worker: int = 9, **extra: Any) -> dict[str, Any]:
    # The release action's result, as pulumi-aws keeps it: the function's return value as JSON.
    result = json.dumps(
        {
            "status": "succeeded",
            "taskArn": RELEASE_TASK,
            "task": RELEASE_TASK.rsplit("/", 1)[-1],
            "exitCode": 0,
            "command": ["python", "manage.py", "migrate"],
            "attached": False,
        }
    )
    return {
        "action": "record",
        "rack": "dev",
        "app": "shop",
        "services": {
            "web": {
                "taskDefinition": TASK_DEFINITION.format("web", web),
                "image": IMAGE,
                "release": {"command": ["python", "manage.py", "migrate"], "result": result},
            },
            "worker": {"taskDefinition": TASK_DEFINITION.format("worker", worker), "image": IMAGE},
        },
        **extra,
    }


def test_a_deploy_is_recorded_with_its_revisions_images_and_release_result(aws):
    ssm = boto3.client("ssm")
    done = record_release(_event(), ssm=ssm, now=WHEN)
    assert done == {
        "status": "recorded",
        "release": 1,
        "parameter": "/paaskit/dev/shop/release-record",
    }
    (release,) = records.history(ssm, rack="dev", app="shop")
    assert release.number == 1
    assert release.kind == "deploy"
    assert release.time == WHEN
    assert {n: s.task_definition for n, s in release.services.items()} == {
        "web": "dev-shop-web:12",
        "worker": "dev-shop-worker:9",
    }
    assert release.services["web"].image_digest == DIGEST
    assert release.services["web"].release == ReleaseCommand(
        ("python", "manage.py", "migrate"), 0, "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    )
    assert release.services["worker"].release is None


def test_a_retried_or_unchanged_deploy_writes_no_second_record(aws):
    ssm = boto3.client("ssm")
    record_release(_event(), ssm=ssm)
    again = record_release(_event(), ssm=ssm)
    assert again["status"] == "unchanged"
    assert again["release"] == 1
    assert [r.number for r in records.history(ssm, rack="dev", app="shop")] == [1]
    moved = record_release(_event(web=13), ssm=ssm)
    assert (moved["status"], moved["release"]) == ("recorded", 2)


def test_a_deploy_after_a_rollback_to_the_same_revisions_is_not_recorded_twice(aws):
    ssm = boto3.client("ssm")
    record_release(_event(web=12), ssm=ssm)
    record_release(_event(web=13), ssm=ssm)
    # What `paaskit rollback` records (v3, a rollback of v1): the services run v1's revisions.
    v1 = records.read(ssm, rack="dev", app="shop", number=1)
    records.write(
        ssm,
        rack="dev",
        app="shop",
        release=records.Release(services=v1.services, time=WHEN, kind="rollback", rollback_of=1),
    )
    assert record_release(_event(web=12), ssm=ssm) == {
        "status": "unchanged",
        "release": 3,
        "parameter": "/paaskit/dev/shop/release-record",
    }


def test_a_release_without_a_known_result_is_recorded_with_its_command(aws):
    ssm = boto3.client("ssm")
    event = _event()
    event["services"]["web"]["release"]["result"] = None
    record_release(event, ssm=ssm)
    (release,) = records.history(ssm, rack="dev", app="shop")
    assert release.services["web"].release == ReleaseCommand(
        ("python", "manage.py", "migrate"), None, None
    )


def test_a_record_too_large_for_ssm_is_skipped_and_the_deploy_stands(aws, capsys):
    ssm = boto3.client("ssm")
    services = {
        f"service-{i:02d}": {
            "taskDefinition": TASK_DEFINITION.format(f"service-{i:02d}", 1),
            "image": IMAGE,
        }
        for i in range(60)
    }
    done = handler({**_event(), "services": services}, None)
    assert done["status"] == "skipped"
    assert done["reason"].startswith("app shop: the release record of 60 services is ")
    assert records.history(ssm, rack="dev", app="shop") == []
    logged = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert logged["message"] == "release record skipped"


def test_ssm_refusing_the_write_fails_naming_the_app_and_what_to_do(aws):
    ssm = boto3.client("ssm")

    def refuse(model: Any, params: dict[str, Any], **_: Any) -> Any:
        return AWSResponse(params["url"], 400, {}, None), {
            "Error": {
                "Code": "AccessDeniedException",
                "Message": "User: arn:aws:sts::123456789012:assumed-role/dev-shop-release is "
                "not authorized to perform: ssm:PutParameter",
            }
        }

    ssm.meta.events.register("before-call.ssm.PutParameter", refuse)
    with pytest.raises(RecordFailed) as failed:
        record_release(_event(), ssm=ssm)
    message = str(failed.value)
    assert message.startswith(
        "app shop was deployed, but its release record could not be written to "
        "/paaskit/dev/shop/release-record ("
    )
    assert "AccessDeniedException" in message
    assert message.endswith("until `pulumi up` runs again, which writes it")
