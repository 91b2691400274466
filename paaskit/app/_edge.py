"""An app's web services at the edge: claims, target groups, routes, distributions, domains, static files.

Every web service gets a CloudFront distribution of its own, so its own
`https://d....cloudfront.net` URL with no DNS work, reaching the rack's
internal load balancer through the rack's VPC origin. The distribution adds
the route header (`<app>.<service>`) and the rack's secret; the service's
listener rule matches both, never the Host, so a custom domain never touches
the rack's rules. The app's static files are in a bucket of its own, read
only by its distributions. Before anything of the app routes, the rack's
claims registry gives it its name, hosts and rule priorities, or refuses them
naming the app that holds them.

Custom domains (`domain:` in the manifest) get a certificate per service in
us-east-1. In one step when paaskit may write the domain's Route 53 zone (the
app's `zones`, or the rack's zone in the same program): it makes the
validation and alias records. Otherwise in two: the first `pulumi up`
requests the certificate and the `dns` output lists the records to create;
once ACM has issued it (read live on every run), the next `pulumi up`
attaches the certificate and the domains to the distribution.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_aws as aws

from paaskit._aws import (
    DNS_NAME,
    alias_records,
    check_origin_header_name,
    dns_validation_record,
    expire_objects,
    private_bucket,
    public_zone_id,
    within_zone,
)
from paaskit.cdn import (
    MAX_VPC_ORIGIN_READ_TIMEOUT,
    StaticFiles,
    asset_object_args,
    find_assets,
    log_delivery,
    site_bucket_policy,
    site_distribution_args,
    viewer_certificate,
)
from paaskit.config import ConfigError, Input
from paaskit.loadbalancer import ROUTE_HEADER, listener_rule_args, route_priority
from paaskit.manifest import Manifest, Service
from paaskit.tags import SERVICE_TAG

if TYPE_CHECKING:
    from ._app import App

__all__ = [
    "FAILED_CERTIFICATE",
    "MAX_CERTIFICATE_NAMES",
    "AppEdge",
    "DnsRecord",
    "Route",
    "check_web_services",
    "granted_priority",
]

MAX_CERTIFICATE_NAMES = 10
"""ACM's default quota of names per certificate (a distribution takes 100): a
service's domains all go on its one certificate."""

FAILED_CERTIFICATE = frozenset({"FAILED", "VALIDATION_TIMED_OUT", "REVOKED", "EXPIRED", "INACTIVE"})
"""ACM statuses from which a certificate never becomes ISSUED by itself."""

_US_EAST_1 = "us-east-1"
_LABEL_MAX = 63
_AWS_IDLE_TIMEOUT = 60
"""A load balancer's idle timeout when the rack does not say (AWS's default)."""
_CLOUDFRONT_DEFAULT_TIMEOUT = 60
"""CloudFront's default quota for an origin's response timeout; more needs an increase."""


@dataclass(frozen=True)
class DnsRecord:
    """A DNS record the user creates at their DNS provider (the `dns` output)."""

    name: str
    type: str
    value: str
    why: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "type": self.type, "value": self.value, "why": self.why}


@dataclass
class Route:
    """What a web service got at the edge."""

    target_group: aws.lb.TargetGroup
    listener_rule: aws.lb.ListenerRule
    distribution: aws.cloudfront.Distribution
    url: pulumi.Output[str]
    """Where the service answers now: its first domain once served, else its
    `*.cloudfront.net` name."""
    dns: pulumi.Output[list[dict[str, str]]]
    """The DNS records its domains still need, to create at their DNS provider."""

    @property
    def wait_for(self) -> list[pulumi.Resource]:
        """What the service's ECS service waits for: its rule (ECS needs the target
        group on a load balancer) and its distribution (a rack's move from its
        legacy edge swaps the rule only once the new path serves)."""
        return [self.listener_rule, self.distribution]


def check_web_services(app: str, manifest: Manifest) -> None:
    """What one plan can see of hosts: errors naming `services.<name>.domain` (or `.static`).

    A domain that is not a hostname, one domain in two services, more names than
    a certificate holds, a domain on a service the load balancer does not route
    to, a static prefix CloudFront cannot serve. Collisions with other apps are
    the claims registry's, at deploy time.
    """
    seen: dict[str, str] = {}
    for service in manifest.services.values():
        key = f"services.{service.name}.domain"
        if service.domain and not service.web:
            raise ConfigError(
                f"{key}: {service.name} is not a web service (it has no port, or is internal), "
                "so nothing routes its domains to it"
            )
        if len(service.domain) > MAX_CERTIFICATE_NAMES:
            raise ConfigError(
                f"{key}: {len(service.domain)} names; a service's domains share one ACM "
                f"certificate, which holds {MAX_CERTIFICATE_NAMES} by default: list at most "
                f"{MAX_CERTIFICATE_NAMES} (or raise ACM's quota and split them)"
            )
        for domain in service.domain:
            bare = domain.removeprefix("*.")
            if domain != domain.lower() or not DNS_NAME.match(bare):
                raise ConfigError(f"{key}: {domain!r} is not a hostname (like shop.example.com)")
            if domain in seen:
                where = (
                    "twice in that list"
                    if seen[domain] == service.name
                    else (f"also services.{seen[domain]}.domain")
                )
                raise ConfigError(f"{key}: {domain!r} is {where}: a host routes to one service")
            seen[domain] = service.name
        if service.web and len(f"{app}-{service.name}") > _LABEL_MAX:
            raise ConfigError(
                f"services.{service.name}: the app and service names make the host label "
                f"{app}-{service.name}, longer than DNS's {_LABEL_MAX} characters"
            )
        if service.web and service.static is not None:
            prefix = service.static.prefix
            if not prefix.startswith("/") or prefix.rstrip("/") == "" or "*" in prefix:
                raise ConfigError(
                    f"services.{service.name}.static.prefix: {prefix!r}: a URL path under which "
                    "CloudFront serves the files, like /static (not / : the service answers there)"
                )


def granted_priority(result: str | None, service: str, wanted: int) -> int:
    """The listener-rule priority the claims registry gave `service` (its answer is `result`).

    No answer at all happens in an offline plan, which cannot run the registry:
    the plan shows the priority the service's name hashes to, the one it asks for.
    """
    if not result or result == "null":
        return wanted
    try:
        return int(json.loads(result)["priorities"][service])
    except (KeyError, TypeError, ValueError):
        raise ConfigError(
            f"services.{service}: the rack's claims registry gave it no listener-rule "
            f"priority (it answered {result[:200]})"
        ) from None


def _require_destination(arn: Any) -> str:
    if not arn:
        raise ConfigError(
            "cdn_logs: the rack keeps no CloudFront logs (its edgeLogging is off), so this "
            "app's distributions have nowhere to send theirs; turn cdn_logs off "
            "(paaskit-app:cdnLogs false), or turn edgeLogging on at the rack"
        )
    return str(arn)


def _or_none(value: Any) -> Any:
    return value or None


@dataclass
class AppEdge:
    """The edge of one App: its claims, static bucket, and per web service a `Route`."""

    app: App
    routes: dict[str, Route] = field(default_factory=dict)

    def __post_init__(self) -> None:
        app = self.app
        self.rack = app.rack
        self.edge = app.rack.edge
        self.name = app.component_name
        self.web_services = [s for s in app.manifest.services.values() if s.web]
        self._zone_ids: dict[str, pulumi.Output[str]] = {}
        self.claims = self._claims()
        self.bucket: aws.s3.Bucket | None = None
        if any(s.static is not None for s in self.web_services):
            self.bucket = self._bucket()

    # --- the app's own ---------------------------------------------------------------

    def _default_host(self, service: Service) -> pulumi.Output[str]:
        """`<app>-<service>.<rack domain>`, or "" when the rack has no domain."""
        label = f"{self.name}-{service.name}"
        return pulumi.Output.from_input(self.rack.domain).apply(
            lambda domain: f"{label}.{domain}" if domain else ""
        )

    def _claims(self) -> aws.lambda_.Invocation:
        """The app's name, hosts and rule priorities, claimed from the rack's registry."""
        hosts: list[pulumi.Output[Any]] = []
        routes: dict[str, int] = {}
        for service in self.web_services:
            names: list[Input] = [*service.domain] or [self._default_host(service)]
            hosts += [pulumi.Output.all(host, service.name) for host in names]
            routes[service.name] = route_priority(self._rule_name(service))
        owner = f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"
        event = pulumi.Output.all(
            self.rack.name, pulumi.Output.all(*hosts), self.edge.max_rules
        ).apply(
            lambda v: json.dumps(
                {
                    "rack": v[0],
                    "app": self.name,
                    "owner": owner,
                    "hosts": {h: s for h, s in v[1] if h},
                    "routes": routes,
                    **({"maxRules": int(v[2])} if v[2] else {}),
                },
                sort_keys=True,
            )
        )
        return self.app.child(
            "claims",
            aws.lambda_.Invocation,
            "claims",
            function_name=self.edge.registry_function_name,
            input=event,
            # Invoked on create, update and delete: destroying the app releases its claims.
            lifecycle_scope="CRUD",
            terraform_key="lifecycle",
        )

    def _bucket(self) -> aws.s3.Bucket:
        throwaway = self.app.args.throwaway
        bucket, guards = private_bucket(
            self.app, "static_bucket", "static", throwaway=throwaway, versioned=True
        )
        expire_objects(
            self.app,
            "static_bucket",
            "static",
            bucket,
            rule_id="expire-old-versions",
            days=self.edge.static_version_days,  # type: ignore[arg-type]
            noncurrent=True,
            throwaway=throwaway,
            depends_on=guards[-1:],
        )
        self._bucket_guards = guards
        return bucket

    def finish(self) -> None:
        """The static bucket's policy, once every distribution that reads it exists."""
        if self.bucket is None:
            return
        bucket = self.bucket
        readers = [r.distribution.arn for name, r in sorted(self.routes.items())]
        self.app.child(
            "static_bucket_policy",
            aws.s3.BucketPolicy,
            "static-policy",
            bucket=bucket.id,
            policy=pulumi.Output.all(bucket.arn, *readers).apply(
                lambda v: site_bucket_policy(v[0], v[1:])
            ),
            # A kept bucket keeps its policy too: TLS only, the app's distributions alone read.
            opts=pulumi.ResourceOptions(
                depends_on=self._bucket_guards, retain_on_delete=not self.app.args.throwaway
            ),
        )

    @property
    def urls(self) -> dict[str, pulumi.Output[str]]:
        return {name: route.url for name, route in self.routes.items()}

    @property
    def dns(self) -> dict[str, pulumi.Output[list[dict[str, str]]]]:
        return {name: route.dns for name, route in self.routes.items()}

    # --- per web service -------------------------------------------------------------

    def _rule_name(self, service: Service) -> str:
        # The rule's own name, which its priority is hashed from (unchanged since routes
        # matched hosts, so a rule moving to the internal load balancer keeps its place).
        return f"{self.name}-{service.name}-route"

    def web(self, service: Service) -> Route:
        """The target group, distribution, certificate, route and static files of a web service."""
        target_group = self._target_group(service)
        distribution, url, dns = self._distribution(service)
        rule = self._listener_rule(service, target_group, distribution)
        if service.static is not None:
            self._static(service)
        route = Route(target_group, rule, distribution, url, dns)
        self.routes[service.name] = route
        return route

    def _target_group(self, service: Service) -> aws.lb.TargetGroup:
        assert service.port is not None
        health = service.health
        protocol = "HTTPS" if service.port.scheme == "https" else "HTTP"
        return self.app.child(
            "target_group",
            aws.lb.TargetGroup,
            f"{service.name}-tg",
            at=service.name,
            tags={SERVICE_TAG: service.name},
            port=service.port.port,
            protocol=protocol,
            target_type="instance",
            vpc_id=self.rack.vpc_id,
            deregistration_delay=service.drain,
            health_check={
                "enabled": True,
                "path": health.path,
                "port": "traffic-port",
                "protocol": protocol,
                "interval": health.interval,
                "timeout": min(health.timeout, health.interval - 1),
                "healthy_threshold": 2,
                "unhealthy_threshold": 3,
                "matcher": "200-399",
            },
            stickiness={"type": "lb_cookie", "enabled": service.sticky, "cookie_duration": 86400},
        )

    def _listener_rule(
        self,
        service: Service,
        target_group: aws.lb.TargetGroup,
        distribution: aws.cloudfront.Distribution,
    ) -> aws.lb.ListenerRule:
        edge = self.edge
        header = edge.origin_header_name
        if isinstance(header, str):
            # One read from another stack's outputs is checked where it was set: in that rack.
            check_origin_header_name(header)
        name = self._rule_name(service)
        wanted = route_priority(name)
        priority = self.claims.result.apply(
            lambda result, s=service.name, w=wanted: granted_priority(result, s, w)  # type: ignore[misc]
        )
        return self.app.child(
            "listener_rule",
            aws.lb.ListenerRule,
            f"{service.name}-route",
            at=service.name,
            tags={SERVICE_TAG: service.name},
            # A rule moving from a legacy public load balancer to the internal one takes
            # its target group along, which may sit behind one load balancer at a time:
            # the old rule goes first. It moves once the distribution serves.
            opts=pulumi.ResourceOptions(delete_before_replace=True, depends_on=[distribution]),
            **listener_rule_args(
                name,
                edge.listener_arn,
                target_group.arn,
                route=f"{self.name}.{service.name}",
                origin_secret=edge.origin_secret,
                origin_header_name=header,  # type: ignore[arg-type]
                priority=priority,
            ),
        )

    def _zone_of(self, domain: str) -> str | None:
        """The Route 53 zone paaskit may write `domain`'s records in: the app's, or the rack's
        when it is known now (a rack in this program); the longest that holds it."""
        zones = list(self.app.args.zones)
        if isinstance(self.edge.zone_name, str) and self.edge.zone_name:
            zones.append(self.edge.zone_name)
        holding = [z for z in zones if within_zone(domain, z)]
        return max(holding, key=len) if holding else None

    def _zone_id(self, zone: str) -> pulumi.Output[str]:
        if zone not in self._zone_ids:
            found = public_zone_id(self.app, None, zone)
            assert found is not None
            self._zone_ids[zone] = found
        return self._zone_ids[zone]

    def _distribution(
        self, service: Service
    ) -> tuple[
        aws.cloudfront.Distribution, pulumi.Output[str], pulumi.Output[list[dict[str, str]]]
    ]:
        edge = self.edge
        domains = list(service.domain)
        aliases: Any
        certificate: Any
        issued: pulumi.Output[bool] | bool
        validation_records: pulumi.Output[list[dict[str, str]]] = pulumi.Output.from_input([])
        records_needed = False
        one_step = bool(domains) and all(self._zone_of(d) for d in domains)
        if not domains:
            host = self._default_host(service)
            aliases = host.apply(lambda h: [h] if h else None)
            certificate = pulumi.Output.all(host, edge.certificate_arn).apply(
                lambda v: viewer_certificate(v[1] if v[0] else None)
            )
            issued = True
        else:
            cert = self.app.child(
                "certificate",
                aws.acm.Certificate,
                f"{service.name}-cert",
                at=service.name,
                tags={SERVICE_TAG: service.name},
                domain_name=domains[0],
                subject_alternative_names=domains[1:] or None,
                validation_method="DNS",
                key_algorithm="RSA_2048",
                region=_US_EAST_1,
                # Claimed first: a host another app holds fails here, naming that app.
                opts=pulumi.ResourceOptions(depends_on=[self.claims]),
            )
            if one_step:
                arn = self._validate(service, cert, domains)
                aliases, certificate, issued = domains, viewer_certificate(arn), True
            else:
                issued = self._issued(service, cert)
                aliases = issued.apply(lambda ok: domains if ok else None)
                certificate = pulumi.Output.all(issued, cert.arn).apply(
                    lambda v: viewer_certificate(v[1] if v[0] else None)
                )
                validation_records = cert.domain_validation_options.apply(_validation_records)
                records_needed = True

        static = None
        if service.static is not None and self.bucket is not None:
            static = StaticFiles(
                path_pattern=f"{service.static.prefix.rstrip('/')}/*",
                bucket_domain=self.bucket.bucket_regional_domain_name,
                origin_path=f"/{service.name}",
                origin_access_control_id=edge.origin_access_control_id,
            )
        secret_headers: list[tuple[str, Input]] = [(ROUTE_HEADER, f"{self.name}.{service.name}")]
        if edge.origin_secret is not None:
            secret_headers.append(
                (edge.origin_header_name, pulumi.Output.secret(edge.origin_secret))  # type: ignore[arg-type]
            )
        distribution = self.app.child(
            "distribution",
            aws.cloudfront.Distribution,
            f"{service.name}-cdn",
            at=service.name,
            tags={SERVICE_TAG: service.name},
            opts=pulumi.ResourceOptions(depends_on=[self.claims]),
            **site_distribution_args(
                comment=pulumi.Output.concat(  # type: ignore[arg-type]
                    "paaskit ",
                    pulumi.Output.from_input(self.rack.name),
                    "/",
                    self.name,
                    "/",
                    service.name,
                ),
                vpc_origin_id=edge.vpc_origin_id,
                origin_domain=edge.origin_domain_name,
                origin_headers=secret_headers,
                origin_read_timeout=self._origin_read_timeout(service),
                response_headers_policy_id=edge.response_headers_policy_id,
                static=static,
                aliases=aliases,
                certificate=certificate,
                price_class=edge.price_class,
                web_acl_id=pulumi.Output.from_input(edge.web_acl_id).apply(_or_none),
                app_cached=self.app.app_static_paths(service),
            ),
        )
        if self.app.args.cdn_logs:
            destination = edge.log_destination_arn
            if isinstance(destination, str):
                _require_destination(destination)
            log_delivery(
                self.app,
                f"{service.name}-cdn",
                distribution,
                pulumi.Output.from_input(destination).apply(_require_destination),
                at=service.name,
                tags={SERVICE_TAG: service.name},
            )
        if one_step:
            self._alias_records(service, distribution, domains)
        url = self._url(distribution, domains, issued, service)
        if records_needed:
            dns = pulumi.Output.all(validation_records, distribution.domain_name).apply(
                lambda v: [*v[0], *(_cname(d, v[1]) for d in domains)]
            )
        else:
            dns = pulumi.Output.from_input([])
        return distribution, url, dns

    def _origin_read_timeout(self, service: Service) -> pulumi.Input[int]:
        """How long the distribution waits for the service: its `timeout`, else the rack's.

        A `timeout` is kept within what can happen: CloudFront waits at most 120 s for a
        VPC origin, and the rack's load balancer cuts a request after its idle timeout
        without traffic, so waiting longer than either only hides where a request ends.
        Each cut, and a wait beyond CloudFront's default quota of 60 s, is a warning.
        """
        if service.timeout is None:
            return self.edge.origin_read_timeout
        wanted = service.timeout
        key = f"services.{service.name}.timeout"
        app = self.app

        def bounded(idle: Any) -> int:
            limit = int(idle) if idle not in (None, "") else _AWS_IDLE_TIMEOUT
            value = min(wanted, MAX_VPC_ORIGIN_READ_TIMEOUT, limit)
            if wanted > MAX_VPC_ORIGIN_READ_TIMEOUT:
                pulumi.log.warn(
                    f"{key}: {wanted} s, but CloudFront waits at most "
                    f"{MAX_VPC_ORIGIN_READ_TIMEOUT} s for a VPC origin: the service gets {value} s",
                    resource=app,
                )
            if wanted > limit and limit < MAX_VPC_ORIGIN_READ_TIMEOUT:
                pulumi.log.warn(
                    f"{key}: {wanted} s, but the rack's load balancer cuts a request after "
                    f"{limit} s without traffic (paaskit-rack:lbIdleTimeout): the service gets "
                    f"{value} s; raise lbIdleTimeout to {min(wanted, MAX_VPC_ORIGIN_READ_TIMEOUT)} "
                    "for more",
                    resource=app,
                )
            if value > _CLOUDFRONT_DEFAULT_TIMEOUT:
                pulumi.log.warn(
                    f"{key}: {value} s is above CloudFront's default quota of "
                    f"{_CLOUDFRONT_DEFAULT_TIMEOUT} s (Response timeout per origin): request an "
                    "increase in Service Quotas before deploying, or CloudFront refuses the "
                    "distribution",
                    resource=app,
                )
            return value

        return pulumi.Output.from_input(self.edge.idle_timeout).apply(bounded)

    def _url(
        self,
        distribution: aws.cloudfront.Distribution,
        domains: Sequence[str],
        issued: pulumi.Output[bool] | bool,
        service: Service,
    ) -> pulumi.Output[str]:
        named = [d for d in domains if not d.startswith("*.")]
        if named:
            first = named[0]
            return pulumi.Output.all(issued, distribution.domain_name).apply(
                lambda v: f"https://{first if v[0] else v[1]}"
            )
        if domains:  # wildcards only: no one name to show
            return distribution.domain_name.apply(lambda d: f"https://{d}")
        return pulumi.Output.all(self._default_host(service), distribution.domain_name).apply(
            lambda v: f"https://{v[0] or v[1]}"
        )

    def _validate(
        self, service: Service, cert: aws.acm.Certificate, domains: Sequence[str]
    ) -> pulumi.Output[str]:
        """One step: paaskit writes the validation records and waits for ACM to issue."""
        fqdns = []
        # One record per name without its wildcard: ACM validates `x` and `*.x` alike.
        bases: dict[str, str] = {}
        for domain in domains:
            bases.setdefault(domain.removeprefix("*."), domain)
        for base, domain in bases.items():
            zone = self._zone_of(domain)
            assert zone is not None
            record = dns_validation_record(
                self.app,
                f"{service.name}-cert-validation-{base.replace('.', '-')}",
                cert,
                domain,
                self._zone_id(zone),
            )
            fqdns.append(record.fqdn)
        validation = self.app.child(
            "certificate_validation",
            aws.acm.CertificateValidation,
            f"{service.name}-cert-validation",
            at=service.name,
            certificate_arn=cert.arn,
            validation_record_fqdns=fqdns,
            region=_US_EAST_1,
        )
        return validation.certificate_arn

    def _issued(self, service: Service, cert: aws.acm.Certificate) -> pulumi.Output[bool]:
        """Two steps: whether ACM has issued the certificate, read live on every run."""
        status = self.app.child(
            "certificate_status",
            aws.acm.Certificate,
            f"{service.name}-cert-status",
            at=service.name,
            read=cert.arn,
            region=_US_EAST_1,
            opts=pulumi.ResourceOptions(depends_on=[cert]),
        )
        key = f"services.{service.name}.domain"

        def check(value: Any) -> bool:
            if value in FAILED_CERTIFICATE:
                pulumi.log.warn(
                    f"{key}: ACM's certificate is {value}; it will not be issued by itself. "
                    "Create the DNS records of the `dns` output (within 72 hours of the "
                    f"request), then replace it: pulumi up --replace <urn of {self.name}-"
                    f"{service.name}-cert>",
                    resource=self.app,
                )
            return bool(value == "ISSUED")

        return status.status.apply(check)

    def _alias_records(
        self, service: Service, distribution: aws.cloudfront.Distribution, domains: Sequence[str]
    ) -> None:
        for domain in domains:
            zone = self._zone_of(domain)
            assert zone is not None
            alias_records(
                self.app,
                hosts=[(domain, domain.replace("*", "wildcard").replace(".", "-"))],
                zone_id=self._zone_id(zone),
                target=(distribution.domain_name, distribution.hosted_zone_id),
                evaluate_target_health=False,  # CloudFront aliases cannot
                prefix=f"{service.name}-",
            )

    def _static(self, service: Service) -> None:
        assert service.static is not None
        assert self.bucket is not None
        root = self.app.manifest.root or Path.cwd()
        folder = root / service.static.path
        for asset in find_assets(folder, f"{service.name}{service.static.prefix}"):
            # Fingerprinted files stay when a deploy drops them: pages still open ask for them.
            keep = asset.immutable and not self.app.args.throwaway
            self.app.child(
                "static_asset",
                aws.s3.BucketObjectv2,
                f"{service.name}-static-{asset.slug}",
                at=f"{service.name}/{asset.key}",
                opts=pulumi.ResourceOptions(retain_on_delete=keep),
                **asset_object_args(self.bucket.bucket, asset),
            )


def _validation_records(options: Any) -> list[dict[str, str]]:
    seen: dict[str, dict[str, str]] = {}
    for option in options or ():
        name = str(option.resource_record_name)
        seen.setdefault(
            name,
            DnsRecord(
                name=name,
                type=str(option.resource_record_type),
                value=str(option.resource_record_value),
                why=f"ACM validates the certificate for {option.domain_name} (keep it: renewals use it)",
            ).to_json(),
        )
    return list(seen.values())


def _cname(domain: str, target: str) -> dict[str, str]:
    apex_note = " (at a zone's apex, where CNAME is not allowed, use your provider's ALIAS/ANAME)"
    return DnsRecord(
        name=domain,
        type="CNAME",
        value=target,
        why=f"viewers of {domain} reach the service's distribution" + apex_note,
    ).to_json()
