"""CloudFront rules: HTTPS to viewers and origins, private S3 origins, headers, TLS."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from paaskit.plan import PlanIndex, ResourceRecord
from paaskit.plan import types as t
from paaskit.plan.values import dig, items, known, strings
from paaskit.policy.model import RuleSet

__all__ = [
    "behaviors",
    "default_root_object",
    "is_s3_origin",
    "legacy_oai",
    "origin_https",
    "origin_tls",
    "origins",
    "rules",
    "s3_origin_access",
    "security_headers",
    "sni",
    "viewer_https",
    "viewer_tls",
]

rules = RuleSet()

_HTTPS_VIEWERS = ("redirect-to-https", "https-only")
_MODERN_VIEWER_TLS = re.compile(r"^TLSv1\.(2|3)_\d{4}$")
_OLD_ORIGIN_TLS = ("SSLv3", "TLSv1", "TLSv1.1")
# Bucket endpoints (not website endpoints, which are custom origins serving public buckets).
_S3_ORIGIN = re.compile(r"\.s3(\.[a-z0-9-]+)?\.amazonaws\.com(\.cn)?$")


def behaviors(r: ResourceRecord) -> list[tuple[str, Mapping[str, Any]]]:
    """(name, behaviour) for the default and every ordered cache behaviour."""
    out: list[tuple[str, Mapping[str, Any]]] = []
    default = r.inputs.get("defaultCacheBehavior")
    if isinstance(default, Mapping):
        out.append(("default behaviour", default))
    for b in items(r.inputs.get("orderedCacheBehaviors")):
        if isinstance(b, Mapping):
            out.append((f"behaviour {b.get('pathPattern', '?')}", b))
    return out


def origins(r: ResourceRecord) -> list[Mapping[str, Any]]:
    return [o for o in items(r.inputs.get("origins")) if isinstance(o, Mapping)]


def is_s3_origin(origin: Mapping[str, Any]) -> bool:
    domain = origin.get("domainName")
    return isinstance(origin.get("s3OriginConfig"), Mapping) or (
        isinstance(domain, str) and bool(_S3_ORIGIN.search(domain))
    )


@rules.rule(
    "PK-CF-001",
    "Viewers are served over HTTPS only",
    severity="error",
    sources=["CloudFront.3", "CKV_AWS_34"],
    types=[t.DISTRIBUTION],
)
def viewer_https(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """`allow-all` serves pages and cookies over plain HTTP; redirect to HTTPS instead."""
    for name, behavior in behaviors(r):
        policy = behavior.get("viewerProtocolPolicy")
        if known(policy) and policy not in _HTTPS_VIEWERS:
            yield f"{name}: viewerProtocolPolicy is {policy}; use redirect-to-https"


@rules.rule(
    "PK-CF-002",
    "S3 origins are private, read through an origin access control",
    severity="error",
    sources=["CloudFront.13", "S3.2"],
    types=[t.DISTRIBUTION],
)
def s3_origin_access(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Without an origin access control (or the legacy identity) CloudFront reads the
    bucket anonymously, which works only if the bucket is public."""
    for origin in origins(r):
        if not is_s3_origin(origin):
            continue
        if origin.get("originAccessControlId"):
            continue
        if dig(origin, "s3OriginConfig", "originAccessIdentity"):
            continue
        yield f"origin {origin.get('originId')}: S3 origin without an origin access control; the bucket would have to be public"


@rules.rule(
    "PK-CF-003",
    "S3 origins use an origin access control, not the legacy identity",
    severity="warning",
    sources=["CloudFront.13"],
    types=[t.DISTRIBUTION],
)
def legacy_oai(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Origin access identities do not sign requests with SigV4: no SSE-KMS buckets, no
    PUTs, no regions opened after 2022. AWS recommends origin access control."""
    for origin in origins(r):
        legacy = dig(origin, "s3OriginConfig", "originAccessIdentity")
        if is_s3_origin(origin) and not origin.get("originAccessControlId") and legacy:
            yield f"origin {origin.get('originId')}: uses a legacy origin access identity; use an origin access control"


@rules.rule(
    "PK-CF-004",
    "Responses carry security headers",
    severity="warning",
    sources=["CKV2_AWS_32"],
    types=[t.DISTRIBUTION],
)
def security_headers(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """A response headers policy adds HSTS, X-Content-Type-Options, frame options and a
    referrer policy to every response, whatever the origin forgot."""
    for name, behavior in behaviors(r):
        if not behavior.get("responseHeadersPolicyId"):
            yield f"{name}: no response headers policy (HSTS, nosniff, frame options)"


@rules.rule(
    "PK-CF-005",
    "Custom domains accept TLS 1.2 or newer only",
    severity="error",
    sources=["CKV_AWS_174", "CloudFront.7"],
    types=[t.DISTRIBUTION],
)
def viewer_tls(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """With a custom certificate, `minimum_protocol_version` decides whether TLS 1.0 and
    1.1 are accepted; the `*.cloudfront.net` certificate is fixed by AWS."""
    cert = r.inputs.get("viewerCertificate")
    if not isinstance(cert, Mapping) or not (
        cert.get("acmCertificateArn") or cert.get("iamCertificateId")
    ):
        return
    version = cert.get("minimumProtocolVersion")
    if not known(version):
        return
    if not _MODERN_VIEWER_TLS.match(str(version)):
        yield f"minimumProtocolVersion is {version}; use TLSv1.2_2021"


@rules.rule(
    "PK-CF-006",
    "Custom domains are served by SNI, not dedicated IPs",
    severity="warning",
    sources=["CloudFront.8"],
    types=[t.DISTRIBUTION],
)
def sni(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Dedicated-IP custom SSL costs $600 a month per distribution and only serves
    clients too old for SNI."""
    if dig(r.inputs, "viewerCertificate", "sslSupportMethod") == "vip":
        yield "sslSupportMethod is vip: $600 a month for clients that predate SNI; use sni-only"


@rules.rule(
    "PK-CF-007",
    "CloudFront reaches custom origins over HTTPS",
    severity="error",
    sources=["CloudFront.9"],
    types=[t.DISTRIBUTION],
)
def origin_https(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """A custom origin is reached over the internet: `http-only` sends every request
    and cookie in clear text past whoever is on the path. A VPC origin is not judged
    here: CloudFront reaches it inside AWS's network, through service-managed
    interfaces in the VPC's private subnets, to an internal load balancer nothing else
    reaches (its security group admits CloudFront's origin-facing addresses only and
    its rules require a secret header), so HTTP on that hop exposes nothing to the
    internet; viewers still get HTTPS only (PK-CF-001). That is how a paaskit rack
    without a domain of its own serves every app over HTTPS."""
    viewer_policies = {b.get("viewerProtocolPolicy") for _, b in behaviors(r)}
    for origin in origins(r):
        config = origin.get("customOriginConfig")
        if not isinstance(config, Mapping):
            continue
        policy = config.get("originProtocolPolicy")
        if policy == "http-only" or (policy == "match-viewer" and "allow-all" in viewer_policies):
            yield f"origin {origin.get('originId')}: originProtocolPolicy is {policy}; use https-only"


@rules.rule(
    "PK-CF-008",
    "CloudFront uses current TLS to custom origins",
    severity="warning",
    sources=["CloudFront.10"],
    types=[t.DISTRIBUTION],
)
def origin_tls(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """SSLv3, TLS 1.0 and TLS 1.1 are broken; offer the origin TLS 1.2 only."""
    for origin in origins(r):
        old = [
            p
            for p in strings(dig(origin, "customOriginConfig", "originSslProtocols"))
            if p in _OLD_ORIGIN_TLS
        ]
        if old:
            yield f"origin {origin.get('originId')}: originSslProtocols offers {', '.join(old)}; use TLSv1.2"


@rules.rule(
    "PK-CF-009",
    "A bucket-backed distribution has a default root object",
    severity="warning",
    sources=["CloudFront.1"],
    types=[t.DISTRIBUTION],
)
def default_root_object(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Without one, a request for `/` asks the bucket for its listing (denied, but a
    403 where the home page should be)."""
    default_origin = dig(r.inputs, "defaultCacheBehavior", "targetOriginId")
    for origin in origins(r):
        bucket = origin.get("originId") == default_origin and is_s3_origin(origin)
        if bucket and not r.inputs.get("defaultRootObject"):
            yield "the default origin is a bucket but defaultRootObject is not set (index.html)"
