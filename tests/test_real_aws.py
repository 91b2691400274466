"""What only a real AWS account can show. Marked `real_aws`: skipped unless PAASKIT_REAL_AWS=1
and credentials are given (see tests/conftest.py); never faked.

The small ones use a few API calls and clean up after themselves (cents at
most). The deploy test runs `pulumi up` of a throwaway rack and a one-service
app with the Pulumi Automation API (it needs the Pulumi CLI, takes about half
an hour and costs what an hour of a small rack costs), then destroys both. None of these ran where this suite was written (no account):
they are the checklist of what must be seen once on a real account.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from paaskit.app._app import rotation_pattern
from paaskit.cluster import _NOT_FOUND
from paaskit.release.links import write_link

pytestmark = pytest.mark.real_aws

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def name() -> str:
    return f"paaskit-test-{uuid.uuid4().hex[:8]}"


def test_iam_reports_a_missing_role_as_the_plans_check_expects(name):
    with pytest.raises(ClientError) as missing:
        boto3.client("iam").get_role(RoleName=name)
    assert missing.value.response["Error"]["Code"] == "NoSuchEntity"
    assert _NOT_FOUND.search(str(missing.value))


def test_eventbridge_matches_the_documented_event_with_the_apps_pattern():
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1-AbCdEf"
    event: dict[str, Any] = {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "Secret Label Updated",
        "source": "aws.secretsmanager",
        "account": "123456789012",
        "time": "2024-02-06T16:43:48Z",
        "region": "us-east-1",
        "resources": [arn],
        "detail": {"name": "rds!db-1", "labelUpdated": "AWSCURRENT", "versionId": "v2"},
    }
    events = boto3.client("events")
    assert events.test_event_pattern(EventPattern=rotation_pattern(arn), Event=json.dumps(event))[
        "Result"
    ]
    other = {**event, "detail": {**event["detail"], "labelUpdated": "custom"}}
    assert not events.test_event_pattern(
        EventPattern=rotation_pattern(arn), Event=json.dumps(other)
    )["Result"]


def test_a_new_current_version_reaches_the_apps_rule_and_the_runner_rewrites_the_link(name):
    """Secrets Manager's own event, for real: a rotation by hand, seen by the App's pattern."""
    secrets, events, sqs = (boto3.client(s) for s in ("secretsmanager", "events", "sqs"))
    source = secrets.create_secret(
        Name=f"{name}-source", SecretString=json.dumps({"username": "app", "password": "one"})
    )["ARN"]
    link = secrets.create_secret(Name=f"{name}-link")["ARN"]
    queue = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    try:
        rule_arn = events.put_rule(Name=name, EventPattern=rotation_pattern(source))["RuleArn"]
        sqs.set_queue_attributes(
            QueueUrl=queue,
            Attributes={
                "Policy": json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "events.amazonaws.com"},
                                "Action": "sqs:SendMessage",
                                "Resource": queue_arn,
                                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
                            }
                        ],
                    }
                )
            },
        )
        events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": queue_arn}])
        event = {
            "sourceSecret": source,
            "linkSecret": link,
            "host": "db.example.internal",
            "port": 5432,
            "database": "app",
        }
        assert write_link(event, secrets=secrets)["status"] == "written"
        time.sleep(10)  # rules take effect within seconds
        secrets.put_secret_value(
            SecretId=source, SecretString=json.dumps({"username": "app", "password": "two"})
        )
        deadline = time.monotonic() + 180
        received: list[dict[str, object]] = []
        while not received and time.monotonic() < deadline:
            messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=20).get("Messages", [])
            received = [json.loads(m["Body"]) for m in messages]
        assert [e["detail"]["labelUpdated"] for e in received] == ["AWSCURRENT"]  # type: ignore[index]
        assert write_link(event, secrets=secrets)["status"] == "written"
        value = json.loads(secrets.get_secret_value(SecretId=link)["SecretString"])
        assert value["password"] == "two"
    finally:
        events.remove_targets(Rule=name, Ids=["queue"])
        events.delete_rule(Name=name)
        sqs.delete_queue(QueueUrl=queue)
        for arn in (source, link):
            secrets.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)


@pytest.mark.skipif(not shutil.which("pulumi"), reason="the deploy needs the Pulumi CLI")
def test_a_deploy_the_circuit_breaker_rolls_back_fails_pulumi_up(tmp_path):
    """`pulumi up` of a throwaway rack and a one-service app that runs, then of a version whose
    task exits at once: ECS's circuit breaker rolls it back, and `pulumi up` must fail, saying
    so (terraform-provider-aws#20858: wait_for_steady_state alone reported success)."""
    from pulumi import automation as auto

    manifest = tmp_path / "probe" / "paaskit.yml"
    manifest.parent.mkdir()
    image = "public.ecr.aws/docker/library/busybox:1.36"
    manifest.write_text(f"services:\n  probe:\n    image: {image}\n    command: sleep 3600\n")
    env = {
        "PULUMI_CONFIG_PASSPHRASE": os.environ.get("PULUMI_CONFIG_PASSPHRASE", "real-aws-test"),
        "PULUMI_BACKEND_URL": f"file://{tmp_path}",
    }

    def stack(work_dir: Path) -> auto.Stack:
        return auto.create_or_select_stack(
            stack_name="realtest",
            work_dir=str(work_dir),
            opts=auto.LocalWorkspaceOptions(env_vars=env),
        )

    rack = stack(ROOT)
    app = None
    try:
        rack.set_all_config(
            {"throwaway": auto.ConfigValue("true"), "natMode": auto.ConfigValue("instance")}
        )
        rack.up(on_output=print)
        app = stack(ROOT / "stacks" / "app")
        app.set_all_config(
            {
                "paaskit-app:manifest": auto.ConfigValue(str(manifest)),
                "paaskit-app:rack": auto.ConfigValue("organization/paaskit-rack/realtest"),
                "paaskit-app:throwaway": auto.ConfigValue("true"),
            }
        )
        app.up(on_output=print)
        manifest.write_text(f'services:\n  probe:\n    image: {image}\n    command: "false"\n')
        with pytest.raises(auto.CommandError, match=r"deploy of service .* failed"):
            app.up(on_output=print)
    finally:
        if app is not None:
            app.destroy(on_output=print)
        rack.destroy(on_output=print)
