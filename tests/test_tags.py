"""The tag contract (paaskit.tags): every taggable resource of the stacks and examples is found by its tags.

`paaskit`'s day-2 verbs and users' own tooling find a rack's and an app's
resources by `paaskit:rack`, `paaskit:app` and `paaskit:service`. Which
resources are taggable is read from the provider's own classes (a resource
type whose class takes a `tags` argument), not from a list kept here, so a new
resource type cannot slip through untagged.
"""

from __future__ import annotations

import importlib
import inspect
import json
from functools import cache
from pathlib import Path

import pytest

from paaskit.manifest import load_manifest
from paaskit.plan import Plan, ResourceRecord
from paaskit.tags import APP_TAG, COMPONENT_TAG, RACK_TAG, SERVICE_TAG
from paaskit.testing import plan

ROOT = Path(__file__).resolve().parent.parent
RACK_STACK = "organization/paaskit-rack/dev"
SETTINGS = {"django": {"SECRET_KEY": "plan-only"}}

UNTAGGED = {
    "aws:s3/bucketObjectv2:BucketObjectv2": (
        "static files: S3 allows 10 tags per object and charges for object tags; they are "
        "found through their bucket and the app's prefix"
    ),
}
"""Taggable types paaskit deliberately leaves untagged, each with its reason."""


@cache
def resource_class(type_token: str) -> type | None:
    """The Python class of a provider resource type token (`aws:ecs/service:Service`)."""
    package, module, _ = type_token.split(":")
    if package == "aws":
        first = module.split("/")[0]
        mod = importlib.import_module(
            "pulumi_aws" if first == "index" else f"pulumi_aws.{first.replace('lambda', 'lambda_')}"
        )
    elif package == "docker":
        mod = importlib.import_module("pulumi_docker")
    else:
        return None
    for _, cls in inspect.getmembers(mod, inspect.isclass):
        if getattr(cls, "pulumi_type", None) == type_token:
            return cls
    raise LookupError(type_token)


@cache
def takes_tags(type_token: str) -> bool:
    cls = resource_class(type_token)
    if cls is None:
        return False
    return "tags" in inspect.signature(cls._internal_init).parameters  # type: ignore[attr-defined]


def tags_of(record: ResourceRecord) -> dict[str, str]:
    tags = record.inputs.get("tags")
    if isinstance(tags, list):  # the autoscaling group: [{key, value, propagateAtLaunch}]
        return {t["key"]: t["value"] for t in tags if t.get("propagateAtLaunch")}
    return dict(tags or {})


@pytest.fixture(scope="module")
def rack() -> Plan:
    return plan(ROOT, stack="dev")


@pytest.fixture(scope="module")
def plans(rack) -> dict[str, Plan]:
    plans = {"rack": rack, "rack-with-database": plan(ROOT, stack="with-database")}
    for folder in sorted(p for p in (ROOT / "examples").iterdir() if (p / "paaskit.yml").exists()):
        config = {"manifest": str(folder / "paaskit.yml")}
        if folder.name in SETTINGS:
            config["environment"] = json.dumps(SETTINGS[folder.name])
        plans[folder.name] = plan(
            ROOT / "stacks" / "app", stack="dev", config=config, refs={RACK_STACK: rack.outputs}
        )
    # One resource of every type an app makes (databases and caches of every engine).
    resources = ROOT / "tests" / "data" / "manifests" / "resources" / "paaskit.yml"
    plans["resources"] = plan(
        ROOT / "stacks" / "app",
        stack="dev",
        config={"manifest": str(resources)},
        refs={RACK_STACK: rack.outputs},
    )
    return plans


def _apps(records: Plan) -> list[ResourceRecord]:
    return records.of_type("paaskit:app:App")


def test_every_taggable_resource_names_its_rack(plans):
    checked = 0
    for name, records in plans.items():
        for record in records:
            if not record.custom or record.read or record.type in UNTAGGED:
                continue
            if not takes_tags(record.type):
                continue
            tags = tags_of(record)
            assert tags.get(RACK_TAG) == "rack", (name, record.name, tags)
            assert COMPONENT_TAG in tags, (name, record.name)
            checked += 1
    assert checked > 100


def test_every_resource_of_an_app_names_its_app_and_service(plans):
    for example in ("flask", "django", "worker", "resources"):
        records = plans[example]
        (app,) = _apps(records)
        folder = ROOT / "examples" / example
        if example == "resources":
            folder = ROOT / "tests" / "data" / "manifests" / "resources"
        manifest = load_manifest(folder / "paaskit.yml")
        services = sorted(manifest.services, key=len, reverse=True)
        per_service = 0
        for record in records.descendants(app.urn):
            if not record.custom or record.type in UNTAGGED or not takes_tags(record.type):
                continue
            tags = tags_of(record)
            assert tags.get(APP_TAG) == app.name, (example, record.name, tags)
            # A resource of one service is named `<app>-<service>` or `<app>-<service>-...`.
            owner = next(
                (
                    s
                    for s in services
                    if record.name == f"{app.name}-{s}"
                    or record.name.startswith(f"{app.name}-{s}-")
                ),
                None,
            )
            if owner is not None:
                assert tags.get(SERVICE_TAG) == owner, (example, record.name, tags)
                per_service += 1
        assert per_service >= 3 * len(manifest.services), example


def test_ecs_hands_the_service_tags_to_its_tasks(plans):
    for example in ("flask", "django", "worker"):
        for service in plans[example].of_type("aws:ecs/service:Service"):
            assert service.inputs["propagateTags"] == "SERVICE"
            assert service.inputs["enableEcsManagedTags"] is True


def test_timers_live_in_a_tagged_schedule_group(plans):
    records = plans["worker"]
    (group,) = records.of_type("aws:scheduler/scheduleGroup:ScheduleGroup")
    assert tags_of(group)[APP_TAG] == "worker"
    for schedule in records.of_type("aws:scheduler/schedule:Schedule"):
        assert group.urn in schedule.dependencies
        # The tasks a timer starts carry their task definition's tags.
        assert schedule.inputs["target"]["ecsParameters"]["propagateTags"] == "TASK_DEFINITION"


def test_the_nodes_carry_the_rack_tag_from_launch(plans):
    asg = plans["rack"].one("aws:autoscaling/group:Group")
    assert tags_of(asg)[RACK_TAG] == "rack"
