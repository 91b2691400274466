"""The access-log bucket's policy: what ELB log delivery needs, and TLS only."""

from __future__ import annotations

from typing import Any

from paaskit._aws import (
    deny_insecure_transport,
    policy_document,
)

__all__ = [
    "access_log_policy",
]


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
