"""The ready stacks: each plans cleanly, and its documented config matches the code."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import yaml

from paaskit import RackArgs
from paaskit.config import default_at
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
