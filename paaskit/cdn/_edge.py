"""The Edge component: what every app's CloudFront distributions share on a rack.

A rack's load balancer is internal; CloudFront reaches it through one VPC
origin, which every distribution of every app (in any stack) names by id.
Beside it: one origin access control and one response headers policy (an
account has a quota of each), the log destination that every distribution
delivers its standard logs (v2) to, the rack domain's certificate with the
distribution that holds the names no app holds, and the claims registry that
keeps two apps from taking one host or one listener-rule priority.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import pulumi
import pulumi_aws as aws

from paaskit._aws import (
    alias_records,
    assume_role_policy,
    dns_validation_record,
    lambda_code,
    public_zone_id,
)
from paaskit._component import Child, Component, each, one
from paaskit.tags import COMPONENT_TAG, RACK_TAG

from ._policies import registry_policy
from ._settings import EdgeArgs
from ._site import security_headers_config, site_distribution_args, viewer_certificate

__all__ = [
    "REGISTRY_RUNTIME",
    "Edge",
    "log_delivery",
]

REGISTRY_RUNTIME = "python3.13"
"""The claims registry's Lambda runtime (the release runner's and spot handler's too)."""

_REGISTRY_PACKAGE = Path(__file__).resolve().parent.parent / "registry"
_US_EAST_1 = "us-east-1"
_NAME = re.compile(r"[^A-Za-z0-9-]+")


def _vpc_origin_name(stack: str, component: str) -> str:
    """A name for the VPC origin, unique per stack and component, at most 64 characters."""
    name = _NAME.sub("-", f"paaskit-{stack}-{component}").strip("-")
    if len(name) > 64:
        name = name[:56].rstrip("-") + "-" + hashlib.sha256(name.encode()).hexdigest()[:7]
    return name


def log_delivery(
    owner: Component,
    role: str,
    distribution: aws.cloudfront.Distribution,
    destination_arn: pulumi.Input[str],
    *,
    source_key: str = "log_source",
    delivery_key: str = "log_delivery",
    at: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> aws.cloudwatch.LogDelivery:
    """A distribution's standard logs (v2) into the rack's destination: children `source_key`
    (`<role>-log-source`) and `delivery_key` (`<role>-log-delivery`), both in us-east-1,
    where CloudFront's log delivery is configured.

    A distribution has one delivery source (a second is refused); a destination
    takes deliveries from any number of sources, in any stack of the account.
    """
    source = owner.child(
        source_key,
        aws.cloudwatch.LogDeliverySource,
        f"{role}-log-source",
        at=at,
        tags=dict(tags or {}),
        log_type="ACCESS_LOGS",
        resource_arn=distribution.arn,
        region=_US_EAST_1,
    )
    return owner.child(
        delivery_key,
        aws.cloudwatch.LogDelivery,
        f"{role}-log-delivery",
        at=at,
        tags=dict(tags or {}),
        delivery_source_name=source.name,
        delivery_destination_arn=destination_arn,
        region=_US_EAST_1,
    )


class Edge(Component):
    """What a rack's CloudFront distributions share: the VPC origin, policies, logs, domain, claims.

    Creates: the VPC origin to the load balancer (HTTP inside AWS's network,
    its tags never changed after creation: CloudFront refuses any update while
    distributions use it); an origin access control for the apps' static
    buckets; the response headers policy every distribution uses; with
    `logging`, a CloudWatch log group in us-east-1 with retention and the
    delivery destination every distribution's standard logs go to; with a
    domain, its certificate (`domain` and `*.domain`, in us-east-1, validated
    by DNS) and, with `serve_domain`, a distribution holding those names (the
    ones no app holds answer 404) with A/AAAA alias records; and the claims
    registry (a Lambda function with its role and log group).

    Cost: no fixed price (distributions, the VPC origin and the registry are
    billed per use; logs per GB ingested and stored).
    """

    TYPE = "paaskit:cdn:Edge"
    CHILDREN: ClassVar[Mapping[str, Child]] = {
        # Tagged with the contract tags only: they must never change (see `_vpc_origin`).
        "vpc_origin": one(aws.cloudfront.VpcOrigin, tagged=False),
        "origin_access_control": one(aws.cloudfront.OriginAccessControl),
        "response_headers_policy": one(aws.cloudfront.ResponseHeadersPolicy),
        "log_group": one(aws.cloudwatch.LogGroup),
        "log_destination": one(aws.cloudwatch.LogDeliveryDestination),
        "certificate": one(aws.acm.Certificate),
        "validation_record": one(aws.route53.Record),
        "certificate_validation": one(aws.acm.CertificateValidation),
        "distribution": one(aws.cloudfront.Distribution),
        "log_source": one(aws.cloudwatch.LogDeliverySource),
        "log_delivery": one(aws.cloudwatch.LogDelivery),
        "dns_record": each(aws.route53.Record),
        "registry_role": one(aws.iam.Role),
        "registry_log_group": one(aws.cloudwatch.LogGroup),
        "registry_role_policy": one(aws.iam.RolePolicy),
        "registry_function": one(aws.lambda_.Function),
    }
    """Every child by key (the keys of `nodes` and `transform`)."""

    def __init__(
        self, name: str, args: EdgeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args, opts)
        self.args = args
        invoke = pulumi.InvokeOutputOptions(parent=self)
        self._account = aws.get_caller_identity_output(opts=invoke).account_id
        self._region = aws.get_region_output(opts=invoke).region
        self._partition = aws.get_partition_output(opts=invoke).partition

        self.vpc_origin = self._vpc_origin()
        self.origin_access_control = self.child(
            "origin_access_control",
            aws.cloudfront.OriginAccessControl,
            "oac",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
            description="paaskit: the apps' distributions read their static buckets",
        )
        self.response_headers_policy = self.child(
            "response_headers_policy",
            aws.cloudfront.ResponseHeadersPolicy,
            "security-headers",
            comment="paaskit: security headers for the apps and their static files",
            security_headers_config=security_headers_config(
                hsts_max_age=args.hsts_max_age,
                hsts_include_subdomains=args.hsts_include_subdomains,
                hsts_preload=args.hsts_preload,
                frame_options=args.frame_options,
            ),
        )
        self.log_destination: aws.cloudwatch.LogDeliveryDestination | None = None
        if args.logging:
            self.log_destination = self._log_destination()
        self._zone = public_zone_id(self, args.zone_id, args.zone_name)
        self.certificate: aws.acm.Certificate | None = None
        self.certificate_arn = self._certificate()
        self.distribution: aws.cloudfront.Distribution | None = None
        self.dns_records: list[aws.route53.Record] = []
        if args.domain is not None and args.serve_domain:
            self.distribution = self._domain_distribution()
            self.dns_records = self._dns_records()
        self.registry = self._registry()

        self.vpc_origin_id: pulumi.Output[str] = self.vpc_origin.id
        self.origin_domain_name: pulumi.Output[str] = pulumi.Output.from_input(
            args.load_balancer_dns_name
        )
        self.origin_access_control_id: pulumi.Output[str] = self.origin_access_control.id
        self.response_headers_policy_id: pulumi.Output[str] = self.response_headers_policy.id
        self.log_destination_arn: pulumi.Output[str] | None = (
            self.log_destination.arn if self.log_destination is not None else None
        )
        self.zone_id: pulumi.Output[str] | None = self._zone
        self.domain_name: pulumi.Output[str] | None = (
            self.distribution.domain_name if self.distribution is not None else None
        )
        """The distribution `*.domain` points at, or None without one."""
        self.registry_function_name: pulumi.Output[str] = self.registry.name
        outputs: dict[str, Any] = {
            "vpc_origin_id": self.vpc_origin_id,
            "origin_access_control_id": self.origin_access_control_id,
            "response_headers_policy_id": self.response_headers_policy_id,
            "registry_function_name": self.registry_function_name,
        }
        for key in ("log_destination_arn", "certificate_arn", "domain_name"):
            if getattr(self, key) is not None:
                outputs[key] = getattr(self, key)
        self.register_outputs(outputs)

    def _retain(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(retain_on_delete=not self.args.throwaway)

    # --- children, in the order they are made ----------------------------------

    def _vpc_origin(self) -> aws.cloudfront.VpcOrigin:
        # CloudFront refuses any update of a VPC origin that distributions use, tags
        # included: it gets the contract tags only, which never change, and later
        # changes of its tags are ignored.
        stable = {
            key: value for key, value in self.tags.items() if key in (RACK_TAG, COMPONENT_TAG)
        }
        return self.child(
            "vpc_origin",
            aws.cloudfront.VpcOrigin,
            "origin",
            vpc_origin_endpoint_config={
                "name": _vpc_origin_name(pulumi.get_stack(), self.component_name),
                "arn": self.args.load_balancer_arn,
                "http_port": 80,
                "https_port": 443,
                # Inside AWS's network, from CloudFront to a load balancer no one else
                # reaches (see policy rule PK-CF-007).
                "origin_protocol_policy": "http-only",
                "origin_ssl_protocols": {"items": ["TLSv1.2"], "quantity": 1},
            },
            tags=stable,
            opts=pulumi.ResourceOptions(ignore_changes=["tags"]),
        )

    def _log_destination(self) -> aws.cloudwatch.LogDeliveryDestination:
        args = self.args
        # `/aws/vendedlogs/` keeps CloudWatch's resource policy for log delivery short.
        group = self.child(
            "log_group",
            aws.cloudwatch.LogGroup,
            "cdn-logs",
            name_prefix="/aws/vendedlogs/paaskit-cloudfront-",
            retention_in_days=args.log_retention_days,
            region=_US_EAST_1,
            opts=self._retain(),
        )
        return self.child(
            "log_destination",
            aws.cloudwatch.LogDeliveryDestination,
            "cdn-logs-destination",
            output_format="json",
            delivery_destination_configuration={"destination_resource_arn": group.arn},
            region=_US_EAST_1,
        )

    def _certificate(self) -> pulumi.Output[str] | None:
        args = self.args
        if args.domain is None:
            return None
        if args.certificate_arn is not None:
            return pulumi.Output.from_input(args.certificate_arn)
        domain = args.domain
        certificate = self.child(
            "certificate",
            aws.acm.Certificate,
            "cert",
            domain_name=domain,
            subject_alternative_names=[f"*.{domain}"],
            validation_method="DNS",
            key_algorithm="RSA_2048",
            region=_US_EAST_1,
            # Apps' distributions use it until they next deploy: a new domain must not
            # fail the rack's update on a certificate still in use.
            opts=self._retain(),
        )
        self.certificate = certificate
        # ACM validates `domain` and `*.domain` with one and the same record.
        record = dns_validation_record(
            self, "cert-validation-record", certificate, domain, self._zone
        )
        validation = self.child(
            "certificate_validation",
            aws.acm.CertificateValidation,
            "cert-validation",
            certificate_arn=certificate.arn,
            validation_record_fqdns=[record.fqdn],
            region=_US_EAST_1,
        )
        return validation.certificate_arn

    def _domain_distribution(self) -> aws.cloudfront.Distribution:
        args = self.args
        assert args.domain is not None
        distribution = self.child(
            "distribution",
            aws.cloudfront.Distribution,
            "distribution",
            # No route header: the load balancer answers its default, a 404.
            **site_distribution_args(
                comment=f"paaskit {args.rack_name}: names of {args.domain} no app holds",
                vpc_origin_id=self.vpc_origin.id,
                origin_domain=args.load_balancer_dns_name,
                origin_read_timeout=args.origin_read_timeout,
                response_headers_policy_id=self.response_headers_policy.id,
                aliases=[args.domain, f"*.{args.domain}"],
                certificate=viewer_certificate(self.certificate_arn),
                price_class=args.price_class,
                web_acl_id=args.web_acl_id,
            ),
            opts=pulumi.ResourceOptions(depends_on=list(args.after)),
        )
        if self.log_destination is not None:
            log_delivery(self, "distribution", distribution, self.log_destination.arn)
        return distribution

    def _dns_records(self) -> list[aws.route53.Record]:
        domain = self.args.domain
        if self._zone is None or self.distribution is None or domain is None:
            return []
        return alias_records(
            self,
            hosts=((domain, "apex"), (f"*.{domain}", "wildcard")),
            zone_id=self._zone,
            target=(self.distribution.domain_name, self.distribution.hosted_zone_id),
            evaluate_target_health=False,  # CloudFront aliases cannot
            # A rack moving off its legacy distribution takes these names over.
            allow_overwrite=True,
        )

    def _registry(self) -> aws.lambda_.Function:
        rack = self.args.rack_name
        role = self.child(
            "registry_role",
            aws.iam.Role,
            "registry-role",
            assume_role_policy=self._account.apply(
                lambda account: assume_role_policy(
                    "lambda.amazonaws.com", source_account=account, sort_keys=True
                )
            ),
            description=f"paaskit rack {rack}: the claims registry keeps its claims in SSM",
        )
        log_group = self.child(
            "registry_log_group",
            aws.cloudwatch.LogGroup,
            "registry-logs",
            name=f"/paaskit/{rack}/registry",
            retention_in_days=30,
        )
        policy = self.child(
            "registry_role_policy",
            aws.iam.RolePolicy,
            "registry-policy",
            role=role.id,
            policy=pulumi.Output.all(
                self._partition, self._region, self._account, log_group.arn
            ).apply(lambda v: registry_policy(v[0], v[1], v[2], rack, v[3])),
        )
        return self.child(
            "registry_function",
            aws.lambda_.Function,
            "registry",
            runtime=REGISTRY_RUNTIME,
            architectures=["arm64"],
            handler="paaskit.registry.handler.handler",
            code=lambda_code(_REGISTRY_PACKAGE),
            role=role.arn,
            timeout=60,
            memory_size=128,
            description=f"paaskit rack {rack}: claims of app names, hosts and rule priorities",
            logging_config={"log_format": "JSON", "log_group": log_group.name},
            opts=pulumi.ResourceOptions(depends_on=[log_group, policy]),
        )
