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
    assert sorted(p.name for p in folders) == ["django", "flask", "shop", "worker"]
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
    # In the app's own bucket, under its service's folder, which its distribution reads.
    assert keys == ["web/static/style.css"]
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


def test_the_examples_share_the_default_rack_each_web_service_at_its_own_https_url(rack, examples):
    # Four apps, each from its own stack, on one rack without a domain.
    urls = {name: records.outputs.get("urls", {}) for name, records in examples.items()}
    assert urls["worker"] == {}
    served = {f"{name}.{svc}": url for name, by in urls.items() for svc, url in by.items()}
    assert set(served) == {"django.web", "flask.web", "shop.web"}
    assert all(
        url.startswith("https://") and url.endswith(".cloudfront.net") for url in served.values()
    )
    assert len(set(served.values())) == 3
    # Every route sits on the rack's one internal listener, each on its own route header
    # and priority (the registry settles priorities across stacks at deploy time).
    listener = rack.outputs["edge"]["listenerArn"]
    rules = [
        r
        for records in examples.values()
        for r in records.of_type("aws:lb/listenerRule:ListenerRule")
    ]
    assert {r.inputs["listenerArn"] for r in rules} == {listener}
    routes = [
        c["httpHeader"]["values"][0]
        for r in rules
        for c in r.inputs["conditions"]
        if c["httpHeader"]["httpHeaderName"] == "X-Paaskit-Route"
    ]
    assert sorted(routes) == ["django.web", "flask.web", "shop.web"]
    assert len({r.inputs["priority"] for r in rules}) == 3
    # Static files: a bucket per app, never another app's.
    buckets = {
        name: [b.name for b in records.of_type("aws:s3/bucket:Bucket")]
        for name, records in examples.items()
    }
    assert buckets == {
        "django": ["django-static"],
        "flask": ["flask-static"],
        "shop": [],
        "worker": [],
    }


def test_the_shop_example_says_which_dns_records_to_create_for_its_domain(examples):
    outputs = examples["shop"].outputs
    records = outputs["dns"]["web"]
    assert {
        r["name"] for r in records if r["type"] == "CNAME" and not r["name"].startswith("_")
    } == {"shop.example.com"}
    assert any(r["value"].endswith(".acm-validations.aws.") for r in records)
    # Until ACM has issued the certificate, the service answers at its own CloudFront name.
    assert outputs["urls"]["web"].endswith(".cloudfront.net")
    assert examples["shop"].named("shop-web-cert").inputs["domainName"] == "shop.example.com"
    for name in ("flask", "django"):
        assert examples[name].outputs["dns"] == {"web": []}


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
