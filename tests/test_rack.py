"""Rack: the components wired together, its settings, its outputs, and RackRef."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from paaskit import (
    CdnSettings,
    DatabaseSettings,
    LoadBalancerSettings,
    NetworkArgs,
    Rack,
    RackArgs,
    RackRef,
)
from paaskit.cluster import DYNAMIC_PORTS
from paaskit.rack import RackInfo
from paaskit.testing import plan

DOMAIN = {"domain": "apps.example.com", "zone_name": "example.com"}
_DEFAULT = None


def default_rack():
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = plan(lambda: Rack("rk"))
    return _DEFAULT


def plan_rack(**settings):
    return plan(lambda: Rack("rk", RackArgs(**settings)))


def test_a_rack_is_made_of_the_five_components():
    records = default_rack()
    rack = records.one("paaskit:rack:Rack")
    kinds = sorted(r.type for r in records.children(rack.urn))
    assert kinds == [
        "paaskit:cdn:Cdn",
        "paaskit:cluster:SpotCluster",
        "paaskit:loadbalancer:LoadBalancer",
        "paaskit:network:Network",
    ]


def test_every_taggable_resource_carries_the_racks_name():
    records = plan_rack(tags={"team": "platform"})
    for record in records:
        if record.custom and isinstance(record.inputs.get("tags"), dict):
            assert record.inputs["tags"]["paaskit:rack"] == "rk", record.name
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


def test_cloudfront_fronts_the_load_balancer_and_routes_static_files_by_host():
    records = default_rack()
    lb = records.one("aws:lb/loadBalancer:LoadBalancer")
    distribution = records.one("aws:cloudfront/distribution:Distribution")
    assert lb.urn in distribution.dependencies
    origins = {o["originId"]: o for o in distribution.inputs["origins"]}
    app_origins = [o for o in origins.values() if "customOriginConfig" in o]
    assert len(app_origins) == 1
    assert app_origins[0]["customOriginConfig"]["originProtocolPolicy"] == "http-only"
    assert app_origins[0]["customHeaders"][0]["value"] == "[secret]"
    assert records.one("aws:cloudfront/function:Function")


def test_without_a_domain_the_load_balancer_admits_cloudfront_only():
    records = default_rack()
    listeners = records.of_type("aws:lb/listener:Listener")
    assert [listener.inputs["port"] for listener in listeners] == [80]
    assert not records.of_type("aws:acm/certificate:Certificate")


def test_with_a_domain_both_edges_get_certificates_and_one_set_of_validation_records():
    records = plan_rack(**DOMAIN)
    certificates = records.of_type("aws:acm/certificate:Certificate")
    assert len(certificates) == 2
    for certificate in certificates:
        assert certificate.inputs["domainName"] == "apps.example.com"
        assert certificate.inputs["subjectAlternativeNames"] == ["*.apps.example.com"]
        assert certificate.inputs["validationMethod"] == "DNS"
    validation = [
        r for r in records.of_type("aws:route53/record:Record") if r.inputs["type"] == "CNAME"
    ]
    names = [r.inputs["name"] for r in validation]
    assert len(names) == len(set(names))
    assert records.one("aws:cloudfront/distribution:Distribution").inputs["aliases"] == [
        "apps.example.com",
        "*.apps.example.com",
    ]
    assert sorted(
        listener.inputs["port"] for listener in records.of_type("aws:lb/listener:Listener")
    ) == [80, 443]


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
    assert (
        records.one("aws:lb/loadBalancer:LoadBalancer").inputs["enableDeletionProtection"] is False
    )
    db = records.one("aws:rds/instance:Instance")
    assert db.protect is False
    assert db.inputs["skipFinalSnapshot"] is True
    assert not any(r.retain_on_delete for r in records.of_type("aws:s3/bucket:Bucket"))


def test_a_real_rack_keeps_its_data():
    records = plan_rack(database=DatabaseSettings())
    assert (
        records.one("aws:lb/loadBalancer:LoadBalancer").inputs["enableDeletionProtection"] is True
    )
    assert all(r.retain_on_delete for r in records.of_type("aws:s3/bucket:Bucket"))
    assert records.one("aws:rds/instance:Instance").protect is True


def test_outputs_hold_everything_an_app_needs_and_no_secret():
    records = plan(lambda: _export(Rack("rk", RackArgs(database=DatabaseSettings(multi_az=False)))))
    # The secret's KMS key is exported only when the database has a customer key.
    assert set(records.outputs) == set(RackInfo.OUTPUT_NAMES.values()) | (
        set(RackInfo.DATABASE_OUTPUTS.values()) - {"databaseSecretKmsKeyArn"}
    )
    assert records.outputs["originSecret"] == "[secret]"
    assert records.outputs["dockerPlatform"] == "linux/amd64"
    assert records.outputs["domain"] == ""
    assert "plan-" not in json.dumps(records.outputs)


def _export(rack: Rack) -> None:
    import pulumi

    for key, value in rack.outputs.items():
        pulumi.export(key, value)


def test_rackref_reads_a_rack_from_another_stack():
    rack = plan(lambda: _export(Rack("rk")))
    seen: dict[str, str] = {}

    def app_program() -> None:
        import pulumi_aws as aws

        info = RackRef("organization/racks/prod").info
        aws.ec2.SecurityGroup("probe", vpc_id=info.vpc_id, description="reads the rack's VPC")
        info.cluster_name.apply(lambda v: seen.setdefault("cluster", v))  # type: ignore[union-attr]

    records = plan(app_program, refs={"organization/racks/prod": rack.outputs})
    assert records.named("probe").inputs["vpcId"] == rack.outputs["vpcId"]
    assert seen["cluster"] == rack.outputs["clusterName"]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"domain": "apps.example.com"}, "domain: needs its Route 53 zone"),
        ({"zone_name": "example.com"}, "zone_name: only used with a domain"),
        ({"domain": "apps.other.com", "zone_name": "example.com"}, "not in the zone"),
        # What the rack wires in is not a setting of its sections.
        ({"loadbalancer": {"vpc_id": "vpc-1"}}, r"loadbalancer.vpc_id\n  Extra inputs"),
        ({"cdn": {"domains": ["x.example.com"]}}, r"cdn.domains\n  Extra inputs"),
        (
            {"cdn": {"certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/1"}},
            "cdn.certificate_arn: only used with a domain",
        ),
        ({"loadbalancer": {"cloudfront_only": False}}, "loadbalancer.cloudfront_only: without"),
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


def test_a_domain_may_come_with_certificates_of_your_own():
    # The sections are settings: the rack's domain reaches them as wiring, so
    # certificates of one's own validate against it (before, each section was
    # checked without the domain and refused its certificate).
    lb_cert = "arn:aws:acm:us-east-1:123456789012:certificate/lb"
    cdn_cert = "arn:aws:acm:us-east-1:123456789012:certificate/cdn"
    p = plan(
        lambda: Rack(
            "rk",
            RackArgs(
                domain="apps.example.com",
                loadbalancer=LoadBalancerSettings(certificate_arn=lb_cert),
                cdn=CdnSettings(certificate_arn=cdn_cert),
            ),
        )
    )
    assert p.of_type("aws:acm/certificate:Certificate") == []
    https = next(r for r in p.of_type("aws:lb/listener:Listener") if r.inputs["port"] == 443)
    assert https.inputs["certificateArn"] == lb_cert
    distribution = p.one("aws:cloudfront/distribution:Distribution")
    assert distribution.inputs["viewerCertificate"]["acmCertificateArn"] == cdn_cert


def test_a_mapping_transform_of_the_distribution_keeps_the_racks_waiver():
    args = RackArgs(cdn=CdnSettings(transform={"distribution": {"comment": "mine"}}))
    distribution = plan(lambda: Rack("rk", args)).one("aws:cloudfront/distribution:Distribution")
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
