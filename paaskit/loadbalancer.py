"""LoadBalancer: the rack's Application Load Balancer, its certificates and the apps' routes.

Every request to an app enters here (behind the Cdn, in a rack). One model of
domains, chosen by the settings:

==========================  ===================================================
settings                    what the load balancer serves
==========================  ===================================================
`domain` + `zone_name`      HTTPS on 443 with an ACM certificate for `domain` and
(or `zone_id`)              `*.domain`, validated by DNS records in that Route 53
                            zone (never by email); HTTP on 80 answers 301 to HTTPS
`domain` + `certificate_arn`  the same with a certificate you bring
no domain                   plain HTTP on 80, to CloudFront only; CloudFront gives
                            viewers HTTPS on its own `*.cloudfront.net` domain
==========================  ===================================================

A domain with neither a zone nor a certificate is an error naming `domain`.
Apps get hosts under the rack's domain, `<app>-<service>.<domain>` (`app_host`).
Without a domain, traffic between CloudFront and the load balancer is plain
HTTP over the internet (restricted to CloudFront's addresses and a secret
header): fine to try a rack, but production racks should have a domain.

Only CloudFront (`cloudfront_only`, on by default). A rack always puts the Cdn
in front, so the load balancer admits only CloudFront's origin-facing addresses
(the AWS-managed prefix list) and every route also requires a secret header
that CloudFront adds on its way to the origin: nobody can bypass the CDN (and
its WAF and security headers) by calling the load balancer directly. Requests
without the header fall to the default action, a fixed 404. A security group
counts a prefix-list reference as the list's maximum size (55 entries for
CloudFront) against its 60-rule quota, so only the one port CloudFront uses is
opened (443 with a domain, 80 without). Without a domain this mode is
mandatory: plain HTTP must never face viewers.

The secret header's value (`origin_secret`) is a Pulumi secret. Give your own,
or let the component make one: AWS generates 48 random letters and digits
(Secrets Manager's GetRandomPassword) and an SSM SecureString parameter keeps
them. The parameter ignores later changes of its value, so the secret is
generated once and stays the same on every `pulumi up`; it is stored encrypted
in SSM and in the Pulumi state (as a secret). The trade-off: the value is also
readable by anyone who may describe the listener rules or read the parameter,
and rotating it (put a new value in the parameter, `pulumi refresh`, `pulumi
up`) leaves a few minutes, while CloudFront deploys, during which the old
header is refused.

Routes. `add_route` (or `attach_route` from another stack, with only the
listener's ARN) adds a listener rule for hosts and/or path patterns. A rule's
priority comes from its own name, hashed into a band by specificity: host and
path rules first, then path-only rules (cross-cutting paths such as
`/.well-known/*` apply to every host), then host-only rules. Adding or removing
another app never changes a rule's priority. Collisions within a program, more
rules than AWS allows per load balancer (100 by default, `max_rules` after a
quota increase) and more than AWS's 5 condition values per rule are errors
before anything is deployed.

Load balancer settings: invalid header fields dropped (which includes headers
with underscores), HTTP desync mitigation `defensive`, deletion protection on
(off for `throwaway` stacks), HTTP/2, the Host header passed to apps unchanged,
TLS 1.3 with the restricted post-quantum policy AWS recommends, access logs to a
bucket of its own (private, SSE-S3, the only encryption ALB log delivery
supports, TLS-only, expiring after `access_log_retention_days`, kept on
`pulumi destroy` unless `throwaway`).

Targets. Tasks on the SpotCluster's nodes use bridge networking with dynamic
host ports (32768-65535); given `node_security_group_id`, the component opens
exactly that range from its own security group to the nodes' (both rules).
Health checks use the traffic port, so the range covers them too. Without it
the load balancer has no egress at all: add your own rule to
`lb.security_group`.

Cost (us-east-1): the load balancer $0.0225/h (~$16.43 a month) plus $0.008
per LCU-hour (~$5.84 a month for one LCU), and one public IPv4 address per
zone at $0.005/h (~$3.65 a month each). Access logs cost only their S3
storage ($0.023 per GB-month, expiring after 90 days). Certificates from ACM,
the SSM parameter (standard tier) and alias records are free.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator, model_validator

from ._aws import (
    DNS_NAME,
    ECS_DYNAMIC_PORTS,
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

__all__ = [
    "CLOUDFRONT_PREFIX_LIST",
    "NODE_PORTS",
    "ORIGIN_HEADER",
    "TLS_POLICY",
    "LoadBalancer",
    "LoadBalancerArgs",
    "RuleBook",
    "app_host",
    "attach_route",
    "route_priority",
]

TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"
"""AWS's recommended policy (the console's default since 2025-09): TLS 1.3, TLS 1.2
with forward-secret AEAD ciphers only, and hybrid post-quantum key exchange for
clients that offer it. CloudFront connects to origins with TLS 1.2 ECDHE-GCM
ciphers, which it includes."""

NODE_PORTS = ECS_DYNAMIC_PORTS
"""The dynamic host ports of bridge-networked ECS tasks (see `ECS_DYNAMIC_PORTS`)."""

CLOUDFRONT_PREFIX_LIST = "com.amazonaws.global.cloudfront.origin-facing"
"""The AWS-managed prefix list of the addresses CloudFront connects to origins from."""

ORIGIN_HEADER = "X-Origin-Verify"
"""The header CloudFront adds to requests to the load balancer, holding the origin secret."""

MAX_PRIORITY = 50_000
"""The highest listener rule priority AWS accepts."""

MAX_CONDITION_VALUES = 5
"""AWS: condition values per rule (every host, path and header value counts)."""

MAX_CONDITION_WILDCARDS = 5
"""AWS: wildcards (`*` and `?`) per rule."""

_BAND_SIZE = MAX_PRIORITY // 3

_ROUTE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_HOST_PATTERN = re.compile(r"^[A-Za-z0-9.*?-]{1,128}$")
_PATH_PATTERN = re.compile(r"^/[A-Za-z0-9_\-.$/~\"'@:+&*?]{0,127}$")
_SECRET_VALUE = re.compile(r"^[A-Za-z0-9+/=._~-]{32,128}$")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")

# Regions where ELB delivers access logs from a regional AWS account (opened before
# August 2022); newer regions use the logdelivery.elasticloadbalancing service principal.
_ELB_ACCOUNT_REGIONS = frozenset(
    {
        "us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ca-central-1",
        "eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1", "eu-north-1",
        "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1",
        "ap-southeast-2", "ap-south-1", "me-south-1", "sa-east-1", "us-gov-west-1",
        "us-gov-east-1", "cn-north-1", "cn-northwest-1",
    }
)  # fmt: skip
_LOG_PREFIX = "access"


def _check_domain(value: str, what: str = "a domain name") -> str:
    if value != value.lower():
        raise ValueError(f"{value!r}: write {what} in lowercase ({value.lower()!r})")
    if not DNS_NAME.match(value):
        raise ValueError(f"{value!r} is not {what} (like app.example.com)")
    return value


class LoadBalancerArgs(ComponentArgs):
    """Settings of a LoadBalancer. Every field says its default and why."""

    vpc_id: Input | None = None
    """The VPC (`network.vpc_id`). Required by the component; a Rack fills it in
    from its Network, so settings read from config may leave it out."""

    public_subnet_ids: list[Input] | pulumi.Output[Any] | None = None
    """The public subnets, in at least two zones (`network.public_subnet_ids`).
    Required by the component, like `vpc_id`."""

    node_security_group_id: Input | None = None
    """The cluster nodes' security group. Given, the load balancer may reach the
    nodes on the dynamic host ports 32768-65535 and the nodes admit it there
    (both rules are made here). Default none: no egress; add your own."""

    domain: str | None = None
    """The rack's domain (`example.com`): HTTPS with a certificate for it and for
    `*.domain`, and apps at `<app>-<service>.<domain>`. Needs `zone_name`/`zone_id`
    or `certificate_arn`. Default none: HTTP to CloudFront only."""

    zone_name: str | None = None
    """A public Route 53 zone holding `domain` (`example.com`), for the certificate's
    DNS validation records (and alias records when `cloudfront_only` is off).
    Default none."""

    zone_id: Input | None = None
    """The same zone by id, instead of `zone_name`. Default none."""

    certificate_arn: Input | None = None
    """An ACM certificate of your own, in this region, covering `domain` and
    `*.domain`. Default none: the component issues one (needs a zone)."""

    cloudfront_only: bool = True
    """Admit only CloudFront (its origin-facing prefix list plus the secret origin
    header). Default on: a rack always puts the Cdn in front. Turn off only when
    viewers reach the load balancer directly (needs a domain)."""

    origin_secret: Input | None = None
    """The secret header value CloudFront sends (32-128 letters, digits or
    `+/=._~-`). Default: generated by AWS once and kept in SSM (see above)."""

    origin_header_name: str = ORIGIN_HEADER
    """The name of the secret header. Default `X-Origin-Verify`; the Cdn must use the same."""

    ipv6: bool = False
    """Dual-stack load balancer (the subnets need IPv6 blocks: `network.ipv6`), open
    to IPv6 viewers when `cloudfront_only` is off. Default off."""

    ssl_policy: str = TLS_POLICY
    """The HTTPS listener's security policy; must be a TLS 1.3 policy
    (`ELBSecurityPolicy-TLS13-...`). Default `ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09`,
    the one AWS recommends."""

    idle_timeout: int = Field(60, ge=1, le=4000)
    """Seconds a connection may sit idle. Default 60, AWS's; raise it for long polling."""

    desync_mitigation_mode: Literal["defensive", "strictest"] = "defensive"
    """How to treat requests that could desynchronise proxies. Default `defensive`:
    blocks the dangerous ones and still serves odd-but-harmless clients;
    `strictest` also drops those."""

    access_logs: bool = True
    """Write access logs to an S3 bucket of the component's own. Default on: the
    only record of who called what after an incident."""

    access_log_retention_days: int = Field(90, ge=1, le=3650)
    """Days to keep access logs. Default 90, enough to investigate an incident."""

    max_rules: int = Field(100, ge=1, le=MAX_PRIORITY)
    """Listener rules this load balancer may have (AWS's quota, excluding default
    actions). Default 100, AWS's default; raise it after a quota increase."""

    throwaway: bool = False
    """This stack is disposable: let `pulumi destroy` delete the log bucket with
    its logs and turn off deletion protection. Default off."""

    @field_validator("domain")
    @classmethod
    def _check_domain_field(cls, value: str | None) -> str | None:
        return None if value is None else _check_domain(value)

    @field_validator("zone_name")
    @classmethod
    def _check_zone_name(cls, value: str | None) -> str | None:
        return None if value is None else _check_domain(value.rstrip("."), "a zone name")

    @field_validator("public_subnet_ids")
    @classmethod
    def _check_subnets(cls, value: list[Input] | pulumi.Output[Any] | None) -> Any:
        if isinstance(value, list) and len(value) < 2:
            raise ValueError(
                f"an Application Load Balancer needs subnets in at least two zones (got {len(value)})"
            )
        return value

    @field_validator("origin_secret")
    @classmethod
    def _check_secret(cls, value: Input | None) -> Input | None:
        if isinstance(value, str) and not _SECRET_VALUE.match(value):
            raise ValueError(
                "use 32 to 128 letters, digits or +/=._~- (ALB compares header values "
                "case-insensitively and treats * and ? as wildcards)"
            )
        return value

    @field_validator("origin_header_name")
    @classmethod
    def _check_header_name(cls, value: str) -> str:
        return check_origin_header_name(value)

    @field_validator("ssl_policy")
    @classmethod
    def _check_ssl_policy(cls, value: str) -> str:
        if not value.startswith("ELBSecurityPolicy-TLS13-"):
            raise ValueError(
                f"{value!r} is not a TLS 1.3 policy; use one named ELBSecurityPolicy-TLS13-... "
                f"(default {TLS_POLICY})"
            )
        return value

    @model_validator(mode="after")
    def _check_domain_mode(self) -> LoadBalancerArgs:
        has_zone = self.zone_name is not None or self.zone_id is not None
        if self.zone_name is not None and self.zone_id is not None:
            raise ValueError("zone_id: give zone_name or zone_id, not both")
        if self.domain is None:
            for key in ("zone_name", "zone_id", "certificate_arn"):
                if getattr(self, key) is not None:
                    raise ValueError(f"{key}: only used with a domain; set domain too")
            if not self.cloudfront_only:
                raise ValueError(
                    "cloudfront_only: without a domain the load balancer serves plain HTTP, "
                    "which must only face CloudFront; set a domain or leave cloudfront_only on"
                )
        elif not has_zone and self.certificate_arn is None:
            raise ValueError(
                f"domain: {self.domain!r} needs a certificate: name its Route 53 zone "
                "(zone_name or zone_id) to have one issued, or give certificate_arn"
            )
        if (
            self.domain is not None
            and self.zone_name is not None
            and not within_zone(self.domain, self.zone_name)
        ):
            raise ValueError(f"domain: {self.domain!r} is not in the zone {self.zone_name!r}")
        if self.origin_secret is not None and not self.cloudfront_only:
            raise ValueError("origin_secret: only used with cloudfront_only on")
        return self


# --- routes ---------------------------------------------------------------------


def route_priority(name: str, hosts: Sequence[str] = (), paths: Sequence[str] = ()) -> int:
    """The listener rule priority of a route, from its name and kind alone.

    Host-and-path rules get 1-16666, path-only rules 16667-33332, host-only rules
    33333-49998; within its band a rule's place is a hash of its name, so no other
    route's arrival or departure ever moves it.
    """
    band = 0 if hosts and paths else 1 if paths else 2
    offset = int(hashlib.sha256(name.encode()).hexdigest(), 16) % _BAND_SIZE
    return band * _BAND_SIZE + offset + 1


class RuleBook:
    """The rules a program attaches to one load balancer: priorities and the quota, checked before deploy.

    A `LoadBalancer` keeps one (`lb.rules`); a stack that attaches routes with
    `attach_route` may keep its own. Rules attached from other stacks are not
    seen here: their priorities come from their own names, so they stay apart
    unless two names hash alike (AWS then refuses the second; give it `priority`).
    """

    def __init__(self, limit: int = 100, *, owner: str = "the load balancer") -> None:
        self.limit = limit
        self.owner = owner
        self._priority_of: dict[str, int] = {}
        self._name_at: dict[int, str] = {}
        self._conditions: dict[tuple[tuple[str, ...], tuple[str, ...]], str] = {}

    def __len__(self) -> int:
        return len(self._priority_of)

    @property
    def priorities(self) -> dict[str, int]:
        """Priority by route name."""
        return dict(self._priority_of)

    def book(
        self, name: str, hosts: Sequence[str], paths: Sequence[str], priority: int | None = None
    ) -> int:
        """Reserve a priority for a route; an error if it would break a limit or collide."""
        if name in self._priority_of:
            raise ConfigError(f"route {name!r}: a route of that name is already attached")
        if len(self) + 1 > self.limit:
            raise ConfigError(
                f"max_rules: route {name!r} would be listener rule {len(self) + 1} on {self.owner}, "
                f"but the limit is {self.limit} (AWS's quota of rules per Application Load "
                "Balancer, 100 unless raised, default rules excluded); request a quota increase "
                "and raise max_rules, or route several services through one rule"
            )
        key = (tuple(sorted(hosts)), tuple(sorted(paths)))
        if key in self._conditions:
            raise ConfigError(
                f"route {name!r}: route {self._conditions[key]!r} already matches exactly "
                f"hosts {list(key[0])} and paths {list(key[1])}"
            )
        chosen = route_priority(name, hosts, paths) if priority is None else priority
        if chosen in self._name_at:
            raise ConfigError(
                f"priority: route {name!r} and route {self._name_at[chosen]!r} both take "
                f"priority {chosen}; give one of them priority={self._free_near(chosen)}"
            )
        self._priority_of[name] = chosen
        self._name_at[chosen] = name
        self._conditions[key] = name
        return chosen

    def _free_near(self, priority: int) -> int:
        candidate = priority
        while candidate in self._name_at:
            candidate = candidate % MAX_PRIORITY + 1
        return candidate


def _check_route(
    name: str,
    hosts: Sequence[Input],
    paths: Sequence[str],
    *,
    with_header: bool,
    priority: int | None,
) -> tuple[list[Any], list[str]]:
    if not _ROUTE_NAME.match(name):
        raise ConfigError(
            f"route {name!r}: name it with letters, digits, '.', '_' or '-' (at most 128)"
        )
    hosts, paths = list(hosts), list(paths)
    if not hosts and not paths:
        raise ConfigError(f"route {name!r}: give hosts, paths or both")
    for host in hosts:
        # A host known only at deploy time (an Output from another stack) is checked there.
        if not isinstance(host, str):
            continue
        if not _HOST_PATTERN.match(host) or "." not in host or not host.rsplit(".", 1)[1].isalpha():
            raise ConfigError(
                f"route {name!r}: hosts: {host!r} is not a host pattern (letters, digits, "
                "'-', '.', wildcards '*' and '?', at least one dot, up to 128 characters)"
            )
    for path in paths:
        if not _PATH_PATTERN.match(path):
            raise ConfigError(
                f"route {name!r}: paths: {path!r} is not a path pattern (starts with '/', up to "
                "128 of A-Z a-z 0-9 _ - . $ / ~ \" ' @ : + & and wildcards '*' '?')"
            )
    values = len(hosts) + len(paths) + (1 if with_header else 0)
    if values > MAX_CONDITION_VALUES:
        header = " plus the origin header" if with_header else ""
        raise ConfigError(
            f"route {name!r}: {len(hosts)} hosts and {len(paths)} paths{header} make {values} "
            f"condition values; AWS allows {MAX_CONDITION_VALUES} per rule, so split the route"
        )
    wildcards = sum(v.count("*") + v.count("?") for v in (*hosts, *paths) if isinstance(v, str))
    if wildcards > MAX_CONDITION_WILDCARDS:
        raise ConfigError(
            f"route {name!r}: {wildcards} wildcards; AWS allows {MAX_CONDITION_WILDCARDS} per rule"
        )
    if priority is not None and not 1 <= priority <= MAX_PRIORITY:
        raise ConfigError(f"route {name!r}: priority {priority} is outside 1-{MAX_PRIORITY}")
    return hosts, paths


def _route_args(
    name: str,
    listener_arn: Input,
    target_group_arn: Input,
    hosts: Sequence[Input],
    paths: Sequence[str],
    origin_secret: Input | None,
    origin_header_name: Input,
    priority: int | None,
    rules: RuleBook | None,
) -> dict[str, Any]:
    """The listener rule's arguments, after every check."""
    hosts, paths = _check_route(
        name, hosts, paths, with_header=origin_secret is not None, priority=priority
    )
    if rules is not None:
        chosen = rules.book(name, hosts, paths, priority)
    else:
        chosen = route_priority(name, hosts, paths) if priority is None else priority
    conditions: list[dict[str, Any]] = []
    if hosts:
        conditions.append({"host_header": {"values": hosts}})
    if paths:
        conditions.append({"path_pattern": {"values": paths}})
    if origin_secret is not None:
        conditions.append(
            {
                "http_header": {
                    "http_header_name": origin_header_name,
                    "values": [pulumi.Output.secret(origin_secret)],
                }
            }
        )
    return {
        "listener_arn": listener_arn,
        "priority": chosen,
        "conditions": conditions,
        "actions": [{"type": "forward", "target_group_arn": target_group_arn}],
    }


def attach_route(
    name: str,
    listener_arn: Input,
    target_group_arn: Input,
    *,
    hosts: Sequence[Input] = (),
    paths: Sequence[str] = (),
    origin_secret: Input | None = None,
    origin_header_name: Input = ORIGIN_HEADER,
    priority: int | None = None,
    rules: RuleBook | None = None,
    tags: dict[str, str] | None = None,
    opts: pulumi.ResourceOptions | None = None,
) -> aws.lb.ListenerRule:
    """Route requests for `hosts` and/or `paths` on a listener to a target group.

    For apps in other stacks, which know the rack only by its outputs (the
    listener ARN and origin secret). The rule is the Pulumi resource `name`;
    its priority is `route_priority(name, hosts, paths)` unless `priority` is
    given. With `origin_secret` (the rack's, when it admits only CloudFront)
    the rule also requires the secret origin header. Pass a `RuleBook` to
    check collisions and the quota across several routes of one program.
    """
    if isinstance(origin_header_name, str):
        # One read from another stack's outputs is checked where it was set: in that rack.
        check_origin_header_name(origin_header_name)
    kwargs = _route_args(
        name,
        listener_arn,
        target_group_arn,
        hosts,
        paths,
        origin_secret,
        origin_header_name,
        priority,
        rules,
    )
    return aws.lb.ListenerRule(name, opts=opts, tags=tags, **kwargs)


def app_host(domain: str, app: str, service: str) -> str:
    """The host of an app's service under a rack domain: `<app>-<service>.<domain>`."""
    label = f"{app}-{service}".lower()
    if not _LABEL.match(label):
        raise ConfigError(
            f"host {label!r}: an app and service name must make one DNS label "
            "(letters, digits and '-', at most 63 characters)"
        )
    return f"{label}.{domain}"


# --- the component --------------------------------------------------------------


class LoadBalancer(Component):
    """An internet-facing Application Load Balancer with certificates, listeners and routes.

    Creates: a security group (HTTP/HTTPS from CloudFront's prefix list, or
    from the internet; egress only to the nodes) and the nodes' matching
    ingress rule; with `cloudfront_only` and no given secret, the SSM parameter
    holding the origin secret; the access-log bucket (ownership enforced,
    public access blocked, SSE-S3, lifecycle, policy for ELB log delivery and
    TLS only); the load balancer in the public subnets; with a domain and a
    zone, an ACM certificate for `domain` and `*.domain` with its DNS
    validation record; listeners (HTTPS 443 with a fixed 404 default and HTTP
    80 redirecting to it, or HTTP 80 alone without a domain); alias records
    when viewers reach it directly; and a listener rule per `add_route`.
    """

    TYPE = "paaskit:loadbalancer:LoadBalancer"
    CHILD_KINDS: ClassVar[frozenset[str]] = frozenset(
        {
            "security_group", "security_group_rule", "node_security_group_rule",
            "origin_secret", "log_bucket", "log_bucket_config", "load_balancer",
            "certificate", "validation_record", "certificate_validation", "listener",
            "listener_rule", "dns_record",
        }
    )  # fmt: skip

    def __init__(
        self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        for key in ("vpc_id", "public_subnet_ids"):
            if getattr(args, key) is None:
                raise ConfigError(
                    f"{key}: required: the load balancer's VPC and public subnets "
                    "(a Network's vpc_id and public_subnet_ids)"
                )
        super().__init__(name, args, opts)
        self.args = args
        self.domain: str | None = args.domain
        self.rules = RuleBook(args.max_rules, owner=f"load balancer {name!r}")
        """The routes added through `add_route`, their priorities and the quota."""
        self.origin_header_name = args.origin_header_name
        self.origin_protocol: Literal["https-only", "http-only"] = (
            "https-only" if args.domain else "http-only"
        )
        """How CloudFront must reach this load balancer (the Cdn's `origin_protocol`)."""

        self.origin_secret_parameter: aws.ssm.Parameter | None = None
        self.origin_secret: pulumi.Output[str] | None = (
            self._origin_secret() if args.cloudfront_only else None
        )
        """The secret origin header value (a Pulumi secret), or None when anyone may call."""

        self.security_group = self._security_group()
        self.log_bucket: aws.s3.Bucket | None = None
        self.alb = self._load_balancer()
        self.certificate: aws.acm.Certificate | None = None
        self._zone = public_zone_id(self, args.zone_id, args.zone_name)
        self.certificate_arn = self._certificate()
        self.http_listener, self.https_listener = self._listeners()
        self.app_listener: aws.lb.Listener = self.https_listener or self.http_listener
        """The listener that serves apps: HTTPS with a domain, else HTTP."""
        self.dns_records = self._dns_records()

        self.arn: pulumi.Output[str] = self.alb.arn
        self.arn_suffix: pulumi.Output[str] = self.alb.arn_suffix
        self.dns_name: pulumi.Output[str] = self.alb.dns_name
        self.zone_id: pulumi.Output[str] = self.alb.zone_id
        self.security_group_id: pulumi.Output[str] = self.security_group.id
        self.listener_arn: pulumi.Output[str] = self.app_listener.arn
        outputs: dict[str, Any] = {
            "arn": self.arn,
            "dns_name": self.dns_name,
            "zone_id": self.zone_id,
            "security_group_id": self.security_group_id,
            "listener_arn": self.listener_arn,
            "origin_protocol": self.origin_protocol,
            "origin_header_name": self.origin_header_name,
        }
        if self.origin_secret is not None:
            outputs["origin_secret"] = self.origin_secret
        self.register_outputs(outputs)

    # --- what apps call --------------------------------------------------------

    def add_route(
        self,
        name: str,
        target_group_arn: Input,
        *,
        hosts: Sequence[str] = (),
        paths: Sequence[str] = (),
        priority: int | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> aws.lb.ListenerRule:
        """Forward requests for `hosts` and/or `paths` to a target group.

        Makes the listener rule `<lb>-route-<name>` on the app listener, with a
        priority from `route_priority(name, ...)` (or `priority`), requiring the
        secret origin header when the load balancer admits only CloudFront.
        Errors (before deploy) on a bad pattern, more than 5 condition values,
        a priority taken by another route, or more rules than `max_rules`.
        """
        kwargs = _route_args(
            name,
            self.app_listener.arn,
            target_group_arn,
            hosts,
            paths,
            self.origin_secret,
            self.origin_header_name,
            priority,
            self.rules,
        )
        return self.child(
            "listener_rule", aws.lb.ListenerRule, f"route-{name}", opts=opts, **kwargs
        )

    def app_host(self, app: str, service: str) -> str | None:
        """`<app>-<service>.<domain>`, or None when the rack has no domain."""
        return None if self.domain is None else app_host(self.domain, app, service)

    # --- children, in the order they are made ----------------------------------

    def _origin_secret(self) -> pulumi.Output[str]:
        if self.args.origin_secret is not None:
            return pulumi.Output.secret(self.args.origin_secret)
        generated = aws.secretsmanager.get_random_password_output(
            password_length=48,
            exclude_punctuation=True,
            include_space=False,
            require_each_included_type=True,
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        parameter = self.child(
            "origin_secret",
            aws.ssm.Parameter,
            "origin-secret",
            type="SecureString",
            tier="Standard",
            value=pulumi.Output.secret(generated.random_password),
            description="paaskit: the header value CloudFront sends to this load balancer",
            # Generated once: a fresh password on every run would churn CloudFront
            # and the listener rules, refusing traffic while CloudFront deploys.
            opts=pulumi.ResourceOptions(ignore_changes=["value"]),
        )
        self.origin_secret_parameter = parameter
        return pulumi.Output.secret(parameter.value)

    def _security_group(self) -> aws.ec2.SecurityGroup:
        args = self.args
        sg = self.child(
            "security_group",
            aws.ec2.SecurityGroup,
            "sg",
            vpc_id=args.vpc_id,
            description="Load balancer: HTTP and HTTPS in, app nodes out",
        )
        if args.cloudfront_only:
            prefix_list = aws.ec2.get_managed_prefix_list_output(
                name=CLOUDFRONT_PREFIX_LIST, opts=pulumi.InvokeOutputOptions(parent=self)
            )
            port = 443 if args.domain else 80
            self.child(
                "security_group_rule",
                aws.vpc.SecurityGroupIngressRule,
                f"sg-from-cloudfront-{port}",
                security_group_id=sg.id,
                prefix_list_id=prefix_list.id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                description="CloudFront origin-facing addresses only",
            )
        else:
            for port in (80, 443):
                self.child(
                    "security_group_rule",
                    aws.vpc.SecurityGroupIngressRule,
                    f"sg-from-internet-{port}",
                    security_group_id=sg.id,
                    cidr_ipv4="0.0.0.0/0",
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    description=f"viewers on {port} over IPv4",
                )
                if args.ipv6:
                    self.child(
                        "security_group_rule",
                        aws.vpc.SecurityGroupIngressRule,
                        f"sg-from-internet-ipv6-{port}",
                        security_group_id=sg.id,
                        cidr_ipv6="::/0",
                        ip_protocol="tcp",
                        from_port=port,
                        to_port=port,
                        description=f"viewers on {port} over IPv6",
                    )
        if args.node_security_group_id is not None:
            low, high = NODE_PORTS
            self.child(
                "security_group_rule",
                aws.vpc.SecurityGroupEgressRule,
                "sg-to-nodes",
                security_group_id=sg.id,
                referenced_security_group_id=args.node_security_group_id,
                ip_protocol="tcp",
                from_port=low,
                to_port=high,
                description="app tasks on the nodes dynamic host ports, and their health checks",
            )
            self.child(
                "node_security_group_rule",
                aws.vpc.SecurityGroupIngressRule,
                "nodes-from-lb",
                security_group_id=args.node_security_group_id,
                referenced_security_group_id=sg.id,
                ip_protocol="tcp",
                from_port=low,
                to_port=high,
                description="the load balancer to app tasks on dynamic host ports",
            )
        return sg

    def _log_bucket_and_policy(self) -> tuple[aws.s3.Bucket, aws.s3.BucketPolicy]:
        throwaway = self.args.throwaway
        # SSE-S3, the private bucket's encryption, is the only one ALB log delivery supports.
        bucket, guards = private_bucket(self, "log_bucket", "logs", throwaway=throwaway)
        self.log_bucket = bucket
        expire_objects(
            self,
            "log_bucket",
            "logs",
            bucket,
            rule_id="expire-access-logs",
            days=self.args.access_log_retention_days,
            throwaway=throwaway,
        )
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = aws.get_caller_identity_output(opts=invoke).account_id
        region = aws.get_region_output(opts=invoke).region
        elb_account = region.apply(
            lambda r: (
                aws.elb.get_service_account_output(region=r, opts=invoke).arn
                if r in _ELB_ACCOUNT_REGIONS
                else None
            )
        )
        policy = self.child(
            "log_bucket_config",
            aws.s3.BucketPolicy,
            "logs-policy",
            bucket=bucket.id,
            policy=pulumi.Output.all(bucket.arn, account, elb_account).apply(
                lambda v: access_log_policy(v[0], v[1], _LOG_PREFIX, v[2])
            ),
            opts=pulumi.ResourceOptions(depends_on=guards),
        )
        return bucket, policy

    def _load_balancer(self) -> aws.lb.LoadBalancer:
        args = self.args
        access_logs: dict[str, Any] | None = None
        depends: list[pulumi.Resource] = []
        if args.access_logs:
            bucket, policy = self._log_bucket_and_policy()
            access_logs = {"bucket": bucket.bucket, "prefix": _LOG_PREFIX, "enabled": True}
            # ELB writes a test object when logging is turned on: the policy must exist first.
            depends.append(policy)
        return self.child(
            "load_balancer",
            aws.lb.LoadBalancer,
            "alb",
            load_balancer_type="application",
            internal=False,
            subnets=args.public_subnet_ids,
            security_groups=[self.security_group.id],
            ip_address_type="dualstack" if args.ipv6 else "ipv4",
            drop_invalid_header_fields=True,
            desync_mitigation_mode=args.desync_mitigation_mode,
            enable_deletion_protection=not args.throwaway,
            enable_http2=True,
            idle_timeout=args.idle_timeout,
            preserve_host_header=True,
            xff_header_processing_mode="append",
            enable_waf_fail_open=False,
            access_logs=access_logs,
            opts=pulumi.ResourceOptions(depends_on=depends),
        )

    def _certificate(self) -> pulumi.Output[str] | None:
        args = self.args
        if args.domain is None:
            return None
        if args.certificate_arn is not None:
            return pulumi.Output.from_input(args.certificate_arn)
        zone_id = self._zone
        domain = args.domain
        certificate = self.child(
            "certificate",
            aws.acm.Certificate,
            "cert",
            domain_name=domain,
            subject_alternative_names=[f"*.{domain}"],
            validation_method="DNS",
            key_algorithm="RSA_2048",
        )
        self.certificate = certificate
        # ACM validates `domain` and `*.domain` with one and the same record.
        record = dns_validation_record(self, "cert-validation-record", certificate, domain, zone_id)
        validation = self.child(
            "certificate_validation",
            aws.acm.CertificateValidation,
            "cert-validation",
            certificate_arn=certificate.arn,
            validation_record_fqdns=[record.fqdn],
        )
        return validation.certificate_arn

    def _listeners(self) -> tuple[aws.lb.Listener, aws.lb.Listener | None]:
        if self.args.domain is None:
            http = self.child(
                "listener",
                aws.lb.Listener,
                "http",
                load_balancer_arn=self.alb.arn,
                port=80,
                protocol="HTTP",
                default_actions=[_NOT_FOUND],
            )
            return http, None
        http = self.child(
            "listener",
            aws.lb.Listener,
            "http",
            load_balancer_arn=self.alb.arn,
            port=80,
            protocol="HTTP",
            default_actions=[
                {
                    "type": "redirect",
                    "redirect": {"protocol": "HTTPS", "port": "443", "status_code": "HTTP_301"},
                }
            ],
        )
        https = self.child(
            "listener",
            aws.lb.Listener,
            "https",
            load_balancer_arn=self.alb.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=self.args.ssl_policy,
            certificate_arn=self.certificate_arn,
            default_actions=[_NOT_FOUND],
        )
        return http, https

    def _dns_records(self) -> list[aws.route53.Record]:
        """Alias records when viewers reach the load balancer directly (with a CDN, it owns DNS)."""
        args = self.args
        zone_id = self._zone
        if args.cloudfront_only or args.domain is None or zone_id is None:
            return []
        records = []
        kinds = ("A", "AAAA") if args.ipv6 else ("A",)
        for host, slug in ((args.domain, "apex"), (f"*.{args.domain}", "wildcard")):
            for kind in kinds:
                records.append(
                    self.child(
                        "dns_record",
                        aws.route53.Record,
                        f"dns-{slug}-{kind.lower()}",
                        zone_id=zone_id,
                        name=host,
                        type=kind,
                        aliases=[
                            {
                                "name": self.alb.dns_name,
                                "zone_id": self.alb.zone_id,
                                "evaluate_target_health": True,
                            }
                        ],
                    )
                )
        return records


_NOT_FOUND: dict[str, Any] = {
    "type": "fixed-response",
    "fixed_response": {
        "content_type": "text/plain",
        "message_body": "Not found",
        "status_code": "404",
    },
}


def access_log_policy(
    bucket_arn: str, account: str, prefix: str, elb_account_arn: str | None
) -> str:
    """The bucket policy ELB access log delivery needs, plus TLS only.

    The `logdelivery.elasticloadbalancing.amazonaws.com` service principal (how
    AWS documents it for every region opened since August 2022) and, in older
    regions, also the region's Elastic Load Balancing account; both may write
    only under `<prefix>/AWSLogs/<this account>/`.
    """
    target = f"{bucket_arn}/{prefix}/AWSLogs/{account}/*"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ElbLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": target,
        }
    ]
    if elb_account_arn:
        statements.append(
            {
                "Sid": "ElbLogDeliveryRegionalAccount",
                "Effect": "Allow",
                "Principal": {"AWS": elb_account_arn},
                "Action": "s3:PutObject",
                "Resource": target,
            }
        )
    statements.append(deny_insecure_transport(bucket_arn))
    return policy_document(statements)
