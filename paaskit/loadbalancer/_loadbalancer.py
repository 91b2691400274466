"""The LoadBalancer component: its security group, log bucket, load balancer, certificate and listeners."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

import pulumi
import pulumi_aws as aws

from paaskit._aws import (
    alias_records,
    dns_validation_record,
    expire_objects,
    private_bucket,
    public_zone_id,
)
from paaskit._component import Child, Component, each, named, one
from paaskit.config import ConfigError, Input

from ._policies import access_log_policy
from ._routes import RuleBook, app_host, listener_rule_args
from ._settings import CLOUDFRONT_PREFIX_LIST, NODE_PORTS, LoadBalancerArgs

__all__ = [
    "LoadBalancer",
]

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


class LoadBalancer(Component):
    """An Application Load Balancer, internal or internet-facing, with its listeners and routes.

    Creates: a security group (HTTP/HTTPS from CloudFront's prefix list, or
    from the internet; egress only to the nodes) and the nodes' matching
    ingress rule; with `cloudfront_only` and no given secret, the SSM parameter
    holding the origin secret; the access-log bucket (ownership enforced,
    public access blocked, SSE-S3, lifecycle, policy for ELB log delivery and
    TLS only); the load balancer, `internal` in the private subnets (a rack's:
    CloudFront reaches it through a VPC origin) or in the public subnets; with
    a domain and a zone, an ACM certificate for `domain` and `*.domain` with its
    DNS validation record; listeners (HTTPS 443 with a fixed 404 default and
    HTTP 80 redirecting to it, or HTTP 80 alone without a domain); alias
    records when viewers reach it directly; and a listener rule per
    `add_route`. Deletion protection and Pulumi's `protect` are on unless
    `throwaway` (or `deletion_protection` is off): a `pulumi destroy` stops
    before deleting anything.
    """

    TYPE = "paaskit:loadbalancer:LoadBalancer"
    CHILDREN: ClassVar[Mapping[str, Child]] = {
        "origin_secret": one(aws.ssm.Parameter),
        "security_group": one(aws.ec2.SecurityGroup),
        "security_group_ingress": each(aws.vpc.SecurityGroupIngressRule),
        "security_group_egress": one(aws.vpc.SecurityGroupEgressRule),
        "node_security_group_ingress": one(aws.vpc.SecurityGroupIngressRule),
        "log_bucket": one(aws.s3.Bucket),
        "log_bucket_ownership": one(aws.s3.BucketOwnershipControls),
        "log_bucket_public_access": one(aws.s3.BucketPublicAccessBlock),
        "log_bucket_encryption": one(aws.s3.BucketServerSideEncryptionConfiguration),
        "log_bucket_lifecycle": one(aws.s3.BucketLifecycleConfiguration),
        "log_bucket_policy": one(aws.s3.BucketPolicy),
        "load_balancer": one(aws.lb.LoadBalancer),
        "certificate": one(aws.acm.Certificate),
        "validation_record": one(aws.route53.Record),
        "certificate_validation": one(aws.acm.CertificateValidation),
        "http_listener": one(aws.lb.Listener),
        "https_listener": one(aws.lb.Listener),
        "dns_record": each(aws.route53.Record),
        "listener_rule": named(aws.lb.ListenerRule),
    }
    """Every child by key (the keys of `nodes` and `transform`); routes by name."""

    def __init__(
        self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        subnets_key = "private_subnet_ids" if args.internal else "public_subnet_ids"
        for key in ("vpc_id", subnets_key):
            if getattr(args, key) is None:
                raise ConfigError(
                    f"{key}: required: the load balancer's VPC and subnets "
                    f"(a Network's vpc_id and {subnets_key})"
                )
        super().__init__(name, args, opts)
        self.args = args
        self.protected = (
            not args.throwaway if args.deletion_protection is None else args.deletion_protection
        )
        """Deletion protection and Pulumi's `protect` on the load balancer."""
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
        route: str | None = None,
        priority: int | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> aws.lb.ListenerRule:
        """Forward requests for `hosts`, `paths` and/or the route header value `route` to a target group.

        Makes the listener rule `<lb>-route-<name>` on the app listener, with a
        priority from `route_priority(name, ...)` (or `priority`), requiring the
        secret origin header when the load balancer admits only CloudFront.
        Errors (before deploy) on a bad pattern, more than 5 condition values,
        a priority taken by another route, or more rules than `max_rules`.
        """
        kwargs = listener_rule_args(
            name,
            self.app_listener.arn,
            target_group_arn,
            hosts=hosts,
            paths=paths,
            origin_secret=self.origin_secret,
            origin_header_name=self.origin_header_name,
            route=route,
            priority=priority,
            rules=self.rules,
        )
        return self.child(
            "listener_rule", aws.lb.ListenerRule, f"route-{name}", at=name, opts=opts, **kwargs
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
                "security_group_ingress",
                aws.vpc.SecurityGroupIngressRule,
                f"sg-from-cloudfront-{port}",
                security_group_id=sg.id,
                prefix_list_id=prefix_list.id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                description=(
                    "CloudFront VPC origin (origin-facing addresses) only"
                    if args.internal
                    else "CloudFront origin-facing addresses only"
                ),
            )
        else:
            for port in (80, 443):
                self.child(
                    "security_group_ingress",
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
                        "security_group_ingress",
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
                "security_group_egress",
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
                "node_security_group_ingress",
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
            "log_bucket_policy",
            aws.s3.BucketPolicy,
            "logs-policy",
            bucket=bucket.id,
            policy=pulumi.Output.all(bucket.arn, account, elb_account).apply(
                lambda v: access_log_policy(v[0], v[1], _LOG_PREFIX, v[2])
            ),
            # A kept bucket keeps its policy too: TLS only, and ELB alone may write.
            opts=pulumi.ResourceOptions(depends_on=guards, retain_on_delete=not throwaway),
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
            internal=args.internal,
            subnets=args.private_subnet_ids if args.internal else args.public_subnet_ids,
            security_groups=[self.security_group.id],
            ip_address_type="dualstack" if args.ipv6 else "ipv4",
            drop_invalid_header_fields=True,
            desync_mitigation_mode=args.desync_mitigation_mode,
            enable_deletion_protection=self.protected,
            enable_http2=True,
            idle_timeout=args.idle_timeout,
            preserve_host_header=True,
            xff_header_processing_mode="append",
            enable_waf_fail_open=False,
            access_logs=access_logs,
            # Replacing or deleting it takes every app offline: `pulumi destroy` stops here.
            opts=pulumi.ResourceOptions(depends_on=depends, protect=self.protected),
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
                "http_listener",
                aws.lb.Listener,
                "http",
                load_balancer_arn=self.alb.arn,
                port=80,
                protocol="HTTP",
                default_actions=[_NOT_FOUND],
            )
            return http, None
        http = self.child(
            "http_listener",
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
            "https_listener",
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
        return alias_records(
            self,
            hosts=((args.domain, "apex"), (f"*.{args.domain}", "wildcard")),
            zone_id=zone_id,
            target=(self.alb.dns_name, self.alb.zone_id),
            evaluate_target_health=True,
            kinds=("A", "AAAA") if args.ipv6 else ("A",),
        )


_NOT_FOUND: dict[str, Any] = {
    "type": "fixed-response",
    "fixed_response": {
        "content_type": "text/plain",
        "message_body": "Not found",
        "status_code": "404",
    },
}
