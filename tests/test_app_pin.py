"""The rollback pin (paaskit/app/_pin.py): planned with a pin, the app keeps the pinned release.

The pinned record is read with SSM GetParameter at deploy time; the plan answers that
read (`invokes`) with a record as the deploy runner or `paaskit rollback` writes it
(`paaskit.release.records.encode`), or fails it as the provider does for a version SSM
does not have.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from paaskit.app import AppArgs
from paaskit.app._pin import PIN_KEY, pin_warning, task_definition_arn
from paaskit.plan import Plan
from paaskit.plan.fakes import INVOKES, Context
from paaskit.release import records
from paaskit.release.records import Release, ServiceRelease
from paaskit.testing import InvokeFailed
from tests.test_app import CLUSTER_ARN, make_app

GET_PARAMETER = "aws:ssm/getParameter:getParameter"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/rack-shop@sha256:" + "ab" * 32
PINNED = Release(
    services={
        "web": ServiceRelease("rack-shop-web:11", IMAGE),
        "worker": ServiceRelease("rack-shop-worker:7", IMAGE),
    },
    time=datetime(2026, 5, 1, 12, 0, tzinfo=UTC),
    kind="rollback",
    rollback_of=11,
)


def _records(answers: dict[str, str]) -> Any:
    """Answer GetParameter as SSM would for the record versions in `answers` (by full name)."""
    read: list[str] = []

    def get_parameter(args: dict[str, Any]) -> dict[str, Any]:
        name = str(args["name"])
        if "/release-record" not in name:
            return INVOKES[GET_PARAMETER](args, Context())
        read.append(name)
        if name not in answers:
            raise InvokeFailed(
                f"reading SSM Parameter ({name}): operation error SSM: GetParameter, "
                "ParameterVersionNotFound: Systems Manager could not find version 13 of "
                f"{name.split(':')[0]}"
            )
        base, _, version = name.partition(":")
        return {
            "id": base,
            "name": base,
            "arn": f"arn:aws:ssm:us-east-1:123456789012:parameter{base}",
            "type": "String",
            "value": answers[name],
            "insecureValue": answers[name],
            "version": int(version),
            "withDecryption": True,
        }

    get_parameter.read = read  # type: ignore[attr-defined]
    return get_parameter


def _plan(tmp_path, release: Any, answers: dict[str, str]) -> tuple[Plan, list[str]]:
    from paaskit.manifest import load_manifest
    from paaskit.testing import plan
    from tests.test_app import RACK

    root = make_app(tmp_path / "shop")
    answer = _records(answers)

    def program() -> None:
        from paaskit.app import App

        App(
            "shop",
            AppArgs(
                manifest=load_manifest(root),
                rack=RACK,
                environment={"SECRET_KEY": "s3cr3t-value"},
                release=release,
            ),
        )

    return plan(program, invokes={GET_PARAMETER: answer}), answer.read


@pytest.fixture(scope="module")
def pinned(tmp_path_factory) -> tuple[Plan, list[str]]:
    record = records.encode(PINNED)
    return _plan(
        tmp_path_factory.mktemp("pinned"),
        "v13",
        {"/paaskit/rack/shop/release-record:13": record},
    )


def _arn(revision: str) -> str:
    return f"arn:aws:ecs:us-east-1:123456789012:task-definition/{revision}"


def test_the_pinned_record_is_read_by_its_version(pinned):
    _, read = pinned
    assert set(read) == {"/paaskit/rack/shop/release-record:13"}


def test_pinned_services_run_the_records_revisions(pinned):
    p, _ = pinned
    assert p.named("shop-web").inputs["taskDefinition"] == _arn("rack-shop-web:11")
    assert p.named("shop-worker").inputs["taskDefinition"] == _arn("rack-shop-worker:7")


def test_new_task_definitions_are_still_registered_but_not_used(pinned):
    p, _ = pinned
    for service in ("web", "worker", "agent", "scheduler"):
        assert p.named(f"shop-{service}-task").inputs["family"] == f"rack-shop-{service}"
    assert p.named("shop-web-image").type == "docker:index/image:Image"


@pytest.fixture(scope="module")
def unpinned(tmp_path_factory) -> tuple[Plan, list[str]]:
    return _plan(tmp_path_factory.mktemp("unpinned"), None, {})


def test_a_service_the_release_does_not_name_runs_the_manifests_version_and_says_so(
    pinned, unpinned
):
    p, _ = pinned
    agent = p.named("shop-agent")
    assert (
        agent.inputs["taskDefinition"] == unpinned[0].named("shop-agent").inputs["taskDefinition"]
    )
    assert p.named("shop-agent-task").urn in agent.dependencies
    messages = [w["message"] for w in p.warnings]
    assert "service agent is not in release v13: it runs the manifest's version" in messages
    assert "service scheduler is not in release v13: it runs the manifest's version" in messages
    assert not [m for m in messages if m.startswith(("service web ", "service worker "))]


def test_no_release_command_runs_and_no_release_is_recorded_while_pinned(pinned):
    p, _ = pinned
    names = {r.name for r in p.of_type("aws:lambda/invocation:Invocation")}
    assert "shop-web-release" not in names
    assert "shop-record" not in names
    # The deploy checks still run, against what the services are told to run.
    verify = json.loads(p.named("shop-web-verify").inputs["input"])
    assert verify["taskDefinition"] == _arn("rack-shop-web:11")


def test_timers_start_the_pinned_revision(pinned):
    p, _ = pinned
    target = p.named("shop-timer-cleanup").inputs["target"]
    assert target["ecsParameters"]["taskDefinitionArn"] == _arn("rack-shop-worker:7")


def test_every_plan_of_a_pinned_app_warns_and_says_how_to_unpin(pinned):
    p, _ = pinned
    app = p.one("paaskit:app:App")
    (warning,) = [w for w in p.warnings if w["message"].startswith("app shop is pinned")]
    assert warning["urn"] == app.urn
    assert warning["message"] == pin_warning("shop", 13)
    assert "`pulumi config rm paaskit-app:release`, then `pulumi up`" in warning["message"]


def test_a_pin_whose_record_ssm_does_not_have_fails_naming_the_setting(tmp_path):
    with pytest.raises(
        Exception, match=r"paaskit-app:release: app shop is pinned to release v13"
    ) as e:
        _plan(tmp_path, 13, {})
    message = str(e.value)
    assert "/paaskit/rack/shop/release-record:13 cannot be read (" in message
    assert "ParameterVersionNotFound" in message
    assert "pin a release `paaskit releases shop` lists" in message


def test_a_pinned_version_that_is_not_a_record_fails_naming_the_setting(tmp_path):
    with pytest.raises(Exception, match=r"release-record:2 is not a release record"):
        _plan(tmp_path, 2, {"/paaskit/rack/shop/release-record:2": "hello"})


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("x13", "expected a release number such as 13 or v13 (got 'x13')"),
        ("v", "expected a release number such as 13 or v13 (got 'v')"),
        (0, "greater than or equal to 1"),
    ],
)
def test_a_pin_that_is_not_a_release_number_is_refused(tmp_path, given, message):
    from pydantic import ValidationError

    from paaskit.manifest import load_manifest
    from tests.test_app import RACK

    root = make_app(tmp_path / "shop")
    with pytest.raises(ValidationError, match=re.escape(message)):
        AppArgs(manifest=load_manifest(root), rack=RACK, release=given)


def test_unpinned_no_record_is_read_and_services_run_their_new_task_definitions(unpinned):
    p, read = unpinned
    assert read == []
    web = p.named("shop-web")
    assert web.inputs["taskDefinition"].startswith(
        "arn:aws:ecs:us-east-1:123456789012:task-definition/"
    )
    assert p.named("shop-web-task").urn in web.dependencies
    assert web.inputs["taskDefinition"] != _arn("rack-shop-web:11")
    assert "shop-record" in {r.name for r in p.of_type("aws:lambda/invocation:Invocation")}
    assert not [w for w in p.warnings if w["message"].startswith("app shop is pinned")]


def test_offline_a_pinned_release_names_no_service():
    """The plan has deployed nothing: its record of any release is a deploy of no service."""
    answer = INVOKES[GET_PARAMETER]({"name": "/paaskit/dev/shop/release-record:7"}, Context())
    assert (answer["name"], answer["version"]) == ("/paaskit/dev/shop/release-record", 7)
    release = records.decode(answer["value"], number=7)
    assert release.services == {}


def test_the_pin_key_is_the_one_paaskit_rollback_writes():
    from paaskit.ops.pin import PIN_KEY as WRITTEN

    assert PIN_KEY == WRITTEN


def test_a_revision_becomes_an_arn_in_the_clusters_account_and_region():
    assert task_definition_arn(CLUSTER_ARN, "rack-shop-web:11") == _arn("rack-shop-web:11")
    with pytest.raises(ValueError, match="not an ECS cluster ARN"):
        task_definition_arn("rack-cluster", "rack-shop-web:11")
