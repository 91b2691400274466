"""The ready stacks: each plans cleanly, and its documented config matches the code."""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from paaskit import RackArgs
from paaskit.config import default_at, load_settings
from paaskit.testing import plan

ROOT = Path(__file__).resolve().parent.parent


def _module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


rack_config = _module(ROOT / "stacks" / "rack" / "rack_config.py", "rack_config_under_test")


def project_config():
    return yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]


def test_the_reference_rack_plans():
    records = plan(ROOT, stack="dev")
    assert records.project == "paaskit-rack"
    assert records.one("paaskit:rack:Rack").name == "rack"
    assert records.of_type("aws:ec2/vpc:Vpc")


UNDECLARABLE = {"tags", "ecsConfig", "databaseParameters"}
"""Mappings have no project-file type; Pulumi.yaml documents them in a comment."""


def test_every_config_key_is_documented_in_the_project_file():
    declared = {k for k in project_config() if ":" not in k}
    assert declared == set(rack_config.CONFIG_KEYS) - UNDECLARABLE | set(rack_config.SECTIONS)
    text = (ROOT / "Pulumi.yaml").read_text()
    for key in UNDECLARABLE:
        assert f"paaskit-rack:{key}:" in text


def test_documented_defaults_are_the_components_defaults():
    for key, decl in project_config().items():
        if ":" in key:
            continue
        assert decl.get("description"), f"{key} has no description"
        if key in rack_config.SECTIONS:
            assert decl["default"] is False
            continue
        path = rack_config.CONFIG_KEYS[key]
        if "default" in decl:
            assert decl["default"] == default_at(RackArgs, path), key
        else:
            assert default_at(RackArgs, path) is None, (
                f"{key} has a default but the project file shows none"
            )


# --- every documented key works, set as a user sets it -------------------------------------

app_config = _module(ROOT / "stacks" / "app" / "app_config.py", "app_config_under_test")

ARN = "arn:aws:{}:us-east-1:123456789012:{}"

RACK_VALUES: dict[str, Any] = {
    "domain": "apps.example.com",
    "zoneName": "example.com",
    "availabilityZones": ["us-east-1b", "us-east-1c"],
    "natInstanceType": "t4g.micro",
    "endpoints": ["ecr", "logs", "ecs", "ssmmessages"],
    "instanceType": "m6i.large",
    "instanceTypes": ["m6i.large", "m5.large"],
    "vcpus": 2,
    "memoryMib": 4096,
    "architecture": "arm64",
    "amiId": "ami-0123456789abcdef0",
    "certificateArn": ARN.format("acm", "certificate/11111111-2222-3333-4444-555555555555"),
    "cdnCertificateArn": ARN.format("acm", "certificate/66666666-7777-8888-9999-000000000000"),
    "originSecret": "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5",
    "webAclId": ARN.format("wafv2", "global/webacl/rack/0a1b2c3d"),
    "staticBucketName": "example-rack-static",
    "legacyEdge": "keep",
    "staticPaths": ["/assets/*"],
    "cdnLogRetentionDays": 30,
    "databaseBackupWindow": "03:00-03:30",
    "databaseMaintenanceWindow": "sun:04:00-sun:05:00",
    "databaseAlarmsTopicArn": ARN.format("sns", "rack-alarms"),
    "databaseKmsKeyArn": ARN.format("kms", "key/0a1b2c3d-0000-1111-2222-333344445555"),
    "tags": {"team": "platform", "cost-centre": 4200},
    "ecsConfig": {"ECS_RESERVED_MEMORY": 256, "ECS_IMAGE_PULL_BEHAVIOR": "prefer-cached"},
    "databaseParameters": {"work_mem": "16384", "log_min_messages": "warning"},
}
"""A valid value for each key that needs one chosen, written as in a stack file (YAML types).
Keys not listed get one from their declaration: a boolean its other value, any other key with
a default that default. A new key with neither fails `test_every_documented_key_has_a_value`."""

RACK_STACKS: dict[str, dict[str, Any]] = {
    # Keys that exclude each other go into different stacks; every other key goes into the first.
    "own-certificates": {"natMode": "instance"},
    "by-types": {
        "instanceTypes": ...,
        "natMode": "none",
        "endpoints": ...,
        "originSecret": "secure",
    },
    # Racks deployed before the edge keep their public load balancer and shared distribution
    # while their apps move: the keys of that legacy edge work only beside legacyEdge.
    "legacy": {
        "legacyEdge": ...,
        "certificateArn": ...,
        "staticPaths": ...,
        "cdnLogging": True,
        "cdnLogRetentionDays": ...,
        "staticBucketName": ...,
        "domain": ...,
        "zoneName": ...,
        # Only the legacy public load balancer may admit more than CloudFront.
        "cloudfrontOnly": False,
    },
    "by-size": {
        "vcpus": ...,
        "memoryMib": ...,
        "architecture": ...,
        "natMode": "per_az",
        "domain": ...,
        "zoneName": ...,
    },
}
"""Per stack, keys set apart from the rest (`...`: the value of RACK_VALUES; "secure": that
value as an encrypted `secure:` value, which an offline plan cannot decrypt)."""

EXCLUSIVE = {
    *("instanceType", "instanceTypes", "vcpus", "memoryMib", "architecture", "natMode"),
    *("legacyEdge", "certificateArn", "staticPaths", "cdnLogging", "cdnLogRetentionDays"),
    "staticBucketName",
    "cloudfrontOnly",  # off needs no originSecret
}
"""Keys only the stacks that name them set."""


def _documented(project_file: Path) -> dict[str, dict[str, Any]]:
    config = yaml.safe_load(project_file.read_text())["config"]
    return {k: v for k, v in config.items() if ":" not in k}


def _value(key: str, decl: dict[str, Any]) -> Any:
    if key in RACK_VALUES:
        return RACK_VALUES[key]
    if decl.get("type") == "boolean":
        return not decl.get("default", False)
    if "default" in decl:
        return decl["default"]
    raise AssertionError(f"{key}: add a valid value for it to RACK_VALUES")


def _rack_stacks() -> dict[str, dict[str, Any]]:
    documented = _documented(ROOT / "Pulumi.yaml")
    keys = [*documented, *sorted(UNDECLARABLE)]
    stacks: dict[str, dict[str, Any]] = {}
    for i, (name, special) in enumerate(RACK_STACKS.items()):
        values = {
            key: _value(key, documented.get(key, {}))
            for key in keys
            if i == 0 and key not in EXCLUSIVE
        }
        values.update({"database": True} if i else {})
        for key, value in special.items():
            plain = _value(key, documented.get(key, {}))
            values[key] = (
                plain if value is ... else {"secure": "v1:ZmFrZQ=="} if value == "secure" else value
            )
        if i == 0:
            values["instanceType"] = RACK_VALUES["instanceType"]
        stacks[name] = values
    return stacks


def _project_copy(
    tmp_path: Path, project_file: Path, program: Path, stacks: dict[str, dict[str, Any]]
) -> Path:
    """The project with `main:` pointing at the program, and a stack file per stack."""
    data = yaml.safe_load(project_file.read_text())
    data["main"] = str(program)
    data.pop("stackConfigDir", None)
    (tmp_path / "Pulumi.yaml").write_text(yaml.safe_dump(data))
    for name, values in stacks.items():
        config = {f"{data['name']}:{k}": v for k, v in values.items()}
        (tmp_path / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump({"config": config}))
    return tmp_path


def test_every_documented_key_has_a_value():
    stacks = _rack_stacks()
    set_somewhere = {key for values in stacks.values() for key in values}
    assert set(_documented(ROOT / "Pulumi.yaml")) | UNDECLARABLE <= set_somewhere


@pytest.mark.parametrize("stack", sorted(RACK_STACKS))
def test_every_documented_rack_key_plans(tmp_path, stack):
    from paaskit.plan import load_config, load_project, plan_directory

    stacks = _rack_stacks()
    root = _project_copy(tmp_path, ROOT / "Pulumi.yaml", ROOT / "stacks" / "rack", stacks)
    records = plan_directory(root, stack=stack, stack_required=True)
    assert records.one("paaskit:rack:Rack")
    # Each key reached its field: not ignored, not left at its default.
    config = load_config(load_project(root), stack)
    args = load_settings(
        RackArgs,
        "paaskit-rack",
        keys=rack_config.CONFIG_KEYS,
        sections=rack_config.SECTIONS,
        values=config.values,
        secret_keys=config.secret_keys,
    )
    for key, value in stacks[stack].items():
        if key in rack_config.SECTIONS:
            assert getattr(args, rack_config.SECTIONS[key]) is not None
            continue
        path = rack_config.CONFIG_KEYS[key]
        field = functools.reduce(getattr, path.split("."), args)
        if key == "originSecret" or (isinstance(value, dict) and "secure" in value):
            assert isinstance(field, pulumi.Output), key
        elif value != default_at(RackArgs, path):
            assert field != default_at(RackArgs, path), f"{key} did not reach {path}"


APP_VALUES: dict[str, Any] = {
    "manifest": str(ROOT / "examples" / "django" / "paaskit.yml"),
    "rack": "organization/paaskit-rack/dev",
    "name": "shop",
    "pythonVersion": "3.12",
    "releaseTimeoutSeconds": 600,
    "logRetentionDays": 14,
    "throwaway": True,
    "zones": ["example.com"],
    "cdnLogs": False,
    "imageHistory": 5,
    "volumeKmsKeyId": "alias/shop-files",
    "volumeBackups": True,
    "volumeUid": 1001,
    "volumeGid": 1001,
    "strictInterpolation": True,
    # As `paaskit rollback --stack-file` writes it (a string); `paaskit releases` shows v13.
    "release": "v13",
    # As `pulumi config set --secret --path environment.SECRET_KEY ...` writes it.
    "environment": {"SECRET_KEY": {"secure": "v1:ZmFrZQ=="}, "DJANGO_DEBUG": False},
}


def test_every_documented_app_key_plans(tmp_path):
    from paaskit.plan import plan_directory

    documented = _documented(ROOT / "stacks" / "app" / "Pulumi.yaml")
    assert set(documented) | {"environment"} == set(APP_VALUES)
    assert set(APP_VALUES) == set(app_config.CONFIG_KEYS)
    root = _project_copy(
        tmp_path,
        ROOT / "stacks" / "app" / "Pulumi.yaml",
        ROOT / "stacks" / "app",
        {"shop": APP_VALUES},
    )
    rack = plan(ROOT, stack="dev")
    records = plan_directory(
        root, stack="shop", stack_required=True, refs={APP_VALUES["rack"]: rack.outputs}
    )
    app = records.one("paaskit:app:App")
    assert app.name == "shop"
    # Every variable is kept encrypted; the offline placeholder never shows.
    assert "plan-placeholder" not in json.dumps(records.to_json())
    groups = [g for g in records.of_type("aws:cloudwatch/logGroup:LogGroup") if g.parent == app.urn]
    assert {g.inputs["retentionInDays"] for g in groups} == {14}


# --- the app stack's settings, as a new user gives them -------------------------------------

FLASK = str(ROOT / "examples" / "flask" / "paaskit.yml")
DJANGO = str(ROOT / "examples" / "django" / "paaskit.yml")


def _plan_app(*overrides: str, manifest: str = DJANGO):
    from paaskit.plan import plan_directory

    return plan_directory(
        ROOT / "stacks" / "app", overrides=[f"paaskit-app:manifest={manifest}", *overrides]
    )


def _app_error(*overrides: str, manifest: str = DJANGO) -> str:
    from paaskit.plan import PlanError

    with pytest.raises(PlanError) as info:
        _plan_app(*overrides, manifest=manifest)
    # Without what says where: the directory as written, and the project unless a key names it.
    return re.sub(r"^(paaskit-app )?\(?\S*stacks/app\)?: ", "", str(info.value))


@pytest.mark.parametrize(
    "given",
    [
        "paaskit-app:environment.SECRET_KEY=from-a-path",  # as `pulumi config set --path` writes it
        'paaskit-app:environment={"SECRET_KEY": "from-json"}',
    ],
)
def test_the_environment_is_read_in_both_forms(given):
    records = _plan_app(given)
    parameters = [
        r for r in records.of_type("aws:ssm/parameter:Parameter") if r.name.endswith("secret-key")
    ]
    assert len(parameters) == 1
    assert parameters[0].inputs["value"] == "[secret]"


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            'paaskit-app:environment={"SECRET_KEY": null}',
            "paaskit-app:environment.SECRET_KEY: expected a text value, got no value",
        ),
        (
            'paaskit-app:environment={"SECRET_KEY": {"a": 1}}',
            "paaskit-app:environment.SECRET_KEY: expected a text value, got a mapping",
        ),
        (
            "paaskit-app:enviroment.SECRET_KEY=x",
            "paaskit-app:enviroment: unknown config key; did you mean paaskit-app:environment?",
        ),
        (
            "paaskit-app:releaseTimeoutSeconds=0",
            "paaskit-app:releaseTimeoutSeconds: Input should be greater than or equal to 60 (got '0')",
        ),
        (
            "paaskit-app:rack=nope",
            "paaskit-app:rack: expected the rack's stack as organization/project/stack, like "
            "organization/paaskit-rack/dev (got 'nope')",
        ),
        (
            "paaskit-app:name=Bad_Name",
            "paaskit-app:name: an app's name is part of its hosts and AWS names",
        ),
        (
            "aws:region=us-est-1",
            "aws:region: 'us-est-1' is not an AWS region; did you mean",
        ),
        # An empty path once read the manifest of wherever the command ran, and a folder
        # without one was refused without naming the key.
        (
            "paaskit-app:manifest=",
            "paaskit-app:manifest: empty; give the path of the app's manifest (paaskit.yml or "
            "convox.yml) or of the folder holding it",
        ),
        (
            f"paaskit-app:manifest={ROOT / 'examples'}",
            f"paaskit-app:manifest: {ROOT / 'examples'} is a folder without a manifest (none of "
            "paaskit.yml, paaskit.yaml, convox.yml, convox.yaml)",
        ),
    ],
)
def test_app_settings_are_refused_naming_the_key(given, message):
    assert _app_error("paaskit-app:environment.SECRET_KEY=x", given).startswith(message)


def test_a_required_variable_not_set_names_the_setting_that_gives_it():
    # Once only `services.web.environment: required but not set: SECRET_KEY`: the manifest's
    # key, not the stack's, which is where a value goes.
    assert _app_error(manifest=DJANGO) == (
        f"paaskit-app:environment: SECRET_KEY not set; {DJANGO} declares it without a default. "
        "Set each: pulumi config set --secret --path 'environment.SECRET_KEY' VALUE "
        "(offline: -c paaskit-app:environment.SECRET_KEY=VALUE)"
    )


def test_a_variable_the_manifest_does_not_declare_names_the_setting():
    # Once `environment: Debug not declared ...`: the App's field, read as the manifest's key.
    assert _app_error("paaskit-app:environment.Debug=1", manifest=FLASK) == (
        f"paaskit-app:environment.Debug: not declared in {FLASK}, so no service would read it: "
        "declare it under `environment` there, or remove it here"
    )
    assert _app_error('paaskit-app:environment={"B": "1", "A": "2"}', manifest=FLASK).startswith(
        f"paaskit-app:environment: A, B: not declared in {FLASK}, so no service would read them"
    )


def test_a_rack_stack_that_does_not_exist_is_not_planned_with_defaults():
    message = _app_error("paaskit-app:rack=organization/paaskit-rack/prod", manifest=FLASK)
    assert message.startswith(
        "the program reads stack 'organization/paaskit-rack/prod' (set by paaskit-app:rack), "
        "but project paaskit-rack has no stack 'prod'"
    )


# --- the rack stack's region and zones -------------------------------------------------------


def test_the_rack_refuses_a_region_that_does_not_exist_and_zones_of_another(monkeypatch):
    from paaskit.plan import PlanError, plan_directory

    monkeypatch.chdir(ROOT)
    # The key first, as every config key is named (once `paaskit-rack: aws:region: ...`).
    with pytest.raises(PlanError, match=r"^aws:region: 'mars-east-1' is not an AWS region"):
        plan_directory(ROOT, overrides=["aws:region=mars-east-1"])
    with pytest.raises(
        PlanError,
        match=r"paaskit-rack:availabilityZones\[1\]: 'eu-west-1b' is a zone of eu-west-1, "
        r"not of the stack's region us-east-1",
    ):
        plan_directory(ROOT, overrides=['availabilityZones=["us-east-1a", "eu-west-1b"]'])


# --- choices botocore's models enumerate ------------------------------------------------------

MODEL_ENUMS = {
    "priceClass": ("cloudfront", "PriceClass"),
    "frameOptions": ("cloudfront", "FrameOptionsList"),
}
"""Rack keys whose choices a service model enumerates: (service, shape)."""


@pytest.mark.parametrize("key", sorted(MODEL_ENUMS))
def test_a_rack_choice_is_one_the_api_model_lists(key):
    import typing

    import botocore.session

    from paaskit._pydantic import annotation_at, unwrap

    service, shape = MODEL_ENUMS[key]
    theirs = botocore.session.get_session().get_service_model(service).shape_for(shape).enum
    ours = typing.get_args(unwrap(annotation_at(RackArgs, rack_config.CONFIG_KEYS[key].split("."))))
    assert ours
    assert set(ours) <= set(theirs)


def test_every_instance_type_the_catalogue_knows_is_one_ec2s_model_lists():
    import botocore.session

    from paaskit.instance_types import catalogue

    model = botocore.session.get_session().get_service_model("ec2")
    assert set(catalogue()) <= set(model.shape_for("InstanceType").enum)


# --- every edge key, set through the stack as a user would --------------------------------

WEB_ACL = (
    "arn:aws:wafv2:us-east-1:123456789012:global/webacl/rack/0d9e5a9c-0000-4000-8000-000000000000"
)
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000002"
SECRET = "s3cr3t-header-value-that-is-long-enough-0123456789"


def test_every_edge_key_reaches_the_rack_and_its_apps():
    rack = plan(
        ROOT,
        stack="dev",
        config={
            "domain": "apps.example.com",
            "cdnCertificateArn": CERT,
            "webAclId": WEB_ACL,
            "priceClass": "PriceClass_All",
            "originReadTimeout": "90",
            "edgeLogRetentionDays": "90",
            "staticVersionRetentionDays": "14",
            "hstsMaxAge": "63072000",
            "hstsPreload": "true",
            "frameOptions": "DENY",
        },
        secrets={"originSecret": SECRET},
    )
    edge = rack.outputs["edge"]
    assert (edge["certificateArn"], edge["webAclId"], edge["priceClass"]) == (
        CERT,
        WEB_ACL,
        "PriceClass_All",
    )
    assert (edge["originReadTimeout"], edge["staticVersionRetentionDays"]) == (90, 14)
    assert rack.named("rack-edge-cdn-logs").inputs["retentionInDays"] == 90
    headers = rack.one("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy").inputs
    hsts = headers["securityHeadersConfig"]["strictTransportSecurity"]
    assert (hsts["accessControlMaxAgeSec"], hsts["preload"]) == (63072000, True)
    assert headers["securityHeadersConfig"]["frameOptions"]["frameOption"] == "DENY"
    # The domain's distribution takes the rack's certificate, WAF and price class.
    fallback = rack.named("rack-edge-distribution").inputs
    assert fallback["viewerCertificate"]["acmCertificateArn"] == CERT
    assert (fallback["webAclId"], fallback["priceClass"]) == (WEB_ACL, "PriceClass_All")
    # The origin secret is the one given, never shown.
    assert rack.outputs["edgeOriginSecret"] == "[secret]"
    assert SECRET not in json.dumps(rack.to_json())

    app = plan(
        ROOT / "stacks" / "app",
        stack="dev",
        config={"manifest": "examples/flask/paaskit.yml"},
        refs={"organization/paaskit-rack/dev": rack.outputs},
    )
    cdn = app.named("flask-web-cdn").inputs
    assert (cdn["webAclId"], cdn["priceClass"]) == (WEB_ACL, "PriceClass_All")
    assert cdn["aliases"] == ["flask-web.apps.example.com"]
    assert cdn["viewerCertificate"]["acmCertificateArn"] == CERT
    assert cdn["origins"][0]["vpcOriginConfig"]["originReadTimeout"] == 90
    lifecycle = app.named("flask-static-lifecycle").inputs["rules"][0]
    assert lifecycle["noncurrentVersionExpiration"] == {"noncurrentDays": 14}


def test_the_edge_logs_and_the_legacy_keys_through_the_stack():
    off = plan(ROOT, stack="dev", config={"edgeLogging": "false"})
    assert not off.of_type("aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination")
    assert off.outputs["edge"]["logDestinationArn"] == ""
    # The legacy distribution's own keys work while it is kept, and are refused after.
    legacy = {"staticPaths": '["/assets/*"]', "cdnLogging": "true", "cdnLogRetentionDays": "30",
              "staticBucketName": "my-legacy-static"}  # fmt: skip
    kept = plan(ROOT, stack="dev", config={"legacyEdge": "keep", **legacy})
    assert kept.named("rack-cdn-static").inputs["bucket"] == "my-legacy-static"
    assert kept.named("rack-cdn-logs-lifecycle").inputs["rules"][0]["expiration"] == {"days": 30}
    behaviours = kept.named("rack-cdn-distribution").inputs["orderedCacheBehaviors"]
    assert [b["pathPattern"] for b in behaviours] == ["/assets/*"]
    from paaskit.plan import PlanError

    with pytest.raises(PlanError, match="paaskit-rack:staticBucketName: only the legacy rack"):
        plan(ROOT, stack="dev", config={"staticBucketName": "my-legacy-static"})
    with pytest.raises(
        PlanError, match="paaskit-rack:legacyEdge: Input should be 'keep' or 'retire'"
    ):
        plan(ROOT, stack="dev", config={"legacyEdge": "yes"})
