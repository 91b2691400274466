"""Sites sharing one CDN: the CloudFront Function that routes a host to its site's files, and its entries."""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pulumi_aws as aws

from paaskit.config import ConfigError, Input

__all__ = [
    "SITE_PATTERN",
    "register_static_host",
    "static_host_args",
    "static_router_code",
]

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


def static_host_args(store_arn: Input, host: Input, site: str) -> dict[str, Any]:
    """The keyword arguments of the `aws.cloudfront.KeyvaluestoreKey` saying `host` serves `site/`.

    `site` is a plain prefix such as `shop/web` (the app and service): one or
    two lowercase DNS labels joined by '/', or a ConfigError naming `site`.
    """
    if not SITE_PATTERN.match(site):
        raise ConfigError(f"site: {site!r} must be one or two lowercase DNS labels joined by '/'")
    return {
        "key_value_store_arn": store_arn,
        "key": pulumi.Output.from_input(host).apply(lambda h: str(h).lower()),
        "value": site,
    }


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
    return aws.cloudfront.KeyvaluestoreKey(
        name, opts=opts, **static_host_args(store_arn, host, site)
    )
