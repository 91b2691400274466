"""Rack: the components wired together, its settings, its outputs, RackRef, and the move off a legacy edge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from paaskit import (
    CdnSettings,
    DatabaseSettings,
    EdgeSettings,
    LoadBalancerSettings,
    NetworkArgs,
    Rack,
    RackArgs,
    RackRef,
)
from paaskit.cluster import DYNAMIC_PORTS
from paaskit.rack import EdgeInfo, RackInfo
from paaskit.testing import plan

ROOT = Path(__file__).resolve().parent.parent
LEGACY = Path(__file__).resolve().parent / "data" / "legacy"
DOMAIN = {"domain": "apps.example.com", "zone_name": "example.com"}
ALB = "aws:lb/loadBalancer:LoadBalancer"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
RECORD = "aws:route53/record:Record"
_DEFAULT = None


def default_rack():
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = plan(lambda: Rack("rk"))
    return _DEFAULT


def plan_rack(**settings):
    return plan(lambda: Rack("rk", RackArgs(**settings)))


def test_a_rack_is_made_of_its_components():
    records = default_rack()
    rack = records.one("paaskit:rack:Rack")
    kinds = sorted(r.type for r in records.children(rack.urn))
    assert kinds == [
        "paaskit:cdn:Edge",
        "paaskit:cluster:SpotCluster",
        "paaskit:loadbalancer:LoadBalancer",
        "paaskit:network:Network",
    ]


def test_every_taggable_resource_carries_the_racks_name():
    records = plan_rack(tags={"team": "platform"})
    for record in records:
        if record.custom and isinstance(record.inputs.get("tags"), dict):
            assert record.inputs["tags"]["paaskit:rack"] == "rk", record.name
            if record.type == "aws:cloudfront/vpcOrigin:VpcOrigin":
                # CloudFront refuses to update a VPC origin in use: only tags that never change.
                assert set(record.inputs["tags"]) == {"paaskit:rack", "paaskit:component"}
                assert record.ignore_changes == ("tags",)
            else:
                assert record.inputs["tags"]["team"] == "platform", record.name
    # The autoscaling group takes its tags as a list, propagated to the nodes.
    asg_tags = {t["key"]: t for t in records.one("aws:autoscaling/group:Group").inputs["tags"]}
    assert asg_tags["paaskit:rack"]["value"] == "rk"
    assert asg_tags["paaskit:rack"]["propagateAtLaunch"] is True


def test_nodes_live_in_the_private_subnets():
    records = default_rack()
    private = {records.named(f"rk-network-private-{i}").urn for i in range(2)}
    asg = records.one("aws:autoscaling/group:Group")
    assert private <= set(asg.dependencies)


def test_the_load_balancer_reaches_the_nodes_on_their_dynamic_ports_only():
    records = default_rack()
    ingress = [
        r
        for r in records.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.parent == records.one("paaskit:loadbalancer:LoadBalancer").urn
        and "referencedSecurityGroupId" in r.inputs
    ]
    assert ingress, "the load balancer opens the nodes to itself"
    for rule in ingress:
        assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == DYNAMIC_PORTS
        assert rule.inputs["ipProtocol"] == "tcp"


def test_the_load_balancer_is_internal_and_only_cloudfronts_vpc_origin_reaches_it():
    records = default_rack()
    lb = records.one(ALB)
    assert lb.inputs["internal"] is True
    private = {records.named(f"rk-network-private-{i}").urn for i in range(2)}
    assert private <= set(lb.dependencies)
    assert not [
        r
        for r in records.of_type("aws:ec2/subnet:Subnet")
        if r.urn in lb.dependencies and r.urn not in private
    ]
    origin = records.one("aws:cloudfront/vpcOrigin:VpcOrigin")
    config = origin.inputs["vpcOriginEndpointConfig"]
    assert lb.urn in origin.dependencies
    assert config["originProtocolPolicy"] == "http-only"
    assert config["httpPort"] == 80
    ingress = [
        r
        for r in records.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.name.startswith("rk-ilb-sg-")
    ]
    assert [(r.inputs["fromPort"], "prefixListId" in r.inputs) for r in ingress] == [(80, True)]
    (listener,) = records.of_type("aws:lb/listener:Listener")
    assert (listener.inputs["port"], listener.inputs["protocol"]) == (80, "HTTP")
    # No rack-wide distribution without a domain: each app brings its own.
    assert not records.of_type(DISTRIBUTION)
    assert not records.of_type("aws:acm/certificate:Certificate")


def test_the_edge_shares_what_every_apps_distributions_use():
    records = default_rack()
    assert records.one("aws:cloudfront/originAccessControl:OriginAccessControl")
    headers = records.one("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy")
    hsts = headers.inputs["securityHeadersConfig"]["strictTransportSecurity"]
    assert hsts["accessControlMaxAgeSec"] == 31_536_000
    # CloudFront logs on by default: one log group in us-east-1, with retention.
    group = records.named("rk-edge-cdn-logs")
    assert group.inputs["region"] == "us-east-1"
    assert group.inputs["retentionInDays"] == 30
    assert group.inputs["namePrefix"].startswith("/aws/vendedlogs/")
    destination = records.one("aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination")
    assert destination.inputs["region"] == "us-east-1"
    assert group.urn in destination.dependencies
    registry = records.named("rk-edge-registry")
    assert registry.inputs["handler"] == "paaskit.registry.handler.handler"
    policy = json.loads(records.named("rk-edge-registry-policy").inputs["policy"])
    claims = next(s for s in policy["Statement"] if s["Sid"] == "Claims")
    assert [r.split(":parameter")[1] for r in claims["Resource"]] == [
        "/paaskit/rk/claims/*",
        "/paaskit/rk/claims",
    ]
    assert claims["Action"] == [
        "ssm:DeleteParameter",
        "ssm:GetParameter",
        "ssm:GetParametersByPath",
        "ssm:PutParameter",
    ]


def test_with_a_domain_one_certificate_in_us_east_1_and_a_distribution_for_unclaimed_names():
    records = plan_rack(**DOMAIN)
    (certificate,) = records.of_type("aws:acm/certificate:Certificate")
    assert certificate.inputs["domainName"] == "apps.example.com"
    assert certificate.inputs["subjectAlternativeNames"] == ["*.apps.example.com"]
    assert certificate.inputs["region"] == "us-east-1"
    assert certificate.provider is None
    # Apps' distributions use it until they next deploy: a domain change keeps it.
    assert certificate.retain_on_delete is True
    distribution = records.one(DISTRIBUTION)
    assert distribution.inputs["aliases"] == ["apps.example.com", "*.apps.example.com"]
    (origin,) = distribution.inputs["origins"]
    assert "customHeaders" not in origin  # no route: the load balancer's 404
    aliases = sorted(
        (r.inputs["name"], r.inputs["type"])
        for r in records.of_type(RECORD)
        if "aliases" in r.inputs
    )
    assert aliases == [
        ("*.apps.example.com", "A"),
        ("*.apps.example.com", "AAAA"),
        ("apps.example.com", "A"),
        ("apps.example.com", "AAAA"),
    ]
    # The load balancer needs no certificate: TLS ends at CloudFront.
    assert [r.inputs["port"] for r in records.of_type("aws:lb/listener:Listener")] == [80]


def test_a_shared_database_admits_the_nodes_only():
    records = plan_rack(database=DatabaseSettings(multi_az=False))
    db = records.one("aws:rds/instance:Instance")
    assert db.protect is True
    rules = [
        r
        for r in records.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.parent == records.one("paaskit:database:Database").urn
    ]
    assert len(rules) == 1
    assert rules[0].inputs["fromPort"] == rules[0].inputs["toPort"] == 5432
    node_sg = next(
        r
        for r in records.of_type("aws:ec2/securityGroup:SecurityGroup")
        if r.parent == records.one("paaskit:cluster:SpotCluster").urn
    )
    assert node_sg.urn in rules[0].dependencies
    assert "cidrIpv4" not in rules[0].inputs


def test_throwaway_reaches_every_component():
    records = plan_rack(throwaway=True, database=DatabaseSettings(multi_az=False))
    lb = records.one(ALB)
    assert lb.inputs["enableDeletionProtection"] is False
    assert lb.protect is False
    db = records.one("aws:rds/instance:Instance")
    assert db.protect is False
    assert db.inputs["skipFinalSnapshot"] is True
    assert not any(r.retain_on_delete for r in records.of_type("aws:s3/bucket:Bucket"))


def test_a_real_rack_keeps_its_data_and_a_destroy_stops_before_deleting_anything():
    records = plan_rack(database=DatabaseSettings())
    lb = records.one(ALB)
    assert lb.inputs["enableDeletionProtection"] is True
    # Pulumi's protect: `pulumi destroy`'s preview fails on it, before anything goes.
    assert lb.protect is True
    assert all(r.retain_on_delete for r in records.of_type("aws:s3/bucket:Bucket"))
    # A kept bucket keeps its policy: TLS only.
    assert all(r.retain_on_delete for r in records.of_type("aws:s3/bucketPolicy:BucketPolicy"))
    assert records.one("aws:rds/instance:Instance").protect is True


def _export(rack: Rack) -> None:
    import pulumi

    for key, value in rack.outputs.items():
        pulumi.export(key, value)


def test_outputs_hold_everything_an_app_needs_and_no_secret():
    records = plan(lambda: _export(Rack("rk", RackArgs(database=DatabaseSettings(multi_az=False)))))
    legacy_only = {"cdnDomainName", "staticBucketName", "staticPaths", "staticHostsArn"}
    assert set(records.outputs) == (
        set(RackInfo.OUTPUT_NAMES.values()) - legacy_only
        # The secret's KMS key is exported only when the database has a customer key.
        | (set(RackInfo.DATABASE_OUTPUTS.values()) - {"databaseSecretKmsKeyArn"})
        | {"edge", "edgeOriginSecret"}
    )
    assert set(records.outputs["edge"]) == set(EdgeInfo.KEYS.values())
    assert records.outputs["originSecret"] == "[secret]"
    assert records.outputs["edgeOriginSecret"] == "[secret]"
    assert records.outputs["dockerPlatform"] == "linux/amd64"
    assert records.outputs["domain"] == ""
    assert records.outputs["edge"]["certificateArn"] == ""
    assert records.outputs["edge"]["vpcOriginId"].startswith("vo_")
    assert records.outputs["listenerArn"] == records.outputs["edge"]["listenerArn"]
    assert records.outputs["nodes"]["instanceType"] == "t3.medium"
    assert (records.outputs["nodes"]["minNodes"], records.outputs["nodes"]["onDemandBase"]) == (
        2,
        1,
    )
    assert "plan-" not in json.dumps(records.outputs)


def test_rackref_reads_a_rack_from_another_stack():
    rack = plan(lambda: _export(Rack("rk")))
    seen: dict[str, str] = {}

    def app_program() -> None:
        import pulumi_aws as aws

        info = RackRef("organization/racks/prod").info
        aws.ec2.SecurityGroup("probe", vpc_id=info.vpc_id, description="reads the rack's VPC")
        info.cluster_name.apply(lambda v: seen.setdefault("cluster", v))  # type: ignore[union-attr]
        info.edge.vpc_origin_id.apply(lambda v: seen.setdefault("origin", v))  # type: ignore[union-attr]

    records = plan(app_program, refs={"organization/racks/prod": rack.outputs})
    assert records.named("probe").inputs["vpcId"] == rack.outputs["vpcId"]
    assert seen["cluster"] == rack.outputs["clusterName"]
    assert seen["origin"] == rack.outputs["edge"]["vpcOriginId"]


def test_an_app_on_a_rack_from_before_the_edge_is_told_to_upgrade_the_rack_first():
    before = json.loads((LEGACY / "rack-dev.json").read_text())["outputs"]

    def app_program() -> None:
        import pulumi_aws as aws

        info = RackRef("organization/racks/prod").info
        aws.ec2.SecurityGroup("probe", vpc_id=info.edge.vpc_origin_id, description="x")

    with pytest.raises(Exception, match=r"no `edge` output: it was deployed before the edge"):
        plan(app_program, refs={"organization/racks/prod": before})


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"domain": "apps.example.com"}, "domain: needs its Route 53 zone"),
        ({"zone_name": "example.com"}, "zone_name: only used with a domain"),
        ({"domain": "apps.other.com", "zone_name": "example.com"}, "not in the zone"),
        # What the rack wires in is not a setting of its sections.
        ({"loadbalancer": {"vpc_id": "vpc-1"}}, r"loadbalancer.vpc_id\n  Extra inputs"),
        ({"edge": {"rack_name": "x"}}, r"edge.rack_name\n  Extra inputs"),
        (
            {"edge": {"certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/1"}},
            "edge.certificate_arn: only used with a domain",
        ),
        (
            {
                "loadbalancer": {
                    "certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/1"
                }
            },
            "loadbalancer.certificate_arn: the load balancer is internal",
        ),
        ({"loadbalancer": {"cloudfront_only": False}}, "loadbalancer.cloudfront_only: the rack's"),
        # The legacy distribution's section: shared settings are set once, in edge.
        ({"cdn": {"price_class": "PriceClass_All"}}, "cdn.price_class: .* set edge.price_class"),
        (
            {"cdn": {"bucket_name": "my-bucket"}},
            "cdn.bucket_name: only the legacy rack distribution",
        ),
        (
            {"edge": {"origin_read_timeout": 150}},
            r"edge.origin_read_timeout\n  Input should be less",
        ),
        ({"edge": {"log_retention_days": 45}}, "CloudWatch Logs keeps logs for one of"),
        ({"network": NetworkArgs(nat="none")}, "network.nat: with 'none'"),
        (
            {
                "network": NetworkArgs(private_subnets=False, nat="none", endpoints=[]),
                "database": DatabaseSettings(),
            },
            "database: lives in the private subnets",
        ),
    ],
)
def test_bad_rack_settings_fail_naming_the_key(settings, message):
    with pytest.raises(ValidationError, match=message):
        RackArgs(**settings)


@pytest.mark.parametrize(
    ("endpoints", "missing"),
    [
        (["ecr", "ecs", "logs"], "add ssmmessages to network.endpoints"),
        (["ecr", "logs", "ssmmessages"], "add ecs to network.endpoints"),
        ([], "add ecr, ecs, logs, ssmmessages to network.endpoints"),
    ],
)
def test_a_rack_without_nat_needs_the_endpoints_its_nodes_and_ecs_exec_use(endpoints, missing):
    with pytest.raises(ValidationError, match=missing):
        RackArgs(network=NetworkArgs(nat="none", endpoints=endpoints))


@pytest.mark.parametrize(
    "endpoints", [["ecr", "ecs", "logs", "ssmmessages"], ["ecr", "ecs", "logs", "ssm"]]
)
def test_ssm_covers_the_ssmmessages_endpoint_ecs_exec_needs(endpoints):
    RackArgs(network=NetworkArgs(nat="none", endpoints=endpoints))


def test_a_domain_may_come_with_a_certificate_of_its_own():
    cert = "arn:aws:acm:us-east-1:123456789012:certificate/edge"
    p = plan(
        lambda: Rack(
            "rk", RackArgs(domain="apps.example.com", edge=EdgeSettings(certificate_arn=cert))
        )
    )
    assert p.of_type("aws:acm/certificate:Certificate") == []
    distribution = p.one(DISTRIBUTION)
    assert distribution.inputs["viewerCertificate"]["acmCertificateArn"] == cert
    # No zone: paaskit writes no record; `*.domain` pointing at CloudFront is the owner's.
    assert not p.of_type(RECORD)


# --- moving a rack deployed before the edge --------------------------------------------


LEGACY_EDGE = ("$paaskit:loadbalancer:LoadBalancer", "$paaskit:cdn:Cdn")
"""The components of the legacy edge, in URNs: the public load balancer and the shared
distribution (the network and cluster around them change with their own work)."""


def _same_as_before(baseline: Path, config: dict[str, str]) -> None:
    """Every resource of the legacy edge in the plan from before is in this plan, unchanged."""
    before = json.loads(baseline.read_text())
    edge = {u: r for u, r in before["resources"].items() if any(c in u for c in LEGACY_EDGE)}
    assert len(edge) > 20
    now = {r.urn: r for r in plan(ROOT, stack="dev", config=config)}
    missing = sorted(set(edge) - set(now))
    assert missing == []
    changed = []
    for urn, old in edge.items():
        inputs = dict(now[urn].inputs)
        if old["type"] == "aws:lambda/function:Function":
            inputs.pop("code", None)
        if inputs != old["inputs"]:
            changed.append(urn.rsplit("::", 1)[-1])
    assert changed == []


def test_keeping_the_legacy_edge_keeps_every_resource_as_it_was():
    _same_as_before(LEGACY / "rack-dev.json", {"legacyEdge": "keep"})


def test_keeping_the_legacy_edge_of_a_rack_with_a_domain_keeps_every_resource_as_it_was():
    _same_as_before(
        LEGACY / "rack-domain.json",
        {"legacyEdge": "keep", "domain": "apps.example.com", "zoneName": "example.com"},
    )


def test_while_the_legacy_edge_serves_old_apps_read_it_and_new_apps_the_edge():
    before = json.loads((LEGACY / "rack-dev.json").read_text())["outputs"]
    now = plan(ROOT, stack="dev", config={"legacyEdge": "keep"})
    for key, value in before.items():
        if key != "originSecret":
            assert now.outputs[key] == value, key
    assert now.outputs["edge"]["listenerArn"] != before["listenerArn"]
    internal, legacy = sorted(now.of_type(ALB), key=lambda r: r.name)
    assert (legacy.name, legacy.inputs["internal"]) == ("rack-lb-alb", False)
    assert (internal.name, internal.inputs["internal"]) == ("rack-ilb-alb", True)
    assert legacy.protect is True


def test_while_the_legacy_distribution_holds_the_domain_the_edge_leaves_it_alone():
    p = plan_rack(legacy_edge="keep", **DOMAIN)
    legacy = p.named("rk-cdn-distribution")
    assert legacy.inputs["aliases"] == ["apps.example.com", "*.apps.example.com"]
    assert [r.name for r in p.of_type(DISTRIBUTION)] == ["rk-cdn-distribution"]
    # Its records and validation stay in the zone when it goes: the edge takes them over.
    kept = [r for r in p.of_type(RECORD) if r.parent != p.one("paaskit:cdn:Edge").urn]
    assert kept
    assert all(r.retain_on_delete for r in kept)


def test_retiring_the_legacy_edge_unprotects_it_and_hands_the_domain_over():
    p = plan_rack(legacy_edge="retire", **DOMAIN)
    legacy_lb = p.named("rk-lb-alb")
    assert legacy_lb.inputs["enableDeletionProtection"] is False
    assert legacy_lb.protect is False
    assert p.named("rk-lb-logs").retain_on_delete is True  # its logs stay
    legacy = p.named("rk-cdn-distribution")
    assert "aliases" not in legacy.inputs
    edge = p.named("rk-edge-distribution")
    assert edge.inputs["aliases"] == ["apps.example.com", "*.apps.example.com"]
    # CloudFront refuses a name another distribution holds: the legacy one lets go first.
    assert legacy.urn in edge.dependencies
    records = [r for r in p.of_type(RECORD) if r.name.startswith("rk-edge-dns-")]
    assert len(records) == 4
    assert all(r.inputs["allowOverwrite"] is True for r in records)


def test_without_the_legacy_edge_nothing_of_it_is_left():
    p = plan_rack(**DOMAIN)
    assert not [r for r in p if r.name.startswith(("rk-lb", "rk-cdn"))]
    assert p.one(ALB).name == "rk-ilb-alb"


def test_an_app_moving_off_a_legacy_rack_routes_through_the_edge():
    rack = plan(ROOT, stack="dev", config={"legacyEdge": "keep"})
    app = plan(
        ROOT / "stacks" / "app",
        stack="dev",
        config={"manifest": "examples/flask/paaskit.yml"},
        refs={"organization/paaskit-rack/dev": rack.outputs},
    )
    rule = app.named("flask-web-route")
    assert rule.inputs["listenerArn"] == rack.outputs["edge"]["listenerArn"]
    assert rule.inputs["listenerArn"] != rack.outputs["listenerArn"]
    # Its target group goes along with it: the old rule is deleted first.
    assert rule.delete_before_replace is True
    assert not app.of_type("aws:cloudfront/keyvaluestoreKey:KeyvaluestoreKey")


def test_a_mapping_transform_of_the_legacy_distribution_keeps_the_racks_waiver():
    args = RackArgs(
        legacy_edge="keep", cdn=CdnSettings(transform={"distribution": {"comment": "mine"}})
    )
    distribution = plan(lambda: Rack("rk", args)).one(DISTRIBUTION)
    assert distribution.inputs["comment"] == "mine"
    assert "paaskit:waive:PK-CF-007" in distribution.inputs["tags"]


@pytest.mark.parametrize(
    ("domain", "zone"),
    [("apps.example.com.", "example.com."), ("Apps.Example.COM", "EXAMPLE.com")],
)
def test_domains_are_taken_as_aws_stores_them(domain, zone):
    args = RackArgs(domain=domain, zone_name=zone)
    assert (args.domain, args.zone_name) == ("apps.example.com", "example.com")


def test_the_tags_a_rack_allows_fit_on_every_resource():
    # paaskit adds its own tags beside the user's: counted, every resource stays within
    # AWS's 50, and one tag more is refused before anything is planned.
    from paaskit.config import PAASKIT_TAGS

    tags = {f"team-{i}": "x" for i in range(50 - PAASKIT_TAGS)}
    records = plan_rack(tags=tags)
    most = max(len(r.inputs.get("tags") or {}) for r in records if r.custom)
    assert most <= 50
    with pytest.raises(ValidationError, match="47 tags; AWS allows 50 on a resource"):
        RackArgs(tags={**tags, "one-more": "x"})


def test_a_legacy_load_balancer_with_a_domain_keeps_its_own_certificate():
    lb_cert = "arn:aws:acm:eu-west-1:123456789012:certificate/lb"
    args = RackArgs(
        legacy_edge="keep",
        domain="apps.example.com",
        loadbalancer=LoadBalancerSettings(certificate_arn=lb_cert),
        edge=EdgeSettings(certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/cdn"),
    )
    p = plan(lambda: Rack("rk", args))
    https = next(r for r in p.of_type("aws:lb/listener:Listener") if r.inputs["port"] == 443)
    assert https.inputs["certificateArn"] == lb_cert
    assert p.named("rk-ilb-alb").inputs["internal"] is True
