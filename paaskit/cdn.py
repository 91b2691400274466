"""Cdn: a private S3 bucket for static content behind CloudFront, in front of the apps.

Requests flow viewer -> CloudFront -> S3 (the static path patterns, default
`/static/*`) or -> the load balancer (everything else). Without an app origin
(`origin_domain`), the CDN serves the bucket alone, `index.html` at `/`.

The bucket is private: all public access blocked, ACLs disabled (bucket owner
enforced), encrypted (SSE-S3), versioned (old versions expire after
`noncurrent_version_days`), TLS only, and readable only by this distribution
through an origin access control (SigV4, every request signed): its policy
lets the `cloudfront.amazonaws.com` principal `s3:GetObject` only when the
request comes from this distribution's ARN. Missing files answer 403 (the
distribution may not list the bucket), and there are no custom error pages:
they would apply to the apps' own errors as well. The bucket and its guards are
kept on `pulumi destroy` unless `throwaway`.

Behaviours. Static paths use AWS's managed CachingOptimized policy with
compression (and the assets' own Cache-Control, see below). The app behaviour
uses CachingDisabled and the managed AllViewer origin request policy: every
viewer header, cookie and query string reaches the app, the Host header
included. Forwarding Host is what makes host-based routing on the load
balancer work, and with a domain it is also what lets CloudFront verify the
load balancer's certificate (`*.domain` matches the viewer's host, never the
load balancer's `*.elb.amazonaws.com` name). AllViewerExceptHostHeader would
break both. Without a domain the origin is reached over plain HTTP and the
forwarded Host is the `*.cloudfront.net` name, which apps then see as theirs.
CloudFront adds the load balancer's secret origin header (`origin_secret`);
a viewer sending a header of that name has it overwritten.

Viewers are redirected to HTTPS; HTTP/2 and HTTP/3; IPv6. A response headers
policy adds HSTS (one year, subdomains included), `nosniff`, frame options
(SAMEORIGIN unless the app says otherwise), `strict-origin-when-cross-origin`
referrers and `X-XSS-Protection: 0` (the XSS auditor is gone from browsers and
was itself an attack surface). Custom domains need an ACM certificate in
us-east-1: the component issues one (validated by DNS in the given zone, with
a provider for us-east-1 of its own) or takes yours, serves TLS 1.2+ only
(`TLSv1.2_2021`) and makes A and AAAA alias records.

Logging (off by default) uses CloudFront's standard logging v2 (CloudWatch
vended logs) to a private log bucket: unlike the legacy logging it needs no
bucket ACLs, so every bucket here keeps ACLs disabled, and its policy is
scoped to this account's log delivery. The delivery lives in us-east-1, as
CloudFront requires; the bucket may be in any region.

Static assets. `upload_assets` uploads a folder, one S3 object per file, with
a content type from a fixed table (never the machine's MIME database) and
cache headers: files whose names carry a content hash (`app.3f9a1c2e.js`,
`main-5d41402abc4b.css`) are `public, max-age=31536000, immutable`, others
`public, max-age=300`, so a deploy is visible within five minutes without
invalidations. Hashed files are kept when a later deploy drops them (pages
still open in browsers, and app tasks still draining, ask for them); the
others are replaced in place.

Cost: CloudFront's always-free tier covers 1 TB out and 10 million requests a
month; beyond, $0.085 per GB (North America and Europe) and $0.010 per 10,000
HTTPS requests. `PriceClass_100` (the default) serves from North America and
Europe only, the cheapest edges. S3: $0.023 per GB-month. Logging adds
CloudWatch's per-GB vended-log delivery charge and the log storage. A WAF web
ACL, if attached, is billed by WAF.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator, model_validator

from ._aws import (
    DNS_NAME,
    check_origin_header_name,
    deny_insecure_transport,
    dns_validation_record,
    expire_objects,
    policy_document,
    private_bucket,
    public_zone_id,
    within_zone,
)
from ._component import Component
from .config import ComponentArgs, ConfigError, Input
from .naming import check_name

__all__ = [
    "CACHING_DISABLED",
    "CACHING_OPTIMIZED",
    "CONTENT_TYPES",
    "IMMUTABLE",
    "ORIGIN_REQUEST_ALL_VIEWER",
    "SHORT_LIVED",
    "Asset",
    "Cdn",
    "CdnArgs",
    "check_bucket_name",
    "content_type",
    "find_assets",
    "is_fingerprinted",
    "upload_assets",
]

CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
"""AWS's managed cache policy Managed-CachingOptimized (the same id in every account)."""

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
"""AWS's managed cache policy Managed-CachingDisabled."""

ORIGIN_REQUEST_ALL_VIEWER = "216adef6-5c7f-47e4-b989-5492eafa07d3"
"""AWS's managed origin request policy Managed-AllViewer: every header (Host too), cookie and query string."""

IMMUTABLE = "public, max-age=31536000, immutable"
"""Cache-Control of fingerprinted assets: a year, never revalidated."""

SHORT_LIVED = "public, max-age=300"
"""Cache-Control of other assets: five minutes, so deploys show without invalidations."""

MAX_CACHE_BEHAVIORS = 25
"""CloudFront's default quota of cache behaviours per distribution (besides the default)."""

MAX_ALIASES = 100
"""CloudFront's default quota of alternate domain names per distribution."""

_STATIC_ORIGIN = "static"
_APP_ORIGIN = "app"

_PATH_PATTERN = re.compile(r"^/[A-Za-z0-9_\-.*$/~\"'@:+&?]{1,254}$")
_US_EAST_1_CERT = re.compile(r"^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate/[A-Za-z0-9-]+$")
_GLOBAL_WEB_ACL = re.compile(r"^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global/webacl/")
_PREFIX_SEGMENT = re.compile(r"^[A-Za-z0-9_~-][A-Za-z0-9._~-]*$")
_SAFE_KEY = re.compile(r"[^A-Za-z0-9._/-]")
# A content hash in a file name: 8+ hex characters with a digit and a letter, as a
# dot-, dash- or underscore-separated segment before the extension.
_FINGERPRINT = re.compile(r"(?:^|[._-])(?=[0-9a-f]*[0-9])(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\.")
_S3_OBJECT_TAG_LIMIT = 10
# Hidden files and folders are skipped (.git, .DS_Store), except the one dot-folder
# the web uses on purpose (RFC 8615).
_PUBLIC_DOT_DIRS = frozenset({".well-known"})


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


def _pattern_regex(pattern: str) -> re.Pattern[str]:
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


# --- static assets ----------------------------------------------------------------

CONTENT_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".cjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".bmp": "image/bmp",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".eot": "application/vnd.ms-fontobject",
    ".wasm": "application/wasm",
    ".pdf": "application/pdf",
    ".zip": "application/zip",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".wav": "audio/wav",
}
"""Content types by extension, fixed here so that uploads do not depend on the
machine's MIME database. Anything else is `application/octet-stream`."""


def content_type(filename: str) -> str:
    """The Content-Type of a file, from `CONTENT_TYPES` by its extension."""
    return CONTENT_TYPES.get(os.path.splitext(filename)[1].lower(), "application/octet-stream")


def is_fingerprinted(filename: str) -> bool:
    """Whether a file name carries a content hash: 8+ hex characters before the extension.

    `app.3f9a1c2e.js`, `main-5d41402abc4b.css` and `3f9a1c2e.chunk.js` do;
    `favicon.ico` and `report-20240101.csv` (digits only) do not. A miss
    only costs caching (five minutes instead of a year); a false hit would
    serve a stale file for a year, so the rule errs on the side of missing.
    """
    return _FINGERPRINT.search(os.path.basename(filename)) is not None


@dataclass(frozen=True)
class Asset:
    """One file of a folder to upload, with what S3 will be told about it."""

    path: Path
    key: str
    content_type: str
    cache_control: str
    sha256: str
    immutable: bool

    @property
    def slug(self) -> str:
        """A Pulumi-name-safe form of the key, distinct for distinct keys."""
        safe = _SAFE_KEY.sub("_", self.key)
        if safe != self.key or len(safe) > 120:
            digest = hashlib.sha256(self.key.encode()).hexdigest()[:8]
            safe = f"{safe[:100]}-{digest}"
        return safe


def _check_prefix(prefix: str) -> str:
    cleaned = prefix.strip("/")
    if "\\" in cleaned:
        raise ConfigError(f"prefix: {prefix!r}: use '/' between folders")
    for segment in cleaned.split("/") if cleaned else []:
        if segment in ("", ".", "..") or not _PREFIX_SEGMENT.match(segment):
            raise ConfigError(
                f"prefix: {prefix!r}: each part is letters, digits or . _ ~ - "
                "(no empty parts, no '.' or '..')"
            )
    return cleaned


def find_assets(
    folder: str | os.PathLike[str],
    prefix: str,
    *,
    fingerprinted: Callable[[str], bool] = is_fingerprinted,
) -> list[Asset]:
    """The files of `folder` to upload under `prefix`, sorted by key.

    Hidden files and folders are skipped, except `.well-known/`.

    `fingerprinted` decides from a file name whether it is content-hashed
    (immutable); pass your own for a bundler whose hashes are not hex.
    """
    root = Path(folder)
    if not root.is_dir():
        raise ConfigError(f"folder: {str(folder)!r} does not exist or is not a directory")
    base = _check_prefix(prefix)
    found: list[Asset] = []
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d in _PUBLIC_DOT_DIRS or not d.startswith("."))
        for filename in sorted(files):
            if filename.startswith("."):
                continue
            path = Path(directory) / filename
            if not path.is_file():
                continue
            relative = path.relative_to(root).as_posix()
            key = f"{base}/{relative}" if base else relative
            immutable = fingerprinted(filename)
            found.append(
                Asset(
                    path=path,
                    key=key,
                    content_type=content_type(filename),
                    cache_control=IMMUTABLE if immutable else SHORT_LIVED,
                    sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                    immutable=immutable,
                )
            )
    return sorted(found, key=lambda a: a.key)


def _object_args(bucket: Input, asset: Asset) -> dict[str, Any]:
    return {
        "bucket": bucket,
        "key": asset.key,
        "source": pulumi.FileAsset(str(asset.path)),
        "source_hash": asset.sha256,
        "content_type": asset.content_type,
        "cache_control": asset.cache_control,
    }


def upload_assets(
    name: str,
    bucket: Input,
    folder: str | os.PathLike[str],
    prefix: str,
    *,
    fingerprinted: Callable[[str], bool] = is_fingerprinted,
    keep_replaced: bool = True,
    opts: pulumi.ResourceOptions | None = None,
) -> list[aws.s3.BucketObjectv2]:
    """Upload a folder to a bucket (by name) under `prefix`, one object per file.

    For apps in other stacks, which know the rack's static bucket only by
    name. Objects are named `<name>-<key>`. With `keep_replaced` (default),
    fingerprinted objects stay in the bucket when a later deploy no longer
    has them, for pages and tasks that still refer to them.
    """
    made = []
    for asset in find_assets(folder, prefix, fingerprinted=fingerprinted):
        options = pulumi.ResourceOptions.merge(
            pulumi.ResourceOptions(retain_on_delete=keep_replaced and asset.immutable), opts
        )
        made.append(
            aws.s3.BucketObjectv2(
                f"{name}-{asset.slug}", opts=options, **_object_args(bucket, asset)
            )
        )
    return made


# --- the component ----------------------------------------------------------------


class Cdn(Component):
    """A CloudFront distribution over a private static bucket and, optionally, the apps.

    Creates: the static bucket (ownership enforced, public access blocked,
    SSE-S3, versioning, lifecycle for old versions) and its policy (read by
    this distribution only, TLS only); an origin access control; a response
    headers policy; with custom domains, an ACM certificate in us-east-1 (and
    a provider for that region) validated by DNS, and A/AAAA alias records;
    the distribution; with `logging`, a log bucket and a v2 log delivery; and
    an S3 object per file for every `upload_assets`.
    """

    TYPE = "paaskit:cdn:Cdn"
    CHILD_KINDS: ClassVar[frozenset[str]] = frozenset(
        {
            "bucket", "bucket_config", "bucket_policy", "origin_access_control",
            "response_headers_policy", "provider", "certificate", "validation_record",
            "certificate_validation", "distribution", "dns_record", "log_bucket",
            "log_bucket_config", "log_delivery", "asset", "function", "key_value_store",
            "static_host",
        }
    )  # fmt: skip

    def __init__(
        self, name: str, args: CdnArgs | None = None, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = args or CdnArgs()
        super().__init__(name, args, opts)
        self.args = args
        self.static_paths = list(args.static_paths)
        self.has_app_origin = args.origin_domain is not None
        self._provider: pulumi.ProviderResource | None = args.us_east_1_provider

        self.bucket = self._bucket()
        self.origin_access_control = self.child(
            "origin_access_control",
            aws.cloudfront.OriginAccessControl,
            "oac",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
            description="paaskit: CloudFront reads the static bucket",
        )
        self.response_headers_policy = self._response_headers_policy()
        self.static_hosts: aws.cloudfront.KeyValueStore | None = None
        self.static_router = self._static_router() if args.static_by_host else None
        self._zone = public_zone_id(self, args.zone_id, args.zone_name)
        self.certificate: aws.acm.Certificate | None = None
        self.certificate_arn = self._certificate()
        self.distribution = self._distribution()
        self.bucket_policy = self._bucket_policy()
        self.dns_records = self._dns_records()
        self.log_bucket: aws.s3.Bucket | None = None
        if args.logging:
            self._logging()

        self.static_hosts_arn: pulumi.Output[str] | None = (
            self.static_hosts.arn if self.static_hosts is not None else None
        )
        self.bucket_name: pulumi.Output[str] = self.bucket.bucket
        self.bucket_arn: pulumi.Output[str] = self.bucket.arn
        self.distribution_id: pulumi.Output[str] = self.distribution.id
        self.distribution_arn: pulumi.Output[str] = self.distribution.arn
        self.domain_name: pulumi.Output[str] = self.distribution.domain_name
        self.hosted_zone_id: pulumi.Output[str] = self.distribution.hosted_zone_id
        named = [d for d in args.domains if not d.startswith("*.")]
        self.url: pulumi.Output[str] = (
            pulumi.Output.from_input(f"https://{named[0]}")
            if named
            else self.distribution.domain_name.apply(lambda d: f"https://{d}")
        )
        self.register_outputs(
            {
                "bucket_name": self.bucket_name,
                "bucket_arn": self.bucket_arn,
                "distribution_id": self.distribution_id,
                "distribution_arn": self.distribution_arn,
                "domain_name": self.domain_name,
                "hosted_zone_id": self.hosted_zone_id,
                "url": self.url,
            }
        )

    # --- what apps call --------------------------------------------------------

    def upload_assets(
        self,
        name: str,
        folder: str | os.PathLike[str],
        prefix: str,
        *,
        fingerprinted: Callable[[str], bool] = is_fingerprinted,
        opts: pulumi.ResourceOptions | None = None,
    ) -> list[aws.s3.BucketObjectv2]:
        """Upload a folder to the static bucket under `prefix`, one object per file.

        Each file must be reachable through one of the static path patterns
        (when the CDN has an app origin), or this is an error naming `prefix`.
        Objects are `<cdn>-asset-<name>-<key>`; fingerprinted ones are kept
        when a later deploy drops them, unless the stack is `throwaway`.
        """
        if len(self.tags) > _S3_OBJECT_TAG_LIMIT:
            raise ConfigError(
                f"tags: S3 objects take at most {_S3_OBJECT_TAG_LIMIT} tags, and the assets "
                f"would carry {len(self.tags)} (yours plus paaskit:component)"
            )
        assets = find_assets(folder, prefix, fingerprinted=fingerprinted)
        if self.has_app_origin:
            patterns = [_pattern_regex(p) for p in self.static_paths]
            for asset in assets:
                # Under static_by_host the key starts with the site's prefix (`shop/web/`),
                # which the viewer's path does not carry.
                path = asset.key.split("/", 2)[-1] if self.args.static_by_host else asset.key
                if not any(p.match("/" + path) for p in patterns):
                    raise ConfigError(
                        f"prefix: {prefix!r} puts /{asset.key} outside the static paths "
                        f"{self.static_paths}; CloudFront would ask the app for it, not the bucket"
                    )
        made = []
        for asset in assets:
            keep = asset.immutable and not self.args.throwaway
            options = pulumi.ResourceOptions.merge(
                pulumi.ResourceOptions(retain_on_delete=keep), opts
            )
            made.append(
                self.child(
                    "asset",
                    aws.s3.BucketObjectv2,
                    f"asset-{name}-{asset.slug}",
                    opts=options,
                    **_object_args(self.bucket.bucket, asset),
                )
            )
        return made

    # --- children, in the order they are made ----------------------------------

    def _retain(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(retain_on_delete=not self.args.throwaway)

    def _private_bucket(
        self, kind: str, role: str, *, bucket_name: str | None, versioned: bool, expire_days: int
    ) -> tuple[aws.s3.Bucket, list[pulumi.Resource]]:
        """A private bucket with a lifecycle: old versions expire, or, unversioned, objects."""
        throwaway = self.args.throwaway
        bucket, guards = private_bucket(
            self, kind, role, throwaway=throwaway, versioned=versioned, bucket=bucket_name
        )
        expire_objects(
            self,
            kind,
            role,
            bucket,
            rule_id="expire-old-versions" if versioned else "expire-logs",
            days=expire_days,
            noncurrent=versioned,
            throwaway=throwaway,
            depends_on=guards[-1:],
        )
        return bucket, guards

    def _bucket(self) -> aws.s3.Bucket:
        bucket, guards = self._private_bucket(
            "bucket",
            "static",
            bucket_name=self.args.bucket_name,
            versioned=True,
            expire_days=self.args.noncurrent_version_days,
        )
        self._bucket_guards = guards
        return bucket

    def _response_headers_policy(self) -> aws.cloudfront.ResponseHeadersPolicy:
        args = self.args
        return self.child(
            "response_headers_policy",
            aws.cloudfront.ResponseHeadersPolicy,
            "security-headers",
            comment="paaskit: security headers for the static files and the apps",
            security_headers_config={
                "strict_transport_security": {
                    "access_control_max_age_sec": args.hsts_max_age,
                    "include_subdomains": args.hsts_include_subdomains,
                    "preload": args.hsts_preload,
                    "override": True,
                },
                "content_type_options": {"override": True},
                # Apps may set their own framing and referrer rules (an embeddable
                # widget, say); these are the defaults when they set none.
                "frame_options": {"frame_option": args.frame_options, "override": False},
                "referrer_policy": {
                    "referrer_policy": "strict-origin-when-cross-origin",
                    "override": False,
                },
                "xss_protection": {"protection": False, "override": True},
            },
        )

    def _static_router(self) -> aws.cloudfront.Function:
        self.static_hosts = self.child(
            "key_value_store",
            aws.cloudfront.KeyValueStore,
            "static-hosts",
            comment="paaskit: which site's static files each host serves",
        )
        return self.child(
            "function",
            aws.cloudfront.Function,
            "static-router",
            runtime="cloudfront-js-2.0",
            comment="paaskit: static files per site (host -> prefix)",
            publish=True,
            code=self.static_hosts.arn.apply(static_router_code),
            key_value_store_associations=[self.static_hosts.arn],
        )

    def _us_east_1(self) -> pulumi.ProviderResource:
        if self._provider is None:
            self._provider = self.child("provider", aws.Provider, "us-east-1", region="us-east-1")
        return self._provider

    def _certificate(self) -> pulumi.Output[str] | None:
        args = self.args
        if not args.domains:
            return None
        if args.certificate_arn is not None:
            return pulumi.Output.from_input(args.certificate_arn)
        in_us_east_1 = pulumi.ResourceOptions(provider=self._us_east_1())
        certificate = self.child(
            "certificate",
            aws.acm.Certificate,
            "cert",
            domain_name=args.domains[0],
            subject_alternative_names=args.domains[1:] or None,
            validation_method="DNS",
            key_algorithm="RSA_2048",
            opts=in_us_east_1,
        )
        self.certificate = certificate
        fqdns = []
        # One record per name without its wildcard: ACM validates `x` and `*.x` alike.
        bases: dict[str, str] = {}
        for domain in args.domains if args.dns_validation_records else []:
            bases.setdefault(domain.removeprefix("*."), domain)
        for base, domain in bases.items():
            record = dns_validation_record(
                self, f"cert-validation-{base.replace('.', '-')}", certificate, domain, self._zone
            )
            fqdns.append(record.fqdn)
        validation = self.child(
            "certificate_validation",
            aws.acm.CertificateValidation,
            "cert-validation",
            certificate_arn=certificate.arn,
            validation_record_fqdns=fqdns or None,
            opts=in_us_east_1,
        )
        return validation.certificate_arn

    def _distribution(self) -> aws.cloudfront.Distribution:
        args = self.args
        origins: list[dict[str, Any]] = [
            {
                "origin_id": _STATIC_ORIGIN,
                "domain_name": self.bucket.bucket_regional_domain_name,
                "origin_access_control_id": self.origin_access_control.id,
            }
        ]
        static_behaviour = {
            "target_origin_id": _STATIC_ORIGIN,
            "viewer_protocol_policy": "redirect-to-https",
            "allowed_methods": ["GET", "HEAD", "OPTIONS"],
            "cached_methods": ["GET", "HEAD"],
            "cache_policy_id": CACHING_OPTIMIZED,
            "response_headers_policy_id": self.response_headers_policy.id,
            "compress": True,
        }
        if self.static_router is not None:
            static_behaviour["function_associations"] = [
                {"event_type": "viewer-request", "function_arn": self.static_router.arn}
            ]
        ordered: list[dict[str, Any]] = []
        if self.has_app_origin:
            origin: dict[str, Any] = {
                "origin_id": _APP_ORIGIN,
                "domain_name": args.origin_domain,
                "custom_origin_config": {
                    "http_port": 80,
                    "https_port": 443,
                    "origin_protocol_policy": args.origin_protocol,
                    "origin_ssl_protocols": ["TLSv1.2"],
                    "origin_read_timeout": args.origin_read_timeout,
                    "origin_keepalive_timeout": 5,
                },
            }
            if args.origin_secret is not None:
                origin["custom_headers"] = [
                    {
                        "name": args.origin_header_name,
                        "value": pulumi.Output.secret(args.origin_secret),
                    }
                ]
            origins.append(origin)
            default = {
                "target_origin_id": _APP_ORIGIN,
                "viewer_protocol_policy": "redirect-to-https",
                "allowed_methods": ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"],
                "cached_methods": ["GET", "HEAD"],
                "cache_policy_id": CACHING_DISABLED,
                "origin_request_policy_id": ORIGIN_REQUEST_ALL_VIEWER,
                "response_headers_policy_id": self.response_headers_policy.id,
                # Nothing is cached, so CloudFront would not compress: the app does,
                # as Accept-Encoding reaches it.
                "compress": False,
            }
            ordered = [{"path_pattern": p, **static_behaviour} for p in self.static_paths]
        else:
            default = static_behaviour

        if self.certificate_arn is not None:
            viewer_certificate: dict[str, Any] = {
                "acm_certificate_arn": self.certificate_arn,
                "ssl_support_method": "sni-only",
                "minimum_protocol_version": "TLSv1.2_2021",
            }
        else:
            viewer_certificate = {"cloudfront_default_certificate": True}

        return self.child(
            "distribution",
            aws.cloudfront.Distribution,
            "distribution",
            enabled=True,
            comment=f"paaskit {self.component_name}",
            aliases=list(args.domains) or None,
            origins=origins,
            default_cache_behavior=default,
            ordered_cache_behaviors=ordered or None,
            # Apps serve `/` themselves; a bucket alone serves its index.html there.
            default_root_object=None if self.has_app_origin else "index.html",
            http_version="http2and3",
            is_ipv6_enabled=True,
            price_class=args.price_class,
            restrictions={"geo_restriction": {"restriction_type": "none"}},
            viewer_certificate=viewer_certificate,
            web_acl_id=args.web_acl_id,
        )

    def _bucket_policy(self) -> aws.s3.BucketPolicy:
        return self.child(
            "bucket_policy",
            aws.s3.BucketPolicy,
            "static-policy",
            bucket=self.bucket.id,
            policy=pulumi.Output.all(self.bucket.arn, self.distribution.arn).apply(
                lambda v: static_bucket_policy(v[0], v[1])
            ),
            opts=pulumi.ResourceOptions(depends_on=self._bucket_guards),
        )

    def _dns_records(self) -> list[aws.route53.Record]:
        if self._zone is None:
            return []
        records = []
        for domain in self.args.domains:
            slug = domain.replace("*", "wildcard").replace(".", "-")
            for kind in ("A", "AAAA"):
                records.append(
                    self.child(
                        "dns_record",
                        aws.route53.Record,
                        f"dns-{slug}-{kind.lower()}",
                        zone_id=self._zone,
                        name=domain,
                        type=kind,
                        aliases=[
                            {
                                "name": self.distribution.domain_name,
                                "zone_id": self.distribution.hosted_zone_id,
                                # CloudFront aliases cannot evaluate target health.
                                "evaluate_target_health": False,
                            }
                        ],
                    )
                )
        return records

    def _logging(self) -> None:
        args = self.args
        bucket, guards = self._private_bucket(
            "log_bucket",
            "logs",
            bucket_name=None,
            versioned=False,
            expire_days=args.log_retention_days,
        )
        self.log_bucket = bucket
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self))
        policy = self.child(
            "log_bucket_config",
            aws.s3.BucketPolicy,
            "logs-policy",
            bucket=bucket.id,
            policy=pulumi.Output.all(bucket.arn, account.account_id, partition.partition).apply(
                lambda v: log_bucket_policy(v[0], v[1], v[2])
            ),
            opts=pulumi.ResourceOptions.merge(
                self._retain(), pulumi.ResourceOptions(depends_on=guards)
            ),
        )
        # CloudFront's log delivery is configured in us-east-1, wherever the bucket is.
        in_us_east_1 = pulumi.ResourceOptions(provider=self._us_east_1())
        source = self.child(
            "log_delivery",
            aws.cloudwatch.LogDeliverySource,
            "log-source",
            log_type="ACCESS_LOGS",
            resource_arn=self.distribution.arn,
            opts=in_us_east_1,
        )
        destination = self.child(
            "log_delivery",
            aws.cloudwatch.LogDeliveryDestination,
            "log-destination",
            output_format="json",
            delivery_destination_configuration={"destination_resource_arn": bucket.arn},
            opts=in_us_east_1,
        )
        self.child(
            "log_delivery",
            aws.cloudwatch.LogDelivery,
            "log-delivery",
            delivery_source_name=source.name,
            delivery_destination_arn=destination.arn,
            opts=pulumi.ResourceOptions.merge(
                in_us_east_1, pulumi.ResourceOptions(depends_on=[policy])
            ),
        )


_STATIC_ROUTER = """\
import cf from 'cloudfront';

const sites = cf.kvs('%s');

// Each site's static files live under its own prefix in the shared bucket;
// the key value store says which prefix each host serves.
async function handler(event) {
    const request = event.request;
    const host = request.headers.host ? request.headers.host.value.toLowerCase() : '';
    let site = '_unknown';
    try {
        site = await sites.get(host);
    } catch (err) {
        // A host no app registered: its files are nowhere, so S3 answers 403/404.
    }
    request.uri = '/' + site + request.uri;
    return request;
}
"""


def static_router_code(store_arn: str) -> str:
    """The viewer-request function of `static_by_host`, reading the store `store_arn`."""
    return _STATIC_ROUTER % store_arn.rsplit("/", 1)[-1]


SITE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}(/[a-z0-9][a-z0-9-]{0,62})?$")


def register_static_host(
    name: str,
    store_arn: Input,
    host: Input,
    site: str,
    *,
    opts: pulumi.ResourceOptions | None = None,
) -> aws.cloudfront.KeyvaluestoreKey:
    """Tell a rack's CDN (with `static_by_host`) that `host` serves the files under `site/`.

    `site` is a plain prefix such as `shop/web` (the app and service), so the
    objects can be named before the host is known (a host from another stack
    is an Output). Upload the files under `f"{site}/static"` and register
    every host that serves them.
    """
    if not SITE_PATTERN.match(site):
        raise ConfigError(f"site: {site!r} must be one or two lowercase DNS labels joined by '/'")
    return aws.cloudfront.KeyvaluestoreKey(
        name,
        key_value_store_arn=store_arn,
        key=pulumi.Output.from_input(host).apply(lambda h: str(h).lower()),
        value=site,
        opts=opts,
    )


def static_bucket_policy(bucket_arn: str, distribution_arn: str) -> str:
    """Read by this distribution only (through its origin access control), and TLS only."""
    return policy_document(
        [
            {
                "Sid": "CloudFrontReadsThroughOriginAccessControl",
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "s3:GetObject",
                "Resource": f"{bucket_arn}/*",
                "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
            },
            deny_insecure_transport(bucket_arn),
        ]
    )


def log_bucket_policy(bucket_arn: str, account: str, partition: str = "aws") -> str:
    """What CloudWatch's log delivery needs to write CloudFront logs, for this account only, and TLS only."""
    conditions = {
        "StringEquals": {"aws:SourceAccount": account},
        "ArnLike": {"aws:SourceArn": f"arn:{partition}:logs:us-east-1:{account}:*"},
    }
    return policy_document(
        [
            {
                "Sid": "LogDeliveryWrite",
                "Effect": "Allow",
                "Principal": {"Service": "delivery.logs.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/AWSLogs/{account}/*",
                "Condition": {
                    **conditions,
                    "StringEquals": {
                        "aws:SourceAccount": account,
                        "s3:x-amz-acl": "bucket-owner-full-control",
                    },
                },
            },
            {
                "Sid": "LogDeliveryCheck",
                "Effect": "Allow",
                "Principal": {"Service": "delivery.logs.amazonaws.com"},
                "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
                "Resource": bucket_arn,
                "Condition": conditions,
            },
            deny_insecure_transport(bucket_arn),
        ]
    )
