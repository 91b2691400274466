"""A site's distribution: the arguments of one CloudFront distribution in front of the rack's VPC origin.

Every web service of every app gets a distribution of its own (its own
`*.cloudfront.net` name, its own domains and certificate), made by the app
from these arguments; the rack's Edge makes one more for the names of its
domain that no app holds. What they share lives in the Edge: the VPC origin,
the origin access control and the response headers policy.

- `site_distribution_args`: the distribution: the app behind the VPC origin
  (every request, uncached, with the route and secret headers; the paths the
  app serves static files at cached as its `Cache-Control` says), and the
  service's static files from its app's bucket;
- `security_headers_config`: the response headers policy's headers;
- `site_bucket_policy`: a static bucket read by several distributions, TLS only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from paaskit._aws import deny_insecure_transport, policy_document
from paaskit.config import Input

__all__ = [
    "APP_ORIGIN",
    "CACHING_DISABLED",
    "CACHING_OPTIMIZED",
    "ORIGIN_REQUEST_ALL_VIEWER",
    "STATIC_ORIGIN",
    "StaticFiles",
    "security_headers_config",
    "site_bucket_policy",
    "site_distribution_args",
    "viewer_certificate",
]

CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
"""AWS's managed cache policy Managed-CachingOptimized (the same id in every account)."""

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
"""AWS's managed cache policy Managed-CachingDisabled."""

ORIGIN_REQUEST_ALL_VIEWER = "216adef6-5c7f-47e4-b989-5492eafa07d3"
"""AWS's managed origin request policy Managed-AllViewer: every header (Host too), cookie and query string."""

APP_ORIGIN = "app"
STATIC_ORIGIN = "static"

_KEEPALIVE_SECONDS = 5


@dataclass(frozen=True)
class StaticFiles:
    """Where a site's static files are: a path pattern served from a bucket folder."""

    path_pattern: str
    """The viewer paths served from the bucket (`/static/*`)."""
    bucket_domain: Input
    """The bucket's regional domain name."""
    origin_path: str
    """The folder of the bucket that holds the site's files (`/web`): `/static/app.css`
    is the object `web/static/app.css`."""
    origin_access_control_id: Input
    """The origin access control CloudFront signs its requests to the bucket with."""


def security_headers_config(
    *,
    hsts_max_age: int,
    hsts_include_subdomains: bool,
    hsts_preload: bool,
    frame_options: str,
) -> dict[str, Any]:
    """The response headers policy's `security_headers_config`: HSTS and nosniff always,
    framing and referrer rules when the app sets none, the obsolete XSS filter off."""
    return {
        "strict_transport_security": {
            "access_control_max_age_sec": hsts_max_age,
            "include_subdomains": hsts_include_subdomains,
            "preload": hsts_preload,
            "override": True,
        },
        "content_type_options": {"override": True},
        # Apps may set their own framing and referrer rules (an embeddable
        # widget, say); these are the defaults when they set none.
        "frame_options": {"frame_option": frame_options, "override": False},
        "referrer_policy": {
            "referrer_policy": "strict-origin-when-cross-origin",
            "override": False,
        },
        "xss_protection": {"protection": False, "override": True},
    }


def viewer_certificate(certificate_arn: Input | None) -> dict[str, Any]:
    """A custom domain's certificate (SNI, TLS 1.2 or newer), or CloudFront's own."""
    if certificate_arn is None:
        return {"cloudfront_default_certificate": True}
    return {
        "acm_certificate_arn": certificate_arn,
        "ssl_support_method": "sni-only",
        "minimum_protocol_version": "TLSv1.2_2021",
    }


def site_distribution_args(
    *,
    comment: str,
    vpc_origin_id: Input,
    origin_domain: Input,
    origin_headers: Sequence[tuple[str, Input]] = (),
    origin_read_timeout: int | pulumi.Input[int] = 30,
    response_headers_policy_id: Input,
    static: StaticFiles | None = None,
    aliases: pulumi.Input[Sequence[str]] | None = None,
    certificate: pulumi.Input[Mapping[str, Any]] | None = None,
    price_class: pulumi.Input[str] = "PriceClass_100",
    web_acl_id: Input | None = None,
    app_cached: Sequence[str] = (),
) -> dict[str, Any]:
    """The keyword arguments of the `aws.cloudfront.Distribution` of one site.

    Every request goes, uncached and with every viewer header, cookie and query
    string (the Host too: apps see their own domain), through the VPC origin to
    the load balancer, with `origin_headers` added (the route and the rack's
    secret; CloudFront overwrites a viewer's header of the same name). HTTP is
    what CloudFront speaks to a VPC origin here: the hop never leaves AWS's
    network, and viewers get HTTPS only. `static`, if given, is served from the
    bucket, cached and compressed. `app_cached` are path patterns (`/static/*`)
    the app itself serves files at, with their `Cache-Control` (a Django app's
    collected files, served by whitenoise): those are cached at the edge as the
    app says, within Managed-CachingOptimized's bounds (1 second to 1 year, a
    day when the app says nothing), keyed on the path and the encoding alone,
    still with every viewer header on a miss. `certificate` is
    `viewer_certificate(...)` (or an Output of one) and must cover `aliases`.
    """
    app_origin: dict[str, Any] = {
        "origin_id": APP_ORIGIN,
        "domain_name": origin_domain,
        "vpc_origin_config": {
            "vpc_origin_id": vpc_origin_id,
            "origin_read_timeout": origin_read_timeout,
            "origin_keepalive_timeout": _KEEPALIVE_SECONDS,
        },
    }
    if origin_headers:
        app_origin["custom_headers"] = [
            {"name": name, "value": value} for name, value in origin_headers
        ]
    origins: list[dict[str, Any]] = [app_origin]
    default = {
        "target_origin_id": APP_ORIGIN,
        "viewer_protocol_policy": "redirect-to-https",
        "allowed_methods": ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"],
        "cached_methods": ["GET", "HEAD"],
        "cache_policy_id": CACHING_DISABLED,
        "origin_request_policy_id": ORIGIN_REQUEST_ALL_VIEWER,
        "response_headers_policy_id": response_headers_policy_id,
        # Nothing is cached, so CloudFront would not compress: the app does, as
        # Accept-Encoding reaches it.
        "compress": False,
    }
    ordered: list[dict[str, Any]] = [
        {
            "path_pattern": pattern,
            "target_origin_id": APP_ORIGIN,
            "viewer_protocol_policy": "redirect-to-https",
            "allowed_methods": ["GET", "HEAD", "OPTIONS"],
            "cached_methods": ["GET", "HEAD"],
            "cache_policy_id": CACHING_OPTIMIZED,
            # The app's Host, as on every other path (its allowed hosts check it).
            "origin_request_policy_id": ORIGIN_REQUEST_ALL_VIEWER,
            "response_headers_policy_id": response_headers_policy_id,
            "compress": True,
        }
        for pattern in app_cached
        if static is None or pattern != static.path_pattern
    ]
    if static is not None:
        origins.append(
            {
                "origin_id": STATIC_ORIGIN,
                "domain_name": static.bucket_domain,
                "origin_path": static.origin_path,
                "origin_access_control_id": static.origin_access_control_id,
            }
        )
        ordered.append(
            {
                "path_pattern": static.path_pattern,
                "target_origin_id": STATIC_ORIGIN,
                "viewer_protocol_policy": "redirect-to-https",
                "allowed_methods": ["GET", "HEAD", "OPTIONS"],
                "cached_methods": ["GET", "HEAD"],
                "cache_policy_id": CACHING_OPTIMIZED,
                "response_headers_policy_id": response_headers_policy_id,
                "compress": True,
            }
        )
    return {
        "enabled": True,
        "comment": comment,
        "aliases": aliases,
        "origins": origins,
        "default_cache_behavior": default,
        "ordered_cache_behaviors": ordered or None,
        "http_version": "http2and3",
        "is_ipv6_enabled": True,
        "price_class": price_class,
        "restrictions": {"geo_restriction": {"restriction_type": "none"}},
        "viewer_certificate": certificate if certificate is not None else viewer_certificate(None),
        "web_acl_id": web_acl_id,
    }


def site_bucket_policy(bucket_arn: str, distribution_arns: Sequence[str]) -> str:
    """Read by these distributions only (each through the origin access control), and TLS only."""
    arns = sorted(set(distribution_arns))
    return policy_document(
        [
            {
                "Sid": "CloudFrontReadsThroughOriginAccessControl",
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "s3:GetObject",
                "Resource": f"{bucket_arn}/*",
                "Condition": {
                    "StringEquals": {"AWS:SourceArn": arns[0] if len(arns) == 1 else arns}
                },
            },
            deny_insecure_transport(bucket_arn),
        ]
    )
