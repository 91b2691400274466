"""The edge: CloudFront in front of the apps (a rack's `Edge`, each site's distribution) and the `Cdn`.

Settings (`_settings.py`); the `Edge` a rack's distributions share (`_edge.py`); a site's
distribution (`_site.py`: `site_distribution_args`); the standalone `Cdn` (`_cdn.py`);
static files (`_assets.py`); sites sharing one `Cdn` (`_static_hosts.py`); policies
(`_policies.py`). What they make, settings, costs and runbook: docs/cdn.md.
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
from ._cdn import Cdn
from ._edge import REGISTRY_RUNTIME, Edge, log_delivery
from ._policies import log_bucket_policy, registry_policy, static_bucket_policy
from ._settings import (
    MAX_ALIASES,
    MAX_CACHE_BEHAVIORS,
    MAX_VPC_ORIGIN_READ_TIMEOUT,
    CdnArgs,
    CdnSettings,
    EdgeArgs,
    EdgeSettings,
    check_bucket_name,
)
from ._site import (
    APP_ORIGIN,
    CACHING_DISABLED,
    CACHING_OPTIMIZED,
    ORIGIN_REQUEST_ALL_VIEWER,
    STATIC_ORIGIN,
    StaticFiles,
    security_headers_config,
    site_bucket_policy,
    site_distribution_args,
    viewer_certificate,
)
from ._static_hosts import (
    SITE_PATTERN,
    register_static_host,
    static_host_args,
    static_router_code,
)

__all__ = [
    "APP_ORIGIN",
    "CACHING_DISABLED",
    "CACHING_OPTIMIZED",
    "CONTENT_TYPES",
    "IMMUTABLE",
    "MAX_ALIASES",
    "MAX_CACHE_BEHAVIORS",
    "MAX_VPC_ORIGIN_READ_TIMEOUT",
    "ORIGIN_REQUEST_ALL_VIEWER",
    "REGISTRY_RUNTIME",
    "SHORT_LIVED",
    "SITE_PATTERN",
    "STATIC_ORIGIN",
    "Asset",
    "Cdn",
    "CdnArgs",
    "CdnSettings",
    "Edge",
    "EdgeArgs",
    "EdgeSettings",
    "StaticFiles",
    "asset_object_args",
    "check_bucket_name",
    "content_type",
    "find_assets",
    "is_fingerprinted",
    "log_bucket_policy",
    "log_delivery",
    "register_static_host",
    "registry_policy",
    "security_headers_config",
    "site_bucket_policy",
    "site_distribution_args",
    "static_bucket_policy",
    "static_host_args",
    "static_router_code",
    "upload_assets",
    "viewer_certificate",
]
