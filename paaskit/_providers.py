"""The parts of pulumi_aws paaskit uses, loaded once, without pulumi_aws's own import-time warnings.

Importing a service package of pulumi_aws (`pulumi_aws.s3`, `.ec2`, `.lambda_`)
imports every module in it, and the modules of resources AWS has deprecated
(`BucketV2`, `BucketAclV2`, ...) each raise a DeprecationWarning as they are
imported: 26 of them for the packages paaskit uses, though paaskit creates none
of those resources. A user whose tests run with `-W error` (or who reads
warnings as errors in CI) would see paaskit fail to import. So the packages are
loaded here, ignoring only DeprecationWarnings raised by pulumi_aws's own
modules while they load; a deprecated resource still warns when a program
creates one (pulumi_aws logs that through Pulumi), and every other warning is
left alone.

Imported first by `paaskit/__init__.py`, so it runs before any component
module touches `pulumi_aws`. Imports nothing of paaskit.
"""

from __future__ import annotations

import importlib
import warnings

__all__ = ["SERVICES"]

SERVICES = (
    "acm",
    "appautoscaling",
    "autoscaling",
    "cloudfront",
    "cloudwatch",
    "ec2",
    "ecr",
    "ecs",
    "efs",
    "elasticache",
    "elb",
    "iam",
    "lambda_",
    "lb",
    "rds",
    "route53",
    "s3",
    "scheduler",
    "secretsmanager",
    "servicediscovery",
    "sqs",
    "ssm",
    "vpc",
)
"""The pulumi_aws service packages paaskit uses (`aws.<service>.`); a test keeps it complete."""


def _load() -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"pulumi_aws\.")
        for service in SERVICES:
            module = importlib.import_module(f"pulumi_aws.{service}")
            # pulumi_aws's packages are lazy: the first attribute read loads one.
            getattr(module, "__all__", None)


_load()
