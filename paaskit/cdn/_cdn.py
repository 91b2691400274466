"""The Cdn component: the static bucket, the distribution in front of it and the apps, domains and logging."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

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
from paaskit.config import ConfigError

from ._assets import asset_object_args, find_assets, is_fingerprinted
from ._policies import log_bucket_policy, static_bucket_policy
from ._settings import CdnArgs, pattern_regex
from ._site import (
    CACHING_DISABLED,
    CACHING_OPTIMIZED,
    ORIGIN_REQUEST_ALL_VIEWER,
    security_headers_config,
)
from ._static_hosts import static_router_code

__all__ = [
    "CACHING_DISABLED",
    "CACHING_OPTIMIZED",
    "ORIGIN_REQUEST_ALL_VIEWER",
    "Cdn",
]

_STATIC_ORIGIN = "static"
_APP_ORIGIN = "app"


_S3_OBJECT_TAG_LIMIT = 10


class Cdn(Component):
    """A CloudFront distribution over a private static bucket and, optionally, the apps.

    Creates: the static bucket (ownership enforced, public access blocked,
    SSE-S3, versioning, lifecycle for old versions) and its policy (read by
    this distribution only, TLS only); an origin access control; a response
    headers policy; with custom domains, an ACM certificate in us-east-1 (the
    stack's provider with `region="us-east-1"`) validated by DNS, and A/AAAA
    alias records; the distribution; with `logging`, a log bucket and a v2 log
    delivery; and an S3 object per file for every `upload_assets`.
    """

    TYPE = "paaskit:cdn:Cdn"
    CHILDREN: ClassVar[Mapping[str, Child]] = {
        "bucket": one(aws.s3.Bucket),
        "bucket_ownership": one(aws.s3.BucketOwnershipControls),
        "bucket_public_access": one(aws.s3.BucketPublicAccessBlock),
        "bucket_encryption": one(aws.s3.BucketServerSideEncryptionConfiguration),
        "bucket_versioning": one(aws.s3.BucketVersioning),
        "bucket_lifecycle": one(aws.s3.BucketLifecycleConfiguration),
        "origin_access_control": one(aws.cloudfront.OriginAccessControl),
        "response_headers_policy": one(aws.cloudfront.ResponseHeadersPolicy),
        "key_value_store": one(aws.cloudfront.KeyValueStore),
        "function": one(aws.cloudfront.Function),
        "provider": one(aws.Provider),
        "certificate": one(aws.acm.Certificate),
        "validation_record": each(aws.route53.Record),
        "certificate_validation": one(aws.acm.CertificateValidation),
        "distribution": one(aws.cloudfront.Distribution),
        "bucket_policy": one(aws.s3.BucketPolicy),
        "dns_record": each(aws.route53.Record),
        "log_bucket": one(aws.s3.Bucket),
        "log_bucket_ownership": one(aws.s3.BucketOwnershipControls),
        "log_bucket_public_access": one(aws.s3.BucketPublicAccessBlock),
        "log_bucket_encryption": one(aws.s3.BucketServerSideEncryptionConfiguration),
        "log_bucket_lifecycle": one(aws.s3.BucketLifecycleConfiguration),
        "log_bucket_policy": one(aws.s3.BucketPolicy),
        "log_delivery_source": one(aws.cloudwatch.LogDeliverySource),
        "log_delivery_destination": one(aws.cloudwatch.LogDeliveryDestination),
        "log_delivery": one(aws.cloudwatch.LogDelivery),
        "asset": named(aws.s3.BucketObjectv2),
    }
    """Every child by key (the keys of `nodes` and `transform`); assets by
    `<upload name>/<object key>`."""

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
            patterns = [pattern_regex(p) for p in self.static_paths]
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
                    at=f"{name}/{asset.key}",
                    opts=options,
                    **asset_object_args(self.bucket.bucket, asset),
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
            security_headers_config=security_headers_config(
                hsts_max_age=args.hsts_max_age,
                hsts_include_subdomains=args.hsts_include_subdomains,
                hsts_preload=args.hsts_preload,
                frame_options=args.frame_options,
            ),
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

    def _us_east_1(self) -> tuple[dict[str, Any], pulumi.ResourceOptions]:
        """(keyword arguments, options) that put a child in us-east-1.

        pulumi-aws v7's per-resource `region`: the stack's own provider, with
        its profile, role and default tags, just another region. A provider
        given in `us_east_1_provider` is used as it is.
        """
        if self._provider is None and self.args.own_us_east_1_provider:
            self._provider = self.child("provider", aws.Provider, "us-east-1", region="us-east-1")
        if self._provider is not None:
            return {}, pulumi.ResourceOptions(provider=self._provider)
        return {"region": "us-east-1"}, pulumi.ResourceOptions()

    def _certificate(self) -> pulumi.Output[str] | None:
        args = self.args
        if not args.domains:
            return None
        if args.certificate_arn is not None:
            return pulumi.Output.from_input(args.certificate_arn)
        region, in_us_east_1 = self._us_east_1()
        certificate = self.child(
            "certificate",
            aws.acm.Certificate,
            "cert",
            domain_name=args.domains[0],
            subject_alternative_names=args.domains[1:] or None,
            validation_method="DNS",
            key_algorithm="RSA_2048",
            opts=in_us_east_1,
            **region,
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
            **region,
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
            # A kept bucket keeps its policy too: TLS only, this distribution alone reads.
            opts=pulumi.ResourceOptions.merge(
                self._retain(), pulumi.ResourceOptions(depends_on=self._bucket_guards)
            ),
        )

    def _dns_records(self) -> list[aws.route53.Record]:
        if self._zone is None:
            return []
        return alias_records(
            self,
            hosts=[(d, d.replace("*", "wildcard").replace(".", "-")) for d in self.args.domains],
            zone_id=self._zone,
            target=(self.distribution.domain_name, self.distribution.hosted_zone_id),
            evaluate_target_health=False,  # CloudFront aliases cannot
        )

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
            "log_bucket_policy",
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
        region, in_us_east_1 = self._us_east_1()
        source = self.child(
            "log_delivery_source",
            aws.cloudwatch.LogDeliverySource,
            "log-source",
            log_type="ACCESS_LOGS",
            resource_arn=self.distribution.arn,
            opts=in_us_east_1,
            **region,
        )
        destination = self.child(
            "log_delivery_destination",
            aws.cloudwatch.LogDeliveryDestination,
            "log-destination",
            output_format="json",
            delivery_destination_configuration={"destination_resource_arn": bucket.arn},
            opts=in_us_east_1,
            **region,
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
            **region,
        )
