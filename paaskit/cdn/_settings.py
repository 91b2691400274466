"""What a Cdn is given: its settings, checked before anything is made."""

from __future__ import annotations

import re
from typing import Literal

import pulumi
from pydantic import Field, field_validator, model_validator

from paaskit._aws import (
    DNS_NAME,
    check_origin_header_name,
    within_zone,
)
from paaskit.config import ComponentArgs, Input
from paaskit.naming import check_name

__all__ = [
    "MAX_ALIASES",
    "MAX_CACHE_BEHAVIORS",
    "CdnArgs",
    "check_bucket_name",
    "pattern_regex",
]

MAX_CACHE_BEHAVIORS = 25
"""CloudFront's default quota of cache behaviours per distribution (besides the default)."""

MAX_ALIASES = 100
"""CloudFront's default quota of alternate domain names per distribution."""


_PATH_PATTERN = re.compile(r"^/[A-Za-z0-9_\-.*$/~\"'@:+&?]{1,254}$")
_US_EAST_1_CERT = re.compile(r"^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate/[A-Za-z0-9-]+$")
_GLOBAL_WEB_ACL = re.compile(r"^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global/webacl/")


def check_bucket_name(name: str) -> str:
    """`name` if S3 accepts it as a bucket name, else a ValueError saying which rule it breaks."""
    return check_name("s3_bucket", name)


def _check_dns_name(value: str, *, wildcard: bool = False) -> str:
    if value != value.lower():
        raise ValueError(f"{value!r}: write domain names in lowercase ({value.lower()!r})")
    bare = value[2:] if wildcard and value.startswith("*.") else value
    if not DNS_NAME.match(bare):
        raise ValueError(f"{value!r} is not a domain name (like www.example.com)")
    return value


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """A CloudFront path pattern as a regex (`*` any run of characters, `?` one)."""
    body = "".join(
        ".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern.lstrip("/")
    )
    return re.compile("/" + body + r"\Z")


class CdnArgs(ComponentArgs):
    """Settings of a Cdn. Every field says its default and why."""

    origin_domain: Input | None = None
    """The app origin's host name, the load balancer's DNS name (`lb.dns_name`).
    Default none: the CDN serves the bucket only."""

    origin_protocol: Literal["https-only", "http-only"] = "https-only"
    """How CloudFront reaches the app origin (`lb.origin_protocol`): `https-only`
    when the rack has a domain (the viewer's host, forwarded, must match the
    origin's certificate), `http-only` without one. Default `https-only`."""

    origin_secret: Input | None = None
    """The load balancer's secret header value (`lb.origin_secret`), added to every
    request to the app origin. Default none (the origin admits anyone)."""

    origin_header_name: str = "X-Origin-Verify"
    """The secret header's name (`lb.origin_header_name`). Default `X-Origin-Verify`."""

    origin_read_timeout: int = Field(30, ge=1, le=180)
    """Seconds CloudFront waits for the app's response. Default 30; above 60 needs
    a CloudFront quota increase."""

    static_paths: list[str] = Field(default_factory=lambda: ["/static/*"])
    """Path patterns served from the bucket, first match wins (CloudFront
    patterns: `*` and `?` wildcards, case-sensitive). Default `["/static/*"]`."""

    domains: list[str] = Field(default_factory=list)
    """Custom domains (`www.example.com`, `*.example.com`). Needs `zone_name`/`zone_id`
    or `certificate_arn`. Default none: the `*.cloudfront.net` name only."""

    zone_name: str | None = None
    """The public Route 53 zone of `domains`, for the certificate's validation
    records and the alias records. Default none."""

    zone_id: Input | None = None
    """The same zone by id, instead of `zone_name`. Default none."""

    certificate_arn: Input | None = None
    """An ACM certificate in us-east-1 covering `domains`. Default none: issued here
    (needs a zone)."""

    dns_validation_records: bool = True
    """Make the certificate's DNS validation records in the zone. ACM derives the
    record from the name and the account, so a certificate for the same names in
    another region (the rack's load balancer's) needs the very same record: turn
    this off when that one already makes it, so that one resource owns it.
    Default on."""

    us_east_1_provider: pulumi.ProviderResource | None = None
    """An AWS provider for us-east-1 of your own (your profile or role), for the
    certificate and log delivery. Default: the component makes one, which takes
    credentials from the environment (not from `aws:` stack config)."""

    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = "PriceClass_100"
    """Edge locations to pay for. Default `PriceClass_100`: North America and
    Europe only, the cheapest; viewers elsewhere are served from those."""

    web_acl_id: Input | None = None
    """A WAFv2 web ACL (scope CLOUDFRONT, so in us-east-1) by ARN. Default none."""

    logging: bool = False
    """Standard logging v2 of every request to a log bucket of the component's own.
    Default off: it costs per GB delivered."""

    log_retention_days: int = Field(90, ge=1, le=3650)
    """Days to keep CloudFront logs. Default 90."""

    bucket_name: str | None = None
    """The static bucket's name. Default: generated by Pulumi (unique, and
    replaceable without a name clash)."""

    noncurrent_version_days: int = Field(30, ge=1, le=3650)
    """Days to keep overwritten or deleted versions of assets. Default 30: long
    enough to roll back a bad deploy, short enough to cost little."""

    hsts_max_age: int = Field(31_536_000, ge=31_536_000, le=63_072_000)
    """Strict-Transport-Security max-age in seconds, one to two years. Default one year."""

    hsts_include_subdomains: bool = True
    """Add `includeSubDomains` to HSTS: every subdomain of the served hosts must be
    HTTPS. Default on."""

    hsts_preload: bool = False
    """Add `preload` to HSTS. Default off: preloading is a commitment made by
    submitting the domain to browsers, not a header alone."""

    frame_options: Literal["DENY", "SAMEORIGIN"] = "SAMEORIGIN"
    """X-Frame-Options when the app sets none. Default SAMEORIGIN: no other site may
    frame the apps, and apps (admin pages) may still frame themselves."""

    static_by_host: bool = False
    """Keep each site's static files apart: a CloudFront Function looks the
    request's Host up in a key value store and prefixes the path with what it
    finds, so `/static/app.css` on `shop.example.com` (registered as `shop/web`)
    is the object `shop/web/static/app.css`. A rack turns this on, since many
    apps share its CDN and all use `/static`; each app registers its own hosts
    (`register_static_host`). Default off: one site, keys as the paths."""

    throwaway: bool = False
    """This stack is disposable: let `pulumi destroy` delete the buckets with their
    contents. Default off."""

    @field_validator("origin_domain")
    @classmethod
    def _check_origin_domain(cls, value: Input | None) -> Input | None:
        if isinstance(value, str):
            if "://" in value or "/" in value:
                raise ValueError(
                    f"{value!r}: give a host name only (like my-lb-123.us-east-1.elb.amazonaws.com)"
                )
            _check_dns_name(value)
        return value

    @field_validator("origin_header_name")
    @classmethod
    def _check_header(cls, value: str) -> str:
        # The load balancer must require what CloudFront sends: one rule for both.
        return check_origin_header_name(value)

    @field_validator("static_paths")
    @classmethod
    def _check_static_paths(cls, value: list[str]) -> list[str]:
        for pattern in value:
            if pattern in ("*", "/*"):
                raise ValueError(
                    f"{pattern!r} would send everything to the bucket; leave origin_domain "
                    "unset for a CDN that serves the bucket only"
                )
            if not _PATH_PATTERN.match(pattern):
                raise ValueError(
                    f"{pattern!r} is not a CloudFront path pattern: start with '/', then up to "
                    "254 of A-Z a-z 0-9 _ - . $ / ~ \" ' @ : + & and wildcards * ?"
                )
        if len(set(value)) != len(value):
            raise ValueError("a path pattern is listed twice")
        if len(value) > MAX_CACHE_BEHAVIORS:
            raise ValueError(
                f"{len(value)} patterns; CloudFront allows {MAX_CACHE_BEHAVIORS} cache behaviours "
                "per distribution by default"
            )
        return value

    @field_validator("domains")
    @classmethod
    def _check_domains(cls, value: list[str]) -> list[str]:
        for domain in value:
            _check_dns_name(domain, wildcard=True)
        if len(set(value)) != len(value):
            raise ValueError("a domain is listed twice")
        if len(value) > MAX_ALIASES:
            raise ValueError(f"{len(value)} domains; CloudFront allows {MAX_ALIASES}")
        return value

    @field_validator("zone_name")
    @classmethod
    def _check_zone(cls, value: str | None) -> str | None:
        return None if value is None else _check_dns_name(value.rstrip("."))

    @field_validator("certificate_arn")
    @classmethod
    def _check_certificate(cls, value: Input | None) -> Input | None:
        if isinstance(value, str) and not _US_EAST_1_CERT.match(value):
            raise ValueError(
                f"{value!r}: CloudFront uses ACM certificates from us-east-1 only "
                "(arn:aws:acm:us-east-1:<account>:certificate/<id>)"
            )
        return value

    @field_validator("web_acl_id")
    @classmethod
    def _check_web_acl(cls, value: Input | None) -> Input | None:
        if isinstance(value, str) and not _GLOBAL_WEB_ACL.match(value):
            raise ValueError(
                f"{value!r}: give the ARN of a WAFv2 web ACL of scope CLOUDFRONT "
                "(arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>)"
            )
        return value

    @field_validator("bucket_name")
    @classmethod
    def _check_bucket(cls, value: str | None) -> str | None:
        return None if value is None else check_bucket_name(value)

    @model_validator(mode="after")
    def _check_combination(self) -> CdnArgs:
        has_zone = self.zone_name is not None or self.zone_id is not None
        if self.zone_name is not None and self.zone_id is not None:
            raise ValueError("zone_id: give zone_name or zone_id, not both")
        if self.domains and not has_zone and self.certificate_arn is None:
            raise ValueError(
                f"domains: {self.domains} need a certificate in us-east-1: name their Route 53 "
                "zone (zone_name or zone_id) to have one issued, or give certificate_arn"
            )
        if not self.domains:
            for key in ("zone_name", "zone_id", "certificate_arn"):
                if getattr(self, key) is not None:
                    raise ValueError(f"{key}: only used with domains; set domains too")
        if self.zone_name is not None:
            outside = [d for d in self.domains if not within_zone(d, self.zone_name)]
            if outside:
                raise ValueError(f"domains: {outside} are not in the zone {self.zone_name!r}")
        if self.origin_domain is None and self.origin_secret is not None:
            raise ValueError("origin_secret: only used with an app origin; set origin_domain")
        if (
            isinstance(self.origin_domain, str)
            and self.origin_domain.endswith(".elb.amazonaws.com")
            and self.origin_protocol == "https-only"
            and not self.domains
        ):
            # CloudFront checks the origin's certificate against the forwarded viewer
            # host (*.cloudfront.net here) or the origin name: neither is on it.
            raise ValueError(
                "origin_protocol: 'https-only' to a load balancer's own DNS name fails "
                "CloudFront's certificate check without custom domains; set domains (covered "
                "by the load balancer's certificate) or use 'http-only'"
            )
        if self.hsts_preload and not self.hsts_include_subdomains:
            raise ValueError(
                "hsts_preload: browsers preload only HSTS that includes subdomains; "
                "turn hsts_include_subdomains on"
            )
        return self
