"""Load balancer rules: deletion protection, logs, header hygiene, HTTPS, TLS, health checks."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from paaskit.plan import PlanIndex, ResourceRecord
from paaskit.plan import types as t
from paaskit.plan.queries import viewer_facing
from paaskit.plan.values import dig, flag, items, known
from paaskit.policy.model import RuleSet

__all__ = [
    "access_logs",
    "deletion_protection",
    "desync_mitigation",
    "drop_invalid_headers",
    "health_checks",
    "http_redirects",
    "internal_behind_cloudfront",
    "rules",
    "tls_policy",
]

rules = RuleSet()

# Policies whose lowest protocol is TLS 1.2 (ELB's predefined policy names).
_MODERN_TLS = re.compile(r"^ELBSecurityPolicy-(TLS13-1-[23]|TLS-1-2|FS-1-2)")


def _application(r: ResourceRecord) -> bool:
    return bool(r.inputs.get("loadBalancerType", "application") == "application")


@rules.rule(
    "PK-ELB-001",
    "Load balancers are protected from deletion",
    severity="warning",
    sources=["ELB.6", "CKV_AWS_150"],
    types=list(t.LOAD_BALANCERS),
)
def deletion_protection(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Deleting the load balancer changes its DNS name and takes every app offline until
    DNS follows. Throwaway stacks turn it off on purpose."""
    if flag(r.inputs.get("enableDeletionProtection")) is not True:
        yield "enableDeletionProtection is off: a `pulumi destroy` or a replacement takes every app offline"


@rules.rule(
    "PK-ELB-002",
    "Load balancers write access logs",
    severity="warning",
    sources=["ELB.5", "CKV_AWS_91"],
    types=list(t.LOAD_BALANCERS),
)
def access_logs(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Access logs are the record of every request: who, what, how long, which target."""
    logs = r.inputs.get("accessLogs")
    if (
        not isinstance(logs, Mapping)
        or flag(logs.get("enabled")) is False
        or not logs.get("bucket")
    ):
        yield "accessLogs are off: no record of the requests it served"


@rules.rule(
    "PK-ELB-003",
    "Load balancers drop invalid HTTP headers",
    severity="error",
    sources=["ELB.4", "CKV_AWS_131"],
    types=list(t.LOAD_BALANCERS),
)
def drop_invalid_headers(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Header names that are not valid HTTP are a request-smuggling vector; the load
    balancer should drop them before they reach an app's parser."""
    if _application(r) and flag(r.inputs.get("dropInvalidHeaderFields")) is not True:
        yield "dropInvalidHeaderFields is off: invalid header names reach the apps"


@rules.rule(
    "PK-ELB-004",
    "Load balancers mitigate HTTP desync",
    severity="error",
    sources=["ELB.12", "CKV_AWS_328"],
    types=list(t.LOAD_BALANCERS),
)
def desync_mitigation(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """`monitor` mode forwards ambiguous requests that smuggle a second request past
    the load balancer; `defensive` (the default) or `strictest` stops them."""
    mode = r.inputs.get("desyncMitigationMode", "defensive")
    if _application(r) and known(mode) and mode not in ("defensive", "strictest"):
        yield f"desyncMitigationMode is {mode!r}: use defensive or strictest"


def _forwards(actions: Any) -> bool:
    return any(
        isinstance(a, Mapping)
        and a.get("type") in ("forward", "authenticate-oidc", "authenticate-cognito")
        for a in items(actions)
    )


def _redirects_to_https(actions: Any) -> bool:
    listed = [a for a in items(actions) if isinstance(a, Mapping)]
    return bool(listed) and all(
        (a.get("type") == "redirect" and dig(a, "redirect", "protocol") == "HTTPS")
        or a.get("type") == "fixed-response"
        for a in listed
    )


@rules.rule(
    "PK-ELB-005",
    "Plain HTTP only redirects to HTTPS",
    severity="error",
    sources=["ELB.1", "CKV_AWS_2", "CKV2_AWS_20"],
    types=[*t.LISTENERS, *t.LISTENER_RULES],
    scope="stack",
)
def http_redirects(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Anything served over plain HTTP can be read and changed on the way; port 80
    exists only to send browsers to 443. A load balancer that admits only CloudFront
    (internal behind a VPC origin, or CloudFront's prefix list alone) is not
    viewer-facing: CloudFront redirects viewers (PK-CF-001), and its hop to the origin
    is judged by PK-CF-007."""
    listeners = [r] if r.type in t.LISTENERS else index.dependencies(r, *t.LISTENERS)
    for listener in listeners:
        lbs = index.dependencies(listener, *t.LOAD_BALANCERS)
        if listener.inputs.get("protocol") != "HTTP":
            continue
        if not all(viewer_facing(lb, index) for lb in lbs):
            continue
        if r.type in t.LISTENERS:
            if not _redirects_to_https(r.inputs.get("defaultActions")):
                yield "an HTTP listener whose default action does not redirect to HTTPS"
        elif _forwards(r.inputs.get("actions")):
            yield f"forwards plain HTTP from listener {listener.name} to a target; redirect to HTTPS instead"


@rules.rule(
    "PK-ELB-006",
    "HTTPS listeners accept TLS 1.2 or newer only",
    severity="error",
    sources=["ELB.17", "CKV_AWS_103"],
    types=list(t.LISTENERS),
)
def tls_policy(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """TLS 1.0 and 1.1 are broken and no browser needs them. Use
    ELBSecurityPolicy-TLS13-1-2-2021-06 (TLS 1.3 and 1.2) or newer."""
    if r.inputs.get("protocol") != "HTTPS":
        return
    policy = r.inputs.get("sslPolicy")
    if policy is None:
        yield "sslPolicy is not set: the API's default policy accepts TLS 1.0; set ELBSecurityPolicy-TLS13-1-2-2021-06"
    elif known(policy) and not _MODERN_TLS.match(str(policy)):
        yield f"sslPolicy {policy} accepts TLS older than 1.2; use ELBSecurityPolicy-TLS13-1-2-2021-06"


@rules.rule(
    "PK-ELB-007",
    "Target groups check their targets' health on a real path",
    severity="warning",
    sources=["CKV_AWS_261", "REL11-BP01"],
    types=list(t.TARGET_GROUPS),
)
def health_checks(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """The load balancer sends traffic only to targets that pass the health check; a
    check of `/` passes as long as the web server answers, even when the app is broken."""
    if r.inputs.get("targetType") == "lambda":
        return
    check = r.inputs.get("healthCheck")
    if isinstance(check, Mapping) and flag(check.get("enabled")) is False:
        yield "healthCheck is disabled: traffic goes to targets whether they work or not"
        return
    if r.inputs.get("protocol", "HTTP") in ("HTTP", "HTTPS") and not (
        isinstance(check, Mapping) and check.get("path")
    ):
        yield "healthCheck.path is not set: the default GET / passes whenever the server answers; check the app's health path"


@rules.rule(
    "PK-ELB-008",
    "A load balancer only CloudFront reaches is internal",
    severity="warning",
    sources=["CloudFront VPC origins", "SEC05-BP01"],
    types=list(t.LOAD_BALANCERS),
    scope="stack",
)
def internal_behind_cloudfront(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """A load balancer that admits CloudFront alone has no reason to face the internet:
    internal in private subnets and reached through a CloudFront VPC origin, it has no
    public addresses to pay for or to be scanned, and no way around CloudFront, its WAF
    and its logs. A paaskit rack's load balancer is internal; a rack deployed before
    keeps its public one only while its apps move (`legacy_edge`)."""
    if flag(r.inputs.get("internal")) is True or not _application(r):
        return
    if not index.dependencies(r, t.SECURITY_GROUP) or viewer_facing(r, index):
        return
    yield (
        "internet-facing, but only CloudFront may reach it: make it internal and reach it "
        "through a CloudFront VPC origin"
    )
