"""Cdn: CloudFront in front of the apps, with a private bucket for their static files.

`CdnSettings` and `CdnArgs` (`_settings.py`), the `Cdn` component
(`_cdn.py`), static files (`_assets.py`: `find_assets`, `upload_assets`,
`asset_object_args`), sites sharing one CDN (`_static_hosts.py`:
`register_static_host`, `static_host_args`) and the buckets' policies
(`_policies.py`). What it makes, its settings, costs and runbook: docs/cdn.md.
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
