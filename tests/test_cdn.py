"""Cdn: a private bucket read only by its distribution, the apps behind it, assets with the right headers."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from pydantic import ValidationError

from paaskit.cdn import (
    CACHING_DISABLED,
    CACHING_OPTIMIZED,
    IMMUTABLE,
    ORIGIN_REQUEST_ALL_VIEWER,
    SHORT_LIVED,
    Cdn,
    CdnArgs,
    content_type,
    find_assets,
    is_fingerprinted,
    upload_assets,
)
from paaskit.config import ConfigError
from paaskit.plan.engine import ProgramError
from paaskit.testing import plan

DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"
RECORD = "aws:route53/record:Record"
ALB_DNS = "rack-alb-1234567890.us-east-1.elb.amazonaws.com"
# As a rack without a domain wires it: plain HTTP to the load balancer's own name.
APP = {"origin_domain": ALB_DNS, "origin_protocol": "http-only"}
DOMAINS = {"domains": ["example.com", "*.example.com"], "zone_name": "example.com"}
# As a rack with a domain wires it: HTTPS, the viewer's host matching the load balancer's certificate.
WITH_DOMAIN = {**APP, **DOMAINS, "origin_protocol": "https-only"}


def plan_cdn(secret=None, **settings):
    def program():
        extra = {"origin_secret": pulumi.Output.secret(secret)} if secret else {}
        Cdn("cdn", CdnArgs(**settings, **extra))

    return plan(program)


def distribution(p):
    return p.one(DISTRIBUTION).inputs


# --- the bucket -----------------------------------------------------------------------


def test_the_static_bucket_is_private_encrypted_versioned_and_kept():
    p = plan_cdn(**APP)
    bucket = p.named("cdn-static")
    assert bucket.retain_on_delete is True
    assert bucket.inputs["forceDestroy"] is False
    block = p.named("cdn-static-public-access")
    assert {
        k: block.inputs[k]
        for k in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    } == dict.fromkeys(
        ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"), True
    )
    assert p.named("cdn-static-ownership").inputs["rule"] == {
        "objectOwnership": "BucketOwnerEnforced"
    }
    (sse,) = p.named("cdn-static-encryption").inputs["rules"]
    assert sse["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    assert p.named("cdn-static-versioning").inputs["versioningConfiguration"] == {
        "status": "Enabled"
    }
    (rule,) = p.named("cdn-static-lifecycle").inputs["rules"]
    assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 30}
    # Guards of a kept bucket are kept too: deleting them would loosen it.
    for guard in ("ownership", "public-access", "encryption", "versioning"):
        assert p.named(f"cdn-static-{guard}").retain_on_delete is True


def test_only_this_distribution_may_read_the_bucket_and_only_over_tls():
    p = plan_cdn(**APP)
    policy = p.named("cdn-static-policy")
    document = json.loads(policy.inputs["policy"])
    statements = {s["Sid"]: s for s in document["Statement"]}
    bucket = policy.inputs["bucket"]
    read = statements["CloudFrontReadsThroughOriginAccessControl"]
    assert read["Effect"] == "Allow"
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert read["Action"] == "s3:GetObject"
    assert read["Resource"] == f"arn:aws:s3:::{bucket}/*"
    source = read["Condition"]["StringEquals"]["AWS:SourceArn"]
    assert source.startswith("arn:aws:cloudfront::123456789012:distribution/")
    assert p.one(DISTRIBUTION).urn in policy.dependencies
    deny = statements["DenyInsecureTransport"]
    assert (deny["Effect"], deny["Principal"], deny["Action"]) == ("Deny", "*", "s3:*")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert len(statements) == 2


def test_cloudfront_reaches_the_bucket_through_an_origin_access_control_that_signs_everything():
    p = plan_cdn(**APP)
    oac = p.one("aws:cloudfront/originAccessControl:OriginAccessControl")
    assert oac.inputs["originAccessControlOriginType"] == "s3"
    assert oac.inputs["signingBehavior"] == "always"
    assert oac.inputs["signingProtocol"] == "sigv4"
    static = next(o for o in distribution(p)["origins"] if o["originId"] == "static")
    assert static["originAccessControlId"].startswith("E")
    assert static["domainName"].endswith(".s3.us-east-1.amazonaws.com")
    assert "s3OriginConfig" not in static
    assert oac.urn in p.one(DISTRIBUTION).dependencies


def test_a_bucket_name_of_your_own_is_used():
    p = plan_cdn(bucket_name="shop-static-assets")
    assert p.named("cdn-static").inputs["bucket"] == "shop-static-assets"


# --- behaviours -------------------------------------------------------------------------


def test_static_paths_come_from_the_bucket_optimised_and_compressed():
    (behaviour,) = distribution(plan_cdn(**APP))["orderedCacheBehaviors"]
    assert behaviour["pathPattern"] == "/static/*"
    assert behaviour["targetOriginId"] == "static"
    assert behaviour["cachePolicyId"] == CACHING_OPTIMIZED == "658327ea-f89d-4fab-a63d-7e88639e58f6"
    assert behaviour["compress"] is True
    assert behaviour["allowedMethods"] == ["GET", "HEAD", "OPTIONS"]
    assert behaviour["viewerProtocolPolicy"] == "redirect-to-https"
    assert "originRequestPolicyId" not in behaviour


def test_everything_else_goes_to_the_app_uncached_with_all_viewer_values():
    d = distribution(plan_cdn(**APP))
    default = d["defaultCacheBehavior"]
    assert default["targetOriginId"] == "app"
    assert default["cachePolicyId"] == CACHING_DISABLED == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
    assert default["originRequestPolicyId"] == ORIGIN_REQUEST_ALL_VIEWER
    assert ORIGIN_REQUEST_ALL_VIEWER == "216adef6-5c7f-47e4-b989-5492eafa07d3"
    assert sorted(default["allowedMethods"]) == [
        "DELETE",
        "GET",
        "HEAD",
        "OPTIONS",
        "PATCH",
        "POST",
        "PUT",
    ]
    assert default["viewerProtocolPolicy"] == "redirect-to-https"
    assert "defaultRootObject" not in d


def test_the_app_origin_gets_the_secret_header_over_the_protocol_the_rack_gives():
    d = distribution(plan_cdn(secret="s" * 48, **APP))
    app = next(o for o in d["origins"] if o["originId"] == "app")
    assert app["domainName"] == ALB_DNS
    assert app["customOriginConfig"]["originProtocolPolicy"] == "http-only"
    assert app["customOriginConfig"]["originSslProtocols"] == ["TLSv1.2"]
    assert app["customHeaders"] == [{"name": "X-Origin-Verify", "value": "[secret]"}]


def test_without_an_app_origin_the_bucket_serves_everything_with_index_html_at_the_root():
    d = distribution(plan_cdn())
    assert [o["originId"] for o in d["origins"]] == ["static"]
    assert d["defaultCacheBehavior"]["targetOriginId"] == "static"
    assert d["defaultCacheBehavior"]["cachePolicyId"] == CACHING_OPTIMIZED
    assert d["defaultRootObject"] == "index.html"
    assert "orderedCacheBehaviors" not in d


def test_viewers_get_http2_and_3_ipv6_and_the_cheapest_price_class():
    d = distribution(plan_cdn(**APP))
    assert d["httpVersion"] == "http2and3"
    assert d["isIpv6Enabled"] is True
    assert d["priceClass"] == "PriceClass_100"
    assert d["viewerCertificate"] == {"cloudfrontDefaultCertificate": True}
    assert "customErrorResponses" not in d
    assert "loggingConfig" not in d


def test_several_static_paths_keep_their_order():
    d = distribution(plan_cdn(static_paths=["/assets/*", "/favicon.ico", "/static/*"], **APP))
    assert [b["pathPattern"] for b in d["orderedCacheBehaviors"]] == [
        "/assets/*",
        "/favicon.ico",
        "/static/*",
    ]


def test_every_response_carries_the_security_headers():
    p = plan_cdn(**APP)
    policy = p.one("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy")
    headers = policy.inputs["securityHeadersConfig"]
    hsts = headers["strictTransportSecurity"]
    assert hsts["accessControlMaxAgeSec"] >= 31_536_000
    assert hsts["includeSubdomains"] is True
    assert hsts["override"] is True
    assert headers["contentTypeOptions"] == {"override": True}
    assert headers["frameOptions"]["frameOption"] == "SAMEORIGIN"
    assert headers["referrerPolicy"]["referrerPolicy"] == "strict-origin-when-cross-origin"
    assert headers["xssProtection"] == {"override": True, "protection": False}
    d = distribution(p)
    ids = {d["defaultCacheBehavior"]["responseHeadersPolicyId"]} | {
        b["responseHeadersPolicyId"] for b in d["orderedCacheBehaviors"]
    }
    assert len(ids) == 1
    assert policy.urn in p.one(DISTRIBUTION).dependencies


def test_a_web_acl_protects_the_distribution():
    acl = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/rack/0123abcd"
    assert distribution(plan_cdn(web_acl_id=acl, **APP))["webAclId"] == acl


# --- custom domains --------------------------------------------------------------------


def test_custom_domains_get_a_dns_validated_certificate_issued_in_us_east_1():
    p = plan_cdn(**WITH_DOMAIN)
    # pulumi-aws's per-resource region: the stack's own provider (its profile, role and
    # default tags), no second provider configured from the environment alone.
    assert not p.of_type("pulumi:providers:aws")
    certificate = p.one("aws:acm/certificate:Certificate")
    assert (certificate.provider, certificate.inputs["region"]) == (None, "us-east-1")
    assert certificate.inputs["domainName"] == "example.com"
    assert certificate.inputs["subjectAlternativeNames"] == ["*.example.com"]
    assert certificate.inputs["validationMethod"] == "DNS"
    validation = p.one("aws:acm/certificateValidation:CertificateValidation")
    assert (validation.provider, validation.inputs["region"]) == (None, "us-east-1")
    (record,) = [r for r in p.of_type(RECORD) if r.inputs.get("type") == "CNAME"]
    assert record.urn in validation.dependencies
    d = distribution(p)
    app = next(o for o in d["origins"] if o["originId"] == "app")
    assert app["customOriginConfig"]["originProtocolPolicy"] == "https-only"
    assert d["aliases"] == ["example.com", "*.example.com"]
    assert d["viewerCertificate"]["sslSupportMethod"] == "sni-only"
    assert d["viewerCertificate"]["minimumProtocolVersion"] == "TLSv1.2_2021"
    assert validation.urn in p.one(DISTRIBUTION).dependencies


def test_custom_domains_get_ipv4_and_ipv6_alias_records():
    p = plan_cdn(**WITH_DOMAIN)
    aliases = sorted(
        (r.inputs["name"], r.inputs["type"]) for r in p.of_type(RECORD) if "aliases" in r.inputs
    )
    assert aliases == [
        ("*.example.com", "A"),
        ("*.example.com", "AAAA"),
        ("example.com", "A"),
        ("example.com", "AAAA"),
    ]
    record = p.named("cdn-dns-example-com-a")
    assert record.inputs["aliases"][0]["zoneId"] == "Z2FDTNDATAQYW2"
    assert p.one(DISTRIBUTION).urn in record.dependencies


def test_validation_records_can_be_left_to_the_load_balancer_that_makes_the_same_ones():
    p = plan_cdn(dns_validation_records=False, **WITH_DOMAIN)
    assert not [r for r in p.of_type(RECORD) if r.inputs.get("type") == "CNAME"]
    validation = p.one("aws:acm/certificateValidation:CertificateValidation")
    assert "validationRecordFqdns" not in validation.inputs
    assert len([r for r in p.of_type(RECORD) if "aliases" in r.inputs]) == 4


def test_a_certificate_of_your_own_needs_no_provider_and_no_records():
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/abcd-1234"
    p = plan_cdn(domains=["www.example.com"], certificate_arn=arn)
    assert not p.of_type("pulumi:providers:aws")
    assert not p.of_type("aws:acm/certificate:Certificate")
    assert not p.of_type(RECORD)
    assert distribution(p)["viewerCertificate"]["acmCertificateArn"] == arn


def test_a_us_east_1_provider_of_your_own_is_used():
    def program():
        mine = aws.Provider("mine", region="us-east-1", profile="edge")
        Cdn("cdn", CdnArgs(us_east_1_provider=mine, **DOMAINS))

    p = plan(program)
    (provider,) = p.of_type("pulumi:providers:aws")
    assert provider.name == "mine"
    assert p.one("aws:acm/certificate:Certificate").provider == provider.urn


# --- logging ---------------------------------------------------------------------------


def test_a_provider_of_its_own_in_us_east_1_is_kept_where_one_was_made_before():
    # A rack's legacy distribution keeps the provider its certificate was made with.
    p = plan_cdn(own_us_east_1_provider=True, **WITH_DOMAIN)
    provider = p.one("pulumi:providers:aws")
    assert provider.inputs["region"] == "us-east-1"
    assert provider.parent == p.one("paaskit:cdn:Cdn").urn
    certificate = p.one("aws:acm/certificate:Certificate")
    assert certificate.provider == provider.urn
    assert "region" not in certificate.inputs


def test_logging_delivers_v2_logs_to_a_private_bucket_scoped_to_this_account():
    p = plan_cdn(logging=True, **APP)
    assert p.named("cdn-logs").retain_on_delete is True
    assert p.named("cdn-logs-ownership").inputs["rule"] == {
        "objectOwnership": "BucketOwnerEnforced"
    }
    (rule,) = p.named("cdn-logs-lifecycle").inputs["rules"]
    assert rule["expiration"] == {"days": 90}
    statements = {
        s["Sid"]: s for s in json.loads(p.named("cdn-logs-policy").inputs["policy"])["Statement"]
    }
    write = statements["LogDeliveryWrite"]
    assert write["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert write["Resource"].endswith("/AWSLogs/123456789012/*")
    assert write["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"
    assert statements["DenyInsecureTransport"]["Effect"] == "Deny"
    source = p.one("aws:cloudwatch/logDeliverySource:LogDeliverySource")
    assert source.inputs["logType"] == "ACCESS_LOGS"
    assert p.one(DISTRIBUTION).urn in source.dependencies
    delivery = p.one("aws:cloudwatch/logDelivery:LogDelivery")
    for record in (
        source,
        delivery,
        p.one("aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination"),
    ):
        assert (record.provider, record.inputs["region"]) == (None, "us-east-1")
    assert p.named("cdn-logs-policy").urn in delivery.dependencies
    assert "loggingConfig" not in distribution(p)


def test_a_throwaway_stack_may_delete_its_buckets():
    p = plan_cdn(throwaway=True, logging=True)
    for name in ("cdn-static", "cdn-logs"):
        assert p.named(name).retain_on_delete is False
        assert p.named(name).inputs["forceDestroy"] is True


# --- static assets ---------------------------------------------------------------------

FILES = {
    "app.3f9a1c2e.js": ("text/javascript; charset=utf-8", IMMUTABLE),
    "app.3f9a1c2e.js.map": ("application/json", IMMUTABLE),
    "css/main-5d41402abc4b.css": ("text/css; charset=utf-8", IMMUTABLE),
    "index.html": ("text/html; charset=utf-8", SHORT_LIVED),
    "img/logo.svg": ("image/svg+xml", SHORT_LIVED),
    "img/photo.webp": ("image/webp", SHORT_LIVED),
    "img/hero.avif": ("image/avif", SHORT_LIVED),
    "favicon.ico": ("image/x-icon", SHORT_LIVED),
    "fonts/inter.woff2": ("font/woff2", SHORT_LIVED),
    "data.json": ("application/json", SHORT_LIVED),
    "module.wasm": ("application/wasm", SHORT_LIVED),
    "robots.txt": ("text/plain; charset=utf-8", SHORT_LIVED),
    "reports/2024-01-01-20240101.csv": ("text/csv; charset=utf-8", SHORT_LIVED),
    "LICENSE": ("application/octet-stream", SHORT_LIVED),
}


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "build"
    for relative in FILES:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"contents of {relative}\n".encode())
    (root / ".DS_Store").write_bytes(b"\0")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: main\n")
    return root


def test_hidden_files_are_skipped_but_well_known_is_kept(tmp_path):
    (tmp_path / ".env").write_text("SECRET=1")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("[core]")
    (tmp_path / ".well-known").mkdir()
    (tmp_path / ".well-known" / "security.txt").write_text("Contact: x")
    (tmp_path / "index.html").write_text("<p>")
    keys = [a.key for a in find_assets(tmp_path, "")]
    assert keys == [".well-known/security.txt", "index.html"]


def plan_upload(folder, prefix="static", **settings):
    def program():
        Cdn("cdn", CdnArgs(**{**APP, **settings})).upload_assets("web", folder, prefix)

    return plan(program)


def test_assets_are_uploaded_one_object_per_file_with_content_type_and_cache_headers(site):
    p = plan_upload(site)
    objects = {r.inputs["key"]: r for r in p.of_type(OBJECT)}
    assert sorted(objects) == sorted(f"static/{k}" for k in FILES)
    for relative, (expected_type, expected_cache) in FILES.items():
        record = objects[f"static/{relative}"]
        assert (relative, record.inputs["contentType"]) == (relative, expected_type)
        assert (relative, record.inputs["cacheControl"]) == (relative, expected_cache)
        assert record.inputs["source"] == {"@asset": {"path": str(site / relative)}}
        expected_hash = hashlib.sha256(f"contents of {relative}\n".encode()).hexdigest()
        assert record.inputs["sourceHash"] == expected_hash
        assert record.inputs["bucket"] == p.named("cdn-static-ownership").inputs["bucket"]
        assert p.named("cdn-static").urn in record.dependencies


def test_fingerprinted_assets_outlive_the_deploy_that_drops_them(site):
    p = plan_upload(site)
    kept = sorted(r.inputs["key"] for r in p.of_type(OBJECT) if r.retain_on_delete)
    assert kept == [
        "static/app.3f9a1c2e.js",
        "static/app.3f9a1c2e.js.map",
        "static/css/main-5d41402abc4b.css",
    ]
    assert not any(r.retain_on_delete for r in plan_upload(site, throwaway=True).of_type(OBJECT))


def test_asset_names_are_deterministic_and_the_prefix_is_normalised(site):
    first = [r.name for r in plan_upload(site, prefix="/static/").of_type(OBJECT)]
    second = [r.name for r in plan_upload(site, prefix="static").of_type(OBJECT)]
    assert first == second
    assert "cdn-asset-web-static/css/main-5d41402abc4b.css" in first


def test_keys_that_need_escaping_still_get_distinct_names(tmp_path):
    (tmp_path / "a b.txt").write_text("1")
    (tmp_path / "a_b.txt").write_text("2")
    assets = find_assets(tmp_path, "static")
    assert [a.key for a in assets] == ["static/a b.txt", "static/a_b.txt"]
    assert len({a.slug for a in assets}) == 2
    assert assets[1].slug == "static/a_b.txt"


def test_uploading_outside_the_static_paths_is_an_error_naming_the_prefix(site):
    with pytest.raises(
        ProgramError, match=r"prefix: 'assets' puts /assets/LICENSE outside the static paths"
    ):
        plan_upload(site, prefix="assets")


def test_a_missing_folder_is_an_error_naming_it(tmp_path):
    with pytest.raises(ConfigError, match=r"folder: .*nowhere.* does not exist"):
        find_assets(tmp_path / "nowhere", "static")


@pytest.mark.parametrize("prefix", ["../static", "static/../x", "a//b", "static\\x", "st atic"])
def test_bad_prefixes_are_refused(site, prefix):
    with pytest.raises(ConfigError, match="prefix"):
        find_assets(site, prefix)


def test_apps_in_other_stacks_upload_to_the_bucket_by_name(site):
    def program():
        upload_assets("web-assets", "rack-static-0a1b2c3", site, "static")

    p = plan(program)
    objects = p.of_type(OBJECT)
    assert len(objects) == len(FILES)
    assert {r.inputs["bucket"] for r in objects} == {"rack-static-0a1b2c3"}
    assert p.named("web-assets-static/index.html").inputs["cacheControl"] == SHORT_LIVED


def test_objects_cannot_carry_more_than_ten_tags(site):
    tags = {f"t{i}": "x" for i in range(10)}
    with pytest.raises(ProgramError, match="tags: S3 objects take at most 10 tags"):
        plan_upload(site, tags=tags)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("app.3f9a1c2e.js", True),
        ("main-5d41402abc4b.css", True),
        ("3f9a1c2e.chunk.js", True),
        ("vendor_0123456789abcdef0123.js", True),
        ("app.3f9a1c2e.js.map", True),
        ("favicon.ico", False),
        ("report-20240101.csv", False),
        ("deadbeefcafe.txt", False),
        ("app.3f9a1c2.js", False),
        ("logo-dark.svg", False),
    ],
)
def test_fingerprints_are_hex_hashes_before_the_extension(name, expected):
    assert is_fingerprinted(name) is expected


def test_content_types_do_not_depend_on_the_machine(monkeypatch):
    import mimetypes

    def refuse(*args, **kwargs):
        raise AssertionError("the machine's MIME database was consulted")

    monkeypatch.setattr(mimetypes, "guess_type", refuse)
    assert content_type("x.JS") == "text/javascript; charset=utf-8"
    assert content_type("x.webmanifest") == "application/manifest+json"
    assert content_type("x.unknown") == "application/octet-stream"


# --- conventions -----------------------------------------------------------------------


def test_every_child_is_parented_named_and_tagged():
    p = plan_cdn(logging=True, tags={"team": "edge"}, **WITH_DOMAIN)
    component = p.one("paaskit:cdn:Cdn")
    for record in p.descendants(component.urn):
        assert record.name.startswith("cdn-")
        if "tags" in record.inputs:
            assert record.inputs["tags"] == {"team": "edge", "paaskit:component": "cdn"}
    assert len(p.descendants(component.urn)) == len(p) - 2


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"domains": ["www.example.com"]}, "domains: .*need a certificate in us-east-1"),
        (
            {"domains": ["www.example.org"], "zone_name": "example.com"},
            "domains: .*not in the zone",
        ),
        ({"domains": ["WWW.example.com"], "zone_name": "example.com"}, "domains.*lowercase"),
        (
            {"domains": ["a.example.com", "a.example.com"], "zone_name": "example.com"},
            "domains.*twice",
        ),
        ({"zone_name": "example.com"}, "zone_name: only used with domains"),
        (
            {"domains": ["a.example.com"], "zone_name": "example.com", "zone_id": "Z1"},
            "zone_id: give zone_name or zone_id",
        ),
        (
            {
                "domains": ["a.example.com"],
                "certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/x",
            },
            "certificate_arn.*us-east-1 only",
        ),
        ({"static_paths": ["static/*"]}, "static_paths.*not a CloudFront path pattern"),
        ({"static_paths": ["/*"]}, "static_paths.*everything to the bucket"),
        ({"static_paths": ["/static/ *"]}, "static_paths"),
        ({"static_paths": ["/a/*", "/a/*"]}, "static_paths.*twice"),
        ({"static_paths": [f"/p{i}/*" for i in range(26)]}, "static_paths.*26 patterns"),
        ({"bucket_name": "My_Bucket"}, "bucket_name.*lowercase"),
        ({"bucket_name": "ab"}, "bucket_name.*3 to 63"),
        ({"bucket_name": "a" * 64}, "bucket_name.*3 to 63"),
        ({"bucket_name": "192.168.1.10"}, "bucket_name.*IP address"),
        ({"bucket_name": "xn--bucket"}, "bucket_name.*'xn--'"),
        ({"bucket_name": "assets-s3alias"}, "bucket_name.*'-s3alias'"),
        ({"bucket_name": "my..bucket"}, "bucket_name.*two dots"),
        ({"bucket_name": "-bucket"}, "bucket_name.*begin and end"),
        (
            {"web_acl_id": "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/x/1"},
            "web_acl_id.*CLOUDFRONT",
        ),
        ({"origin_domain": "https://lb.example.com"}, "origin_domain.*host name only"),
        ({"origin_header_name": "X-Amz-Origin"}, "origin_header_name"),
        ({"price_class": "PriceClass_50"}, "price_class"),
        ({"hsts_max_age": 3600}, "hsts_max_age"),
        ({"frame_options": "ALLOW-FROM"}, "frame_options"),
        ({"origin_read_timeout": 0}, "origin_read_timeout"),
        ({"staticpaths": ["/s/*"]}, "staticpaths"),
        (
            {"origin_domain": ALB_DNS, "origin_protocol": "https-only"},
            "origin_protocol: 'https-only'",
        ),
        ({"hsts_preload": True, "hsts_include_subdomains": False}, "hsts_preload"),
    ],
)
def test_bad_settings_fail_naming_the_key(settings, message):
    with pytest.raises(ValidationError, match="(?s)" + message):
        CdnArgs(**settings)


def test_a_secret_without_an_app_origin_is_an_error():
    def program():
        CdnArgs(origin_secret=pulumi.Output.secret("s" * 40))

    with pytest.raises(ProgramError, match="origin_secret: only used with an app origin"):
        plan(program)


def test_static_by_host_routes_each_host_to_its_sites_prefix(tmp_path):
    from paaskit.cdn import register_static_host

    (tmp_path / "app.css").write_text("body{}")

    def program() -> None:
        cdn = Cdn("cdn", CdnArgs(**APP, static_by_host=True))
        cdn.upload_assets("shop", tmp_path, "shop/web/static")
        assert cdn.static_hosts_arn is not None
        register_static_host("shop-host", cdn.static_hosts_arn, "Shop.Example.com", "shop/web")

    records = plan(program)
    store = records.one("aws:cloudfront/keyValueStore:KeyValueStore")
    function = records.one("aws:cloudfront/function:Function")
    assert function.inputs["runtime"] == "cloudfront-js-2.0"
    assert store.urn in function.dependencies
    store_id = function.inputs["keyValueStoreAssociations"][0].rsplit("/", 1)[-1]
    assert f"cf.kvs('{store_id}')" in function.inputs["code"]
    behaviours = distribution(records)["orderedCacheBehaviors"]
    assert [a["eventType"] for b in behaviours for a in b["functionAssociations"]] == [
        "viewer-request"
    ]
    (obj,) = records.of_type(OBJECT)
    assert obj.inputs["key"] == "shop/web/static/app.css"
    key = records.one("aws:cloudfront/keyvaluestoreKey:KeyvaluestoreKey")
    assert (key.inputs["key"], key.inputs["value"]) == ("shop.example.com", "shop/web")


def test_a_site_prefix_must_be_dns_labels():
    from paaskit.cdn import register_static_host

    with pytest.raises(ConfigError, match="site: 'Shop' must be"):
        register_static_host(
            "x", "arn:aws:cloudfront::1:key-value-store/x", "a.example.com", "Shop"
        )


def test_a_site_caches_the_paths_the_app_serves_files_at_unless_a_bucket_serves_them():
    from paaskit.cdn import CACHING_OPTIMIZED, StaticFiles, site_distribution_args

    common: dict[str, Any] = {
        "comment": "site",
        "vpc_origin_id": "vo_1",
        "origin_domain": "internal-lb.example.com",
        "response_headers_policy_id": "rhp",
    }
    args = site_distribution_args(**common, app_cached=["/static/*"])
    (behavior,) = args["ordered_cache_behaviors"]
    assert (behavior["path_pattern"], behavior["target_origin_id"]) == ("/static/*", "app")
    assert behavior["cache_policy_id"] == CACHING_OPTIMIZED
    assert (
        behavior["origin_request_policy_id"]
        == args["default_cache_behavior"]["origin_request_policy_id"]
    )
    bucket = StaticFiles("/static/*", "bucket.s3.amazonaws.com", "/web", "oac")
    args = site_distribution_args(**common, static=bucket, app_cached=["/static/*", "/media/*"])
    assert [
        (b["path_pattern"], b["target_origin_id"]) for b in args["ordered_cache_behaviors"]
    ] == [
        ("/media/*", "app"),
        ("/static/*", "static"),
    ]
    assert site_distribution_args(**common)["ordered_cache_behaviors"] is None
