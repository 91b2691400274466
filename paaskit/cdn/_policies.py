"""The buckets' policies (read by this distribution only, written by CloudFront's log delivery, TLS only) and the claims registry's."""

from __future__ import annotations

from paaskit._aws import (
    deny_insecure_transport,
    policy_document,
)

__all__ = [
    "log_bucket_policy",
    "registry_policy",
    "static_bucket_policy",
]


def static_bucket_policy(bucket_arn: str, distribution_arn: str) -> str:
    """Read by this distribution only (through its origin access control), and TLS only."""
    return policy_document(
        [
            {
                "Sid": "CloudFrontReadsThroughOriginAccessControl",
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "s3:GetObject",
                "Resource": f"{bucket_arn}/*",
                "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
            },
            deny_insecure_transport(bucket_arn),
        ]
    )


def log_bucket_policy(bucket_arn: str, account: str, partition: str = "aws") -> str:
    """What CloudWatch's log delivery needs to write CloudFront logs, for this account only, and TLS only."""
    conditions = {
        "StringEquals": {"aws:SourceAccount": account},
        "ArnLike": {"aws:SourceArn": f"arn:{partition}:logs:us-east-1:{account}:*"},
    }
    return policy_document(
        [
            {
                "Sid": "LogDeliveryWrite",
                "Effect": "Allow",
                "Principal": {"Service": "delivery.logs.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/AWSLogs/{account}/*",
                "Condition": {
                    **conditions,
                    "StringEquals": {
                        "aws:SourceAccount": account,
                        "s3:x-amz-acl": "bucket-owner-full-control",
                    },
                },
            },
            {
                "Sid": "LogDeliveryCheck",
                "Effect": "Allow",
                "Principal": {"Service": "delivery.logs.amazonaws.com"},
                "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
                "Resource": bucket_arn,
                "Condition": conditions,
            },
            deny_insecure_transport(bucket_arn),
        ]
    )


def registry_policy(
    partition: str, region: str, account: str, rack: str, log_group_arn: str
) -> str:
    """The claims registry's role: its own claims' parameters, and its log group; nothing else."""
    return policy_document(
        [
            {
                "Sid": "Claims",
                "Effect": "Allow",
                "Action": [
                    "ssm:DeleteParameter",
                    "ssm:GetParameter",
                    "ssm:GetParametersByPath",
                    "ssm:PutParameter",
                ],
                "Resource": [
                    f"arn:{partition}:ssm:{region}:{account}:parameter/paaskit/{rack}/claims/*",
                    f"arn:{partition}:ssm:{region}:{account}:parameter/paaskit/{rack}/claims",
                ],
            },
            {
                "Sid": "Logs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"{log_group_arn}:*",
            },
        ],
        sort_keys=True,
    )
