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

from ._assets import (
    CONTENT_TYPES,
    IMMUTABLE,
    SHORT_LIVED,
    Asset,
    asset_object_args,
    content_type,
    find_assets,
    is_fingerprinted,
    upload_assets,
)
from ._cdn import CACHING_DISABLED, CACHING_OPTIMIZED, ORIGIN_REQUEST_ALL_VIEWER, Cdn
from ._policies import log_bucket_policy, static_bucket_policy
from ._settings import MAX_ALIASES, MAX_CACHE_BEHAVIORS, CdnArgs, CdnSettings, check_bucket_name
from ._static_hosts import (
    SITE_PATTERN,
    register_static_host,
    static_host_args,
    static_router_code,
)

__all__ = [
    "CACHING_DISABLED",
    "CACHING_OPTIMIZED",
    "CONTENT_TYPES",
    "IMMUTABLE",
    "MAX_ALIASES",
    "MAX_CACHE_BEHAVIORS",
    "ORIGIN_REQUEST_ALL_VIEWER",
    "SHORT_LIVED",
    "SITE_PATTERN",
    "Asset",
    "Cdn",
    "CdnArgs",
    "CdnSettings",
    "asset_object_args",
    "check_bucket_name",
    "content_type",
    "find_assets",
    "is_fingerprinted",
    "log_bucket_policy",
    "register_static_host",
    "static_bucket_policy",
    "static_host_args",
    "static_router_code",
    "upload_assets",
]
