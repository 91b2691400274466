"""LoadBalancer: HTTPS done right, CloudFront only, private logs, routes whose priorities never move."""

from __future__ import annotations

import json

import pulumi
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from paaskit.config import ConfigError
from paaskit.loadbalancer import (
    NODE_PORTS,
    TLS_POLICY,
    LoadBalancer,
    LoadBalancerArgs,
    LoadBalancerSettings,
    RuleBook,
    app_host,
    attach_route,
    route_priority,
)
from paaskit.plan.engine import ProgramError
from paaskit.testing import plan

ALB = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
RULE = "aws:lb/listenerRule:ListenerRule"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
RECORD = "aws:route53/record:Record"
CLOUDFRONT_PREFIX_LIST_ID = "pl-3b927c52"  # what the fakes answer in us-east-1

BASE = {
    "vpc_id": "vpc-0123456789abcdef0",
    "public_subnet_ids": ["subnet-0aaa", "subnet-0bbb"],
    "node_security_group_id": "sg-0nodes",
}
DOMAIN = {"domain": "example.com", "zone_name": "example.com"}


def plan_lb(routes=(), config=None, **settings):
    def program():
        lb = LoadBalancer("lb", LoadBalancerArgs(**{**BASE, **settings}))
        for name, kwargs in routes:
            lb.add_route(name, f"arn:aws:elasticloadbalancing:tg/{name}", **kwargs)

    return plan(program, config=config)


def listener(p, port):
    (found,) = [r for r in p.of_type(LISTENER) if r.inputs["port"] == port]
    return found


def priorities(p):
    return {r.name.removeprefix("lb-route-"): r.inputs["priority"] for r in p.of_type(RULE)}


def conditions(rule):
    merged = {}
    for condition in rule.inputs["conditions"]:
        merged.update(condition)
    return merged


# --- listeners and certificates -----------------------------------------------------


def test_with_a_domain_http_answers_301_to_https():
    (action,) = listener(plan_lb(**DOMAIN), 80).inputs["defaultActions"]
    assert action == {
        "type": "redirect",
        "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"},
    }


def test_https_uses_a_tls13_policy_a_validated_certificate_and_a_404_default():
    p = plan_lb(**DOMAIN)
    https = listener(p, 443)
    assert https.inputs["protocol"] == "HTTPS"
    assert https.inputs["sslPolicy"] == TLS_POLICY
    assert TLS_POLICY.startswith("ELBSecurityPolicy-TLS13-")
    validation = p.one("aws:acm/certificateValidation:CertificateValidation")
    assert validation.urn in https.dependencies
    (default,) = https.inputs["defaultActions"]
    assert default["type"] == "fixed-response"
    assert default["fixedResponse"]["statusCode"] == "404"


def test_the_certificate_covers_the_domain_and_its_subdomains_by_dns_validation():
    p = plan_lb(domain="example.com", zone_id="Z0123456789EXAMPLE")
    certificate = p.one("aws:acm/certificate:Certificate")
    assert certificate.inputs["domainName"] == "example.com"
    assert certificate.inputs["subjectAlternativeNames"] == ["*.example.com"]
    assert certificate.inputs["validationMethod"] == "DNS"
    # One record validates both names; it lives in the zone the user named.
    (record,) = p.of_type(RECORD)
    assert record.inputs["zoneId"] == "Z0123456789EXAMPLE"
    assert record.inputs["type"] == "CNAME"
    assert certificate.urn in record.dependencies
    validation = p.one("aws:acm/certificateValidation:CertificateValidation")
    assert record.urn in validation.dependencies


def test_a_certificate_of_your_own_is_used_as_given():
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
    p = plan_lb(domain="example.com", certificate_arn=arn)
    assert not p.of_type("aws:acm/certificate:Certificate")
    assert listener(p, 443).inputs["certificateArn"] == arn


def test_without_a_domain_only_http_to_cloudfront_with_a_404_default():
    p = plan_lb()
    (http,) = p.of_type(LISTENER)
    assert (http.inputs["port"], http.inputs["protocol"]) == (80, "HTTP")
    assert http.inputs["defaultActions"][0]["fixedResponse"]["statusCode"] == "404"
    (ingress,) = [r for r in p.of_type(INGRESS) if r.name.startswith("lb-sg-")]
    assert ingress.inputs["prefixListId"] == CLOUDFRONT_PREFIX_LIST_ID
    assert (ingress.inputs["fromPort"], ingress.inputs["toPort"]) == (80, 80)
    assert not p.of_type("aws:acm/certificate:Certificate")


# --- who may call -------------------------------------------------------------------


def test_cloudfront_only_opens_one_port_to_cloudfront_and_rules_require_the_secret_header():
    p = plan_lb(routes=[("web", {"hosts": ["web.example.com"]})], **DOMAIN)
    ingress = [r for r in p.of_type(INGRESS) if r.name.startswith("lb-sg-")]
    # A prefix list counts as its 55 entries against the 60-rule quota: one reference only.
    assert [(r.inputs["prefixListId"], r.inputs["fromPort"]) for r in ingress] == [
        (CLOUDFRONT_PREFIX_LIST_ID, 443)
    ]
    assert not any("cidrIpv4" in r.inputs or "cidrIpv6" in r.inputs for r in ingress)
    header = conditions(p.one(RULE))["httpHeader"]
    assert header == {"httpHeaderName": "X-Origin-Verify", "values": ["[secret]"]}


def test_open_to_viewers_on_80_and_443_over_ipv4_and_ipv6_when_not_cloudfront_only():
    p = plan_lb(
        routes=[("web", {"hosts": ["web.example.com"]})], cloudfront_only=False, ipv6=True, **DOMAIN
    )
    opened = sorted(
        (r.inputs.get("cidrIpv4") or r.inputs.get("cidrIpv6"), r.inputs["fromPort"])
        for r in p.of_type(INGRESS)
        if r.name.startswith("lb-sg-")
    )
    assert opened == [("0.0.0.0/0", 80), ("0.0.0.0/0", 443), ("::/0", 80), ("::/0", 443)]
    assert "httpHeader" not in conditions(p.one(RULE))
    assert not p.of_type("aws:ssm/parameter:Parameter")
    assert p.one(ALB).inputs["ipAddressType"] == "dualstack"
    # Viewers reach the load balancer itself, so it owns the DNS names.
    aliases = sorted(
        (r.inputs["name"], r.inputs["type"]) for r in p.of_type(RECORD) if "aliases" in r.inputs
    )
    assert aliases == [
        ("*.example.com", "A"),
        ("*.example.com", "AAAA"),
        ("example.com", "A"),
        ("example.com", "AAAA"),
    ]


def test_egress_goes_only_to_the_nodes_dynamic_ports_and_the_nodes_admit_it():
    p = plan_lb()
    sg = p.one("aws:ec2/securityGroup:SecurityGroup")
    assert "egress" not in sg.inputs
    assert "ingress" not in sg.inputs
    (egress,) = p.of_type(EGRESS)
    assert egress.inputs["referencedSecurityGroupId"] == "sg-0nodes"
    assert (egress.inputs["ipProtocol"], egress.inputs["fromPort"], egress.inputs["toPort"]) == (
        "tcp",
        *NODE_PORTS,
    )
    node_rule = p.named("lb-nodes-from-lb")
    assert node_rule.inputs["securityGroupId"] == "sg-0nodes"
    assert sg.urn in node_rule.dependencies
    assert (node_rule.inputs["fromPort"], node_rule.inputs["toPort"]) == (32768, 65535)


def test_without_the_node_group_the_load_balancer_has_no_egress():
    settings = {k: v for k, v in BASE.items() if k != "node_security_group_id"}
    p = plan(lambda: LoadBalancer("lb", LoadBalancerArgs(**settings)))
    assert not p.of_type(EGRESS)


def test_the_generated_origin_secret_is_secret_and_made_once():
    p = plan_lb(**DOMAIN)
    parameter = p.one("aws:ssm/parameter:Parameter")
    assert parameter.inputs["type"] == "SecureString"
    assert parameter.inputs["value"] == "[secret]"
    # Later runs keep the first value: CloudFront and the rules never churn.
    assert "value" in parameter.ignore_changes


def test_an_origin_secret_of_your_own_replaces_the_generated_one():
    def program():
        secret = pulumi.Output.secret("s3cr3t-" * 6)
        lb = LoadBalancer("lb", LoadBalancerArgs(**BASE, origin_secret=secret))
        lb.add_route("web", "arn:tg", paths=["/*"])

    p = plan(program)
    assert not p.of_type("aws:ssm/parameter:Parameter")
    assert conditions(p.one(RULE))["httpHeader"]["values"] == ["[secret]"]


# --- the load balancer and its logs ---------------------------------------------------


def test_load_balancer_drops_bad_headers_mitigates_desync_and_resists_deletion():
    alb = plan_lb().one(ALB).inputs
    assert alb["internal"] is False
    assert alb["loadBalancerType"] == "application"
    assert alb["subnets"] == ["subnet-0aaa", "subnet-0bbb"]
    assert alb["dropInvalidHeaderFields"] is True
    assert alb["desyncMitigationMode"] == "defensive"
    assert alb["enableDeletionProtection"] is True
    assert alb["enableHttp2"] is True
    assert alb["preserveHostHeader"] is True
    assert alb["idleTimeout"] == 60


def test_access_logs_go_to_a_private_encrypted_bucket_of_its_own():
    p = plan_lb()
    bucket = p.named("lb-logs")
    assert bucket.retain_on_delete is True
    assert bucket.inputs["forceDestroy"] is False
    assert p.named("lb-logs-ownership").inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    block = p.named("lb-logs-public-access").inputs
    assert all(
        block[k]
        for k in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    )
    assert p.named("lb-logs-public-access").retain_on_delete is True
    (sse,) = p.named("lb-logs-encryption").inputs["rules"]
    assert sse["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    (lifecycle,) = p.named("lb-logs-lifecycle").inputs["rules"]
    assert lifecycle["expiration"] == {"days": 90}
    alb = p.one(ALB)
    logs = alb.inputs["accessLogs"]
    assert logs["enabled"] is True
    assert logs["prefix"] == "access"
    assert logs["bucket"] == p.named("lb-logs-ownership").inputs["bucket"]
    # ELB writes a test file when logging starts: the policy must exist first.
    assert p.named("lb-logs-policy").urn in alb.dependencies


def log_policy(p):
    return json.loads(p.named("lb-logs-policy").inputs["policy"])


def test_the_log_bucket_policy_admits_elb_log_delivery_for_this_account_only_over_tls():
    p = plan_lb()
    bucket = p.named("lb-logs-ownership").inputs["bucket"]
    statements = {s["Sid"]: s for s in log_policy(p)["Statement"]}
    target = f"arn:aws:s3:::{bucket}/access/AWSLogs/123456789012/*"
    delivery = statements["ElbLogDelivery"]
    assert delivery["Principal"] == {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
    assert (delivery["Action"], delivery["Resource"]) == ("s3:PutObject", target)
    # us-east-1 predates the service principal: its ELB account is admitted as well.
    legacy = statements["ElbLogDeliveryRegionalAccount"]
    assert legacy["Principal"] == {"AWS": "arn:aws:iam::127311923021:root"}
    assert (legacy["Action"], legacy["Resource"]) == ("s3:PutObject", target)
    deny = statements["DenyInsecureTransport"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_regions_opened_since_2022_use_the_log_delivery_service_principal_only():
    p = plan_lb(config={"aws:region": "ap-southeast-5"})
    principals = [s["Principal"] for s in log_policy(p)["Statement"] if s["Effect"] == "Allow"]
    assert principals == [{"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}]


def test_a_throwaway_stack_may_delete_its_logs_and_its_load_balancer():
    p = plan_lb(throwaway=True)
    assert p.one(ALB).inputs["enableDeletionProtection"] is False
    assert p.named("lb-logs").retain_on_delete is False
    assert p.named("lb-logs").inputs["forceDestroy"] is True


def test_access_logs_can_be_switched_off():
    p = plan_lb(access_logs=False)
    assert not p.of_type("aws:s3/bucket:Bucket")
    assert "accessLogs" not in p.one(ALB).inputs


# --- routes -------------------------------------------------------------------------


def routes(*names):
    kinds = {
        "shop": {"hosts": ["shop-web.example.com"]},
        "api": {"hosts": ["api.example.com"], "paths": ["/v1/*"]},
        "wellknown": {"paths": ["/.well-known/*"]},
        "blog": {"hosts": ["blog-web.example.com"]},
        "admin": {"hosts": ["admin.example.com"], "paths": ["/admin/*", "/static/admin/*"]},
    }
    return [(name, kinds[name]) for name in names]


def test_rule_priorities_do_not_move_when_apps_come_and_go():
    before = priorities(plan_lb(routes=routes("shop", "api", "wellknown"), **DOMAIN))
    more = priorities(plan_lb(routes=routes("blog", "shop", "admin", "api", "wellknown"), **DOMAIN))
    fewer = priorities(plan_lb(routes=routes("wellknown", "shop"), **DOMAIN))
    assert {k: more[k] for k in before} == before
    assert fewer == {k: before[k] for k in fewer}
    assert len(set(more.values())) == 5


def test_more_specific_rules_come_first():
    p = priorities(plan_lb(routes=routes("shop", "api", "wellknown"), **DOMAIN))
    assert p["api"] < p["wellknown"] < p["shop"]


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=40))
def test_priorities_fall_in_their_band_and_depend_on_the_name_alone(name):
    both = route_priority(name, ["a.example.com"], ["/x/*"])
    path = route_priority(name, [], ["/x/*"])
    host = route_priority(name, ["a.example.com"], [])
    assert 1 <= both <= 16666 < path <= 33332 < host <= 49998
    assert route_priority(name, ["b.example.com"], ["/y/*", "/z"]) == both


def test_more_rules_than_aws_allows_fail_before_deploy_naming_the_limit():
    with pytest.raises(
        ProgramError, match=r"max_rules: route 'blog' would be listener rule 3 .*the limit is 2"
    ):
        plan_lb(routes=routes("shop", "api", "blog"), max_rules=2, **DOMAIN)


def test_aws_default_quota_is_100_rules_per_load_balancer():
    book = RuleBook()
    for i in range(100):
        book.book(f"app{i}", [f"app{i}.example.com"], [], priority=40_000 + i)
    assert len(book) == 100
    with pytest.raises(
        ConfigError, match=r"max_rules: route 'app100' would be listener rule 101 .*limit is 100"
    ):
        book.book("app100", ["app100.example.com"], [])


def test_two_routes_on_one_priority_fail_naming_both_and_a_free_priority():
    book = RuleBook(limit=100)
    book.book("shop", ["shop.example.com"], [], priority=40000)
    with pytest.raises(
        ConfigError,
        match=r"priority: route 'blog' and route 'shop' both take priority 40000; .*priority=40001",
    ):
        book.book("blog", ["blog.example.com"], [], priority=40000)


def test_the_same_conditions_twice_is_an_error():
    book = RuleBook()
    book.book("a", ["a.example.com"], ["/x/*"])
    with pytest.raises(ConfigError, match="route 'b': route 'a' already matches exactly"):
        book.book("b", ["a.example.com"], ["/x/*"])


def test_a_rule_has_at_most_five_condition_values_counting_the_origin_header():
    hosts = [f"h{i}.example.com" for i in range(4)]
    with pytest.raises(ProgramError, match="4 hosts and 1 paths plus the origin header make 6"):
        plan_lb(routes=[("big", {"hosts": hosts, "paths": ["/x"]})], **DOMAIN)
    open_lb = plan_lb(
        routes=[("big", {"hosts": hosts, "paths": ["/x"]})], cloudfront_only=False, **DOMAIN
    )
    assert len(open_lb.of_type(RULE)) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give hosts, paths, a route header value, or several"),
        ({"route": "Shop.Web"}, "route .Shop.Web.: use lowercase"),
        ({"hosts": ["bad_host.example.com"]}, "hosts: 'bad_host.example.com'"),
        ({"hosts": ["localhost"]}, "hosts: 'localhost'"),
        ({"paths": ["static/*"]}, "paths: 'static/\\*'"),
        ({"paths": ["/a b"]}, "paths: '/a b'"),
        ({"paths": ["/*/*/*", "/?/?/?"]}, "6 wildcards"),
        ({"paths": ["/x"], "priority": 50001}, "priority 50001 is outside"),
    ],
)
def test_bad_routes_fail_before_deploy(kwargs, message):
    with pytest.raises(ProgramError, match=message):
        plan_lb(routes=[("web", kwargs)], cloudfront_only=False, **DOMAIN)


def test_a_route_forwards_to_its_target_group_on_the_https_listener():
    p = plan_lb(routes=routes("api"), **DOMAIN)
    rule = p.one(RULE)
    assert rule.inputs["actions"] == [
        {"type": "forward", "targetGroupArn": "arn:aws:elasticloadbalancing:tg/api"}
    ]
    assert listener(p, 443).urn in rule.dependencies
    assert conditions(rule)["hostHeader"] == {"values": ["api.example.com"]}
    assert conditions(rule)["pathPattern"] == {"values": ["/v1/*"]}
    assert rule.parent == p.one("paaskit:loadbalancer:LoadBalancer").urn


def test_apps_in_other_stacks_attach_routes_with_the_same_priorities():
    listener_arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/rack/1/2"

    def other_stack():
        book = RuleBook()
        attach_route(
            "api",
            listener_arn,
            "arn:tg/api",
            hosts=["api.example.com"],
            paths=["/v1/*"],
            origin_secret=pulumi.Output.secret("x" * 48),
            rules=book,
        )

    rule = plan(other_stack).one(RULE)
    assert rule.inputs["listenerArn"] == listener_arn
    assert conditions(rule)["httpHeader"] == {
        "httpHeaderName": "X-Origin-Verify",
        "values": ["[secret]"],
    }
    same_stack = priorities(plan_lb(routes=routes("api"), **DOMAIN))
    assert rule.inputs["priority"] == same_stack["api"] == route_priority("api", ["h"], ["/p"])


def test_apps_get_hosts_under_the_rack_domain():
    assert app_host("example.com", "shop", "web") == "shop-web.example.com"
    with pytest.raises(ConfigError, match="one DNS label"):
        app_host("example.com", "shop_" * 10, "web")

    hosts = {}

    def program():
        hosts["domain"] = LoadBalancer("a", LoadBalancerArgs(**BASE, **DOMAIN)).app_host(
            "shop", "web"
        )
        hosts["none"] = LoadBalancer("b", LoadBalancerArgs(**BASE)).app_host("shop", "web")

    plan(program)
    assert hosts == {"domain": "shop-web.example.com", "none": None}


# --- internal, behind a VPC origin ---------------------------------------------------

INTERNAL = {
    "vpc_id": "vpc-0123456789abcdef0",
    "internal": True,
    "private_subnet_ids": ["subnet-0ppp", "subnet-0qqq"],
    "node_security_group_id": "sg-0nodes",
}


def test_an_internal_load_balancer_lives_in_the_private_subnets_with_no_public_address():
    p = plan(lambda: LoadBalancer("lb", LoadBalancerArgs(**INTERNAL)))
    alb = p.one(ALB)
    assert alb.inputs["internal"] is True
    assert alb.inputs["subnets"] == ["subnet-0ppp", "subnet-0qqq"]
    # CloudFront's VPC origin comes from the origin-facing prefix list, on 80 only.
    (ingress,) = [r for r in p.of_type(INGRESS) if r.name.startswith("lb-sg-")]
    assert ingress.inputs["prefixListId"] == CLOUDFRONT_PREFIX_LIST_ID
    assert (ingress.inputs["fromPort"], ingress.inputs["toPort"]) == (80, 80)
    assert "cidrIpv4" not in ingress.inputs
    # One HTTP listener with a 404 default; no certificate, no HTTPS.
    (http,) = p.of_type(LISTENER)
    assert http.inputs["protocol"] == "HTTP"
    assert http.inputs["defaultActions"][0]["fixedResponse"]["statusCode"] == "404"
    assert not p.of_type("aws:acm/certificate:Certificate")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"public_subnet_ids": ["subnet-1", "subnet-2"]}, "public_subnet_ids: an internal"),
        ({"cloudfront_only": False}, "cloudfront_only: an internal load balancer"),
        ({"domain": "example.com", "zone_name": "example.com"}, "domain: an internal"),
        ({"private_subnet_ids": ["subnet-1"]}, "(?s)private_subnet_ids.*at least two zones"),
    ],
)
def test_an_internal_load_balancer_refuses_what_it_cannot_use(settings, message):
    with pytest.raises(ValidationError, match=message):
        LoadBalancerArgs(**{**INTERNAL, **settings})


def test_a_route_header_rule_needs_both_headers_and_no_host():
    def program():
        lb = LoadBalancer("lb", LoadBalancerArgs(**INTERNAL))
        lb.add_route("shop-web", "arn:tg/shop-web", route="shop.web")

    rule = plan(program).one(RULE)
    headers = {
        c["httpHeader"]["httpHeaderName"]: c["httpHeader"]["values"]
        for c in rule.inputs["conditions"]
    }
    assert headers == {"X-Paaskit-Route": ["shop.web"], "X-Origin-Verify": ["[secret]"]}
    assert rule.inputs["priority"] == route_priority("shop-web")


def test_the_load_balancer_is_protected_unless_throwaway_or_retiring():
    def protected(**settings):
        p = plan(lambda: LoadBalancer("lb", LoadBalancerArgs(**INTERNAL, **settings)))
        alb = p.one(ALB)
        assert alb.protect is alb.inputs["enableDeletionProtection"]
        policy = p.named("lb-logs-policy")
        return alb.protect, policy.retain_on_delete

    # A kept log bucket keeps its TLS-only policy; a retiring load balancer keeps its logs.
    assert protected() == (True, True)
    assert protected(throwaway=True) == (False, False)
    assert protected(deletion_protection=False) == (False, True)


# --- conventions ----------------------------------------------------------------------


def test_every_child_is_parented_named_and_tagged():
    p = plan_lb(routes=routes("shop"), tags={"team": "edge"}, **DOMAIN)
    component = p.one("paaskit:loadbalancer:LoadBalancer")
    for record in p.descendants(component.urn):
        assert record.name.startswith("lb-")
        if "tags" in record.inputs:
            assert record.inputs["tags"] == {"team": "edge", "paaskit:component": "lb"}
    assert len(p.descendants(component.urn)) == len(p) - 2


def test_the_network_is_required_by_the_type():
    # Settings (what a rack's section holds) leave the network out; the Args may not.
    assert "vpc_id" not in LoadBalancerSettings.model_fields
    with pytest.raises(ValidationError, match=r"vpc_id\n  Field required"):
        LoadBalancerArgs()  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match=r"public_subnet_ids: required"):
        LoadBalancerArgs(vpc_id="vpc-1")
    with pytest.raises(ValidationError, match=r"private_subnet_ids: required"):
        LoadBalancerArgs(vpc_id="vpc-1", internal=True)


def test_args_from_settings_carry_the_settings_and_the_wiring():
    settings = LoadBalancerSettings(idle_timeout=120, tags={"team": "edge"})
    args = LoadBalancerArgs.from_settings(
        settings, vpc_id="vpc-1", public_subnet_ids=["subnet-1", "subnet-2"], domain=None
    )
    assert (args.idle_timeout, args.tags, args.vpc_id) == (120, {"team": "edge"}, "vpc-1")
    assert args.public_subnet_ids == ["subnet-1", "subnet-2"]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"domain": "example.com"}, "domain: 'example.com' needs a certificate"),
        ({"zone_name": "example.com"}, "zone_name: only used with a domain"),
        (
            {"certificate_arn": "arn:aws:acm:us-east-1:1:certificate/x"},
            "certificate_arn: only used with a domain",
        ),
        ({"cloudfront_only": False}, "cloudfront_only: without a domain"),
        ({"domain": "Example.com", "zone_name": "example.com"}, "domain.*lowercase"),
        ({"domain": "example", "zone_name": "example.com"}, "domain.*not a domain name"),
        (
            {"domain": "app.example.org", "zone_name": "example.com"},
            "domain: 'app.example.org' is not in the zone",
        ),
        ({**DOMAIN, "zone_id": "Z1"}, "zone_id: give zone_name or zone_id, not both"),
        ({**DOMAIN, "ssl_policy": "ELBSecurityPolicy-2016-08"}, "ssl_policy.*not a TLS 1.3 policy"),
        ({"public_subnet_ids": ["subnet-0aaa"]}, "public_subnet_ids.*at least two zones"),
        ({"origin_secret": "short"}, "origin_secret.*32 to 128"),
        ({"origin_secret": "*" * 40}, "origin_secret"),
        (
            {**DOMAIN, "cloudfront_only": False, "origin_secret": "a" * 40},
            "origin_secret: only used with cloudfront_only",
        ),
        ({"origin_header_name": "X-Amz-Secret"}, "origin_header_name.*reserves"),
        ({"origin_header_name": "X_Origin"}, "origin_header_name"),
        ({"desync_mitigation_mode": "monitor"}, "desync_mitigation_mode"),
        ({"max_rules": 0}, "max_rules"),
        ({"vpcid": "vpc-1"}, "vpcid"),
    ],
)
def test_bad_settings_fail_naming_the_key(settings, message):
    with pytest.raises(ValidationError, match="(?s)" + message):
        LoadBalancerArgs(**{**BASE, **settings})
