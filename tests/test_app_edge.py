"""An app's edge: a distribution per web service, header routes, its own bucket, claims, domains."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from paaskit.app._edge import MAX_CERTIFICATE_NAMES, granted_priority
from paaskit.config import ConfigError
from paaskit.loadbalancer import route_priority
from paaskit.plan import Plan, fakes
from tests.test_app import EDGE, RACK, make_app, plan_app

DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
RULE = "aws:lb/listenerRule:ListenerRule"
CERT = "aws:acm/certificate:Certificate"
RECORD = "aws:route53/record:Record"

MANIFEST = """
services:
  web:
    build: .
    port: 8000
    static: static
  api:
    image: ghcr.io/example/api:1
    port: 9000
    domain: api.shop.com, www.api.shop.com
  worker:
    image: ghcr.io/example/worker:1
"""


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Plan:
    return plan_app(make_app(tmp_path_factory.mktemp("shop"), MANIFEST), environment={})


def outputs(tmp_path: Path, manifest: str = MANIFEST, **settings: Any) -> dict[str, Any]:
    """The App's urls and dns, as the program sees them (not the plan's stack outputs)."""
    from paaskit.app import App, AppArgs
    from paaskit.manifest import load_manifest
    from paaskit.testing import plan

    seen: dict[str, Any] = {}
    root = make_app(tmp_path / "app", manifest)
    rack = settings.pop("rack", RACK)

    def program() -> None:
        app = App("shop", AppArgs(manifest=load_manifest(root), rack=rack, **settings))
        import pulumi

        pulumi.Output.all(app.urls, app.dns).apply(lambda v: seen.update(urls=v[0], dns=v[1]))

    seen["plan"] = plan(program)
    return seen


def headers(origin: dict[str, Any]) -> dict[str, str]:
    return {h["name"]: h["value"] for h in origin.get("customHeaders", [])}


# --- a distribution per web service, through the rack's VPC origin ---------------------


def test_each_web_service_gets_its_own_distribution_through_the_racks_vpc_origin(shop):
    assert sorted(r.name for r in shop.of_type(DISTRIBUTION)) == ["shop-api-cdn", "shop-web-cdn"]
    web = shop.named("shop-web-cdn").inputs
    app_origin = next(o for o in web["origins"] if o["originId"] == "app")
    assert app_origin["vpcOriginConfig"]["vpcOriginId"] == EDGE.vpc_origin_id
    assert app_origin["domainName"] == EDGE.origin_domain_name
    assert "customOriginConfig" not in app_origin
    # CloudFront names the route and proves it is CloudFront; a viewer's own headers
    # of those names are overwritten.
    assert headers(app_origin) == {"X-Paaskit-Route": "shop.web", "X-Origin-Verify": "[secret]"}
    assert web["defaultCacheBehavior"]["viewerProtocolPolicy"] == "redirect-to-https"
    assert web["defaultCacheBehavior"]["responseHeadersPolicyId"] == EDGE.response_headers_policy_id
    assert web["priceClass"] == "PriceClass_100"
    assert "webAclId" not in web


def test_a_route_matches_the_distributions_headers_never_the_host(shop):
    rule = shop.named("shop-web-route")
    assert rule.inputs["listenerArn"] == EDGE.listener_arn
    matched = {
        c["httpHeader"]["httpHeaderName"]: c["httpHeader"]["values"]
        for c in rule.inputs["conditions"]
    }
    assert matched == {"X-Paaskit-Route": ["shop.web"], "X-Origin-Verify": ["[secret]"]}
    assert all("hostHeader" not in c for c in rule.inputs["conditions"])
    assert rule.inputs["actions"][0]["targetGroupArn"].split("/")[1].startswith("shop-web-tg")


def test_workers_get_no_distribution_target_group_or_route(shop):
    assert not [
        r for r in shop if r.name.startswith("shop-worker-") and r.type in (DISTRIBUTION, RULE)
    ]


def test_the_service_waits_for_its_route_and_distribution_and_the_rule_for_the_distribution(shop):
    service = shop.named("shop-web")
    rule, distribution = shop.named("shop-web-route"), shop.named("shop-web-cdn")
    assert {rule.urn, distribution.urn} <= set(service.dependencies)
    assert distribution.urn in rule.dependencies
    # Moving off a legacy load balancer, the rule takes its target group along: old rule first.
    assert rule.delete_before_replace is True


# --- claims ----------------------------------------------------------------------------


def test_the_app_claims_its_name_hosts_and_priorities_from_the_racks_registry(shop):
    claims = shop.named("shop-claims")
    assert claims.inputs["functionName"] == EDGE.registry_function_name
    assert claims.inputs["lifecycleScope"] == "CRUD"  # a destroy releases the claims
    assert claims.inputs["terraformKey"] == "lifecycle"
    event = json.loads(claims.inputs["input"])
    assert event == {
        "rack": "rack",
        "app": "shop",
        "owner": "organization/test/test",
        "hosts": {
            "shop-web.apps.example.com": "web",
            "api.shop.com": "api",
            "www.api.shop.com": "api",
        },
        "routes": {
            "web": route_priority("shop-web-route"),
            "api": route_priority("shop-api-route"),
        },
        "maxRules": 100,
    }
    # The plan cannot run the registry: it shows the hashed priority, which the rule asks for.
    rule = shop.named("shop-web-route")
    assert rule.inputs["priority"] == route_priority("shop-web-route")
    assert claims.urn in rule.dependencies
    # Domains are claimed before a certificate or distribution asks for them.
    assert claims.urn in shop.named("shop-api-cert").dependencies
    assert claims.urn in shop.named("shop-api-cdn").dependencies


def test_the_rule_takes_the_priority_the_registry_granted():
    answer = json.dumps({"priorities": {"web": 40002}})
    assert granted_priority(answer, "web", 40000) == 40002
    assert granted_priority(None, "web", 40000) == 40000
    with pytest.raises(ConfigError, match=r"services\.api: the rack's claims registry gave"):
        granted_priority(answer, "api", 123)


# --- static files ----------------------------------------------------------------------


def test_static_files_live_in_the_apps_own_bucket_read_only_by_its_distributions(shop):
    bucket = shop.named("shop-static")
    objects = {r.inputs["key"] for r in shop.of_type("aws:s3/bucketObjectv2:BucketObjectv2")}
    assert objects == {"web/static/app.3f9a1c2e.css", "web/static/robots.txt"}
    web = shop.named("shop-web-cdn").inputs
    static = next(o for o in web["origins"] if o["originId"] == "static")
    assert static["originPath"] == "/web"
    assert static["originAccessControlId"] == EDGE.origin_access_control_id
    assert static["domainName"].startswith(bucket.inputs.get("bucket", "shop-static"))
    (behaviour,) = web["orderedCacheBehaviors"]
    assert behaviour["pathPattern"] == "/static/*"
    assert behaviour["targetOriginId"] == "static"
    policy = json.loads(shop.named("shop-static-policy").inputs["policy"])
    read, tls = policy["Statement"]
    # Both of the app's distributions may read it (each sees only its own folder).
    assert sorted(read["Condition"]["StringEquals"]["AWS:SourceArn"]) == sorted(
        f"arn:aws:cloudfront::123456789012:distribution/{d}" for d in _distribution_ids(shop)
    )
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # Kept with its data: the bucket, and the policy that keeps it TLS only.
    assert bucket.retain_on_delete
    assert shop.named("shop-static-policy").retain_on_delete
    assert shop.named("shop-static-lifecycle").inputs["rules"][0][
        "noncurrentVersionExpiration"
    ] == {"noncurrentDays": 30}


def _distribution_ids(p: Plan) -> list[str]:
    found = []
    for record in p.of_type(DISTRIBUTION):
        _, state = fakes.resource_state(
            record.type, record.name, record.urn, record.inputs, fakes.Context()
        )
        found.append(state["id"])
    return found


def test_an_app_without_static_files_has_no_bucket(tmp_path):
    manifest = "services:\n  web:\n    image: nginx:1.27\n    port: 80\n"
    records = plan_app(make_app(tmp_path / "app", manifest), environment={})
    assert not records.of_type("aws:s3/bucket:Bucket")
    origins = records.named("shop-web-cdn").inputs["origins"]
    assert [o["originId"] for o in origins] == ["app"]


# --- hosts and domains -----------------------------------------------------------------


def test_on_a_rack_with_a_domain_a_service_is_app_service_dot_domain_with_the_racks_cert(tmp_path):
    seen = outputs(tmp_path)
    web = seen["plan"].named("shop-web-cdn").inputs
    assert web["aliases"] == ["shop-web.apps.example.com"]
    assert web["viewerCertificate"] == {
        "acmCertificateArn": EDGE.certificate_arn,
        "sslSupportMethod": "sni-only",
        "minimumProtocolVersion": "TLSv1.2_2021",
    }
    # The rack's `*.domain` points at CloudFront: nothing for the app to create.
    assert seen["urls"]["web"] == "https://shop-web.apps.example.com"
    assert seen["dns"]["web"] == []


def test_without_a_rack_domain_each_service_has_its_own_cloudfront_url(tmp_path):
    seen = outputs(tmp_path, rack=replace(RACK, domain=""))
    web = seen["plan"].named("shop-web-cdn").inputs
    assert "aliases" not in web
    assert web["viewerCertificate"] == {"cloudfrontDefaultCertificate": True}
    assert seen["urls"]["web"].endswith(".cloudfront.net")
    assert seen["urls"]["api"].endswith(".cloudfront.net")
    assert seen["urls"]["web"] != seen["urls"]["api"]


def test_a_custom_domain_anywhere_takes_two_steps_without_its_zone(tmp_path):
    seen = outputs(tmp_path)
    p = seen["plan"]
    cert = p.named("shop-api-cert")
    assert cert.inputs["region"] == "us-east-1"
    assert cert.provider is None  # the stack's own provider and settings, in us-east-1
    assert cert.inputs["domainName"] == "api.shop.com"
    assert cert.inputs["subjectAlternativeNames"] == ["www.api.shop.com"]
    assert cert.inputs["validationMethod"] == "DNS"
    # ACM's status is read live on every `pulumi up`; the first finds it pending.
    status = p.named("shop-api-cert-status")
    assert status.read is True
    assert cert.urn in status.dependencies
    api = p.named("shop-api-cdn").inputs
    assert "aliases" not in api
    assert api["viewerCertificate"] == {"cloudfrontDefaultCertificate": True}
    assert not p.of_type("aws:acm/certificateValidation:CertificateValidation")
    # What to create at the DNS provider: the validation record and the names.
    records = seen["dns"]["api"]
    assert [r["type"] for r in records] == ["CNAME", "CNAME", "CNAME", "CNAME"]
    validation = [r for r in records if r["value"].endswith(".acm-validations.aws.")]
    assert len(validation) == 2
    names = {r["name"]: r["value"] for r in records if r not in validation}
    assert set(names) == {"api.shop.com", "www.api.shop.com"}
    assert all(v.endswith(".cloudfront.net") for v in names.values())
    assert seen["urls"]["api"].endswith(".cloudfront.net")


def test_once_acm_has_issued_the_next_up_attaches_the_certificate_and_the_domains(
    tmp_path, monkeypatch
):
    issued = dict(fakes.READ_STATES)
    issued[CERT] = lambda r, ctx, rid: {"id": rid, "arn": rid, "status": "ISSUED"}
    monkeypatch.setattr(fakes, "READ_STATES", issued)
    seen = outputs(tmp_path)
    api = seen["plan"].named("shop-api-cdn").inputs
    assert api["aliases"] == ["api.shop.com", "www.api.shop.com"]
    assert api["viewerCertificate"]["acmCertificateArn"].startswith("arn:aws:acm:us-east-1:")
    assert api["viewerCertificate"]["minimumProtocolVersion"] == "TLSv1.2_2021"
    assert seen["urls"]["api"] == "https://api.shop.com"


def test_with_its_zone_a_custom_domain_is_served_in_one_step(tmp_path):
    seen = outputs(tmp_path, zones=["shop.com"])
    p = seen["plan"]
    validation = p.named("shop-api-cert-validation")
    assert validation.inputs["region"] == "us-east-1"
    records = {r.name: r.inputs for r in p.of_type(RECORD)}
    assert "shop-api-cert-validation-api-shop-com" in records
    aliases = {(i["name"], i["type"]) for n, i in records.items() if n.startswith("shop-api-dns-")}
    assert aliases == {
        ("api.shop.com", "A"),
        ("api.shop.com", "AAAA"),
        ("www.api.shop.com", "A"),
        ("www.api.shop.com", "AAAA"),
    }
    assert not [r for r in p if r.read and r.type == CERT]
    api = p.named("shop-api-cdn").inputs
    assert api["aliases"] == ["api.shop.com", "www.api.shop.com"]
    assert seen["urls"]["api"] == "https://api.shop.com"
    assert seen["dns"]["api"] == []


def test_a_rack_in_the_same_program_lends_its_zone(tmp_path):
    manifest = (
        "services:\n  web:\n    image: nginx:1.27\n    port: 80\n    domain: shop.example.com\n"
    )
    seen = outputs(tmp_path, manifest)
    assert seen["plan"].of_type("aws:acm/certificateValidation:CertificateValidation")
    assert seen["urls"]["web"] == "https://shop.example.com"


@pytest.mark.parametrize(
    ("domain", "message"),
    [
        (
            # The manifest itself refuses one domain in two services, naming the key.
            "a.shop.com\n  api:\n    image: x:1\n    port: 81\n    domain: a.shop.com",
            r"services\.api\.domain: a\.shop\.com is already routed to service web",
        ),
        (
            ", ".join(f"d{i}.shop.com" for i in range(MAX_CERTIFICATE_NAMES + 1)),
            rf"services\.web\.domain: {MAX_CERTIFICATE_NAMES + 1} names; .* holds 10",
        ),
    ],
)
def test_bad_domains_fail_before_anything_naming_the_key(tmp_path, domain, message):
    manifest = f"services:\n  web:\n    image: nginx:1.27\n    port: 80\n    domain: {domain}\n"
    with pytest.raises(Exception, match=message) as caught:
        plan_app(make_app(tmp_path / "app", manifest), environment={})
    assert isinstance(caught.value.__cause__ or caught.value, (ConfigError, ValueError))


def test_one_domain_twice_in_an_app_built_in_python_is_named():
    from paaskit.app._edge import check_web_services
    from paaskit.manifest import parse_manifest

    manifest = parse_manifest(
        "services:\n  web:\n    image: x:1\n    port: 80\n    domain: a.shop.com\n"
        "  api:\n    image: x:1\n    port: 81\n"
    )
    api = manifest.services["api"].model_copy(update={"domain": ("a.shop.com",)})
    twice = manifest.model_copy(update={"services": {**manifest.services, "api": api}})
    with pytest.raises(
        ConfigError, match=r"services\.api\.domain: 'a\.shop\.com' is also services\.web\.domain"
    ):
        check_web_services("shop", twice)


def test_a_domain_on_a_service_nothing_routes_to_is_named(tmp_path):
    manifest = (
        "services:\n  api:\n    image: x:1\n    port: 80\n    internal: true\n"
        "    domain: api.shop.com\n"
    )
    with pytest.raises(Exception, match=r"services\.api\.domain"):
        plan_app(make_app(tmp_path / "app", manifest), environment={})


def test_a_static_prefix_cloudfront_cannot_serve_is_named(tmp_path):
    manifest = (
        "services:\n  web:\n    build: .\n    port: 80\n    static:\n      path: static\n"
        "      prefix: /\n"
    )
    with pytest.raises(Exception, match=r"services\.web\.static\.prefix: .*not / alone"):
        plan_app(make_app(tmp_path / "app", manifest), environment={})


# --- CloudFront logs --------------------------------------------------------------------


def test_each_distribution_delivers_its_logs_to_the_racks_destination_in_us_east_1(shop):
    source = shop.named("shop-web-cdn-log-source")
    assert source.inputs["logType"] == "ACCESS_LOGS"
    assert source.inputs["region"] == "us-east-1"
    assert shop.named("shop-web-cdn").urn in source.dependencies
    delivery = shop.named("shop-web-cdn-log-delivery")
    assert delivery.inputs["deliveryDestinationArn"] == EDGE.log_destination_arn
    assert delivery.inputs["region"] == "us-east-1"
    assert source.inputs["tags"]["paaskit:service"] == "web"


def test_logs_may_be_turned_off_and_a_rack_without_a_destination_says_so(tmp_path):
    off = plan_app(make_app(tmp_path / "off", MANIFEST), environment={}, cdn_logs=False)
    assert not off.of_type("aws:cloudwatch/logDelivery:LogDelivery")
    no_logs = replace(RACK, edge=replace(EDGE, log_destination_arn=""))
    with pytest.raises(Exception, match=r"cdn_logs: the rack keeps no CloudFront logs"):
        plan_app(make_app(tmp_path / "on", MANIFEST), environment={}, rack=no_logs)


# --- a service's timeout ------------------------------------------------------------


def _waits(records: Plan, service: str = "web") -> int:
    origins = records.named(f"shop-{service}-cdn").inputs["origins"]
    (app,) = [o for o in origins if "vpcOriginConfig" in o]
    return int(app["vpcOriginConfig"]["originReadTimeout"])


def _timeout_warnings(records: Plan) -> list[str]:
    return [w["message"] for w in records.warnings if ".timeout:" in w["message"]]


def test_a_services_timeout_is_its_distributions_and_the_others_keep_the_racks(tmp_path):
    manifest = MANIFEST.replace("    static: static\n", "    static: static\n    timeout: 50\n")
    records = plan_app(make_app(tmp_path / "app", manifest), environment={})
    assert _waits(records, "web") == 50
    assert _waits(records, "api") == EDGE.origin_read_timeout
    assert _timeout_warnings(records) == []


@pytest.mark.parametrize(
    ("timeout", "idle", "waits", "says"),
    [
        # The rack's load balancer cuts a request after its idle timeout without traffic.
        (90, 60, 60, ["the rack's load balancer cuts a request after 60 s"]),
        # CloudFront waits 120 s at most for a VPC origin; above 60 needs a quota.
        (180, 4000, 120, ["CloudFront waits at most 120 s", "above CloudFront's default quota"]),
        (100, 300, 100, ["above CloudFront's default quota"]),
        # A rack from before the idle timeout was an output: AWS's default, 60.
        (75, "", 60, ["after 60 s without traffic"]),
    ],
)
def test_a_timeout_is_kept_within_what_can_happen_and_says_so(tmp_path, timeout, idle, waits, says):
    manifest = f"services:\n  web:\n    image: ghcr.io/example/web:1\n    port: 80\n    timeout: {timeout}\n"
    rack = replace(RACK, edge=replace(EDGE, idle_timeout=idle))
    records = plan_app(make_app(tmp_path / "app", manifest), environment={}, rack=rack)
    assert _waits(records) == waits
    warned = _timeout_warnings(records)
    assert len(warned) == len(says)
    for message, fragment in zip(warned, says, strict=True):
        assert "services.web.timeout" in message
        assert fragment in message


def test_an_internal_service_is_never_published_at_the_edge(tmp_path):
    manifest = (
        "services:\n  api:\n    image: x:1\n    port: 80\n    internal: true\n    timeout: 30\n"
    )
    records = plan_app(make_app(tmp_path / "app", manifest), environment={})
    assert not records.of_type(DISTRIBUTION)
    assert not records.of_type(RULE)
    warned = [w["message"] for w in records.warnings]
    assert any("services.api.timeout: applies to requests through the edge" in m for m in warned)
