"""Every example plans on the reference rack, through stacks/app, with no error findings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paaskit.plan import Plan
from paaskit.policy import evaluate
from paaskit.testing import plan

ROOT = Path(__file__).resolve().parent.parent
RACK_STACK = "organization/paaskit-rack/dev"
SETTINGS = {"django": {"SECRET_KEY": "plan-only"}}


@pytest.fixture(scope="module")
def rack() -> Plan:
    return plan(ROOT, stack="dev")


@pytest.fixture(scope="module")
def examples(rack) -> dict[str, Plan]:
    plans = {}
    for folder in sorted(p for p in (ROOT / "examples").iterdir() if (p / "paaskit.yml").exists()):
        config = {"manifest": str(folder / "paaskit.yml")}
        if folder.name in SETTINGS:
            config["environment"] = json.dumps(SETTINGS[folder.name])
        plans[folder.name] = plan(
            ROOT / "stacks" / "app", stack="dev", config=config, refs={RACK_STACK: rack.outputs}
        )
    return plans


def test_every_example_has_a_manifest_and_a_readme():
    folders = [p for p in (ROOT / "examples").iterdir() if p.is_dir()]
    assert sorted(p.name for p in folders) == ["django", "flask", "worker"]
    for folder in folders:
        assert (folder / "paaskit.yml").is_file()
        assert (folder / "README.md").is_file()


def test_every_example_plans_with_no_error_findings(examples):
    for name, records in examples.items():
        report = evaluate(records)
        errors = [f for f in report.findings if f.severity == "error" and not f.waived]
        assert errors == [], (name, errors)


def test_the_reference_rack_and_its_database_config_pass_the_policy(rack):
    assert evaluate(rack).passed
    assert evaluate(plan(ROOT, stack="with-database")).passed


def test_the_flask_example_gets_a_generated_dockerfile_and_its_static_files(examples):
    records = examples["flask"]
    image = records.named("flask-web-image")
    assert "paaskit-dockerfiles" in image.inputs["build"]["dockerfile"]
    keys = sorted(r.inputs["key"] for r in records.of_type("aws:s3/bucketObjectv2:BucketObjectv2"))
    assert keys == ["flask/web/static/style.css"]
    assert records.named("flask-web").inputs["desiredCount"] == 2


def test_the_django_example_builds_its_dockerfile_migrates_and_has_its_database(examples):
    records = examples["django"]
    dockerfile = records.named("django-web-image").inputs["build"]["dockerfile"]
    assert dockerfile.endswith("examples/django/Dockerfile")
    event = json.loads(records.named("django-web-release").inputs["input"])
    assert event["command"] == ["python", "manage.py", "migrate", "--noinput"]
    db = records.one("aws:rds/instance:Instance")
    assert db.inputs["multiAz"] is True
    assert db.protect is True
    assert records.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
    (container,) = json.loads(records.named("django-web-task").inputs["containerDefinitions"])
    # The Dockerfile's CMD (gunicorn) runs: the task sets neither entry point nor command.
    assert "entryPoint" not in container
    assert "command" not in container
    assert {s["name"] for s in container["secrets"]} >= {"DATABASE_URL", "SECRET_KEY"}
    assert "plan-only" not in json.dumps(records.to_json())


def test_the_worker_example_has_no_route_and_a_nightly_timer(examples):
    records = examples["worker"]
    assert not records.of_type("aws:lb/listenerRule:ListenerRule")
    assert not records.of_type("aws:lb/targetGroup:TargetGroup")
    schedule = records.named("worker-timer-nightly-report")
    assert schedule.inputs["scheduleExpression"] == "cron(30 2 * * ? *)"


def test_an_app_stack_plans_with_nothing_but_its_manifest():
    # As the README says: the rack's outputs come from planning the rack in-process.
    records = plan(
        ROOT / "stacks" / "app", stack="dev", config={"manifest": "examples/flask/paaskit.yml"}
    )
    assert records.one("paaskit:app:App").name == "flask"


def _password_inputs(value, path=""):
    """Paths of inputs that would hold a password in Pulumi's state (by their key)."""
    if isinstance(value, dict):
        for key, item in value.items():
            lowered = key.lower()
            if ("password" in lowered or lowered in ("secretstring", "secretbinary")) and not (
                isinstance(item, bool) or key.startswith("manage")
            ):
                yield f"{path}.{key}"
            yield from _password_inputs(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _password_inputs(item, f"{path}[{i}]")


def test_no_plan_holds_a_database_password_in_an_input(examples):
    """Nothing Pulumi sends to a provider (and keeps in state) holds a database password:
    no secret version, no password input, no task definition with one in plain text.
    (The ECR login the image build needs is the registry's token, marked secret.)"""
    plans = {**examples, "rack": plan(ROOT, stack="with-database")}
    for name, records in plans.items():
        assert not records.of_type("aws:secretsmanager/secretVersion:SecretVersion"), name
        found = [
            f"{r.name}{p}"
            for r in records
            for p in _password_inputs(r.inputs)
            if not (r.type == "docker:index/image:Image" and p == ".registry.password")
        ]
        assert found == [], name
        for task in records.of_type("aws:ecs/taskDefinition:TaskDefinition"):
            (container,) = json.loads(task.inputs["containerDefinitions"])
            plain = {e["name"] for e in container.get("environment", [])}
            assert not {n for n in plain if n.endswith(("_PASS", "_URL", "PASSWORD"))}, task.name
